//! SQLite's native writer: one thread that owns one connection of SQLite's own driver
//! (`rusqlite`, on the same bundled `libsqlite3-sys` as sqlx) with prepared statements, and
//! runs a whole transaction per message.
//!
//! Through sqlx every statement is a message to the connection's worker thread and its
//! answer a message back: two thread switches per statement, most of the CPU time of a
//! batch of tips (docs/BENCHMARKS.md). Here a group-commit batch is one message: the
//! writer runs the batch's statements itself and answers once, after the fsynced commit.
//!
//! The statements are the same ones the pool runs ([`Exec`]), so what a tip writes is
//! written once for both drivers and both databases. Only [`super::Db::write_tx`] uses
//! this; reads and the other writers stay on the pool.

use std::path::Path;
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use super::exec::{Arg, Exec, Row, Value};

/// A transaction's statements, run on the writer's connection.
pub type Work<R> =
    Box<dyn for<'c> FnOnce(&'c mut dyn Exec) -> BoxFuture<'c, sqlx::Result<R>> + Send>;

type Job = Box<dyn FnOnce(&mut Native) + Send>;

/// The handle of the writer thread; the thread ends when the handle is closed or dropped.
pub struct Writer {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// The writer's connection.
pub struct Native {
    conn: Connection,
}

impl Writer {
    /// Open `path` (created by the pool already) with the pool's settings and start the
    /// writer thread.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.execute_batch(super::SQLITE_PRAGMAS)?;
        // Enough for every shape of intake's multi-row inserts (tables × chunk sizes).
        conn.set_prepared_statement_cache_capacity(256);
        let mut native = Native { conn };
        let (jobs, rx) = mpsc::channel::<Job>();
        // A transaction's work may await the vault (a key it has not cached): it runs
        // inside the service's runtime, though never on one of its threads.
        let runtime = tokio::runtime::Handle::try_current().ok();
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                let _runtime = runtime.as_ref().map(|r| r.enter());
                for job in rx {
                    job(&mut native);
                }
            })?;
        Ok(Self {
            jobs: Mutex::new(Some(jobs)),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Run `work` in one transaction (`BEGIN IMMEDIATE` … `COMMIT`) on the writer; rolled
    /// back when it fails. Answered after the commit.
    pub async fn transaction<R: Send + 'static>(&self, work: Work<R>) -> sqlx::Result<R> {
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

    /// Stop the thread once the transactions already queued are done, and wait until its
    /// connection is closed (a restore renames the file next).
    pub fn close(&self) {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner()).take();
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

impl Native {
    fn transaction<R>(&mut self, work: Work<R>) -> sqlx::Result<R> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(error)?;
        // The statements run as they are called, so the future is ready when polled.
        let done = futures_executor::block_on(work(self));
        let end = match &done {
            Ok(_) => self.conn.execute_batch("COMMIT"),
            Err(_) => self.conn.execute_batch("ROLLBACK"),
        };
        match (done, end) {
            (Ok(v), Ok(())) => Ok(v),
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
}
