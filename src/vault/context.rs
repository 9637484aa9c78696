//! Sealing contexts: what each sealed blob is bound to. The context is part of the
//! associated data, and names the row the value belongs to, so a value copied into another
//! row (another report, another user) does not open. One place for all of them, shared by
//! the stores that seal and by rotation ([`super::rotate`]), which re-seals every one.

/// An evidence file's bytes: bound to its report, its id and its variant (`original` or
/// `working`).
pub fn evidence_context(report_id: &str, evidence_id: &str, variant: &str) -> String {
    format!("evidence|{report_id}|{evidence_id}|{variant}")
}

/// The context evidence was sealed under before it named its report. Still opened (by
/// [`super::Vault::open_evidence`]) so old files keep working; rotation re-seals them under
/// [`evidence_context`], and once the keys they were sealed with are destroyed
/// (`jubao keys rotate --retire`) nothing under this context opens any more.
pub(super) fn legacy_evidence_context(evidence_id: &str, variant: &str) -> String {
    format!("evidence|{evidence_id}|{variant}")
}

/// A saved idempotent response.
pub fn idempotency_context(scope: &str, key_digest: &[u8]) -> String {
    format!("idempotency|{scope}|{}", hex::encode(key_digest))
}

/// A staff member's TOTP secret.
pub fn totp_context(user_id: &str) -> String {
    format!("staff-totp|{user_id}")
}

/// The saved reply of a bot push.
pub fn push_context(push_digest: &[u8]) -> String {
    format!("bot-push|{}", hex::encode(push_digest))
}

/// A bot conversation's state.
pub fn conversation_context(user_digest: &[u8]) -> String {
    format!("bot-conversation|{}", hex::encode(user_digest))
}

/// A cached platform access token.
pub fn token_context(platform: &str, account: &str) -> String {
    format!("bot-token|{platform}|{account}")
}
