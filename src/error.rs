//! The one application error: a [`Kind`] (what went wrong, in domain terms), a stable
//! `code`, a Fluent message id with its arguments, and the field it is about. Nothing here
//! knows HTTP: the web layer maps each kind to a status and renders the CONTRACT §7 body
//! `{ "error": { "code", "message", "field" } }` in the request's locale. Client mistakes
//! are 4xx kinds; anything else is internal, its cause logged, never shown.

use std::fmt;

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

/// What went wrong, as the domain sees it; `web` turns it into an HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The request is not what the operation reads (not JSON, a broken form).
    BadRequest,
    /// No valid credentials, or a bad signature.
    Unauthorized,
    /// The caller may not do this.
    Forbidden,
    NotFound,
    /// The record is not in a state that allows this.
    Conflict,
    /// Existed, but no longer usable (an expired approval).
    Gone,
    TooLarge,
    UnsupportedMedia,
    /// A field failed validation.
    Invalid,
    /// Too many attempts, or too much in flight; try again later.
    RateLimited,
    /// The client took too long to send its request (a body that trickles).
    Timeout,
    Internal,
    /// A dependency (the database pool) is not available right now.
    Unavailable,
}

impl Kind {
    /// Not the caller's fault.
    pub fn is_server(self) -> bool {
        matches!(self, Kind::Internal | Kind::Unavailable)
    }
}

pub struct AppError {
    pub kind: Kind,
    pub code: &'static str,
    pub msg_id: &'static str,
    pub field: Option<String>,
    pub args: Vec<(&'static str, String)>,
    pub locale: Option<Locale>,
    pub source: Option<anyhow::Error>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(kind: Kind, code: &'static str, msg_id: &'static str) -> Self {
        Self {
            kind,
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
        Self::new(Kind::Invalid, "invalid_field", msg_id).field(field)
    }

    /// A 400 for a body that is not what the endpoint reads.
    pub fn bad_request(code: &'static str, msg_id: &'static str) -> Self {
        Self::new(Kind::BadRequest, code, msg_id)
    }

    pub fn not_found() -> Self {
        Self::new(Kind::NotFound, "not_found", "error-not-found")
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        let mut e = Self::new(Kind::Internal, "internal", "error-internal");
        e.source = Some(err.into());
        e
    }

    pub fn unavailable(err: impl Into<anyhow::Error>) -> Self {
        let mut e = Self::new(Kind::Unavailable, "unavailable", "error-unavailable");
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
        write!(f, "{:?} {} {}", self.kind, self.code, self.msg_id)?;
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

/// A module's own refusals as an enum, each with its kind, stable code and message id, and
/// the conversion into [`AppError`] at the module's edge:
///
/// ```ignore
/// refusals! {
///     /// What a case operation can refuse.
///     pub enum WorkflowError {
///         /// The case is not in a state that allows this.
///         WrongStatus => (Conflict, "wrong_status", "error-wrong-status"),
///     }
/// }
/// ```
macro_rules! refusals {
    ($(#[$doc:meta])* pub enum $name:ident {
        $($(#[$vdoc:meta])* $variant:ident => ($kind:ident, $code:literal, $msg:literal),)+
    }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// The stable code clients see (CONTRACT §7).
            pub fn code(self) -> &'static str {
                match self {
                    $(Self::$variant => $code,)+
                }
            }
        }

        impl From<$name> for crate::error::AppError {
            fn from(e: $name) -> Self {
                let (kind, code, msg) = match e {
                    $($name::$variant => (crate::error::Kind::$kind, $code, $msg),)+
                };
                crate::error::AppError::new(kind, code, msg)
            }
        }
    };
}
pub(crate) use refusals;
