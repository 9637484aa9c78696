//! Staff-side test helpers: accounts, sign-in (with TOTP where the role needs it), calls
//! with a bearer token, and a real SMTP server on loopback.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

use crate::helpers::TestApp;

pub const PASSWORD: &str = "correct-horse-battery";

pub struct Staff {
    pub id: String,
    pub username: String,
    pub token: String,
    pub refresh: String,
    pub totp_secret: Option<Vec<u8>>,
}

/// Create an account directly (as `jubao user add` does).
pub async fn add_user(
    app: &TestApp,
    username: &str,
    roles: &str,
    region: &str,
    email: Option<&str>,
) -> String {
    let mut tx = app.db.begin().await.unwrap();
    let u = jubao::staff::create(
        &mut tx,
        &jubao::staff::NewUser {
            username: username.into(),
            display_name: format!("{username} 同志"),
            email: email.map(str::to_string),
            roles: jubao::staff::parse_roles(roles).unwrap(),
            region: region.into(),
            locale: "zh-CN".into(),
            password: PASSWORD.into(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    u.id
}

pub async fn login_raw(
    app: &TestApp,
    username: &str,
    password: &str,
    totp: Option<&str>,
) -> reqwest::Response {
    let mut body = json!({ "username": username, "password": password });
    if let Some(t) = totp {
        body["totp"] = json!(t);
    }
    app.post_json("/api/v1/auth/login", &body).await
}

pub fn totp_code(secret: &[u8]) -> String {
    jubao::staff::auth::totp_now(secret, chrono::Utc::now()).unwrap()
}

/// Create a user and sign in; roles that need a second factor enrol TOTP first.
pub async fn staff(app: &TestApp, username: &str, roles: &str, region: &str) -> Staff {
    staff_with_email(app, username, roles, region, None).await
}

pub async fn staff_with_email(
    app: &TestApp,
    username: &str,
    roles: &str,
    region: &str,
    email: Option<&str>,
) -> Staff {
    let id = add_user(app, username, roles, region, email).await;
    let res = login_raw(app, username, PASSWORD, None).await;
    assert_eq!(res.status(), 200);
    let pair: Value = res.json().await.unwrap();
    let token = pair["access_token"].as_str().unwrap().to_string();
    let refresh = pair["refresh_token"].as_str().unwrap().to_string();
    let mut totp_secret = None;
    if pair["totp_enrollment_required"] == true {
        let setup: Value = post(app, &token, "/api/v1/auth/totp/setup", &json!({}))
            .await
            .json()
            .await
            .unwrap();
        let secret = totp_rs::Secret::Encoded(setup["secret"].as_str().unwrap().into())
            .to_bytes()
            .unwrap();
        let res = post(
            app,
            &token,
            "/api/v1/auth/totp/confirm",
            &json!({ "code": totp_code(&secret) }),
        )
        .await;
        assert_eq!(res.status(), 204, "{:?}", res.text().await);
        totp_secret = Some(secret);
    }
    Staff {
        id,
        username: username.into(),
        token,
        refresh,
        totp_secret,
    }
}

pub async fn get(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

pub async fn post(app: &TestApp, token: &str, path: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// POST and expect `status`; returns the body.
pub async fn post_ok(app: &TestApp, s: &Staff, path: &str, body: &Value, status: u16) -> Value {
    let res = post(app, &s.token, path, body).await;
    let code = res.status().as_u16();
    let text = res.text().await.unwrap();
    assert_eq!(code, status, "{} {path}: {text}", s.username);
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// File an H5 tip and return its internal case id.
pub async fn file_case(app: &TestApp, body: &Value) -> String {
    let receipt = app.file_tip(body).await;
    case_id_of(app, receipt["tracking_code"].as_str().unwrap()).await
}

pub async fn case_id_of(app: &TestApp, tracking_code: &str) -> String {
    sqlx::query_scalar("SELECT id FROM reports WHERE tracking_code = $1")
        .bind(tracking_code)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

pub async fn status_of(app: &TestApp, case: &str) -> String {
    sqlx::query_scalar("SELECT status FROM reports WHERE id = $1")
        .bind(case)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

/// A real SMTP server (Python's aiosmtpd) on a loopback port; messages land in a folder.
pub struct SmtpSink {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        Self::start_on(None)
    }

    pub fn start_on(port: Option<u16>) -> SmtpSink {
        let dir = tempfile::tempdir().unwrap();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(dir.path())
            .args(port.map(|p| p.to_string()))
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with aiosmtpd (pip install aiosmtpd) is needed for the email tests");
        let mut line = String::new();
        use std::io::BufRead;
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().unwrap_or_else(|_| {
            panic!("smtp sink did not start (is aiosmtpd installed?): {line:?}")
        });
        SmtpSink { port, dir, child }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far: `{to, from, subject, text, html}`, decoded.
    pub fn messages(&self) -> Vec<Value> {
        let mut files: Vec<_> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }

    /// Wait until at least `n` messages arrived (the outbox sends in the background).
    pub async fn wait_for(&self, n: usize) -> Vec<Value> {
        for _ in 0..200 {
            let m = self.messages();
            if m.len() >= n {
                return m;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("expected {n} emails, got {}", self.messages().len());
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
