//! The statements intake writes, independent of the driver that runs them.
//!
//! [`Exec`] runs one statement with [`Arg`] values. It is implemented for sqlx's `Any`
//! connections and transactions (both databases) and for SQLite's native writer
//! ([`super::native`]), so the rules of what a tip writes are written once and run on
//! either. Parameters are numbered (`$1`, `$2`, …) in the order they appear, each once;
//! multi-row inserts are built by [`super::insert_rows`].

use std::borrow::Cow;

use futures_util::future::BoxFuture;
use sqlx::{AnyConnection, Transaction};

/// One bound value. `None` is SQL `NULL` of the value's type (PostgreSQL checks it).
#[derive(Debug, Clone)]
pub enum Arg<'a> {
    Int(Option<i64>),
    Text(Option<Cow<'a, str>>),
    Blob(Option<&'a [u8]>),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(Some(Cow::Borrowed(v)))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(Some(Cow::Borrowed(v.as_str())))
    }
}

impl From<String> for Arg<'_> {
    fn from(v: String) -> Self {
        Arg::Text(Some(Cow::Owned(v)))
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Arg::Text(v.map(Cow::Borrowed))
    }
}

impl From<Option<String>> for Arg<'_> {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v.map(Cow::Owned))
    }
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}

impl<'a> From<&'a [u8]> for Arg<'a> {
    fn from(v: &'a [u8]) -> Self {
        Arg::Blob(Some(v))
    }
}

impl<'a> From<&'a Vec<u8>> for Arg<'a> {
    fn from(v: &'a Vec<u8>) -> Self {
        Arg::Blob(Some(v.as_slice()))
    }
}

impl<'a> From<Option<&'a [u8]>> for Arg<'a> {
    fn from(v: Option<&'a [u8]>) -> Self {
        Arg::Blob(v)
    }
}

/// One column of a row read by [`Exec::fetch_rows`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

impl Value {
    pub fn int(&self) -> Option<i64> {
        match self {
            Value::Int(v) => Some(*v),
            _ => None,
        }
    }

    /// The text, taken out of the row.
    pub fn take_text(&mut self) -> Option<String> {
        match std::mem::replace(self, Value::Null) {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The bytes, taken out of the row.
    pub fn take_blob(&mut self) -> Option<Vec<u8>> {
        match std::mem::replace(self, Value::Null) {
            Value::Blob(b) => Some(b),
            _ => None,
        }
    }
}

/// A row of [`Exec::fetch_rows`], one [`Value`] per column.
pub type Row = Vec<Value>;

/// Runs statements in one connection or transaction.
pub trait Exec: Send {
    /// SQLite (anonymous `?` for multi-row inserts: [`super::insert_rows`]) or PostgreSQL.
    fn is_sqlite(&self) -> bool;

    /// Run `sql`; the number of rows it changed.
    fn run<'a>(&'a mut self, sql: &'a str, args: Vec<Arg<'a>>) -> BoxFuture<'a, sqlx::Result<u64>>;

    /// Run `sql` and read every row (integers, text, bytes or `NULL` in each column).
    fn fetch_rows<'a>(
        &'a mut self,
        sql: &'a str,
        args: Vec<Arg<'a>>,
    ) -> BoxFuture<'a, sqlx::Result<Vec<Row>>>;

    /// Run `sql` and read the integer in the first column of its first row, if any.
    /// Insert rows of `cols` values each (`args`, row after row); `head` is the statement
    /// up to and including `VALUES`. Here: multi-row `VALUES` statements, in power-of-two
    /// chunks so that their shapes (and prepared statements) stay few.
    fn insert_values<'a>(
        &'a mut self,
        head: &'static str,
        cols: usize,
        args: Vec<Arg<'a>>,
    ) -> BoxFuture<'a, sqlx::Result<()>> {
        Box::pin(async move {
            let sqlite = self.is_sqlite();
            let cols = cols.max(1);
            let mut left = args.len() / cols;
            let mut args = args.into_iter();
            while left > 0 {
                let n = super::chunk_len(left);
                let chunk: Vec<Arg<'a>> = args.by_ref().take(n * cols).collect();
                self.run(super::values_sql(head, cols, n, sqlite), chunk)
                    .await?;
                left -= n;
            }
            Ok(())
        })
    }

    fn fetch_i64<'a>(
        &'a mut self,
        sql: &'a str,
        args: Vec<Arg<'a>>,
    ) -> BoxFuture<'a, sqlx::Result<Option<i64>>> {
        Box::pin(async move {
            let rows = self.fetch_rows(sql, args).await?;
            Ok(rows.first().and_then(|r| r.first()).and_then(Value::int))
        })
    }

    /// Run `sql` and read the bytes in the first column of its first row, if any.
    fn fetch_blob<'a>(
        &'a mut self,
        sql: &'a str,
        args: Vec<Arg<'a>>,
    ) -> BoxFuture<'a, sqlx::Result<Option<Vec<u8>>>> {
        Box::pin(async move {
            let mut rows = self.fetch_rows(sql, args).await?;
            Ok(rows
                .first_mut()
                .and_then(|r| r.first_mut())
                .and_then(Value::take_blob))
        })
    }
}

/// A pool row as [`Value`]s: each column read as the first of integer, text or bytes that
/// its type decodes to.
fn any_row(row: &sqlx::any::AnyRow) -> sqlx::Result<Row> {
    use sqlx::Row as _;
    (0..row.len())
        .map(|i| {
            if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
                return Ok(v.map_or(Value::Null, Value::Int));
            }
            if let Ok(v) = row.try_get::<Option<String>, _>(i) {
                return Ok(v.map_or(Value::Null, Value::Text));
            }
            let v = row.try_get::<Option<Vec<u8>>, _>(i)?;
            Ok(v.map_or(Value::Null, Value::Blob))
        })
        .collect()
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Bind `args` in order.
fn bind_all<'q>(mut q: AnyQuery<'q>, args: Vec<Arg<'q>>) -> AnyQuery<'q> {
    for a in args {
        q = match a {
            Arg::Int(v) => q.bind(v),
            Arg::Text(Some(Cow::Borrowed(s))) => q.bind(s),
            Arg::Text(Some(Cow::Owned(s))) => q.bind(s),
            Arg::Text(None) => q.bind(None::<&str>),
            Arg::Blob(v) => q.bind(v),
        };
    }
    q
}

impl Exec for AnyConnection {
    fn is_sqlite(&self) -> bool {
        self.backend_name() == "SQLite"
    }

    fn run<'a>(&'a mut self, sql: &'a str, args: Vec<Arg<'a>>) -> BoxFuture<'a, sqlx::Result<u64>> {
        Box::pin(async move {
            let r = bind_all(sqlx::query(sql), args).execute(self).await?;
            Ok(r.rows_affected())
        })
    }

    fn fetch_rows<'a>(
        &'a mut self,
        sql: &'a str,
        args: Vec<Arg<'a>>,
    ) -> BoxFuture<'a, sqlx::Result<Vec<Row>>> {
        Box::pin(async move {
            let rows = bind_all(sqlx::query(sql), args).fetch_all(self).await?;
            rows.iter().map(any_row).collect()
        })
    }
}

/// The pool's wrappers of a connection (a transaction, a checked-out connection) run
/// statements on the connection they wrap.
macro_rules! exec_through_deref {
    ($($t:ty),*) => {$(
        impl Exec for $t {
            fn is_sqlite(&self) -> bool {
                Exec::is_sqlite(&**self)
            }

            fn run<'a>(
                &'a mut self,
                sql: &'a str,
                args: Vec<Arg<'a>>,
            ) -> BoxFuture<'a, sqlx::Result<u64>> {
                Exec::run(&mut **self, sql, args)
            }

            fn fetch_rows<'a>(
                &'a mut self,
                sql: &'a str,
                args: Vec<Arg<'a>>,
            ) -> BoxFuture<'a, sqlx::Result<Vec<Row>>> {
                Exec::fetch_rows(&mut **self, sql, args)
            }
        }
    )*};
}

exec_through_deref!(
    Transaction<'_, sqlx::Any>,
    sqlx::pool::PoolConnection<sqlx::Any>
);
