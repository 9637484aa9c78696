//! Group commit for intake. Submissions queue here; a writer takes everything waiting (up
//! to [`MAX_BATCH`]), writes each tip inside its own savepoint of one transaction, commits
//! once (one fsync on SQLite), then answers each submitter. A submitter is answered only
//! after the commit, so an acknowledged tip is on disk.
//!
//! SQLite has one writer task (it has one writer anyway); PostgreSQL has several, and every
//! instance has its own: nothing here is state another instance needs.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Acquire;
use tokio::sync::{mpsc, oneshot, Mutex};

use super::NewTip;
use crate::error::{AppError, AppResult};
use crate::intake::domain::{Channel, Status};
use crate::store::{self, is_unique_violation, Db, Tx};
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
    pub evidence: Vec<PreparedEvidence>,
    pub received_at: DateTime<Utc>,
    pub accept_by: NaiveDate,
    /// When the acceptance reminder goes out (DOMAIN §4).
    pub accept_remind_on: NaiveDate,
    /// Region the case belongs to (the target's, or the configured default).
    pub case_region: String,
    pub idempotency: Option<SavedResponse>,
    /// Channel rows written after the report (see [`super::TipExtra`]).
    pub extra: Option<Arc<dyn super::TipExtra>>,
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
}

type Job = (PreparedTip, oneshot::Sender<AppResult<Outcome>>);

pub struct Committer {
    tx: mpsc::Sender<Job>,
}

impl Committer {
    pub fn start(db: Db, writers: usize) -> Self {
        let (tx, rx) = mpsc::channel::<Job>(4096);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..writers.max(1) {
            let db = db.clone();
            let rx = rx.clone();
            tokio::spawn(async move {
                loop {
                    let batch = {
                        let mut rx = rx.lock().await;
                        let Some(first) = rx.recv().await else { return };
                        let mut batch = vec![first];
                        while batch.len() < MAX_BATCH {
                            match rx.try_recv() {
                                Ok(job) => batch.push(job),
                                Err(_) => break,
                            }
                        }
                        batch
                    };
                    write_batch(&db, batch).await;
                }
            });
        }
        Self { tx }
    }

    pub async fn submit(&self, tip: PreparedTip) -> AppResult<Outcome> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send((tip, done))
            .await
            .map_err(|_| AppError::unavailable(anyhow::anyhow!("intake writer stopped")))?;
        wait.await
            .map_err(|_| AppError::unavailable(anyhow::anyhow!("intake writer stopped")))?
    }
}

async fn write_batch(db: &Db, batch: Vec<Job>) {
    let mut results: Vec<Option<AppResult<Outcome>>> = Vec::with_capacity(batch.len());
    let committed: Result<(), sqlx::Error> = async {
        let mut tx = db.begin().await?;
        for (tip, _) in &batch {
            let mut sp = tx.begin().await?;
            match write_tip(&mut sp, tip).await {
                Ok(Outcome::Created) => {
                    sp.commit().await?;
                    results.push(Some(Ok(Outcome::Created)));
                }
                Ok(other) => {
                    sp.rollback().await?;
                    results.push(Some(Ok(other)));
                }
                Err(e) if is_unique_violation(&e) => {
                    sp.rollback().await?;
                    results.push(Some(Ok(Outcome::CodeTaken)));
                }
                Err(e) => {
                    sp.rollback().await?;
                    results.push(Some(Err(AppError::from(e))));
                }
            }
        }
        tx.commit().await
    }
    .await;
    match committed {
        Ok(()) => {
            for ((_, done), result) in batch.into_iter().zip(results) {
                let _ = done.send(result.unwrap_or_else(|| {
                    Err(AppError::internal(anyhow::anyhow!("no result for tip")))
                }));
            }
        }
        Err(e) => {
            // Nothing of this batch is stored; every submitter is told so.
            let msg = format!("{e:#}");
            for (_, done) in batch {
                let _ = done.send(Err(AppError::unavailable(anyhow::anyhow!("{msg}"))));
            }
        }
    }
}

async fn write_tip(tx: &mut Tx<'_>, p: &PreparedTip) -> Result<Outcome, sqlx::Error> {
    let at = store::ts(p.received_at);
    if let Some(saved) = &p.idempotency {
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
        .bind(&at)
        .fetch_optional(&mut **tx)
        .await?;
        if inserted.is_none() {
            let (status, sealed, request_digest): (i64, Vec<u8>, Vec<u8>) = sqlx::query_as(
                "SELECT status_code, response, request_digest FROM idempotency \
                 WHERE scope = $1 AND key_digest = $2",
            )
            .bind(&saved.scope)
            .bind(&saved.key_digest)
            .fetch_one(&mut **tx)
            .await?;
            return Ok(Outcome::Replay {
                status: u16::try_from(status).unwrap_or(200),
                sealed,
                scope: saved.scope.clone(),
                key_digest: saved.key_digest.clone(),
                request_digest,
            });
        }
    }
    let t = &p.tip;
    let categories: Vec<&str> = t.categories.iter().map(|c| c.code()).collect();
    sqlx::query(
        "INSERT INTO reports (id, tracking_code, passcode_hash, channel, status, target_name, \
         target_kind, target_region, target_address, categories, description, occurred_from, \
         occurred_to, amount_estimate_fen, anonymous, relation, locale, recorded_by, received_at, \
         accept_by, case_region, target_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
         $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)",
    )
    .bind(&p.report_id)
    .bind(&p.tracking_code)
    .bind(&p.passcode_hash)
    .bind(p.channel.code())
    .bind(Status::Received.code())
    .bind(&t.target.name)
    .bind(t.target.kind.code())
    .bind(t.target.region.as_ref().map(|r| r.as_str().to_string()))
    .bind(t.target.address.clone())
    .bind(categories.join(" "))
    .bind(&t.description)
    .bind(t.occurred_from.map(|d| d.to_string()))
    .bind(t.occurred_to.map(|d| d.to_string()))
    .bind(t.amount_estimate_fen)
    .bind(i64::from(t.anonymous))
    .bind(t.relation.map(|r| r.code().to_string()))
    .bind(t.locale.tag())
    .bind(t.recorded_by.clone())
    .bind(&at)
    .bind(p.accept_by.to_string())
    .bind(&p.case_region)
    .bind(crate::staff::target_key(&t.target.name))
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO clocks (report_id, kind, started_at, due_on, remind_on, stage, next_check_on) \
         VALUES ($1, 'accept', $2, $3, $4, 'pending', $4)",
    )
    .bind(&p.report_id)
    .bind(&at)
    .bind(p.accept_by.to_string())
    .bind(p.accept_remind_on.to_string())
    .execute(&mut **tx)
    .await?;
    // One statement for all of the tip's categories.
    let values: Vec<String> = (0..categories.len())
        .map(|i| format!("($1, ${})", i + 2))
        .collect();
    let sql = format!(
        "INSERT INTO report_categories (report_id, category) VALUES {}",
        values.join(", ")
    );
    let mut q = sqlx::query(&sql).bind(&p.report_id);
    for c in &categories {
        q = q.bind(*c);
    }
    q.execute(&mut **tx).await?;
    p.identity.insert(tx, &p.report_id).await?;
    sqlx::query(
        "INSERT INTO report_events (report_id, at, kind, status) VALUES ($1, $2, 'status', $3)",
    )
    .bind(&p.report_id)
    .bind(&at)
    .bind(Status::Received.code())
    .execute(&mut **tx)
    .await?;
    for e in &p.evidence {
        insert_evidence(tx, e).await?;
    }
    if let Some(extra) = &p.extra {
        extra.write(tx, &p.report_id).await?;
    }
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
        crate::store::blobs::put(tx, &e.id, "working", e.key_id, w).await?;
    }
    Ok(())
}
