use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::*;
use crate::staffkit::*;

both_databases!(
    lookup_shows_timeline_and_messages,
    wrong_code_and_wrong_passcode_look_the_same,
    failures_are_rate_limited_per_code_and_per_client,
    reporter_adds_information_with_a_file,
    staff_messages_reach_the_reporters_status_page,
);

async fn lookup_shows_timeline_and_messages(app: TestApp) {
    let r = app.file_tip(&anonymous_report()).await;
    let (code, pass) = (
        r["tracking_code"].as_str().unwrap(),
        r["passcode"].as_str().unwrap(),
    );
    // Spaces and dashes as people type them are fine.
    let spaced = format!("{} {}-{}", &code[..4], &code[4..8], &code[8..]);
    let res = app.lookup(&spaced, pass).await;
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["status"], "received");
    assert_eq!(v["timeline"][0]["status"], "received");
    assert_eq!(v["timeline"][0]["note"], "我们已收到您的举报。");
    assert!(v["reward"].is_null());
    assert_eq!(v["messages"], json!([]));
    // English on request.
    let res = app
        .client
        .post(app.url("/api/v1/reports/lookup"))
        .header("accept-language", "en")
        .json(&json!({"tracking_code": code, "passcode": pass}))
        .send()
        .await
        .unwrap();
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["timeline"][0]["note"], "We have received your report.");
    // Add a message; it shows in the timeline and the messages.
    let res = app
        .post_json(
            "/api/v1/reports/messages",
            &json!({"tracking_code": code, "passcode": pass, "body": "补充：还有一张收费单据。"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["messages"][0]["from"], "reporter");
    assert_eq!(v["messages"][0]["body"], "补充：还有一张收费单据。");
    assert_eq!(v["timeline"].as_array().unwrap().len(), 2);
    // An empty message is refused, nothing stored.
    let res = app
        .post_json(
            "/api/v1/reports/messages",
            &json!({"tracking_code": code, "passcode": pass, "body": "  "}),
        )
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(app.count("report_messages").await, 1);
    app.stop().await;
}

async fn wrong_code_and_wrong_passcode_look_the_same(app: TestApp) {
    let r = app.file_tip(&anonymous_report()).await;
    let (code, pass) = (
        r["tracking_code"].as_str().unwrap(),
        r["passcode"].as_str().unwrap(),
    );
    let wrong_pass = app.lookup(code, "1111222233334444").await;
    let other_code = jubao::domain::tracking::new_code();
    let wrong_code = app.lookup(&other_code, pass).await;
    let garbage = app.lookup("hello", "x").await;
    let (s1, s2, s3) = (wrong_pass.status(), wrong_code.status(), garbage.status());
    let (b1, b2, b3) = (
        wrong_pass.text().await.unwrap(),
        wrong_code.text().await.unwrap(),
        garbage.text().await.unwrap(),
    );
    assert_eq!((s1.as_u16(), s2.as_u16(), s3.as_u16()), (404, 404, 404));
    assert_eq!(b1, b2);
    assert_eq!(b1, b3);
    // Messages need the same proof.
    let res = app.post_json("/api/v1/reports/messages",
        &json!({"tracking_code": code, "passcode": "1111222233334444", "body": "我想补充信息。"})).await;
    assert_eq!(res.status(), 404);
    assert_eq!(app.count("report_messages").await, 0);
    app.stop().await;
}

async fn failures_are_rate_limited_per_code_and_per_client(app: TestApp) {
    let r = app.file_tip(&anonymous_report()).await;
    let (code, pass) = (
        r["tracking_code"].as_str().unwrap(),
        r["passcode"].as_str().unwrap(),
    );
    for _ in 0..5 {
        assert_eq!(app.lookup(code, "0000000000000000").await.status(), 404);
    }
    // This code is now locked, even with the right passcode.
    let res = app.lookup(code, pass).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["error"]["code"], "rate_limited");
    // Another tip is not locked by this code's failures...
    let r2 = app.file_tip(&anonymous_report()).await;
    assert_eq!(
        app.lookup(
            r2["tracking_code"].as_str().unwrap(),
            r2["passcode"].as_str().unwrap()
        )
        .await
        .status(),
        200
    );
    // ...but a client guessing across many codes is stopped (20 failures a window).
    for _ in 0..15 {
        let c = jubao::domain::tracking::new_code();
        app.lookup(&c, "0000000000000000").await;
    }
    let res = app
        .lookup(
            r2["tracking_code"].as_str().unwrap(),
            r2["passcode"].as_str().unwrap(),
        )
        .await;
    assert_eq!(res.status(), 429);
    app.stop().await;
}

async fn reporter_adds_information_with_a_file(app: TestApp) {
    let r = app.file_tip(&anonymous_report()).await;
    let msg = json!({"tracking_code": r["tracking_code"], "passcode": r["passcode"], "body": "收费单据照片"});
    let pdf = b"%PDF-1.4\n%%EOF\n".to_vec();
    let form = reqwest::multipart::Form::new()
        .part("message", reqwest::multipart::Part::text(msg.to_string()))
        .part(
            "evidence",
            reqwest::multipart::Part::bytes(pdf).file_name("单据.pdf"),
        );
    let res = app
        .client
        .post(app.url("/api/v1/reports/messages"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{:?}", res.text().await);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["messages"][0]["attachments"], 1);
    let (mid,): (Option<i64>,) = sqlx::query_as("SELECT message_id FROM evidence")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert!(mid.is_some());
    app.stop().await;
}

/// The case's handler writes to the reporter: the message is on the status page (as from
/// the bureau, no staff name), a feedback job carries it to the reporter's channel; an empty
/// message is refused and adds nothing.
async fn staff_messages_reach_the_reporters_status_page(app: TestApp) {
    let intake = staff(&app, "intake1", "intake", "371500").await;
    let handler = staff(&app, "handler1", "handler", "371502").await;
    let r = app.file_tip(&anonymous_report()).await;
    let (code, pass) = (
        r["tracking_code"].as_str().unwrap(),
        r["passcode"].as_str().unwrap(),
    );
    let case = case_id_of(&app, code).await;
    post_ok(
        &app,
        &intake,
        &format!("/api/v1/cases/{case}/transitions"),
        &json!({"to": "accepted", "reason": "受理"}),
        200,
    )
    .await;
    let path = format!("/api/v1/cases/{case}/messages");
    let e = post_ok(&app, &handler, &path, &json!({"body": " "}), 422).await;
    assert_eq!(e["error"]["field"], "body");
    assert_eq!(app.count("report_messages").await, 0);
    let jobs = app.count("jobs").await;
    let m = post_ok(
        &app,
        &handler,
        &path,
        &json!({"body": "请补充收费单据的照片。"}),
        200,
    )
    .await;
    assert!(m["message_id"].as_i64().is_some(), "{m}");
    assert_eq!(app.count("report_messages").await, 1);
    assert_eq!(app.count("jobs").await, jobs + 1, "one feedback job");
    let v: Value = app.lookup(code, pass).await.json().await.unwrap();
    assert_eq!(v["messages"][0]["from"], "staff");
    assert_eq!(v["messages"][0]["body"], "请补充收费单据的照片。");
    assert!(!v.to_string().contains("handler1"), "no staff name: {v}");
    app.stop().await;
}
