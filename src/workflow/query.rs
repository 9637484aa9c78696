//! Reading cases: a user's inbox, the overdue board and one case in full. Each query is
//! scoped in SQL by region (a key range on `case_region`), recusal and role, so a user
//! never receives a row they may not see.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{available_actions, can_see, is_recused, load_case, Action, Workflow, REGION_READERS};
use crate::deadlines::calendar::shanghai_date;
use crate::deadlines::clocks::{self, ClockView};
use crate::domain::institution::not_recused;
use crate::error::{AppError, AppResult};
use crate::staff::principal::Principal;
use crate::staff::{region_prefix, Role};

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    pub status: Option<String>,
    pub channel: Option<String>,
    pub category: Option<String>,
    /// Narrow to a region inside the caller's own.
    pub region: Option<String>,
    /// `me` (default for handlers), `unassigned` or `any`.
    pub assigned: Option<String>,
    /// Only cases with an open clock due on or before this date (YYYY-MM-DD).
    pub due_before: Option<String>,
    /// Keyset paging: the `received_at` of the last row seen.
    pub before: Option<String>,
    pub limit: Option<i64>,
    /// `received` (default: latest first) or `priority` (highest triage score first, then
    /// latest; a tip not triaged yet counts 0).
    pub sort: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseSummary {
    pub id: String,
    pub status: String,
    pub channel: String,
    pub categories: Vec<String>,
    pub target_name: String,
    pub target_kind: String,
    pub region: String,
    pub received_at: String,
    pub assignee: Option<String>,
    pub major: bool,
    /// The nearest open deadline and how many working days remain (negative: late).
    pub next_due: Option<String>,
    pub next_clock: Option<String>,
    pub working_days_left: Option<i64>,
    /// The nearest due date may move when a year's holiday notice is added.
    pub provisional: bool,
    /// The triage score (`GET /cases/{id}` says why); null until computed.
    pub priority: Option<i64>,
    /// Identical to an earlier tip from the same client address (sorted down).
    pub repeated: bool,
}

pub(crate) fn bounds(prefix: &str) -> (String, String) {
    (format!("{prefix:0<6}"), format!("{prefix:9<6}"))
}

fn forbidden_admin(p: &Principal) -> AppResult<()> {
    if !p.has_any(&REGION_READERS) && !p.has(Role::Handler) {
        return Err(super::forbidden());
    }
    Ok(())
}

type SummaryRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

pub async fn inbox(wf: &Workflow, p: &Principal, q: &InboxQuery) -> AppResult<Vec<CaseSummary>> {
    forbidden_admin(p)?;
    let mut region = p.region.clone();
    if let Some(r) = q.region.as_deref().filter(|r| !r.is_empty()) {
        let r = crate::staff::parse_region(r).map_err(|m| AppError::invalid("region", m))?;
        if !p.covers(&r) {
            return Err(super::forbidden());
        }
        region = r;
    }
    let (lo, hi) = bounds(region_prefix(&region));
    let mut sql = format!(
        "SELECT r.id, r.status, r.channel, r.categories, r.target_name, r.target_kind, r.case_region, \
         r.received_at, u.username, r.major, \
         (SELECT MIN(c.due_on) FROM clocks c WHERE c.report_id = r.id AND c.closed_at IS NULL), \
         (SELECT c.kind FROM clocks c WHERE c.report_id = r.id AND c.closed_at IS NULL ORDER BY c.due_on LIMIT 1), \
         (SELECT c.provisional FROM clocks c WHERE c.report_id = r.id AND c.closed_at IS NULL ORDER BY c.due_on LIMIT 1), \
         t.score, t.repeated \
         FROM reports r LEFT JOIN staff_users u ON u.id = r.assignee_id \
         LEFT JOIN tip_triage t ON t.report_id = r.id \
         WHERE r.case_region >= $1 AND r.case_region <= $2 AND {}",
        not_recused("r", "$3")
    );
    if lo == hi {
        // One county: equality lets its (case_region, is_open, received_at) index give the
        // rows in order.
        sql = sql.replace(
            "r.case_region >= $1 AND r.case_region <= $2",
            "r.case_region = $1 AND r.case_region = $2",
        );
    }
    let mut binds: Vec<String> = vec![lo, hi, p.id.clone()];
    let mut add = |sql: &mut String, clause: &str, v: String| {
        binds.push(v);
        sql.push_str(&clause.replace('?', &format!("${}", binds.len())));
    };
    let handler_only = !p.has_any(&REGION_READERS);
    let assigned = q.assigned.clone().unwrap_or_else(|| {
        if handler_only {
            "me".into()
        } else {
            "any".into()
        }
    });
    match assigned.as_str() {
        "me" => add(&mut sql, " AND r.assignee_id = ?", p.id.clone()),
        "unassigned" if !handler_only => sql.push_str(" AND r.assignee_id IS NULL"),
        "any" if !handler_only => {}
        _ => return Err(AppError::invalid("assigned", "error-wrong-type")),
    }
    if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty()) {
        let s = crate::domain::Status::parse(s).map_err(|m| AppError::invalid("status", m))?;
        add(&mut sql, " AND r.status = ?", s.code().into());
    } else {
        sql.push_str(" AND r.is_open = 1");
    }
    if let Some(c) = q.channel.as_deref().filter(|s| !s.is_empty()) {
        let c = crate::domain::Channel::parse(c).map_err(|m| AppError::invalid("channel", m))?;
        add(&mut sql, " AND r.channel = ?", c.code().into());
    }
    if let Some(c) = q.category.as_deref().filter(|s| !s.is_empty()) {
        let c = crate::domain::Category::parse(c).map_err(|m| AppError::invalid("category", m))?;
        add(
            &mut sql,
            " AND EXISTS (SELECT 1 FROM report_categories k WHERE k.report_id = r.id AND k.category = ?)",
            c.code().into(),
        );
    }
    if let Some(d) = q.due_before.as_deref().filter(|s| !s.is_empty()) {
        let d = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| AppError::invalid("due_before", "error-date"))?;
        add(
            &mut sql,
            " AND EXISTS (SELECT 1 FROM clocks c WHERE c.report_id = r.id AND c.closed_at IS NULL AND c.due_on <= ?)",
            d.to_string(),
        );
    }
    if let Some(b) = q.before.as_deref().filter(|s| !s.is_empty()) {
        add(&mut sql, " AND r.received_at < ?", b.to_string());
    }
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let order = match q.sort.as_deref().unwrap_or("received") {
        "received" | "" => "r.received_at DESC",
        "priority" => "COALESCE(t.score, 0) DESC, r.received_at DESC",
        _ => return Err(AppError::invalid("sort", "error-wrong-type")),
    };
    sql.push_str(&format!(" ORDER BY {order} LIMIT {limit}"));
    let mut query = sqlx::query_as::<_, SummaryRow>(&sql);
    for b in binds {
        query = query.bind(b);
    }
    let rows = query.fetch_all(&wf.db.pool).await?;
    let today = shanghai_date(wf.db.now());
    let cal = wf.calendar.current();
    Ok(rows
        .into_iter()
        .map(|r| {
            let left =
                r.10.as_deref()
                    .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                    .map(|d| cal.working_days_between(today, d));
            CaseSummary {
                id: r.0,
                status: r.1,
                channel: r.2,
                categories: r.3.split_whitespace().map(str::to_string).collect(),
                target_name: r.4,
                target_kind: r.5,
                region: r.6,
                received_at: r.7,
                assignee: r.8,
                major: r.9 != 0,
                next_due: r.10,
                next_clock: r.11,
                working_days_left: left,
                provisional: r.12.unwrap_or(0) != 0,
                priority: r.13,
                repeated: r.14.unwrap_or(0) != 0,
            }
        })
        .collect())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OverdueItem {
    pub case_id: String,
    pub clock: String,
    pub due_on: String,
    pub working_days_late: i64,
    pub status: String,
    pub region: String,
    pub assignee: Option<String>,
    pub target_name: String,
    /// The due date may move when a year's holiday notice is added.
    pub provisional: bool,
}

type OverdueRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
);

/// Open clocks past their due date in the caller's region, latest first by lateness.
pub async fn overdue(wf: &Workflow, p: &Principal, limit: i64) -> AppResult<Vec<OverdueItem>> {
    if !p.has_any(&[Role::Supervisor, Role::Auditor, Role::Intake, Role::Legal]) {
        return Err(super::forbidden());
    }
    let today = shanghai_date(wf.db.now());
    let (lo, hi) = bounds(region_prefix(&p.region));
    let rows: Vec<OverdueRow> = sqlx::query_as(&format!(
        "SELECT c.report_id, c.kind, c.due_on, r.status, r.case_region, u.username, r.target_name, \
         c.provisional \
         FROM clocks c JOIN reports r ON r.id = c.report_id LEFT JOIN staff_users u ON u.id = r.assignee_id \
         WHERE c.closed_at IS NULL AND c.due_on < $1 AND r.case_region >= $2 AND r.case_region <= $3 \
         AND {} ORDER BY c.due_on, c.id LIMIT $5",
        not_recused("r", "$4")
    ))
    .bind(today.to_string())
    .bind(lo)
    .bind(hi)
    .bind(&p.id)
    .bind(limit.clamp(1, 1000))
    .fetch_all(&wf.db.pool)
    .await?;
    let cal = wf.calendar.current();
    Ok(rows
        .into_iter()
        .map(
            |(case_id, clock, due_on, status, region, assignee, target_name, provisional)| {
                let late = chrono::NaiveDate::parse_from_str(&due_on, "%Y-%m-%d")
                    .map(|d| cal.working_days_between(d, today))
                    .unwrap_or(0);
                OverdueItem {
                    case_id,
                    clock,
                    due_on,
                    working_days_late: late,
                    status,
                    region,
                    assignee,
                    target_name,
                    provisional: provisional != 0,
                }
            },
        )
        .collect())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseEvent {
    pub id: i64,
    pub at: String,
    pub actor: Option<String>,
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub reason: Option<String>,
    pub data: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EvidenceItem {
    pub id: String,
    pub kind: String,
    pub media_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub has_working_copy: bool,
    /// The type of the working copy, which is what the default download serves.
    pub working_media_type: Option<String>,
    /// No working copy without metadata could be made (an encrypted PDF, a damaged
    /// file): the file is held sealed, kept as the original only, and the default
    /// download refuses it (`evidence_held_sealed`).
    pub held_sealed: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Message {
    pub at: String,
    pub author: String,
    pub body: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseDetail {
    pub id: String,
    pub status: String,
    pub channel: String,
    pub region: String,
    pub target: serde_json::Value,
    pub categories: Vec<String>,
    pub description: String,
    pub occurred_from: Option<String>,
    pub occurred_to: Option<String>,
    pub amount_estimate_fen: Option<i64>,
    pub received_at: String,
    /// The reporter as handlers see them: a pseudonym, never identity.
    pub reporter: serde_json::Value,
    /// Username of the staff member who recorded a non-written report.
    pub recorded_by: Option<String>,
    /// For a letter, visit or call recorded by staff: the day it reached the bureau (its
    /// clocks started then); `received_at` is when it was recorded.
    pub received_on: Option<String>,
    pub assignee: Option<String>,
    pub major: bool,
    pub merged_into: Option<String>,
    pub decision: serde_json::Value,
    pub version: i64,
    pub clocks: Vec<ClockView>,
    pub events: Vec<CaseEvent>,
    pub messages: Vec<Message>,
    pub evidence: Vec<EvidenceItem>,
    /// How each notice to the reporter went out, or that it waits and why.
    pub notices: Vec<super::notices::NoticeDelivery>,
    /// The tip's priority and why (issue 18); null until the job has computed it.
    pub triage: Option<super::triage::TriageView>,
    /// What the caller may do now.
    pub actions: Vec<Action>,
}

type DetailRow = (
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

type EventRow = (
    i64,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);
type EvidenceRow = (
    String,
    String,
    String,
    i64,
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

/// A pseudonym for the reporter of one case: stable, not linkable across cases.
pub fn pseudonym(vault: &crate::vault::Vault, report_id: &str) -> String {
    let d = vault.request_digest(&[b"reporter-pseudonym", report_id.as_bytes()]);
    format!("R-{}", hex::encode(&d[..3]).to_uppercase())
}

pub async fn detail(
    wf: &Workflow,
    vault: &crate::vault::Vault,
    p: &Principal,
    id: &str,
) -> AppResult<CaseDetail> {
    let mut tx = wf.db.begin().await?;
    let Some(case) = load_case(&mut tx, id).await? else {
        return Err(crate::workflow::case_not_found());
    };
    let recused = is_recused(&mut tx, &p.id, &case).await?;
    drop(tx);
    if !can_see(p, &case, recused) {
        crate::audit::record_denied(
            &wf.db,
            &wf.audit,
            &p.actor(),
            "case.view",
            Some(id),
            "forbidden",
        )
        .await;
        return Err(super::forbidden());
    }
    read(wf, p, "case.view", id, serde_json::json!({})).await?;
    let r: DetailRow = sqlx::query_as(
        "SELECT r.target_name, r.target_region, r.target_address, r.target_kind, r.description, \
         r.occurred_from, r.occurred_to, r.amount_estimate_fen, r.relation, u.username, r.merged_into, \
         r.verified_fen, r.recovered_fen, r.reward_due, r.decision, r.received_on \
         FROM reports r LEFT JOIN staff_users u ON u.id = r.recorded_by WHERE r.id = $1",
    )
    .bind(id)
    .fetch_one(&wf.db.pool)
    .await?;
    let assignee: Option<String> = match &case.assignee_id {
        Some(a) => {
            sqlx::query_scalar("SELECT username FROM staff_users WHERE id = $1")
                .bind(a)
                .fetch_optional(&wf.db.pool)
                .await?
        }
        None => None,
    };
    let categories: Vec<String> = sqlx::query_scalar(
        "SELECT category FROM report_categories WHERE report_id = $1 ORDER BY category",
    )
    .bind(id)
    .fetch_all(&wf.db.pool)
    .await?;
    let events: Vec<EventRow> = sqlx::query_as(
        "SELECT e.id, e.at, u.username, e.kind, e.from_status, e.to_status, e.reason, e.data \
             FROM case_events e LEFT JOIN staff_users u ON u.id = e.actor_id \
             WHERE e.report_id = $1 ORDER BY e.id",
    )
    .bind(id)
    .fetch_all(&wf.db.pool)
    .await?;
    let messages: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT at, author, body FROM report_messages WHERE report_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&wf.db.pool)
    .await?;
    let evidence: Vec<EvidenceRow> = sqlx::query_as(
        "SELECT id, kind, media_type, size_bytes, sha256, width, height, working_media_type \
             FROM evidence WHERE report_id = $1 ORDER BY seq, id",
    )
    .bind(id)
    .fetch_all(&wf.db.pool)
    .await?;
    let has_identity: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM reporter_identity WHERE report_id = $1")
            .bind(id)
            .fetch_one(&wf.db.pool)
            .await?;
    Ok(CaseDetail {
        id: case.id.clone(),
        status: case.status.code().into(),
        channel: case.channel.clone(),
        region: case.case_region.clone(),
        target: serde_json::json!({ "name": r.0, "region_code": r.1, "address": r.2, "kind": r.3 }),
        categories,
        description: r.4,
        occurred_from: r.5,
        occurred_to: r.6,
        amount_estimate_fen: r.7,
        received_at: case.received_at.clone(),
        received_on: r.15,
        reporter: serde_json::json!({
            "pseudonym": pseudonym(vault, &case.id),
            "anonymous": case.anonymous,
            "relation": r.8,
            "identity_on_file": has_identity > 0,
        }),
        recorded_by: r.9,
        assignee,
        major: case.major,
        merged_into: r.10,
        decision: serde_json::json!({ "outcome": r.14, "verified_fen": r.11, "recovered_fen": r.12, "reward_due": r.13.map(|v| v != 0) }),
        version: case.version,
        clocks: clocks::for_report(&wf.db, &wf.calendar.current(), id).await?,
        events: events
            .into_iter()
            .map(|e| CaseEvent {
                id: e.0,
                at: e.1,
                actor: e.2,
                kind: e.3,
                from_status: e.4,
                to_status: e.5,
                reason: e.6,
                data: without_linkable_ids(serde_json::from_str(&e.7).unwrap_or_default()),
            })
            .collect(),
        messages: messages
            .into_iter()
            .map(|(at, author, body)| Message { at, author, body })
            .collect(),
        evidence: evidence
            .into_iter()
            .map(|e| EvidenceItem {
                id: e.0,
                kind: e.1,
                media_type: e.2,
                size_bytes: e.3,
                sha256: e.4,
                width: e.5,
                height: e.6,
                has_working_copy: e.7.is_some(),
                held_sealed: e.7.is_none(),
                working_media_type: e.7,
            })
            .collect(),
        notices: super::notices::for_report(&wf.db, id).await?,
        triage: super::triage::load(&wf.db, id).await?,
        actions: available_actions(p, &case),
    })
}

/// Identifiers that link a case to its reporter outside the vault (a call centre's call id,
/// a chat account's id): never in a case event shown to case staff, also in events stored
/// before they were left out. A custodian's reveal shows them.
const LINKABLE_IDS: [&str; 6] = [
    "call_id",
    "openid",
    "userid",
    "from_user",
    "caller_number",
    "tracking_code",
];

fn without_linkable_ids(mut data: serde_json::Value) -> serde_json::Value {
    if let Some(map) = data.as_object_mut() {
        for k in LINKABLE_IDS {
            map.remove(k);
        }
    }
    data
}

/// Audit a read before its content goes out (see `audit::reads`).
pub(super) async fn read(
    wf: &Workflow,
    p: &Principal,
    action: &'static str,
    case_id: &str,
    detail: serde_json::Value,
) -> AppResult<()> {
    wf.reads
        .record(crate::audit::Read {
            actor: p.actor(),
            action,
            report_id: Some(case_id.to_string()),
            detail,
        })
        .await
        .map_err(AppError::internal)
}
