//! Related tips at scale (issue 18): with N cases (default 1,000,000) in a SQLite (or
//! PostgreSQL: `BENCH_DB=postgres://…`) database, each with its MinHash buckets, a target
//! among 50,000 institutions and (one in three) a reporter's blind-index digest, time the
//! finding of a new tip's related tips (reads only) and the whole `related_tips` job: the three candidate lookups, the exact
//! comparison, the links, the buckets and the triage of the tip and its target's open tips.
//! Prints p50/p99. Then times the intake statement the job adds (one multi-row insert of
//! the batch's job rows) against the batch's report rows.
//!
//!   cargo bench --bench related                  # 1,000,000 cases, SQLite in target/
//!   BENCH_CASES=100000 cargo bench --bench related
//!
//! The seeded database is kept (target/bench-related-N.db) and reused by later runs.

use std::time::{Duration, Instant};

use chrono::Utc;
use jubao::store::Db;
use jubao::workflow::related::{self, similar};
use jubao::workflow::triage::rules::TriagePolicies;
use rand::{Rng, SeedableRng};

const COUNTIES: [&str; 8] = [
    "371502", "371503", "371521", "371522", "371523", "371524", "371525", "371526",
];
const INSTITUTIONS: usize = 50_000;
const REPORTERS: usize = 300_000;

/// Words tips are made of: tips drawn from them share the domain's vocabulary, as real
/// ones do, so buckets fill as they would.
const WORDS: &[&str] = &[
    "医院",
    "诊所",
    "药房",
    "老人",
    "病人",
    "医生",
    "护士",
    "院长",
    "挂床",
    "住院",
    "门诊",
    "开药",
    "检查",
    "化验",
    "理疗",
    "针灸",
    "推拿",
    "康复",
    "手术",
    "耗材",
    "钢板",
    "支架",
    "透析",
    "体检",
    "病历",
    "发票",
    "处方",
    "报告",
    "结算",
    "刷卡",
    "返现",
    "骗保",
    "虚构",
    "伪造",
    "冒名",
    "重复",
    "收费",
    "多收",
    "串换",
    "倒卖",
    "药品",
    "生活用品",
    "米面油",
    "组织",
    "拉人",
    "免费",
    "接送",
    "每人",
    "每次",
    "每天",
    "三天",
    "五十元",
    "两百元",
    "村里",
    "社区",
    "亲戚",
    "家属",
    "去世",
    "父亲",
    "母亲",
    "没有",
    "实际",
    "根本",
    "却",
    "然后",
    "以后",
    "安排",
    "要求",
    "收取",
    "记账",
    "项目",
    "费用",
    "高价",
    "进口",
    "普通",
];

fn description(rng: &mut impl Rng) -> String {
    let n = rng.gen_range(12..30);
    (0..n)
        .map(|_| WORDS[rng.gen_range(0..WORDS.len())])
        .collect::<Vec<_>>()
        .join("")
}

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

fn bytes_literal(db: &Db, b: &[u8]) -> String {
    match db.backend {
        jubao::store::Backend::Postgres => format!("'\\x{}'::bytea", hex::encode(b)),
        jubao::store::Backend::Sqlite => format!("X'{}'", hex::encode(b)),
    }
}

/// Insert tips `from..to` (ids `c{k:08}`) with their buckets and blind-index rows.
async fn insert(db: &Db, from: usize, to: usize, seed: u64) -> anyhow::Result<()> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let chunk = 500;
    let mut i = from;
    while i < to {
        let end = (i + chunk).min(to);
        let mut reports = String::from("INSERT INTO reports (id, tracking_code, passcode_hash, channel, status, target_name, target_kind, categories, description, anonymous, locale, received_at, accept_by, case_region, target_key, is_open) VALUES ");
        let mut buckets = vec![];
        let mut index = vec![];
        for k in i..end {
            let region = COUNTIES[k % COUNTIES.len()];
            let inst = rng.gen_range(0..INSTITUTIONS);
            let text = description(&mut rng);
            let received = (Utc::now() - chrono::Duration::seconds((to - k) as i64 * 30))
                .format("%Y-%m-%dT%H:%M:%S%.6fZ");
            if k > i {
                reports.push(',');
            }
            reports.push_str(&format!("('c{k:08}', 't{k:011}', X'00', 'h5', 'received', '机构{inst}', 'hospital', 'fake_patient', '{text}', 1, 'zh-CN', '{received}', '2027-01-01', '{region}', '机构{inst}', 1)"));
            for b in similar::text_buckets(&text) {
                buckets.push(format!("({b}, 'c{k:08}')"));
            }
            if k % 3 == 0 {
                let who = rng.gen_range(0..REPORTERS) as u64;
                let mut digest = [0u8; 32];
                digest[..8].copy_from_slice(&who.to_le_bytes());
                index.push(format!(
                    "('phone', {}, 'c{k:08}')",
                    bytes_literal(db, &digest)
                ));
            }
        }
        let reports = match db.backend {
            jubao::store::Backend::Postgres => reports.replace("X'00'", "'\\x00'::bytea"),
            jubao::store::Backend::Sqlite => reports,
        };
        let mut tx = db.begin().await?;
        sqlx::query(&reports).execute(&mut *tx).await?;
        for part in buckets.chunks(2000) {
            sqlx::query(&format!(
                "INSERT INTO text_buckets (bucket, report_id) VALUES {} ON CONFLICT DO NOTHING",
                part.join(",")
            ))
            .execute(&mut *tx)
            .await?;
        }
        if !index.is_empty() {
            sqlx::query(&format!(
                "INSERT INTO identity_index (field, digest, report_id) VALUES {}",
                index.join(",")
            ))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        i = end;
        if i % 100_000 == 0 {
            eprintln!("  {i}");
        }
    }
    Ok(())
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
            "sqlite://{}/target/bench-related-{n}.db",
            env!("CARGO_MANIFEST_DIR")
        )
    });
    let db = Db::connect(&url, 8).await?;
    db.migrate().await?;
    let have: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reports WHERE id < 'd'")
        .fetch_one(&db.pool)
        .await?;
    let t0 = Instant::now();
    if (have as usize) < n {
        eprintln!("seeding {n} cases (once; the database is kept for later runs)…");
        insert(&db, have as usize, n, have as u64).await?;
        sqlx::query("ANALYZE").execute(&db.pool).await?;
    }
    eprintln!("ready after {:.1} s", t0.elapsed().as_secs_f64());
    let buckets: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM text_buckets")
        .fetch_one(&db.pool)
        .await?;
    println!(
        "related-tips benchmark: {n} cases, {buckets} text buckets, {} ({})",
        if url.starts_with("sqlite") {
            "SQLite"
        } else {
            "PostgreSQL"
        },
        url.split('@').next_back().unwrap_or("")
    );
    let policies = TriagePolicies::built_in()?;

    // New tips, stored as intake stores them (one in three by a known reporter), then the
    // job's whole work for each.
    let run = Utc::now().timestamp_millis() as u64;
    let mut rng = rand::rngs::StdRng::seed_from_u64(run);
    let (mut f, mut v) = (vec![], vec![]);
    let mut linked = 0;
    for j in 0..300 {
        let id = format!("n{run}-{j:04}");
        let inst = rng.gen_range(0..INSTITUTIONS);
        let text = description(&mut rng);
        let region = COUNTIES[j % COUNTIES.len()];
        sqlx::query("INSERT INTO reports (id, tracking_code, passcode_hash, channel, status, target_name, target_kind, categories, description, anonymous, locale, received_at, accept_by, case_region, target_key, is_open) VALUES ($1, $2, $3, 'h5', 'received', $4, 'hospital', 'fake_patient', $5, 1, 'zh-CN', $6, '2027-01-01', $7, $4, 1)")
            .bind(&id)
            .bind(format!("n{run}{j:04}"))
            .bind(vec![0u8])
            .bind(format!("机构{inst}"))
            .bind(&text)
            .bind(jubao::store::ts(Utc::now()))
            .bind(region)
            .execute(&db.pool)
            .await?;
        let t = Instant::now();
        let found = related::find(&db, &id)
            .await?
            .expect("the tip was just stored");
        f.push(t.elapsed());
        linked += related::store_found(&db, &policies, &found).await?;
        v.push(t.elapsed());
    }
    report(
        "finding the related tips of a new tip (lookups + comparison)",
        f,
    );
    report("related_tips job of a new tip (links + triage)", v);
    println!("  links written: {linked} for 300 tips");

    // The intake statement the job adds, next to the batch's report rows: 128 rows each.
    let mut jobs_t = vec![];
    for b in 0..20 {
        let mut tx = db.begin().await?;
        let ids: Vec<String> = (0..128).map(|k| format!("j{run}-{b}-{k}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let t = Instant::now();
        jubao::intake::links::enqueue(&mut tx, &refs, Utc::now()).await?;
        jobs_t.push(t.elapsed());
        tx.rollback().await?;
    }
    report("queueing 128 related_tips jobs (one intake batch)", jobs_t);
    Ok(())
}
