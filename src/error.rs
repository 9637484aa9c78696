//! The one application error. Every error body has the CONTRACT §7 shape
//! `{ "error": { "code", "message", "field" } }`, with the message in the request's locale.
//! Client mistakes are 4xx; anything else is a 500 whose cause is logged, never shown.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::i18n::{self, Locale};

tokio::task_local! {
    /// The locale of the request being served, set by the locale middleware so that errors
    /// raised anywhere (extractors included) are rendered in the caller's language.
    pub static REQUEST_LOCALE: Locale;
}

pub fn request_locale() -> Locale {
    REQUEST_LOCALE.try_with(|l| *l).unwrap_or_default()
}

pub struct AppError {
    pub status: StatusCode,
    pub code: &'static str,
    pub msg_id: &'static str,
    pub field: Option<String>,
    pub args: Vec<(&'static str, String)>,
    pub locale: Option<Locale>,
    pub source: Option<anyhow::Error>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(status: StatusCode, code: &'static str, msg_id: &'static str) -> Self {
        Self {
            status,
            code,
            msg_id,
            field: None,
            args: vec![],
            locale: None,
            source: None,
        }
    }

    /// A 422 for a field that failed validation.
    pub fn invalid(field: impl Into<String>, msg_id: &'static str) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", msg_id).field(field)
    }

    /// A 400 for a body that is not what the endpoint reads.
    pub fn bad_request(code: &'static str, msg_id: &'static str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, msg_id)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "error-not-found")
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "error-internal",
        );
        e.source = Some(err.into());
        e
    }

    pub fn unavailable(err: impl Into<anyhow::Error>) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "error-unavailable",
        );
        e.source = Some(err.into());
        e
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = code;
        self
    }

    pub fn arg(mut self, name: &'static str, value: impl ToString) -> Self {
        self.args.push((name, value.to_string()));
        self
    }

    pub fn in_locale(mut self, locale: Locale) -> Self {
        self.locale = Some(locale);
        self
    }

    /// The message in `locale`, with the field's localized label as `$field`.
    pub fn message(&self, locale: Locale) -> String {
        let mut args = self.args.clone();
        if let Some(f) = &self.field {
            if !args.iter().any(|(k, _)| *k == "field") {
                args.push(("field", i18n::field_label(locale, f)));
            }
        }
        i18n::t(locale, self.msg_id, &args)
    }
}

impl fmt::Debug for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.status.as_u16(), self.code, self.msg_id)?;
        if let Some(field) = &self.field {
            write!(f, " field={field}")?;
        }
        if let Some(src) = &self.source {
            write!(f, ": {src:#}")?;
        }
        Ok(())
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl std::error::Error for AppError {}

#[derive(Serialize)]
pub struct ErrorBody<'a> {
    pub error: ErrorDetail<'a>,
}

#[derive(Serialize)]
pub struct ErrorDetail<'a> {
    pub code: &'a str,
    pub message: String,
    pub field: Option<&'a str>,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if self.status.is_server_error() {
            // The cause chain goes to the log; the client gets a generic message.
            tracing::error!(error = ?self, "request failed");
        }
        let locale = self.locale.unwrap_or_else(request_locale);
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message(locale),
                field: self.field.as_deref(),
            },
        };
        let mut res = HttpResponse::build(self.status);
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            if let Some((_, m)) = self.args.iter().find(|(k, _)| *k == "minutes") {
                let secs = m.parse::<u64>().unwrap_or(1) * 60;
                res.insert_header(("Retry-After", secs.to_string()));
            }
        }
        res.json(body)
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        match e.downcast::<AppError>() {
            Ok(app) => app,
            Err(e) => AppError::internal(e),
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => AppError::unavailable(e),
            e => AppError::internal(e),
        }
    }
}

/// Human-readable byte size for messages ("20 MB").
pub fn human_bytes(n: u64) -> String {
    if n >= 1024 * 1024 {
        format!("{} MB", n / (1024 * 1024))
    } else if n >= 1024 {
        format!("{} KB", n / 1024)
    } else {
        format!("{n} B")
    }
}
