//! Group commit: the one mechanism behind the intake writer and the bots' writer.
//!
//! Callers queue a job and wait. A writer task takes everything waiting (up to a maximum),
//! hands the batch to the owner's `write` function, which writes it in **one** transaction
//! (one fsync on SQLite, which has a single writer), and only then answers each caller with
//! its own result, in order. Nobody is answered before the commit is on disk, so an
//! acknowledged write is durable. On SQLite the batch's fsync runs behind the writer
//! ([`super::native`]): the answers wait for it while the next batch is written. How a
//! batch is written (multi-row statements, one savepoint per job so one failure does not
//! take the others down) is the owner's; the queue, the batching and the answering are
//! here.
//!
//! Every instance has its own writers; nothing here is state another instance needs.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio::sync::{mpsc, oneshot, Mutex};

use super::Db;

/// Writes one batch and returns one result per job, in the jobs' order.
pub type WriteBatch<J, R> = Arc<dyn Fn(Db, Vec<J>) -> BoxFuture<'static, Vec<R>> + Send + Sync>;

/// Why a job has no result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GroupError {
    /// The writer has stopped (the service is shutting down): the job was not written.
    #[error("the group-commit writer has stopped")]
    Stopped,
    /// The batch was committed but could not be made durable: it may or may not be kept.
    #[error("the write could not be made durable: {0}")]
    NotDurable(String),
}

type Queued<J, R> = (J, oneshot::Sender<Result<R, GroupError>>);

/// A queue of jobs written in shared transactions by `writers` tasks.
pub struct GroupCommit<J, R> {
    queue: mpsc::Sender<Queued<J, R>>,
}

impl<J: Send + 'static, R: Send + 'static> GroupCommit<J, R> {
    /// Start `writers` writer tasks (at least one), each taking up to `max_batch` jobs.
    pub fn start(db: Db, writers: usize, max_batch: usize, write: WriteBatch<J, R>) -> Self {
        let (queue, rx) = mpsc::channel::<Queued<J, R>>(4096);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..writers.max(1) {
            let (db, rx, write) = (db.clone(), rx.clone(), write.clone());
            tokio::spawn(async move {
                loop {
                    let batch = {
                        let mut rx = rx.lock().await;
                        let Some(first) = rx.recv().await else { return };
                        let mut batch = vec![first];
                        while batch.len() < max_batch.max(1) {
                            match rx.try_recv() {
                                Ok(job) => batch.push(job),
                                Err(_) => break,
                            }
                        }
                        batch
                    };
                    if batch.len() > 1 {
                        db.mark_busy();
                    }
                    let (jobs, answers): (Vec<J>, Vec<oneshot::Sender<_>>) =
                        batch.into_iter().unzip();
                    // SQLite: the batch is written in this process's turn (Db::write_turn).
                    let turn = db.write_turn().await;
                    let results = write(db.deferring_sync(), jobs).await;
                    drop(turn);
                    let durable = db.durable();
                    let answer = async move {
                        let synced = durable.await.map_err(|e| e.to_string());
                        for (answer, result) in answers.into_iter().zip(results) {
                            let _ = answer.send(match &synced {
                                Ok(()) => Ok(result),
                                Err(why) => Err(GroupError::NotDurable(why.clone())),
                            });
                        }
                    };
                    if db.syncs_behind() {
                        // Answered once on disk; meanwhile the next batch is written.
                        tokio::spawn(answer);
                    } else {
                        answer.await;
                    }
                }
            });
        }
        Self { queue }
    }

    /// Queue `job`; its result once its batch is committed (or has failed).
    pub async fn run(&self, job: J) -> Result<R, GroupError> {
        let (answer, wait) = oneshot::channel();
        let queued = self.queue.send((job, answer)).await;
        queued.map_err(|_| GroupError::Stopped)?;
        wait.await.map_err(|_| GroupError::Stopped)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn db(dir: &std::path::Path) -> Db {
        let url = format!("sqlite://{}?mode=rwc", dir.join("g.db").display());
        let db = Db::connect(&url, 4).await.unwrap();
        sqlx::query("CREATE TABLE t (v INTEGER NOT NULL)")
            .execute(&db.pool)
            .await
            .unwrap();
        db
    }

    /// Jobs queued together come back each with its own answer, after one shared write.
    #[tokio::test]
    async fn each_caller_gets_its_own_result_after_the_batch_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let db = db(dir.path()).await;
        let write: WriteBatch<i64, (i64, usize)> = Arc::new(|db: Db, jobs: Vec<i64>| {
            Box::pin(async move {
                let mut tx = db.begin().await.unwrap();
                for v in &jobs {
                    sqlx::query("INSERT INTO t (v) VALUES ($1)")
                        .bind(v)
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                }
                tx.commit().await.unwrap();
                let n = jobs.len();
                jobs.into_iter().map(|v| (v * 10, n)).collect()
            })
        });
        let g = Arc::new(GroupCommit::start(db.clone(), 1, 64, write));
        let calls: Vec<_> = (1..=50)
            .map(|v| {
                let g = g.clone();
                tokio::spawn(async move { g.run(v).await.unwrap() })
            })
            .collect();
        let mut largest = 0;
        for (i, c) in calls.into_iter().enumerate() {
            let (got, batch) = c.await.unwrap();
            assert_eq!(got, (i as i64 + 1) * 10);
            largest = largest.max(batch);
        }
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(stored, 50);
        assert!((1..=64).contains(&largest));
    }
}
