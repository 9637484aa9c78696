//! Identity reveal, the custodian model: a handler asks with a reason; custodians (never
//! the requester) approve or deny with a reason — as many distinct custodians as
//! `[identity] approvals_required`; only after approval, within `[identity] approval_hours`,
//! is the identity opened, once, for that request, by the requester signed in with a second
//! factor, and the reveal is written to the audit log, where auditors see it. At every
//! decision and at the reveal, the requester and every approving custodian are checked again
//! as they are now (account, role, region, recusal): a grant does not outlive the right.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    can_see, forbidden, is_recused, load_case, reason, Action, CaseRow, Op, Workflow, WorkflowError,
};
use crate::audit::{self, Entry, Outcome};
use crate::error::{AppError, AppResult};
use crate::notify::robots::{self, AlertKind, StaffAlert};
use crate::staff::principal::Principal;
use crate::staff::Role;
use crate::store;
use crate::vault::{IdentityField, SealedIdentity, Vault};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealRequest {
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IdentityRequestView {
    pub id: String,
    pub report_id: String,
    pub case_region: String,
    pub requested_by: String,
    pub reason: String,
    pub requested_at: String,
    pub state: String,
    pub decided_by: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_at: Option<String>,
    pub revealed_at: Option<String>,
    /// Custodians who have approved so far, and how many are needed.
    pub approvals: i64,
    pub approvals_required: i64,
    /// Set when the request is for an evidence original rather than the identity.
    pub evidence_id: Option<String>,
}

/// The opened identity, returned once.
#[derive(Serialize, ToSchema)]
pub struct RevealedIdentity {
    pub request_id: String,
    pub name: Option<String>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub caller_number: Option<String>,
    /// The reporter's WeChat openid or WeCom userid (a bot tip): linkable to their account.
    pub chat_id: Option<String>,
    /// The hotline's `call_id` (a hotline tip): the call centre links it to the caller.
    pub call_id: Option<String>,
    pub relation: Option<String>,
    pub anonymous: bool,
}

pub async fn request(
    wf: &Workflow,
    p: &Principal,
    report_id: &str,
    req: RevealRequest,
) -> AppResult<IdentityRequestView> {
    let mut op = Op::begin(wf, p, report_id, Action::RequestIdentity).await?;
    let why = match reason("reason", req.reason.as_deref()) {
        Ok(w) => w,
        Err(e) => return Err(op.deny(e).await),
    };
    if op.case.anonymous {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM reporter_identity WHERE report_id = $1")
                .bind(&op.case.id)
                .fetch_one(&mut *op.tx)
                .await?;
        if n == 0 {
            return Err(op
                .deny(AppError::from(WorkflowError::AnonymousReporter))
                .await);
        }
    }
    let view = insert_pending(&mut op, wf, p, why, None).await?;
    op.commit(serde_json::json!({ "request": view.id })).await?;
    Ok(view)
}

/// A new pending request, for the identity or for one evidence original, written in the
/// operation's transaction.
pub(super) async fn insert_pending(
    op: &mut Op<'_>,
    wf: &Workflow,
    p: &Principal,
    why: String,
    evidence_id: Option<&str>,
) -> AppResult<IdentityRequestView> {
    let id = uuid::Uuid::now_v7().to_string();
    let now = store::ts(wf.db.now());
    sqlx::query(
        "INSERT INTO identity_requests (id, report_id, requested_by, reason, requested_at, \
         state, evidence_id) VALUES ($1, $2, $3, $4, $5, 'pending', $6)",
    )
    .bind(&id)
    .bind(&op.case.id)
    .bind(&p.id)
    .bind(&why)
    .bind(&now)
    .bind(evidence_id)
    .execute(&mut *op.tx)
    .await?;
    if !wf.config.robots.is_empty() {
        let alert = StaffAlert {
            event: format!("reveal:{id}"),
            kind: AlertKind::RevealWaiting,
            region: op.case.case_region.clone(),
            case_id: op.case.id.clone(),
            clock: None,
            due: None,
            count: 0,
            of: i64::from(wf.config.identity.approvals_required),
        };
        robots::alert(&mut op.tx, &alert, wf.config.outbox.max_attempts).await?;
    }
    Ok(IdentityRequestView {
        id,
        report_id: op.case.id.clone(),
        case_region: op.case.case_region.clone(),
        requested_by: p.username.clone(),
        reason: why,
        requested_at: now,
        state: "pending".into(),
        decided_by: None,
        decision_reason: None,
        decided_at: None,
        revealed_at: None,
        approvals: 0,
        approvals_required: i64::from(wf.config.identity.approvals_required),
        evidence_id: evidence_id.map(str::to_string),
    })
}

type ReqRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    i64,
    Option<String>,
);

const SELECT: &str =
    "SELECT q.id, q.report_id, r.case_region, u.username, q.reason, q.requested_at, \
    q.state, d.username, q.decision_reason, q.decided_at, q.revealed_at, q.requested_by, \
    (SELECT COUNT(*) FROM identity_approvals a WHERE a.request_id = q.id), q.evidence_id \
    FROM identity_requests q JOIN reports r ON r.id = q.report_id \
    JOIN staff_users u ON u.id = q.requested_by LEFT JOIN staff_users d ON d.id = q.decided_by";

pub(super) fn view(r: ReqRow, required: u32) -> (IdentityRequestView, String) {
    (
        IdentityRequestView {
            id: r.0,
            report_id: r.1,
            case_region: r.2,
            requested_by: r.3,
            reason: r.4,
            requested_at: r.5,
            state: r.6,
            decided_by: r.7,
            decision_reason: r.8,
            decided_at: r.9,
            revealed_at: r.10,
            approvals: r.12,
            approvals_required: i64::from(required),
            evidence_id: r.13,
        },
        r.11,
    )
}

/// Custodians and auditors see the requests of their region's cases (not those they are
/// recused from); others see their own. Filtered in the query, before the limit, so requests
/// of other regions cannot crowd out one's own.
pub async fn list(
    wf: &Workflow,
    p: &Principal,
    state: Option<&str>,
) -> AppResult<Vec<IdentityRequestView>> {
    let mut sql = format!("{SELECT} WHERE (q.requested_by = $1");
    if p.has_any(&[Role::Custodian, Role::Auditor]) {
        sql.push_str(&format!(
            " OR (r.case_region LIKE $2 AND {})",
            crate::domain::institution::not_recused("r", "$1")
        ));
    }
    sql.push(')');
    if let Some(s) = state {
        if !matches!(s, "pending" | "approved" | "denied" | "revealed") {
            return Err(AppError::invalid("state", "error-wrong-type"));
        }
        sql.push_str(&format!(" AND q.state = '{s}'"));
    }
    sql.push_str(" ORDER BY q.requested_at DESC LIMIT 200");
    let prefix = format!("{}%", crate::staff::region_prefix(&p.region));
    let mut q = sqlx::query_as::<_, ReqRow>(&sql).bind(&p.id);
    if p.has_any(&[Role::Custodian, Role::Auditor]) {
        q = q.bind(&prefix);
    }
    let rows = q.fetch_all(&wf.db.pool).await?;
    let required = wf.config.identity.approvals_required;
    Ok(rows.into_iter().map(|r| view(r, required).0).collect())
}

/// Whether `user_id` may, as of now, see the case: an active account whose roles, region and
/// recusals let it (the same rule as [`can_see`]), and that has one of `roles`.
pub(super) async fn may_now(
    tx: &mut store::Tx<'_>,
    user_id: &str,
    case: &CaseRow,
    roles: &[Role],
) -> AppResult<bool> {
    let row: Option<(String, String, String, i64)> =
        sqlx::query_as("SELECT username, roles, region, active FROM staff_users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&mut **tx)
            .await?;
    let Some((username, r, region, active)) = row else {
        return Ok(false);
    };
    let who = Principal {
        id: user_id.to_string(),
        username,
        display_name: String::new(),
        roles: crate::staff::parse_roles(&r).unwrap_or_default(),
        region,
        locale: String::new(),
        session: String::new(),
        mfa: false,
    };
    let recused = is_recused(tx, user_id, case).await?;
    Ok(active != 0 && who.has_any(roles) && can_see(&who, case, recused))
}

/// The roles that may ask for and open an identity.
pub(super) const REQUESTERS: [Role; 2] = [Role::Handler, Role::Supervisor];

pub(super) async fn case_of(tx: &mut store::Tx<'_>, report_id: &str) -> AppResult<CaseRow> {
    load_case(tx, report_id)
        .await?
        .ok_or_else(super::case_not_found)
}

pub(super) async fn load(
    tx: &mut store::Tx<'_>,
    id: &str,
) -> AppResult<(IdentityRequestView, String)> {
    let row: Option<ReqRow> = sqlx::query_as(&format!("{SELECT} WHERE q.id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|r| view(r, 0)).ok_or_else(super::record_not_found)
}

pub(super) async fn denied(
    wf: &Workflow,
    p: &Principal,
    action: &str,
    report_id: Option<&str>,
    err: AppError,
) -> AppError {
    audit::record_denied(&wf.db, &wf.audit, &p.actor(), action, report_id, err.code).await;
    err
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealDecision {
    pub approve: bool,
    pub reason: Option<String>,
}

/// A custodian who may see the case, not the requester, decides. An approval counts only
/// while the requester may still see the case; the request is approved once
/// `[identity] approvals_required` distinct custodians have approved, and denied by any
/// one refusal.
pub async fn decide(
    wf: &Workflow,
    p: &Principal,
    id: &str,
    req: RevealDecision,
) -> AppResult<IdentityRequestView> {
    let mut tx = wf.db.begin().await?;
    audit::lock(&mut tx).await?;
    let (mut v, requested_by) = load(&mut tx, id).await?;
    let case = case_of(&mut tx, &v.report_id).await?;
    let custodian = may_now(&mut tx, &p.id, &case, &[Role::Custodian]).await?;
    let requester = may_now(&mut tx, &requested_by, &case, &REQUESTERS).await?;
    let already: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM identity_approvals WHERE request_id = $1 AND custodian_id = $2",
    )
    .bind(id)
    .bind(&p.id)
    .fetch_one(&mut *tx)
    .await?;
    let check = || -> AppResult<String> {
        if !p.has(Role::Custodian) || !custodian || requested_by == p.id {
            return Err(forbidden());
        }
        if v.state != "pending" || already > 0 {
            return Err(AppError::from(WorkflowError::AlreadyDecided));
        }
        if req.approve && !requester {
            return Err(AppError::from(WorkflowError::RequesterIneligible));
        }
        reason("reason", req.reason.as_deref())
    };
    let why = match check() {
        Ok(w) => w,
        Err(e) => {
            drop(tx);
            return Err(denied(wf, p, "identity.decide", Some(&v.report_id), e).await);
        }
    };
    let now = store::ts(wf.db.now());
    let required = wf.config.identity.approvals_required;
    let mut approvals = v.approvals;
    if req.approve {
        sqlx::query(
            "INSERT INTO identity_approvals (request_id, custodian_id, reason, decided_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(&p.id)
        .bind(&why)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        approvals += 1;
    }
    let state = match (req.approve, approvals >= i64::from(required)) {
        (false, _) => "denied",
        (true, true) => "approved",
        (true, false) => "pending",
    };
    if state != "pending" {
        sqlx::query(
            "UPDATE identity_requests SET state = $1, decided_by = $2, decision_reason = $3, \
             decided_at = $4 WHERE id = $5 AND state = 'pending'",
        )
        .bind(state)
        .bind(&p.id)
        .bind(&why)
        .bind(&now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    audit::append(
        &mut tx,
        &wf.audit,
        &Entry {
            actor: &p.actor(),
            action: "identity.decide",
            outcome: Outcome::Ok,
            report_id: Some(&v.report_id),
            detail: serde_json::json!({
                "request": id,
                "approve": req.approve,
                "state": state,
                "approvals": approvals,
                "required": required,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    v.approvals = approvals;
    v.approvals_required = i64::from(required);
    v.state = state.into();
    if state != "pending" {
        v.decided_by = Some(p.username.clone());
        v.decision_reason = Some(why);
        v.decided_at = Some(now);
    }
    Ok(v)
}

/// Why `p` may not use the approved request `v` now, if they may not: not theirs, or they
/// may no longer see the case; not approved (or used); no second factor; the approval has
/// expired; a custodian who approved it may no longer approve.
pub(super) async fn unusable(
    tx: &mut store::Tx<'_>,
    wf: &Workflow,
    p: &Principal,
    v: &IdentityRequestView,
    requested_by: &str,
) -> AppResult<Option<AppError>> {
    let case = case_of(tx, &v.report_id).await?;
    let requester = may_now(tx, &p.id, &case, &REQUESTERS).await?;
    let approvers: Vec<String> =
        sqlx::query_scalar("SELECT custodian_id FROM identity_approvals WHERE request_id = $1")
            .bind(&v.id)
            .fetch_all(&mut **tx)
            .await?;
    let mut withdrawn = false;
    for c in &approvers {
        withdrawn |= !may_now(tx, c, &case, &[Role::Custodian]).await?;
    }
    let hours = wf.config.identity.approval_hours;
    let expired = v
        .decided_at
        .as_deref()
        .and_then(|t| store::parse_ts(t).ok())
        .is_some_and(|t| t + hours.chrono() <= wf.db.now());
    Ok(if requested_by != p.id || !requester {
        Some(forbidden())
    } else if v.state == "revealed" {
        Some(AppError::from(WorkflowError::AlreadyRevealed))
    } else if v.state != "approved" {
        Some(AppError::from(WorkflowError::NotApproved))
    } else if !p.mfa {
        Some(AppError::from(WorkflowError::RevealNeedsTotp))
    } else if expired {
        Some(AppError::from(WorkflowError::ApprovalExpired))
    } else if withdrawn {
        Some(AppError::from(WorkflowError::ApprovalWithdrawn))
    } else {
        None
    })
}

/// The requester opens an approved request, once. The reveal is audited in the same
/// transaction that marks the request used.
pub async fn reveal(
    wf: &Workflow,
    vault: &Vault,
    p: &Principal,
    id: &str,
) -> AppResult<RevealedIdentity> {
    let mut tx = wf.db.begin().await?;
    audit::lock(&mut tx).await?;
    let (v, requested_by) = load(&mut tx, id).await?;
    let err = if v.evidence_id.is_some() {
        Some(AppError::from(WorkflowError::NotAnIdentityRequest))
    } else {
        unusable(&mut tx, wf, p, &v, &requested_by).await?
    };
    if let Some(e) = err {
        drop(tx);
        return Err(denied(wf, p, "identity.reveal", Some(&v.report_id), e).await);
    }
    let marked = sqlx::query(
        "UPDATE identity_requests SET state = 'revealed', revealed_at = $1 WHERE id = $2 AND state = 'approved'",
    )
    .bind(store::ts(wf.db.now()))
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if marked != 1 {
        return Err(AppError::from(WorkflowError::AlreadyRevealed));
    }
    let (anonymous, relation): (i64, Option<String>) =
        sqlx::query_as("SELECT anonymous, relation FROM reports WHERE id = $1")
            .bind(&v.report_id)
            .fetch_one(&mut *tx)
            .await?;
    let sealed = SealedIdentity::load(&mut *tx, &v.report_id).await?;
    let identity = match sealed {
        Some(s) => vault
            .open_identity(&v.report_id, &s)
            .await
            .map_err(AppError::internal)?,
        None => Default::default(),
    };
    // The hotline's call id is not sealed (the bridge answers a repeated call by it) but is
    // shown to case staff only here, like the identity.
    let call_id: Option<String> =
        sqlx::query_scalar("SELECT call_id FROM hotline_calls WHERE report_id = $1")
            .bind(&v.report_id)
            .fetch_optional(&mut *tx)
            .await?;
    // The bank account stays out: finance sees it masked at the payment step only.
    let mut fields: Vec<&str> = IdentityField::ALL
        .into_iter()
        .filter(|f| *f != IdentityField::BankAccount && identity.get(*f).is_some())
        .map(|f| f.column())
        .collect();
    if call_id.is_some() {
        fields.push("call_id");
    }
    audit::append(
        &mut tx,
        &wf.audit,
        &Entry {
            actor: &p.actor(),
            action: "identity.reveal",
            outcome: Outcome::Ok,
            report_id: Some(&v.report_id),
            detail: serde_json::json!({ "request": id, "reason": v.reason, "fields": fields }),
        },
    )
    .await?;
    tx.commit().await?;
    let get = |f| identity.get(f).map(str::to_string);
    Ok(RevealedIdentity {
        request_id: id.to_string(),
        name: get(IdentityField::Name),
        id_number: get(IdentityField::IdNumber),
        phone: get(IdentityField::Phone),
        email: get(IdentityField::Email),
        caller_number: get(IdentityField::CallerNumber),
        chat_id: get(IdentityField::Openid),
        call_id,
        relation,
        anonymous: anonymous != 0,
    })
}
