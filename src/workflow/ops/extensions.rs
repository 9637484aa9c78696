//! Deadline extensions: requested by the handler, decided by a supervisor (complex: 3 months;
//! major: 6 months after a collective decision), never shortening the deadline.

#[allow(unused_imports)]
use super::*;

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
            return Err(AppError::from(WorkflowError::ExtensionPending));
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
        .bind(store::ts(wf.db.now()))
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
            return Err(AppError::from(WorkflowError::AlreadyDecided));
        }
        if requested_by == p.id {
            return Err(crate::workflow::forbidden().with_code("own_request"));
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
            let today = crate::deadlines::calendar::shanghai_date(wf.db.now());
            let rule = label
                .as_deref()
                .and_then(|l| wf.rules.get(l))
                .unwrap_or_else(|| wf.rules.select(&op.case.case_region, today));
            let months = if kind == "major" {
                if !op.case.major {
                    return Err(AppError::from(WorkflowError::NotMajor));
                }
                if op
                    .count("SELECT COUNT(*) FROM case_events WHERE report_id = $1 AND kind = 'collective_decision'")
                    .await?
                    == 0
                {
                    return Err(AppError::from(WorkflowError::CollectiveDecisionRequired));
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
                return Err(AppError::from(WorkflowError::NoOpenClock));
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
        .bind(store::ts(wf.db.now()))
        .bind(request_id)
        .execute(&mut *op.tx)
        .await?;
        let due = due.map(|d| d.to_string());
        op.event("extension", None, None, Some(&why), serde_json::json!({ "request": request_id, "kind": kind, "state": state, "due_on": due }))
            .await?;
        Ok(serde_json::json!({ "request_id": request_id, "state": state, "due_on": due }))
    })
}
