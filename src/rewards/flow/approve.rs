//! The four eyes on a proposal: finance approves (never the proposer), and above the
//! threshold a supervisor too; the last approval checks the collective-decision and
//! legal-review records ([`collective_and_legal`]) and the year's budget. Finance or a
//! supervisor may instead return the proposal to the handler.

use chrono::Datelike;

use super::budget::budget_for;
use super::{
    decision, existing_reward, own_proposal, reward_op, wrong_reward_status, yuan, NoteRequest,
};
use crate::deadlines::calendar::shanghai_date;
use crate::deadlines::clocks::{self, ClockKind};
use crate::error::AppError;
use crate::error::AppResult;
use crate::rewards::policies;
use crate::rewards::policy::Policy;
use crate::rewards::RewardError;
use crate::staff::principal::Principal;
use crate::staff::Role;
use crate::store;
use crate::workflow::{forbidden, reason, Op, Workflow, WorkflowError};

/// Large recovered amounts, and rewards above the policy's threshold, need the
/// collective-decision and legal-review records (DOMAIN §5).
async fn collective_and_legal(
    op: &mut Op<'_>,
    recovered: i64,
    amount: i64,
    pol: Option<&Policy>,
) -> AppResult<()> {
    if recovered < op.wf.config.workflow.collective_threshold_fen
        && !pol.is_some_and(|p| p.needs_collective(amount))
    {
        return Ok(());
    }
    let collective: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM case_events WHERE report_id = $1 AND kind = 'collective_decision'",
    )
    .bind(&op.case.id)
    .fetch_one(&mut *op.tx)
    .await?;
    if collective == 0 {
        return Err(AppError::from(WorkflowError::CollectiveDecisionRequired));
    }
    crate::workflow::ops::require_legal_approval(&mut op.tx, &op.case.id).await
}

/// `POST /cases/{id}/reward/approve`: finance approves (never the proposer); above the
/// threshold a supervisor approves too (a different person). The last approval checks the
/// budget and makes the reward `approved`.
pub async fn approve(
    wf: &Workflow,
    p: &Principal,
    case_id: &str,
    req: NoteRequest,
) -> AppResult<serde_json::Value> {
    reward_op!(wf, p, case_id, "reward_approve", |op| {
        if !p.has_any(&[Role::Finance, Role::Supervisor]) {
            return Err(forbidden());
        }
        let r = existing_reward(&mut op.tx, case_id).await?;
        if r.status != "proposed" {
            return Err(wrong_reward_status(&r.status));
        }
        if r.proposed_by == p.id {
            return Err(own_proposal());
        }
        if r.finance_approved_by.as_deref() == Some(p.id.as_str())
            || r.supervisor_approved_by.as_deref() == Some(p.id.as_str())
        {
            return Err(AppError::from(RewardError::AlreadyApproved));
        }
        let needs_sup = r.needs_supervisor != 0;
        let slot = if p.has(Role::Finance) && r.finance_approved_by.is_none() {
            "finance"
        } else if p.has(Role::Supervisor) && needs_sup && r.supervisor_approved_by.is_none() {
            "supervisor"
        } else if p.has(Role::Supervisor) && !needs_sup {
            return Err(AppError::from(RewardError::FinanceApprovalRequired));
        } else {
            return Err(AppError::from(RewardError::AlreadyApproved));
        };
        let d = decision(&mut op.tx, case_id).await?;
        let set = policies(&op.wf.config)?;
        let pol = r.policy(&set);
        collective_and_legal(&mut op, d.recovered_fen.unwrap_or(0), r.amount_fen, pol).await?;
        let note = req
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let now_t = wf.db.now();
        let now = store::ts(now_t);
        let finance_done = slot == "finance" || r.finance_approved_by.is_some();
        let sup_done = !needs_sup || slot == "supervisor" || r.supervisor_approved_by.is_some();
        let complete = finance_done && sup_done;
        if complete {
            let year = shanghai_date(now_t).year();
            if let Some(b) = budget_for(&mut op.tx, year, &r.case_region).await? {
                if b.balance_fen < r.amount_fen {
                    return Err(AppError::from(RewardError::BudgetExceeded)
                        .arg("balance", yuan(b.balance_fen))
                        .arg("region", b.region));
                }
            }
        }
        let sql = if slot == "finance" {
            "UPDATE rewards SET finance_approved_by = $1, finance_approved_at = $2, \
             status = $3, approved_at = $4, version = version + 1 WHERE id = $5 AND version = $6"
        } else {
            "UPDATE rewards SET supervisor_approved_by = $1, supervisor_approved_at = $2, \
             status = $3, approved_at = $4, version = version + 1 WHERE id = $5 AND version = $6"
        };
        let moved = sqlx::query(sql)
            .bind(&p.id)
            .bind(&now)
            .bind(if complete { "approved" } else { "proposed" })
            .bind(complete.then(|| now.clone()))
            .bind(&r.id)
            .bind(r.version)
            .execute(&mut *op.tx)
            .await?
            .rows_affected();
        if moved != 1 {
            return Err(AppError::from(WorkflowError::ConcurrentChange));
        }
        if complete {
            clocks::close(&mut op.tx, case_id, &[ClockKind::RewardApprove], now_t).await?;
        }
        let data = serde_json::json!({
            "reward_id": r.id,
            "as": slot,
            "status": if complete { "approved" } else { "proposed" },
            "amount_fen": r.amount_fen,
        });
        op.event("reward_approval", None, None, note.as_deref(), data.clone())
            .await?;
        Ok(data)
    })
}

/// `POST /cases/{id}/reward/return`: finance or a supervisor sends the proposal back with
/// a reason; the handler may propose again.
pub async fn return_proposal(
    wf: &Workflow,
    p: &Principal,
    case_id: &str,
    req: NoteRequest,
) -> AppResult<serde_json::Value> {
    reward_op!(wf, p, case_id, "reward_return", |op| {
        if !p.has_any(&[Role::Finance, Role::Supervisor]) {
            return Err(forbidden());
        }
        let why = reason("reason", req.reason.as_deref())?;
        let r = existing_reward(&mut op.tx, case_id).await?;
        if r.status != "proposed" {
            return Err(wrong_reward_status(&r.status));
        }
        if r.proposed_by == p.id {
            return Err(own_proposal());
        }
        sqlx::query(
            "UPDATE rewards SET status = 'returned', returned_by = $1, returned_at = $2, \
             return_reason = $3, finance_approved_by = NULL, finance_approved_at = NULL, \
             supervisor_approved_by = NULL, supervisor_approved_at = NULL, \
             version = version + 1 WHERE id = $4",
        )
        .bind(&p.id)
        .bind(store::ts(wf.db.now()))
        .bind(&why)
        .bind(&r.id)
        .execute(&mut *op.tx)
        .await?;
        clocks::close(
            &mut op.tx,
            case_id,
            &[ClockKind::RewardApprove],
            wf.db.now(),
        )
        .await?;
        let data = serde_json::json!({ "reward_id": r.id, "status": "returned" });
        op.event("reward_returned", None, None, Some(&why), data.clone())
            .await?;
        Ok(data)
    })
}
