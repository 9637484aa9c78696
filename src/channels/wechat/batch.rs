//! Group commit for bot pushes on SQLite. SQLite has one writer and every commit is fsynced
//! (`synchronous=FULL`), so one transaction per push caps the bot at one fsync per push.
//! Here pushes arriving together share one transaction and one fsync, each inside its own
//! savepoint, so one failing push never takes the others down (the same scheme as the
//! intake committer). Nothing is answered before the commit returns.
//!
//! PostgreSQL does not use this: concurrent transactions there commit in parallel.

use futures_util::future::BoxFuture;
use sqlx::{Acquire, AnyConnection};
use tokio::sync::{mpsc, oneshot};

use crate::store::Db;

/// Work run inside the shared transaction, in its own savepoint.
pub type Work<T> =
    Box<dyn for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, anyhow::Result<T>> + Send>;

struct Job<T> {
    work: Work<T>,
    done: oneshot::Sender<anyhow::Result<T>>,
}

/// Largest number of pushes in one transaction.
const MAX_BATCH: usize = 64;

pub struct Batcher<T> {
    queue: mpsc::Sender<Job<T>>,
}

impl<T: Send + 'static> Batcher<T> {
    pub fn start(db: Db) -> Self {
        let (queue, rx) = mpsc::channel(1024);
        tokio::spawn(writer(db, rx));
        Self { queue }
    }

    /// Run `work` in the next batch; its result once the batch is committed.
    pub async fn run(&self, work: Work<T>) -> anyhow::Result<T> {
        let (done, wait) = oneshot::channel();
        self.queue
            .send(Job { work, done })
            .await
            .map_err(|_| anyhow::anyhow!("bot writer stopped"))?;
        wait.await
            .map_err(|_| anyhow::anyhow!("bot writer dropped a push"))?
    }
}

async fn writer<T: Send + 'static>(db: Db, mut rx: mpsc::Receiver<Job<T>>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        run_batch(&db, jobs).await;
    }
}

async fn run_batch<T>(db: &Db, jobs: Vec<Job<T>>) {
    let mut tx = match db.begin().await {
        Ok(tx) => tx,
        Err(e) => {
            let msg = format!("{e}");
            for j in jobs {
                let _ = j.done.send(Err(anyhow::anyhow!("begin: {msg}")));
            }
            return;
        }
    };
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        let result = async {
            let mut sp = (&mut tx).begin().await?;
            match (job.work)(&mut sp).await {
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
        results.push((job.done, result));
    }
    match tx.commit().await {
        Ok(()) => {
            for (done, r) in results {
                let _ = done.send(r);
            }
        }
        Err(e) => {
            let msg = format!("{e}");
            for (done, _) in results {
                let _ = done.send(Err(anyhow::anyhow!("commit: {msg}")));
            }
        }
    }
}
