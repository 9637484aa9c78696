//! Signing and verifying work orders and callbacks (HMAC-SHA256 over `"{timestamp}.{raw body}"`).

#[allow(unused_imports)]
use super::*;

pub(super) fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> HmacSha256 {
    let mut m = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    m.update(timestamp.as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// Lower-case hex HMAC-SHA256(secret, "{timestamp}.{body}") — for our callbacks (and tests).
pub fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
}

/// The end of the previous secret's overlap, if one is configured.
/// Whether a work order's headers sign `body` for source `s` at `now`: the timestamp is
/// unix seconds within ±[`MAX_SKEW_SECS`], and the signature is the HMAC under the current
/// secret or, before `previous_secret_until`, the previous one. Compared in constant time;
/// both secrets are always tried, so timing does not tell which one matched.
pub fn verify(
    s: &HotlineSource,
    now: DateTime<Utc>,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
) -> bool {
    let (Some(ts), Some(sig)) = (timestamp, signature) else {
        return false;
    };
    if ts.is_empty() || ts.len() > 12 || !ts.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let Ok(t) = ts.parse::<i64>() else {
        return false;
    };
    if (now.timestamp() - t).abs() > MAX_SKEW_SECS {
        return false;
    }
    let Ok(given) = hex::decode(sig.trim()) else {
        return false;
    };
    if given.len() != 32 {
        return false;
    }
    let mut ok = mac(s.secret.as_bytes(), ts, body)
        .verify_slice(&given)
        .is_ok();
    if let (Some(prev), Some(until)) = (s.previous_secret.as_deref(), s.previous_until()) {
        let prev_ok = mac(prev.as_bytes(), ts, body).verify_slice(&given).is_ok();
        ok |= prev_ok && now < until;
    }
    ok
}
