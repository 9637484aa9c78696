//! The check's records: findings with their statutory evidence kinds, the party's notice and
//! statement, collective decisions, legal review, marking a case major.

#[allow(unused_imports)]
use super::*;

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

pub(super) fn text(field: &str, s: &str, max: usize) -> AppResult<String> {
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
        return Err(AppError::from(WorkflowError::LegalReviewRequired));
    }
    Ok(())
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
            return Err(AppError::from(WorkflowError::DefencePeriodOpen));
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
            return Err(AppError::from(WorkflowError::PartyNoticeRequired));
        }
        clocks::close(
            &mut op.tx,
            &op.case.id.clone(),
            &[ClockKind::Defence],
            wf.db.now(),
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
            return Err(AppError::from(WorkflowError::AlreadyMajor));
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
                if crate::workflow::sweep::email_staff(
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
