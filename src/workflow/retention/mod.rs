//! Retention (issue 19, DOMAIN §8): reporter data kept no longer than needed.
//!
//! When a case has ended (closed, not accepted, transferred or merged, with no open clock
//! and no reward still to be claimed or paid), the regional retention policy in force
//! that day ([`jubao_rules::retention`]) sets two purge days. On the first the reporter's
//! identity, the blind index, the chat and call identifiers and the evidence originals go
//! and the case's identity key is destroyed; on the second the sanitized evidence and the
//! sanitized key. A legal hold ([`holds`]) stops both until it is lifted. The purge is run
//! by `jubao retention run` and once a day by one instance ([`run`]); each purged case is
//! audited with what kind of data went, never the data.

pub mod holds;
pub mod run;

use std::path::Path;

use chrono::NaiveDate;
use serde::Serialize;

use crate::config::Config;
use crate::deadlines::calendar::shanghai_date;
use crate::store::{self, Db};
pub use jubao_rules::retention::{PurgeDays, RetentionPolicies, RetentionPolicy};

/// The policies named by `[retention] policies_dir` (the built-in copy when empty).
pub fn policies(config: &Config) -> anyhow::Result<RetentionPolicies> {
    let dir = config.retention.policies_dir.trim();
    Ok(if dir.is_empty() {
        RetentionPolicies::built_in()?
    } else {
        RetentionPolicies::load_dir(Path::new(dir))?
    })
}

/// Where a case stands for retention.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Standing {
    /// The day the case ended (the later of leaving the open statuses and its last claim
    /// window); `None` while it has not.
    pub ended_on: Option<String>,
    /// Why it has not ended yet: `open`, `open_clocks`, `reward_pending`.
    pub waiting: Option<String>,
    /// The policy that sets its purge days (`id@version`).
    pub policy: Option<String>,
    pub identity_purge_on: Option<String>,
    pub sanitized_purge_on: Option<String>,
    /// What was purged already: `identity`, `sanitized`, with the day.
    pub purged: Vec<Purged>,
    /// Legal holds, newest first (lifted ones included).
    pub holds: Vec<holds::Hold>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Purged {
    pub stage: String,
    pub policy: String,
    pub purged_at: String,
}

/// The facts that decide a case's purge days.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct CaseEnd {
    pub region: String,
    pub is_open: i64,
    pub ended_at: Option<String>,
    pub claim_by: Option<String>,
    pub open_clocks: i64,
    pub pending_rewards: i64,
}

/// Reward statuses after which nothing is left to claim or pay.
const REWARD_DONE: &str = "('paid', 'expired', 'reversed')";
const SHARE_DONE: &str = "('paid', 'expired')";

pub(crate) async fn case_end(
    exec: impl sqlx::Executor<'_, Database = sqlx::Any>,
    id: &str,
) -> Result<Option<CaseEnd>, sqlx::Error> {
    let sql = format!(
        "SELECT r.case_region AS region, r.is_open AS is_open, \
         (SELECT MAX(e.at) FROM case_events e WHERE e.report_id = r.id \
            AND e.to_status IN ('closed', 'not_accepted', 'transferred', 'merged')) AS ended_at, \
         (SELECT MAX(w.claim_by) FROM rewards w WHERE w.report_id = r.id \
            OR w.id IN (SELECT s.reward_id FROM reward_shares s WHERE s.report_id = r.id)) \
            AS claim_by, \
         (SELECT COUNT(*) FROM clocks c WHERE c.report_id = r.id AND c.closed_at IS NULL) \
            AS open_clocks, \
         (SELECT COUNT(*) FROM rewards w WHERE w.report_id = r.id AND w.status NOT IN {REWARD_DONE}) \
         + (SELECT COUNT(*) FROM reward_shares s WHERE s.report_id = r.id \
            AND s.status NOT IN {SHARE_DONE}) AS pending_rewards \
         FROM reports r WHERE r.id = $1"
    );
    sqlx::query_as(&sql).bind(id).fetch_optional(exec).await
}

impl CaseEnd {
    /// Why the case has not ended, if it has not.
    pub fn waiting(&self) -> Option<&'static str> {
        if self.is_open != 0 {
            Some("open")
        } else if self.open_clocks > 0 {
            Some("open_clocks")
        } else if self.pending_rewards > 0 {
            Some("reward_pending")
        } else {
            None
        }
    }

    /// The day the case ended: the later of leaving the open statuses and the last claim
    /// window's end (`None` while it is [`CaseEnd::waiting`]).
    pub fn ended_on(&self) -> Option<NaiveDate> {
        if self.waiting().is_some() {
            return None;
        }
        let left = self
            .ended_at
            .as_deref()
            .and_then(|t| store::parse_ts(t).ok())
            .map(shanghai_date)?;
        let claim = self
            .claim_by
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        Some(claim.map_or(left, |c| c.max(left)))
    }
}

/// `GET /api/v1/cases/{id}/retention` (after the caller's access to the case is checked).
pub async fn standing(db: &Db, config: &Config, id: &str) -> anyhow::Result<Standing> {
    let end = case_end(&db.pool, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("case {id} not found"))?;
    let ended = end.ended_on();
    let policy = match ended {
        Some(d) => policies(config)?.select(&end.region, d).cloned(),
        None => None,
    };
    let days = ended.zip(policy.as_ref()).map(|(d, p)| p.purge_days(d));
    let purged: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT stage, policy, purged_at FROM retention_purges WHERE report_id = $1 ORDER BY purged_at",
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await?;
    Ok(Standing {
        ended_on: ended.map(|d| d.to_string()),
        waiting: end.waiting().map(str::to_string),
        policy: policy.map(|p| p.label()),
        identity_purge_on: days.map(|d| d.identity_on.to_string()),
        sanitized_purge_on: days.map(|d| d.sanitized_on.to_string()),
        purged: purged
            .into_iter()
            .map(|(stage, policy, purged_at)| Purged {
                stage,
                policy,
                purged_at,
            })
            .collect(),
        holds: holds::list(&db.pool, id).await?,
    })
}

/// `jubao retention run [--dry-run]`: the run as of today, from the configuration (the
/// shred chain from `[keys] shred_key_file`, like the service's).
pub async fn run_from_config(config: &Config, dry_run: bool) -> anyhow::Result<run::RunReport> {
    use std::sync::Arc;

    use anyhow::Context;

    let policies = policies(config).context("loading the retention policies")?;
    let local =
        crate::deadlines::calendar::Calendar::load(Path::new(&config.calendar.holidays_dir))?;
    let db = Db::connect(&config.database.url, 2).await?;
    db.migrate().await?;
    let master = crate::vault::configured_master_key(config.master_key_path())?;
    let vault = crate::vault::Vault::open_shredding(
        db.clone(),
        master,
        &config.shred_key_path(),
        config.retention.key_horizon_days,
    )
    .await
    .context("opening the vault")?;
    let wf = crate::workflow::Workflow {
        db: db.clone(),
        audit: vault.audit_key().clone(),
        calendar: crate::deadlines::Calendars::new(local),
        rules: Arc::new(crate::deadlines::rules::RuleSet::load(config)?),
        config: config.clone(),
        rewards: Arc::new(crate::workflow::NoRewards),
        reads: crate::audit::ReadLog::start(db.clone(), vault.audit_key().clone()),
    };
    let today = shanghai_date(db.now());
    let done = run::run(&wf, &vault, &policies, today, dry_run).await;
    db.close().await;
    done
}

/// [`standing`] for a caller who may see the case (anyone else: 403, audited).
pub async fn standing_for(
    wf: &crate::workflow::Workflow,
    p: &crate::staff::principal::Principal,
    id: &str,
) -> crate::error::AppResult<Standing> {
    use crate::workflow::{can_see, case_not_found, forbidden, is_recused, load_case};
    let mut tx = wf.db.begin().await?;
    let Some(case) = load_case(&mut tx, id).await? else {
        return Err(case_not_found());
    };
    let recused = is_recused(&mut tx, &p.id, &case).await?;
    drop(tx);
    if !can_see(p, &case, recused) {
        let err = forbidden();
        crate::audit::record_denied(
            &wf.db,
            &wf.audit,
            &p.actor(),
            "case.retention",
            Some(id),
            err.code,
        )
        .await;
        return Err(err);
    }
    standing(&wf.db, &wf.config, id)
        .await
        .map_err(crate::error::AppError::internal)
}
