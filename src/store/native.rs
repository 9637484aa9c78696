//! SQLite's native writer: one thread that owns one connection of SQLite's own driver
//! (`rusqlite`, on the same bundled `libsqlite3-sys` as sqlx) with prepared statements, and
//! runs a whole transaction per message.
//!
//! Through sqlx every statement is a message to the connection's worker thread and its
//! answer a message back: two thread switches per statement, most of the CPU time of a
//! batch of tips (docs/BENCHMARKS.md). Here a group-commit batch is one message: the
//! writer runs the batch's statements itself and answers once, after the commit.
//!
//! **Durability behind the writer.** The writer's connection commits without waiting for
//! the disk (`synchronous=NORMAL`: in WAL mode the commit's frames are written, not yet
//! fsynced). A second thread, the syncer, `fdatasync`s the WAL file after each commit (one
//! sync for every commit made meanwhile), and [`Writer::durable`] resolves only once a sync
//! that began after the caller's commit has finished. [`Writer::transaction`] waits for
//! that before it answers, so an answered transaction is on disk as with
//! `synchronous=FULL`; the group commit ([`super::group`]) instead answers its callers
//! after [`Writer::durable`] and meanwhile writes its next batch, so one batch's fsync
//! overlaps the next batch's statements. Nothing is acknowledged before its sync; a
//! failed sync fails every waiting caller and every later transaction (the writer does not
//! trust the disk again until the service restarts).
//!
//! Other connections may read a commit in the moment before its sync. What they write
//! after reading it is durable only with it (the WAL is one file, synced in order), so the
//! database stays consistent; only a side effect outside the database (an outbox message
//! sent within that moment, say) could outlive a power cut that loses the commit.
//!
//! The statements are the same ones the pool runs ([`Exec`]), so what a tip writes is
//! written once for both drivers and both databases. Only [`super::Db::write_tx`] uses
//! this; reads and the other writers stay on the pool.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::{oneshot, watch};

use super::exec::{Arg, Exec, Row, Value};

/// A transaction's statements, run on the writer's connection.
pub type Work<R> =
    Box<dyn for<'c> FnOnce(&'c mut dyn Exec) -> BoxFuture<'c, sqlx::Result<R>> + Send>;

type Job = Box<dyn FnOnce(&mut Native) + Send>;

/// How the syncer makes the WAL durable (a test may slow it down or make it fail).
pub type SyncWal = Box<dyn FnMut() -> std::io::Result<()> + Send>;

/// The syncer's progress: how many commits are durable, or why none will be again.
type Synced = Result<u64, String>;

/// The handle of the writer thread; the thread ends when the handle is closed or dropped.
pub struct Writer {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    /// Commits made by the writer so far (counted before each is answered).
    committed: Arc<AtomicU64>,
    synced: watch::Receiver<Synced>,
}

/// The writer's connection.
pub struct Native {
    conn: Connection,
    committed: Arc<AtomicU64>,
    /// Each commit's number, to the syncer.
    to_sync: mpsc::Sender<u64>,
    synced: watch::Receiver<Synced>,
}

impl Writer {
    /// Open `path` (created by the pool already) with the pool's settings and start the
    /// writer thread and its syncer.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        Self::open_with(path, fdatasync(PathBuf::from(wal)))
    }

    /// [`Writer::open`] with another way to make the WAL durable.
    pub fn open_with(path: &Path, mut sync: SyncWal) -> anyhow::Result<Self> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.execute_batch(super::SQLITE_PRAGMAS)?;
        // The syncer makes this connection's commits durable (the module's comment).
        conn.execute_batch("PRAGMA synchronous=NORMAL")?;
        // Enough for every shape of intake's multi-row inserts (tables × chunk sizes).
        conn.set_prepared_statement_cache_capacity(256);
        let committed = Arc::new(AtomicU64::new(0));
        let (synced_tx, synced) = watch::channel::<Synced>(Ok(0));
        let (to_sync, commits) = mpsc::channel::<u64>();
        let syncer = std::thread::Builder::new()
            .name("sqlite-sync".into())
            .spawn(move || {
                while let Ok(mut n) = commits.recv() {
                    while let Ok(m) = commits.try_recv() {
                        n = n.max(m);
                    }
                    if let Err(e) = sync() {
                        tracing::error!(error = %e, "the SQLite WAL could not be synced: \
                            no write is acknowledged until the service restarts");
                        let _ = synced_tx.send_replace(Err(format!("syncing the WAL: {e}")));
                        return;
                    }
                    let _ = synced_tx.send_replace(Ok(n));
                }
            })?;
        let mut native = Native {
            conn,
            committed: committed.clone(),
            to_sync,
            synced: synced.clone(),
        };
        let (jobs, rx) = mpsc::channel::<Job>();
        // A transaction's work may await the vault (a key it has not cached): it runs
        // inside the service's runtime, though never on one of its threads.
        let runtime = tokio::runtime::Handle::try_current().ok();
        let writer = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                let _runtime = runtime.as_ref().map(|r| r.enter());
                for job in rx {
                    job(&mut native);
                }
            })?;
        Ok(Self {
            jobs: Mutex::new(Some(jobs)),
            threads: Mutex::new(vec![writer, syncer]),
            committed,
            synced,
        })
    }

    /// Run `work` in one transaction (`BEGIN IMMEDIATE` … `COMMIT`) on the writer; rolled
    /// back when it fails. Answered once the commit is on disk.
    pub async fn transaction<R: Send + 'static>(&self, work: Work<R>) -> sqlx::Result<R> {
        let done = self.transaction_unsynced(work).await?;
        self.durable().await?;
        Ok(done)
    }

    /// As [`Writer::transaction`], answered as soon as it is committed: the caller waits
    /// for [`Writer::durable`] before it tells anyone the write is done.
    pub async fn transaction_unsynced<R: Send + 'static>(&self, work: Work<R>) -> sqlx::Result<R> {
        let (answer, wait) = oneshot::channel();
        let job: Job = Box::new(move |n: &mut Native| {
            let _ = answer.send(n.transaction(work));
        });
        let sent = self
            .jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|jobs| jobs.send(job).is_ok());
        if sent != Some(true) {
            return Err(sqlx::Error::PoolClosed);
        }
        wait.await.map_err(|_| sqlx::Error::WorkerCrashed)?
    }

    /// Resolves once every commit this writer has answered so far is on disk.
    pub fn durable(&self) -> BoxFuture<'static, sqlx::Result<()>> {
        let target = self.committed.load(Ordering::Acquire);
        let mut synced = self.synced.clone();
        Box::pin(async move {
            // Until the syncer has passed `target` or failed; its end before either (the
            // writer stopped) is an error too.
            let seen = synced
                .wait_for(|s| !matches!(s, Ok(n) if *n < target))
                .await;
            match seen.as_deref() {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(not_durable(e)),
                Err(_) => Err(sqlx::Error::WorkerCrashed),
            }
        })
    }

    /// Stop the threads once the transactions already queued are done and synced, and
    /// wait until the connection is closed (a restore renames the file next).
    pub fn close(&self) {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner()).take();
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        // The writer first: its end closes the syncer's queue.
        for t in threads {
            let _ = t.join();
        }
    }
}

/// `fdatasync` of the WAL file, opened on first use. The file stays while the writer's
/// connection is open (SQLite removes it only when the last connection closes), and a
/// sync through any descriptor flushes what every descriptor wrote.
fn fdatasync(wal: PathBuf) -> SyncWal {
    let mut file: Option<std::fs::File> = None;
    Box::new(move || {
        if file.is_none() {
            file = Some(std::fs::File::open(&wal)?);
        }
        file.as_ref().expect("opened").sync_data()
    })
}

fn not_durable(why: &str) -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::other(why.to_string()))
}

impl Native {
    fn transaction<R>(&mut self, work: Work<R>) -> sqlx::Result<R> {
        if let Err(e) = &*self.synced.borrow() {
            return Err(not_durable(e));
        }
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(error)?;
        // The statements run as they are called, so the future is ready when polled.
        let done = futures_executor::block_on(work(self));
        let end = match &done {
            Ok(_) => self.conn.execute_batch("COMMIT"),
            Err(_) => self.conn.execute_batch("ROLLBACK"),
        };
        match (done, end) {
            (Ok(v), Ok(())) => {
                let n = self.committed.fetch_add(1, Ordering::AcqRel) + 1;
                // The syncer ends only after this thread: the send cannot fail before.
                let _ = self.to_sync.send(n);
                Ok(v)
            }
            (Ok(_), Err(e)) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(error(e))
            }
            (Err(e), _) => Err(e),
        }
    }

    fn prepare<'s>(
        &'s self,
        sql: &str,
        args: Vec<Arg<'_>>,
    ) -> rusqlite::Result<rusqlite::CachedStatement<'s>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        if stmt.parameter_count() != args.len() {
            return Err(rusqlite::Error::InvalidParameterCount(
                args.len(),
                stmt.parameter_count(),
            ));
        }
        for (i, a) in args.into_iter().enumerate() {
            // `$n` is bound by position: the statements number their parameters in order.
            debug_assert!(stmt
                .parameter_name(i + 1)
                .map_or(true, |n| n == format!("${}", i + 1)));
            match a {
                Arg::Int(v) => stmt.raw_bind_parameter(i + 1, v)?,
                Arg::Text(v) => stmt.raw_bind_parameter(i + 1, v.as_deref())?,
                Arg::Blob(v) => stmt.raw_bind_parameter(i + 1, v)?,
            }
        }
        Ok(stmt)
    }

    fn run_now(&mut self, sql: &str, args: Vec<Arg<'_>>) -> sqlx::Result<u64> {
        let mut stmt = self.prepare(sql, args).map_err(error)?;
        let n = stmt.raw_execute().map_err(error)?;
        Ok(n as u64)
    }

    fn rows(&mut self, sql: &str, args: Vec<Arg<'_>>) -> sqlx::Result<Vec<Row>> {
        use rusqlite::types::ValueRef;
        let mut stmt = self.prepare(sql, args).map_err(error)?;
        let cols = stmt.column_count();
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(error)? {
            let mut values = Vec::with_capacity(cols);
            for i in 0..cols {
                values.push(match row.get_ref(i).map_err(error)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Real(v) => Value::Text(v.to_string()),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                });
            }
            out.push(values);
        }
        Ok(out)
    }
}

impl Exec for Native {
    fn is_sqlite(&self) -> bool {
        true
    }

    fn run<'a>(&'a mut self, sql: &'a str, args: Vec<Arg<'a>>) -> BoxFuture<'a, sqlx::Result<u64>> {
        Box::pin(std::future::ready(self.run_now(sql, args)))
    }

    fn fetch_rows<'a>(
        &'a mut self,
        sql: &'a str,
        args: Vec<Arg<'a>>,
    ) -> BoxFuture<'a, sqlx::Result<Vec<Row>>> {
        Box::pin(std::future::ready(self.rows(sql, args)))
    }
}

/// A native error as sqlx's, keeping what callers test ([`super::is_unique_violation`]).
fn error(e: rusqlite::Error) -> sqlx::Error {
    match e {
        rusqlite::Error::SqliteFailure(f, msg) => sqlx::Error::Database(Box::new(NativeError {
            code: f.extended_code,
            message: msg.unwrap_or_else(|| f.to_string()),
        })),
        other => sqlx::Error::Protocol(other.to_string()),
    }
}

#[derive(Debug)]
struct NativeError {
    code: std::ffi::c_int,
    message: String,
}

impl std::fmt::Display for NativeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for NativeError {}

impl sqlx::error::DatabaseError for NativeError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
        Some(self.code.to_string().into())
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        use rusqlite::ffi;
        use sqlx::error::ErrorKind;
        match self.code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                ErrorKind::UniqueViolation
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer(dir: &Path) -> Writer {
        let path = dir.join("n.db");
        let c = Connection::open(&path).unwrap();
        c.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, data BLOB, n INTEGER)",
        )
        .unwrap();
        drop(c);
        Writer::open(&path).unwrap()
    }

    fn count(dir: &Path) -> i64 {
        Connection::open(dir.join("n.db"))
            .unwrap()
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap()
    }

    /// Statements bind every kind of value and read back what they wrote.
    #[tokio::test]
    async fn a_transaction_writes_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let w = writer(dir.path());
        let got = w
            .transaction(Box::new(|ex: &mut dyn Exec| {
                Box::pin(async move {
                    let n = ex
                        .run(
                            "INSERT INTO t (name, data, n) VALUES ($1, $2, $3)",
                            vec!["a".into(), Arg::Blob(Some(b"xy")), Arg::Int(None)],
                        )
                        .await?;
                    let data = ex
                        .fetch_blob("SELECT data FROM t WHERE name = $1", vec!["a".into()])
                        .await?;
                    let none = ex
                        .fetch_i64("SELECT n FROM t WHERE name = $1", vec!["b".into()])
                        .await?;
                    Ok((n, data, none))
                })
            }))
            .await
            .unwrap();
        assert_eq!(got, (1, Some(b"xy".to_vec()), None));
        assert_eq!(count(dir.path()), 1);
    }

    /// A failing statement rolls the whole transaction back, and a duplicate is reported
    /// as a unique violation (what intake retries on).
    #[tokio::test]
    async fn a_failure_rolls_back_and_names_a_unique_violation() {
        let dir = tempfile::tempdir().unwrap();
        let w = writer(dir.path());
        let err = w
            .transaction(Box::new(|ex: &mut dyn Exec| {
                Box::pin(async move {
                    let sql = "INSERT INTO t (name) VALUES ($1)";
                    ex.run(sql, vec!["a".into()]).await?;
                    ex.run(sql, vec!["a".into()]).await?;
                    Ok(())
                })
            }))
            .await
            .unwrap_err();
        assert!(crate::store::is_unique_violation(&err), "{err:?}");
        assert_eq!(count(dir.path()), 0);
        let err = w
            .transaction(Box::new(|ex: &mut dyn Exec| {
                Box::pin(async move { ex.run("INSERT INTO t (name) VALUES ($1)", vec![]).await })
            }))
            .await
            .unwrap_err();
        assert!(!crate::store::is_unique_violation(&err));
        w.close();
        let stopped = w
            .transaction(Box::new(|ex: &mut dyn Exec| {
                Box::pin(async move { ex.run("SELECT 1", vec![]).await })
            }))
            .await;
        assert!(matches!(stopped, Err(sqlx::Error::PoolClosed)));
    }

    fn insert(ex: &mut dyn Exec) -> BoxFuture<'_, sqlx::Result<u64>> {
        Box::pin(async move { ex.run("INSERT INTO t (name) VALUES (NULL)", vec![]).await })
    }

    /// A transaction is committed (readers see it) before its WAL is synced, and answered
    /// only after: the answer waits for the syncer.
    #[tokio::test]
    async fn the_answer_waits_for_the_wal_sync() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.db");
        writer(dir.path()).close();
        let (gate, opened) = mpsc::channel::<()>();
        let syncs = Arc::new(AtomicU64::new(0));
        let counted = syncs.clone();
        let w = Arc::new(
            Writer::open_with(
                &path,
                Box::new(move || {
                    opened.recv().ok();
                    counted.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                }),
            )
            .unwrap(),
        );
        let w2 = w.clone();
        let waiting = tokio::spawn(async move { w2.transaction(Box::new(insert)).await });
        let unsynced = w.transaction_unsynced(Box::new(insert)).await.unwrap();
        assert_eq!(unsynced, 1);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(count(dir.path()), 2, "both committed");
        assert!(!waiting.is_finished(), "answered before its sync");
        assert_eq!(syncs.load(Ordering::SeqCst), 0);
        let durable = w.durable();
        gate.send(()).unwrap();
        gate.send(()).unwrap();
        assert_eq!(waiting.await.unwrap().unwrap(), 1);
        durable.await.unwrap();
        assert!(syncs.load(Ordering::SeqCst) >= 1);
        drop(gate);
    }

    /// A failed sync fails the callers waiting for it and every later transaction.
    #[tokio::test]
    async fn a_failed_sync_fails_the_waiting_and_every_later_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.db");
        writer(dir.path()).close();
        let w = Writer::open_with(
            &path,
            Box::new(|| Err(std::io::Error::other("disk on fire"))),
        )
        .unwrap();
        let err = w.transaction(Box::new(insert)).await.unwrap_err();
        assert!(err.to_string().contains("disk on fire"), "{err}");
        assert!(w.durable().await.is_err());
        let later = w.transaction_unsynced(Box::new(insert)).await.unwrap_err();
        assert!(later.to_string().contains("disk on fire"), "{later}");
        assert_eq!(count(dir.path()), 1, "the later write was refused");
    }

    /// The real syncer finds the WAL file and syncs it without error.
    #[tokio::test]
    async fn the_real_syncer_opens_and_syncs_the_wal_file() {
        let dir = tempfile::tempdir().unwrap();
        let w = writer(dir.path());
        w.transaction(Box::new(insert)).await.unwrap();
        w.durable().await.unwrap();
        assert!(dir.path().join("n.db-wal").exists());
        w.close();
        assert_eq!(count(dir.path()), 1);
    }
}
