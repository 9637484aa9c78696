//! The life of a reward (DOMAIN §5): preview, proposal by the case's handler, approval under
//! four eyes (finance, and a supervisor above the threshold), notice to the reporter through
//! their channel, the reporter's claim, payment by finance (once), expiry of an unclaimed
//! reward, and reversal of a reward obtained by fraud.
//!
//! Every staff operation runs like a workflow operation ([`Op`]): one transaction that
//! begins with the audit lock, checks the caller against the case (region, recusal, role),
//! writes the change, its case event, its clocks, the reporter's timeline entry and outbox
//! job, and its audit entry; a refusal rolls back and is audited on its own.

use actix_web::http::StatusCode;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::policy::{self, Computation, ComputeError, Grade, Input, Policy};
use super::{policies, share};
use crate::audit::{self, Actor, Entry, Outcome};
use crate::deadlines::calendar::shanghai_date;
use crate::deadlines::clocks::{self, ClockKind, NewClock};
use crate::deadlines::period::{Due, Period};
use crate::domain::{tracking, Status};
use crate::error::{AppError, AppResult};
use crate::i18n::{self, Locale};
use crate::notify::{self, NewJob};
use crate::staff::principal::Principal;
use crate::staff::{self, Role};
use crate::store::{self, ratelimit, Tx};
use crate::vault::claims::{normalize_bank_account, normalize_id_last6};
use crate::vault::Vault;
use crate::workflow::{
    can_see, case_not_found, conflict, forbidden, is_assignee, is_recused, load_case, reason,
    CaseRow, Op, Workflow,
};

// ---------------------------------------------------------------------------------------------
// Requests and views
// ---------------------------------------------------------------------------------------------

/// Reporters who may not be rewarded (DOMAIN §5 "Not eligible").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExcludedKind {
    /// Staff of a medical-insurance department or agency.
    MedicalInsuranceStaff,
    /// Staff of a supervisory body.
    SupervisoryBodyStaff,
    /// Others with a statutory duty to supervise or report.
    StatutoryDuty,
    /// Not a natural person (an organization).
    NotNaturalPerson,
    /// The reporter declined the reward.
    Declined,
}

/// `POST /api/v1/cases/{id}/reward`: what the handler states when proposing.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposeRequest {
    /// Evidence grade (`A`, `B`, `C`), for policies that rate by grade.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub grade: Option<Grade>,
    /// For a tip that was true but caused no loss: the amount the decision set (fen).
    #[serde(default)]
    pub no_loss_amount_fen: Option<i64>,
    /// Set when this case's reporter belongs to an excluded kind.
    #[serde(default)]
    pub excluded_kind: Option<ExcludedKind>,
    /// The facts were already known to the bureau: no reward.
    #[serde(default)]
    pub facts_already_known: bool,
    /// Tips merged into this case whose reporters are excluded (their ids).
    #[serde(default)]
    pub excluded_merged: Vec<String>,
    /// Co-reporters (a joint report: several tips on the same facts merged into this case)
    /// and the weights the decision records. The reward is split between their tips by
    /// weight (largest remainder, see docs/rewards.md). The list must include the first
    /// valid reporter. Absent or empty: the whole reward goes to the first valid reporter.
    #[serde(default)]
    pub co_reporters: Vec<CoReporter>,
    pub reason: Option<String>,
}

/// One co-reporter recorded by the decision.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoReporter {
    /// The tip: this case's id or tracking code, or that of a tip merged into it.
    pub tip: String,
    /// The recorded weight, a whole number from 1 to 10,000; the share is
    /// weight ÷ (sum of the weights) of the reward.
    pub weight: i64,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct PreviewQuery {
    /// `A`, `B` or `C`.
    pub grade: Option<String>,
    pub no_loss_amount_fen: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagsRequest {
    /// 快奖: the reward steps get their own, shorter deadlines.
    #[serde(default)]
    pub quick: Option<bool>,
    /// 重奖: the policy's multiplier applies (still under the cap).
    #[serde(default)]
    pub heavy: Option<bool>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PayMethod {
    BankTransfer,
    InPerson,
}

impl PayMethod {
    pub fn code(self) -> &'static str {
        match self {
            PayMethod::BankTransfer => "bank_transfer",
            PayMethod::InPerson => "in_person",
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    pub method: PayMethod,
    /// Bank transfer reference, or the number of the signed in-person receipt.
    pub reference: String,
    /// Must equal the approved amount (fen).
    pub amount_fen: i64,
    /// YYYY-MM-DD; today when absent.
    #[serde(default)]
    pub paid_on: Option<String>,
    /// In person: the last six characters of the ID number the claimant shows.
    #[serde(default)]
    pub id_last6: Option<String>,
    /// The share paid: its tip's case id or tracking code. Needed only when the reward is
    /// shared between co-reporters; `amount_fen` is then that share's amount.
    #[serde(default)]
    pub tip: Option<String>,
}

/// `POST /api/v1/reports/reward/claim` (reporter side, no login).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequest {
    pub tracking_code: String,
    pub passcode: String,
    #[serde(default)]
    pub bank_account: Option<String>,
    #[serde(default)]
    pub id_last6: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ClaimDone {
    pub status: &'static str,
    pub method: &'static str,
    pub amount_fen: i64,
}

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
    /// The tip's case id.
    pub case_id: String,
    /// The tip's tracking code (the reporter claims with it and the passcode).
    pub tracking_code: String,
    pub weight: i64,
    pub amount_fen: i64,
    /// pending (before the notice) | notified | claimed | paid | expired
    pub status: String,
    pub claimed_at: Option<String>,
    pub claim_method: Option<String>,
    pub paid_at: Option<String>,
    pub expired_at: Option<String>,
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
    id_check_digest: Option<Vec<u8>>,
    paid_at: Option<String>,
    expired_at: Option<String>,
    tracking_code: String,
}

/// Columns of [`ShareRow`] from `reward_shares s JOIN reports t ON t.id = s.report_id`.
const SHARE_SELECT: &str = "SELECT s.id, s.reward_id, s.report_id, s.weight, s.amount_fen, \
    s.status, s.claimed_at, s.claim_method, s.id_check_digest, s.paid_at, s.expired_at, \
    t.tracking_code FROM reward_shares s JOIN reports t ON t.id = s.report_id";

impl ShareRow {
    fn view(&self) -> ShareView {
        ShareView {
            case_id: self.report_id.clone(),
            tracking_code: self.tracking_code.clone(),
            weight: self.weight,
            amount_fen: self.amount_fen,
            status: self.status.clone(),
            claimed_at: self.claimed_at.clone(),
            claim_method: self.claim_method.clone(),
            paid_at: self.paid_at.clone(),
            expired_at: self.expired_at.clone(),
        }
    }

    /// Whether `tip` (a case id or a tracking code, as typed) names this share's tip.
    fn is_tip(&self, tip: &str) -> bool {
        let tip = tip.trim();
        tip == self.report_id
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

async fn reward_of_case(tx: &mut Tx<'_>, case_id: &str) -> Result<Option<RewardRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {REWARD_COLUMNS} FROM rewards WHERE report_id = $1"
    ))
    .bind(case_id)
    .fetch_optional(&mut **tx)
    .await
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

fn reward_not_found() -> AppError {
    AppError::new(
        StatusCode::NOT_FOUND,
        "reward_not_found",
        "error-reward-not-found",
    )
}

fn wrong_reward_status(status: &str) -> AppError {
    conflict("wrong_reward_status", "error-reward-wrong-status").arg("status", status.to_string())
}

fn compute_error(e: ComputeError) -> AppError {
    match e {
        ComputeError::NegativeVerified(_) => conflict("reward_not_due", "error-reward-not-due"),
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

/// A tip that may be rewarded: the case, or a tip merged into it.
#[derive(Debug, Clone)]
struct Candidate {
    id: String,
    tracking_code: String,
    /// Its reporter is not excluded.
    valid: bool,
}

/// Checks the co-reporters of a proposal against the tips of the case and returns their
/// tip ids and weights in the order recorded. Each must name the case or a tip merged into
/// it (by id or tracking code), at most once, whose reporter is not excluded, with a weight
/// from 1 to [`share::MAX_WEIGHT`]; at most [`share::MAX_CO_REPORTERS`] of them, and the
/// first valid reporter (`first`) among them, so that co-reporters share the reward DOMAIN §5
/// gives the first valid reporter rather than take it from them.
fn resolve_co_reporters(
    list: &[CoReporter],
    candidates: &[Candidate],
    first: &str,
) -> AppResult<Vec<(String, u32)>> {
    if list.len() > share::MAX_CO_REPORTERS {
        return Err(
            AppError::invalid("co_reporters", "error-reward-co-reporters-too-many")
                .arg("max", share::MAX_CO_REPORTERS),
        );
    }
    let mut out: Vec<(String, u32)> = Vec::with_capacity(list.len());
    for c in list {
        let tip = c.tip.trim();
        let code = tracking::normalize_code(tip);
        let Some(found) = candidates
            .iter()
            .find(|k| k.id == tip || code.as_deref() == Some(k.tracking_code.as_str()))
        else {
            return Err(
                AppError::invalid("co_reporters.tip", "error-reward-co-reporter-unknown")
                    .arg("tip", shown(tip)),
            );
        };
        if out.iter().any(|(id, _)| *id == found.id) {
            return Err(AppError::invalid(
                "co_reporters.tip",
                "error-reward-co-reporter-duplicate",
            )
            .arg("tip", shown(tip)));
        }
        if !found.valid {
            return Err(
                AppError::invalid("co_reporters.tip", "error-reward-co-reporter-excluded")
                    .arg("tip", shown(tip)),
            );
        }
        let weight = u32::try_from(c.weight)
            .ok()
            .filter(|w| (1..=share::MAX_WEIGHT).contains(w))
            .ok_or_else(|| {
                AppError::invalid("co_reporters.weight", "error-reward-co-reporter-weight")
                    .arg("max", share::MAX_WEIGHT)
            })?;
        out.push((found.id.clone(), weight));
    }
    if !out.is_empty() && !out.iter().any(|(id, _)| id == first) {
        let code = candidates
            .iter()
            .find(|k| k.id == first)
            .map(|k| k.tracking_code.clone())
            .unwrap_or_default();
        return Err(
            AppError::invalid("co_reporters", "error-reward-co-reporters-first").arg("tip", code),
        );
    }
    Ok(out)
}

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

/// Fen as yuan text with two decimals (for messages only; amounts stay integer fen).
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
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
    let recused = is_recused(&mut tx, &p.id, &case.target_key).await?;
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
        crate::workflow::ops::run_op!(begin($wf, $p, $id, $action), |$op| $body)
    };
}

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
        conflict("no_policy", "error-reward-no-policy")
            .arg("region", case.case_region.clone())
            .arg("date", date.to_string())
    })
}

fn due_decision(d: &Decision) -> AppResult<()> {
    let adverse = matches!(d.decision.as_deref(), Some("substantiated" | "partly"));
    if !adverse || d.reward_due != Some(1) {
        return Err(conflict("reward_not_due", "error-reward-not-due"));
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

// ---------------------------------------------------------------------------------------------
// Clocks
// ---------------------------------------------------------------------------------------------

/// Called by the decision (workflow) in its transaction when a reward is due: start the
/// reward-notice clock (the policy's `notice_working_days`, or the quick deadline).
pub async fn open_notice_clock(op: &mut Op<'_>) -> AppResult<()> {
    let wf = op.wf;
    let quick: i64 = sqlx::query_scalar("SELECT reward_quick FROM reports WHERE id = $1")
        .bind(&op.case.id)
        .fetch_one(&mut *op.tx)
        .await?;
    // No policy covers the case (a region without one): the national default, 5 working
    // days; the proposal will then say that no policy applies.
    let policy = policy_for(wf, &op.case).ok();
    let (days, rule) = if quick != 0 {
        (
            u32::try_from(wf.config.rewards.quick_notice_working_days).unwrap_or(2),
            "rewards.quick_notice_working_days".to_string(),
        )
    } else {
        policy.as_ref().map_or((5, "national@1".to_string()), |p| {
            (p.notice_working_days, p.label())
        })
    };
    let case_id = op.case.id.clone();
    open_reward_clock(
        &mut op.tx,
        wf,
        &case_id,
        ClockKind::RewardNotice,
        Period::WorkingDays(days),
        &rule,
    )
    .await?;
    Ok(())
}

/// Open a reward clock of a case from now, with the period its reward policy sets (the
/// policy is the clock's rule).
async fn open_reward_clock(
    tx: &mut Tx<'_>,
    wf: &Workflow,
    case_id: &str,
    kind: ClockKind,
    period: Period,
    rule: &str,
) -> Result<Due, sqlx::Error> {
    let clock = NewClock::new(case_id, kind, Utc::now(), period, rule);
    clocks::open(tx, &wf.calendar.current(), &clock).await
}

/// A quick reward's (快奖) own clocks for its approval and payment steps.
async fn quick_clock(
    tx: &mut Tx<'_>,
    wf: &Workflow,
    case_id: &str,
    kind: ClockKind,
    pol: &Policy,
) -> Result<(), sqlx::Error> {
    let quick: i64 = sqlx::query_scalar("SELECT reward_quick FROM reports WHERE id = $1")
        .bind(case_id)
        .fetch_one(&mut **tx)
        .await?;
    if quick == 0 {
        return Ok(());
    }
    let days = if kind == ClockKind::RewardApprove {
        pol.quick_approve_working_days
    } else {
        pol.quick_pay_working_days
    };
    clocks::close(tx, case_id, &[kind], Utc::now()).await?;
    open_reward_clock(
        tx,
        wf,
        case_id,
        kind,
        Period::WorkingDays(days),
        &pol.label(),
    )
    .await?;
    Ok(())
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
    let event_id: i64 = sqlx::query_scalar(
        "INSERT INTO report_events (report_id, at, kind, status, public_note) \
         VALUES ($1, $2, 'reward', $3, $4) RETURNING id",
    )
    .bind(report_id)
    .bind(store::ts(Utc::now()))
    .bind(status)
    .bind(note)
    .fetch_one(&mut **tx)
    .await?;
    let job = NewJob::new(
        crate::workflow::feedback::KIND,
        serde_json::json!({ "report_id": report_id, "event_id": event_id }),
    )
    .dedupe(format!("feedback:{event_id}"));
    notify::enqueue(tx, &job, wf.config.outbox.max_attempts).await?;
    Ok(())
}

async fn reporter_locale(tx: &mut Tx<'_>, report_id: &str) -> Result<Locale, sqlx::Error> {
    let l: String = sqlx::query_scalar("SELECT locale FROM reports WHERE id = $1")
        .bind(report_id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(Locale::parse(&l).unwrap_or_default())
}

// ---------------------------------------------------------------------------------------------
// Staff operations
// ---------------------------------------------------------------------------------------------

/// `GET /cases/{id}/reward/preview`: the amount and its explanation, nothing stored.
pub async fn preview(
    wf: &Workflow,
    p: &Principal,
    case_id: &str,
    q: &PreviewQuery,
) -> AppResult<Computation> {
    let mut tx = wf.db.begin().await?;
    let Some(case) = load_case(&mut tx, case_id).await? else {
        return Err(case_not_found());
    };
    let recused = is_recused(&mut tx, &p.id, &case.target_key).await?;
    if !can_see(p, &case, recused) {
        return Err(forbidden());
    }
    let grade = match q.grade.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("A") | Some("a") => Some(Grade::A),
        Some("B") | Some("b") => Some(Grade::B),
        Some("C") | Some("c") => Some(Grade::C),
        Some(_) => return Err(AppError::invalid("grade", "error-wrong-type")),
    };
    let d = decision(&mut tx, case_id).await?;
    drop(tx);
    if !is_decided(&case) {
        return Err(
            conflict("wrong_status", "error-wrong-status").arg("status", case.status.code())
        );
    }
    due_decision(&d)?;
    let pol = policy_for(wf, &case)?;
    policy::compute(&pol, &input_of(&d, grade, q.no_loss_amount_fen)).map_err(compute_error)
}

/// `GET /cases/{id}/reward`.
pub async fn show(wf: &Workflow, p: &Principal, case_id: &str) -> AppResult<RewardView> {
    let mut tx = wf.db.begin().await?;
    let Some(case) = load_case(&mut tx, case_id).await? else {
        return Err(case_not_found());
    };
    let recused = is_recused(&mut tx, &p.id, &case.target_key).await?;
    if !can_see(p, &case, recused) {
        return Err(forbidden());
    }
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
        let key: String = sqlx::query_scalar("SELECT target_key FROM reports WHERE id = $1")
            .bind(&r.report_id)
            .fetch_one(&wf.db.pool)
            .await?;
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM staff_conflicts WHERE user_id = $1 AND target_key = $2",
        )
        .bind(&p.id)
        .bind(key)
        .fetch_one(&wf.db.pool)
        .await?;
        if n == 0 {
            let shares = by_reward.remove(&r.id).unwrap_or_default();
            out.push(r.view(&shares).complete(&wf.db.pool).await?);
        }
    }
    Ok(out)
}

/// `POST /cases/{id}/reward/flags`: a supervisor marks a case for a quick and/or heavy
/// reward, before the reward is approved.
pub async fn set_flags(
    wf: &Workflow,
    p: &Principal,
    case_id: &str,
    req: FlagsRequest,
) -> AppResult<serde_json::Value> {
    reward_op!(wf, p, case_id, "reward_flags", |op| {
        if !p.has(Role::Supervisor) {
            return Err(forbidden());
        }
        let why = reason("reason", req.reason.as_deref())?;
        if !matches!(
            op.case.status,
            Status::Accepted | Status::Checking | Status::Decided | Status::Closed
        ) {
            return Err(
                conflict("wrong_status", "error-wrong-status").arg("status", op.case.status.code())
            );
        }
        if let Some(r) = reward_of_case(&mut op.tx, case_id).await? {
            if r.status != "returned" {
                return Err(wrong_reward_status(&r.status));
            }
        }
        let d = decision(&mut op.tx, case_id).await?;
        let quick = req.quick.unwrap_or(d.reward_quick != 0);
        let heavy = req.heavy.unwrap_or(d.reward_heavy != 0);
        sqlx::query("UPDATE reports SET reward_quick = $1, reward_heavy = $2 WHERE id = $3")
            .bind(i64::from(quick))
            .bind(i64::from(heavy))
            .bind(case_id)
            .execute(&mut *op.tx)
            .await?;
        let data = serde_json::json!({ "quick": quick, "heavy": heavy });
        op.event("reward_flags", None, None, Some(&why), data.clone())
            .await?;
        Ok(data)
    })
}

/// `POST /cases/{id}/reward`: the case's handler proposes the reward computed by the
/// policy in force on the receipt date. A returned proposal may be proposed again.
pub async fn propose(
    wf: &Workflow,
    p: &Principal,
    case_id: &str,
    req: ProposeRequest,
) -> AppResult<serde_json::Value> {
    reward_op!(wf, p, case_id, "reward_propose", |op| {
        if !is_assignee(p, &op.case) {
            return Err(forbidden());
        }
        if !is_decided(&op.case) {
            return Err(
                conflict("wrong_status", "error-wrong-status").arg("status", op.case.status.code())
            );
        }
        let why = reason("reason", req.reason.as_deref())?;
        if req.no_loss_amount_fen.is_some_and(|a| a < 0) {
            return Err(AppError::invalid("no_loss_amount_fen", "error-amount"));
        }
        let d = decision(&mut op.tx, case_id).await?;
        due_decision(&d)?;
        if req.facts_already_known {
            return Err(conflict("not_eligible", "error-reward-facts-known"));
        }
        let existing = reward_of_case(&mut op.tx, case_id).await?;
        if let Some(r) = &existing {
            if r.status != "returned" {
                return Err(wrong_reward_status(&r.status));
            }
        }
        // First valid reporter among the tips merged on the same facts (the case keeps
        // priority: tips are merged only into an earlier one).
        let merged: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT received_at, id, tracking_code FROM reports WHERE merged_into = $1 \
             ORDER BY id",
        )
        .bind(case_id)
        .fetch_all(&mut *op.tx)
        .await?;
        for id in &req.excluded_merged {
            if !merged.iter().any(|(_, m, _)| m == id) {
                return Err(AppError::invalid("excluded_merged", "error-wrong-type"));
            }
        }
        let case_code: String =
            sqlx::query_scalar("SELECT tracking_code FROM reports WHERE id = $1")
                .bind(case_id)
                .fetch_one(&mut *op.tx)
                .await?;
        let mut candidates = vec![(
            op.case.received_at.clone(),
            req.excluded_kind.is_none(),
            op.case.id.clone(),
        )];
        let mut tips = vec![Candidate {
            id: op.case.id.clone(),
            tracking_code: case_code,
            valid: req.excluded_kind.is_none(),
        }];
        for (at, id, code) in merged {
            let valid = !req.excluded_merged.contains(&id);
            tips.push(Candidate {
                id: id.clone(),
                tracking_code: code,
                valid,
            });
            candidates.push((at, valid, id));
        }
        let Some(beneficiary) = share::first_valid(&candidates).cloned() else {
            return Err(conflict("not_eligible", "error-reward-excluded"));
        };
        let co = resolve_co_reporters(&req.co_reporters, &tips, &beneficiary)?;
        let pol = policy_for(op.wf, &op.case)?;
        let pol = &pol;
        let input = input_of(&d, req.grade, req.no_loss_amount_fen);
        let c = policy::compute(pol, &input).map_err(compute_error)?;
        // Who gets what: the co-reporters by weight, or the first valid reporter alone.
        let weights = if co.is_empty() {
            vec![(beneficiary.clone(), 1)]
        } else {
            co.clone()
        };
        let sharing = share::explain(c.amount_fen, &weights).map_err(AppError::internal)?;
        if !co.is_empty() && sharing.lines.iter().any(|l| l.amount_fen < 1) {
            return Err(AppError::invalid(
                "co_reporters.weight",
                "error-reward-co-reporter-zero-share",
            ));
        }
        let needs_sup = needs_supervisor(op.wf, pol, c.amount_fen);
        let now = store::ts(Utc::now());
        let mut stated = serde_json::json!({
            "input": input,
            "excluded_kind": req.excluded_kind,
            "excluded_merged": req.excluded_merged,
            "quick": d.reward_quick != 0,
        });
        let computation = if co.is_empty() {
            serde_json::to_string(&c).map_err(AppError::internal)?
        } else {
            stated["co_reporters"] = serde_json::json!(co
                .iter()
                .map(|(id, w)| serde_json::json!({ "case_id": id, "weight": w }))
                .collect::<Vec<_>>());
            // The explanation gains how the total was split, with the rule.
            let mut v = serde_json::to_value(&c).map_err(AppError::internal)?;
            v["sharing"] = serde_json::to_value(&sharing).map_err(AppError::internal)?;
            v.to_string()
        };
        let reward_id = match &existing {
            Some(r) => {
                sqlx::query(
                    "UPDATE rewards SET beneficiary_report_id = $1, policy_id = $2, \
                     policy_version = $3, input = $4, computation = $5, amount_fen = $6, \
                     status = 'proposed', needs_supervisor = $7, proposed_by = $8, proposed_at = $9, \
                     finance_approved_by = NULL, finance_approved_at = NULL, \
                     supervisor_approved_by = NULL, supervisor_approved_at = NULL, \
                     version = version + 1 WHERE id = $10 AND version = $11",
                )
                .bind(&beneficiary)
                .bind(&pol.id)
                .bind(i64::from(pol.version))
                .bind(stated.to_string())
                .bind(&computation)
                .bind(c.amount_fen)
                .bind(i64::from(needs_sup))
                .bind(&p.id)
                .bind(&now)
                .bind(&r.id)
                .bind(r.version)
                .execute(&mut *op.tx)
                .await?;
                // A returned reward was never notified: its shares are simply replaced.
                sqlx::query("DELETE FROM reward_shares WHERE reward_id = $1")
                    .bind(&r.id)
                    .execute(&mut *op.tx)
                    .await?;
                r.id.clone()
            }
            None => {
                let id = uuid::Uuid::now_v7().to_string();
                sqlx::query(
                    "INSERT INTO rewards (id, report_id, beneficiary_report_id, case_region, \
                     policy_id, policy_version, input, computation, amount_fen, status, \
                     needs_supervisor, proposed_by, proposed_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'proposed', $10, $11, $12)",
                )
                .bind(&id)
                .bind(case_id)
                .bind(&beneficiary)
                .bind(&op.case.case_region)
                .bind(&pol.id)
                .bind(i64::from(pol.version))
                .bind(stated.to_string())
                .bind(&computation)
                .bind(c.amount_fen)
                .bind(i64::from(needs_sup))
                .bind(&p.id)
                .bind(&now)
                .execute(&mut *op.tx)
                .await?;
                id
            }
        };
        for (seq, line) in sharing.lines.iter().enumerate() {
            sqlx::query(
                "INSERT INTO reward_shares (id, reward_id, report_id, seq, weight, amount_fen, \
                 status) VALUES ($1, $2, $3, $4, $5, $6, 'pending')",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(&reward_id)
            .bind(&line.key)
            .bind(i64::try_from(seq).unwrap_or(i64::MAX))
            .bind(i64::from(line.weight))
            .bind(line.amount_fen)
            .execute(&mut *op.tx)
            .await?;
        }
        let mut data = serde_json::json!({
            "reward_id": reward_id,
            "amount_fen": c.amount_fen,
            "policy_id": pol.id,
            "policy_version": pol.version,
            "needs_supervisor": needs_sup,
            "beneficiary_is_case": beneficiary == op.case.id,
        });
        if !co.is_empty() {
            data["shares"] = serde_json::json!(sharing
                .lines
                .iter()
                .map(|l| serde_json::json!({
                    "case_id": l.key, "weight": l.weight, "amount_fen": l.amount_fen,
                }))
                .collect::<Vec<_>>());
            data["remainder_rule"] = serde_json::json!(share::REMAINDER_RULE);
        }
        quick_clock(&mut op.tx, op.wf, case_id, ClockKind::RewardApprove, pol).await?;
        op.event("reward_proposed", None, None, Some(&why), data.clone())
            .await?;
        Ok(data)
    })
}

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
        return Err(conflict(
            "collective_decision_required",
            "error-collective-decision-required",
        ));
    }
    crate::workflow::ops::require_legal_approval(&mut op.tx, &op.case.id).await
}

/// The budget that covers a case region in a year (the most local one), with its balance.
async fn budget_for(
    tx: &mut Tx<'_>,
    year: i32,
    case_region: &str,
) -> Result<Option<Budget>, sqlx::Error> {
    for region in staff::enclosing_regions(case_region) {
        let amount: Option<i64> = sqlx::query_scalar(
            "SELECT amount_fen FROM reward_budgets WHERE year = $1 AND region = $2",
        )
        .bind(i64::from(year))
        .bind(&region)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(amount) = amount {
            return Ok(Some(balance(tx, year, region, amount).await?));
        }
    }
    Ok(None)
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
        let r = reward_of_case(&mut op.tx, case_id)
            .await?
            .ok_or_else(reward_not_found)?;
        if r.status != "proposed" {
            return Err(wrong_reward_status(&r.status));
        }
        if r.proposed_by == p.id {
            return Err(AppError::new(
                StatusCode::FORBIDDEN,
                "own_proposal",
                "error-reward-own-proposal",
            ));
        }
        if r.finance_approved_by.as_deref() == Some(p.id.as_str())
            || r.supervisor_approved_by.as_deref() == Some(p.id.as_str())
        {
            return Err(conflict(
                "already_approved",
                "error-reward-already-approved",
            ));
        }
        let needs_sup = r.needs_supervisor != 0;
        let slot = if p.has(Role::Finance) && r.finance_approved_by.is_none() {
            "finance"
        } else if p.has(Role::Supervisor) && needs_sup && r.supervisor_approved_by.is_none() {
            "supervisor"
        } else if p.has(Role::Supervisor) && !needs_sup {
            return Err(conflict(
                "finance_approval_required",
                "error-reward-finance-required",
            ));
        } else {
            return Err(conflict(
                "already_approved",
                "error-reward-already-approved",
            ));
        };
        let d = decision(&mut op.tx, case_id).await?;
        let set = policies(&op.wf.config)?;
        let pol = set.get(&r.policy_id, u32::try_from(r.policy_version).unwrap_or(0));
        collective_and_legal(&mut op, d.recovered_fen.unwrap_or(0), r.amount_fen, pol).await?;
        let note = req
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let now_t = Utc::now();
        let now = store::ts(now_t);
        let finance_done = slot == "finance" || r.finance_approved_by.is_some();
        let sup_done = !needs_sup || slot == "supervisor" || r.supervisor_approved_by.is_some();
        let complete = finance_done && sup_done;
        if complete {
            let year = shanghai_date(now_t).year();
            if let Some(b) = budget_for(&mut op.tx, year, &r.case_region).await? {
                if b.balance_fen < r.amount_fen {
                    return Err(conflict("budget_exceeded", "error-reward-budget")
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
            return Err(conflict("concurrent_change", "error-concurrent-change"));
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
        let r = reward_of_case(&mut op.tx, case_id)
            .await?
            .ok_or_else(reward_not_found)?;
        if r.status != "proposed" {
            return Err(wrong_reward_status(&r.status));
        }
        if r.proposed_by == p.id {
            return Err(AppError::new(
                StatusCode::FORBIDDEN,
                "own_proposal",
                "error-reward-own-proposal",
            ));
        }
        sqlx::query(
            "UPDATE rewards SET status = 'returned', returned_by = $1, returned_at = $2, \
             return_reason = $3, finance_approved_by = NULL, finance_approved_at = NULL, \
             supervisor_approved_by = NULL, supervisor_approved_at = NULL, \
             version = version + 1 WHERE id = $4",
        )
        .bind(&p.id)
        .bind(store::ts(Utc::now()))
        .bind(&why)
        .bind(&r.id)
        .execute(&mut *op.tx)
        .await?;
        clocks::close(&mut op.tx, case_id, &[ClockKind::RewardApprove], Utc::now()).await?;
        let data = serde_json::json!({ "reward_id": r.id, "status": "returned" });
        op.event("reward_returned", None, None, Some(&why), data.clone())
            .await?;
        Ok(data)
    })
}

/// `POST /cases/{id}/reward/notice`: tell the reporter (timeline + their channel) and start
/// the claim window. The case's handler or finance.
pub async fn notify_reporter(
    wf: &Workflow,
    p: &Principal,
    case_id: &str,
) -> AppResult<serde_json::Value> {
    reward_op!(wf, p, case_id, "reward_notice", |op| {
        if !(is_assignee(p, &op.case) || p.has(Role::Finance)) {
            return Err(forbidden());
        }
        let r = reward_of_case(&mut op.tx, case_id)
            .await?
            .ok_or_else(reward_not_found)?;
        if r.status != "approved" {
            return Err(wrong_reward_status(&r.status));
        }
        let set = policies(&op.wf.config)?;
        let claim_days = set
            .get(&r.policy_id, u32::try_from(r.policy_version).unwrap_or(0))
            .map_or(60, |pol| pol.claim_days);
        let now = Utc::now();
        // The window's last day moves off a rest day (Civil Code art. 203).
        let rule = format!("{}@{}", r.policy_id, r.policy_version);
        clocks::close(&mut op.tx, case_id, &[ClockKind::RewardNotice], now).await?;
        let claim_by = open_reward_clock(
            &mut op.tx,
            op.wf,
            case_id,
            ClockKind::RewardClaim,
            Period::Days(claim_days),
            &rule,
        )
        .await?
        .on;
        sqlx::query(
            "UPDATE rewards SET status = 'notified', notified_at = $1, claim_by = $2, \
             version = version + 1 WHERE id = $3",
        )
        .bind(store::ts(now))
        .bind(claim_by.to_string())
        .bind(&r.id)
        .execute(&mut *op.tx)
        .await?;
        let shares = shares_of(&mut op.tx, &r.id).await?;
        sqlx::query(
            "UPDATE reward_shares SET status = 'notified' WHERE reward_id = $1 \
             AND status = 'pending'",
        )
        .bind(&r.id)
        .execute(&mut *op.tx)
        .await?;
        // Each share's reporter is told through their own tip's channel.
        for sh in &shares {
            let loc = reporter_locale(&mut op.tx, &sh.report_id).await?;
            let note = if shares.len() == 1 {
                i18n::t(
                    loc,
                    "reward-notice-note",
                    &[
                        ("amount", yuan(sh.amount_fen)),
                        ("claim_by", claim_by.to_string()),
                    ],
                )
            } else {
                i18n::t(
                    loc,
                    "reward-share-notice-note",
                    &[
                        ("amount", yuan(sh.amount_fen)),
                        ("total", yuan(r.amount_fen)),
                        ("claim_by", claim_by.to_string()),
                    ],
                )
            };
            tell(
                &mut op.tx,
                op.wf,
                &sh.report_id,
                "reward_notified",
                Some(note),
            )
            .await?;
        }
        let data = serde_json::json!({
            "reward_id": r.id,
            "status": "notified",
            "claim_by": claim_by.to_string(),
        });
        op.event("reward_notified", None, None, None, data.clone())
            .await?;
        Ok(data)
    })
}

/// `POST /cases/{id}/reward/payment`: finance records the payment, once.
pub async fn record_payment(
    wf: &Workflow,
    vault: &Vault,
    p: &Principal,
    case_id: &str,
    req: PaymentRequest,
) -> AppResult<serde_json::Value> {
    reward_op!(wf, p, case_id, "reward_payment", |op| {
        if !p.has(Role::Finance) {
            return Err(forbidden());
        }
        if req.amount_fen <= 0 {
            return Err(AppError::invalid("amount_fen", "error-amount"));
        }
        let reference = req.reference.trim().to_string();
        if reference.is_empty() {
            return Err(AppError::invalid("reference", "error-required"));
        }
        if reference.chars().count() > 100 {
            return Err(AppError::invalid("reference", "error-too-long").arg("max", 100));
        }
        let now = Utc::now();
        let paid_on = match req.paid_on.as_deref().map(str::trim) {
            None | Some("") => shanghai_date(now),
            Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| AppError::invalid("paid_on", "error-date"))?,
        };
        if paid_on > shanghai_date(now) {
            return Err(AppError::invalid("paid_on", "error-date-future"));
        }
        let r = reward_of_case(&mut op.tx, case_id)
            .await?
            .ok_or_else(reward_not_found)?;
        if !matches!(r.status.as_str(), "notified" | "claimed" | "paid") {
            return Err(wrong_reward_status(&r.status));
        }
        // The share paid: named by its tip, or the only one.
        let shares = shares_of(&mut op.tx, &r.id).await?;
        let shared = shares.len() > 1;
        let sh = match req.tip.as_deref().map(str::trim) {
            Some(tip) if !tip.is_empty() => {
                shares.iter().find(|sh| sh.is_tip(tip)).ok_or_else(|| {
                    AppError::invalid("tip", "error-reward-share-unknown").arg("tip", shown(tip))
                })?
            }
            _ if !shared => shares
                .first()
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("reward without shares")))?,
            _ => return Err(AppError::invalid("tip", "error-reward-share-required")),
        };
        if sh.status == "paid" {
            return Err(conflict("already_paid", "error-reward-already-paid"));
        }
        if sh.status != "claimed" {
            return Err(wrong_reward_status(&sh.status));
        }
        if r.proposed_by == p.id {
            return Err(AppError::new(
                StatusCode::FORBIDDEN,
                "own_proposal",
                "error-reward-own-proposal",
            ));
        }
        if req.amount_fen != sh.amount_fen {
            return Err(
                AppError::invalid("amount_fen", "error-reward-amount-mismatch")
                    .arg("amount", yuan(sh.amount_fen)),
            );
        }
        match req.method {
            PayMethod::BankTransfer => {
                if !vault.has_bank_account(&mut *op.tx, &sh.report_id).await? {
                    return Err(conflict("no_bank_account", "error-reward-no-bank-account"));
                }
            }
            PayMethod::InPerson => {
                let last6 = req
                    .id_last6
                    .as_deref()
                    .ok_or_else(|| AppError::invalid("id_last6", "error-required"))?;
                let last6 = normalize_id_last6(last6)
                    .ok_or_else(|| AppError::invalid("id_last6", "error-reward-id-last6"))?;
                let ok = vault
                    .id_last6_matches(
                        &mut *op.tx,
                        &sh.report_id,
                        &sh.id,
                        sh.id_check_digest.as_deref(),
                        &last6,
                    )
                    .await?;
                if ok != Some(true) {
                    return Err(AppError::invalid("id_last6", "error-reward-id-mismatch")
                        .with_code("id_mismatch"));
                }
            }
        }
        let inserted = sqlx::query(
            "INSERT INTO reward_payments (share_id, reward_id, method, reference, amount_fen, \
             paid_on, year, case_region, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&sh.id)
        .bind(&r.id)
        .bind(req.method.code())
        .bind(&reference)
        .bind(sh.amount_fen)
        .bind(paid_on.to_string())
        .bind(i64::from(paid_on.year()))
        .bind(&r.case_region)
        .bind(&p.id)
        .bind(store::ts(now))
        .execute(&mut *op.tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(e) if store::is_unique_violation(&e) => {
                return Err(conflict("already_paid", "error-reward-already-paid"))
            }
            Err(e) => return Err(e.into()),
        }
        let moved = sqlx::query(
            "UPDATE reward_shares SET status = 'paid', paid_at = $1 \
             WHERE id = $2 AND status = 'claimed'",
        )
        .bind(store::ts(now))
        .bind(&sh.id)
        .execute(&mut *op.tx)
        .await?
        .rows_affected();
        if moved != 1 {
            return Err(conflict("already_paid", "error-reward-already-paid"));
        }
        let status = settle(&mut op.tx, &r, now).await?;
        tell(&mut op.tx, op.wf, &sh.report_id, "reward_paid", None).await?;
        // The reference is finance's record, not the reporter's: it stays out of the audit
        // detail beyond its length.
        let mut data = serde_json::json!({
            "reward_id": r.id,
            "status": status,
            "method": req.method,
            "amount_fen": sh.amount_fen,
            "paid_on": paid_on.to_string(),
        });
        let mut event = serde_json::json!({ "method": req.method, "reference": reference, "paid_on": paid_on.to_string() });
        if shared {
            data["share"] = serde_json::json!({ "case_id": sh.report_id, "status": "paid" });
            event["case_id"] = serde_json::json!(sh.report_id);
            event["amount_fen"] = serde_json::json!(sh.amount_fen);
        }
        op.event("reward_paid", None, None, None, event).await?;
        Ok(data)
    })
}

/// `POST /cases/{id}/reward/reversal`: a reward obtained by fraud is reversed by two people,
/// a supervisor and finance: the first records the request with the reason, the second (of
/// the other role) confirms. A paid reward stays counted as paid; recovering it is recorded
/// outside (the reversal says so).
pub async fn reverse(
    wf: &Workflow,
    p: &Principal,
    case_id: &str,
    req: NoteRequest,
) -> AppResult<serde_json::Value> {
    reward_op!(wf, p, case_id, "reward_reversal", |op| {
        if !p.has_any(&[Role::Finance, Role::Supervisor]) {
            return Err(forbidden());
        }
        let why = reason("reason", req.reason.as_deref())?;
        let r = reward_of_case(&mut op.tx, case_id)
            .await?
            .ok_or_else(reward_not_found)?;
        if !matches!(
            r.status.as_str(),
            "approved" | "notified" | "claimed" | "paid"
        ) {
            return Err(wrong_reward_status(&r.status));
        }
        let now = Utc::now();
        let Some(requester) = r.reversal_requested_by.clone() else {
            sqlx::query(
                "UPDATE rewards SET reversal_requested_by = $1, reversal_requested_at = $2, \
                 reversal_reason = $3, version = version + 1 WHERE id = $4",
            )
            .bind(&p.id)
            .bind(store::ts(now))
            .bind(&why)
            .bind(&r.id)
            .execute(&mut *op.tx)
            .await?;
            let data = serde_json::json!({ "reward_id": r.id, "reversal": "requested" });
            op.event(
                "reward_reversal_requested",
                None,
                None,
                Some(&why),
                data.clone(),
            )
            .await?;
            return Ok(data);
        };
        if requester == p.id {
            return Err(conflict(
                "reversal_second_person",
                "error-reward-reversal-second",
            ));
        }
        let first = staff::by_id(&op.wf.db.pool, &requester)
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("requester gone")))?;
        let pair_ok = (first.roles.contains(&Role::Supervisor) && p.has(Role::Finance))
            || (first.roles.contains(&Role::Finance) && p.has(Role::Supervisor));
        if !pair_ok {
            return Err(conflict(
                "reversal_second_person",
                "error-reward-reversal-second",
            ));
        }
        sqlx::query(
            "UPDATE rewards SET status = 'reversed', reversed_by = $1, reversed_at = $2, \
             version = version + 1 WHERE id = $3",
        )
        .bind(&p.id)
        .bind(store::ts(now))
        .bind(&r.id)
        .execute(&mut *op.tx)
        .await?;
        clocks::close(&mut op.tx, case_id, &clocks::REWARD_KINDS, now).await?;
        // Every co-reporter who was told of the reward is told of its reversal; what was
        // paid (any share) is due back.
        if r.notified_at.is_some() {
            for sh in shares_of(&mut op.tx, &r.id).await? {
                tell(&mut op.tx, op.wf, &sh.report_id, "reward_reversed", None).await?;
            }
        }
        let repaid: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(SUM(amount_fen) AS BIGINT) FROM reward_payments WHERE reward_id = $1",
        )
        .bind(&r.id)
        .fetch_one(&mut *op.tx)
        .await?;
        let data = serde_json::json!({
            "reward_id": r.id,
            "status": "reversed",
            "was": r.status,
            "repayment_due_fen": repaid.unwrap_or(0),
        });
        op.event("reward_reversed", None, None, Some(&why), data.clone())
            .await?;
        Ok(data)
    })
}

// ---------------------------------------------------------------------------------------------
// Budgets
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Budget {
    pub year: i32,
    pub region: String,
    pub amount_fen: i64,
    /// Paid out of this region's rewards in the year.
    pub paid_fen: i64,
    /// Approved (not yet paid) rewards of the region, by the year of approval.
    pub committed_fen: i64,
    /// amount − paid − committed (may be negative if the budget was lowered).
    pub balance_fen: i64,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetRequest {
    pub year: i64,
    pub region: String,
    pub amount_fen: i64,
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct BudgetQuery {
    pub year: Option<i64>,
}

async fn balance(
    exec: &mut sqlx::AnyConnection,
    year: i32,
    region: String,
    amount_fen: i64,
) -> Result<Budget, sqlx::Error> {
    let prefix = format!("{}%", staff::region_prefix(&region));
    let paid: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(SUM(amount_fen) AS BIGINT) FROM reward_payments WHERE year = $1 AND case_region LIKE $2",
    )
    .bind(i64::from(year))
    .bind(&prefix)
    .fetch_one(&mut *exec)
    .await?;
    // Committed: the shares not yet paid or expired of approved rewards (a reward of one
    // share commits its whole amount until paid, as before shares).
    let committed: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(SUM(s.amount_fen) AS BIGINT) FROM reward_shares s \
         JOIN rewards r ON r.id = s.reward_id \
         WHERE r.status IN ('approved', 'notified', 'claimed') \
         AND s.status IN ('pending', 'notified', 'claimed') \
         AND r.case_region LIKE $1 AND SUBSTR(r.approved_at, 1, 4) = $2",
    )
    .bind(&prefix)
    .bind(year.to_string())
    .fetch_one(&mut *exec)
    .await?;
    let paid = paid.unwrap_or(0);
    let committed = committed.unwrap_or(0);
    Ok(Budget {
        year,
        region,
        amount_fen,
        paid_fen: paid,
        committed_fen: committed,
        balance_fen: amount_fen.saturating_sub(paid).saturating_sub(committed),
    })
}

const BUDGET_READERS: [Role; 3] = [Role::Finance, Role::Supervisor, Role::Auditor];

/// `GET /finance/budgets?year=`: the budgets of the caller's region and below.
pub async fn budgets(wf: &Workflow, p: &Principal, year: Option<i64>) -> AppResult<Vec<Budget>> {
    if !p.has_any(&BUDGET_READERS) {
        return Err(deny_plain(wf, p, "finance.budgets", forbidden()).await);
    }
    let rows: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT year, region, amount_fen FROM reward_budgets WHERE ($1 = 0 OR year = $1) \
         ORDER BY year, region",
    )
    .bind(year.unwrap_or(0))
    .fetch_all(&wf.db.pool)
    .await?;
    let mut conn = wf.db.pool.acquire().await?;
    let mut out = vec![];
    for (y, region, amount) in rows {
        if !p.covers(&region) {
            continue;
        }
        let y = i32::try_from(y).unwrap_or_default();
        out.push(balance(&mut conn, y, region, amount).await?);
    }
    Ok(out)
}

/// `POST /finance/budgets`: finance sets a region's budget for a year.
pub async fn set_budget(wf: &Workflow, p: &Principal, req: BudgetRequest) -> AppResult<Budget> {
    if !p.has(Role::Finance) {
        return Err(deny_plain(wf, p, "finance.budget", forbidden()).await);
    }
    let check = || -> AppResult<(i32, String)> {
        if !(2000..=2100).contains(&req.year) {
            return Err(AppError::invalid("year", "error-wrong-type"));
        }
        if req.amount_fen < 0 {
            return Err(AppError::invalid("amount_fen", "error-amount"));
        }
        let region =
            staff::parse_region(&req.region).map_err(|m| AppError::invalid("region", m))?;
        Ok((req.year as i32, region))
    };
    let (year, region) = match check() {
        Ok(v) => v,
        Err(e) => return Err(deny_plain(wf, p, "finance.budget", e).await),
    };
    if !p.covers(&region) {
        return Err(deny_plain(wf, p, "finance.budget", forbidden()).await);
    }
    let mut tx = wf.db.begin().await?;
    audit::lock(&mut tx).await?;
    let now = store::ts(Utc::now());
    let n = sqlx::query(
        "UPDATE reward_budgets SET amount_fen = $1, set_by = $2, set_at = $3 \
         WHERE year = $4 AND region = $5",
    )
    .bind(req.amount_fen)
    .bind(&p.id)
    .bind(&now)
    .bind(i64::from(year))
    .bind(&region)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        sqlx::query(
            "INSERT INTO reward_budgets (year, region, amount_fen, set_by, set_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(i64::from(year))
        .bind(&region)
        .bind(req.amount_fen)
        .bind(&p.id)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
    }
    audit::append(
        &mut tx,
        &Entry {
            actor: &p.actor(),
            action: "finance.budget",
            outcome: Outcome::Ok,
            report_id: None,
            detail: serde_json::json!({ "year": year, "region": region, "amount_fen": req.amount_fen }),
        },
    )
    .await?;
    let b = balance(&mut tx, year, region, req.amount_fen).await?;
    tx.commit().await?;
    Ok(b)
}

/// Audit a refusal that concerns no case.
pub async fn deny_plain(wf: &Workflow, p: &Principal, action: &str, err: AppError) -> AppError {
    audit::record_denied(&wf.db, &p.actor(), action, None, err.code).await;
    err
}

// ---------------------------------------------------------------------------------------------
// The reporter's side
// ---------------------------------------------------------------------------------------------

/// The `reward` field of the reporter's look-up: shown from the notice on. A co-reporter's
/// tip shows its own share (amount and status); a reversal shows on every share.
pub async fn reporter_view(
    pool: &sqlx::AnyPool,
    report_id: &str,
) -> Result<Option<serde_json::Value>, sqlx::Error> {
    let row: Option<(String, String, i64, Option<String>)> = sqlx::query_as(
        "SELECT r.status, s.status, s.amount_fen, r.claim_by FROM reward_shares s \
         JOIN rewards r ON r.id = s.reward_id WHERE s.report_id = $1 \
         AND r.status IN ('notified', 'claimed', 'paid', 'expired', 'reversed') \
         ORDER BY s.id DESC",
    )
    .bind(report_id)
    .fetch_optional(pool)
    .await?;
    let today = shanghai_date(Utc::now()).to_string();
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

async fn deny_claim(wf: &Workflow, report_id: &str, err: AppError) -> AppError {
    audit::record_denied(
        &wf.db,
        &Actor::anonymous(),
        "reward.claim",
        Some(report_id),
        err.code,
    )
    .await;
    err
}

/// The reporter claims a notified reward (already authenticated by tracking code and
/// passcode under the look-up rate limits). Anonymous reporters give the last six
/// characters of their ID number, kept as a keyed digest for the in-person check; a
/// real-name reporter's are checked against the sealed ID number. A bank account, if
/// given, goes into the vault and the reward is paid by transfer; otherwise in person.
pub async fn claim(
    wf: &Workflow,
    vault: &Vault,
    report_id: &str,
    req: &ClaimRequest,
    locale: Locale,
) -> AppResult<ClaimDone> {
    let now = Utc::now();
    let today = shanghai_date(now);
    let loc = |e: AppError| e.in_locale(locale);
    let mut tx = wf.db.begin().await?;
    audit::lock(&mut tx).await?;
    // The tip's share (a co-reporter's tip has its own), and its reward.
    let share: Option<ShareRow> = sqlx::query_as(&format!(
        "{SHARE_SELECT} WHERE s.report_id = $1 ORDER BY s.id DESC"
    ))
    .bind(report_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(sh) = share else {
        drop(tx);
        return Err(deny_claim(wf, report_id, loc(reward_not_found())).await);
    };
    let r: RewardRow = sqlx::query_as(&format!(
        "SELECT {REWARD_COLUMNS} FROM rewards WHERE id = $1"
    ))
    .bind(&sh.reward_id)
    .fetch_one(&mut *tx)
    .await?;
    let expired = sh.status == "expired"
        || (sh.status == "notified"
            && r.claim_by
                .as_deref()
                .is_some_and(|c| *c < *today.to_string()));
    let refusal = if r.status == "reversed" {
        Some(reward_not_found())
    } else if expired {
        Some(conflict("reward_expired", "error-reward-expired"))
    } else if matches!(sh.status.as_str(), "claimed" | "paid") {
        Some(conflict("already_claimed", "error-reward-already-claimed"))
    } else if sh.status != "notified" {
        Some(reward_not_found())
    } else {
        None
    };
    if let Some(e) = refusal {
        drop(tx);
        return Err(deny_claim(wf, report_id, loc(e)).await);
    }
    let bucket = format!(
        "rc:{}",
        hex::encode(vault.request_digest(&[b"reward-claim", sh.id.as_bytes()]))
    );
    let window = wf.config.intake.lookup_window_secs;
    if ratelimit::current(&wf.db, &bucket, window, now).await?
        >= wf.config.rewards.claim_failures_per_reward
    {
        drop(tx);
        let e = crate::intake::followup::rate_limited(window);
        return Err(deny_claim(wf, report_id, loc(e)).await);
    }
    let checked = (|| -> AppResult<(Option<String>, Option<String>)> {
        let account =
            match req.bank_account.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(s) => Some(normalize_bank_account(s).ok_or_else(|| {
                    AppError::invalid("bank_account", "error-reward-bank-account")
                })?),
            };
        let last6 = match req.id_last6.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(
                normalize_id_last6(s)
                    .ok_or_else(|| AppError::invalid("id_last6", "error-reward-id-last6"))?,
            ),
        };
        Ok((account, last6))
    })();
    let (account, last6) = match checked {
        Ok(v) => v,
        Err(e) => {
            drop(tx);
            return Err(deny_claim(wf, report_id, loc(e)).await);
        }
    };
    let Some(last6) = last6 else {
        drop(tx);
        let e = AppError::invalid("id_last6", "error-required");
        return Err(deny_claim(wf, report_id, loc(e)).await);
    };
    // A real-name reporter: the digits must match the ID number given with the tip.
    let matches = vault
        .id_last6_matches(&mut *tx, report_id, &sh.id, None, &last6)
        .await?;
    if matches == Some(false) {
        drop(tx);
        ratelimit::hit(&wf.db, &bucket, window, now).await?;
        let e = AppError::invalid("id_last6", "error-reward-id-mismatch").with_code("id_mismatch");
        return Err(deny_claim(wf, report_id, loc(e)).await);
    }
    let digest = (matches.is_none()).then(|| vault.id_check_digest(&sh.id, &last6).to_vec());
    let method = if let Some(acct) = &account {
        vault
            .store_bank_account(&mut tx, report_id, acct)
            .await
            .map_err(AppError::internal)?;
        PayMethod::BankTransfer
    } else {
        PayMethod::InPerson
    };
    let moved = sqlx::query(
        "UPDATE reward_shares SET status = 'claimed', claimed_at = $1, claim_method = $2, \
         id_check_digest = $3 WHERE id = $4 AND status = 'notified'",
    )
    .bind(store::ts(now))
    .bind(method.code())
    .bind(digest)
    .bind(&sh.id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if moved != 1 {
        drop(tx);
        let e = conflict("already_claimed", "error-reward-already-claimed");
        return Err(deny_claim(wf, report_id, loc(e)).await);
    }
    // The reward is claimed, and its claim clock met, once no share is still open; a
    // quick reward's payment clock starts then.
    if settle(&mut tx, &r, now).await? == "claimed" {
        if let Some(pol) = policies(&wf.config).ok().and_then(|set| {
            set.get(&r.policy_id, u32::try_from(r.policy_version).unwrap_or(0))
                .cloned()
        }) {
            quick_clock(&mut tx, wf, &r.report_id, ClockKind::RewardPay, &pol).await?;
        }
    }
    tell(&mut tx, wf, report_id, "reward_claimed", None).await?;
    audit::append(
        &mut tx,
        &Entry {
            actor: &Actor::anonymous(),
            action: "reward.claim",
            outcome: Outcome::Ok,
            report_id: Some(report_id),
            detail: serde_json::json!({ "reward_id": r.id, "method": method }),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(report_id = %report_id, "reward claimed");
    Ok(ClaimDone {
        status: "claimed",
        method: method.code(),
        amount_fen: sh.amount_fen,
    })
}

// ---------------------------------------------------------------------------------------------
// Sweep: claim reminders and expiry
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RewardSweep {
    /// Rewards whose open shares' reporters were reminded.
    pub reminded: usize,
    /// Shares expired (a reward of one share: the reward).
    pub expired: usize,
}

/// Remind reporters whose claim window ends within `claim_reminder_days`, and expire the
/// notified rewards whose window has passed (the reporter is told). Runs with the deadline
/// sweep, before it, so an expired reward's claim clock is closed rather than escalated.
pub async fn sweep(wf: &Workflow, today: NaiveDate) -> anyhow::Result<RewardSweep> {
    let mut stats = RewardSweep::default();
    let due: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, report_id FROM rewards \
         WHERE status = 'notified' AND claim_by < $1 ORDER BY claim_by LIMIT 500",
    )
    .bind(today.to_string())
    .fetch_all(&wf.db.pool)
    .await?;
    for (id, case_id) in due {
        let now = Utc::now();
        let mut tx = wf.db.begin().await?;
        audit::lock(&mut tx).await?;
        let r: Option<RewardRow> = sqlx::query_as(&format!(
            "SELECT {REWARD_COLUMNS} FROM rewards WHERE id = $1 AND status = 'notified' \
             AND claim_by < $2"
        ))
        .bind(&id)
        .bind(today.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(r) = r else { continue };
        // Expiry is per share: the shares still open expire; claimed ones go on to payment.
        let open: Vec<String> = sqlx::query_scalar(
            "SELECT report_id FROM reward_shares WHERE reward_id = $1 AND status = 'notified' \
             ORDER BY seq",
        )
        .bind(&id)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE reward_shares SET status = 'expired', expired_at = $1 \
             WHERE reward_id = $2 AND status = 'notified'",
        )
        .bind(store::ts(now))
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        let status = settle(&mut tx, &r, now)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        for tip in &open {
            tell(&mut tx, wf, tip, "reward_expired", None)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        let detail = serde_json::json!({ "reward_id": id, "shares": open.len(), "status": status });
        sqlx::query(
            "INSERT INTO case_events (report_id, at, actor_id, kind, data) VALUES ($1, $2, NULL, 'reward_expired', $3)",
        )
        .bind(&case_id)
        .bind(store::ts(now))
        .bind(detail.to_string())
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            &Entry {
                actor: &Actor::system(),
                action: "reward.expire",
                outcome: Outcome::Ok,
                report_id: Some(&case_id),
                detail,
            },
        )
        .await?;
        tx.commit().await?;
        stats.expired += open.len();
    }
    let horizon = today + Duration::days(wf.config.rewards.claim_reminder_days.max(0));
    let remind: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, claim_by FROM rewards WHERE status = 'notified' \
         AND claim_reminded_at IS NULL AND claim_by <= $1 AND claim_by >= $2 LIMIT 500",
    )
    .bind(horizon.to_string())
    .bind(today.to_string())
    .fetch_all(&wf.db.pool)
    .await?;
    for (id, claim_by) in remind {
        let mut tx = wf.db.begin().await?;
        let moved = sqlx::query(
            "UPDATE rewards SET claim_reminded_at = $1 WHERE id = $2 AND claim_reminded_at IS NULL",
        )
        .bind(store::ts(Utc::now()))
        .bind(&id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved != 1 {
            continue;
        }
        // Only the co-reporters who have not claimed yet are reminded.
        let open: Vec<String> = sqlx::query_scalar(
            "SELECT report_id FROM reward_shares WHERE reward_id = $1 AND status = 'notified' \
             ORDER BY seq",
        )
        .bind(&id)
        .fetch_all(&mut *tx)
        .await?;
        for tip in open {
            let loc = reporter_locale(&mut tx, &tip).await?;
            let note = i18n::t(
                loc,
                "reward-claim-reminder-note",
                &[("claim_by", claim_by.clone())],
            );
            tell(&mut tx, wf, &tip, "reward_claim_reminder", Some(note))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        tx.commit().await?;
        stats.reminded += 1;
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tips() -> Vec<Candidate> {
        ["case", "m1", "m2"]
            .iter()
            .map(|id| Candidate {
                id: (*id).to_string(),
                tracking_code: tracking::new_code(),
                valid: *id != "m2",
            })
            .collect()
    }

    fn co(list: &[(&str, i64)]) -> Vec<CoReporter> {
        list.iter()
            .map(|(tip, weight)| CoReporter {
                tip: (*tip).to_string(),
                weight: *weight,
            })
            .collect()
    }

    #[test]
    fn co_reporters_by_id_or_tracking_code() {
        let t = tips();
        // The tracking code as people type it, with spaces.
        let spaced = format!("{} {}", &t[1].tracking_code[..4], &t[1].tracking_code[4..]);
        let got = resolve_co_reporters(&co(&[("case", 2), (&spaced, 1)]), &t, "case").unwrap();
        assert_eq!(got, [("case".to_string(), 2), ("m1".to_string(), 1)]);
        assert_eq!(resolve_co_reporters(&[], &t, "case").unwrap(), []);
    }

    #[test]
    fn co_reporters_refused() {
        let t = tips();
        let code1 = t[1].tracking_code.clone();
        let cases: Vec<(Vec<CoReporter>, &str, &str)> = vec![
            (
                co(&[("case", 1), ("elsewhere", 1)]),
                "co_reporters.tip",
                "error-reward-co-reporter-unknown",
            ),
            (
                co(&[("case", 1), ("m1", 1), (&code1, 1)]),
                "co_reporters.tip",
                "error-reward-co-reporter-duplicate",
            ),
            (
                co(&[("case", 1), ("m2", 1)]),
                "co_reporters.tip",
                "error-reward-co-reporter-excluded",
            ),
            (
                co(&[("case", 1), ("m1", 0)]),
                "co_reporters.weight",
                "error-reward-co-reporter-weight",
            ),
            (
                co(&[("case", -3)]),
                "co_reporters.weight",
                "error-reward-co-reporter-weight",
            ),
            (
                co(&[("case", 10_001)]),
                "co_reporters.weight",
                "error-reward-co-reporter-weight",
            ),
            (
                co(&[("m1", 1)]),
                "co_reporters",
                "error-reward-co-reporters-first",
            ),
            (
                co(&vec![("case", 1); share::MAX_CO_REPORTERS + 1]),
                "co_reporters",
                "error-reward-co-reporters-too-many",
            ),
        ];
        for (list, field, msg) in cases {
            let e = resolve_co_reporters(&list, &t, "case").unwrap_err();
            assert_eq!(e.status.as_u16(), 422, "{msg}");
            assert_eq!(e.field.as_deref(), Some(field), "{msg}");
            assert_eq!(e.msg_id, msg);
        }
    }

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
