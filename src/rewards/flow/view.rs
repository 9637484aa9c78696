//! What a reward looks like from outside: [`RewardView`] and [`ShareView`] as staff see them
//! (one case's reward, and the list of a region's), and the `reward` field of the
//! reporter's own look-up ([`reporter_view`]). Nothing here writes.

use serde::Serialize;
use utoipa::ToSchema;

use super::{read_case, reward_not_found, reward_of_case, shares_of, RewardRow, ShareRow};
use super::{REWARD_COLUMNS, SHARE_SELECT};
use crate::deadlines::calendar::shanghai_date;
use crate::error::AppResult;
use crate::staff::principal::Principal;
use crate::staff::{self, Role};
use crate::workflow::{forbidden, Workflow};

/// A reward as staff see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RewardView {
    pub id: String,
    pub case_id: String,
    pub beneficiary_case_id: String,
    pub case_region: String,
    pub status: String,
    pub amount_fen: i64,
    pub policy_id: String,
    pub policy_version: i64,
    #[schema(value_type = Object)]
    pub computation: serde_json::Value,
    #[schema(value_type = Object)]
    pub input: serde_json::Value,
    pub needs_supervisor: bool,
    pub proposed_by: String,
    pub proposed_at: String,
    pub finance_approved_by: Option<String>,
    pub supervisor_approved_by: Option<String>,
    pub approved_at: Option<String>,
    pub return_reason: Option<String>,
    pub notified_at: Option<String>,
    pub claim_by: Option<String>,
    pub claimed_at: Option<String>,
    pub claim_method: Option<String>,
    pub paid_at: Option<String>,
    pub expired_at: Option<String>,
    pub reversal_requested_by: Option<String>,
    /// The roles of the person who requested the reversal (the confirmation needs the other
    /// role: supervisor and finance), so a client offers the confirmation only to those who
    /// may give it. Empty without a request.
    #[schema(value_type = Vec<String>)]
    pub reversal_requested_roles: Vec<Role>,
    pub reversal_reason: Option<String>,
    pub reversed_at: Option<String>,
    /// Who gets what, in the order recorded: one share (the first valid reporter's) unless
    /// the proposal recorded co-reporters. The reward is `claimed` / `paid` once every
    /// share not expired is.
    pub shares: Vec<ShareView>,
}

/// One share of a reward as staff see it (no identity).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShareView {
    /// The share's own id (payments name it); the tip's tracking code is the reporter's and
    /// is not shown to staff (DOMAIN §7).
    pub share_id: String,
    /// The tip's case id.
    pub case_id: String,
    pub weight: i64,
    pub amount_fen: i64,
    /// pending (before the notice) | notified | claimed | paid | expired
    pub status: String,
    pub claimed_at: Option<String>,
    pub claim_method: Option<String>,
    pub paid_at: Option<String>,
    pub expired_at: Option<String>,
}

impl ShareRow {
    fn view(&self) -> ShareView {
        ShareView {
            share_id: self.id.clone(),
            case_id: self.report_id.clone(),
            weight: self.weight,
            amount_fen: self.amount_fen,
            status: self.status.clone(),
            claimed_at: self.claimed_at.clone(),
            claim_method: self.claim_method.clone(),
            paid_at: self.paid_at.clone(),
            expired_at: self.expired_at.clone(),
        }
    }
}

impl RewardView {
    /// Fill in what the row alone does not say (the reversal requester's roles).
    async fn complete(mut self, pool: &sqlx::AnyPool) -> Result<Self, sqlx::Error> {
        if let Some(id) = &self.reversal_requested_by {
            if let Some(u) = staff::by_id(pool, id).await? {
                self.reversal_requested_roles = u.roles;
            }
        }
        Ok(self)
    }
}

impl RewardRow {
    fn view(&self, shares: &[ShareRow]) -> RewardView {
        let parse = |s: &str| serde_json::from_str(s).unwrap_or(serde_json::Value::Null);
        RewardView {
            id: self.id.clone(),
            case_id: self.report_id.clone(),
            beneficiary_case_id: self.beneficiary_report_id.clone(),
            case_region: self.case_region.clone(),
            status: self.status.clone(),
            amount_fen: self.amount_fen,
            policy_id: self.policy_id.clone(),
            policy_version: self.policy_version,
            computation: parse(&self.computation),
            input: parse(&self.input),
            needs_supervisor: self.needs_supervisor != 0,
            proposed_by: self.proposed_by.clone(),
            proposed_at: self.proposed_at.clone(),
            finance_approved_by: self.finance_approved_by.clone(),
            supervisor_approved_by: self.supervisor_approved_by.clone(),
            approved_at: self.approved_at.clone(),
            return_reason: self.return_reason.clone(),
            notified_at: self.notified_at.clone(),
            claim_by: self.claim_by.clone(),
            claimed_at: self.claimed_at.clone(),
            claim_method: self.claim_method.clone(),
            paid_at: self.paid_at.clone(),
            expired_at: self.expired_at.clone(),
            reversal_requested_by: self.reversal_requested_by.clone(),
            reversal_requested_roles: vec![],
            reversal_reason: self.reversal_reason.clone(),
            reversed_at: self.reversed_at.clone(),
            shares: shares.iter().map(ShareRow::view).collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Staff
// ---------------------------------------------------------------------------------------------

/// `GET /cases/{id}/reward`.
pub async fn show(wf: &Workflow, p: &Principal, case_id: &str) -> AppResult<RewardView> {
    let (mut tx, _) = read_case(wf, p, case_id).await?;
    let r = reward_of_case(&mut tx, case_id)
        .await?
        .ok_or_else(reward_not_found)?;
    let shares = shares_of(&mut tx, &r.id).await?;
    let view = r.view(&shares);
    drop(tx);
    Ok(view.complete(&wf.db.pool).await?)
}

/// `GET /rewards?status=`: the rewards of the caller's region (finance, supervisors,
/// auditors), newest first, at most 500.
pub async fn list(
    wf: &Workflow,
    p: &Principal,
    status: Option<&str>,
) -> AppResult<Vec<RewardView>> {
    if !p.has_any(&[Role::Finance, Role::Supervisor, Role::Auditor]) {
        return Err(forbidden());
    }
    let prefix = format!("{}%", staff::region_prefix(&p.region));
    let rows: Vec<RewardRow> = sqlx::query_as(&format!(
        "SELECT {REWARD_COLUMNS} FROM rewards WHERE case_region LIKE $1 \
         AND ($2 = '' OR status = $2) ORDER BY proposed_at DESC LIMIT 500"
    ))
    .bind(&prefix)
    .bind(status.unwrap_or_default())
    .fetch_all(&wf.db.pool)
    .await?;
    // Their shares, in one query (the same filter picks the same rewards).
    let all_shares: Vec<ShareRow> = sqlx::query_as(&format!(
        "{SHARE_SELECT} WHERE s.reward_id IN (SELECT id FROM rewards WHERE case_region LIKE $1 \
         AND ($2 = '' OR status = $2) ORDER BY proposed_at DESC LIMIT 500) \
         ORDER BY s.reward_id, s.seq"
    ))
    .bind(&prefix)
    .bind(status.unwrap_or_default())
    .fetch_all(&wf.db.pool)
    .await?;
    let mut by_reward: std::collections::HashMap<String, Vec<ShareRow>> = Default::default();
    for sh in all_shares {
        by_reward.entry(sh.reward_id.clone()).or_default().push(sh);
    }
    // Recused staff never see the case's reward either.
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        if !crate::workflow::recused_from(&wf.db.pool, &p.id, &r.report_id).await? {
            let shares = by_reward.remove(&r.id).unwrap_or_default();
            out.push(r.view(&shares).complete(&wf.db.pool).await?);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The reporter
// ---------------------------------------------------------------------------------------------

/// The `reward` field of the reporter's look-up: shown from the notice on. A co-reporter's
/// tip shows its own share (amount and status); a reversal shows on every share.
pub async fn reporter_view(
    db: &crate::store::Db,
    report_id: &str,
) -> Result<Option<serde_json::Value>, sqlx::Error> {
    let row: Option<(String, String, i64, Option<String>)> = sqlx::query_as(
        "SELECT r.status, s.status, s.amount_fen, r.claim_by FROM reward_shares s \
         JOIN rewards r ON r.id = s.reward_id WHERE s.report_id = $1 \
         AND r.status IN ('notified', 'claimed', 'paid', 'expired', 'reversed') \
         ORDER BY s.id DESC",
    )
    .bind(report_id)
    .fetch_optional(&db.pool)
    .await?;
    let today = shanghai_date(db.now()).to_string();
    let row = row.map(|(reward, share, amount, claim_by)| {
        let status = if reward == "reversed" { reward } else { share };
        (status, amount, claim_by)
    });
    Ok(row.map(|(status, amount, claim_by)| {
        // Past the window but not yet swept: already expired for the reporter.
        let status = if status == "notified" && claim_by.as_deref().is_some_and(|c| *c < *today) {
            "expired".to_string()
        } else {
            status
        };
        serde_json::json!({ "status": status, "amount_fen": amount, "claim_by": claim_by })
    }))
}
