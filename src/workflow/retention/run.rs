//! The retention run: `jubao retention run [--dry-run]` and the daily job.
//!
//! 1. Every ended case not yet fully purged, in batches by id: each due stage is purged in
//!    a transaction of its own (hold and earlier purges re-checked inside it, after the
//!    audit lock), recorded in `retention_purges` and audited with the kinds of data that
//!    went. A run stopped half-way resumes where it stopped: what was purged stays purged.
//!    The keys of an ended case not yet due are wrapped for the day before their purge day:
//!    a backup then opens them until that day, and not after.
//! 2. Every live case key that the chain would pass today is re-wrapped for the horizon
//!    (held cases, cases still open).
//! 3. The shred chain moves to today ([`crate::vault::Shredder::advance`]).
//!
//! `--dry-run` counts what steps 1 and 2 would do and writes nothing.

use std::sync::Arc;

use chrono::{Days, NaiveDate};
use futures_util::future::BoxFuture;
use serde::Serialize;

use super::{case_end, RetentionPolicies};
use crate::audit::{self, Actor, Entry, Outcome};
use crate::deadlines::calendar::shanghai_date;
use crate::store::{self, Tx};
use crate::vault::{CaseKeyKind, ShredError, Vault};
use crate::workflow::Workflow;

/// What a run did (or, dry, would do). Counts only.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct RunReport {
    pub dry_run: bool,
    pub today: String,
    /// Ended or ending cases looked at.
    pub cases: u64,
    pub purged_identity: u64,
    pub purged_sanitized: u64,
    /// Due, but under a legal hold.
    pub held: u64,
    /// Not ended yet (an open clock, a reward to claim or pay) or no policy covers it.
    pub waiting: u64,
    pub rewrapped: u64,
    /// Live keys found wrapped for a day the chain has already passed (rows of a restored
    /// older backup): they open nothing any more and are marked shredded.
    pub keys_passed: u64,
    /// The shred chain's new day, when it moved.
    pub chain_moved_to: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Identity,
    Sanitized,
}

impl Stage {
    fn code(self) -> &'static str {
        match self {
            Stage::Identity => "identity",
            Stage::Sanitized => "sanitized",
        }
    }

    fn key(self) -> CaseKeyKind {
        match self {
            Stage::Identity => CaseKeyKind::Identity,
            Stage::Sanitized => CaseKeyKind::Sanitized,
        }
    }
}

/// Run the purge as of `today`.
pub async fn run(
    wf: &Workflow,
    vault: &Vault,
    policies: &RetentionPolicies,
    today: NaiveDate,
    dry_run: bool,
) -> anyhow::Result<RunReport> {
    let mut report = RunReport {
        dry_run,
        today: today.to_string(),
        ..RunReport::default()
    };
    let batch = i64::from(wf.config.retention.batch.max(1));
    let mut after = String::new();
    loop {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT r.id FROM reports r WHERE r.is_open = 0 AND r.id > $1 AND NOT EXISTS \
             (SELECT 1 FROM retention_purges p WHERE p.report_id = r.id AND p.stage = 'sanitized') \
             ORDER BY r.id LIMIT $2",
        )
        .bind(&after)
        .bind(batch)
        .fetch_all(&wf.db.pool)
        .await?;
        let Some(last) = ids.last() else { break };
        after = last.clone();
        for id in ids {
            report.cases += 1;
            one_case(wf, vault, policies, today, dry_run, &id, &mut report).await?;
        }
    }
    rewrap_passing(vault, today, dry_run, batch, &mut report).await?;
    if !dry_run {
        if let Some(shred) = vault.shredder() {
            if shred.advance(&wf.db, today).await? {
                report.chain_moved_to = Some(today.to_string());
            }
        }
        // Each purge has its own entry; the run's summary is written when it did anything.
        let did = report.purged_identity
            + report.purged_sanitized
            + report.rewrapped
            + report.keys_passed
            > 0
            || report.chain_moved_to.is_some();
        if did {
            audit::append_alone(
                &wf.db,
                &wf.audit,
                &Entry::ok(
                    &Actor::system(),
                    "retention.run",
                    serde_json::to_value(&report)?,
                ),
            )
            .await?;
        }
    }
    Ok(report)
}

async fn one_case(
    wf: &Workflow,
    vault: &Vault,
    policies: &RetentionPolicies,
    today: NaiveDate,
    dry_run: bool,
    id: &str,
    report: &mut RunReport,
) -> anyhow::Result<()> {
    let Some(end) = case_end(&wf.db.pool, id).await? else {
        return Ok(());
    };
    let Some(ended) = end.ended_on() else {
        report.waiting += 1;
        return Ok(());
    };
    let Some(policy) = policies.select(&end.region, ended) else {
        report.waiting += 1;
        return Ok(());
    };
    let days = policy.purge_days(ended);
    let purged: Vec<String> =
        sqlx::query_scalar("SELECT stage FROM retention_purges WHERE report_id = $1")
            .bind(id)
            .fetch_all(&wf.db.pool)
            .await?;
    let label = policy.label();
    for (stage, on) in [
        (Stage::Identity, days.identity_on),
        (Stage::Sanitized, days.sanitized_on),
    ] {
        if purged.iter().any(|s| s == stage.code()) {
            continue;
        }
        if on > today {
            if !dry_run {
                settle(vault, id, stage.key(), on).await?;
            }
            continue;
        }
        if held(&wf.db.pool, id).await? {
            report.held += 1;
            return Ok(());
        }
        if dry_run || purge(wf, vault, id, stage, &label).await? {
            match stage {
                Stage::Identity => report.purged_identity += 1,
                Stage::Sanitized => report.purged_sanitized += 1,
            }
        } else {
            report.held += 1;
            return Ok(());
        }
    }
    Ok(())
}

async fn held(
    exec: impl sqlx::Executor<'_, Database = sqlx::Any>,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM legal_holds WHERE report_id = $1 AND lifted_at IS NULL",
    )
    .bind(id)
    .fetch_one(exec)
    .await?;
    Ok(n > 0)
}

/// Wrap the key of an ended case that is not yet due for the day before its purge day
/// (`purge_on` is after today), unless it already is.
async fn settle(
    vault: &Vault,
    id: &str,
    kind: CaseKeyKind,
    purge_on: NaiveDate,
) -> anyhow::Result<()> {
    if vault.shredder().is_none() {
        return Ok(());
    }
    let Some(last_day) = purge_on.checked_sub_days(Days::new(1)) else {
        return Ok(());
    };
    let epoch: Option<String> = sqlx::query_scalar(
        "SELECT epoch FROM case_keys WHERE report_id = $1 AND kind = $2 AND wrapped IS NOT NULL",
    )
    .bind(id)
    .bind(kind.as_str())
    .fetch_optional(&vault.db().pool)
    .await?;
    if let Some(epoch) = epoch.filter(|e| *e != last_day.to_string()) {
        vault.rewrap_case_key(id, kind, &epoch, last_day).await?;
    }
    Ok(())
}

/// Purge one stage of one case; `false` when a hold (placed meanwhile) or an earlier run
/// got there first.
async fn purge(
    wf: &Workflow,
    vault: &Vault,
    id: &str,
    stage: Stage,
    policy: &str,
) -> anyhow::Result<bool> {
    let mut tx = wf.db.begin().await?;
    audit::lock(&mut tx).await?;
    if held(&mut *tx, id).await? {
        return Ok(false);
    }
    let done: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM retention_purges WHERE report_id = $1 AND stage = $2",
    )
    .bind(id)
    .bind(stage.code())
    .fetch_one(&mut *tx)
    .await?;
    if done > 0 {
        return Ok(false);
    }
    vault.shred_case_key(&mut tx, id, stage.key()).await?;
    let kinds = match stage {
        Stage::Identity => purge_identity(&mut tx, id).await?,
        Stage::Sanitized => {
            let n = delete_blobs(&mut tx, id, "working").await?;
            if n > 0 {
                vec!["sanitized_evidence"]
            } else {
                vec![]
            }
        }
    };
    sqlx::query(
        "INSERT INTO retention_purges (report_id, stage, policy, purged_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(stage.code())
    .bind(policy)
    .bind(store::ts(wf.db.now()))
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &wf.audit,
        &Entry {
            actor: &Actor::system(),
            action: "retention.purge",
            outcome: Outcome::Ok,
            report_id: Some(id),
            detail: serde_json::json!({ "stage": stage.code(), "policy": policy, "purged": kinds }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// The identity stage: identity fields and their blind index, the claim verifier, the
/// hotline call id, chat user digests, the client digest, evidence originals. Returns the
/// kinds of data there were.
async fn purge_identity(tx: &mut Tx<'_>, id: &str) -> anyhow::Result<Vec<&'static str>> {
    let mut kinds = vec![];
    let exec = |sql: &'static str| sqlx::query(sql).bind(id.to_string());
    if exec("DELETE FROM identity_index WHERE report_id = $1")
        .execute(&mut **tx)
        .await?
        .rows_affected()
        + exec("DELETE FROM reporter_identity WHERE report_id = $1")
            .execute(&mut **tx)
            .await?
            .rows_affected()
        > 0
    {
        kinds.push("identity");
    }
    if exec("DELETE FROM claim_verifiers WHERE report_id = $1")
        .execute(&mut **tx)
        .await?
        .rows_affected()
        > 0
    {
        kinds.push("claim_verifier");
    }
    let calls = sqlx::query("UPDATE hotline_calls SET call_id = $1 WHERE report_id = $2")
        .bind(format!("purged:{id}"))
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    let chats = exec(
        "UPDATE notice_deliveries SET user_digest = NULL WHERE report_id = $1 \
         AND user_digest IS NOT NULL",
    )
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if calls + chats > 0 {
        kinds.push("chat_and_call_ids");
    }
    exec("UPDATE reports SET client_digest = NULL WHERE id = $1")
        .execute(&mut **tx)
        .await?;
    if delete_blobs(tx, id, "original").await? > 0 {
        kinds.push("evidence_originals");
    }
    Ok(kinds)
}

async fn delete_blobs(tx: &mut Tx<'_>, id: &str, variant: &str) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "DELETE FROM evidence_blobs WHERE variant = $1 AND evidence_id IN \
         (SELECT e.id FROM evidence e WHERE e.report_id = $2)",
    )
    .bind(variant)
    .bind(id)
    .execute(&mut **tx)
    .await?
    .rows_affected())
}

/// Step 2: re-wrap every live key the chain would pass today.
async fn rewrap_passing(
    vault: &Vault,
    today: NaiveDate,
    dry_run: bool,
    batch: i64,
    report: &mut RunReport,
) -> anyhow::Result<()> {
    let Some(shred) = vault.shredder() else {
        return Ok(());
    };
    let sql = "SELECT report_id, kind, epoch FROM case_keys WHERE wrapped IS NOT NULL \
               AND epoch < $1 ORDER BY report_id, kind LIMIT $2";
    if dry_run {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM case_keys WHERE wrapped IS NOT NULL AND epoch < $1",
        )
        .bind(today.to_string())
        .fetch_one(&vault.db().pool)
        .await?;
        report.rewrapped = n as u64;
        return Ok(());
    }
    let to = shred.new_epoch(today);
    loop {
        let rows: Vec<(String, String, String)> = sqlx::query_as(sql)
            .bind(today.to_string())
            .bind(batch)
            .fetch_all(&vault.db().pool)
            .await?;
        if rows.is_empty() {
            return Ok(());
        }
        for (id, kind, epoch) in rows {
            let kind = match kind.as_str() {
                "identity" => CaseKeyKind::Identity,
                _ => CaseKeyKind::Sanitized,
            };
            match vault.rewrap_case_key(&id, kind, &epoch, to).await {
                Ok(true) => report.rewrapped += 1,
                Ok(false) => {}
                Err(e) if matches!(e.downcast_ref(), Some(ShredError::Passed(_))) => {
                    tracing::warn!(report_id = %id, kind = kind.as_str(), "a case key the shred chain has passed: marked shredded");
                    let mut tx = vault.db().begin().await?;
                    vault.shred_case_key(&mut tx, &id, kind).await?;
                    tx.commit().await?;
                    report.keys_passed += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// The daily run, as the outbox worker's periodic task: the first instance to claim the
/// day runs it; a failed run gives the day back so that the next tick tries again.
pub struct DailyRetention {
    pub wf: Workflow,
    pub vault: Arc<Vault>,
    pub policies: Arc<RetentionPolicies>,
}

impl crate::notify::worker::Periodic for DailyRetention {
    fn tick(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            if !self.wf.config.retention.enabled {
                return Ok(());
            }
            let today = shanghai_date(self.wf.db.now());
            let day = today.to_string();
            let before: Option<String> =
                sqlx::query_scalar("SELECT ran_on FROM retention_state WHERE id = 1")
                    .fetch_optional(&self.wf.db.pool)
                    .await?
                    .flatten();
            let mine = sqlx::query(
                "UPDATE retention_state SET ran_on = $1 WHERE id = 1 \
                 AND (ran_on IS NULL OR ran_on < $1)",
            )
            .bind(&day)
            .execute(&self.wf.db.pool)
            .await?
            .rows_affected();
            if mine != 1 {
                return Ok(());
            }
            match run(&self.wf, &self.vault, &self.policies, today, false).await {
                Ok(r) => {
                    tracing::info!(
                        purged_identity = r.purged_identity,
                        purged_sanitized = r.purged_sanitized,
                        held = r.held,
                        rewrapped = r.rewrapped,
                        "retention run"
                    );
                    Ok(())
                }
                Err(e) => {
                    sqlx::query(
                        "UPDATE retention_state SET ran_on = $1 WHERE id = 1 AND ran_on = $2",
                    )
                    .bind(before)
                    .bind(&day)
                    .execute(&self.wf.db.pool)
                    .await?;
                    Err(e.context("the retention run failed; it is tried again"))
                }
            }
        })
    }
}
