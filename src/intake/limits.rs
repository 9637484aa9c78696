//! The per-client limit on filing through the H5 page (`[intake] filings_per_client` per
//! `filing_window_minutes`), kept in the shared database counters so every instance sees
//! the same count. Only tips that are filed are counted: the intake writer counts each tip in
//! the transaction that stores it ([`FilingQuota`]; no write of its own, so the limit costs
//! intake no fsync), and a retry that replays a stored receipt (same `Idempotency-Key`) is
//! neither counted nor refused, so an acknowledged tip is never lost to the limit. A client
//! already over the limit is refused before its body is read.

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

/// The filing limit of one client address, counted by the intake writer in the
/// transaction that stores the tip ([`super::committer`]): a tip over the limit is refused
/// there and nothing of it is stored, and counting costs no write of its own.
#[derive(Debug, Clone)]
pub struct FilingQuota {
    /// The counter (`rate_limits.bucket`): a keyed digest of the address, never the address.
    pub bucket: String,
    pub limits: FilingLimits,
}

/// The 429 for a client that filed too many tips; the message names the minutes.
pub fn filing_rate_limited(window_secs: i64) -> AppError {
    AppError::from(IntakeError::FilingRateLimited).arg("minutes", (window_secs + 59) / 60)
}

impl Intake {
    /// The keyed digest a tip keeps of the client address it came from (not the filing
    /// bucket's: another domain of the same key).
    pub fn client_digest(&self, client: &str) -> Vec<u8> {
        self.vault()
            .request_digest(&[b"tip-client", client.as_bytes()])
            .to_vec()
    }

    /// Refuse a client already over the filing limit, before its body is read; count
    /// nothing (the writer counts the tip: [`Intake::filing_quota`]).
    pub async fn admit_filing(
        &self,
        client: &str,
        scope: &str,
        retry_key: Option<&str>,
        limits: FilingLimits,
    ) -> AppResult<()> {
        if let Some(key) = retry_key {
            if self.has_receipt(scope, key).await? {
                return Ok(());
            }
        }
        let bucket = self.filing_bucket(client);
        let db = self.db();
        if ratelimit::current(db, &bucket, limits.window_secs, db.now()).await? >= limits.per_client
        {
            tracing::warn!("tip refused: client over the filing limit");
            return Err(filing_rate_limited(limits.window_secs));
        }
        Ok(())
    }

    /// The filing limit the intake writer applies to a tip from `client`.
    pub fn filing_quota(&self, client: &str, limits: FilingLimits) -> FilingQuota {
        FilingQuota {
            bucket: self.filing_bucket(client),
            limits,
        }
    }

    fn filing_bucket(&self, client: &str) -> String {
        format!(
            "fc:{}",
            hex::encode(
                self.vault()
                    .request_digest(&[b"filing-client", client.as_bytes()])
            )
        )
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
