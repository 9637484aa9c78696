//! Per-client limits (issue 16): filing through the H5 page, failed sign-ins, and the
//! audit rows a flood of bogus bearer tokens may write.

use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::*;

both_databases!(backend: filing_is_limited_per_client_address);

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
