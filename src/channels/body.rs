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

/// The caller's address for rate limiting: the socket peer; or, when
/// `[server] trust_forwarded_for` says a proxy of ours sets `X-Forwarded-For`, the right-most
/// hop that is not one of `[server] trusted_proxies` (the hops to its left are whatever the
/// client wrote, so the first hop is never believed).
pub fn client_address(req: &HttpRequest, server: &crate::config::ServerConfig) -> String {
    let peer = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    if !server.trust_forwarded_for {
        return peer;
    }
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    client_from_hops(&peer, &forwarded, &server.trusted_proxies)
}

/// The rule of [`client_address`] over the peer and the forwarded hops, left to right.
pub fn client_from_hops(peer: &str, hops: &[&str], trusted: &[String]) -> String {
    let is_trusted = |ip: &str| trusted.iter().any(|t| t == ip);
    // Our own proxy must be the peer for its header to mean anything.
    if !trusted.is_empty() && !is_trusted(peer) {
        return peer.to_string();
    }
    let mut client = peer;
    for hop in hops.iter().rev() {
        client = hop;
        if !is_trusted(hop) {
            break;
        }
    }
    client.to_string()
}

#[cfg(test)]
mod tests {
    use super::client_from_hops;

    #[test]
    fn the_client_is_the_right_most_untrusted_hop() {
        let none: Vec<String> = vec![];
        // One proxy (the peer), a client that forged a first hop.
        assert_eq!(
            client_from_hops("10.0.0.1", &["6.6.6.6", "203.0.113.7"], &none),
            "203.0.113.7"
        );
        let ours = vec!["10.0.0.1".to_string(), "10.0.0.2".to_string()];
        assert_eq!(
            client_from_hops("10.0.0.1", &["6.6.6.6", "203.0.113.7", "10.0.0.2"], &ours),
            "203.0.113.7"
        );
        // A peer that is not our proxy: its header is not believed.
        assert_eq!(
            client_from_hops("198.51.100.9", &["203.0.113.7"], &ours),
            "198.51.100.9"
        );
        // No header: the peer.
        assert_eq!(client_from_hops("10.0.0.1", &[], &none), "10.0.0.1");
    }
}
