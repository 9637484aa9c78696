//! Per-client limits on what a stranger can make the staff API do, in the shared database
//! counters (every instance sees the same counts; bucket names are keyed digests of the
//! client address, never the address):
//!
//! - failed sign-ins per client address per `[staff] login_window_minutes`, over every
//!   account, before that address is refused with 429 — besides the per-account lock-out,
//!   which a guesser spreading guesses over many names never reaches;
//! - refused bearer tokens: at most one `auth.token` denied audit row per client address
//!   per minute; the rest are counted and summarised in the log, so a flood of bogus tokens
//!   writes a bounded number of rows.

use crate::config::StaffConfig;
use crate::error::{AppError, AppResult};
use crate::store::{ratelimit, Db};
use crate::vault::Vault;

use super::StaffError;

/// The window of the refused-token audit bound, in seconds.
const TOKEN_AUDIT_WINDOW_SECS: i64 = 60;

fn bucket(vault: &Vault, prefix: &str, purpose: &[u8], client: &str) -> String {
    format!(
        "{prefix}:{}",
        hex::encode(vault.request_digest(&[purpose, client.as_bytes()]))
    )
}

/// The 429 for an address with too many failed sign-ins; the message names the minutes.
pub fn login_rate_limited(cfg: &StaffConfig) -> AppError {
    AppError::from(StaffError::RateLimited).arg("minutes", cfg.login_window_minutes.get().max(1))
}

/// Whether `client` already has `failed_logins_per_client` failed sign-ins this window.
pub async fn login_refused(
    db: &Db,
    vault: &Vault,
    cfg: &StaffConfig,
    client: &str,
) -> AppResult<bool> {
    let b = bucket(vault, "sl", b"staff-login-client", client);
    let n = ratelimit::current(db, &b, cfg.login_window_minutes.secs(), db.now()).await?;
    Ok(n >= i64::from(cfg.failed_logins_per_client))
}

/// Count one failed sign-in from `client`.
pub async fn count_failed_login(
    db: &Db,
    vault: &Vault,
    cfg: &StaffConfig,
    client: &str,
) -> AppResult<()> {
    let b = bucket(vault, "sl", b"staff-login-client", client);
    ratelimit::hit(db, &b, cfg.login_window_minutes.secs(), db.now()).await?;
    Ok(())
}

/// Count one refused bearer token from `client`; true when it is the first this minute
/// (the one to audit). When the counter cannot be read the refusal is audited anyway.
pub async fn token_refusal_to_audit(db: &Db, vault: &Vault, client: &str) -> bool {
    let b = bucket(vault, "tk", b"staff-token-client", client);
    match ratelimit::hit(db, &b, TOKEN_AUDIT_WINDOW_SECS, db.now()).await {
        Ok(1) => true,
        Ok(n) => {
            if n == 2 || n % 100 == 0 {
                tracing::warn!(
                    refused = n,
                    "refused bearer tokens from one client this minute; one is audited, the rest counted"
                );
            }
            false
        }
        Err(e) => {
            tracing::error!(error = %e, "could not count a refused bearer token");
            true
        }
    }
}
