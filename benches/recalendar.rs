//! Adding a year's holiday notice on a large database (calendar issue): N open provisional
//! clocks (default 1,000,000: handling clocks of open cases running into the first year the
//! shipped calendar lacks), then a notice for that year is published and every clock is
//! recomputed, audited and settled, as `jubao calendar reload` does. Prints the time.
//!
//!   cargo bench --bench recalendar                       # 1,000,000 clocks, SQLite in target/
//!   BENCH_CLOCKS=100000 cargo bench --bench recalendar
//!   BENCH_DB=postgres://postgres@127.0.0.1/bench cargo bench --bench recalendar
//!
//! The database is made afresh on every run (the recompute changes it).

use std::time::Instant;

use chrono::{Datelike, NaiveDate, Utc};
use jubao::config::Config;
use jubao::deadlines::calendar::{shanghai_date, Calendar, Origin};
use jubao::deadlines::period::Period;
use jubao::deadlines::rules::RuleSet;
use jubao::deadlines::Calendars;
use jubao::store::Db;
use jubao::workflow::{recalendar, Workflow};

async fn seed(db: &Db, cal: &Calendar, n: usize, start: NaiveDate) -> anyhow::Result<()> {
    let now = jubao::store::ts(Utc::now());
    let due = Period::WorkingDays(40).due(cal, start);
    assert!(
        due.provisional,
        "the seeded clocks must run into a year with no notice"
    );
    let chunk = 500;
    let mut i = 0;
    while i < n {
        let end = (i + chunk).min(n);
        let mut reports = String::from(
            "INSERT INTO reports (id, tracking_code, passcode_hash, channel, status, target_name, \
             target_kind, categories, description, anonymous, locale, received_at, accept_by, \
             case_region, target_key, is_open) VALUES ",
        );
        let mut clocks = format!("{} ", jubao::deadlines::clocks::INSERT_HEAD);
        for k in i..end {
            if k > i {
                reports.push(',');
                clocks.push(',');
            }
            reports.push_str(&format!(
                "('c{k:08}', 't{k:011}', X'00', 'h5', 'accepted', '某医院', 'hospital', \
                 'fake_patient', '描述', 1, 'zh-CN', '{now}', '{start}', '371502', 'x', 1)"
            ));
            clocks.push_str(&format!(
                "('c{k:08}', 'handle', '{now}', '{start}', '{}', '{}', 'pending', '{}', \
                 'working_days', 40, 1, 'national@1', 3)",
                due.on, due.on, due.on
            ));
        }
        if db.backend == jubao::store::Backend::Postgres {
            reports = reports.replace("X'00'", "'\\x00'::bytea");
        }
        let mut tx = db.begin().await?;
        sqlx::query(&reports).execute(&mut *tx).await?;
        sqlx::query(&clocks).execute(&mut *tx).await?;
        tx.commit().await?;
        i = end;
        if i % 100_000 == 0 {
            eprintln!("  seeded {i}");
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return Ok(());
    }
    let n: usize = std::env::var("BENCH_CLOCKS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir_in(concat!(env!("CARGO_MANIFEST_DIR"), "/target"))?;
    let url = std::env::var("BENCH_DB")
        .unwrap_or_else(|_| format!("sqlite://{}/recalendar.db", dir.path().display()));
    let db = Db::connect(&url, 8).await?;
    db.migrate().await?;
    let built = Calendar::built_in();
    let year = (shanghai_date(Utc::now()).year()..)
        .find(|y| !built.years().any(|b| b == *y))
        .expect("a year");
    // Forty working days before the year's 20 January (weekends only in it): the clocks
    // start in the last covered year and end in the new one.
    let end = NaiveDate::from_ymd_opt(year, 1, 20).expect("date");
    let start = built.sub_working_days(end, 40);
    let t0 = Instant::now();
    seed(&db, &built, n, start).await?;
    eprintln!("seeded {n} clocks in {:.1} s", t0.elapsed().as_secs_f64());

    let mut config = Config::from_toml_and_env("", &[])?;
    config.database.url = url.clone();
    let vault = jubao::vault::Vault::open(db.clone(), jubao::vault::SecretKey::generate()).await?;
    let wf = Workflow {
        db: db.clone(),
        audit: vault.audit_key().clone(),
        calendar: Calendars::new(built.clone()),
        rules: std::sync::Arc::new(RuleSet::load(&config)?),
        config,
        rewards: std::sync::Arc::new(jubao::workflow::NoRewards),
        reads: jubao::audit::ReadLog::start(db.clone(), vault.audit_key().clone()),
    };
    let mut with_year = built.clone();
    with_year.add_year(
        "cn-bench.toml",
        &format!("year = {year}\noff = [\"{year}-01-01\"]\nwork = []\n"),
        Origin::File(format!("cn-{year}.toml")),
    )?;
    let t = Instant::now();
    let done = recalendar::adopt(&wf, &with_year).await?;
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(done.settled as usize, n, "{done:?}");
    println!(
        "recalendar: {} ({n} open provisional clocks): recomputed {} , moved {}, settled {} in {secs:.1} s ({:.0} clocks/s)",
        if url.starts_with("sqlite") { "SQLite" } else { "PostgreSQL" },
        done.examined,
        done.moved,
        done.settled,
        n as f64 / secs
    );
    db.close().await;
    Ok(())
}
