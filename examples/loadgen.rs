//! HTTP load generator for `POST /api/v1/reports` (see benches/load.sh and
//! docs/BENCHMARKS.md). Two modes:
//!
//! * closed loop: `--concurrency N --seconds S` — N clients, each sends its next tip as soon
//!   as the last one is acknowledged; reports throughput and latency percentiles.
//! * open loop: `--rate R --seconds S` — R tips a second on a fixed schedule, whatever the
//!   latency (no coordinated omission: latency is measured from the scheduled send time).
//!
//! Every request is bounded in count and time and goes only to the given loopback URL.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn body(i: u64) -> String {
    serde_json::json!({
        "target": {"name": format!("负载测试医院{i}"), "kind": "hospital", "region_code": "371502"},
        "categories": ["fake_patient", "overcharging"],
        "description": "负载测试：医院组织老人挂床住院，虚构诊疗项目骗取医保基金。",
        "amount_estimate_fen": 1_000_000,
        "reporter": {"anonymous": false, "name": "测试人", "phone": "13800138000"},
    })
    .to_string()
}

/// Send tip `i`; true when it was acknowledged (201 and the whole receipt read).
async fn send(client: &reqwest::Client, endpoint: &str, i: u64) -> bool {
    let req = client
        .post(endpoint)
        .header("content-type", "application/json")
        .body(body(i));
    match req.send().await {
        Ok(r) => r.status().as_u16() == 201 && r.bytes().await.is_ok(),
        Err(_) => false,
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

#[tokio::main]
async fn main() {
    let url = arg("--url").unwrap_or_else(|| "http://127.0.0.1:8080".into());
    assert!(
        url.starts_with("http://127.")
            || url.starts_with("http://localhost")
            || url.starts_with("http://[::1]"),
        "loadgen only targets loopback"
    );
    let endpoint = format!("{url}/api/v1/reports");
    let seconds: u64 = arg("--seconds").map_or(10, |s| s.parse().unwrap());
    let rate: Option<u64> = arg("--rate").map(|s| s.parse().unwrap());
    let concurrency: usize = arg("--concurrency").map_or(64, |s| s.parse().unwrap());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .build()
        .unwrap();
    let latencies = Arc::new(Mutex::new(Vec::<f64>::with_capacity(1 << 20)));
    let errors = Arc::new(AtomicU64::new(0));
    let counter = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let end = started + Duration::from_secs(seconds);

    let mut tasks = vec![];
    match rate {
        None => {
            for _ in 0..concurrency {
                let (client, endpoint, lat, errors, counter, stop) = (
                    client.clone(),
                    endpoint.clone(),
                    latencies.clone(),
                    errors.clone(),
                    counter.clone(),
                    stop.clone(),
                );
                tasks.push(tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) && Instant::now() < end {
                        let i = counter.fetch_add(1, Ordering::Relaxed);
                        let t = Instant::now();
                        let ok = send(&client, &endpoint, i).await;
                        if ok {
                            lat.lock().unwrap().push(t.elapsed().as_secs_f64() * 1000.0);
                        } else {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }));
            }
        }
        Some(r) => {
            let interval = Duration::from_secs_f64(1.0 / r as f64);
            let total = r * seconds;
            for i in 0..total {
                let scheduled = started + interval * i as u32;
                let now = Instant::now();
                if scheduled > now {
                    tokio::time::sleep(scheduled - now).await;
                }
                let (client, endpoint, lat, errors) = (
                    client.clone(),
                    endpoint.clone(),
                    latencies.clone(),
                    errors.clone(),
                );
                tasks.push(tokio::spawn(async move {
                    let ok = send(&client, &endpoint, i).await;
                    if ok {
                        lat.lock()
                            .unwrap()
                            .push(scheduled.elapsed().as_secs_f64() * 1000.0);
                    } else {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }));
            }
        }
    }
    for t in tasks {
        let _ = t.await;
    }
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    let mut l = latencies.lock().unwrap().clone();
    l.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "mode={} requests_ok={} errors={} seconds={:.1} throughput={:.0}/s p50={:.2}ms p90={:.2}ms p99={:.2}ms max={:.2}ms",
        rate.map_or(format!("closed,concurrency={concurrency}"), |r| format!("open,rate={r}/s")),
        l.len(),
        errors.load(Ordering::Relaxed),
        elapsed,
        l.len() as f64 / elapsed,
        percentile(&l, 0.50),
        percentile(&l, 0.90),
        percentile(&l, 0.99),
        l.last().copied().unwrap_or(f64::NAN),
    );
}
