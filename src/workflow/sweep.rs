//! The deadline sweep (DOMAIN §4): reminders before a deadline, a notice on the day, and
//! escalation to the supervisors (督办) once it has passed. It reads only clocks whose
//! `next_check_on` has come (an index on that column), so its cost follows the due items,
//! not the number of cases. Each step moves a clock's stage with a conditional update and
//! writes its emails to the outbox in the same transaction: when several instances sweep
//! at once, exactly one of them moves a given clock, and each reminder is sent once. Each
//! sweep also writes the group-robot alerts for deadlines due in 3 working days
//! ([`super::due_soon`]).

use chrono::NaiveDate;
use futures_util::future::BoxFuture;

use super::{CaseRow, Workflow};
use crate::audit::{self, Actor, Entry, Outcome};
use crate::deadlines::calendar::shanghai_date;
use crate::notify::robots::{self, AlertKind, StaffAlert};
use crate::notify::worker::Periodic;
use crate::notify::{self, NewJob};
use crate::staff::mail::StaffEmail;
use crate::staff::{self, Role, StaffUser};
use crate::store::Tx;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepStats {
    pub examined: usize,
    pub reminded: usize,
    pub due: usize,
    pub escalated: usize,
    /// Group-robot alerts "due in 3 working days" written ([`super::due_soon`]).
    pub alerted: usize,
}

type DueRow = (i64, String, String, String, String, String);

/// Sweep the clocks due on or before `today` (at most `limit` per call).
pub async fn sweep(wf: &Workflow, today: NaiveDate, limit: i64) -> anyhow::Result<SweepStats> {
    let rows: Vec<DueRow> = sqlx::query_as(
        "SELECT id, report_id, kind, due_on, remind_on, stage FROM clocks \
         WHERE next_check_on IS NOT NULL AND next_check_on <= $1 ORDER BY next_check_on, id LIMIT $2",
    )
    .bind(today.to_string())
    .bind(limit)
    .fetch_all(&wf.db.pool)
    .await?;
    let mut stats = SweepStats {
        examined: rows.len(),
        alerted: super::due_soon::alert(wf, today, limit).await?,
        ..Default::default()
    };
    for (id, report_id, kind, due_on, _remind_on, stage) in rows {
        let due = NaiveDate::parse_from_str(&due_on, "%Y-%m-%d")?;
        let (new_stage, next_check, template) = if today > due {
            ("escalated", None, "deadline-overdue")
        } else if today == due {
            (
                "due",
                Some(wf.calendar.current().next_working_day(due)),
                "deadline-today",
            )
        } else {
            ("reminded", Some(due), "deadline-reminder")
        };
        if new_stage == stage {
            continue;
        }
        let mut tx = wf.db.begin().await?;
        let moved = sqlx::query(
            "UPDATE clocks SET stage = $1, next_check_on = $2 WHERE id = $3 AND stage = $4 \
             AND closed_at IS NULL",
        )
        .bind(new_stage)
        .bind(next_check.map(|d| d.to_string()))
        .bind(id)
        .bind(&stage)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved != 1 {
            continue; // another instance took it, or it closed meanwhile
        }
        let mut ctx = tx;
        let case = load(&mut ctx, &report_id).await?;
        let Some(case) = case else {
            ctx.rollback().await?;
            continue;
        };
        let mut recipients = responsible(wf, &case, &kind).await?;
        if new_stage == "escalated" {
            recipients.extend(
                staff::with_role_covering(&wf.db.pool, Role::Supervisor, &case.case_region).await?,
            );
        }
        recipients.sort_by(|a, b| a.id.cmp(&b.id));
        recipients.dedup_by(|a, b| a.id == b.id);
        let late = wf
            .calendar
            .current()
            .working_days_between(due, today)
            .max(0);
        let args = [
            ("clock", kind.clone()),
            ("due", due_on.clone()),
            ("days_late", late.to_string()),
        ];
        for u in &recipients {
            email_staff(
                &mut ctx,
                wf,
                u,
                template,
                &case,
                &args,
                &format!("clock:{id}:{new_stage}:{}", u.id),
            )
            .await?;
        }
        // The groups hear of an escalation here; of a deadline coming up, three working
        // days before it (`due_soon`), whatever the email reminder's lead time.
        if !wf.config.robots.is_empty() && new_stage == "escalated" {
            let a = StaffAlert {
                event: format!("clock:{id}:{new_stage}"),
                kind: AlertKind::Overdue,
                region: case.case_region.clone(),
                case_id: case.id.clone(),
                clock: Some(kind.clone()),
                due: Some(due_on.clone()),
                count: late,
                of: 0,
            };
            robots::alert(&mut ctx, &a, wf.config.outbox.max_attempts).await?;
        }
        if new_stage == "escalated" {
            sqlx::query(
                "INSERT INTO case_events (report_id, at, actor_id, kind, data) VALUES ($1, $2, NULL, 'escalation', $3)",
            )
            .bind(&report_id)
            .bind(crate::store::ts(wf.db.now()))
            .bind(serde_json::json!({ "clock": kind, "due_on": due_on }).to_string())
            .execute(&mut *ctx)
            .await?;
            audit::append(
                &mut ctx,
                &wf.audit,
                &Entry {
                    actor: &Actor::system(),
                    action: "deadline.escalate",
                    outcome: Outcome::Ok,
                    report_id: Some(&report_id),
                    detail: serde_json::json!({ "clock": kind, "due_on": due_on, "notified": recipients.len() }),
                },
            )
            .await?;
        }
        ctx.commit().await?;
        match new_stage {
            "reminded" => stats.reminded += 1,
            "due" => stats.due += 1,
            _ => stats.escalated += 1,
        }
    }
    Ok(stats)
}

async fn load(tx: &mut Tx<'_>, id: &str) -> Result<Option<CaseRow>, sqlx::Error> {
    super::load_case(tx, id).await
}

/// Who answers for a clock: the assignee (or, unassigned, the region's intake staff for
/// the acceptance clock and its supervisors otherwise); the region's finance staff for a
/// quick reward's approval and payment steps.
async fn responsible(wf: &Workflow, case: &CaseRow, kind: &str) -> anyhow::Result<Vec<StaffUser>> {
    let finance_step = matches!(kind, "reward_approve" | "reward_pay");
    if kind != "accept" && !finance_step {
        if let Some(a) = &case.assignee_id {
            if let Some(u) = staff::by_id(&wf.db.pool, a).await? {
                return Ok(vec![u]);
            }
        }
    }
    let role = if kind == "accept" {
        Role::Intake
    } else if finance_step {
        Role::Finance
    } else {
        Role::Supervisor
    };
    let mut users = staff::with_role_covering(&wf.db.pool, role, &case.case_region).await?;
    // Recused staff are never told about the case.
    let mut keep = vec![];
    for u in users.drain(..) {
        if !crate::workflow::recused_from(&wf.db.pool, &u.id, &case.id).await? {
            keep.push(u);
        }
    }
    Ok(keep)
}

/// Queue a staff email about a case (case id and deadline only: no reporter data, no
/// case content). Returns false when the user has no address.
pub async fn email_staff(
    tx: &mut Tx<'_>,
    wf: &Workflow,
    user: &StaffUser,
    template: &str,
    case: &CaseRow,
    extra: &[(&str, String)],
    dedupe: &str,
) -> Result<bool, sqlx::Error> {
    if user.email.as_deref().unwrap_or_default().is_empty() {
        return Ok(false);
    }
    let short = robots::short_ref(&case.id);
    let mut args: Vec<(&str, String)> = vec![
        ("name", user.display_name.clone()),
        ("case", short),
        ("region", case.case_region.clone()),
    ];
    args.extend(extra.iter().cloned());
    let link = format!("{}/console/#/cases/{}", wf.config.public_url(), case.id);
    // By user id: the address is looked up when the mail is sent (staff::mail).
    let mail = StaffEmail::render(user, template, &args, Some(&link));
    let job = NewJob::of(&mail).dedupe(dedupe);
    notify::enqueue(tx, &job, wf.config.outbox.max_attempts).await?;
    Ok(true)
}

/// The sweep as the outbox worker's periodic task.
pub struct Sweeper(pub Workflow);

impl Periodic for Sweeper {
    fn tick(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            // (The reward sweep is registered before this one, so an expired reward's
            // claim clock closes rather than escalates.)
            crate::store::ratelimit::purge(&self.0.db, self.0.db.now()).await?;
            let today = shanghai_date(self.0.db.now());
            loop {
                let s = sweep(&self.0, today, 500).await?;
                if (s.examined < 500 || s.reminded + s.due + s.escalated == 0) && s.alerted < 500 {
                    break;
                }
            }
            Ok(())
        })
    }
}
