//! Per-client limits (issue 16): filing through the H5 page, failed sign-ins, and the
//! audit rows a flood of bogus bearer tokens may write.

use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::*;
use crate::staffkit::*;

both_databases!(backend: filing_is_limited_per_client_address, failed_sign_ins_are_limited_per_client_address);
both_databases!(a_flood_of_bogus_tokens_writes_a_bounded_number_of_audit_rows);

async fn file_from(
    app: &TestApp,
    client: &str,
    body: &Value,
    key: Option<&str>,
) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url("/api/v1/reports"))
        .header("x-forwarded-for", client)
        .json(body);
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    req.send().await.unwrap()
}

async fn filing_is_limited_per_client_address(backend: Backend) {
    let Some(app) = spawn_app_at(backend, "2026-09-10T10:00:00+08:00", |c| {
        c.server.trust_forwarded_for = true;
        c.intake.filings_per_client = 3;
        c.intake.filing_window_minutes = jubao::config::Minutes::new(10);
    })
    .await
    else {
        return;
    };
    let a = "203.0.113.5";
    let tip = anonymous_report();
    let res = file_from(&app, a, &tip, None).await;
    assert_eq!(res.status(), 201);
    // A refused tip is not counted: it would not have filed.
    let mut bad = tip.clone();
    bad["description"] = json!("");
    for _ in 0..5 {
        assert_eq!(file_from(&app, a, &bad, None).await.status(), 422);
    }
    assert_eq!(file_from(&app, a, &tip, None).await.status(), 201);
    let third = file_from(&app, a, &tip, Some("tap-3")).await;
    assert_eq!(third.status(), 201);
    let third: Value = third.json().await.unwrap();
    assert_eq!(app.count("reports").await, 3);

    // The fourth in the window: 429, Retry-After, the §7 body, nothing stored.
    let res = file_from(&app, a, &tip, None).await;
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "600");
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["error"]["code"], "rate_limited");
    assert_eq!(
        v["error"]["message"],
        "这个网络刚刚提交的举报比较多，这一次没有保存，请 10 分钟后再提交。"
    );
    assert!(v["error"]["field"].is_null());
    let res = app
        .client
        .post(app.url("/api/v1/reports"))
        .header("x-forwarded-for", a)
        .header("accept-language", "en")
        .json(&tip)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    let v: Value = res.json().await.unwrap();
    assert_eq!(
        v["error"]["message"],
        "Many reports have been sent from this network just now. Please try again in 10 minutes; nothing was saved this time."
    );
    assert_eq!(app.count("reports").await, 3);
    // Once refused, the address is refused before its body is read: even a broken tip
    // gets the 429, not the validation error.
    assert_eq!(file_from(&app, a, &bad, None).await.status(), 429);

    // A retry of an acknowledged tip still gets its receipt, over the limit or not.
    let res = file_from(&app, a, &tip, Some("tap-3")).await;
    assert_eq!(res.status(), 201);
    let again: Value = res.json().await.unwrap();
    assert_eq!(again["tracking_code"], third["tracking_code"]);
    assert_eq!(app.count("reports").await, 3);

    // Another address is not held back by this one.
    assert_eq!(
        file_from(&app, "203.0.113.6", &tip, None).await.status(),
        201
    );
    // The window passes: the first address may file again.
    app.clock.advance(chrono::Duration::minutes(10));
    assert_eq!(file_from(&app, a, &tip, None).await.status(), 201);
    assert_eq!(app.count("reports").await, 5);
    app.stop().await;
}

async fn login_from(
    app: &TestApp,
    client: &str,
    username: &str,
    password: &str,
) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", client)
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap()
}

async fn audit_count(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = $1 AND outcome = 'denied'")
        .bind(action)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

async fn failed_sign_ins_are_limited_per_client_address(backend: Backend) {
    let Some(app) = spawn_app_at(backend, "2026-09-10T10:00:00+08:00", |c| {
        c.server.trust_forwarded_for = true;
        c.staff.failed_logins_per_client = 4;
        c.staff.login_window_minutes = jubao::config::Minutes::new(15);
    })
    .await
    else {
        return;
    };
    add_user(&app, "handler1", "handler", "371502", None).await;
    let a = "198.51.100.20";
    // Guesses spread over names never reach one account's lock-out...
    for name in ["alice", "bob", "carol", "dave"] {
        let r = login_from(&app, a, name, "wrong-password!").await;
        assert_eq!(r.status(), 401);
    }
    // ...but the address is stopped, even with the right password.
    let r = login_from(&app, a, "handler1", PASSWORD).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "900");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "rate_limited");
    assert_eq!(
        v["error"]["message"],
        "这个网络登录失败的次数太多了，请 15 分钟后再试。"
    );
    assert!(v["error"]["field"].is_null());
    assert_eq!(audit_count(&app, "auth.login").await, 5);
    // Another address signs in; a good sign-in is not a failure.
    assert_eq!(
        login_from(&app, "198.51.100.21", "handler1", PASSWORD)
            .await
            .status(),
        200
    );
    assert_eq!(
        login_from(&app, "198.51.100.21", "handler1", PASSWORD)
            .await
            .status(),
        200
    );
    // The window passes.
    app.clock.advance(chrono::Duration::minutes(15));
    assert_eq!(
        login_from(&app, a, "handler1", PASSWORD).await.status(),
        200
    );
    app.stop().await;
}

async fn a_flood_of_bogus_tokens_writes_a_bounded_number_of_audit_rows(app: TestApp) {
    use rand::RngCore;
    let before = audit_count(&app, "auth.token").await;
    let mut rng = rand::thread_rng();
    for i in 0..200 {
        let mut b = [0u8; 24];
        rng.fill_bytes(&mut b);
        // Random garbage, and random token-shaped strings.
        let token = if i % 2 == 0 {
            hex::encode(b)
        } else {
            format!(
                "eyJhbGciOiJIUzI1NiJ9.{}.{}",
                hex::encode(&b[..12]),
                hex::encode(&b[12..])
            )
        };
        let r = get(&app, &token, "/api/v1/me").await;
        assert_eq!(r.status(), 401, "request {i}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "invalid_token", "request {i}");
        assert_eq!(
            v["error"]["message"], "登录凭证无效，请重新登录。",
            "request {i}"
        );
    }
    let written = audit_count(&app, "auth.token").await - before;
    // One a minute per address: the loop may straddle a minute boundary.
    assert!(
        (1..=2).contains(&written),
        "{written} audit rows for 200 bogus tokens"
    );
    app.stop().await;
}
