//! The bots' writer on SQLite: pushes arriving together share one transaction and one fsync
//! through the shared group commit ([`crate::store::group`]), each inside its own savepoint,
//! so one failing push never takes the others down. Nothing is answered before the commit.
//! The transaction is one handoff to SQLite's native writer ([`Db::write_tx`]).
//!
//! PostgreSQL does not use this: concurrent transactions there commit in parallel.

use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::store::group::{GroupCommit, WriteBatch};
use crate::store::{Db, Exec};

/// Work run inside the shared transaction, in its own savepoint.
pub type Work<T> =
    Box<dyn for<'c> FnOnce(&'c mut dyn Exec) -> BoxFuture<'c, anyhow::Result<T>> + Send>;

/// Largest number of pushes in one transaction.
const MAX_BATCH: usize = 64;

pub struct Batcher<T> {
    group: GroupCommit<Work<T>, anyhow::Result<T>>,
}

impl<T: Send + 'static> Batcher<T> {
    pub fn start(db: Db) -> Self {
        let write: WriteBatch<Work<T>, anyhow::Result<T>> =
            Arc::new(|db: Db, jobs: Vec<Work<T>>| Box::pin(run_batch(db, jobs)));
        Self {
            group: GroupCommit::start(db, 1, MAX_BATCH, write),
        }
    }

    /// Run `work` in the next batch; its result once the batch is committed.
    pub async fn run(&self, work: Work<T>) -> anyhow::Result<T> {
        self.group
            .run(work)
            .await
            .map_err(|e| anyhow::anyhow!("bot writer: {e}"))?
    }
}

async fn run_batch<T: Send + 'static>(db: Db, jobs: Vec<Work<T>>) -> Vec<anyhow::Result<T>> {
    let n = jobs.len();
    let written = db
        .write_tx(Box::new(move |ex: &mut dyn Exec| {
            Box::pin(async move {
                let mut results = Vec::with_capacity(n);
                for work in jobs {
                    ex.run("SAVEPOINT push", vec![]).await?;
                    let result = work(&mut *ex).await;
                    if result.is_err() {
                        ex.run("ROLLBACK TO SAVEPOINT push", vec![]).await?;
                    }
                    ex.run("RELEASE SAVEPOINT push", vec![]).await?;
                    results.push(result);
                }
                Ok(results)
            })
        }))
        .await;
    match written {
        Ok(results) => results,
        Err(e) => (0..n)
            .map(|_| Err(anyhow::anyhow!("bot writer: {e}")))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pushes of one batch share the native writer's transaction; the one that fails is
    /// rolled back to its savepoint and the others are kept.
    #[tokio::test]
    async fn a_failing_push_leaves_the_others_of_its_batch_written() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("b.db").display());
        let db = Db::connect(&url, 2).await.unwrap();
        sqlx::query("CREATE TABLE t (v INTEGER NOT NULL)")
            .execute(&db.pool)
            .await
            .unwrap();
        let batcher = Arc::new(Batcher::<i64>::start(db.clone()));
        let calls: Vec<_> = (1..=20i64)
            .map(|v| {
                let b = batcher.clone();
                tokio::spawn(async move {
                    let work: Work<i64> = Box::new(move |ex: &mut dyn Exec| {
                        Box::pin(async move {
                            ex.run("INSERT INTO t (v) VALUES ($1)", vec![v.into()])
                                .await?;
                            anyhow::ensure!(v != 7, "push {v} fails after its insert");
                            Ok(v)
                        })
                    });
                    b.run(work).await
                })
            })
            .collect();
        for (i, c) in calls.into_iter().enumerate() {
            let got = c.await.unwrap();
            match i + 1 {
                7 => assert!(got.is_err()),
                v => assert_eq!(got.unwrap(), v as i64),
            }
        }
        let stored: Vec<i64> = sqlx::query_scalar("SELECT v FROM t ORDER BY v")
            .fetch_all(&db.pool)
            .await
            .unwrap();
        let expected: Vec<i64> = (1..=20).filter(|v| *v != 7).collect();
        assert_eq!(stored, expected);
        db.close().await;
    }
}
