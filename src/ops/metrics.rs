//! The figures the shipped alert rules watch (`deploy/alerts.yml`), read from the database
//! at scrape time, so every instance reports the same shared state.

use chrono::{DateTime, Utc};

use crate::store::{ts, Db};

/// (name, help, value) of each gauge.
pub type Gauge = (&'static str, &'static str, i64);

/// Seconds from the stored time `oldest` to `now` (0 when there is none).
fn age(oldest: Option<String>, now: DateTime<Utc>) -> i64 {
    oldest
        .and_then(|t| crate::store::parse_ts(&t).ok())
        .map_or(0, |t| (now - t).num_seconds().max(0))
}

pub async fn gauges(db: &Db) -> anyhow::Result<Vec<Gauge>> {
    let now = db.now();
    let today = now
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
        .to_string();
    let count = |sql: &'static str| {
        let today = today.clone();
        async move {
            let q = sqlx::query_scalar::<_, i64>(sql);
            let q = if sql.contains("$1") { q.bind(today) } else { q };
            q.fetch_one(&db.pool).await
        }
    };
    let overdue =
        count("SELECT COUNT(*) FROM clocks WHERE closed_at IS NULL AND due_on < $1").await?;
    let dead = count("SELECT COUNT(*) FROM jobs WHERE state = 'dead'").await?;
    let waiting = count("SELECT COUNT(*) FROM identity_requests WHERE state = 'pending'").await?;
    let oldest_job: Option<String> =
        sqlx::query_scalar("SELECT MIN(run_at) FROM jobs WHERE state = 'ready' AND run_at <= $1")
            .bind(ts(now))
            .fetch_one(&db.pool)
            .await?;
    let oldest_request: Option<String> = sqlx::query_scalar(
        "SELECT MIN(requested_at) FROM identity_requests WHERE state = 'pending'",
    )
    .fetch_one(&db.pool)
    .await?;
    Ok(vec![
        (
            "clocks_overdue",
            "Open deadlines whose last day has passed (Asia/Shanghai)",
            overdue,
        ),
        (
            "outbox_dead_letters",
            "Jobs that failed every attempt and wait for an admin (/admin/dead-letters)",
            dead,
        ),
        (
            "outbox_lag_seconds",
            "How long the oldest due job has waited to run",
            age(oldest_job, now),
        ),
        (
            "reveal_requests_waiting",
            "Identity reveal requests waiting for custodians",
            waiting,
        ),
        (
            "reveal_request_oldest_wait_seconds",
            "How long the oldest waiting reveal request has waited",
            age(oldest_request, now),
        ),
    ])
}
