//! Reads are audited too (`case.view`, `evidence.download`, `export.ledger`): who opened
//! which case, when. A read waits for its entry to be written, so nothing is shown that
//! the log does not hold; the entries of reads that arrive together share one transaction
//! and one turn of the chain lock ([`GroupCommit`]), so reading stays fast when many staff
//! read at once.

use std::sync::Arc;

use serde_json::Value;

use super::{append, lock, Actor, Entry, Outcome};
use crate::store::group::GroupCommit;
use crate::store::Db;
use crate::vault::AuditKey;

/// One read to audit.
pub struct Read {
    pub actor: Actor,
    /// `case.view`, `evidence.download` or `export.ledger`.
    pub action: &'static str,
    pub report_id: Option<String>,
    pub detail: Value,
}

/// The read log of one instance: a group-commit writer in front of the chain.
#[derive(Clone)]
pub struct ReadLog(Arc<GroupCommit<Read, Result<(), String>>>);

/// Most reads one transaction takes.
const BATCH: usize = 256;

impl ReadLog {
    pub fn start(db: Db, key: Arc<AuditKey>) -> Self {
        let write = Arc::new(move |db: Db, reads: Vec<Read>| {
            let key = key.clone();
            Box::pin(async move {
                let n = reads.len();
                let result = write_batch(&db, &key, &reads).await;
                vec![result.map_err(|e| e.to_string()); n]
            }) as futures_util::future::BoxFuture<'static, Vec<Result<(), String>>>
        });
        Self(Arc::new(GroupCommit::start(db, 1, BATCH, write)))
    }

    /// Write the entry for `read`; returns once it is committed.
    pub async fn record(&self, read: Read) -> anyhow::Result<()> {
        self.0
            .run(read)
            .await?
            .map_err(|e| anyhow::anyhow!("auditing a read: {e}"))
    }
}

async fn write_batch(db: &Db, key: &AuditKey, reads: &[Read]) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    lock(&mut tx).await?;
    for r in reads {
        append(
            &mut tx,
            key,
            &Entry {
                actor: &r.actor,
                action: r.action,
                outcome: Outcome::Ok,
                report_id: r.report_id.as_deref(),
                detail: r.detail.clone(),
            },
        )
        .await?;
    }
    tx.commit().await
}
