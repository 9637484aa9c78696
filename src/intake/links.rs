//! Related tips are found after a tip is stored, never while it is stored (issue 18): the
//! intake transaction queues one [`RelatedJob`] per new tip, in one multi-row statement of
//! the batch, and the outbox worker computes the links (`workflow::related`). A failure
//! there is retried with backoff and logged with the tip id only; intake never waits for
//! it and never fails because of it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::notify::{Job, NewJob, Retry};
use crate::store;

/// The `related_tips` job: find the tips related to `report_id` and its triage.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RelatedJob {
    pub report_id: String,
}

impl Job for RelatedJob {
    const KIND: &'static str = "related_tips";
    /// Tried for about a day with the configured backoff, then dead-lettered where an
    /// admin sees it (and can retry it).
    const RETRY: Retry = Retry::Attempts(16);
    fn dedupe_key(&self) -> Option<String> {
        Some(format!("related:{}", self.report_id))
    }
}

/// Queue the job of each new tip in the intake transaction.
pub async fn enqueue(
    ex: &mut dyn store::Exec,
    report_ids: &[&str],
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let jobs: Vec<NewJob> = report_ids
        .iter()
        .map(|id| {
            NewJob::of(&RelatedJob {
                report_id: id.to_string(),
            })
        })
        .collect();
    let at = store::ts(at);
    store::insert_rows(
        ex,
        "INSERT INTO jobs (kind, payload, dedupe_key, priority, run_at, max_attempts, created_at) VALUES",
        7,
        &jobs,
        |v, j| {
            v.extend([
                j.kind.into(),
                j.payload.to_string().into(),
                j.dedupe_key.clone().into(),
                j.priority.into(),
                at.clone().into(),
                j.max_attempts
                    .unwrap_or(crate::notify::DEFAULT_MAX_ATTEMPTS)
                    .into(),
                at.clone().into(),
            ])
        },
    )
    .await
}
