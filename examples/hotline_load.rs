//! Load figure for the hotline bridge (docs/BENCHMARKS.md, "Hotline bridge"): starts the
//! real application in this process on a fresh SQLite database in a temporary folder, then
//! runs a closed loop of N clients, each posting its next signed work order (a new
//! `call_id`, a named caller sealed in the vault) as soon as the last is answered `201`.
//! Every answer comes after the group commit (`synchronous=FULL`), so every counted work
//! order is durable.
//!
//!   cargo run --example hotline_load -- --concurrency 64 --seconds 10
//!   cargo run --example hotline_load -- --h5      # the same load on POST /api/v1/reports,
//!                                                 # for comparison under the same conditions
//!
//! Only loopback is contacted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jubao::config::{Config, HotlineSource};
use jubao::startup::Application;
use jubao::store::Db;
use jubao::vault::SecretKey;

const SECRET: &str = "load-test-secret";

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn body(i: u64) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "call_id": format!("LOAD-{i:010}"),
        "received_at": "2026-11-23T09:30:00+08:00",
        "caller_number": "0635-8888 1234",
        "caller_name": "测试来电人",
        "anonymous": false,
        "target": {"name": format!("负载测试医院{i}"), "kind": "hospital", "region_code": "371502"},
        "categories": ["fake_patient", "overcharging"],
        "description": "负载测试：来电反映医院组织老人挂床住院，虚构诊疗项目骗取医保基金。",
        "agent_id": "A-001",
        "recording_url": null,
    }))
    .unwrap()
}

/// A named H5 report with the same content, for `--h5`.
fn h5_body(i: u64) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "target": {"name": format!("负载测试医院{i}"), "kind": "hospital", "region_code": "371502"},
        "categories": ["fake_patient", "overcharging"],
        "description": "负载测试：来电反映医院组织老人挂床住院，虚构诊疗项目骗取医保基金。",
        "reporter": {"anonymous": false, "name": "测试来电人", "phone": "13800138000"},
    }))
    .unwrap()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds: u64 = arg("--seconds").map_or(Ok(10), |s| s.parse())?;
    let concurrency: usize = arg("--concurrency").map_or(Ok(64), |s| s.parse())?;
    let dir = tempfile::tempdir()?;
    let mut config = Config::from_toml_and_env("", &[])?;
    config.server.listen = "127.0.0.1:0".into();
    config.database.url = format!("sqlite://{}/jubao.db", dir.path().display());
    config.keys.master_key_file = dir.path().join("master.key").display().to_string();
    config.calendar.holidays_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/config/holidays").into();
    config.hotline = vec![HotlineSource {
        source: "12393".into(),
        secret: SECRET.into(),
        callback_url: None,
        previous_secret: None,
        previous_secret_until: None,
        allow_recording_hosts: vec![],
    }];
    let db = Db::connect(&config.database.url, 8).await?;
    db.migrate().await?;
    let app = Application::build_with(config, db.clone(), SecretKey::generate()).await?;
    let h5 = std::env::args().any(|a| a == "--h5");
    let endpoint = if h5 {
        format!("http://127.0.0.1:{}/api/v1/reports", app.port())
    } else {
        format!(
            "http://127.0.0.1:{}/bridges/hotline/12393/tickets",
            app.port()
        )
    };
    let _server = app.spawn();

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .build()?;
    let latencies = Arc::new(Mutex::new(Vec::<f64>::with_capacity(1 << 20)));
    let errors = Arc::new(AtomicU64::new(0));
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let end = started + Duration::from_secs(seconds);
    let mut tasks = vec![];
    for _ in 0..concurrency {
        let (client, endpoint, lat, errors, counter) = (
            client.clone(),
            endpoint.clone(),
            latencies.clone(),
            errors.clone(),
            counter.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while Instant::now() < end {
                let i = counter.fetch_add(1, Ordering::Relaxed);
                let b = if h5 { h5_body(i) } else { body(i) };
                let t = Instant::now();
                let ts = chrono::Utc::now().timestamp().to_string();
                let sig = jubao::channels::hotline::sign(SECRET.as_bytes(), &ts, &b);
                let ok = match client
                    .post(&endpoint)
                    .header("content-type", "application/json")
                    .header("X-Jubao-Timestamp", ts)
                    .header("X-Jubao-Signature", sig)
                    .body(b)
                    .send()
                    .await
                {
                    Ok(r) => r.status().as_u16() == 201 && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if ok {
                    lat.lock().unwrap().push(t.elapsed().as_secs_f64() * 1000.0);
                } else {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reports")
        .fetch_one(&db.pool)
        .await?;
    let mut l = latencies.lock().unwrap().clone();
    l.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "{} closed,concurrency={concurrency} ok={} errors={} stored={stored} seconds={elapsed:.1} \
         throughput={:.0}/s p50={:.2}ms p90={:.2}ms p99={:.2}ms max={:.2}ms",
        if h5 { "h5" } else { "hotline" },
        l.len(),
        errors.load(Ordering::Relaxed),
        l.len() as f64 / elapsed,
        percentile(&l, 0.50),
        percentile(&l, 0.90),
        percentile(&l, 0.99),
        l.last().copied().unwrap_or(f64::NAN),
    );
    Ok(())
}
