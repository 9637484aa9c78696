//! The intake writer. Submissions go through the shared group commit
//! ([`crate::store::group`]): a batch of up to [`MAX_BATCH`] tips is written in one
//! transaction, in a few multi-row statements, or (when one tip fails, say a colliding
//! tracking code) tip by tip, each in its own savepoint; each submitter is answered only
//! after the commit, so an acknowledged tip is on disk.
//!
//! SQLite has one writer task (it has one writer anyway); PostgreSQL has several.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Acquire;

use super::NewTip;
use crate::domain::{Channel, Status};
use crate::error::{AppError, AppResult};
use crate::notify::robots::{self, AlertKind, StaffAlert};
use crate::store::group::{GroupCommit, WriteBatch};
use crate::store::{self, is_unique_violation, ratelimit, Db, Tx};
use crate::vault::SealedIdentity;

pub const MAX_BATCH: usize = 128;

pub struct EvidenceRow {
    pub id: String,
    pub report_id: String,
    pub message_id: Option<i64>,
    pub seq: i64,
    pub kind: String,
    pub media_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub working_media_type: Option<String>,
    pub working_sha256: Option<String>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub key_id: i64,
    /// The working copy's key id (0 under the case's sanitized key).
    pub working_key_id: i64,
    pub original: Vec<u8>,
    pub working: Option<Vec<u8>>,
}

/// Sealed evidence, shared (not copied) between retries of one submission.
pub type PreparedEvidence = Arc<EvidenceRow>;

pub struct SavedResponse {
    pub scope: String,
    pub key_digest: Vec<u8>,
    pub request_digest: Vec<u8>,
    pub key_id: i64,
    pub sealed: Vec<u8>,
}

pub struct PreparedTip {
    pub report_id: String,
    pub channel: Channel,
    pub tracking_code: String,
    pub passcode_hash: Vec<u8>,
    pub tip: NewTip,
    pub identity: SealedIdentity,
    /// The case's data keys, wrapped (none without a shred chain).
    pub case_keys: Vec<crate::vault::shred::CaseKeyRow>,
    /// The claim verifier's keyed digest (vault), if the reporter set one.
    pub claim_verifier: Option<Vec<u8>>,
    pub evidence: Vec<PreparedEvidence>,
    pub received_at: DateTime<Utc>,
    /// The acceptance clock (DOMAIN §4), from the day the tip arrived.
    pub accept: AcceptClock,
    /// Region the case belongs to (the target's, or the configured default).
    pub case_region: String,
    pub idempotency: Option<SavedResponse>,
    /// Channel rows written after the report (see [`super::TipExtra`]).
    pub extra: Option<Arc<dyn super::TipExtra>>,
    /// With `[[robots]]` configured: the outbox attempts of the new-tip alert.
    pub alert_attempts: Option<u32>,
}

/// The acceptance clock of a new tip, computed before the write.
#[derive(Debug, Clone)]
pub struct AcceptClock {
    /// When the tip arrived (the caller spoke to the agent, the letter was received).
    pub started_at: DateTime<Utc>,
    /// The Asia/Shanghai day the period counts from.
    pub start_on: NaiveDate,
    pub due: crate::deadlines::period::Due,
    pub remind_on: NaiveDate,
    pub working_days: u32,
    pub remind_before: u32,
    /// The deadline rule (`id@version`).
    pub rule: String,
    /// Set for a staff entry: the day the letter, visit or call reached the bureau.
    pub received_on: Option<NaiveDate>,
}

pub enum Outcome {
    Created,
    Replay {
        status: u16,
        sealed: Vec<u8>,
        scope: String,
        key_digest: Vec<u8>,
        request_digest: Vec<u8>,
    },
    CodeTaken,
    /// The client address is over its filing limit (`[intake] filings_per_client`).
    OverQuota {
        window_secs: i64,
    },
}

/// The intake writer: [`store::group::GroupCommit`] over [`write_batch`].
pub struct Committer {
    group: GroupCommit<PreparedTip, AppResult<Outcome>>,
}

impl Committer {
    pub fn start(db: Db, writers: usize) -> Self {
        let write: WriteBatch<PreparedTip, AppResult<Outcome>> =
            Arc::new(|db: Db, batch: Vec<PreparedTip>| {
                Box::pin(async move { write_batch(&db, &batch).await })
            });
        Self {
            group: GroupCommit::start(db, writers, MAX_BATCH, write),
        }
    }

    pub async fn submit(&self, tip: PreparedTip) -> AppResult<Outcome> {
        self.group
            .run(tip)
            .await
            .map_err(|e| AppError::unavailable(anyhow::anyhow!("intake: {e}")))?
    }
}

/// One result per tip, in order, once the batch is committed.
async fn write_batch(db: &Db, batch: &[PreparedTip]) -> Vec<AppResult<Outcome>> {
    // The common case (no tracking-code collision, no failing tip) goes in a few multi-row
    // statements; anything unusual redoes the whole batch tip by tip, each in a savepoint.
    if batch.len() > 1 {
        match write_bulk(db, batch).await {
            Ok(outcomes) => return outcomes.into_iter().map(Ok).collect(),
            Err(e) => {
                tracing::debug!(error = %e, tips = batch.len(), "bulk intake write redone tip by tip");
            }
        }
    }
    write_each(db, batch).await
}

/// A tip's `reports` row, with the values that are computed rather than borrowed.
struct ReportRow<'a> {
    p: &'a PreparedTip,
    at: String,
    categories: String,
    target_key: String,
    accept_by: String,
    remind_on: String,
    started_at: String,
    start_on: String,
    received_on: Option<String>,
    occurred_from: Option<String>,
    occurred_to: Option<String>,
}

/// Write the whole batch in one transaction with multi-row inserts, or nothing.
async fn write_bulk(db: &Db, batch: &[PreparedTip]) -> Result<Vec<Outcome>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(batch.len());
    for tip in batch {
        outcomes.push(match &tip.idempotency {
            Some(saved) => claim_idempotency(&mut tx, tip, saved).await?,
            None => None,
        });
    }
    count_filings(&mut tx, batch, &mut outcomes).await?;
    let new: Vec<&PreparedTip> = batch
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| o.is_none())
        .map(|(tip, _)| tip)
        .collect();
    insert_tips(&mut tx, &new).await?;
    tx.commit().await?;
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::Created))
        .collect())
}

/// Count the batch's tips against their clients' filing limits, one statement per client
/// address, in the batch's transaction. In each client's order, a tip whose count passes
/// the limit gets [`Outcome::OverQuota`] and is not written (it is counted, as a refused
/// request always was). Tips already answered (`Some`: a replayed receipt) are skipped.
async fn count_filings(
    tx: &mut Tx<'_>,
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
        let after = ratelimit::add(tx, bucket, limits.window_secs, first.received_at, n).await?;
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

/// Write new tips (report rows, clocks, categories, sealed identities, index rows,
/// timeline events, then each tip's evidence and channel rows) with multi-row inserts.
async fn insert_tips(tx: &mut Tx<'_>, new: &[&PreparedTip]) -> Result<(), sqlx::Error> {
    let rows: Vec<ReportRow> = new
        .iter()
        .map(|p| ReportRow {
            p,
            at: store::ts(p.received_at),
            categories: p
                .tip
                .categories
                .iter()
                .map(|c| c.code())
                .collect::<Vec<_>>()
                .join(" "),
            target_key: crate::domain::region::target_key(&p.tip.target.name),
            accept_by: p.accept.due.on.to_string(),
            remind_on: p.accept.remind_on.to_string(),
            started_at: store::ts(p.accept.started_at),
            start_on: p.accept.start_on.to_string(),
            received_on: p.accept.received_on.map(|d| d.to_string()),
            occurred_from: p.tip.occurred_from.map(|d| d.to_string()),
            occurred_to: p.tip.occurred_to.map(|d| d.to_string()),
        })
        .collect();
    store::insert_rows(
        tx,
        "INSERT INTO reports (id, tracking_code, passcode_hash, channel, status, target_name, \
         target_kind, target_region, target_address, categories, description, occurred_from, \
         occurred_to, amount_estimate_fen, anonymous, relation, locale, recorded_by, received_at, \
         accept_by, case_region, target_key, received_on, target_code, notify_by, \
         client_digest) VALUES",
        26,
        &rows,
        |q, r| {
            let (p, t) = (r.p, &r.p.tip);
            q.bind(p.report_id.as_str())
                .bind(p.tracking_code.as_str())
                .bind(p.passcode_hash.as_slice())
                .bind(p.channel.code())
                .bind(Status::Received.code())
                .bind(t.target.name.as_str())
                .bind(t.target.kind.code())
                .bind(t.target.region.as_ref().map(|r| r.as_str()))
                .bind(t.target.address.as_deref())
                .bind(r.categories.as_str())
                .bind(t.description.as_str())
                .bind(r.occurred_from.as_deref())
                .bind(r.occurred_to.as_deref())
                .bind(t.amount_estimate_fen)
                .bind(i64::from(t.anonymous))
                .bind(t.relation.map(|r| r.code()))
                .bind(t.locale.tag())
                .bind(t.recorded_by.as_deref())
                .bind(r.at.as_str())
                .bind(r.accept_by.as_str())
                .bind(p.case_region.as_str())
                .bind(r.target_key.as_str())
                .bind(r.received_on.as_deref())
                .bind(t.target.code.as_deref())
                .bind(t.notify_by.map(|n| n.code()))
                .bind(t.client_digest.as_deref())
        },
    )
    .await?;
    store::insert_rows(
        tx,
        crate::deadlines::clocks::INSERT_HEAD,
        13,
        &rows,
        |q, r| {
            let a = &r.p.accept;
            q.bind(r.p.report_id.as_str())
                .bind("accept")
                .bind(r.started_at.as_str())
                .bind(r.start_on.as_str())
                .bind(r.accept_by.as_str())
                .bind(r.remind_on.as_str())
                .bind("pending")
                .bind(r.remind_on.as_str())
                .bind("working_days")
                .bind(i64::from(a.working_days))
                .bind(i64::from(a.due.provisional))
                .bind(a.rule.as_str())
                .bind(i64::from(a.remind_before))
        },
    )
    .await?;
    let categories: Vec<(&str, &str)> = new
        .iter()
        .flat_map(|p| {
            p.tip
                .categories
                .iter()
                .map(move |c| (p.report_id.as_str(), c.code()))
        })
        .collect();
    store::insert_rows(
        tx,
        "INSERT INTO report_categories (report_id, category) VALUES",
        2,
        &categories,
        |q, (id, c)| q.bind(*id).bind(*c),
    )
    .await?;
    let identities: Vec<(&str, &SealedIdentity)> = new
        .iter()
        .map(|p| (p.report_id.as_str(), &p.identity))
        .collect();
    SealedIdentity::insert_many(tx, &identities).await?;
    let keys: Vec<crate::vault::shred::CaseKeyRow> = new
        .iter()
        .flat_map(|p| p.case_keys.iter().cloned())
        .collect();
    crate::vault::CaseKeys::insert(&keys, tx).await?;
    let verifiers: Vec<(&str, &[u8], &str)> = rows
        .iter()
        .filter_map(|r| {
            let d = r.p.claim_verifier.as_deref()?;
            Some((r.p.report_id.as_str(), d, r.at.as_str()))
        })
        .collect();
    store::insert_rows(
        tx,
        "INSERT INTO claim_verifiers (report_id, digest, set_at) VALUES",
        3,
        &verifiers,
        |q, (id, d, at)| q.bind(*id).bind(*d).bind(*at),
    )
    .await?;
    store::insert_rows(
        tx,
        "INSERT INTO report_events (report_id, at, kind, status) VALUES",
        4,
        &rows,
        |q, r| {
            q.bind(r.p.report_id.as_str())
                .bind(r.at.as_str())
                .bind("status")
                .bind(Status::Received.code())
        },
    )
    .await?;
    let ids: Vec<&str> = new.iter().map(|p| p.report_id.as_str()).collect();
    if let Some(first) = new.first() {
        super::links::enqueue(tx, &ids, first.received_at).await?;
    }
    for p in new {
        for e in &p.evidence {
            insert_evidence(tx, e).await?;
        }
        if let Some(extra) = &p.extra {
            extra.write(tx, &p.report_id).await?;
        }
        if let Some(attempts) = p.alert_attempts {
            let (today, waiting) = region_counts(tx, &p.case_region, p.received_at).await?;
            let alert = StaffAlert {
                event: format!("tip:{}", p.report_id),
                kind: AlertKind::NewTip,
                region: p.case_region.clone(),
                case_id: p.report_id.clone(),
                clock: None,
                due: None,
                count: today,
                of: waiting,
            };
            robots::alert(tx, &alert, attempts).await?;
        }
    }
    Ok(())
}

/// For the new-tip alert: the tips of `region` received on the Asia/Shanghai day of `at`
/// (this one included), and those of the region still waiting for acceptance. Counts only.
async fn region_counts(
    tx: &mut Tx<'_>,
    region: &str,
    at: DateTime<Utc>,
) -> Result<(i64, i64), sqlx::Error> {
    let day = crate::deadlines::calendar::shanghai_date(at);
    let start = day
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc() - chrono::Duration::hours(8))
        .unwrap_or(at);
    let today: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM reports WHERE case_region = $1 AND received_at >= $2",
    )
    .bind(region)
    .bind(store::ts(start))
    .fetch_one(&mut **tx)
    .await?;
    let waiting: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM reports WHERE case_region = $1 AND status = $2")
            .bind(region)
            .bind(Status::Received.code())
            .fetch_one(&mut **tx)
            .await?;
    Ok((today, waiting))
}

/// Record the tip's idempotency key; when the key was already used, the saved answer.
async fn claim_idempotency(
    tx: &mut Tx<'_>,
    p: &PreparedTip,
    saved: &SavedResponse,
) -> Result<Option<Outcome>, sqlx::Error> {
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO idempotency \
         (scope, key_digest, request_digest, report_id, status_code, response, key_id, created_at) \
         VALUES ($1, $2, $3, $4, 201, $5, $6, $7) \
         ON CONFLICT (scope, key_digest) DO NOTHING RETURNING status_code",
    )
    .bind(&saved.scope)
    .bind(&saved.key_digest)
    .bind(&saved.request_digest)
    .bind(&p.report_id)
    .bind(&saved.sealed)
    .bind(saved.key_id)
    .bind(store::ts(p.received_at))
    .fetch_optional(&mut **tx)
    .await?;
    if inserted.is_some() {
        return Ok(None);
    }
    let (status, sealed, request_digest): (i64, Vec<u8>, Vec<u8>) = sqlx::query_as(
        "SELECT status_code, response, request_digest FROM idempotency \
         WHERE scope = $1 AND key_digest = $2",
    )
    .bind(&saved.scope)
    .bind(&saved.key_digest)
    .fetch_one(&mut **tx)
    .await?;
    Ok(Some(Outcome::Replay {
        status: u16::try_from(status).unwrap_or(200),
        sealed,
        scope: saved.scope.clone(),
        key_digest: saved.key_digest.clone(),
        request_digest,
    }))
}

/// Write the batch tip by tip, each in its own savepoint, so one failing tip does not stop
/// the others.
async fn write_each(db: &Db, batch: &[PreparedTip]) -> Vec<AppResult<Outcome>> {
    let mut results: Vec<AppResult<Outcome>> = Vec::with_capacity(batch.len());
    let committed: Result<(), sqlx::Error> = async {
        let mut tx = db.begin().await?;
        for tip in batch {
            let mut sp = tx.begin().await?;
            match write_tip(&mut sp, tip).await {
                Ok(Outcome::Created) => {
                    sp.commit().await?;
                    results.push(Ok(Outcome::Created));
                }
                Ok(other) => {
                    sp.rollback().await?;
                    results.push(Ok(other));
                }
                Err(e) if is_unique_violation(&e) => {
                    sp.rollback().await?;
                    results.push(Ok(Outcome::CodeTaken));
                }
                Err(e) => {
                    sp.rollback().await?;
                    results.push(Err(AppError::from(e)));
                }
            }
        }
        tx.commit().await
    }
    .await;
    match committed {
        Ok(()) => results,
        Err(e) => {
            // Nothing of this batch is stored; every submitter is told so.
            let msg = format!("{e:#}");
            batch
                .iter()
                .map(|_| Err(AppError::unavailable(anyhow::anyhow!("{msg}"))))
                .collect()
        }
    }
}

async fn write_tip(tx: &mut Tx<'_>, p: &PreparedTip) -> Result<Outcome, sqlx::Error> {
    if let Some(saved) = &p.idempotency {
        if let Some(replay) = claim_idempotency(tx, p, saved).await? {
            return Ok(replay);
        }
    }
    let mut outcome = [None];
    count_filings(tx, std::slice::from_ref(p), &mut outcome).await?;
    if let [Some(refused)] = outcome {
        return Ok(refused);
    }
    insert_tips(tx, &[p]).await?;
    Ok(Outcome::Created)
}

/// Write one sealed evidence file (metadata row and blobs) in the caller's transaction.
pub async fn insert_evidence(tx: &mut Tx<'_>, e: &EvidenceRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO evidence (id, report_id, message_id, seq, kind, media_type, size_bytes, \
         sha256, working_media_type, working_sha256, width, height, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&e.id)
    .bind(&e.report_id)
    .bind(e.message_id)
    .bind(e.seq)
    .bind(&e.kind)
    .bind(&e.media_type)
    .bind(e.size_bytes)
    .bind(&e.sha256)
    .bind(e.working_media_type.clone())
    .bind(e.working_sha256.clone())
    .bind(e.width)
    .bind(e.height)
    .bind(store::ts(e.created_at))
    .execute(&mut **tx)
    .await?;
    crate::store::blobs::put(tx, &e.id, "original", e.key_id, &e.original).await?;
    if let Some(w) = &e.working {
        crate::store::blobs::put(tx, &e.id, "working", e.working_key_id, w).await?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "committer_tests.rs"]
mod tests;
