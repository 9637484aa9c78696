//! Clocks: one row per running legal deadline of a case (DOMAIN §4). A clock has a due date
//! (the last Asia/Shanghai day, inclusive), a reminder date a few working days before, a
//! stage (pending → reminded → due → escalated) and `next_check_on`, the date the sweep
//! must next look at it. Closing a clock records whether it was met.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::calendar::{shanghai_date, Calendar};
pub use super::period::remind_on;
use super::period::{Due, Period};
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
    /// Quick reward (快奖): approval of the proposal, from the proposal (the policy's
    /// `quick_approve_working_days`).
    RewardApprove,
    /// Quick reward: payment, from the reporter's claim (`quick_pay_working_days`).
    RewardPay,
}

/// The reward clocks: they run on after the case is closed and end with the reward's own
/// steps, so they are closed only by name.
pub const REWARD_KINDS: [ClockKind; 4] = [
    ClockKind::RewardNotice,
    ClockKind::RewardClaim,
    ClockKind::RewardApprove,
    ClockKind::RewardPay,
];

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
            ClockKind::RewardApprove => "reward_approve",
            ClockKind::RewardPay => "reward_pay",
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
            ClockKind::RewardApprove,
            ClockKind::RewardPay,
        ]
        .into_iter()
        .find(|k| k.code() == s)
    }
}

/// A clock to open: what it is, the day its period counts from, the period and the rule
/// (`id@version`, [`super::rules`]) that set it.
#[derive(Debug, Clone)]
pub struct NewClock<'a> {
    pub report_id: &'a str,
    pub kind: ClockKind,
    /// When the event that starts the clock happened.
    pub started: DateTime<Utc>,
    /// The Asia/Shanghai day the period counts from (not counted itself); usually the day
    /// of `started`, earlier for a letter recorded after it arrived.
    pub start_on: NaiveDate,
    pub period: Period,
    pub rule: &'a str,
    pub remind_before: u32,
}

impl<'a> NewClock<'a> {
    /// A clock whose period counts from the day of `started`.
    pub fn new(
        report_id: &'a str,
        kind: ClockKind,
        started: DateTime<Utc>,
        period: Period,
        rule: &'a str,
    ) -> Self {
        Self {
            report_id,
            kind,
            started,
            start_on: shanghai_date(started),
            period,
            rule,
            remind_before: 1,
        }
    }

    pub fn remind_before(mut self, n: u32) -> Self {
        self.remind_before = n;
        self
    }

    pub fn start_on(mut self, d: NaiveDate) -> Self {
        self.start_on = d;
        self
    }

    /// Its due date and reminder date under `cal`.
    pub fn dates(&self, cal: &Calendar) -> (Due, NaiveDate) {
        let due = self.period.due(cal, self.start_on);
        (
            due,
            remind_on(cal, self.start_on, due.on, self.remind_before),
        )
    }
}

/// The head of a clock insert (multi-row in intake); the values follow in this order.
pub const INSERT_HEAD: &str = "INSERT INTO clocks (report_id, kind, started_at, start_on, due_on, \
    remind_on, stage, next_check_on, period_unit, period_len, provisional, rule, remind_before) VALUES";

/// Open a clock in the caller's transaction; returns its due date.
pub async fn open(tx: &mut Tx<'_>, cal: &Calendar, c: &NewClock<'_>) -> Result<Due, sqlx::Error> {
    let (due, remind) = c.dates(cal);
    sqlx::query(&format!(
        "{INSERT_HEAD} ($1, $2, $3, $4, $5, $6, 'pending', $6, $7, $8, $9, $10, $11)"
    ))
    .bind(c.report_id)
    .bind(c.kind.code())
    .bind(store::ts(c.started))
    .bind(c.start_on.to_string())
    .bind(due.on.to_string())
    .bind(remind.to_string())
    .bind(c.period.unit())
    .bind(i64::from(c.period.length()))
    .bind(i64::from(due.provisional))
    .bind(c.rule)
    .bind(i64::from(c.remind_before))
    .execute(&mut **tx)
    .await?;
    Ok(due)
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
        let list: Vec<String> = REWARD_KINDS
            .iter()
            .map(|k| format!("'{}'", k.code()))
            .collect();
        sql.push_str(&format!(" AND kind NOT IN ({})", list.join(", ")));
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
/// from the clock's start, moved off a rest day, and never earlier than the due date it
/// already has (a complex extension approved after a major one does not shorten it). The
/// reminder stages start again.
pub async fn extend(
    tx: &mut Tx<'_>,
    cal: &Calendar,
    report_id: &str,
    kind: ClockKind,
    months: u32,
    extension: &str,
) -> Result<Option<Due>, sqlx::Error> {
    type Row = (i64, String, String, String, i64, i64, Option<String>);
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, start_on, due_on, period_unit, period_len, remind_before, extension FROM clocks \
         WHERE report_id = $1 AND kind = $2 AND closed_at IS NULL",
    )
    .bind(report_id)
    .bind(kind.code())
    .fetch_optional(&mut **tx)
    .await?;
    let Some((id, start_on, due_on, unit, len, remind_before, had)) = row else {
        return Ok(None);
    };
    let (start, current) = (date(&start_on)?, date(&due_on)?);
    let longer = Period::Months(months);
    let mut due = longer.due(cal, start);
    let mut period = longer;
    let mut extension = extension.to_string();
    if due.on < current {
        // Keep the longer period it already has (and how it was counted).
        period = Period::from_stored(&unit, len).unwrap_or(longer);
        due = period.due(cal, start);
        extension = had.unwrap_or(extension);
    }
    let remind = remind_on(
        cal,
        start,
        due.on,
        u32::try_from(remind_before).unwrap_or(3),
    );
    sqlx::query(
        "UPDATE clocks SET due_on = $1, remind_on = $2, stage = 'pending', next_check_on = $2, \
         extension = $3, period_unit = $4, period_len = $5, provisional = $6 WHERE id = $7",
    )
    .bind(due.on.to_string())
    .bind(remind.to_string())
    .bind(&extension)
    .bind(period.unit())
    .bind(i64::from(period.length()))
    .bind(i64::from(due.provisional))
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(Some(due))
}

/// A stored `YYYY-MM-DD`.
pub fn date(s: &str) -> Result<NaiveDate, sqlx::Error> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| sqlx::Error::Decode(e.into()))
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
    /// The due date crosses a year whose holiday notice is not loaded yet: it may move
    /// when the notice is added.
    pub provisional: bool,
    /// The deadline rule it was computed under (`id@version`).
    pub rule: Option<String>,
    /// The day the period counts from (Asia/Shanghai).
    pub start_on: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ClockRow {
    kind: String,
    started_at: String,
    due_on: String,
    stage: String,
    extension: Option<String>,
    closed_at: Option<String>,
    outcome: Option<String>,
    provisional: i64,
    rule: Option<String>,
    start_on: Option<String>,
}

pub async fn for_report(
    db: &crate::store::Db,
    cal: &Calendar,
    report_id: &str,
) -> Result<Vec<ClockView>, sqlx::Error> {
    let rows: Vec<ClockRow> = sqlx::query_as(
        "SELECT kind, started_at, due_on, stage, extension, closed_at, outcome, provisional, \
         rule, start_on FROM clocks WHERE report_id = $1 ORDER BY id",
    )
    .bind(report_id)
    .fetch_all(&db.pool)
    .await?;
    let today = shanghai_date(db.now());
    Ok(rows
        .into_iter()
        .map(|r| {
            let left = (r.closed_at.is_none())
                .then(|| NaiveDate::parse_from_str(&r.due_on, "%Y-%m-%d").ok())
                .flatten()
                .map(|due| cal.working_days_between(today, due));
            ClockView {
                kind: r.kind,
                started_at: r.started_at,
                due_on: r.due_on,
                stage: r.stage,
                extension: r.extension,
                closed_at: r.closed_at,
                outcome: r.outcome,
                working_days_left: left,
                provisional: r.provisional != 0,
                rule: r.rule,
                start_on: r.start_on,
            }
        })
        .collect())
}
