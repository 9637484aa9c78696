//! Reading a request body under a byte limit, and the caller's address for rate limits:
//! the one copy every channel (and the staff API) uses.

use actix_web::http::header;
use actix_web::HttpRequest;
use futures_util::StreamExt;

use crate::error::{human_bytes, AppError, Kind};

/// Why a body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadError {
    /// More than the limit arrived (or was declared in `Content-Length`).
    TooLarge,
    /// The stream broke off or was malformed.
    Broken,
}

/// The standard 413 for a body over `max` bytes.
pub fn too_large(max: u64) -> AppError {
    AppError::new(
        Kind::TooLarge,
        "payload_too_large",
        "error-payload-too-large",
    )
    .arg("max", human_bytes(max))
}

/// The declared `Content-Length`, when there is a readable one.
pub fn declared_length(req: &HttpRequest) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// Read a stream of chunks (a payload or one multipart field) into memory, refusing as soon
/// as more than `max` bytes have arrived.
pub async fn read_limited<S, E>(mut stream: S, max: u64) -> Result<Vec<u8>, ReadError>
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
{
    let mut buf = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| ReadError::Broken)?;
        if (buf.len() + chunk.len()) as u64 > max {
            return Err(ReadError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

/// A whole request body of at most `max` bytes: a declared length over the limit is refused
/// before anything is read; `broken` is the error for a stream that breaks off.
pub async fn read_request(
    req: &HttpRequest,
    payload: actix_web::web::Payload,
    max: u64,
    broken: impl FnOnce() -> AppError,
) -> Result<Vec<u8>, AppError> {
    if declared_length(req).is_some_and(|n| n > max) {
        return Err(too_large(max));
    }
    read_limited(payload, max).await.map_err(|e| match e {
        ReadError::TooLarge => too_large(max),
        ReadError::Broken => broken(),
    })
}

/// The caller's address for rate limiting: the socket peer, or the first
/// `X-Forwarded-For` hop when `[server] trust_forwarded_for` says a proxy sets it.
pub fn client_address(req: &HttpRequest, trust_forwarded: bool) -> String {
    if trust_forwarded {
        if let Some(ip) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
        {
            return ip.trim().to_string();
        }
    }
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default()
}
