//! Domain errors as HTTP: each [`Kind`] has its status, and every error answers with the
//! CONTRACT §7 body in the request's locale (a 429 also with `Retry-After`). Only this
//! module maps errors to status codes.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::error::{request_locale, AppError, ErrorBody, ErrorDetail, Kind};

/// The HTTP status of each kind of error.
pub fn status_of(kind: Kind) -> StatusCode {
    match kind {
        Kind::BadRequest => StatusCode::BAD_REQUEST,
        Kind::Unauthorized => StatusCode::UNAUTHORIZED,
        Kind::Forbidden => StatusCode::FORBIDDEN,
        Kind::NotFound => StatusCode::NOT_FOUND,
        Kind::Conflict => StatusCode::CONFLICT,
        Kind::Gone => StatusCode::GONE,
        Kind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Kind::UnsupportedMedia => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Kind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        Kind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        Kind::Timeout => StatusCode::REQUEST_TIMEOUT,
        Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        status_of(self.kind)
    }

    fn error_response(&self) -> HttpResponse {
        if self.kind.is_server() {
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
        let mut res = HttpResponse::build(status_of(self.kind));
        if self.kind == Kind::RateLimited {
            let arg = |name: &str| {
                self.args
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.parse::<u64>().unwrap_or(1))
            };
            if let Some(secs) = arg("seconds").or_else(|| arg("minutes").map(|m| m * 60)) {
                res.insert_header(("Retry-After", secs.to_string()));
            }
        }
        if self.kind == Kind::Timeout {
            // The rest of the body is not read: the connection cannot carry another request.
            res.force_close();
        }
        res.json(body)
    }
}

/// The framework's own extractor errors in the CONTRACT §7 shape: a query string, a path
/// segment or a JSON body that does not decode is a localized 400 (or 413 / 415), never
/// actix's plain-text answer.
pub fn extractor_errors(cfg: &mut actix_web::web::ServiceConfig) {
    use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
    use actix_web::web::{JsonConfig, PathConfig, QueryConfig};
    cfg.app_data(
        QueryConfig::default().error_handler(|_: QueryPayloadError, _| {
            AppError::bad_request("invalid_query", "error-invalid-query").into()
        }),
    )
    .app_data(PathConfig::default().error_handler(|_: PathError, _| {
        AppError::bad_request("invalid_path", "error-invalid-path").into()
    }))
    .app_data(
        JsonConfig::default().error_handler(|e: JsonPayloadError, _| {
            match e {
                JsonPayloadError::OverflowKnownLength { limit, .. }
                | JsonPayloadError::Overflow { limit } => AppError::new(
                    Kind::TooLarge,
                    "payload_too_large",
                    "error-payload-too-large",
                )
                .arg("max", crate::error::human_bytes(limit as u64)),
                JsonPayloadError::ContentType => AppError::new(
                    Kind::UnsupportedMedia,
                    "unsupported_media_type",
                    "error-unsupported-media-type",
                ),
                _ => AppError::bad_request("invalid_json", "error-invalid-json"),
            }
            .into()
        }),
    );
}
