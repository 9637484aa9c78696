//! Case workflow (DOMAIN §3–§4, §6): who may see a case, which transitions its status
//! allows, and the staff operations that move it along. Every operation runs in one
//! transaction that begins with the audit lock, checks the caller against the case, writes
//! the change, its case events, its clocks, its outbox jobs and its audit entry, and commits;
//! a refused operation rolls back and is audited on its own.

pub mod assign;
pub mod due_soon;
mod error;
pub mod feedback;
pub mod notices;
pub mod ops;
pub mod originals;
pub mod query;
pub mod recalendar;
pub mod recusal;
pub mod related;
pub mod retention;
pub mod reveal;
pub mod sweep;
pub mod targets;
pub mod triage;
pub mod typical;

pub use error::WorkflowError;

use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::Serialize;

use crate::audit::{self, Entry, Outcome};
use crate::config::Config;
use crate::deadlines::calendar::shanghai_date;
use crate::deadlines::clocks::{self, ClockKind, NewClock};
use crate::deadlines::period::{Due, Period};
use crate::deadlines::rules::{Rule, RuleSet};
use crate::deadlines::Calendars;
use crate::domain::Status;
use crate::error::{AppError, AppResult};
use crate::staff::principal::Principal;
use crate::staff::Role;
use crate::store::{self, Db, Tx};
use crate::vault::AuditKey;

/// What a workflow operation needs from the application.
#[derive(Clone)]
pub struct Workflow {
    pub db: Db,
    /// The audit chain's key (from the vault); every operation appends an entry with it.
    pub audit: Arc<AuditKey>,
    pub calendar: Calendars,
    pub rules: Arc<RuleSet>,
    pub config: Config,
    /// The reward steps a case operation starts (rewards sits above workflow and registers
    /// itself at start-up).
    pub rewards: Arc<dyn RewardSteps>,
    /// Case views and evidence downloads are audited through it, in batches.
    pub reads: crate::audit::ReadLog,
}

/// What a case operation asks of the rewards module, in the operation's own transaction.
pub trait RewardSteps: Send + Sync {
    /// The decision granted a reward: start its notice clock.
    fn reward_due<'a, 'b: 'a>(&'a self, op: &'a mut Op<'b>) -> BoxFuture<'a, AppResult<()>>;
}

/// No reward steps (tools that never decide a case: `jubao calendar reload`, benchmarks).
pub struct NoRewards;

impl RewardSteps for NoRewards {
    fn reward_due<'a, 'b: 'a>(&'a self, _: &'a mut Op<'b>) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async { Ok(()) })
    }
}

/// The case columns of a report.
#[derive(Debug, Clone, Serialize)]
pub struct CaseRow {
    pub id: String,
    pub status: Status,
    pub channel: String,
    pub case_region: String,
    pub target_key: String,
    pub assignee_id: Option<String>,
    pub major: bool,
    pub anonymous: bool,
    pub received_at: String,
    pub version: i64,
}

type Row = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    i64,
    String,
    i64,
);

pub async fn load_case(tx: &mut Tx<'_>, id: &str) -> Result<Option<CaseRow>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, status, channel, case_region, target_key, assignee_id, major, anonymous, \
         received_at, version FROM reports WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(case_from_row))
}

fn case_from_row(r: Row) -> CaseRow {
    CaseRow {
        id: r.0,
        status: Status::parse(&r.1).unwrap_or(Status::Received),
        channel: r.2,
        case_region: r.3,
        target_key: r.4,
        assignee_id: r.5,
        major: r.6 != 0,
        anonymous: r.7 != 0,
        received_at: r.8,
        version: r.9,
    }
}

/// Whether `user_id` declared a conflict with the case's institution: its name as
/// normalized, or its code ([`crate::domain::institution::conflict_match`]).
pub async fn is_recused(
    tx: &mut Tx<'_>,
    user_id: &str,
    case: &CaseRow,
) -> Result<bool, sqlx::Error> {
    recused_from(&mut **tx, user_id, &case.id).await
}

/// [`is_recused`] on any executor, by case id.
pub async fn recused_from<'e>(
    exec: impl sqlx::Executor<'e, Database = sqlx::Any>,
    user_id: &str,
    case_id: &str,
) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM staff_conflicts sc JOIN reports r ON r.id = $2 \
         WHERE sc.user_id = $1 AND {}",
        crate::domain::institution::conflict_match("sc", "r")
    ))
    .bind(user_id)
    .bind(case_id)
    .fetch_one(exec)
    .await?;
    Ok(n > 0)
}

/// Roles that see every case of their region (a handler sees only cases assigned to them;
/// an admin sees no case content at all).
pub const REGION_READERS: [Role; 6] = [
    Role::Intake,
    Role::Supervisor,
    Role::Legal,
    Role::Finance,
    Role::Custodian,
    Role::Auditor,
];

/// DOMAIN §6 visibility: region, recusal, role.
pub fn can_see(p: &Principal, c: &CaseRow, recused: bool) -> bool {
    if recused || !p.covers(&c.case_region) {
        return false;
    }
    if p.has_any(&REGION_READERS) {
        return true;
    }
    p.has(Role::Handler) && is_assignee(p, c)
}

pub fn is_assignee(p: &Principal, c: &CaseRow) -> bool {
    p.has(Role::Handler) && c.assignee_id.as_deref() == Some(p.id.as_str())
}

/// Staff operations on a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Accept,
    NotAccept,
    Transfer,
    Merge,
    StartCheck,
    Decide,
    Close,
    Assign,
    Finding,
    PartyNotice,
    Statement,
    CollectiveDecision,
    LegalReview,
    MarkMajor,
    RequestExtension,
    DecideExtension,
    Message,
    RequestIdentity,
}

impl Action {
    pub const ALL: [Action; 18] = [
        Action::Accept,
        Action::NotAccept,
        Action::Transfer,
        Action::Merge,
        Action::StartCheck,
        Action::Decide,
        Action::Close,
        Action::Assign,
        Action::Finding,
        Action::PartyNotice,
        Action::Statement,
        Action::CollectiveDecision,
        Action::LegalReview,
        Action::MarkMajor,
        Action::RequestExtension,
        Action::DecideExtension,
        Action::Message,
        Action::RequestIdentity,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::NotAccept => "not_accept",
            Action::Transfer => "transfer",
            Action::Merge => "merge",
            Action::StartCheck => "start_check",
            Action::Decide => "decide",
            Action::Close => "close",
            Action::Assign => "assign",
            Action::Finding => "finding",
            Action::PartyNotice => "party_notice",
            Action::Statement => "statement",
            Action::CollectiveDecision => "collective_decision",
            Action::LegalReview => "legal_review",
            Action::MarkMajor => "mark_major",
            Action::RequestExtension => "request_extension",
            Action::DecideExtension => "decide_extension",
            Action::Message => "message",
            Action::RequestIdentity => "request_identity",
        }
    }

    /// Whether the caller's roles allow this action on this case (region and recusal are
    /// checked separately, by [`can_see`]).
    pub fn permitted(self, p: &Principal, c: &CaseRow) -> bool {
        let sup = p.has(Role::Supervisor);
        let mine = is_assignee(p, c);
        match self {
            Action::Accept | Action::NotAccept | Action::Merge => p.has(Role::Intake) || sup,
            Action::Transfer
            | Action::Assign
            | Action::CollectiveDecision
            | Action::MarkMajor
            | Action::DecideExtension => sup,
            Action::StartCheck
            | Action::Decide
            | Action::Finding
            | Action::PartyNotice
            | Action::Statement => mine,
            Action::Close
            | Action::RequestExtension
            | Action::Message
            | Action::RequestIdentity => mine || sup,
            Action::LegalReview => p.has(Role::Legal),
        }
    }

    /// Statuses in which the action can be taken.
    pub fn statuses(self) -> &'static [Status] {
        use Status::*;
        match self {
            Action::Accept | Action::NotAccept => &[Received],
            Action::Merge => &[Received, Accepted],
            Action::Transfer => &[Received, Accepted, Checking],
            Action::StartCheck => &[Accepted],
            Action::Decide | Action::Finding | Action::PartyNotice | Action::Statement => {
                &[Checking]
            }
            // Also after the decision: a reward above the policy's threshold needs both
            // before it is approved (DOMAIN §5).
            Action::LegalReview => &[Checking, Decided],
            Action::CollectiveDecision => &[Accepted, Checking, Decided],
            Action::MarkMajor => &[Accepted, Checking],
            Action::RequestExtension | Action::DecideExtension => &[Accepted, Checking],
            Action::Close => &[Decided],
            Action::Assign => &[Accepted, Checking],
            Action::Message => &[Received, Accepted, Checking, Decided],
            Action::RequestIdentity => &[Received, Accepted, Checking, Decided, Closed],
        }
    }

    /// The status a transition action leads to.
    pub fn target(self) -> Option<Status> {
        Some(match self {
            Action::Accept => Status::Accepted,
            Action::NotAccept => Status::NotAccepted,
            Action::Transfer => Status::Transferred,
            Action::Merge => Status::Merged,
            Action::StartCheck => Status::Checking,
            Action::Decide => Status::Decided,
            Action::Close => Status::Closed,
            _ => return None,
        })
    }

    pub fn for_target(s: Status) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.target() == Some(s))
    }
}

/// The statuses a case in `from` may move to.
pub fn next_statuses(from: Status) -> Vec<Status> {
    Action::ALL
        .into_iter()
        .filter(|a| a.statuses().contains(&from))
        .filter_map(Action::target)
        .collect()
}

/// The actions this caller may take on this case now.
pub fn available_actions(p: &Principal, c: &CaseRow) -> Vec<Action> {
    Action::ALL
        .into_iter()
        .filter(|a| a.statuses().contains(&c.status) && a.permitted(p, c))
        .collect()
}

/// Refuse (403, audited as denied) a caller who holds none of `roles`.
pub async fn require_role(
    db: &Db,
    key: &crate::vault::AuditKey,
    p: &Principal,
    roles: &[crate::staff::Role],
    action: &str,
) -> AppResult<()> {
    if p.has_any(roles) {
        return Ok(());
    }
    let err = forbidden();
    crate::audit::record_denied(db, key, &p.actor(), action, None, err.code).await;
    Err(err)
}

pub fn forbidden() -> AppError {
    WorkflowError::Forbidden.into()
}

pub fn case_not_found() -> AppError {
    WorkflowError::CaseNotFound.into()
}

pub fn record_not_found() -> AppError {
    WorkflowError::RecordNotFound.into()
}

/// An operation on one case, inside one transaction (see the module docs).
pub struct Op<'a> {
    pub wf: &'a Workflow,
    pub p: &'a Principal,
    pub tx: Tx<'static>,
    pub case: CaseRow,
    pub action: &'static str,
}

impl<'a> Op<'a> {
    /// Begin: take the audit lock, load the case, check that the caller may see it and may
    /// take `action` in its current status. A refusal is audited and changes nothing.
    pub async fn begin(
        wf: &'a Workflow,
        p: &'a Principal,
        report_id: &str,
        action: Action,
    ) -> AppResult<Op<'a>> {
        let op = Self::begin_custom(wf, p, report_id, action.code(), |p, c| {
            action.permitted(p, c)
        })
        .await?;
        if !action.statuses().contains(&op.case.status) {
            let err = match action.target() {
                Some(_) => {
                    let allowed: Vec<&str> = next_statuses(op.case.status)
                        .iter()
                        .map(|s| s.code())
                        .collect();
                    AppError::from(WorkflowError::IllegalTransition)
                        .arg("status", op.case.status.code())
                        .arg(
                            "allowed",
                            if allowed.is_empty() {
                                "-".to_string()
                            } else {
                                allowed.join(", ")
                            },
                        )
                }
                None => {
                    AppError::from(WorkflowError::WrongStatus).arg("status", op.case.status.code())
                }
            };
            return Err(op.deny(err).await);
        }
        Ok(op)
    }

    /// Begin an operation that is not a case [`Action`] (legal holds, typical cases): the
    /// same lock, load and visibility check, with `allowed` deciding from the caller's
    /// roles and the case, in any status.
    pub async fn begin_custom(
        wf: &'a Workflow,
        p: &'a Principal,
        report_id: &str,
        action: &'static str,
        allowed: impl FnOnce(&Principal, &CaseRow) -> bool,
    ) -> AppResult<Op<'a>> {
        let mut tx = wf.db.begin().await?;
        audit::lock(&mut tx).await?;
        let Some(case) = load_case(&mut tx, report_id).await? else {
            return Err(crate::workflow::case_not_found());
        };
        let recused = is_recused(&mut tx, &p.id, &case).await?;
        let op = Op {
            wf,
            p,
            tx,
            case,
            action,
        };
        if !can_see(p, &op.case, recused) || !allowed(p, &op.case) {
            return Err(op.deny(forbidden()).await);
        }
        Ok(op)
    }

    /// Refuse: roll back, audit the attempt, return the error.
    pub async fn deny(self, err: AppError) -> AppError {
        let Op {
            wf,
            p,
            tx,
            case,
            action,
        } = self;
        drop(tx);
        audit::record_denied(
            &wf.db,
            &wf.audit,
            &p.actor(),
            &format!("case.{action}"),
            Some(&case.id),
            err.code,
        )
        .await;
        err
    }

    /// Move the case to `to`, checking that nobody else moved it meanwhile.
    pub async fn set_status(&mut self, to: Status) -> AppResult<()> {
        let open = !matches!(
            to,
            Status::NotAccepted | Status::Transferred | Status::Merged | Status::Closed
        );
        let r = sqlx::query(
            "UPDATE reports SET status = $1, is_open = $2, version = version + 1 \
             WHERE id = $3 AND version = $4",
        )
        .bind(to.code())
        .bind(i64::from(open))
        .bind(&self.case.id)
        .bind(self.case.version)
        .execute(&mut *self.tx)
        .await?;
        if r.rows_affected() != 1 {
            return Err(AppError::from(WorkflowError::ConcurrentChange));
        }
        if !open {
            if let Some(a) = &self.case.assignee_id {
                sqlx::query(
                    "UPDATE staff_users SET open_cases = open_cases - 1 WHERE id = $1 AND open_cases > 0",
                )
                .bind(a)
                .execute(&mut *self.tx)
                .await?;
            }
        }
        self.case.version += 1;
        self.case.status = to;
        Ok(())
    }

    /// Record a staff-side case event.
    pub async fn event(
        &mut self,
        kind: &str,
        from: Option<Status>,
        to: Option<Status>,
        reason: Option<&str>,
        data: serde_json::Value,
    ) -> AppResult<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO case_events (report_id, at, actor_id, kind, from_status, to_status, \
             reason, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(&self.case.id)
        .bind(store::ts(self.wf.db.now()))
        .bind(&self.p.id)
        .bind(kind)
        .bind(from.map(|s| s.code()))
        .bind(to.map(|s| s.code()))
        .bind(reason.map(str::to_string))
        .bind(data.to_string())
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(id)
    }

    /// Open a clock of this case starting now, with the period that the deadline rule in
    /// force today for the case's region sets.
    pub async fn open_clock(
        &mut self,
        kind: ClockKind,
        period: impl FnOnce(&Rule) -> Period,
        remind_before: u32,
    ) -> AppResult<Due> {
        let now = self.wf.db.now();
        let rule = self
            .wf
            .rules
            .select(&self.case.case_region, shanghai_date(now));
        let label = rule.label();
        let clock = NewClock::new(&self.case.id, kind, now, period(rule), &label)
            .remind_before(remind_before);
        Ok(clocks::open(&mut self.tx, &self.wf.calendar.current(), &clock).await?)
    }

    /// `SELECT COUNT(*) …` with `$1` bound to this case's id, in the operation's transaction.
    pub async fn count(&mut self, sql: &str) -> AppResult<i64> {
        Ok(sqlx::query_scalar(sql)
            .bind(&self.case.id)
            .fetch_one(&mut *self.tx)
            .await?)
    }

    /// Append the audit entry and commit.
    pub async fn commit(mut self, detail: serde_json::Value) -> AppResult<()> {
        audit::append(
            &mut self.tx,
            &self.wf.audit,
            &Entry {
                actor: &self.p.actor(),
                action: &format!("case.{}", self.action),
                outcome: Outcome::Ok,
                report_id: Some(&self.case.id),
                detail,
            },
        )
        .await?;
        self.tx.commit().await?;
        Ok(())
    }
}

/// A required, trimmed reason of at most 2,000 characters.
pub fn reason(field: &str, s: Option<&str>) -> AppResult<String> {
    required_text(field, s, 2000)
}

/// A required, trimmed text of at most `max` characters.
pub fn required_text(field: &str, s: Option<&str>, max: usize) -> AppResult<String> {
    let s = s.map(str::trim).unwrap_or_default();
    if s.is_empty() {
        return Err(AppError::invalid(field, "error-required"));
    }
    if s.chars().count() > max {
        return Err(AppError::invalid(field, "error-too-long").arg("max", max));
    }
    Ok(s.to_string())
}
