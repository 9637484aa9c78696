//! Fixed-window counters in the database, so every instance behind a load balancer sees
//! the same counts. Bucket names are keyed digests, never raw codes or addresses.

use super::{Db, Exec};
use chrono::{DateTime, Utc};

/// The start of the fixed window of `window_secs` that holds `now` (seconds since the Unix
/// epoch); the window ends `window_secs` later.
pub fn window_start(now: DateTime<Utc>, window_secs: i64) -> i64 {
    let now_s = now.timestamp();
    now_s - now_s.rem_euclid(window_secs.max(1))
}

/// Count one more event in `bucket` and return the count in the current window.
pub async fn hit(db: &Db, bucket: &str, window_secs: i64, now: DateTime<Utc>) -> sqlx::Result<i64> {
    add(&mut *db.pool.acquire().await?, bucket, window_secs, now, 1).await
}

/// Count `n` more events in `bucket`, on `conn` (say, inside the transaction that stores
/// what was counted), and return the count in the current window after them.
pub async fn add(
    ex: &mut dyn Exec,
    bucket: &str,
    window_secs: i64,
    now: DateTime<Utc>,
    n: i64,
) -> sqlx::Result<i64> {
    let window_start = window_start(now, window_secs);
    let count = ex
        .fetch_i64(
            "INSERT INTO rate_limits (bucket, window_start, count) VALUES ($1, $2, $3) \
             ON CONFLICT (bucket) DO UPDATE SET \
               count = CASE WHEN rate_limits.window_start = excluded.window_start \
                            THEN rate_limits.count + excluded.count ELSE excluded.count END, \
               window_start = excluded.window_start \
             RETURNING count",
            vec![bucket.into(), window_start.into(), n.into()],
        )
        .await?;
    count.ok_or(sqlx::Error::RowNotFound)
}

/// Delete counters whose window started more than two days before `now` (every window in
/// use is shorter), so the table does not grow without end.
pub async fn purge(db: &Db, now: DateTime<Utc>) -> sqlx::Result<u64> {
    let r = sqlx::query("DELETE FROM rate_limits WHERE window_start < $1")
        .bind(now.timestamp() - 2 * 86_400)
        .execute(&db.pool)
        .await?;
    Ok(r.rows_affected())
}

/// The count in the current window, without counting.
pub async fn current(
    db: &Db,
    bucket: &str,
    window_secs: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<i64> {
    let window_start = window_start(now, window_secs);
    let count: Option<i64> =
        sqlx::query_scalar("SELECT count FROM rate_limits WHERE bucket = $1 AND window_start = $2")
            .bind(bucket)
            .bind(window_start)
            .fetch_optional(&db.pool)
            .await?;
    Ok(count.unwrap_or(0))
}
