//! The staff operations on a case: transitions with their structured fields, assignment,
//! check findings, statement and defence, collective decisions, legal review, major cases,
//! deadline extensions and messages to the reporter.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{reason, Action, Op, Workflow, WorkflowError};
use crate::deadlines::clocks::{self, ClockKind};
use crate::deadlines::period::Period;
use crate::domain::Status;
use crate::error::{AppError, AppResult};
use crate::notify::{self, NewJob};
use crate::staff::principal::Principal;
use crate::staff::{self, Role};
use crate::store;

/// Grounds for not accepting a tip (DOMAIN §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotAcceptGround {
    OutsideScope,
    NoClearTarget,
    UnderInvestigation,
    ClosedNoNewLead,
    LitigationOrReview,
}

/// Where a case is transferred (DOMAIN §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransferDestination {
    Police,
    Discipline,
    Health,
    Market,
    OtherRegion,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionOutcome {
    Substantiated,
    Partly,
    NotSubstantiated,
}

impl DecisionOutcome {
    pub fn code(self) -> &'static str {
        match self {
            DecisionOutcome::Substantiated => "substantiated",
            DecisionOutcome::Partly => "partly",
            DecisionOutcome::NotSubstantiated => "not_substantiated",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Penalty {
    /// e.g. `fine`, `suspend_agreement`, `terminate_agreement`, `recover_funds`.
    pub kind: String,
    #[serde(default)]
    pub amount_fen: Option<i64>,
}

/// `POST /api/v1/cases/{id}/transitions`: move a case to `to`, with the fields that
/// transition needs.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    pub to: String,
    pub reason: Option<String>,
    /// `not_accepted`: the ground.
    #[serde(default)]
    pub ground: Option<NotAcceptGround>,
    /// `transferred`: the destination, and its region when it is another region's bureau.
    #[serde(default)]
    pub destination: Option<TransferDestination>,
    #[serde(default)]
    pub destination_region: Option<String>,
    /// `merged`: the earlier case on the same facts.
    #[serde(default)]
    pub merge_into: Option<String>,
    /// `decided`: outcome, amounts in fen, penalties, whether a reward is due.
    #[serde(default)]
    pub outcome: Option<DecisionOutcome>,
    #[serde(default)]
    pub verified_fen: Option<i64>,
    #[serde(default)]
    pub recovered_fen: Option<i64>,
    #[serde(default)]
    pub penalties: Vec<Penalty>,
    #[serde(default)]
    pub reward_due: Option<bool>,
    /// `closed`: the feedback the reporter reads (plain language, no staff names).
    #[serde(default)]
    pub feedback: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransitionDone {
    pub status: String,
    pub version: i64,
    pub assignee: Option<String>,
}

fn max_attempts(wf: &Workflow) -> u32 {
    wf.config.outbox.max_attempts
}

fn remind_before(wf: &Workflow) -> u32 {
    wf.config.workflow.remind_before_working_days
}

/// A real-name reporter is told of the acceptance decision (accepted, not accepted,
/// transferred or merged) within the notify period (Handling-2022: 5 working days).
async fn notify_real_name(op: &mut Op<'_>) -> AppResult<()> {
    if op.case.anonymous {
        return Ok(());
    }
    op.open_clock(
        ClockKind::NotifyAccept,
        |r| Period::WorkingDays(r.notify_working_days),
        1,
    )
    .await?;
    Ok(())
}

/// Add the reporter-visible timeline entry and queue feedback through the tip's channel.
async fn tell_reporter(op: &mut Op<'_>, status: Status, note: Option<&str>) -> AppResult<()> {
    let max = max_attempts(op.wf);
    let (id, note) = (op.case.id.clone(), note.map(str::to_string));
    super::feedback::tell(
        &mut op.tx,
        op.wf.db.now(),
        max,
        &id,
        "status",
        status.code(),
        note,
    )
    .await?;
    Ok(())
}

pub async fn transition(
    wf: &Workflow,
    p: &Principal,
    report_id: &str,
    req: TransitionRequest,
) -> AppResult<TransitionDone> {
    let to = Status::parse(req.to.trim()).map_err(|m| AppError::invalid("to", m))?;
    let Some(action) = Action::for_target(to) else {
        return Err(AppError::invalid("to", "error-wrong-type"));
    };
    let mut op = Op::begin(wf, p, report_id, action).await?;
    match apply(&mut op, &req, to).await {
        Ok(detail) => {
            let done = TransitionDone {
                status: op.case.status.code().to_string(),
                version: op.case.version,
                assignee: op.case.assignee_id.clone(),
            };
            op.commit(detail).await?;
            Ok(done)
        }
        Err(e) => Err(op.deny(e).await),
    }
}

async fn apply(
    op: &mut Op<'_>,
    req: &TransitionRequest,
    to: Status,
) -> AppResult<serde_json::Value> {
    let from = op.case.status;
    let why = reason("reason", req.reason.as_deref())?;
    let now = op.wf.db.now();
    let mut data = match to {
        Status::Accepted => accept(op, req, now).await?,
        Status::NotAccepted => not_accept(op, req, now).await?,
        Status::Transferred => transfer(op, req, now).await?,
        Status::Merged => merge(op, req, now).await?,
        Status::Checking => start_check(op, req, now).await?,
        Status::Decided => decided(op, req, now).await?,
        Status::Closed => close(op, req, now).await?,
        Status::Received => return Err(AppError::invalid("to", "error-wrong-type")),
    };
    op.event("transition", Some(from), Some(to), Some(&why), data.clone())
        .await?;
    data["from"] = serde_json::json!(from.code());
    data["to"] = serde_json::json!(to.code());
    Ok(data)
}

/// The transition to `Accepted`.
async fn accept(
    op: &mut Op<'_>,
    _req: &TransitionRequest,
    now: DateTime<Utc>,
) -> AppResult<serde_json::Value> {
    let to = Status::Accepted;
    let wf = op.wf;
    let mut data = serde_json::json!({});
    op.set_status(to).await?;
    clocks::close(&mut op.tx, &op.case.id.clone(), &[ClockKind::Accept], now).await?;
    op.open_clock(
        ClockKind::Handle,
        |r| Period::WorkingDays(r.handle_working_days),
        remind_before(wf),
    )
    .await?;
    notify_real_name(op).await?;
    let assignee = super::assign::pick_handler(&mut op.tx, &op.case).await?;
    if let Some(a) = &assignee {
        super::assign::set_assignee(op, a, "auto").await?;
    }
    data["assignee"] = serde_json::json!(assignee);
    tell_reporter(op, to, None).await?;
    Ok(data)
}

/// The transition to `NotAccepted`.
async fn not_accept(
    op: &mut Op<'_>,
    req: &TransitionRequest,
    now: DateTime<Utc>,
) -> AppResult<serde_json::Value> {
    let to = Status::NotAccepted;
    let mut data = serde_json::json!({});
    let ground = req
        .ground
        .ok_or_else(|| AppError::invalid("ground", "error-required"))?;
    op.set_status(to).await?;
    clocks::close(&mut op.tx, &op.case.id.clone(), &[], now).await?;
    notify_real_name(op).await?;
    data["ground"] = serde_json::json!(ground);
    let note = crate::i18n::t(
        crate::i18n::Locale::ZhCn,
        &format!(
            "ground-{}",
            serde_json::to_value(ground)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        ),
        &[],
    );
    tell_reporter(op, to, Some(&note)).await?;

    Ok(data)
}

/// The transition to `Transferred`.
async fn transfer(
    op: &mut Op<'_>,
    req: &TransitionRequest,
    now: DateTime<Utc>,
) -> AppResult<serde_json::Value> {
    let to = Status::Transferred;
    let mut data = serde_json::json!({});
    let dest = req
        .destination
        .ok_or_else(|| AppError::invalid("destination", "error-required"))?;
    let region = match (dest, req.destination_region.as_deref()) {
        (TransferDestination::OtherRegion, Some(r)) => {
            Some(staff::parse_region(r).map_err(|m| AppError::invalid("destination_region", m))?)
        }
        (TransferDestination::OtherRegion, None) => {
            return Err(AppError::invalid("destination_region", "error-required"))
        }
        _ => None,
    };
    op.set_status(to).await?;
    clocks::close(&mut op.tx, &op.case.id.clone(), &[], now).await?;
    notify_real_name(op).await?;
    data["destination"] = serde_json::json!(dest);
    data["destination_region"] = serde_json::json!(region);
    tell_reporter(op, to, None).await?;
    Ok(data)
}

/// The transition to `Merged`.
async fn merge(
    op: &mut Op<'_>,
    req: &TransitionRequest,
    now: DateTime<Utc>,
) -> AppResult<serde_json::Value> {
    let to = Status::Merged;
    let mut data = serde_json::json!({});
    let into = req
        .merge_into
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AppError::invalid("merge_into", "error-required"))?;
    if into == op.case.id {
        return Err(AppError::invalid("merge_into", "error-merge-target"));
    }
    let target: Option<(String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT received_at, status, merged_into, case_region FROM reports WHERE id = $1",
    )
    .bind(into)
    .fetch_optional(&mut *op.tx)
    .await?;
    let Some((target_received, target_status, target_merged, target_region)) = target else {
        return Err(AppError::invalid("merge_into", "error-merge-target"));
    };
    // The earlier case keeps priority: merge only into an earlier, live case the
    // caller may see (its region, and not an institution the caller is recused from:
    // the same refusal as a case that is not there, so the merge tells nothing).
    let recused = crate::workflow::recused_from(&mut *op.tx, &op.p.id, into).await?;
    if recused
        || target_received >= op.case.received_at
        || target_merged.is_some()
        || matches!(
            target_status.as_str(),
            "merged" | "not_accepted" | "transferred"
        )
        || !op.p.covers(&target_region)
    {
        return Err(AppError::invalid("merge_into", "error-merge-target"));
    }
    op.set_status(to).await?;
    sqlx::query("UPDATE reports SET merged_into = $1 WHERE id = $2")
        .bind(into)
        .bind(&op.case.id)
        .execute(&mut *op.tx)
        .await?;
    clocks::close(&mut op.tx, &op.case.id.clone(), &[], now).await?;
    notify_real_name(op).await?;
    data["merged_into"] = serde_json::json!(into);
    tell_reporter(op, to, None).await?;
    Ok(data)
}

/// The transition to `Checking`.
async fn start_check(
    op: &mut Op<'_>,
    _req: &TransitionRequest,
    _now: DateTime<Utc>,
) -> AppResult<serde_json::Value> {
    let to = Status::Checking;
    let data = serde_json::json!({});
    op.set_status(to).await?;
    tell_reporter(op, to, None).await?;
    Ok(data)
}

/// The transition to `Decided`.
async fn decided(
    op: &mut Op<'_>,
    req: &TransitionRequest,
    now: DateTime<Utc>,
) -> AppResult<serde_json::Value> {
    let to = Status::Decided;
    let data = decide(op, req).await?;
    op.set_status(to).await?;
    clocks::close(
        &mut op.tx,
        &op.case.id.clone(),
        &[ClockKind::Handle, ClockKind::Defence],
        now,
    )
    .await?;
    op.open_clock(
        ClockKind::Feedback,
        |r| Period::WorkingDays(r.feedback_working_days),
        1,
    )
    .await?;
    if data["reward_due"] == true {
        let rewards = op.wf.rewards.clone();
        rewards.reward_due(op).await?;
    }
    tell_reporter(op, to, None).await?;
    Ok(data)
}

/// The transition to `Closed`.
async fn close(
    op: &mut Op<'_>,
    req: &TransitionRequest,
    now: DateTime<Utc>,
) -> AppResult<serde_json::Value> {
    let to = Status::Closed;
    let mut data = serde_json::json!({});
    let feedback = reason("feedback", req.feedback.as_deref())?;
    op.set_status(to).await?;
    clocks::close(&mut op.tx, &op.case.id.clone(), &[], now).await?;
    tell_reporter(op, to, Some(&feedback)).await?;
    data["feedback_chars"] = serde_json::json!(feedback.chars().count());

    Ok(data)
}

/// Check the decision's fields and its prerequisites, write it on the case.
async fn decide(op: &mut Op<'_>, req: &TransitionRequest) -> AppResult<serde_json::Value> {
    let outcome = req
        .outcome
        .ok_or_else(|| AppError::invalid("outcome", "error-required"))?;
    let verified = req.verified_fen.unwrap_or(0);
    let recovered = req.recovered_fen.unwrap_or(0);
    if verified < 0 {
        return Err(AppError::invalid("verified_fen", "error-amount"));
    }
    if recovered < 0 {
        return Err(AppError::invalid("recovered_fen", "error-amount"));
    }
    for (i, pen) in req.penalties.iter().enumerate() {
        if pen.kind.trim().is_empty() || pen.kind.len() > 64 {
            return Err(AppError::invalid(
                format!("penalties.{i}.kind"),
                "error-required",
            ));
        }
        if pen.amount_fen.is_some_and(|a| a < 0) {
            return Err(AppError::invalid(
                format!("penalties.{i}.amount_fen"),
                "error-amount",
            ));
        }
    }
    let adverse = outcome != DecisionOutcome::NotSubstantiated;
    if !adverse && (verified > 0 || recovered > 0 || !req.penalties.is_empty()) {
        return Err(AppError::invalid("outcome", "error-decision-inconsistent"));
    }
    let reward_due = req.reward_due.unwrap_or(false) && adverse;
    let kinds = event_kinds(op).await?;
    if adverse {
        // The party concerned must have had notice and its 5 working days (or answered).
        if !kinds.iter().any(|k| k == "party_notice") {
            return Err(AppError::from(WorkflowError::PartyNoticeRequired));
        }
        if !kinds.iter().any(|k| k == "statement") {
            let open: Option<String> = sqlx::query_scalar(
                "SELECT due_on FROM clocks WHERE report_id = $1 AND kind = 'defence' \
                 AND closed_at IS NULL",
            )
            .bind(&op.case.id)
            .fetch_optional(&mut *op.tx)
            .await?;
            let today = crate::deadlines::calendar::shanghai_date(op.wf.db.now()).to_string();
            if let Some(due) = open {
                if due >= today {
                    return Err(AppError::from(WorkflowError::DefencePeriodOpen).arg("due", due));
                }
            }
        }
    }
    if recovered >= op.wf.config.workflow.collective_threshold_fen {
        if !kinds.iter().any(|k| k == "collective_decision") {
            return Err(AppError::from(WorkflowError::CollectiveDecisionRequired));
        }
        require_legal_approval(&mut op.tx, &op.case.id).await?;
    }
    sqlx::query(
        "UPDATE reports SET decision = $1, verified_fen = $2, recovered_fen = $3, \
         reward_due = $4, decided_at = $5 WHERE id = $6",
    )
    .bind(outcome.code())
    .bind(verified)
    .bind(recovered)
    .bind(i64::from(reward_due))
    .bind(store::ts(op.wf.db.now()))
    .bind(&op.case.id)
    .execute(&mut *op.tx)
    .await?;
    Ok(serde_json::json!({
        "outcome": outcome,
        "verified_fen": verified,
        "recovered_fen": recovered,
        "penalties": req.penalties,
        "reward_due": reward_due,
    }))
}

async fn event_kinds(op: &mut Op<'_>) -> AppResult<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT DISTINCT kind FROM case_events WHERE report_id = $1")
            .bind(&op.case.id)
            .fetch_all(&mut *op.tx)
            .await?,
    )
}

/// Run `body` with the operation that the future `begin` opens: commit its detail when the
/// body succeeds, deny it (the refusal audited, the transaction rolled back) when it fails.
/// Case operations (`op!`) and reward operations (`rewards::flow`) both go through it.
macro_rules! run_op {
    ($begin:expr, |$op:ident| $body:block) => {{
        let mut $op = $begin.await?;
        let r: AppResult<serde_json::Value> = async { $body }.await;
        match r {
            Ok(detail) => {
                $op.commit(detail.clone()).await?;
                Ok(detail)
            }
            Err(e) => Err($op.deny(e).await),
        }
    }};
}
pub(crate) use run_op;

/// Run `body` as operation `action` on a case: begin, body, commit or deny.
macro_rules! op {
    ($wf:expr, $p:expr, $id:expr, $action:expr, |$op:ident| $body:block) => {
        run_op!(Op::begin($wf, $p, $id, $action), |$op| $body)
    };
}

mod extensions;
mod reassign;
mod records;

pub use extensions::*;
pub use reassign::*;
pub use records::*;
