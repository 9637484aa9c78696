//! The per-client limit on filing through the H5 page (`[intake] filings_per_client` per
//! `filing_window_minutes`), kept in the shared database counters so every instance sees
//! the same count. Only tips that are filed are counted: the intake writer counts each tip in
//! the transaction that stores it ([`FilingQuota`]; no write of its own, so the limit costs
//! intake no fsync), and a retry that replays a stored receipt (same `Idempotency-Key`) is
//! neither counted nor refused, so an acknowledged tip is never lost to the limit. Once an
//! instance has refused a client, it refuses that client's next tips before their bodies
//! are read, until the window ends ([`Refused`]); that costs the request no database read.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

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

/// The filing buckets this instance has refused, each until its window ends. Only a hint
/// that saves reading a refused client's bodies: the count itself is the database's, and a
/// tip this instance has not refused is counted (and, over the limit, refused) by the writer
/// whatever this holds, so another instance needs none of it.
#[derive(Default)]
pub struct Refused(Mutex<HashMap<String, i64>>);

/// At most this many refused buckets are held; past it, the expired ones are dropped, and if
/// that is not enough, all of them (the writer still refuses).
const REFUSED_HELD: usize = 10_000;

impl Refused {
    /// Whether `bucket` was refused in the window that holds `now`.
    fn holds(&self, bucket: &str, now: DateTime<Utc>) -> bool {
        let held = self.0.lock().unwrap_or_else(|e| e.into_inner());
        held.get(bucket).is_some_and(|&end| now.timestamp() < end)
    }

    /// Note that `bucket` was refused at `now`, in a window of `window_secs`.
    fn note(&self, bucket: &str, now: DateTime<Utc>, window_secs: i64) {
        let end = ratelimit::window_start(now, window_secs) + window_secs.max(1);
        let mut held = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if held.len() >= REFUSED_HELD {
            let now_s = now.timestamp();
            held.retain(|_, end| now_s < *end);
            if held.len() >= REFUSED_HELD {
                held.clear();
            }
        }
        held.insert(bucket.to_string(), end);
    }
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

    /// Refuse a client this instance has refused in the current window, before its body is
    /// read ([`Refused`]); count nothing (the writer counts the tip: [`Intake::filing_quota`]).
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
        if self
            .refused
            .holds(&self.filing_bucket(client), self.db().now())
        {
            tracing::warn!("tip refused: client over the filing limit");
            return Err(filing_rate_limited(limits.window_secs));
        }
        Ok(())
    }

    /// The writer refused `quota`'s tip at `at` (a window of `window_secs`): refuse its
    /// client early until the window ends, and answer 429.
    pub(super) fn refused_filing(
        &self,
        quota: Option<&FilingQuota>,
        at: DateTime<Utc>,
        window_secs: i64,
    ) -> AppError {
        if let Some(q) = quota {
            self.refused.note(&q.bucket, at, window_secs);
        }
        filing_rate_limited(window_secs)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// A refused bucket is held until its fixed window ends, not a full window from the
    /// refusal, and only that bucket.
    #[test]
    fn a_refusal_holds_until_the_window_ends() {
        let r = Refused::default();
        r.note("fc:a", at("2026-09-10T02:07:30Z"), 600);
        assert!(r.holds("fc:a", at("2026-09-10T02:07:31Z")));
        assert!(r.holds("fc:a", at("2026-09-10T02:09:59Z")));
        assert!(!r.holds("fc:a", at("2026-09-10T02:10:00Z")));
        assert!(!r.holds("fc:b", at("2026-09-10T02:08:00Z")));
    }

    /// The memory is bounded: past the cap the expired entries go, then all of them.
    #[test]
    fn the_memory_is_bounded() {
        let r = Refused::default();
        let early = at("2026-09-10T02:00:00Z");
        for i in 0..REFUSED_HELD {
            r.note(&format!("fc:{i}"), early, 60);
        }
        let later = at("2026-09-10T03:00:00Z");
        r.note("fc:new", later, 60);
        assert_eq!(r.0.lock().unwrap().len(), 1);
        for i in 0..REFUSED_HELD {
            r.note(&format!("fc:{i}"), later, 60);
        }
        assert!(r.0.lock().unwrap().len() <= REFUSED_HELD);
        assert!(r.holds(&format!("fc:{}", REFUSED_HELD - 1), later));
    }
}
