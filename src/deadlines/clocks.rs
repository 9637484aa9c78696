//! Clocks: one row per running legal deadline of a case (DOMAIN §4). A clock has a due date
//! (the last Asia/Shanghai day, inclusive), a reminder date a few working days before, a
//! stage (pending → reminded → due → escalated) and `next_check_on`, the date the sweep
//! must next look at it. Closing a clock records whether it was met.

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::Serialize;

use super::calendar::{shanghai_date, Calendar};
use crate::store::{self, Tx};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// Acceptance decision, from receipt (15 working days).
    Accept,
    /// Telling a real-name reporter whether the tip was accepted (5 working days).
    NotifyAccept,
    /// Handling completed, from acceptance (30 working days; extensions by months).
    Handle,
    /// Statement and defence by the party concerned, from the notice (5 working days).
    Defence,
    /// Feedback to the reporter, from the decision (5 working days).
    Feedback,
    /// Reward notice to the reporter, from the decision that substantiates (5 working days;
    /// the policy's `notice_working_days`, shorter for a quick reward).
    RewardNotice,
    /// Reward claim window, from the notice (60 calendar days; the policy's `claim_days`).
    RewardClaim,
}

impl ClockKind {
    pub fn code(self) -> &'static str {
        match self {
            ClockKind::Accept => "accept",
            ClockKind::NotifyAccept => "notify_accept",
            ClockKind::Handle => "handle",
            ClockKind::Defence => "defence",
            ClockKind::Feedback => "feedback",
            ClockKind::RewardNotice => "reward_notice",
            ClockKind::RewardClaim => "reward_claim",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ClockKind::Accept,
            ClockKind::NotifyAccept,
            ClockKind::Handle,
            ClockKind::Defence,
            ClockKind::Feedback,
            ClockKind::RewardNotice,
            ClockKind::RewardClaim,
        ]
        .into_iter()
        .find(|k| k.code() == s)
    }
}

/// The reminder date for a due date: `before` working days earlier, but never before the
/// clock started.
pub fn remind_on(cal: &Calendar, start: NaiveDate, due: NaiveDate, before: u32) -> NaiveDate {
    cal.sub_working_days(due, before).max(start)
}

/// Open a clock in the caller's transaction.
pub async fn open(
    tx: &mut Tx<'_>,
    cal: &Calendar,
    report_id: &str,
    kind: ClockKind,
    started: DateTime<Utc>,
    working_days: u32,
    remind_before: u32,
) -> Result<NaiveDate, sqlx::Error> {
    let start = shanghai_date(started);
    let due = cal.add_working_days(start, working_days);
    insert(tx, cal, report_id, kind, started, due, remind_before).await?;
    Ok(due)
}

pub async fn insert(
    tx: &mut Tx<'_>,
    cal: &Calendar,
    report_id: &str,
    kind: ClockKind,
    started: DateTime<Utc>,
    due: NaiveDate,
    remind_before: u32,
) -> Result<(), sqlx::Error> {
    let start = shanghai_date(started);
    let remind = remind_on(cal, start, due, remind_before);
    sqlx::query(
        "INSERT INTO clocks (report_id, kind, started_at, due_on, remind_on, stage, next_check_on) \
         VALUES ($1, $2, $3, $4, $5, 'pending', $5)",
    )
    .bind(report_id)
    .bind(kind.code())
    .bind(store::ts(started))
    .bind(due.to_string())
    .bind(remind.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Close the open clocks of these kinds, recording met or missed. Empty: every case-handling
/// clock; the reward clocks run on after the case is closed (they end with the reward's own
/// steps), so they are closed only by name.
pub async fn close(
    tx: &mut Tx<'_>,
    report_id: &str,
    kinds: &[ClockKind],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let today = shanghai_date(now).to_string();
    let mut sql = String::from(
        "UPDATE clocks SET closed_at = $1, next_check_on = NULL, \
         outcome = CASE WHEN due_on >= $2 THEN 'met' ELSE 'missed' END \
         WHERE report_id = $3 AND closed_at IS NULL",
    );
    if !kinds.is_empty() {
        let list: Vec<String> = kinds.iter().map(|k| format!("'{}'", k.code())).collect();
        sql.push_str(&format!(" AND kind IN ({})", list.join(", ")));
    } else {
        sql.push_str(" AND kind NOT IN ('reward_notice', 'reward_claim')");
    }
    sqlx::query(&sql)
        .bind(store::ts(now))
        .bind(today)
        .bind(report_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Move the due date of an open clock (an approved extension): `months` calendar months
/// from the clock's start. The reminder stages start again.
pub async fn extend(
    tx: &mut Tx<'_>,
    cal: &Calendar,
    report_id: &str,
    kind: ClockKind,
    months: u32,
    extension: &str,
    remind_before: u32,
) -> Result<Option<NaiveDate>, sqlx::Error> {
    let row: Option<(i64, String)> = sqlx::query_as(
        "SELECT id, started_at FROM clocks WHERE report_id = $1 AND kind = $2 AND closed_at IS NULL",
    )
    .bind(report_id)
    .bind(kind.code())
    .fetch_optional(&mut **tx)
    .await?;
    let Some((id, started)) = row else {
        return Ok(None);
    };
    let start = store::parse_ts(&started)
        .map(shanghai_date)
        .map_err(|e| sqlx::Error::Decode(e.into()))?;
    let Some(due) = start.checked_add_months(Months::new(months)) else {
        return Ok(None);
    };
    let remind = remind_on(cal, start, due, remind_before);
    sqlx::query(
        "UPDATE clocks SET due_on = $1, remind_on = $2, stage = 'pending', next_check_on = $2, \
         extension = $3 WHERE id = $4",
    )
    .bind(due.to_string())
    .bind(remind.to_string())
    .bind(extension)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(Some(due))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClockView {
    pub kind: String,
    pub started_at: String,
    pub due_on: String,
    pub stage: String,
    pub extension: Option<String>,
    pub closed_at: Option<String>,
    pub outcome: Option<String>,
    /// Working days left (negative: days late); only for open clocks.
    pub working_days_left: Option<i64>,
}

type ClockRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

pub async fn for_report(
    pool: &sqlx::AnyPool,
    cal: &Calendar,
    report_id: &str,
) -> Result<Vec<ClockView>, sqlx::Error> {
    let rows: Vec<ClockRow> = sqlx::query_as(
        "SELECT kind, started_at, due_on, stage, extension, closed_at, outcome FROM clocks \
         WHERE report_id = $1 ORDER BY id",
    )
    .bind(report_id)
    .fetch_all(pool)
    .await?;
    let today = shanghai_date(Utc::now());
    Ok(rows
        .into_iter()
        .map(
            |(kind, started_at, due_on, stage, extension, closed_at, outcome)| {
                let left = (closed_at.is_none())
                    .then(|| NaiveDate::parse_from_str(&due_on, "%Y-%m-%d").ok())
                    .flatten()
                    .map(|due| cal.working_days_between(today, due));
                ClockView {
                    kind,
                    started_at,
                    due_on,
                    stage,
                    extension,
                    closed_at,
                    outcome,
                    working_days_left: left,
                }
            },
        )
        .collect())
}
