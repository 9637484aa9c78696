//! Adding a year's holiday notice fixes the dates (DOMAIN §4: a deadline through a year
//! without a notice is provisional until the notice is added).
//!
//! [`adopt`] publishes the calendar an instance loaded (at start, or `jubao calendar
//! reload`), swaps the database's calendar in, and recomputes every open provisional clock
//! from its own start. Every running instance polls the calendar generation ([`watch`]) and
//! does the same when it changes. Each clock moves with a conditional update (its old due
//! date and provisional flag), so instances recomputing at once move each clock once; each
//! move is audited (old → new), the assignee is told when the date comes earlier, and when
//! the acceptance date the reporter was shown moves, their timeline says so.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{Datelike, NaiveDate};
use futures_util::future::BoxFuture;

use super::Workflow;
use crate::audit::{self, Actor, Entry, Outcome};
use crate::config::Config;
use crate::deadlines::calendar::{shanghai_date, Calendar};
use crate::deadlines::clocks::{date, remind_on};
use crate::deadlines::period::Period;
use crate::deadlines::published;
use crate::deadlines::rules::RuleSet;
use crate::deadlines::Calendars;
use crate::i18n::{self, Locale};
use crate::notify::worker::Periodic;
use crate::store::Db;
use crate::store::Tx;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Recomputed {
    /// Open provisional clocks looked at.
    pub examined: u64,
    /// Clocks whose due date moved.
    pub moved: u64,
    /// Clocks no longer provisional.
    pub settled: u64,
}

/// Publish `local`, take the database's calendar, fill in old clocks and recompute.
pub async fn adopt(wf: &Workflow, local: &Calendar) -> anyhow::Result<Recomputed> {
    let published = published::publish(&wf.db, local).await?;
    if !published.years.is_empty() {
        tracing::info!(years = ?published.years, generation = published.generation, "holiday notices published");
    }
    refresh(wf).await?;
    published::backfill(&wf.db, &wf.calendar.current()).await?;
    recompute(wf, 1000).await
}

/// `jubao calendar reload`: read `holidays_dir` again (a bad file stops it with the file
/// and line, and nothing changes), publish it for every instance and recompute.
pub async fn reload(config: &Config) -> anyhow::Result<Recomputed> {
    let local = Calendar::load(Path::new(&config.calendar.holidays_dir))?;
    let db = Db::connect(&config.database.url, 2).await?;
    db.migrate().await?;
    // Moving a clock is audited: the chain key comes from the vault (which refuses a
    // wrong master key).
    let master = crate::vault::configured_master_key(config.master_key_path())?;
    let vault = crate::vault::Vault::open(db.clone(), master).await?;
    let wf = Workflow {
        db: db.clone(),
        audit: vault.audit_key().clone(),
        calendar: Calendars::new(local.clone()),
        rules: Arc::new(RuleSet::load(config)?),
        config: config.clone(),
        rewards: Arc::new(super::NoRewards),
        reads: crate::audit::ReadLog::start(db.clone(), vault.audit_key().clone()),
    };
    let done = adopt(&wf, &local).await;
    db.close().await;
    done
}

/// One line of `jubao calendar status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearStatus {
    pub year: i32,
    /// Where its notice came from; `None`: no notice loaded.
    pub origin: Option<String>,
    /// Open provisional clocks due that year.
    pub provisional: i64,
}

/// `jubao calendar status`: the years in force and the open provisional clocks by year.
pub async fn status(config: &Config) -> anyhow::Result<Vec<YearStatus>> {
    let db = Db::connect(&config.database.url, 2).await?;
    db.migrate().await?;
    let (_, origins) = published::load(&db).await?;
    let provisional = published::provisional_by_year(&db).await?;
    db.close().await;
    let mut years: Vec<i32> = origins
        .iter()
        .map(|o| o.0)
        .chain(provisional.iter().map(|p| p.0))
        .collect();
    years.sort_unstable();
    years.dedup();
    Ok(years
        .into_iter()
        .map(|year| YearStatus {
            year,
            origin: origins.iter().find(|o| o.0 == year).map(|o| o.1.clone()),
            provisional: provisional.iter().find(|p| p.0 == year).map_or(0, |p| p.1),
        })
        .collect())
}

/// Swap in the calendar published in the database.
async fn refresh(wf: &Workflow) -> anyhow::Result<i64> {
    let generation = published::generation(&wf.db).await?;
    let (cal, _) = published::load(&wf.db).await?;
    wf.calendar.replace(cal);
    Ok(generation)
}

type Row = (i64, String, String, String, String, String, i64, i64);

/// Recompute every open provisional clock under the calendar in force, `batch` per
/// transaction.
pub async fn recompute(wf: &Workflow, batch: i64) -> anyhow::Result<Recomputed> {
    let cal = wf.calendar.current();
    let mut stats = Recomputed::default();
    let mut after = 0i64;
    loop {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, report_id, kind, start_on, due_on, period_unit, period_len, remind_before \
             FROM clocks WHERE provisional = 1 AND closed_at IS NULL AND id > $1 \
             ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(batch)
        .fetch_all(&wf.db.pool)
        .await?;
        let Some(last) = rows.last() else {
            return Ok(stats);
        };
        after = last.0;
        let mut tx = wf.db.begin().await?;
        audit::lock(&mut tx).await?;
        for row in rows {
            stats.examined += 1;
            if let Some(moved) = move_clock(&mut tx, wf, &cal, row).await? {
                stats.settled += u64::from(moved.settled);
                stats.moved += u64::from(moved.moved);
            }
        }
        tx.commit().await?;
    }
}

struct Moved {
    moved: bool,
    settled: bool,
}

async fn move_clock(
    tx: &mut Tx<'_>,
    wf: &Workflow,
    cal: &Calendar,
    (id, report_id, kind, start_on, due_on, unit, len, remind_before): Row,
) -> anyhow::Result<Option<Moved>> {
    let (Some(period), Ok(start), Ok(old)) = (
        Period::from_stored(&unit, len),
        date(&start_on),
        date(&due_on),
    ) else {
        return Ok(None);
    };
    let due = period.due(cal, start);
    if due.on == old && due.provisional {
        return Ok(None);
    }
    let remind = remind_on(
        cal,
        start,
        due.on,
        u32::try_from(remind_before).unwrap_or(1),
    );
    let today = shanghai_date(wf.db.now());
    // A clock whose date moves starts its reminder stages again.
    let next_check = remind.max(today.min(due.on));
    let n = sqlx::query(
        "UPDATE clocks SET due_on = $1, remind_on = $2, provisional = $3, \
         stage = CASE WHEN due_on = $1 THEN stage ELSE 'pending' END, \
         next_check_on = CASE WHEN due_on = $1 THEN next_check_on ELSE $4 END \
         WHERE id = $5 AND due_on = $6 AND provisional = 1 AND closed_at IS NULL",
    )
    .bind(due.on.to_string())
    .bind(remind.to_string())
    .bind(i64::from(due.provisional))
    .bind(next_check.to_string())
    .bind(id)
    .bind(&due_on)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Ok(None); // another instance moved it, or it closed meanwhile
    }
    let moved = due.on != old;
    audit::append(
        tx,
        &wf.audit,
        &Entry {
            actor: &Actor::system(),
            action: "deadline.recompute",
            outcome: Outcome::Ok,
            report_id: Some(&report_id),
            detail: serde_json::json!({
                "clock": kind, "from": due_on, "to": due.on.to_string(),
                "provisional": due.provisional,
            }),
        },
    )
    .await?;
    if moved && kind == "accept" {
        tell_reporter(tx, wf, &report_id, due.on).await?;
    }
    if moved && due.on < old {
        tell_assignee(tx, wf, &report_id, &kind, &due_on, due.on).await?;
    }
    Ok(Some(Moved {
        moved,
        settled: !due.provisional,
    }))
}

/// The acceptance date the reporter was given moved: say so on their timeline (and
/// through their channel).
async fn tell_reporter(
    tx: &mut Tx<'_>,
    wf: &Workflow,
    report_id: &str,
    on: NaiveDate,
) -> anyhow::Result<()> {
    let (status, locale): (String, String) =
        sqlx::query_as("SELECT status, locale FROM reports WHERE id = $1")
            .bind(report_id)
            .fetch_one(&mut **tx)
            .await?;
    sqlx::query("UPDATE reports SET accept_by = $1 WHERE id = $2")
        .bind(on.to_string())
        .bind(report_id)
        .execute(&mut **tx)
        .await?;
    let locale = Locale::parse(&locale).unwrap_or_default();
    let note = i18n::t(
        locale,
        "timeline-accept-by-moved",
        &[("date", on.to_string())],
    );
    let max = wf.config.outbox.max_attempts;
    super::feedback::tell(
        tx,
        wf.db.now(),
        max,
        report_id,
        "deadline",
        &status,
        Some(note),
    )
    .await?;
    Ok(())
}

/// A due date came earlier: the assignee (if any) is told.
async fn tell_assignee(
    tx: &mut Tx<'_>,
    wf: &Workflow,
    report_id: &str,
    kind: &str,
    from: &str,
    to: NaiveDate,
) -> anyhow::Result<()> {
    let Some(case) = super::load_case(tx, report_id).await? else {
        return Ok(());
    };
    let Some(assignee) = &case.assignee_id else {
        return Ok(());
    };
    let Some(user) = crate::staff::by_id(&wf.db.pool, assignee).await? else {
        return Ok(());
    };
    super::sweep::email_staff(
        tx,
        wf,
        &user,
        "deadline-moved-earlier",
        &case,
        &[
            ("clock", kind.to_string()),
            ("from", from.to_string()),
            ("due", to.to_string()),
        ],
        &format!("recalendar:{report_id}:{kind}:{to}:{}", user.id),
    )
    .await?;
    Ok(())
}

/// Follow the database's calendar: every 2 s, swap it in when its generation changed and
/// recompute the provisional clocks (a second instance finds them already moved).
pub fn watch(wf: Workflow) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut seen = published::generation(&wf.db).await.ok();
        let mut tick = tokio::time::interval(Duration::from_secs(2));
        loop {
            tick.tick().await;
            let Ok(now) = published::generation(&wf.db).await else {
                continue;
            };
            if seen == Some(now) {
                continue;
            }
            match refresh(&wf).await {
                Ok(g) => {
                    seen = Some(g);
                    let years: Vec<i32> = wf.calendar.current().years().collect();
                    tracing::info!(?years, "holiday calendar changed: reloaded");
                    if let Err(e) = recompute(&wf, 1000).await {
                        tracing::error!(error = %format!("{e:#}"), "recomputing deadlines failed");
                    }
                }
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "reloading the calendar failed")
                }
            }
        }
    })
}

/// What needs an operator's attention: open provisional clocks, and a year (this one, or
/// the next within 60 days of its start) with no notice.
pub async fn warnings(wf: &Workflow) -> anyhow::Result<Vec<String>> {
    let cal = wf.calendar.current();
    let today = shanghai_date(wf.db.now());
    let mut out = vec![];
    let provisional = published::provisional_open(&wf.db).await?;
    if provisional > 0 {
        out.push(format!(
            "{provisional} open deadlines are provisional: they run into a year with no holiday notice; \
             add its file to {} and run `jubao calendar reload`",
            wf.config.calendar.holidays_dir
        ));
    }
    let next = today.year() + 1;
    let soon = NaiveDate::from_ymd_opt(next, 1, 1).is_some_and(|d| (d - today).num_days() <= 60);
    for (year, due) in [(next - 1, true), (next, soon)] {
        if due && !cal.years().any(|y| y == year) {
            out.push(format!(
                "no holiday notice for {year}: deadlines through it count weekends only and are \
                 provisional; add cn-{year}.toml to {}",
                wf.config.calendar.holidays_dir
            ));
        }
    }
    Ok(out)
}

/// The daily warning (from one instance a day) and the safety-net recompute, as the
/// outbox worker's periodic task.
pub struct CalendarCheck(pub Workflow);

impl Periodic for CalendarCheck {
    fn tick(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            let wf = &self.0;
            let today = shanghai_date(wf.db.now()).to_string();
            let mine = sqlx::query(
                "UPDATE calendar_state SET warned_on = $1 WHERE id = 1 \
                 AND (warned_on IS NULL OR warned_on < $1)",
            )
            .bind(&today)
            .execute(&wf.db.pool)
            .await?
            .rows_affected();
            if mine == 1 {
                recompute(wf, 1000).await?;
                for w in warnings(wf).await? {
                    tracing::warn!("{w}");
                }
            }
            Ok(())
        })
    }
}
