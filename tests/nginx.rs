//! The shipped deployment (`deploy/`, docs/OPERATIONS.md), run as written: Debian's nginx
//! with `deploy/nginx.conf` (only its ports, certificate and log paths changed for the test)
//! in front of the real binary, on loopback. Per-client limits see the real client address
//! and not the proxy's (the clients connect from 127.0.0.2 and 127.0.0.3, nginx from
//! 127.0.0.1), a forged `X-Forwarded-For` changes nothing, and an upload of the configured
//! size passes TLS and the proxy. `promtool` checks and unit-tests the alert rules, and
//! `systemd-analyze verify` the systemd unit.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

#[path = "support/cli.rs"]
mod cli;
#[path = "support/tools.rs"]
mod tools;

const SITE: &str = include_str!("../deploy/nginx.conf");

/// `deploy/nginx.conf` with the test's ports, certificate and log, inside a main file.
fn nginx_config(dir: &Path, http: u16, https: u16, upstream: u16) -> std::path::PathBuf {
    let site = SITE
        .replace("listen 80;", &format!("listen 127.0.0.1:{http};"))
        .replace(
            "listen 443 ssl http2;",
            &format!("listen 127.0.0.1:{https} ssl http2;"),
        )
        .replace(
            "server 127.0.0.1:8080;",
            &format!("server 127.0.0.1:{upstream};"),
        )
        .replace("/etc/ssl/jubao/", &format!("{}/", dir.display()))
        .replace("/var/log/nginx/", &format!("{}/", dir.display()))
        .lines()
        .filter(|l| !l.contains("[::]"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        !site.contains("443") && !site.contains(" 80;"),
        "ports left: {site}"
    );
    std::fs::write(dir.join("site.conf"), site).unwrap();
    let d = dir.display();
    let main = format!(
        "user root;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 256; }}\n\
         http {{\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
         fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  \
         scgi_temp_path {d}/scgi;\n  include {d}/site.conf;\n}}\n"
    );
    let path = dir.join("nginx-main.conf");
    std::fs::write(&path, main).unwrap();
    path
}

fn certificate(dir: &Path) {
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=jubao.example.gov.cn"])
        .arg("-keyout")
        .arg(dir.join("privkey.pem"))
        .arg("-out")
        .arg(dir.join("fullchain.pem"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn client_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(ip))
        .danger_accept_invalid_certs(true)
        .resolve(
            "jubao.example.gov.cn",
            std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        )
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

fn wav(n: usize) -> Vec<u8> {
    let data = n - 44;
    let mut v = b"RIFF".to_vec();
    v.extend_from_slice(&(36 + data as u32).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    for x in [
        16u32.to_le_bytes().to_vec(),
        1u16.to_le_bytes().to_vec(),
        1u16.to_le_bytes().to_vec(),
    ] {
        v.extend_from_slice(&x);
    }
    v.extend_from_slice(&16000u32.to_le_bytes());
    v.extend_from_slice(&32000u32.to_le_bytes());
    v.extend_from_slice(&2u16.to_le_bytes());
    v.extend_from_slice(&16u16.to_le_bytes());
    v.extend_from_slice(b"data");
    v.extend_from_slice(&(data as u32).to_le_bytes());
    let mut x = 0x2545_f491_u32;
    v.extend((0..data).map(|_| {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x as u8
    }));
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_the_shipped_nginx_limits_see_the_client_and_uploads_pass() {
    if !tools::need("the nginx deployment test", &[tools::NGINX, tools::OPENSSL]) {
        return;
    }
    let nginx = tools::NGINX.path().unwrap();
    let dir = tempfile::tempdir().unwrap();
    certificate(dir.path());
    let (http, https, upstream) = (cli::free_port(), cli::free_port(), cli::free_port());
    let conf = nginx_config(dir.path(), http, https, upstream);
    let out = Command::new(&nginx)
        .arg("-t")
        .arg("-c")
        .arg(&conf)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "nginx -t: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let url = format!("sqlite://{}/data/jubao.db", dir.path().display());
    let log = dir.path().join("server.log");
    let mut c = cli::command(dir.path(), &url);
    c.arg("serve")
        .env("JUBAO_SERVER_LISTEN", format!("127.0.0.1:{upstream}"))
        .env("JUBAO_SERVER_TRUST_FORWARDED_FOR", "true")
        .env("JUBAO_INTAKE_FILINGS_PER_CLIENT", "3")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    let mut jubao = c.spawn().unwrap();
    let mut proxy = Command::new(&nginx)
        .args(["-g", "daemon off;", "-c"])
        .arg(&conf)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("https://jubao.example.gov.cn:{https}");
    let a = client_from([127, 0, 0, 2]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = a.get(format!("{base}/readyz")).send().await {
            if r.status() == 200 {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Plain HTTP is sent to HTTPS.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("http://127.0.0.1:{http}/h5/"))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 308);

    let file = |client: &reqwest::Client, forged: &str| {
        let req = client
            .post(format!("{base}/api/v1/reports"))
            .header("X-Forwarded-For", forged)
            .json(&cli::tip(1));
        async move { req.send().await.unwrap().status().as_u16() }
    };
    // Client A's three tips use its allowance, whatever address it claims to forward.
    for forged in ["10.0.0.1", "10.0.0.2", "10.0.0.3"] {
        assert_eq!(file(&a, forged).await, 201);
    }
    assert_eq!(file(&a, "10.0.0.4").await, 429);
    // Client B, behind the same proxy, is another client.
    let b = client_from([127, 0, 0, 3]);
    assert_eq!(file(&b, "127.0.0.2").await, 201);

    // An upload of [evidence] max_file_bytes passes nginx and TLS (client C).
    let c = client_from([127, 0, 0, 4]);
    let form = reqwest::multipart::Form::new()
        .text(
            "report",
            json!({
                "target": {"name": "某医院", "kind": "hospital"},
                "categories": ["fake_patient"],
                "description": "经反向代理上传录音，检查大小上限。",
                "reporter": {"anonymous": true},
            })
            .to_string(),
        )
        .part(
            "evidence",
            reqwest::multipart::Part::bytes(wav(20 * 1024 * 1024))
                .file_name("a.wav")
                .mime_str("audio/wav")
                .unwrap(),
        );
    let res = c
        .post(format!("{base}/api/v1/reports"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = res.status();
    assert_eq!(status, 201, "{}", res.text().await.unwrap_or_default());

    let _ = proxy.kill();
    let _ = proxy.wait();
    let _ = jubao.kill();
    let _ = jubao.wait();
}

#[test]
fn the_alert_rules_check_and_pass_their_tests() {
    if !tools::need("the alert rules test", &[tools::PROMTOOL]) {
        return;
    }
    let deploy = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy");
    let runs: [&[&str]; 2] = [
        &["check", "rules", "alerts.yml"],
        &["test", "rules", "alerts.test.yml"],
    ];
    for args in runs {
        let out = Command::new("promtool")
            .args(args)
            .current_dir(deploy)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `systemd-analyze verify` reads the shipped unit as systemd would (only the binary's path
/// changed to the one built here) and finds nothing to say.
#[test]
fn the_systemd_unit_verifies() {
    if !tools::need("the systemd unit test", &[tools::SYSTEMD_ANALYZE]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let unit = include_str!("../deploy/jubao.service").replace("/usr/local/bin/jubao", cli::BIN);
    assert!(unit.contains("NoNewPrivileges=yes") && unit.contains("ProtectSystem=strict"));
    let path = dir.path().join("jubao.service");
    std::fs::write(&path, unit).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    let complaints: Vec<&str> = said
        .lines()
        .filter(|l| l.contains("jubao.service"))
        .collect();
    assert!(complaints.is_empty(), "{said}");
}

/// Every alert has its section in docs/OPERATIONS.md, which its runbook link names.
#[test]
fn every_alert_is_documented() {
    let rules = include_str!("../deploy/alerts.yml");
    let doc = include_str!("../docs/OPERATIONS.md");
    let mut n = 0;
    for line in rules.lines() {
        if let Some(name) = line.trim().strip_prefix("- alert: ") {
            n += 1;
            assert!(
                doc.contains(&format!("#### {name}")),
                "{name} is not in docs/OPERATIONS.md"
            );
        }
    }
    assert_eq!(n, 8);
}
