//! The group-robot alert "a deadline is due in 3 working days" (issue 17 part 3). It is
//! separate from the staff email reminder (`[workflow] remind_before_working_days`, any lead
//! time) and from the sweep's stages: each open clock is alerted once, when its due date
//! first comes within [`ALERT_WORKING_DAYS`] working days of the sweep's day, with the
//! working days left as its count. A conditional update of `clocks.soon_alerted_on` in the
//! alert's own transaction makes it once across instances sweeping together; the alert's
//! event key (`clock:{id}:soon`) makes the fan-out once per robot. A clock that is already
//! due or late hears nothing here (the overdue escalation tells the groups); a clock whose
//! due date moves later after its alert is not alerted again.

use chrono::NaiveDate;

use super::Workflow;
use crate::notify::robots::{self, AlertKind, StaffAlert};

/// How many working days ahead the groups hear of a deadline.
pub const ALERT_WORKING_DAYS: u32 = 3;

type SoonRow = (i64, String, String, String);

/// Write the alerts due on `today` (at most `limit`); returns how many. Nothing without
/// `[[robots]]`.
pub async fn alert(wf: &Workflow, today: NaiveDate, limit: i64) -> anyhow::Result<usize> {
    if wf.config.robots.is_empty() {
        return Ok(0);
    }
    let calendar = wf.calendar.current();
    let horizon = calendar.add_working_days(today, ALERT_WORKING_DAYS);
    let rows: Vec<SoonRow> = sqlx::query_as(
        "SELECT id, report_id, kind, due_on FROM clocks \
         WHERE closed_at IS NULL AND soon_alerted_on IS NULL AND due_on > $1 AND due_on <= $2 \
         ORDER BY due_on, id LIMIT $3",
    )
    .bind(today.to_string())
    .bind(horizon.to_string())
    .bind(limit)
    .fetch_all(&wf.db.pool)
    .await?;
    let mut written = 0;
    for (id, report_id, kind, due_on) in rows {
        let due = NaiveDate::parse_from_str(&due_on, "%Y-%m-%d")?;
        let mut tx = wf.db.begin().await?;
        let moved = sqlx::query(
            "UPDATE clocks SET soon_alerted_on = $1 \
             WHERE id = $2 AND soon_alerted_on IS NULL AND closed_at IS NULL",
        )
        .bind(today.to_string())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved != 1 {
            continue; // another instance wrote it, or the clock closed meanwhile
        }
        let Some(case) = super::load_case(&mut tx, &report_id).await? else {
            tx.rollback().await?;
            continue;
        };
        let a = StaffAlert {
            event: format!("clock:{id}:soon"),
            kind: AlertKind::ClockDue,
            region: case.case_region.clone(),
            case_id: case.id.clone(),
            clock: Some(kind),
            due: Some(due_on),
            count: calendar.working_days_between(today, due),
            of: 0,
        };
        robots::alert(&mut tx, &a, wf.config.outbox.max_attempts).await?;
        tx.commit().await?;
        written += 1;
    }
    Ok(written)
}
