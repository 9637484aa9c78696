//! The bots' writer on SQLite: pushes arriving together share one transaction and one fsync
//! through the shared group commit ([`crate::store::group`]), each inside its own savepoint,
//! so one failing push never takes the others down. Nothing is answered before the commit.
//!
//! PostgreSQL does not use this: concurrent transactions there commit in parallel.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use sqlx::{Acquire, AnyConnection};

use crate::store::group::{GroupCommit, WriteBatch};
use crate::store::Db;

/// Work run inside the shared transaction, in its own savepoint.
pub type Work<T> =
    Box<dyn for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, anyhow::Result<T>> + Send>;

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

async fn run_batch<T>(db: Db, jobs: Vec<Work<T>>) -> Vec<anyhow::Result<T>> {
    let n = jobs.len();
    let fail_all = |msg: String| (0..n).map(|_| Err(anyhow::anyhow!("{msg}"))).collect();
    let mut tx = match db.begin().await {
        Ok(tx) => tx,
        Err(e) => return fail_all(format!("begin: {e}")),
    };
    let mut results = Vec::with_capacity(n);
    for work in jobs {
        let result = async {
            let mut sp = (&mut tx).begin().await?;
            match work(&mut sp).await {
                Ok(v) => {
                    sp.commit().await?;
                    Ok(v)
                }
                Err(e) => {
                    let _ = sp.rollback().await;
                    Err(e)
                }
            }
        }
        .await;
        results.push(result);
    }
    match tx.commit().await {
        Ok(()) => results,
        Err(e) => fail_all(format!("commit: {e}")),
    }
}
