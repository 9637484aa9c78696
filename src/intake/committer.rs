//! The intake writer. Submissions go through the shared group commit
//! ([`crate::store::group`]): a batch of up to [`MAX_BATCH`] tips is written in one
//! transaction, in a few multi-row statements, or (when one tip fails, say a colliding
//! tracking code) tip by tip, each in its own savepoint; each submitter is answered only
//! after the commit, so an acknowledged tip is on disk.
//!
//! SQLite has one writer task (it has one writer anyway); PostgreSQL has several.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use super::NewTip;
use crate::domain::{Channel, Status};
use crate::error::{AppError, AppResult};
use crate::notify::robots::{self, AlertKind, StaffAlert};
use crate::store::group::{GroupCommit, WriteBatch};
use crate::store::{self, is_unique_violation, ratelimit, Arg, Db, Exec};
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
                Box::pin(async move { write_batch(&db, batch).await })
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

/// One result per tip, in order, once the batch is committed. Each attempt is one write
/// transaction ([`Db::write_tx`]: on SQLite the native writer).
async fn write_batch(db: &Db, batch: Vec<PreparedTip>) -> Vec<AppResult<Outcome>> {
    let batch = Arc::new(batch);
    // The common case (no tracking-code collision, no failing tip) goes in a few multi-row
    // statements; anything unusual redoes the whole batch tip by tip, each in a savepoint.
    // A batch of one tip on SQLite goes tip by tip at once (its savepoint costs no round
    // trip there); on PostgreSQL the bulk write's one statement saves several.
    if batch.len() > 1 || db.backend == store::Backend::Postgres {
        let tips = batch.clone();
        let bulk = db
            .write_tx(Box::new(move |ex: &mut dyn Exec| {
                Box::pin(async move { write_bulk(ex, &tips).await })
            }))
            .await;
        match bulk {
            Ok(outcomes) => return outcomes.into_iter().map(Ok).collect(),
            Err(e) => {
                tracing::debug!(error = %e, tips = batch.len(), "bulk intake write redone tip by tip");
            }
        }
    }
    let tips = batch.clone();
    let each = db
        .write_tx(Box::new(move |ex: &mut dyn Exec| {
            Box::pin(async move { write_each(ex, &tips).await })
        }))
        .await;
    match each {
        Ok(results) => results,
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

/// Write the whole batch with multi-row inserts, or fail (the caller's transaction is then
/// rolled back). On PostgreSQL the inserts go in one statement ([`store::combined`]).
async fn write_bulk(ex: &mut dyn Exec, batch: &[PreparedTip]) -> Result<Vec<Outcome>, sqlx::Error> {
    if ex.is_sqlite() {
        return write_bulk_on(ex, batch).await;
    }
    let mut combined = store::combined::Combined::new(ex);
    let outcomes = write_bulk_on(&mut combined, batch).await?;
    combined.flush().await?;
    Ok(outcomes)
}

async fn write_bulk_on(
    ex: &mut dyn Exec,
    batch: &[PreparedTip],
) -> Result<Vec<Outcome>, sqlx::Error> {
    let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(batch.len());
    for tip in batch {
        outcomes.push(match &tip.idempotency {
            Some(saved) => claim_idempotency(ex, tip, saved).await?,
            None => None,
        });
    }
    let new: Vec<&PreparedTip> = batch
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| o.is_none())
        .map(|(tip, _)| tip)
        .collect();
    insert_tips(ex, &new).await?;
    // Counted last: on PostgreSQL the counter's row stays locked from here to the commit,
    // and concurrent writers' batches from one address (a bureau's gateway, say) wait on it
    // only for that long. A tip over the limit is not written: the batch is then redone tip
    // by tip, where each tip is counted before it is written.
    count_filings(ex, batch, &mut outcomes).await?;
    if outcomes
        .iter()
        .any(|o| matches!(o, Some(Outcome::OverQuota { .. })))
    {
        return Err(sqlx::Error::Protocol(
            "a tip of the batch is over its client's filing limit".into(),
        ));
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::Created))
        .collect())
}

/// Write new tips (report rows, clocks, categories, sealed identities, index rows,
/// timeline events, then each tip's evidence and channel rows) with multi-row inserts.
async fn insert_tips(ex: &mut dyn Exec, new: &[&PreparedTip]) -> Result<(), sqlx::Error> {
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
        &mut *ex,
        "INSERT INTO reports (id, tracking_code, passcode_hash, channel, status, target_name, \
         target_kind, target_region, target_address, categories, description, occurred_from, \
         occurred_to, amount_estimate_fen, anonymous, relation, locale, recorded_by, received_at, \
         accept_by, case_region, target_key, received_on, target_code, notify_by, \
         client_digest) VALUES",
        26,
        &rows,
        |v, r| {
            let (p, t) = (r.p, &r.p.tip);
            v.extend::<[Arg; 26]>([
                p.report_id.as_str().into(),
                p.tracking_code.as_str().into(),
                p.passcode_hash.as_slice().into(),
                p.channel.code().into(),
                Status::Received.code().into(),
                t.target.name.as_str().into(),
                t.target.kind.code().into(),
                t.target.region.as_ref().map(|r| r.as_str()).into(),
                t.target.address.as_deref().into(),
                r.categories.as_str().into(),
                t.description.as_str().into(),
                r.occurred_from.as_deref().into(),
                r.occurred_to.as_deref().into(),
                t.amount_estimate_fen.into(),
                i64::from(t.anonymous).into(),
                t.relation.map(|r| r.code()).into(),
                t.locale.tag().into(),
                t.recorded_by.as_deref().into(),
                r.at.as_str().into(),
                r.accept_by.as_str().into(),
                p.case_region.as_str().into(),
                r.target_key.as_str().into(),
                r.received_on.as_deref().into(),
                t.target.code.as_deref().into(),
                t.notify_by.map(|n| n.code()).into(),
                t.client_digest.as_deref().into(),
            ])
        },
    )
    .await?;
    store::insert_rows(
        &mut *ex,
        crate::deadlines::clocks::INSERT_HEAD,
        13,
        &rows,
        |v, r| {
            let a = &r.p.accept;
            v.extend::<[Arg; 13]>([
                r.p.report_id.as_str().into(),
                "accept".into(),
                r.started_at.as_str().into(),
                r.start_on.as_str().into(),
                r.accept_by.as_str().into(),
                r.remind_on.as_str().into(),
                "pending".into(),
                r.remind_on.as_str().into(),
                "working_days".into(),
                i64::from(a.working_days).into(),
                i64::from(a.due.provisional).into(),
                a.rule.as_str().into(),
                i64::from(a.remind_before).into(),
            ])
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
        &mut *ex,
        "INSERT INTO report_categories (report_id, category) VALUES",
        2,
        &categories,
        |v, (id, c)| v.extend([Arg::from(*id), Arg::from(*c)]),
    )
    .await?;
    let identities: Vec<(&str, &SealedIdentity)> = new
        .iter()
        .map(|p| (p.report_id.as_str(), &p.identity))
        .collect();
    SealedIdentity::insert_many(&mut *ex, &identities).await?;
    let keys: Vec<crate::vault::shred::CaseKeyRow> = new
        .iter()
        .flat_map(|p| p.case_keys.iter().cloned())
        .collect();
    crate::vault::CaseKeys::insert(&keys, &mut *ex).await?;
    let verifiers: Vec<(&str, &[u8], &str)> = rows
        .iter()
        .filter_map(|r| {
            let d = r.p.claim_verifier.as_deref()?;
            Some((r.p.report_id.as_str(), d, r.at.as_str()))
        })
        .collect();
    store::insert_rows(
        &mut *ex,
        "INSERT INTO claim_verifiers (report_id, digest, set_at) VALUES",
        3,
        &verifiers,
        |v, (id, d, at)| v.extend([Arg::from(*id), Arg::from(*d), Arg::from(*at)]),
    )
    .await?;
    store::insert_rows(
        &mut *ex,
        "INSERT INTO report_events (report_id, at, kind, status) VALUES",
        4,
        &rows,
        |v, r| {
            v.extend::<[Arg; 4]>([
                r.p.report_id.as_str().into(),
                r.at.as_str().into(),
                "status".into(),
                Status::Received.code().into(),
            ])
        },
    )
    .await?;
    let ids: Vec<&str> = new.iter().map(|p| p.report_id.as_str()).collect();
    if let Some(first) = new.first() {
        super::links::enqueue(&mut *ex, &ids, first.received_at).await?;
    }
    for p in new {
        for e in &p.evidence {
            insert_evidence(&mut *ex, e).await?;
        }
        if let Some(extra) = &p.extra {
            extra.write(&mut *ex, &p.report_id).await?;
        }
        if let Some(attempts) = p.alert_attempts {
            let (today, waiting) = region_counts(&mut *ex, &p.case_region, p.received_at).await?;
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
            robots::alert(&mut *ex, &alert, attempts).await?;
        }
    }
    Ok(())
}

/// Write the batch tip by tip, each in its own savepoint, so one failing tip does not stop
/// the others. `Err` only when the transaction itself failed: nothing of it is kept.
async fn write_each(
    ex: &mut dyn Exec,
    batch: &[PreparedTip],
) -> Result<Vec<AppResult<Outcome>>, sqlx::Error> {
    let mut results: Vec<AppResult<Outcome>> = Vec::with_capacity(batch.len());
    for tip in batch {
        ex.run("SAVEPOINT tip", vec![]).await?;
        let written = write_tip(ex, tip).await;
        if !matches!(written, Ok(Outcome::Created)) {
            ex.run("ROLLBACK TO SAVEPOINT tip", vec![]).await?;
        }
        if let (Ok(Outcome::OverQuota { .. }), Some(q)) = (&written, &tip.tip.quota) {
            // A refused tip stays counted (only its idempotency claim is undone).
            ratelimit::add(ex, &q.bucket, q.limits.window_secs, tip.received_at, 1).await?;
        }
        ex.run("RELEASE SAVEPOINT tip", vec![]).await?;
        results.push(match written {
            Ok(outcome) => Ok(outcome),
            Err(e) if is_unique_violation(&e) => Ok(Outcome::CodeTaken),
            Err(e) => Err(AppError::from(e)),
        });
    }
    Ok(results)
}

async fn write_tip(ex: &mut dyn Exec, p: &PreparedTip) -> Result<Outcome, sqlx::Error> {
    if let Some(saved) = &p.idempotency {
        if let Some(replay) = claim_idempotency(ex, p, saved).await? {
            return Ok(replay);
        }
    }
    let mut outcome = [None];
    count_filings(ex, std::slice::from_ref(p), &mut outcome).await?;
    if let [Some(refused)] = outcome {
        return Ok(refused);
    }
    insert_tips(ex, &[p]).await?;
    Ok(Outcome::Created)
}

/// Write one sealed evidence file (metadata row and blobs) in the caller's transaction.
pub async fn insert_evidence(ex: &mut dyn Exec, e: &EvidenceRow) -> Result<(), sqlx::Error> {
    ex.run(
        "INSERT INTO evidence (id, report_id, message_id, seq, kind, media_type, size_bytes, \
         sha256, working_media_type, working_sha256, width, height, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        vec![
            e.id.as_str().into(),
            e.report_id.as_str().into(),
            e.message_id.into(),
            e.seq.into(),
            e.kind.as_str().into(),
            e.media_type.as_str().into(),
            e.size_bytes.into(),
            e.sha256.as_str().into(),
            e.working_media_type.as_deref().into(),
            e.working_sha256.as_deref().into(),
            e.width.into(),
            e.height.into(),
            store::ts(e.created_at).into(),
        ],
    )
    .await?;
    crate::store::blobs::put(&mut *ex, &e.id, "original", e.key_id, &e.original).await?;
    if let Some(w) = &e.working {
        crate::store::blobs::put(ex, &e.id, "working", e.working_key_id, w).await?;
    }
    Ok(())
}

#[path = "committer_checks.rs"]
mod checks;
use checks::{claim_idempotency, count_filings, region_counts};

#[cfg(test)]
#[path = "committer_tests.rs"]
mod tests;
