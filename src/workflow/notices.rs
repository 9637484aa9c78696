//! Delivery of notices to the reporter, as staff see it (issue 17 part 5): for each
//! timeline entry and staff message the reporter was to be told of, how it went out
//! (channel and time), that it waits and why, or that it is still queued or failed; and
//! the notices that have waited longer than the feedback deadline, for the console.

use serde::Serialize;
use utoipa::ToSchema;

use super::Workflow;
use crate::deadlines::calendar::shanghai_date;
use crate::domain::institution::not_recused;
use crate::domain::region::region_prefix;
use crate::error::AppResult;
use crate::staff::principal::Principal;
use crate::staff::Role;
use crate::store::Db;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoticeDelivery {
    /// When the entry or message was written.
    pub at: String,
    /// `status`, `reward`, `deadline` (a timeline entry) or `message` (from staff).
    pub kind: String,
    pub status: String,
    /// `sent`, `waiting` (nothing could carry it yet: given in the chat's next reply),
    /// `queued` (being tried or retried) or `failed` (on the dead-letter list).
    pub state: String,
    /// How it went out: `wechat_service`, `wechat_template`, `wechat_subscribe`,
    /// `wechat_reply`, `wecom`, `email`, `hotline`, `page` (the status page only).
    pub via: Option<String>,
    /// Why it waits (`outside_48h_no_template`, `unfollowed`, `not_subscribed`) or the
    /// last failure's code while queued or failed.
    pub reason: Option<String>,
    pub sent_at: Option<String>,
}

type Row = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Every notice of one report, oldest first (the receipt itself is not one).
pub async fn for_report(db: &Db, report_id: &str) -> Result<Vec<NoticeDelivery>, sqlx::Error> {
    let mut rows: Vec<Row> = sqlx::query_as(
        "SELECT e.at, e.kind, e.status, d.state, d.via, d.reason, d.sent_at, j.state, \
         j.last_error FROM report_events e \
         LEFT JOIN notice_deliveries d ON d.notice_key = 'feedback:' || e.id \
         LEFT JOIN jobs j ON j.dedupe_key = 'feedback:' || e.id \
         WHERE e.report_id = $1 AND (d.state IS NOT NULL OR j.state IS NOT NULL) ORDER BY e.id",
    )
    .bind(report_id)
    .fetch_all(&db.pool)
    .await?;
    let messages: Vec<Row> = sqlx::query_as(
        "SELECT m.at, 'message', r.status, d.state, d.via, d.reason, d.sent_at, j.state, \
         j.last_error FROM report_messages m JOIN reports r ON r.id = m.report_id \
         LEFT JOIN notice_deliveries d ON d.notice_key = 'message:' || m.id \
         LEFT JOIN jobs j ON j.dedupe_key = 'message:' || m.id \
         WHERE m.report_id = $1 AND (d.state IS NOT NULL OR j.state IS NOT NULL) ORDER BY m.id",
    )
    .bind(report_id)
    .fetch_all(&db.pool)
    .await?;
    rows.extend(messages);
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(rows
        .into_iter()
        .map(
            |(at, kind, status, state, via, reason, sent_at, job, last_error)| {
                let (state, reason) = match (state, job) {
                    // A newer try is queued (an admin's retry): it shows as queued.
                    (_, Some(j)) => (
                        if j == "dead" { "failed" } else { "queued" }.to_string(),
                        last_error,
                    ),
                    (Some(s), None) => (s, reason),
                    (None, None) => ("queued".to_string(), None),
                };
                NoticeDelivery {
                    at,
                    kind,
                    status,
                    state,
                    via,
                    reason,
                    sent_at,
                }
            },
        )
        .collect())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WaitingNotice {
    pub case_id: String,
    pub region: String,
    pub channel: String,
    /// When it was found that nothing could carry it.
    pub waiting_since: String,
    pub reason: Option<String>,
    /// Working days it has waited (more than `[workflow] feedback_working_days`).
    pub working_days: i64,
}

/// Notices in the caller's region that have waited longer than the feedback deadline
/// (`[workflow] feedback_working_days`), longest first.
pub async fn waiting_too_long(wf: &Workflow, p: &Principal) -> AppResult<Vec<WaitingNotice>> {
    if !p.has_any(&[Role::Supervisor, Role::Auditor, Role::Intake, Role::Handler]) {
        return Err(super::forbidden());
    }
    let prefix = region_prefix(&p.region);
    let (lo, hi) = (format!("{prefix:0<6}"), format!("{prefix:9<6}"));
    let rows: Vec<(String, String, String, String, Option<String>)> = sqlx::query_as(&format!(
        "SELECT r.id, r.case_region, r.channel, d.created_at, d.reason \
         FROM notice_deliveries d JOIN reports r ON r.id = d.report_id \
         WHERE d.state = 'waiting' AND r.case_region >= $1 AND r.case_region <= $2 AND {} \
         ORDER BY d.created_at LIMIT 500",
        not_recused("r", "$3")
    ))
    .bind(lo)
    .bind(hi)
    .bind(&p.id)
    .fetch_all(&wf.db.pool)
    .await?;
    let today = shanghai_date(wf.db.now());
    let cal = wf.calendar.current();
    let limit = i64::from(wf.config.workflow.feedback_working_days);
    let mut out = vec![];
    for (case_id, region, channel, since, reason) in rows {
        let Ok(t) = crate::store::parse_ts(&since) else {
            continue;
        };
        let days = cal.working_days_between(shanghai_date(t), today);
        if days > limit {
            out.push(WaitingNotice {
                case_id,
                region,
                channel,
                waiting_since: since,
                reason,
                working_days: days,
            });
        }
    }
    Ok(out)
}
