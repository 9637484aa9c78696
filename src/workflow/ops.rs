//! The staff operations on a case: transitions with their structured fields, assignment,
//! check findings, statement and defence, collective decisions, legal review, major cases,
//! deadline extensions and messages to the reporter.

use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{conflict, reason, Action, Op, Workflow};
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

fn max_attempts(wf: &Workflow) -> i64 {
    wf.config.outbox.max_attempts
}

fn remind_before(wf: &Workflow) -> u32 {
    u32::try_from(wf.config.workflow.remind_before_working_days).unwrap_or(3)
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
    let at = store::ts(Utc::now());
    let event_id: i64 = sqlx::query_scalar(
        "INSERT INTO report_events (report_id, at, kind, status, public_note) \
         VALUES ($1, $2, 'status', $3, $4) RETURNING id",
    )
    .bind(&op.case.id)
    .bind(&at)
    .bind(status.code())
    .bind(note.map(str::to_string))
    .fetch_one(&mut *op.tx)
    .await?;
    let job = NewJob::new(
        super::feedback::KIND,
        serde_json::json!({ "report_id": op.case.id, "event_id": event_id }),
    )
    .dedupe(format!("feedback:{event_id}"));
    notify::enqueue(&mut op.tx, &job, max_attempts(op.wf)).await?;
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
    let now = Utc::now();
    let wf = op.wf;
    let mut data = serde_json::json!({});
    match to {
        Status::Accepted => {
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
        }
        Status::NotAccepted => {
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
        }
        Status::Transferred => {
            let dest = req
                .destination
                .ok_or_else(|| AppError::invalid("destination", "error-required"))?;
            let region = match (dest, req.destination_region.as_deref()) {
                (TransferDestination::OtherRegion, Some(r)) => Some(
                    staff::parse_region(r)
                        .map_err(|m| AppError::invalid("destination_region", m))?,
                ),
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
        }
        Status::Merged => {
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
            let Some((target_received, target_status, target_merged, target_region)) = target
            else {
                return Err(AppError::invalid("merge_into", "error-merge-target"));
            };
            // The earlier case keeps priority: merge only into an earlier, live case the
            // caller may see.
            if target_received >= op.case.received_at
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
        }
        Status::Checking => {
            op.set_status(to).await?;
            tell_reporter(op, to, None).await?;
        }
        Status::Decided => {
            data = decide(op, req).await?;
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
        }
        Status::Closed => {
            let feedback = reason("feedback", req.feedback.as_deref())?;
            op.set_status(to).await?;
            clocks::close(&mut op.tx, &op.case.id.clone(), &[], now).await?;
            tell_reporter(op, to, Some(&feedback)).await?;
            data["feedback_chars"] = serde_json::json!(feedback.chars().count());
        }
        Status::Received => return Err(AppError::invalid("to", "error-wrong-type")),
    }
    op.event("transition", Some(from), Some(to), Some(&why), data.clone())
        .await?;
    data["from"] = serde_json::json!(from.code());
    data["to"] = serde_json::json!(to.code());
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
            return Err(conflict(
                "party_notice_required",
                "error-party-notice-required",
            ));
        }
        if !kinds.iter().any(|k| k == "statement") {
            let open: Option<String> = sqlx::query_scalar(
                "SELECT due_on FROM clocks WHERE report_id = $1 AND kind = 'defence' \
                 AND closed_at IS NULL",
            )
            .bind(&op.case.id)
            .fetch_optional(&mut *op.tx)
            .await?;
            let today = crate::deadlines::calendar::shanghai_date(Utc::now()).to_string();
            if let Some(due) = open {
                if due >= today {
                    return Err(conflict("defence_period_open", "error-defence-period-open")
                        .arg("due", due));
                }
            }
        }
    }
    if recovered >= op.wf.config.workflow.collective_threshold_fen {
        if !kinds.iter().any(|k| k == "collective_decision") {
            return Err(conflict(
                "collective_decision_required",
                "error-collective-decision-required",
            ));
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
    .bind(store::ts(Utc::now()))
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

// ---- Records ----

/// Statutory kinds of evidence (Heyuan draft art. 37).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    Documentary,
    Physical,
    AudioVisual,
    ElectronicData,
    WitnessTestimony,
    PartyStatement,
    ExpertOpinion,
    InspectionRecord,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingEvidence {
    pub kind: EvidenceKind,
    pub description: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingRequest {
    pub summary: String,
    #[serde(default)]
    pub evidence: Vec<FindingEvidence>,
    /// An on-site check must name at least two inspectors (art. 32).
    #[serde(default)]
    pub on_site: bool,
    #[serde(default)]
    pub inspectors: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectiveDecisionRequest {
    /// Meeting date, YYYY-MM-DD.
    pub meeting_date: String,
    /// Members present (at least three).
    pub participants: Vec<String>,
    pub conclusion: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Opinion {
    Approve,
    Reject,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LegalReviewRequest {
    pub opinion: Opinion,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Recorded {
    pub event_id: i64,
}

fn text(field: &str, s: &str, max: usize) -> AppResult<String> {
    let s = s.trim();
    if s.is_empty() {
        return Err(AppError::invalid(field, "error-required"));
    }
    if s.chars().count() > max {
        return Err(AppError::invalid(field, "error-too-long").arg("max", max));
    }
    Ok(s.to_string())
}

/// The case's latest legal review must approve: a decision on a large recovered amount, and
/// a reward proposed on one, both need it.
pub(crate) async fn require_legal_approval(tx: &mut store::Tx<'_>, case_id: &str) -> AppResult<()> {
    let latest: Option<String> = sqlx::query_scalar(
        "SELECT data FROM case_events WHERE report_id = $1 AND kind = 'legal_review' \
         ORDER BY id DESC LIMIT 1",
    )
    .bind(case_id)
    .fetch_optional(&mut **tx)
    .await?;
    let approves = latest
        .and_then(|d| serde_json::from_str::<serde_json::Value>(&d).ok())
        .is_some_and(|d| d["opinion"] == "approve");
    if !approves {
        return Err(conflict(
            "legal_review_required",
            "error-legal-review-required",
        ));
    }
    Ok(())
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

pub async fn record_finding(
    wf: &Workflow,
    p: &Principal,
    id: &str,
    req: FindingRequest,
) -> AppResult<serde_json::Value> {
    op!(wf, p, id, Action::Finding, |op| {
        let summary = text("summary", &req.summary, 5000)?;
        for (i, e) in req.evidence.iter().enumerate() {
            text(&format!("evidence.{i}.description"), &e.description, 2000)?;
        }
        let inspectors: Vec<String> = req
            .inspectors
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if req.on_site && inspectors.len() < 2 {
            return Err(AppError::invalid("inspectors", "error-two-inspectors"));
        }
        let data = serde_json::json!({
            "summary": summary,
            "evidence": req.evidence,
            "on_site": req.on_site,
            "inspectors": inspectors,
        });
        let event_id = op.event("finding", None, None, None, data).await?;
        Ok(serde_json::json!({ "event_id": event_id }))
    })
}

/// Tell the party concerned of the intended decision: starts their 5 working days.
pub async fn party_notice(
    wf: &Workflow,
    p: &Principal,
    id: &str,
    req: NoteRequest,
) -> AppResult<serde_json::Value> {
    op!(wf, p, id, Action::PartyNotice, |op| {
        let note = reason("reason", req.reason.as_deref())?;
        if op
            .count("SELECT COUNT(*) FROM clocks WHERE report_id = $1 AND kind = 'defence' AND closed_at IS NULL")
            .await?
            > 0
        {
            return Err(conflict("defence_period_open", "error-defence-period-open"));
        }
        let due = op
            .open_clock(
                ClockKind::Defence,
                |r| Period::WorkingDays(r.defence_working_days),
                1,
            )
            .await?
            .on;
        let event_id = op
            .event(
                "party_notice",
                None,
                None,
                Some(&note),
                serde_json::json!({ "due_on": due.to_string() }),
            )
            .await?;
        Ok(serde_json::json!({ "event_id": event_id, "due_on": due.to_string() }))
    })
}

/// Record the party's statement and defence; closes their clock.
pub async fn record_statement(
    wf: &Workflow,
    p: &Principal,
    id: &str,
    req: NoteRequest,
) -> AppResult<serde_json::Value> {
    op!(wf, p, id, Action::Statement, |op| {
        let summary = reason("reason", req.reason.as_deref())?;
        if op
            .count(
                "SELECT COUNT(*) FROM case_events WHERE report_id = $1 AND kind = 'party_notice'",
            )
            .await?
            == 0
        {
            return Err(conflict(
                "party_notice_required",
                "error-party-notice-required",
            ));
        }
        clocks::close(
            &mut op.tx,
            &op.case.id.clone(),
            &[ClockKind::Defence],
            Utc::now(),
        )
        .await?;
        let event_id = op
            .event(
                "statement",
                None,
                None,
                Some(&summary),
                serde_json::json!({}),
            )
            .await?;
        Ok(serde_json::json!({ "event_id": event_id }))
    })
}

pub async fn collective_decision(
    wf: &Workflow,
    p: &Principal,
    id: &str,
    req: CollectiveDecisionRequest,
) -> AppResult<serde_json::Value> {
    op!(wf, p, id, Action::CollectiveDecision, |op| {
        let date = NaiveDate::parse_from_str(req.meeting_date.trim(), "%Y-%m-%d")
            .map_err(|_| AppError::invalid("meeting_date", "error-date"))?;
        let participants: Vec<String> = req
            .participants
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if participants.len() < 3 {
            return Err(AppError::invalid(
                "participants",
                "error-three-participants",
            ));
        }
        let conclusion = text("conclusion", &req.conclusion, 5000)?;
        let event_id = op
            .event(
                "collective_decision",
                None,
                None,
                None,
                serde_json::json!({ "meeting_date": date.to_string(), "participants": participants, "conclusion": conclusion }),
            )
            .await?;
        Ok(serde_json::json!({ "event_id": event_id }))
    })
}

pub async fn legal_review(
    wf: &Workflow,
    p: &Principal,
    id: &str,
    req: LegalReviewRequest,
) -> AppResult<serde_json::Value> {
    op!(wf, p, id, Action::LegalReview, |op| {
        let note = req
            .note
            .as_deref()
            .map(|n| text("note", n, 5000))
            .transpose()?;
        let event_id = op
            .event(
                "legal_review",
                None,
                None,
                note.as_deref(),
                serde_json::json!({ "opinion": req.opinion }),
            )
            .await?;
        Ok(serde_json::json!({ "event_id": event_id, "opinion": req.opinion }))
    })
}

/// Mark a case major (重大要情): the upper-level bureau is told through the outbox.
pub async fn mark_major(
    wf: &Workflow,
    p: &Principal,
    id: &str,
    req: NoteRequest,
) -> AppResult<serde_json::Value> {
    op!(wf, p, id, Action::MarkMajor, |op| {
        let why = reason("reason", req.reason.as_deref())?;
        if op.case.major {
            return Err(conflict("already_major", "error-already-major"));
        }
        sqlx::query("UPDATE reports SET major = 1, version = version + 1 WHERE id = $1")
            .bind(&op.case.id)
            .execute(&mut *op.tx)
            .await?;
        let event_id = op
            .event("major", None, None, Some(&why), serde_json::json!({}))
            .await?;
        let mut told = 0;
        if let Some(parent) = staff::parent_region(&op.case.case_region) {
            let sups = staff::with_role_covering(&wf.db.pool, Role::Supervisor, &parent).await?;
            for u in sups
                .iter()
                .filter(|u| u.region == parent || staff::region_covers(&u.region, &parent))
            {
                if super::sweep::email_staff(
                    &mut op.tx,
                    wf,
                    u,
                    "major-case",
                    &op.case,
                    &[],
                    &format!("major:{event_id}:{}", u.id),
                )
                .await?
                {
                    told += 1;
                }
            }
        }
        Ok(serde_json::json!({ "event_id": event_id, "upper_level_notified": told }))
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExtensionKind {
    /// Complex case: handling up to 3 months from acceptance.
    Complex,
    /// Major case: up to 6 months, with a collective decision on record.
    Major,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionRequest {
    pub kind: ExtensionKind,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub approve: bool,
    pub reason: Option<String>,
}

pub async fn request_extension(
    wf: &Workflow,
    p: &Principal,
    id: &str,
    req: ExtensionRequest,
) -> AppResult<serde_json::Value> {
    op!(wf, p, id, Action::RequestExtension, |op| {
        let why = reason("reason", req.reason.as_deref())?;
        if op
            .count("SELECT COUNT(*) FROM extension_requests WHERE report_id = $1 AND state = 'pending'")
            .await?
            > 0
        {
            return Err(conflict("extension_pending", "error-extension-pending"));
        }
        let rid = uuid::Uuid::now_v7().to_string();
        let kind = serde_json::to_value(req.kind).unwrap_or_default();
        sqlx::query(
            "INSERT INTO extension_requests (id, report_id, kind, requested_by, reason, \
             requested_at, state) VALUES ($1, $2, $3, $4, $5, $6, 'pending')",
        )
        .bind(&rid)
        .bind(&op.case.id)
        .bind(kind.as_str().unwrap_or("complex"))
        .bind(&p.id)
        .bind(&why)
        .bind(store::ts(Utc::now()))
        .execute(&mut *op.tx)
        .await?;
        op.event(
            "extension_request",
            None,
            None,
            Some(&why),
            serde_json::json!({ "request": rid, "kind": kind }),
        )
        .await?;
        Ok(serde_json::json!({ "request_id": rid, "state": "pending" }))
    })
}

/// A supervisor (not the requester) approves or denies an extension. Approval moves the
/// handling deadline; a major extension needs the case marked major and a collective
/// decision on record.
pub async fn decide_extension(
    wf: &Workflow,
    p: &Principal,
    id: &str,
    request_id: &str,
    req: DecisionRequest,
) -> AppResult<serde_json::Value> {
    op!(wf, p, id, Action::DecideExtension, |op| {
        let why = reason("reason", req.reason.as_deref())?;
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT kind, requested_by, state FROM extension_requests WHERE id = $1 AND report_id = $2",
        )
        .bind(request_id)
        .bind(&op.case.id)
        .fetch_optional(&mut *op.tx)
        .await?;
        let Some((kind, requested_by, state)) = row else {
            return Err(crate::workflow::record_not_found());
        };
        if state != "pending" {
            return Err(conflict("already_decided", "error-already-decided"));
        }
        if requested_by == p.id {
            return Err(super::forbidden().with_code("own_request"));
        }
        let mut due = None;
        if req.approve {
            // The months of the rule the handling clock was opened under.
            let label: Option<String> = sqlx::query_scalar(
                "SELECT rule FROM clocks WHERE report_id = $1 AND kind = 'handle' AND closed_at IS NULL",
            )
            .bind(&op.case.id)
            .fetch_optional(&mut *op.tx)
            .await?
            .flatten();
            let today = crate::deadlines::calendar::shanghai_date(Utc::now());
            let rule = label
                .as_deref()
                .and_then(|l| wf.rules.get(l))
                .unwrap_or_else(|| wf.rules.select(&op.case.case_region, today));
            let months = if kind == "major" {
                if !op.case.major {
                    return Err(conflict("not_major", "error-not-major"));
                }
                if op
                    .count("SELECT COUNT(*) FROM case_events WHERE report_id = $1 AND kind = 'collective_decision'")
                    .await?
                    == 0
                {
                    return Err(conflict(
                        "collective_decision_required",
                        "error-collective-decision-required",
                    ));
                }
                rule.major_extension_months
            } else {
                rule.complex_extension_months
            };
            due = clocks::extend(
                &mut op.tx,
                &wf.calendar.current(),
                &op.case.id.clone(),
                ClockKind::Handle,
                months,
                &kind,
            )
            .await?
            .map(|d| d.on);
            if due.is_none() {
                return Err(conflict("no_open_clock", "error-no-open-clock"));
            }
        }
        let state = if req.approve { "approved" } else { "denied" };
        sqlx::query(
            "UPDATE extension_requests SET state = $1, decided_by = $2, decision_reason = $3, \
             decided_at = $4 WHERE id = $5",
        )
        .bind(state)
        .bind(&p.id)
        .bind(&why)
        .bind(store::ts(Utc::now()))
        .bind(request_id)
        .execute(&mut *op.tx)
        .await?;
        let due = due.map(|d| d.to_string());
        op.event("extension", None, None, Some(&why), serde_json::json!({ "request": request_id, "kind": kind, "state": state, "due_on": due }))
            .await?;
        Ok(serde_json::json!({ "request_id": request_id, "state": state, "due_on": due }))
    })
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// Username of a handler of the case's region.
    pub assignee: String,
    pub reason: Option<String>,
}

pub async fn reassign(
    wf: &Workflow,
    p: &Principal,
    id: &str,
    req: AssignRequest,
) -> AppResult<serde_json::Value> {
    op!(wf, p, id, Action::Assign, |op| {
        let why = reason("reason", req.reason.as_deref())?;
        let username = req.assignee.trim().to_lowercase();
        let user = staff::by_username(&wf.db.pool, &username)
            .await?
            .filter(|u| u.active && u.roles.contains(&Role::Handler))
            .filter(|u| staff::region_covers(&u.region, &op.case.case_region))
            .ok_or_else(|| AppError::invalid("assignee", "error-assignee"))?;
        if super::is_recused(&mut op.tx, &user.id, &op.case.target_key).await? {
            return Err(AppError::invalid("assignee", "error-assignee-recused"));
        }
        super::assign::set_assignee(&mut op, &user.id, &why).await?;
        Ok(serde_json::json!({ "assignee": user.id }))
    })
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    pub body: String,
}

/// A message from staff to the reporter (shown in their timeline and sent through their
/// channel). Staff names are never shown.
pub async fn message(
    wf: &Workflow,
    p: &Principal,
    id: &str,
    req: MessageRequest,
) -> AppResult<serde_json::Value> {
    op!(wf, p, id, Action::Message, |op| {
        let body = text("body", &req.body, 2000)?;
        let at = store::ts(Utc::now());
        let mid: i64 = sqlx::query_scalar(
            "INSERT INTO report_messages (report_id, at, author, body) VALUES ($1, $2, 'staff', $3) RETURNING id",
        )
        .bind(&op.case.id)
        .bind(&at)
        .bind(&body)
        .fetch_one(&mut *op.tx)
        .await?;
        let job = NewJob::new(
            super::feedback::KIND,
            serde_json::json!({ "report_id": op.case.id, "message_id": mid }),
        )
        .dedupe(format!("message:{mid}"));
        notify::enqueue(&mut op.tx, &job, max_attempts(wf)).await?;
        op.event(
            "message",
            None,
            None,
            None,
            serde_json::json!({ "message_id": mid }),
        )
        .await?;
        Ok(serde_json::json!({ "message_id": mid }))
    })
}
