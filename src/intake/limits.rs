//! The per-client limit on filing through the H5 page (`[intake] filings_per_client` per
//! `filing_window_minutes`), kept in the shared database counters so every instance sees
//! the same count. Only requests that would file are counted: the count is taken after the
//! tip and its evidence passed every check, and a retry that replays a stored receipt (same
//! `Idempotency-Key`) is neither counted nor refused, so an acknowledged tip is never lost
//! to the limit. A client already over the limit is refused before its body is read.

use super::{Intake, IntakeError};
use crate::error::{AppError, AppResult};
use crate::store::ratelimit;

/// The configured filing limit.
#[derive(Debug, Clone, Copy)]
pub struct FilingLimits {
    pub per_client: i64,
    pub window_secs: i64,
}

impl FilingLimits {
    /// The configured limits (`[intake] filings_per_client`, `filing_window_minutes`).
    pub fn of(c: &crate::config::IntakeConfig) -> Self {
        Self {
            per_client: i64::from(c.filings_per_client),
            window_secs: c.filing_window_minutes.secs(),
        }
    }
}

/// Whether the check only looks at the count or also counts this tip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilingCheck {
    /// Before the body is read: refuse a client already over the limit, count nothing.
    Peek,
    /// The tip is valid and about to be stored: count it, refuse it when over the limit.
    Count,
}

/// The 429 for a client that filed too many tips; the message names the minutes.
pub fn filing_rate_limited(window_secs: i64) -> AppError {
    AppError::from(IntakeError::FilingRateLimited).arg("minutes", (window_secs + 59) / 60)
}

impl Intake {
    /// Apply the filing limit to `client` (the caller's address). `retry_key` is the
    /// request's `Idempotency-Key` in `scope`, if any: a key that already has a stored
    /// receipt is a retry, which passes untouched (the submission replays the receipt).
    /// The keyed digest a tip keeps of the client address it came from (not the filing
    /// bucket's: another domain of the same key).
    pub fn client_digest(&self, client: &str) -> Vec<u8> {
        self.vault()
            .request_digest(&[b"tip-client", client.as_bytes()])
            .to_vec()
    }

    pub async fn admit_filing(
        &self,
        client: &str,
        scope: &str,
        retry_key: Option<&str>,
        limits: FilingLimits,
        check: FilingCheck,
    ) -> AppResult<()> {
        if let Some(key) = retry_key {
            if self.has_receipt(scope, key).await? {
                return Ok(());
            }
        }
        let bucket = format!(
            "fc:{}",
            hex::encode(
                self.vault()
                    .request_digest(&[b"filing-client", client.as_bytes()])
            )
        );
        let db = self.db();
        let now = db.now();
        let over = match check {
            FilingCheck::Peek => {
                ratelimit::current(db, &bucket, limits.window_secs, now).await? >= limits.per_client
            }
            FilingCheck::Count => {
                ratelimit::hit(db, &bucket, limits.window_secs, now).await? > limits.per_client
            }
        };
        if over {
            tracing::warn!(check = ?check, "tip refused: client over the filing limit");
            return Err(filing_rate_limited(limits.window_secs));
        }
        Ok(())
    }

    /// Whether an idempotency key already has a stored answer.
    async fn has_receipt(&self, scope: &str, key: &str) -> AppResult<bool> {
        let digest = self
            .vault()
            .request_digest(&[scope.as_bytes(), key.as_bytes()]);
        let found: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM idempotency WHERE scope = $1 AND key_digest = $2",
        )
        .bind(scope)
        .bind(digest.to_vec())
        .fetch_one(&self.db().pool)
        .await?;
        Ok(found > 0)
    }
}
