//! The life of a reward (DOMAIN §5): preview, proposal by the case's handler, approval under
//! four eyes (finance, and a supervisor above the threshold), notice to the reporter through
//! their channel, the reporter's claim, payment by finance (once), expiry of an unclaimed
//! reward, and reversal of a reward obtained by fraud.
//!
//! Every staff operation runs like a workflow operation ([`Op`]): one transaction that
//! begins with the audit lock, checks the caller against the case (region, recusal, role),
//! writes the change, its case event, its clocks, the reporter's timeline entry and outbox
//! job, and its audit entry; a refusal rolls back and is audited on its own.
//!
//! What staff and the reporter see is in `view`; then one file per step, in the order a
//! reward lives through them:
//!
//! - `view`: show, list, and the reporter's look-up;
//! - `propose`: preview, the quick/heavy flags, the proposal and its co-reporters;
//! - `approve`: approval (with the collective/legal and budget checks) and return;
//! - `notice`: the notice clock, the notice to the reporter (the claim window), and a
//!   quick reward's own clocks;
//! - `claim`: the reporter's claim;
//! - `payment`: finance records the payment; reversal of a fraudulent reward;
//! - `budget`: the yearly budgets and their balance;
//! - `sweep`: claim reminders and expiry.
//!
//! This file holds what they share: the stored rows of a reward and its shares, the errors,
//! how a reward's status follows its shares (`settle`), the operation frame
//! (`reward_op!`), the decision a reward is computed from, and the reporter's timeline.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use super::policies;
use super::policy::{ComputeError, Grade, Input, Policy, PolicySet};
use crate::audit;
use crate::deadlines::calendar::shanghai_date;
use crate::deadlines::clocks::{self, ClockKind};
use crate::domain::{tracking, Status};
use crate::error::{AppError, AppResult};
use crate::i18n::Locale;
use crate::rewards::RewardError;
use crate::staff::principal::Principal;
use crate::store::{self, Tx};
use crate::workflow::{
    can_see, case_not_found, forbidden, is_recused, load_case, CaseRow, Op, Workflow, WorkflowError,
};

mod approve;
mod budget;
mod claim;
mod identity;
mod notice;
mod payment;
mod propose;
mod sweep;
mod view;

/// Fen as yuan text with two decimals (for messages only; amounts stay integer fen).
pub use crate::domain::money::yuan;
pub use approve::{approve, return_proposal};
pub use budget::{budgets, deny_plain, set_budget, Budget, BudgetQuery, BudgetRequest};
pub use claim::{claim, ClaimDone, ClaimRequest};
pub use identity::{bank_account, identity_check, IdentityCheckRequest, ShareQuery};
pub use notice::{notify_reporter, open_notice_clock};
pub use payment::{record_payment, reverse, PayMethod, PaymentRequest};
pub use propose::{
    preview, propose, set_flags, CoReporter, ExcludedKind, FlagsRequest, PreviewQuery,
    ProposeRequest,
};
pub use sweep::{sweep, RewardSweep};
pub use view::{list, reporter_view, show, RewardView, ShareView};

// ---------------------------------------------------------------------------------------------
// Requests and stored rows
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    pub reason: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct ShareRow {
    id: String,
    reward_id: String,
    report_id: String,
    weight: i64,
    amount_fen: i64,
    status: String,
    claimed_at: Option<String>,
    claim_method: Option<String>,
    paid_at: Option<String>,
    expired_at: Option<String>,
    tracking_code: String,
}

/// Columns of [`ShareRow`] from `reward_shares s JOIN reports t ON t.id = s.report_id`.
const SHARE_SELECT: &str = "SELECT s.id, s.reward_id, s.report_id, s.weight, s.amount_fen, \
    s.status, s.claimed_at, s.claim_method, s.paid_at, s.expired_at, \
    t.tracking_code FROM reward_shares s JOIN reports t ON t.id = s.report_id";

impl ShareRow {
    /// Whether `tip` (the share id, its tip's case id, or the tracking code a reporter
    /// read out, as typed) names this share.
    fn is_tip(&self, tip: &str) -> bool {
        let tip = tip.trim();
        tip == self.id
            || tip == self.report_id
            || tracking::normalize_code(tip).is_some_and(|c| c == self.tracking_code)
    }
}

async fn shares_of(tx: &mut Tx<'_>, reward_id: &str) -> Result<Vec<ShareRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "{SHARE_SELECT} WHERE s.reward_id = $1 ORDER BY s.seq"
    ))
    .bind(reward_id)
    .fetch_all(&mut **tx)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct RewardRow {
    id: String,
    report_id: String,
    beneficiary_report_id: String,
    case_region: String,
    policy_id: String,
    policy_version: i64,
    input: String,
    computation: String,
    amount_fen: i64,
    status: String,
    needs_supervisor: i64,
    proposed_by: String,
    proposed_at: String,
    finance_approved_by: Option<String>,
    supervisor_approved_by: Option<String>,
    approved_at: Option<String>,
    return_reason: Option<String>,
    notified_at: Option<String>,
    claim_by: Option<String>,
    claimed_at: Option<String>,
    claim_method: Option<String>,
    paid_at: Option<String>,
    expired_at: Option<String>,
    reversal_requested_by: Option<String>,
    reversal_reason: Option<String>,
    reversed_at: Option<String>,
    version: i64,
}

const REWARD_COLUMNS: &str = "id, report_id, beneficiary_report_id, case_region, policy_id, \
    policy_version, input, computation, amount_fen, status, needs_supervisor, proposed_by, \
    proposed_at, finance_approved_by, supervisor_approved_by, approved_at, return_reason, \
    notified_at, claim_by, claimed_at, claim_method, paid_at, expired_at, \
    reversal_requested_by, reversal_reason, reversed_at, version";

impl RewardRow {
    /// The policy (id and version) the reward was computed under, if still configured.
    fn policy<'s>(&self, set: &'s PolicySet) -> Option<&'s Policy> {
        set.get(
            &self.policy_id,
            u32::try_from(self.policy_version).unwrap_or(0),
        )
    }
}

async fn reward_of_case(tx: &mut Tx<'_>, case_id: &str) -> Result<Option<RewardRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {REWARD_COLUMNS} FROM rewards WHERE report_id = $1"
    ))
    .bind(case_id)
    .fetch_optional(&mut **tx)
    .await
}

/// The case's reward, or the "no reward" refusal.
async fn existing_reward(tx: &mut Tx<'_>, case_id: &str) -> AppResult<RewardRow> {
    reward_of_case(tx, case_id)
        .await?
        .ok_or_else(reward_not_found)
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

fn reward_not_found() -> AppError {
    RewardError::NotFound.into()
}

/// Approving, returning or paying one's own proposal.
fn own_proposal() -> AppError {
    RewardError::OwnProposal.into()
}

/// The case is not in a status the step works in.
fn wrong_case_status(case: &CaseRow) -> AppError {
    AppError::from(WorkflowError::WrongStatus).arg("status", case.status.code())
}

fn wrong_reward_status(status: &str) -> AppError {
    AppError::from(RewardError::WrongStatus).arg("status", status.to_string())
}

fn compute_error(e: ComputeError) -> AppError {
    match e {
        ComputeError::NegativeVerified(_) => AppError::from(RewardError::NotDue),
        ComputeError::NegativeNoLossAmount(_) => {
            AppError::invalid("no_loss_amount_fen", "error-amount")
        }
        ComputeError::NoLossAmountRequired => {
            AppError::invalid("no_loss_amount_fen", "error-required")
        }
        ComputeError::NoLossAmountOutOfRange { min, max, .. } => {
            AppError::invalid("no_loss_amount_fen", "error-reward-no-loss-range")
                .arg("min", yuan(min))
                .arg("max", yuan(max))
        }
        ComputeError::NoLossAmountWithLoss(_) => {
            AppError::invalid("no_loss_amount_fen", "error-reward-no-loss-with-loss")
        }
        ComputeError::GradeRequired(_) => AppError::invalid("grade", "error-required"),
    }
}

/// A tip as the caller typed it, shortened for an error message.
fn shown(tip: &str) -> String {
    let t = tip.trim();
    if t.chars().count() > 40 {
        format!("{}…", t.chars().take(40).collect::<String>())
    } else {
        t.to_string()
    }
}

// ---------------------------------------------------------------------------------------------
// Shares
// ---------------------------------------------------------------------------------------------

/// The status of a notified reward from the statuses of its shares: `notified` while a
/// share may still be claimed, then `claimed` while a claimed share awaits payment, then
/// `paid` if any share was paid, `expired` when every share expired.
fn overall_status<'a>(shares: impl IntoIterator<Item = &'a str>) -> &'static str {
    let all: Vec<&str> = shares.into_iter().collect();
    if all.iter().any(|s| matches!(*s, "notified" | "pending")) {
        "notified"
    } else if all.contains(&"claimed") {
        "claimed"
    } else if all.contains(&"paid") {
        "paid"
    } else {
        "expired"
    }
}

/// After a share moved (claimed, paid, expired): bring the notified reward's status, and
/// its whole-reward times, in line with its shares; the claim clock closes once no share
/// can still be claimed. Returns the reward's status.
async fn settle(tx: &mut Tx<'_>, r: &RewardRow, now: DateTime<Utc>) -> AppResult<&'static str> {
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT status, claim_method FROM reward_shares WHERE reward_id = $1")
            .bind(&r.id)
            .fetch_all(&mut **tx)
            .await?;
    let status = overall_status(rows.iter().map(|(s, _)| s.as_str()));
    if status == r.status {
        return Ok(status);
    }
    let at = store::ts(now);
    let leaving_notice = r.status == "notified";
    let (mut claimed_at, mut method) = (r.claimed_at.clone(), r.claim_method.clone());
    if leaving_notice && matches!(status, "claimed" | "paid") {
        claimed_at = Some(at.clone());
        // One method for the whole reward only when every claimed share agrees.
        let methods: std::collections::BTreeSet<&str> =
            rows.iter().filter_map(|(_, m)| m.as_deref()).collect();
        method = (methods.len() == 1)
            .then(|| methods.into_iter().next().map(str::to_string))
            .flatten();
    }
    let paid_at = (status == "paid").then(|| at.clone()).or(r.paid_at.clone());
    let expired_at = (status == "expired")
        .then(|| at.clone())
        .or(r.expired_at.clone());
    sqlx::query(
        "UPDATE rewards SET status = $1, claimed_at = $2, claim_method = $3, paid_at = $4, \
         expired_at = $5, version = version + 1 WHERE id = $6",
    )
    .bind(status)
    .bind(claimed_at)
    .bind(method)
    .bind(paid_at)
    .bind(expired_at)
    .bind(&r.id)
    .execute(&mut **tx)
    .await?;
    if leaving_notice {
        clocks::close(tx, &r.report_id, &[ClockKind::RewardClaim], now).await?;
    }
    if status == "paid" {
        clocks::close(tx, &r.report_id, &[ClockKind::RewardPay], now).await?;
    }
    Ok(status)
}

// ---------------------------------------------------------------------------------------------
// The operation frame
// ---------------------------------------------------------------------------------------------

/// Begin a reward operation on a case: audit lock, case, visibility (region, recusal).
/// Roles are checked by the operation, with [`Op::deny`] for an audited refusal.
async fn begin<'a>(
    wf: &'a Workflow,
    p: &'a Principal,
    case_id: &str,
    action: &'static str,
) -> AppResult<Op<'a>> {
    let mut tx = wf.db.begin().await?;
    audit::lock(&mut tx).await?;
    let Some(case) = load_case(&mut tx, case_id).await? else {
        return Err(case_not_found());
    };
    let recused = is_recused(&mut tx, &p.id, &case).await?;
    let op = Op {
        wf,
        p,
        tx,
        case,
        action,
    };
    if !can_see(p, &op.case, recused) {
        return Err(op.deny(forbidden()).await);
    }
    Ok(op)
}

/// Run `body` as reward operation `action`: begin, body, commit or deny.
macro_rules! reward_op {
    ($wf:expr, $p:expr, $id:expr, $action:expr, |$op:ident| $body:block) => {
        crate::workflow::ops::run_op!(crate::rewards::flow::begin($wf, $p, $id, $action), |$op| {
            $body
        })
    };
}
use reward_op;

/// A read of a case (no audit lock, nothing written) by someone who may see it: the
/// transaction and the case. Refusals are not audited (as for any read).
async fn read_case(
    wf: &Workflow,
    p: &Principal,
    case_id: &str,
) -> AppResult<(Tx<'static>, CaseRow)> {
    let mut tx = wf.db.begin().await?;
    let Some(case) = load_case(&mut tx, case_id).await? else {
        return Err(case_not_found());
    };
    let recused = is_recused(&mut tx, &p.id, &case).await?;
    if !can_see(p, &case, recused) {
        return Err(forbidden());
    }
    Ok((tx, case))
}

// ---------------------------------------------------------------------------------------------
// The decision a reward is computed from
// ---------------------------------------------------------------------------------------------

/// The decision columns a reward is computed from.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Decision {
    decision: Option<String>,
    verified_fen: Option<i64>,
    recovered_fen: Option<i64>,
    reward_due: Option<i64>,
    relation: Option<String>,
    reward_quick: i64,
    reward_heavy: i64,
}

async fn decision(tx: &mut Tx<'_>, case_id: &str) -> Result<Decision, sqlx::Error> {
    sqlx::query_as(
        "SELECT decision, verified_fen, recovered_fen, reward_due, relation, reward_quick, \
         reward_heavy FROM reports WHERE id = $1",
    )
    .bind(case_id)
    .fetch_one(&mut **tx)
    .await
}

fn receipt_date(case: &CaseRow) -> AppResult<NaiveDate> {
    Ok(shanghai_date(
        store::parse_ts(&case.received_at).map_err(AppError::internal)?,
    ))
}

/// The policy in force on the tip's receipt date for the case's region.
fn policy_for(wf: &Workflow, case: &CaseRow) -> AppResult<Policy> {
    let set = policies(&wf.config)?;
    let date = receipt_date(case)?;
    set.select(&case.case_region, date).cloned().ok_or_else(|| {
        AppError::from(RewardError::NoPolicy)
            .arg("region", case.case_region.clone())
            .arg("date", date.to_string())
    })
}

fn due_decision(d: &Decision) -> AppResult<()> {
    let adverse = matches!(d.decision.as_deref(), Some("substantiated" | "partly"));
    if !adverse || d.reward_due != Some(1) {
        return Err(AppError::from(RewardError::NotDue));
    }
    Ok(())
}

fn input_of(d: &Decision, grade: Option<Grade>, no_loss: Option<i64>) -> Input {
    Input {
        verified_fen: d.verified_fen.unwrap_or(0),
        insider: d.relation.as_deref() == Some("insider"),
        grade,
        heavy: d.reward_heavy != 0,
        no_loss_amount_fen: no_loss,
    }
}

/// Whether a reward of `amount` under `policy` needs a supervisor too.
fn needs_supervisor(wf: &Workflow, policy: &Policy, amount: i64) -> bool {
    match policy.approval_threshold_fen {
        Some(_) => policy.needs_supervisor(amount),
        None => amount > wf.config.rewards.supervisor_threshold_fen,
    }
}

fn is_decided(case: &CaseRow) -> bool {
    matches!(case.status, Status::Decided | Status::Closed)
}

/// Whether the case is marked for a quick reward (快奖).
async fn is_quick(tx: &mut Tx<'_>, case_id: &str) -> Result<bool, sqlx::Error> {
    let quick: i64 = sqlx::query_scalar("SELECT reward_quick FROM reports WHERE id = $1")
        .bind(case_id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(quick != 0)
}

// ---------------------------------------------------------------------------------------------
// Reporter timeline
// ---------------------------------------------------------------------------------------------

/// A reporter-visible timeline entry on `report_id` and its push through the channel.
async fn tell(
    tx: &mut Tx<'_>,
    wf: &Workflow,
    report_id: &str,
    status: &str,
    note: Option<String>,
) -> AppResult<()> {
    let max = wf.config.outbox.max_attempts;
    crate::workflow::feedback::tell(tx, wf.db.now(), max, report_id, "reward", status, note)
        .await?;
    Ok(())
}

async fn reporter_locale(tx: &mut Tx<'_>, report_id: &str) -> Result<Locale, sqlx::Error> {
    let l: String = sqlx::query_scalar("SELECT locale FROM reports WHERE id = $1")
        .bind(report_id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(Locale::parse(&l).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reward_status_follows_its_shares() {
        let cases: &[(&[&str], &str)] = &[
            (&["notified"], "notified"),
            (&["claimed"], "claimed"),
            (&["paid"], "paid"),
            (&["expired"], "expired"),
            (&["claimed", "notified"], "notified"),
            (&["paid", "notified"], "notified"),
            (&["paid", "claimed"], "claimed"),
            (&["paid", "paid"], "paid"),
            (&["paid", "expired"], "paid"),
            (&["claimed", "expired"], "claimed"),
            (&["expired", "expired"], "expired"),
        ];
        for (shares, want) in cases {
            assert_eq!(overall_status(shares.iter().copied()), *want, "{shares:?}");
        }
    }
}
