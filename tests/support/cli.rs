//! The `jubao` binary run as an operator runs it, shared by the tests of the binary
//! (`tests/process.rs`, `tests/operations.rs`): a command with a folder of its own, a
//! server on a free port, a tip to file.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const BIN: &str = env!("CARGO_BIN_EXE_jubao");

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn command(dir: &Path, db_url: &str) -> Command {
    let cfg = dir.join("empty.toml");
    std::fs::write(&cfg, "").unwrap();
    let mut c = Command::new(BIN);
    c.current_dir(dir)
        .env("JUBAO_CONFIG", &cfg)
        .env("JUBAO_DATABASE_URL", db_url)
        .env("JUBAO_KEYS_MASTER_KEY_FILE", dir.join("master.key"))
        // Every request here comes from one loopback address; the per-client filing limit
        // has its own test (tests/api/limits.rs).
        .env("JUBAO_INTAKE_FILINGS_PER_CLIENT", "1000000")
        .env(
            "JUBAO_CALENDAR_HOLIDAYS_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/config/holidays"),
        )
        .env_remove("JUBAO_MASTER_KEY");
    c
}

pub async fn start(dir: &Path, db_url: &str, log: &Path) -> Server {
    let port = free_port();
    let child = command(dir, db_url)
        .arg("serve")
        .env("JUBAO_SERVER_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .unwrap(),
        )
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await {
            if r.status() == 200 {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "server did not become ready: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Server { child, base }
}

pub fn tip(i: usize) -> Value {
    json!({
        "target": {"name": format!("某诊所{i}"), "kind": "clinic"},
        "categories": ["overcharging"],
        "description": "诊所重复收费，同一个检查收了两次钱。",
        "reporter": {"anonymous": true},
    })
}

/// File a named tip and return its receipt.
pub async fn file_named(client: &reqwest::Client, base: &str, i: usize) -> Value {
    let mut t = tip(i);
    t["reporter"] = json!({"anonymous": false, "name": "周八", "phone": "13600001111"});
    let r = client
        .post(format!("{base}/api/v1/reports"))
        .json(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

pub fn run(mut c: Command) -> (i32, String, String) {
    let out = c.stdin(Stdio::null()).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The status of a look-up of the tip a receipt (`tracking_code`, `passcode`) names.
pub async fn look_up(client: &reqwest::Client, base: &str, receipt: &Value) -> u16 {
    client
        .post(format!("{base}/api/v1/reports/lookup"))
        .json(&json!({"tracking_code": receipt["tracking_code"], "passcode": receipt["passcode"]}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}
