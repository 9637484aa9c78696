//! What the intake writer reads and counts inside a batch's transaction, beside its
//! inserts ([`super`]): the clients' filing counts, the idempotency claims (and the saved
//! receipts of replays), and the counts a new-tip alert names.

use chrono::{DateTime, Utc};

use super::{Outcome, PreparedTip, SavedResponse};
use crate::domain::Status;
use crate::store::{self, ratelimit, Arg, Exec};

/// Count the batch's tips against their clients' filing limits, one statement per client
/// address, in the batch's transaction. In each client's order, a tip whose count passes
/// the limit gets [`Outcome::OverQuota`] and is not written (it is counted, as a refused
/// request always was). Tips already answered (`Some`: a replayed receipt) are skipped.
pub(super) async fn count_filings(
    ex: &mut dyn Exec,
    batch: &[PreparedTip],
    outcomes: &mut [Option<Outcome>],
) -> Result<(), sqlx::Error> {
    let mut by_bucket: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for (i, tip) in batch.iter().enumerate() {
        if let (Some(q), None) = (&tip.tip.quota, &outcomes[i]) {
            by_bucket.entry(q.bucket.as_str()).or_default().push(i);
        }
    }
    for (bucket, tips) in by_bucket {
        let first = &batch[tips[0]];
        let limits = first
            .tip
            .quota
            .as_ref()
            .map(|q| q.limits)
            .expect("grouped by quota");
        let n = tips.len() as i64;
        let after = ratelimit::add(ex, bucket, limits.window_secs, first.received_at, n).await?;
        // The k-th of these tips (from 1) made the count `after - n + k`.
        for (k, &i) in tips.iter().enumerate() {
            if after - n + k as i64 + 1 > limits.per_client {
                tracing::warn!("tip refused: client over the filing limit");
                outcomes[i] = Some(Outcome::OverQuota {
                    window_secs: limits.window_secs,
                });
            }
        }
    }
    Ok(())
}

/// For the new-tip alert: the tips of `region` received on the Asia/Shanghai day of `at`
/// (this one included), and those of the region still waiting for acceptance. Counts only.
pub(super) async fn region_counts(
    ex: &mut dyn Exec,
    region: &str,
    at: DateTime<Utc>,
) -> Result<(i64, i64), sqlx::Error> {
    let day = crate::deadlines::calendar::shanghai_date(at);
    let start = day
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc() - chrono::Duration::hours(8))
        .unwrap_or(at);
    let today = ex
        .fetch_i64(
            "SELECT COUNT(*) FROM reports WHERE case_region = $1 AND received_at >= $2",
            vec![region.into(), store::ts(start).into()],
        )
        .await?;
    let waiting = ex
        .fetch_i64(
            "SELECT COUNT(*) FROM reports WHERE case_region = $1 AND status = $2",
            vec![region.into(), Status::Received.code().into()],
        )
        .await?;
    Ok((today.unwrap_or(0), waiting.unwrap_or(0)))
}

/// Record the tip's idempotency key; when the key was already used, the saved answer.
pub(super) async fn claim_idempotency(
    ex: &mut dyn Exec,
    p: &PreparedTip,
    saved: &SavedResponse,
) -> Result<Option<Outcome>, sqlx::Error> {
    let inserted = ex
        .fetch_i64(
            "INSERT INTO idempotency \
             (scope, key_digest, request_digest, report_id, status_code, response, key_id, \
             created_at) VALUES ($1, $2, $3, $4, 201, $5, $6, $7) \
             ON CONFLICT (scope, key_digest) DO NOTHING RETURNING status_code",
            vec![
                saved.scope.as_str().into(),
                saved.key_digest.as_slice().into(),
                saved.request_digest.as_slice().into(),
                p.report_id.as_str().into(),
                saved.sealed.as_slice().into(),
                saved.key_id.into(),
                store::ts(p.received_at).into(),
            ],
        )
        .await?;
    if inserted.is_some() {
        return Ok(None);
    }
    // The saved answer, a column at a time (a replay is rare).
    let key = || -> Vec<Arg> {
        vec![
            saved.scope.as_str().into(),
            saved.key_digest.as_slice().into(),
        ]
    };
    let missing = || sqlx::Error::RowNotFound;
    let status = ex
        .fetch_i64(
            "SELECT status_code FROM idempotency WHERE scope = $1 AND key_digest = $2",
            key(),
        )
        .await?
        .ok_or_else(missing)?;
    let sealed = ex
        .fetch_blob(
            "SELECT response FROM idempotency WHERE scope = $1 AND key_digest = $2",
            key(),
        )
        .await?
        .ok_or_else(missing)?;
    let request_digest = ex
        .fetch_blob(
            "SELECT request_digest FROM idempotency WHERE scope = $1 AND key_digest = $2",
            key(),
        )
        .await?
        .ok_or_else(missing)?;
    Ok(Some(Outcome::Replay {
        status: u16::try_from(status).unwrap_or(200),
        sealed,
        scope: saved.scope.clone(),
        key_digest: saved.key_digest.clone(),
        request_digest,
    }))
}
