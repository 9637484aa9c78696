//! Storage: one code path over SQLite (embedded default) and PostgreSQL (several stateless
//! instances). Queries are portable SQL with `$n` placeholders, run through sqlx's `Any`
//! driver; the few real differences between the two live in this module.
//!
//! Column conventions that keep the SQL portable: integers are 64-bit (`BIGINT`), times are
//! UTC text `YYYY-MM-DDTHH:MM:SS.ffffffZ` (sortable as text), dates `YYYY-MM-DD`, money is
//! integer fen, binary is `BLOB`/`BYTEA`.

pub mod blobs;
pub mod clock;
pub mod combined;
pub mod exec;
pub mod group;
pub mod native;
pub mod ratelimit;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The row lock a job claim adds to its sub-select: PostgreSQL skips rows another
    /// instance holds; SQLite has one writer, so the `UPDATE` alone is atomic.
    pub fn skip_locked(self) -> &'static str {
        match self {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        }
    }

    /// How many writers the intake group committer runs: SQLite has one writer (more would
    /// only wait on its lock); PostgreSQL commits concurrent transactions in parallel, and
    /// two (one writing while the other commits) filed more tips than four on two cores,
    /// in larger batches at less CPU a tip (docs/BENCHMARKS.md).
    pub fn intake_writers(self) -> usize {
        match self {
            Backend::Sqlite => 1,
            Backend::Postgres => 2,
        }
    }

    /// Whether small writes (bot pushes) should share one transaction and one fsync:
    /// yes on SQLite (one fsynced commit at a time), no on PostgreSQL.
    pub fn group_small_writes(self) -> bool {
        self == Backend::Sqlite
    }

    /// SQL for the Asia/Shanghai calendar month (`YYYY-MM`) of `col`, a stored UTC time
    /// ([`ts`]). Statistics count by the month people there live in: a tip received at
    /// 01:00 on 1 February in Beijing (17:00 UTC on 31 January) counts in February. China
    /// has kept UTC+8 without daylight saving since 1991, which SQLite's fixed shift uses.
    pub fn shanghai_month(self, col: &str) -> String {
        match self {
            Backend::Sqlite => format!("strftime('%Y-%m', {col}, '+8 hours')"),
            Backend::Postgres => {
                format!(
                    "to_char(CAST({col} AS timestamptz) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')"
                )
            }
        }
    }
}

pub use clock::Clock;
pub use exec::{Arg, Exec};

/// Every SQLite connection's settings (the pool's and the native writer's): WAL, every
/// commit fsynced (the native writer's by its syncer, [`native`]), foreign keys checked,
/// checkpoints from a background task.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; \
     PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000; \
     PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=20000; \
     PRAGMA cache_size=-16384;";

#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// "Now" for everything this handle stores and decides ([`Clock`]).
    pub clock: Clock,
    /// SQLite: the process's busy writers take turns here ([`Db::write_turn`]).
    writers: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
    /// SQLite in a file: the native writer of [`Db::write_tx`].
    native: Option<std::sync::Arc<native::Writer>>,
    /// [`Db::write_tx`] answers at the commit, before the native writer's sync: the caller
    /// (the group commit) waits for [`Db::durable`] before it answers anyone.
    defer_sync: bool,
    /// When a group-commit writer of this process last wrote a batch of more than one job
    /// (ms since the Unix epoch): tips or pushes are arriving faster than one at a time.
    busy_at: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

/// A turn at writing ([`Db::write_turn`]); the next writer's turn starts when it is dropped.
pub type WriteTurn = Option<tokio::sync::OwnedMutexGuard<()>>;

pub type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

impl Db {
    /// Connect to `url`. For SQLite the file and its folder are created, WAL mode is on and
    /// every commit is fsynced before it is acknowledged (`synchronous=FULL`, or the native
    /// writer's syncer): an acknowledged tip survives `kill -9` and power loss.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let mut url = url.to_string();
        let mut file = None;
        if backend == Backend::Sqlite {
            let path = url
                .trim_start_matches("sqlite://")
                .trim_start_matches("sqlite:");
            let path = path.split('?').next().unwrap_or_default().to_string();
            if path != ":memory:" && !path.is_empty() && !url.contains("mode=memory") {
                if let Some(dir) = Path::new(&path).parent() {
                    if !dir.as_os_str().is_empty() {
                        std::fs::create_dir_all(dir)
                            .with_context(|| format!("creating {}", dir.display()))?;
                    }
                }
                file = Some(std::path::PathBuf::from(path));
            }
            if !url.contains('?') {
                url.push_str("?mode=rwc");
            }
        }
        let opts = AnyConnectOptions::from_str(&url).context("parsing [database] url")?;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(2))
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            // A SQLite connection is a file handle in this process: it cannot break while
            // idle, so the ping sqlx sends before each checkout (a round trip to the
            // connection's thread) buys nothing.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(SQLITE_PRAGMAS).await?;
                    } else {
                        conn.execute("SET TIME ZONE 'UTC'").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await
            .context("connecting to the database")?;
        if backend == Backend::Sqlite {
            spawn_checkpointer(pool.clone());
        }
        // After the pool has created the file (and set WAL mode on it).
        let native = match &file {
            Some(path) => Some(std::sync::Arc::new(
                native::Writer::open(path).context("opening the SQLite writer")?,
            )),
            None => None,
        };
        Ok(Self {
            pool,
            backend,
            clock: Clock::system(),
            writers: (backend == Backend::Sqlite).then(Default::default),
            native,
            defer_sync: false,
            busy_at: Default::default(),
        })
    }

    /// Note that a writer just wrote a batch of several jobs ([`group`]).
    pub fn mark_busy(&self) {
        let now = Utc::now().timestamp_millis();
        self.busy_at
            .store(now, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether this process's writers wrote a batch of several jobs in the last `ms`: work
    /// that can wait (the related-tips job) waits, so it does not slow a burst of intake.
    /// A hint for this process's own scheduling, not state another instance needs.
    pub fn busy_within(&self, ms: i64) -> bool {
        let at = self.busy_at.load(std::sync::atomic::Ordering::Relaxed);
        at > 0 && Utc::now().timestamp_millis() - at < ms
    }

    /// Wait for this process's turn to write, and hold it until the returned guard is
    /// dropped (after the commit). SQLite has one writer: a writer that finds the lock
    /// taken sleeps in SQLite's busy handler (1, 2, 5 … 100 ms) and may lose the lock again
    /// to another, so under load the busy writers of one process (every group commit:
    /// intake and bots; the outbox worker; the related-tips job) queue here instead, in
    /// order, and never sleep. A no-op on PostgreSQL, whose writers commit in parallel.
    pub async fn write_turn(&self) -> WriteTurn {
        match &self.writers {
            Some(m) => Some(m.clone().lock_owned().await),
            None => None,
        }
    }

    /// The same handle reading time from `clock` (tests start it at a literal instant).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The current time by this handle's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn migrator(&self) -> &'static Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// Apply every embedded migration not yet applied.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        self.migrator()
            .run(&self.pool)
            .await
            .context("applying migrations")?;
        Ok(())
    }

    /// The embedded migrations not applied yet (version, description), oldest first.
    pub async fn pending_migrations(&self) -> anyhow::Result<Vec<(i64, String)>> {
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.pool)
                .await
                .unwrap_or_default();
        Ok(self
            .migrator()
            .iter()
            .filter(|m| !applied.contains(&m.version))
            .map(|m| (m.version, m.description.to_string()))
            .collect())
    }

    /// Ready when the database answers and every embedded migration is applied.
    pub async fn ready(&self) -> anyhow::Result<()> {
        let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(&self.pool)
            .await?;
        let expected = self.migrator().iter().count() as i64;
        anyhow::ensure!(
            applied >= expected,
            "migrations pending ({applied}/{expected})"
        );
        Ok(())
    }

    pub async fn begin(&self) -> Result<Tx<'static>, sqlx::Error> {
        self.pool.begin().await
    }

    /// A transaction that reads and then writes, where another process may write the same
    /// SQLite file (a command beside the running service): on SQLite it takes the write
    /// lock at `BEGIN IMMEDIATE`, waiting out the busy timeout, so its first write cannot
    /// fail at once on a snapshot another process's commit made stale.
    pub async fn begin_write(&self) -> Result<Tx<'static>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Run `work` in one write transaction, committed before this returns and rolled back
    /// when `work` fails: on SQLite in a file by the native writer ([`native`]: one
    /// handoff for the whole transaction), otherwise in a pool transaction. The caller
    /// holds the write turn ([`Db::write_turn`]) where it matters.
    pub async fn write_tx<R: Send + 'static>(&self, work: native::Work<R>) -> sqlx::Result<R> {
        if let Some(n) = &self.native {
            if self.defer_sync {
                return n.transaction_unsynced(work).await;
            }
            return n.transaction(work).await;
        }
        let mut tx = self.begin().await?;
        match work(&mut tx).await {
            Ok(v) => {
                tx.commit().await?;
                Ok(v)
            }
            Err(e) => {
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }

    /// This handle, with [`Db::write_tx`] answering at the commit rather than once it is
    /// on disk: for a writer that waits for [`Db::durable`] itself before it answers.
    pub fn deferring_sync(&self) -> Db {
        Db {
            defer_sync: true,
            ..self.clone()
        }
    }

    /// Whether [`Db::write_tx`]'s commits are synced behind the writer ([`native`]).
    pub fn syncs_behind(&self) -> bool {
        self.native.is_some()
    }

    /// Resolves once every transaction [`Db::write_tx`] has answered so far is on disk (at
    /// once where each commit waits for its own sync: PostgreSQL, SQLite's pool).
    pub fn durable(&self) -> futures_util::future::BoxFuture<'static, sqlx::Result<()>> {
        match &self.native {
            Some(n) => n.durable(),
            None => Box::pin(std::future::ready(Ok(()))),
        }
    }

    pub async fn close(&self) {
        if let Some(n) = &self.native {
            n.close();
        }
        self.pool.close().await;
    }
}

/// The newest migration this build carries (the same number for both databases).
pub fn latest_migration() -> i64 {
    SQLITE_MIGRATIONS
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
}

/// SQLite: copy the write-ahead log back into the database file from a background task,
/// instead of inside whichever commit crosses the auto-checkpoint size. A passive
/// checkpoint never blocks writers; the high `wal_autocheckpoint` stays as the safety net
/// if this task falls behind. Ends when the pool is closed.
///
/// Five times a second, or more often while the WAL grows fast (a flood of tips), so that
/// each checkpoint copies about [`CHECKPOINT_FRAMES`]: the checkpoint the native writer
/// runs at `wal_autocheckpoint` (the one that lets the WAL start over) then has little
/// left to copy, and it stalls the writer and the tips behind it for less. Not more often
/// than that: each checkpoint syncs the WAL and the database file, and the fsyncs of
/// small transactions (the workflow's) wait behind them.
fn spawn_checkpointer(pool: AnyPool) {
    tokio::spawn(async move {
        let mut last_log = 0;
        let mut every = CHECKPOINT_SLOWEST;
        loop {
            tokio::time::sleep(every).await;
            if pool.is_closed() {
                return;
            }
            // (busy, frames in the WAL, frames checkpointed)
            let done: Result<(i64, i64, i64), _> = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_one(&pool)
                .await;
            match done {
                Ok((_, log, _)) => {
                    // A smaller log than last time: it started over, and holds only new frames.
                    let grown = if log >= last_log { log - last_log } else { log };
                    every = checkpoint_interval(grown, every);
                    last_log = log;
                }
                Err(e) => {
                    if pool.is_closed() {
                        return;
                    }
                    every = CHECKPOINT_SLOWEST;
                    tracing::debug!(error = %e, "background checkpoint");
                }
            }
        }
    });
}

/// About how many WAL frames (pages) each background checkpoint should copy.
const CHECKPOINT_FRAMES: i64 = 2_000;
const CHECKPOINT_SLOWEST: Duration = Duration::from_millis(200);
const CHECKPOINT_FASTEST: Duration = Duration::from_millis(20);

/// The next interval, from the frames the WAL grew by during the last one.
fn checkpoint_interval(grown: i64, last: Duration) -> Duration {
    if grown <= 0 {
        return CHECKPOINT_SLOWEST;
    }
    let ms = last.as_millis() as i64 * CHECKPOINT_FRAMES / grown;
    Duration::from_millis(ms.max(0) as u64).clamp(CHECKPOINT_FASTEST, CHECKPOINT_SLOWEST)
}

/// Format a UTC time for storage.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Parse a stored UTC time.
pub fn parse_ts(s: &str) -> anyhow::Result<DateTime<Utc>> {
    Ok(DateTime::parse_from_rfc3339(s)
        .with_context(|| format!("bad stored time {s}"))?
        .into())
}

/// Whether a database error is a unique-constraint violation (portable: SQLite does not
/// name constraints, so we go by kind).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

/// The most rows one multi-row statement carries. Chunks are powers of two up to this, so a
/// table needs at most eight distinct statements in a connection's statement cache.
pub const MAX_ROWS_PER_INSERT: usize = 64;

/// `head` followed by `rows` groups of `cols` placeholders, made once per shape and kept for
/// the life of the process (the shapes are few: tables × chunk sizes × backends).
/// PostgreSQL gets numbered ones (`$1`, `$2`, …). SQLite gets anonymous `?`s, bound in the
/// same order: binding looks up each numbered parameter's name by walking a list of all of
/// them (`sqlite3_bind_parameter_name`), which for a statement of hundreds of parameters
/// was 12 % of intake's CPU time (docs/BENCHMARKS.md).
fn values_sql(head: &'static str, cols: usize, rows: usize, sqlite: bool) -> &'static str {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    type Shapes = Mutex<HashMap<(usize, usize, usize, bool), &'static str>>;
    static SHAPES: OnceLock<Shapes> = OnceLock::new();
    let key = (head.as_ptr() as usize, cols, rows, sqlite);
    let mut shapes = SHAPES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    shapes.entry(key).or_insert_with(|| {
        let mut sql = String::with_capacity(head.len() + rows * cols * 6);
        sql.push_str(head);
        let mut n = 0;
        for r in 0..rows {
            sql.push_str(if r == 0 { " (" } else { ", (" });
            for c in 0..cols {
                n += 1;
                if c > 0 {
                    sql.push_str(", ");
                }
                if sqlite {
                    sql.push('?');
                } else {
                    sql.push('$');
                    sql.push_str(&n.to_string());
                }
            }
            sql.push(')');
        }
        Box::leak(sql.into_boxed_str())
    })
}

/// Insert `rows` with multi-row `INSERT … VALUES (…), (…)` statements: `head` is the
/// statement up to and including `VALUES`, `bind` pushes one row's `cols` values in order.
pub async fn insert_rows<'q, T, F>(
    ex: &mut dyn Exec,
    head: &'static str,
    cols: usize,
    rows: &'q [T],
    bind: F,
) -> sqlx::Result<()>
where
    T: Sync,
    F: Fn(&mut Vec<Arg<'q>>, &'q T),
{
    let mut args = Vec::with_capacity(rows.len() * cols);
    for row in rows {
        bind(&mut args, row);
    }
    debug_assert_eq!(args.len(), rows.len() * cols, "{head}");
    ex.insert_values(head, cols, args).await
}

/// The largest power of two not above `len` and [`MAX_ROWS_PER_INSERT`].
fn chunk_len(len: usize) -> usize {
    let len = len.min(MAX_ROWS_PER_INSERT);
    1 << (usize::BITS - 1 - len.leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SQLite writers of one process take turns; the busy mark is seen, then goes stale.
    #[tokio::test]
    async fn sqlite_writers_take_turns_and_a_batch_marks_the_writers_busy() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("w.db").display());
        let db = Db::connect(&url, 2).await.unwrap();
        let first = db.write_turn().await;
        assert!(first.is_some());
        let other = db.clone();
        let second = tokio::spawn(async move { other.write_turn().await.is_some() });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !second.is_finished(),
            "the second writer waits for the first"
        );
        drop(first);
        assert!(second.await.unwrap());
        assert!(!db.busy_within(250));
        db.mark_busy();
        assert!(db.busy_within(250));
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(!db.busy_within(50));
        db.close().await;
    }

    /// Five times a second at the pace of the workflow's transactions; as often as every
    /// 20 ms in a flood of tips.
    #[test]
    fn the_checkpoint_interval_follows_the_wals_growth() {
        let ms = |n| Duration::from_millis(n);
        assert_eq!(checkpoint_interval(0, ms(200)), ms(200));
        assert_eq!(checkpoint_interval(1_500, ms(200)), ms(200));
        assert_eq!(checkpoint_interval(4_000, ms(200)), ms(100));
        assert_eq!(checkpoint_interval(13_000, ms(200)), ms(30));
        assert_eq!(checkpoint_interval(100_000, ms(30)), ms(20));
        assert_eq!(checkpoint_interval(100, ms(20)), ms(200));
    }

    #[test]
    fn chunks_are_powers_of_two() {
        assert_eq!(chunk_len(1), 1);
        assert_eq!(chunk_len(3), 2);
        assert_eq!(chunk_len(64), 64);
        assert_eq!(chunk_len(127), 64);
        assert_eq!(chunk_len(5), 4);
    }

    #[test]
    fn values_are_numbered_across_rows() {
        let sql = values_sql("INSERT INTO t (a, b) VALUES", 2, 3, false);
        assert_eq!(
            sql,
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4), ($5, $6)"
        );
        let sql = values_sql("INSERT INTO t (a, b) VALUES", 2, 3, true);
        assert_eq!(sql, "INSERT INTO t (a, b) VALUES (?, ?), (?, ?), (?, ?)");
    }
}
