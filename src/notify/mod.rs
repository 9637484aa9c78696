//! The outbox: one queue for every notification the service sends (staff email, reporter
//! feedback through the tip's channel, bot messages, hotline callbacks, slow fetches).
//!
//! A job is a row written in the same transaction as the change that causes it, so a change
//! and its notification commit together or not at all. Workers on every instance lease jobs
//! (`locked_until`), delete them when they succeed, and on failure put them back with an
//! exponential backoff; after `max_attempts` a job moves to the dead-letter state, where an
//! admin sees it and can retry it. Nothing is dropped. On PostgreSQL the claim uses
//! `FOR UPDATE SKIP LOCKED`, so instances never wait on each other's rows; a lease that
//! expires (a worker died mid-job) makes the job claimable again.

pub mod email;
pub mod fault;
pub mod job;
pub mod robots;
pub mod sms;
pub mod worker;

pub use fault::FailCode;
pub use job::{Job, Retry, Run};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::store::{self, Db, Tx};

/// A job to enqueue: made from a typed payload with [`NewJob::of`].
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: &'static str,
    pub payload: serde_json::Value,
    /// Jobs with the same key are enqueued once (e.g. one reminder per clock stage and user).
    pub dedupe_key: Option<String>,
    pub priority: i64,
    pub run_at: DateTime<Utc>,
    /// The kind's own attempt count ([`Retry::Attempts`]), else the configured one.
    pub max_attempts: Option<i64>,
    /// The account, robot or provider the job goes to, by its configured name (shown on
    /// the dead-letter list); never a person.
    pub target: Option<String>,
}

impl NewJob {
    fn new(kind: &'static str, payload: serde_json::Value) -> Self {
        Self {
            kind,
            payload,
            dedupe_key: None,
            priority: 0,
            run_at: Utc::now(),
            max_attempts: None,
            target: None,
        }
    }

    pub fn dedupe(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }
}

/// Default attempts before a job is dead-lettered (overridden by `[outbox] max_attempts`).
pub const DEFAULT_MAX_ATTEMPTS: i64 = 8;

/// Write a job in the caller's transaction. A duplicate `dedupe_key` is ignored.
pub async fn enqueue(
    ex: &mut dyn store::Exec,
    job: &NewJob,
    max_attempts: u32,
) -> Result<(), sqlx::Error> {
    ex.run(
        "INSERT INTO jobs (kind, payload, dedupe_key, priority, run_at, max_attempts, created_at, \
         target) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (dedupe_key) DO NOTHING",
        vec![
            job.kind.into(),
            job.payload.to_string().into(),
            job.dedupe_key.as_deref().into(),
            job.priority.into(),
            store::ts(job.run_at).into(),
            job.max_attempts
                .unwrap_or(i64::from(max_attempts))
                .max(1)
                .into(),
            store::ts(Utc::now()).into(),
            job.target.as_deref().into(),
        ],
    )
    .await?;
    Ok(())
}

/// A leased job.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub kind: String,
    pub payload: serde_json::Value,
    pub attempts: i64,
    pub max_attempts: i64,
}

/// Lease the next due job, if any, for `lease`.
pub async fn claim(db: &Db, lease: Duration) -> Result<Option<Claimed>, sqlx::Error> {
    let _turn = db.write_turn().await;
    let now = Utc::now();
    let lock = db.backend.skip_locked();
    let sql = format!(
        "UPDATE jobs SET locked_until = $1, attempts = attempts + 1 WHERE id = (\
         SELECT id FROM jobs WHERE state = 'ready' AND run_at <= $2 \
         AND (locked_until IS NULL OR locked_until < $2) \
         ORDER BY priority DESC, run_at, id LIMIT 1{lock}) \
         RETURNING id, kind, payload, attempts, max_attempts"
    );
    let row: Option<(i64, String, String, i64, i64)> = sqlx::query_as(&sql)
        .bind(store::ts(now + lease))
        .bind(store::ts(now))
        .fetch_optional(&db.pool)
        .await?;
    Ok(
        row.map(|(id, kind, payload, attempts, max_attempts)| Claimed {
            id,
            kind,
            payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
            attempts,
            max_attempts,
        }),
    )
}

/// The job succeeded: it is removed.
pub async fn complete(db: &Db, id: i64) -> Result<(), sqlx::Error> {
    let _turn = db.write_turn().await;
    sqlx::query("DELETE FROM jobs WHERE id = $1")
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The job failed: retry after a backoff, or dead-letter it when attempts are used up (or
/// the failure is permanent). The stored last error is the failure's code, never its text.
pub async fn fail(
    db: &Db,
    job: &Claimed,
    error: &FailCode,
    permanent: bool,
    backoff_base: Duration,
    backoff_max: Duration,
) -> Result<bool, sqlx::Error> {
    let _turn = db.write_turn().await;
    let dead = permanent || job.attempts >= job.max_attempts;
    let exp = u32::try_from(job.attempts.clamp(1, 20) - 1).unwrap_or(0);
    let delay = backoff_base
        .checked_mul(2i32.saturating_pow(exp))
        .unwrap_or(backoff_max)
        .min(backoff_max);
    sqlx::query(
        "UPDATE jobs SET state = $1, run_at = $2, locked_until = NULL, last_error = $3, \
         target = COALESCE($4, target) WHERE id = $5",
    )
    .bind(if dead { "dead" } else { "ready" })
    .bind(store::ts(Utc::now() + delay))
    .bind(error.as_str())
    .bind(error.target())
    .bind(job.id)
    .execute(&db.pool)
    .await?;
    Ok(dead)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeadJob {
    pub id: i64,
    pub kind: String,
    /// The account, robot or provider it was for (`wechat demo`, `robot ops-dingtalk`).
    pub target: Option<String>,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub failed_at: String,
}

/// The dead-letter list, oldest first.
pub async fn dead_letters(db: &Db, limit: i64) -> Result<Vec<DeadJob>, sqlx::Error> {
    type Row = (
        i64,
        String,
        Option<String>,
        i64,
        Option<String>,
        String,
        String,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, kind, target, attempts, last_error, created_at, run_at FROM jobs \
         WHERE state = 'dead' ORDER BY id LIMIT $1",
    )
    .bind(limit.clamp(1, 500))
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, kind, target, attempts, last_error, created_at, failed_at)| DeadJob {
                id,
                kind,
                target,
                attempts,
                last_error,
                created_at,
                failed_at,
            },
        )
        .collect())
}

/// Put a dead job back in the queue with fresh attempts. Returns false if no such dead job.
pub async fn retry_dead(tx: &mut Tx<'_>, id: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE jobs SET state = 'ready', attempts = 0, run_at = $1, locked_until = NULL \
         WHERE id = $2 AND state = 'dead'",
    )
    .bind(store::ts(Utc::now()))
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Jobs waiting (ready) and dead, for metrics and the admin view.
pub async fn counts(db: &Db) -> Result<(i64, i64), sqlx::Error> {
    let (ready, dead): (i64, i64) = sqlx::query_as(
        "SELECT COALESCE(SUM(CASE WHEN state = 'ready' THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END), 0) FROM jobs",
    )
    .fetch_one(&db.pool)
    .await?;
    Ok((ready, dead))
}
