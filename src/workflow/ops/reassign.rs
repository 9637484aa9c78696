//! Reassigning a case to another handler, and staff messages to the reporter.

#[allow(unused_imports)]
use super::*;

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
        if crate::workflow::is_recused(&mut op.tx, &user.id, &op.case).await? {
            return Err(AppError::invalid("assignee", "error-assignee-recused"));
        }
        crate::workflow::assign::set_assignee(&mut op, &user.id, &why).await?;
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
        let at = store::ts(wf.db.now());
        let mid: i64 = sqlx::query_scalar(
            "INSERT INTO report_messages (report_id, at, author, body) VALUES ($1, $2, 'staff', $3) RETURNING id",
        )
        .bind(&op.case.id)
        .bind(&at)
        .bind(&body)
        .fetch_one(&mut *op.tx)
        .await?;
        let job = NewJob::of(&crate::workflow::feedback::FeedbackJob {
            report_id: op.case.id.clone(),
            event_id: None,
            message_id: Some(mid),
        });
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
