//! The calendar in force, shared by every instance through the database.
//!
//! An instance loads `holidays_dir` (and the built-in years it lacks) at start, and
//! `jubao calendar reload` does the same from any machine; both *publish* what they loaded:
//! a year from a file is stored when the database lacks it or holds a different copy; a
//! built-in year only when the database lacks it. Each change bumps a generation number,
//! which every running instance polls (every 2 s) to swap in the calendar of the database.

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use super::calendar::{shanghai_date, Calendar, CalendarError, Origin, YearNotice};
use super::period::Period;
use crate::store::{self, Db};

/// What a publication changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Published {
    /// Years stored or replaced.
    pub years: Vec<i32>,
    pub generation: i64,
}

fn digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Store the years of `cal` that the database lacks or (from a file) holds differently.
pub async fn publish(db: &Db, cal: &Calendar) -> anyhow::Result<Published> {
    let mut tx = db.begin().await?;
    // Lock the state row first so that two instances publishing at once serialize.
    let generation: i64 = sqlx::query_scalar(
        "UPDATE calendar_state SET generation = generation WHERE id = 1 RETURNING generation",
    )
    .fetch_one(&mut *tx)
    .await?;
    let now = store::ts(db.now());
    let mut changed = vec![];
    for n in cal.notices() {
        let stored: Option<String> =
            sqlx::query_scalar("SELECT digest FROM holiday_years WHERE year = $1")
                .bind(i64::from(n.year))
                .fetch_optional(&mut *tx)
                .await?;
        let d = digest(&n.text);
        let replace = match (&stored, &n.origin) {
            (None, _) => true,
            (Some(s), Origin::File(_)) => *s != d,
            (Some(_), _) => false,
        };
        if !replace {
            continue;
        }
        sqlx::query("DELETE FROM holiday_years WHERE year = $1")
            .bind(i64::from(n.year))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO holiday_years (year, origin, body, digest, published_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(i64::from(n.year))
        .bind(n.origin.to_string())
        .bind(&n.text)
        .bind(&d)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        changed.push(n.year);
    }
    let generation = if changed.is_empty() {
        generation
    } else {
        sqlx::query_scalar(
            "UPDATE calendar_state SET generation = generation + 1, updated_at = $1 \
             WHERE id = 1 RETURNING generation",
        )
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?
    };
    tx.commit().await?;
    Ok(Published {
        years: changed,
        generation,
    })
}

pub async fn generation(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT generation FROM calendar_state WHERE id = 1")
        .fetch_one(&db.pool)
        .await
}

/// The calendar published in the database, with the origin each year was published from.
pub async fn load(db: &Db) -> anyhow::Result<(Calendar, Vec<(i32, String)>)> {
    let rows: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT year, origin, body FROM holiday_years ORDER BY year")
            .fetch_all(&db.pool)
            .await?;
    let notices: Vec<YearNotice> = rows
        .iter()
        .map(|(year, _, body)| YearNotice {
            year: i32::try_from(*year).unwrap_or_default(),
            source: String::new(),
            origin: Origin::Database,
            text: body.clone(),
        })
        .collect();
    let cal = Calendar::from_notices(&notices).map_err(|e: CalendarError| anyhow::anyhow!(e))?;
    let origins = rows
        .into_iter()
        .map(|(y, o, _)| (i32::try_from(y).unwrap_or_default(), o))
        .collect();
    Ok((cal, origins))
}

/// Open provisional clocks, by the year of their due date.
pub async fn provisional_by_year(db: &Db) -> Result<Vec<(i32, i64)>, sqlx::Error> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT due_on FROM clocks WHERE provisional = 1 AND closed_at IS NULL")
            .fetch_all(&db.pool)
            .await?;
    let mut by_year = std::collections::BTreeMap::<i32, i64>::new();
    for (due,) in rows {
        if let Some(y) = due.get(..4).and_then(|y| y.parse().ok()) {
            *by_year.entry(y).or_default() += 1;
        }
    }
    Ok(by_year.into_iter().collect())
}

pub async fn provisional_open(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM clocks WHERE provisional = 1 AND closed_at IS NULL")
        .fetch_one(&db.pool)
        .await
}

/// Fill in the period of clocks written before periods were stored (their `start_on` is
/// NULL), so that they can be recomputed like the others. Their due dates were counted
/// with the built-in 2024–2026 notices and weekends only after that, so the period is read
/// back under that calendar: working days for most clocks, months for an extended handling
/// clock, calendar days for the claim window. Batched; safe to run on several instances.
pub async fn backfill(db: &Db, cal: &Calendar) -> anyhow::Result<u64> {
    let old = Calendar::built_in();
    let mut done = 0;
    loop {
        let rows: Vec<(i64, String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT id, kind, started_at, due_on, extension FROM clocks \
             WHERE start_on IS NULL ORDER BY id LIMIT 500",
        )
        .fetch_all(&db.pool)
        .await?;
        if rows.is_empty() {
            return Ok(done);
        }
        let mut tx = db.begin().await?;
        for (id, kind, started_at, due_on, extension) in rows {
            let start = store::parse_ts(&started_at).map(shanghai_date)?;
            let due: NaiveDate = due_on.parse()?;
            let period = if extension.is_some() {
                let months = (due.year_month() - start.year_month()).max(0);
                Period::Months(u32::try_from(months).unwrap_or(0))
            } else if kind == "reward_claim" {
                Period::Days(u32::try_from((due - start).num_days()).unwrap_or(0))
            } else {
                Period::WorkingDays(
                    u32::try_from(old.working_days_between(start, due)).unwrap_or(0),
                )
            };
            let provisional = !cal.covers_span(start, due);
            done += sqlx::query(
                "UPDATE clocks SET start_on = $1, period_unit = $2, period_len = $3, \
                 provisional = $4, rule = 'national@1' WHERE id = $5 AND start_on IS NULL",
            )
            .bind(start.to_string())
            .bind(period.unit())
            .bind(i64::from(period.length()))
            .bind(i64::from(provisional))
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
    }
}

trait YearMonth {
    fn year_month(&self) -> i64;
}

impl YearMonth for NaiveDate {
    fn year_month(&self) -> i64 {
        use chrono::Datelike;
        i64::from(self.year()) * 12 + i64::from(self.month0())
    }
}
