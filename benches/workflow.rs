//! Workflow at scale (issue 3 targets): with N cases (default 1,000,000) in a SQLite (or
//! PostgreSQL: `BENCH_DB=postgres://…`) database, time a handler's inbox, a supervisor's
//! overdue board, the deadline sweep with few and with many due items, and a state
//! transition (with its audit entry and outbox job). Prints p50/p99 per operation.
//!
//!   cargo bench --bench workflow                 # 1,000,000 cases, SQLite in target/
//!   BENCH_CASES=100000 cargo bench --bench workflow
//!
//! The seeded database is kept (target/bench-workflow-N.db) and reused by later runs.

use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use jubao::config::Config;
use jubao::deadlines::calendar::{shanghai_date, Calendar};
use jubao::staff::principal::Principal;
use jubao::staff::Role;
use jubao::store::Db;
use jubao::workflow::{ops, query, sweep, Workflow};

const HANDLERS: usize = 400;
const COUNTIES: [&str; 8] = [
    "371502", "371503", "371521", "371522", "371523", "371524", "371525", "371526",
];

fn pct(mut v: Vec<Duration>) -> (f64, f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (
        ms(v[v.len() / 2]),
        ms(v[(v.len() * 99) / 100]),
        ms(*v.last().unwrap()),
    )
}

fn report(name: &str, v: Vec<Duration>) {
    let n = v.len();
    let (p50, p99, max) = pct(v);
    println!("{name:<58} n={n:<5} p50={p50:>8.3} ms  p99={p99:>8.3} ms  max={max:>8.3} ms");
}

async fn seed(db: &Db, n: usize, today: NaiveDate) -> anyhow::Result<()> {
    let have: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reports")
        .fetch_one(&db.pool)
        .await?;
    if have as usize >= n {
        return Ok(());
    }
    eprintln!("seeding {n} cases (once; the database is kept for later runs)…");
    let now = jubao::store::ts(Utc::now());
    let mut tx = db.begin().await?;
    for h in 0..HANDLERS {
        sqlx::query("INSERT INTO staff_users (id, username, display_name, roles, region, locale, password_hash, created_at, updated_at) VALUES ($1, $2, $2, 'handler', $3, 'zh-CN', 'x', $4, $4)")
            .bind(format!("h{h:04}")).bind(format!("handler{h:04}")).bind(COUNTIES[h % COUNTIES.len()]).bind(&now)
            .execute(&mut *tx).await?;
    }
    sqlx::query("INSERT INTO staff_users (id, username, display_name, roles, region, locale, password_hash, created_at, updated_at) VALUES ('sup', 'sup', 'sup', 'supervisor', '371500', 'zh-CN', 'x', $1, $1)")
        .bind(&now).execute(&mut *tx).await?;
    tx.commit().await?;
    let statuses = [
        "received",
        "accepted",
        "checking",
        "decided",
        "closed",
        "closed",
        "closed",
        "not_accepted",
    ];
    let chunk = 500;
    let mut i = 0usize;
    while i < n {
        let mut tx = db.begin().await?;
        let end = (i + chunk).min(n);
        let mut sql = String::from("INSERT INTO reports (id, tracking_code, passcode_hash, channel, status, target_name, target_kind, categories, description, anonymous, locale, received_at, accept_by, case_region, target_key, assignee_id, is_open) VALUES ");
        let mut clocks = String::from("INSERT INTO clocks (report_id, kind, started_at, due_on, remind_on, stage, next_check_on, closed_at) VALUES ");
        for k in i..end {
            let status = statuses[(k / COUNTIES.len()) % statuses.len()];
            let open = !matches!(status, "closed" | "not_accepted");
            let region = COUNTIES[k % COUNTIES.len()];
            let handler = (k / COUNTIES.len()) % (HANDLERS / COUNTIES.len()) * COUNTIES.len()
                + k % COUNTIES.len();
            let assignee = if status == "received" {
                "NULL".to_string()
            } else {
                format!("'h{handler:04}'")
            };
            let received = (Utc::now() - chrono::Duration::seconds(((n - k) * 30) as i64))
                .format("%Y-%m-%dT%H:%M:%S%.6fZ");
            let due = today + chrono::Duration::days((k % 400) as i64 - 200);
            let remind = due - chrono::Duration::days(4);
            if k > i {
                sql.push(',');
                clocks.push(',');
            }
            sql.push_str(&format!("('c{k:08}', 't{k:011}', X'00', 'h5', '{status}', '某医院{}', 'hospital', 'fake_patient', '描述', 1, 'zh-CN', '{received}', '{due}', '{region}', 'x{}', {assignee}, {})", k % 5000, k % 5000, i64::from(open)));
            let (next, closed) = if open {
                // Far from today, except a thin slice, so the sweep has a realistic few due.
                let next = if due >= today {
                    remind.to_string()
                } else {
                    (today + chrono::Duration::days(1000)).to_string()
                };
                (format!("'{next}'"), "NULL".to_string())
            } else {
                ("NULL".into(), format!("'{now}'"))
            };
            clocks.push_str(&format!("('c{k:08}', 'handle', '{received}', '{due}', '{remind}', 'pending', {next}, {closed})"));
        }
        let (sql, clocks) = match db.backend {
            jubao::store::Backend::Postgres => (sql.replace("X'00'", "'\\x00'::bytea"), clocks),
            jubao::store::Backend::Sqlite => (sql, clocks),
        };
        sqlx::query(&sql).execute(&mut *tx).await?;
        sqlx::query(&clocks).execute(&mut *tx).await?;
        tx.commit().await?;
        i = end;
        if i % 100_000 == 0 {
            eprintln!("  {i}");
        }
    }
    sqlx::query("ANALYZE").execute(&db.pool).await?;
    Ok(())
}

fn principal(id: &str, role: Role, region: &str) -> Principal {
    Principal {
        id: id.into(),
        username: id.into(),
        display_name: id.into(),
        roles: vec![role],
        region: region.into(),
        locale: "zh-CN".into(),
        session: "bench".into(),
        mfa: true,
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return Ok(()); // `cargo test --benches` / `cargo bench -- --list`
    }
    let n: usize = std::env::var("BENCH_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let url = std::env::var("BENCH_DB").unwrap_or_else(|_| {
        format!(
            "sqlite://{}/target/bench-workflow-{n}.db",
            env!("CARGO_MANIFEST_DIR")
        )
    });
    let db = Db::connect(&url, 8).await?;
    db.migrate().await?;
    let calendar = jubao::deadlines::Calendars::new(Calendar::built_in());
    let today = shanghai_date(Utc::now());
    let t0 = Instant::now();
    seed(&db, n, today).await?;
    eprintln!("ready after {:.1} s", t0.elapsed().as_secs_f64());
    let mut config = Config::from_toml_and_env("", &[])?;
    config.database.url = url.clone();
    let rules = std::sync::Arc::new(jubao::deadlines::rules::RuleSet::load(&config)?);
    // A fixed, made-up master key: the seeded database is reused by later runs, and its data
    // keys open only under the key that sealed them.
    let master = jubao::vault::SecretKey::from_slice(&[7u8; 32]).expect("32 bytes");
    let vault = jubao::vault::Vault::open(db.clone(), master).await?;
    let wf = Workflow {
        db: db.clone(),
        audit: vault.audit_key().clone(),
        calendar,
        rules,
        config,
        rewards: std::sync::Arc::new(jubao::workflow::NoRewards),
        reads: jubao::audit::ReadLog::start(db.clone(), vault.audit_key().clone()),
    };
    let cases: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reports")
        .fetch_one(&db.pool)
        .await?;
    println!(
        "workflow benchmark: {cases} cases, {} ({})",
        if url.starts_with("sqlite") {
            "SQLite"
        } else {
            "PostgreSQL"
        },
        url.split('@').next_back().unwrap_or("")
    );

    // Handler inbox (assigned to me, open, newest first).
    let mut v = vec![];
    for i in 0..200 {
        let p = principal(
            &format!("h{:04}", i % HANDLERS),
            Role::Handler,
            COUNTIES[i % HANDLERS % COUNTIES.len()],
        );
        let t = Instant::now();
        let rows = query::inbox(&wf, &p, &query::InboxQuery::default())
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        v.push(t.elapsed());
        assert!(!rows.is_empty());
    }
    report("handler inbox (50 rows)", v);

    // Supervisor overdue board (city level: all eight counties).
    let sup = principal("sup", Role::Supervisor, "371500");
    let mut v = vec![];
    for _ in 0..50 {
        let t = Instant::now();
        let rows = query::overdue(&wf, &sup, 200)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        v.push(t.elapsed());
        assert_eq!(rows.len(), 200);
    }
    report("overdue board (200 latest, city)", v);

    // Sweep: nothing due, then K due items (reset between runs).
    for k in [0usize, 10, 100, 1000] {
        let mut v = vec![];
        for _ in 0..5 {
            let ids: Vec<i64> = sqlx::query_scalar(
                "SELECT id FROM clocks WHERE closed_at IS NULL ORDER BY id LIMIT $1",
            )
            .bind(k as i64)
            .fetch_all(&db.pool)
            .await?;
            for chunk in ids.chunks(500) {
                let list: Vec<String> = chunk.iter().map(|i| i.to_string()).collect();
                sqlx::query(&format!("UPDATE clocks SET stage = 'pending', next_check_on = '2000-01-01' WHERE id IN ({})", list.join(",")))
                    .execute(&db.pool).await?;
            }
            let t = Instant::now();
            let mut moved = 0;
            loop {
                let s =
                    sweep::sweep(&wf, NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(), 500).await?;
                moved += s.reminded + s.due + s.escalated;
                if s.examined < 500 {
                    break;
                }
            }
            v.push(t.elapsed());
            assert_eq!(moved, k);
            // Leave them far in the future again.
            sqlx::query("UPDATE clocks SET next_check_on = '2999-01-01' WHERE next_check_on IS NULL AND closed_at IS NULL")
                .execute(&db.pool).await?;
        }
        report(&format!("deadline sweep with {k} due items"), v);
    }
    sqlx::query("DELETE FROM jobs").execute(&db.pool).await?;

    // Transitions: accept received cases as the region's intake (audit entry, clocks,
    // assignment, timeline event and outbox job in one transaction).
    let received: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, case_region FROM reports WHERE status = 'received' ORDER BY id DESC LIMIT 1000",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut v = vec![];
    for (id, region) in received {
        let p = principal("sup", Role::Intake, &region);
        let req: ops::TransitionRequest =
            serde_json::from_value(serde_json::json!({"to": "accepted", "reason": "bench"}))?;
        let t = Instant::now();
        ops::transition(&wf, &p, &id, req)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        v.push(t.elapsed());
    }
    report("transition received → accepted (+audit, clocks, outbox)", v);
    sqlx::query("DELETE FROM jobs").execute(&db.pool).await?;
    Ok(())
}
