//! Legal holds (issue 19): a supervisor of the case's region stops its purge, with a reason,
//! until a supervisor lifts it (with a reason too). Both steps, and every refusal, are in
//! the audit log; the purge checks for a hold in its own transaction, after the audit lock
//! that placing a hold also takes, so a hold placed while the run works is never missed.

use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::staff::principal::Principal;
use crate::staff::Role;
use crate::store;
use crate::workflow::ops::run_op;
use crate::workflow::{reason, Op, Workflow, WorkflowError};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct Hold {
    pub id: String,
    pub reason: String,
    pub placed_by: String,
    pub placed_at: String,
    pub lifted_by: Option<String>,
    pub lifted_at: Option<String>,
    pub lift_reason: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldRequest {
    /// Why the case's data must be kept (a litigation, an inquiry, an appeal).
    pub reason: Option<String>,
}

/// The case's holds, newest first.
pub async fn list(
    exec: impl sqlx::Executor<'_, Database = sqlx::Any>,
    id: &str,
) -> Result<Vec<Hold>, sqlx::Error> {
    sqlx::query_as(
        "SELECT h.id AS id, h.reason AS reason, p.username AS placed_by, h.placed_at AS placed_at, \
         l.username AS lifted_by, h.lifted_at AS lifted_at, h.lift_reason AS lift_reason \
         FROM legal_holds h JOIN staff_users p ON p.id = h.placed_by \
         LEFT JOIN staff_users l ON l.id = h.lifted_by \
         WHERE h.report_id = $1 ORDER BY h.placed_at DESC, h.id DESC",
    )
    .bind(id)
    .fetch_all(exec)
    .await
}

/// Only a supervisor who may see the case, in any status (a hold matters most once a case
/// is closed).
async fn begin<'a>(
    wf: &'a Workflow,
    p: &'a Principal,
    id: &str,
    action: &'static str,
) -> AppResult<Op<'a>> {
    Op::begin_custom(wf, p, id, action, |p, _| p.has(Role::Supervisor)).await
}

async fn in_force(op: &mut Op<'_>) -> AppResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM legal_holds WHERE report_id = $1 AND lifted_at IS NULL")
            .bind(&op.case.id)
            .fetch_optional(&mut *op.tx)
            .await?,
    )
}

/// `POST /api/v1/cases/{id}/legal-hold {reason}`.
pub async fn place(
    wf: &Workflow,
    p: &Principal,
    id: &str,
    req: HoldRequest,
) -> AppResult<serde_json::Value> {
    run_op!(begin(wf, p, id, "legal_hold"), |op| {
        let why = reason("reason", req.reason.as_deref())?;
        if in_force(&mut op).await?.is_some() {
            return Err(AppError::from(WorkflowError::AlreadyHeld));
        }
        if op
            .count("SELECT COUNT(*) FROM retention_purges WHERE report_id = $1 AND stage = 'sanitized'")
            .await?
            > 0
        {
            return Err(AppError::from(WorkflowError::AlreadyPurged));
        }
        let hold_id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO legal_holds (id, report_id, reason, placed_by, placed_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&hold_id)
        .bind(&op.case.id)
        .bind(&why)
        .bind(&op.p.id)
        .bind(store::ts(wf.db.now()))
        .execute(&mut *op.tx)
        .await?;
        op.event(
            "legal_hold",
            None,
            None,
            Some(&why),
            serde_json::json!({ "hold_id": hold_id }),
        )
        .await?;
        Ok(serde_json::json!({ "hold_id": hold_id, "held": true }))
    })
}

/// `POST /api/v1/cases/{id}/legal-hold/lift {reason}`.
pub async fn lift(
    wf: &Workflow,
    p: &Principal,
    id: &str,
    req: HoldRequest,
) -> AppResult<serde_json::Value> {
    run_op!(begin(wf, p, id, "legal_hold_lift"), |op| {
        let why = reason("reason", req.reason.as_deref())?;
        let Some(hold_id) = in_force(&mut op).await? else {
            return Err(AppError::from(WorkflowError::NotHeld));
        };
        sqlx::query(
            "UPDATE legal_holds SET lifted_by = $1, lifted_at = $2, lift_reason = $3 \
             WHERE id = $4 AND lifted_at IS NULL",
        )
        .bind(&op.p.id)
        .bind(store::ts(wf.db.now()))
        .bind(&why)
        .bind(&hold_id)
        .execute(&mut *op.tx)
        .await?;
        op.event(
            "legal_hold_lifted",
            None,
            None,
            Some(&why),
            serde_json::json!({ "hold_id": hold_id }),
        )
        .await?;
        Ok(serde_json::json!({ "hold_id": hold_id, "held": false }))
    })
}
