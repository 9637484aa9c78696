//! Staff-side test helpers: accounts, sign-in (with TOTP where the role needs it), calls
//! with a bearer token, and (from `tests/support/smtp_sink.rs`) a real SMTP server on
//! loopback.

use serde_json::{json, Value};

use crate::helpers::TestApp;
pub use crate::smtp_sink::SmtpSink;

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
        &jubao::staff::hash_password(PASSWORD).unwrap(),
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
    // A 503 is the server's "password hashing is busy, try again" (the suite runs many
    // tests at once on few cores); a client retries it after `Retry-After`.
    let mut res = login_raw(app, username, PASSWORD, None).await;
    for _ in 0..30 {
        if res.status() != 503 {
            break;
        }
        let wait: u64 = res
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        tokio::time::sleep(std::time::Duration::from_millis(200 * wait.clamp(1, 5))).await;
        res = login_raw(app, username, PASSWORD, None).await;
    }
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

/// Turn on TOTP for a signed-in user whose role does not require it (a handler who will
/// see an identity); the session then counts as signed in with two factors.
pub async fn enrol_totp(app: &TestApp, s: &mut Staff) {
    let setup: Value = post(app, &s.token, "/api/v1/auth/totp/setup", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let secret = totp_rs::Secret::Encoded(setup["secret"].as_str().unwrap().into())
        .to_bytes()
        .unwrap();
    let res = post(
        app,
        &s.token,
        "/api/v1/auth/totp/confirm",
        &json!({ "code": totp_code(&secret) }),
    )
    .await;
    assert_eq!(res.status(), 204, "{:?}", res.text().await);
    s.totp_secret = Some(secret);
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

/// Ask to see the reporter of `case` as `asker`, have `custodian` approve, reveal: the
/// revealed record.
pub async fn reveal_approved(
    app: &TestApp,
    asker: &Staff,
    custodian: &Staff,
    case: &str,
    reason: &str,
) -> Value {
    let r = post_ok(
        app,
        asker,
        &format!("/api/v1/cases/{case}/identity-requests"),
        &json!({ "reason": reason }),
        200,
    )
    .await;
    let rid = r["id"].as_str().unwrap().to_string();
    post_ok(
        app,
        custodian,
        &format!("/api/v1/identity-requests/{rid}/decision"),
        &json!({"approve": true, "reason": "理由充分"}),
        200,
    )
    .await;
    post_ok(
        app,
        asker,
        &format!("/api/v1/identity-requests/{rid}/reveal"),
        &json!({}),
        200,
    )
    .await
}
