//! Typical cases (典型案例曝光, DOMAIN §8, issue 19): a handler drafts one from a case decided
//! substantiated (or partly); legal reviews it (approves, or returns it with a note); a
//! supervisor's approval publishes it; a supervisor may withdraw it. Neither the reviewer
//! nor the approver may be the drafter. Before each step the text passes [`check`]: one
//! that names the reporter, a tracking code, a call id or a member of staff is refused with
//! the field named, and nothing changes. Every step, and every refusal, is audited on the
//! case.

pub mod check;

use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::staff::principal::Principal;
use crate::staff::Role;
use crate::store::{self, Db};
use crate::vault::Vault;
use crate::workflow::ops::run_op;
use crate::workflow::{is_assignee, required_text as text, Op, Workflow, WorkflowError};

/// What the public sees of a published typical case: no case id, no names.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct PublicTypicalCase {
    pub id: String,
    pub title: String,
    /// The kind of institution (e.g. 民营医院, 定点药店).
    pub institution_kind: String,
    /// The province or city code shown.
    pub region: String,
    /// What was done.
    pub summary: String,
    pub legal_basis: String,
    pub penalty: String,
    pub recovered_fen: i64,
    pub published_at: Option<String>,
}

/// A typical case as staff see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct TypicalCase {
    #[serde(flatten)]
    #[sqlx(flatten)]
    pub text: PublicTypicalCase,
    pub report_id: String,
    /// `draft`, `reviewed`, `returned`, `published`, `withdrawn`.
    pub status: String,
    pub drafted_by: String,
    pub drafted_at: String,
    pub reviewed_by: Option<String>,
    pub review_note: Option<String>,
    pub approved_by: Option<String>,
    pub withdrawn_at: Option<String>,
    pub withdraw_reason: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftRequest {
    pub title: Option<String>,
    pub institution_kind: Option<String>,
    /// 6-digit province or city code; default: the case's city.
    pub region: Option<String>,
    pub summary: Option<String>,
    pub legal_basis: Option<String>,
    pub penalty: Option<String>,
    /// Default: the recovered amount the decision recorded.
    pub recovered_fen: Option<i64>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    pub approve: Option<bool>,
    /// Required when returning it.
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepRequest {
    /// Required to withdraw.
    pub reason: Option<String>,
}

const COLUMNS: &str = "t.id AS id, t.title AS title, t.institution_kind AS institution_kind, \
    t.region AS region, t.summary AS summary, t.legal_basis AS legal_basis, t.penalty AS penalty, \
    t.recovered_fen AS recovered_fen, t.published_at AS published_at, t.report_id AS report_id, \
    t.status AS status, d.username AS drafted_by, t.drafted_at AS drafted_at, \
    r.username AS reviewed_by, t.review_note AS review_note, a.username AS approved_by, \
    t.withdrawn_at AS withdrawn_at, t.withdraw_reason AS withdraw_reason";
const FROM: &str = "FROM typical_cases t JOIN reports rr ON rr.id = t.report_id \
    JOIN staff_users d ON d.id = t.drafted_by \
    LEFT JOIN staff_users r ON r.id = t.reviewed_by LEFT JOIN staff_users a ON a.id = t.approved_by";

async fn rows(db: &Db, filter: &str, bind: &[&str]) -> Result<Vec<TypicalCase>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} {FROM} WHERE {filter}");
    let mut q = sqlx::query_as::<_, TypicalCase>(&sql);
    for b in bind {
        q = q.bind(b.to_string());
    }
    q.fetch_all(&db.pool).await
}

/// `GET /api/v1/public/typical-cases`: the published ones, newest first.
pub async fn published(db: &Db) -> AppResult<Vec<PublicTypicalCase>> {
    Ok(rows(
        db,
        "t.status = 'published' ORDER BY t.published_at DESC, t.id",
        &[],
    )
    .await?
    .into_iter()
    .map(|t| t.text)
    .collect())
}

/// `GET /api/v1/typical-cases`: those of cases in the caller's region (recusal applies).
pub async fn list(wf: &Workflow, p: &Principal) -> AppResult<Vec<TypicalCase>> {
    crate::workflow::require_role(
        &wf.db,
        &wf.audit,
        p,
        &[Role::Handler, Role::Supervisor, Role::Legal, Role::Auditor],
        "typical.list",
    )
    .await?;
    let (lo, hi) = crate::workflow::query::bounds(crate::staff::region_prefix(&p.region));
    let filter = format!(
        "t.case_region >= $1 AND t.case_region <= $2 AND {} ORDER BY t.drafted_at DESC, t.id",
        crate::domain::institution::not_recused("rr", "$3")
    );
    Ok(rows(&wf.db, &filter, &[&lo, &hi, &p.id]).await?)
}

async fn one(op: &mut Op<'_>, id: &str) -> AppResult<(String, String)> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT status, drafted_by FROM typical_cases WHERE id = $1 AND report_id = $2",
    )
    .bind(id)
    .bind(&op.case.id)
    .fetch_optional(&mut *op.tx)
    .await?;
    row.ok_or_else(|| AppError::from(WorkflowError::TypicalNotFound))
}

/// Begin step `action` on typical case `id`, as an operation on its case by a holder of
/// `role` who may see the case.
async fn begin_step<'a>(
    wf: &'a Workflow,
    p: &'a Principal,
    id: &str,
    action: &'static str,
    role: Role,
) -> AppResult<Op<'a>> {
    // The role first, so that a caller who may not take the step learns nothing of the id.
    crate::workflow::require_role(&wf.db, &wf.audit, p, &[role], &format!("case.{action}")).await?;
    let case: Option<String> =
        sqlx::query_scalar("SELECT report_id FROM typical_cases WHERE id = $1")
            .bind(id)
            .fetch_optional(&wf.db.pool)
            .await?;
    let case = case.ok_or_else(|| AppError::from(WorkflowError::TypicalNotFound))?;
    Op::begin_custom(wf, p, &case, action, |p, _| p.has(role)).await
}

/// The text fields of a stored typical case, for the check before a later step.
async fn stored_text(op: &mut Op<'_>, id: &str) -> AppResult<[String; 5]> {
    let t: (String, String, String, String, String) = sqlx::query_as(
        "SELECT title, institution_kind, summary, legal_basis, penalty FROM typical_cases \
         WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&mut *op.tx)
    .await?;
    Ok([t.0, t.1, t.2, t.3, t.4])
}

async fn check_text(op: &mut Op<'_>, vault: &Vault, t: &[String; 5]) -> AppResult<()> {
    let needles = check::Needles::load(&mut op.tx, vault, &op.case.id.clone())
        .await
        .map_err(AppError::internal)?;
    let fields = [
        ("title", t[0].as_str()),
        ("institution_kind", t[1].as_str()),
        ("summary", t[2].as_str()),
        ("legal_basis", t[3].as_str()),
        ("penalty", t[4].as_str()),
    ];
    check::check(&mut op.tx, vault, &needles, &fields).await
}

fn wrong_status(status: &str) -> AppError {
    AppError::from(WorkflowError::TypicalWrongStatus).arg("status", status.to_string())
}

/// `POST /api/v1/cases/{id}/typical-cases`: the case's assignee or a supervisor drafts.
pub async fn draft(
    wf: &Workflow,
    vault: &Vault,
    p: &Principal,
    case_id: &str,
    req: DraftRequest,
) -> AppResult<serde_json::Value> {
    let begin = Op::begin_custom(wf, p, case_id, "typical_draft", |p, c| {
        (p.has(Role::Handler) && is_assignee(p, c)) || p.has(Role::Supervisor)
    });
    run_op!(begin, |op| {
        let (decision, recovered): (Option<String>, Option<i64>) =
            sqlx::query_as("SELECT decision, recovered_fen FROM reports WHERE id = $1")
                .bind(&op.case.id)
                .fetch_one(&mut *op.tx)
                .await?;
        if !matches!(decision.as_deref(), Some("substantiated" | "partly")) {
            return Err(AppError::from(WorkflowError::NotSubstantiated));
        }
        let t = [
            text("title", req.title.as_deref(), 100)?,
            text("institution_kind", req.institution_kind.as_deref(), 50)?,
            text("summary", req.summary.as_deref(), 5000)?,
            text("legal_basis", req.legal_basis.as_deref(), 2000)?,
            text("penalty", req.penalty.as_deref(), 2000)?,
        ];
        let region = match req.region.as_deref() {
            Some(r) => crate::domain::region::parse_region(r)
                .map_err(|_| AppError::invalid("region", "error-region-code"))?,
            None => format!(
                "{}00",
                &op.case.case_region[..4.min(op.case.case_region.len())]
            ),
        };
        let recovered_fen = req.recovered_fen.or(recovered).unwrap_or(0);
        if recovered_fen < 0 {
            return Err(AppError::invalid("recovered_fen", "error-amount"));
        }
        check_text(&mut op, vault, &t).await?;
        let id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO typical_cases (id, report_id, case_region, status, title, \
             institution_kind, region, summary, legal_basis, penalty, recovered_fen, drafted_by, \
             drafted_at) VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&id)
        .bind(&op.case.id)
        .bind(&op.case.case_region)
        .bind(&t[0])
        .bind(&t[1])
        .bind(&region)
        .bind(&t[2])
        .bind(&t[3])
        .bind(&t[4])
        .bind(recovered_fen)
        .bind(&op.p.id)
        .bind(store::ts(wf.db.now()))
        .execute(&mut *op.tx)
        .await?;
        op.event(
            "typical_case_drafted",
            None,
            None,
            None,
            serde_json::json!({ "typical_case_id": id }),
        )
        .await?;
        Ok(serde_json::json!({ "id": id, "status": "draft" }))
    })
}

/// `POST /api/v1/typical-cases/{id}/legal-review {approve, note}` (legal, not the drafter).
pub async fn review(
    wf: &Workflow,
    vault: &Vault,
    p: &Principal,
    id: &str,
    req: ReviewRequest,
) -> AppResult<serde_json::Value> {
    let begin = begin_step(wf, p, id, "typical_review", Role::Legal);
    run_op!(begin, |op| {
        let (status, drafter) = one(&mut op, id).await?;
        if drafter == op.p.id {
            return Err(AppError::from(WorkflowError::OwnDraft));
        }
        if status != "draft" {
            return Err(wrong_status(&status));
        }
        let approve = req.approve.unwrap_or(false);
        let note = if approve {
            req.note
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_string)
        } else {
            Some(text("note", req.note.as_deref(), 2000)?)
        };
        if approve {
            let t = stored_text(&mut op, id).await?;
            check_text(&mut op, vault, &t).await?;
        }
        let to = if approve { "reviewed" } else { "returned" };
        sqlx::query(
            "UPDATE typical_cases SET status = $1, reviewed_by = $2, reviewed_at = $3, \
             review_note = $4 WHERE id = $5 AND status = 'draft'",
        )
        .bind(to)
        .bind(&op.p.id)
        .bind(store::ts(wf.db.now()))
        .bind(note)
        .bind(id)
        .execute(&mut *op.tx)
        .await?;
        Ok(serde_json::json!({ "id": id, "status": to }))
    })
}

/// `POST /api/v1/typical-cases/{id}/approve` (supervisor, not the drafter): publish.
pub async fn approve(
    wf: &Workflow,
    vault: &Vault,
    p: &Principal,
    id: &str,
    _req: StepRequest,
) -> AppResult<serde_json::Value> {
    let begin = begin_step(wf, p, id, "typical_publish", Role::Supervisor);
    run_op!(begin, |op| {
        let (status, drafter) = one(&mut op, id).await?;
        if drafter == op.p.id {
            return Err(AppError::from(WorkflowError::OwnDraft));
        }
        if status != "reviewed" {
            return Err(wrong_status(&status));
        }
        let t = stored_text(&mut op, id).await?;
        check_text(&mut op, vault, &t).await?;
        sqlx::query(
            "UPDATE typical_cases SET status = 'published', approved_by = $1, published_at = $2 \
             WHERE id = $3 AND status = 'reviewed'",
        )
        .bind(&op.p.id)
        .bind(store::ts(wf.db.now()))
        .bind(id)
        .execute(&mut *op.tx)
        .await?;
        Ok(serde_json::json!({ "id": id, "status": "published" }))
    })
}

/// `POST /api/v1/typical-cases/{id}/withdraw {reason}` (supervisor).
pub async fn withdraw(
    wf: &Workflow,
    p: &Principal,
    id: &str,
    req: StepRequest,
) -> AppResult<serde_json::Value> {
    let begin = begin_step(wf, p, id, "typical_withdraw", Role::Supervisor);
    run_op!(begin, |op| {
        let why = crate::workflow::reason("reason", req.reason.as_deref())?;
        let (status, _) = one(&mut op, id).await?;
        if status != "published" {
            return Err(wrong_status(&status));
        }
        sqlx::query(
            "UPDATE typical_cases SET status = 'withdrawn', withdrawn_by = $1, withdrawn_at = $2, \
             withdraw_reason = $3 WHERE id = $4 AND status = 'published'",
        )
        .bind(&op.p.id)
        .bind(store::ts(wf.db.now()))
        .bind(&why)
        .bind(id)
        .execute(&mut *op.tx)
        .await?;
        Ok(serde_json::json!({ "id": id, "status": "withdrawn" }))
    })
}
