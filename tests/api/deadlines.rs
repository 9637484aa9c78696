//! Deadlines and the outbox: reminders, due-day notices and escalation by email to a real
//! SMTP server on loopback; the overdue board; each reminder sent once with two instances;
//! dead letters retried by an admin; feedback email to a reporter who left an address.

use chrono::NaiveDate;
use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::*;
use crate::staffkit::*;

fn fast_outbox(c: &mut jubao::config::Config, smtp: &str) {
    c.smtp.url = smtp.into();
    c.smtp.from = "医保举报系统 <noreply@jubao.test>".into();
    c.outbox.poll_ms = jubao::config::Millis::new(20);
    c.outbox.backoff_base_secs = jubao::config::Seconds::new(0);
    c.outbox.sweep_secs = jubao::config::Seconds::new(3600);
}

async fn clock(app: &TestApp, case: &str, kind: &str) -> (NaiveDate, NaiveDate) {
    let (due, remind): (String, String) =
        sqlx::query_as("SELECT due_on, remind_on FROM clocks WHERE report_id = $1 AND kind = $2")
            .bind(case)
            .bind(kind)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    (due.parse().unwrap(), remind.parse().unwrap())
}

async fn sweep(app: &TestApp, today: NaiveDate) -> jubao::workflow::sweep::SweepStats {
    jubao::workflow::sweep::sweep(&app.state.workflow, today, 500)
        .await
        .unwrap()
}

/// The app's clock starts on Thursday 10 September 2026 in Beijing, when the tip is filed
/// and accepted; the dates below are worked by hand from the State Council's 2026 notice.
async fn reminders_escalation_and_overdue_board(sqlite: Backend) {
    let sink = SmtpSink::start();
    let Some(app) = spawn_app_at(sqlite, "2026-09-10T10:00:00+08:00", |c| {
        fast_outbox(c, &sink.url())
    })
    .await
    else {
        return;
    };
    let intake = staff_with_email(
        &app,
        "intake1",
        "intake",
        "371500",
        Some("intake1@jubao.test"),
    )
    .await;
    let h = staff_with_email(
        &app,
        "handler1",
        "handler",
        "371502",
        Some("handler1@jubao.test"),
    )
    .await;
    let _sup = staff_with_email(
        &app,
        "sup1",
        "supervisor",
        "371500",
        Some("sup1@jubao.test"),
    )
    .await;
    let case = file_case(
        &app,
        &named_report("李四", &resident_id("37150219800101123"), "13900139000"),
    )
    .await;
    post_ok(
        &app,
        &intake,
        &format!("/api/v1/cases/{case}/transitions"),
        &json!({"to": "accepted", "reason": "受理"}),
        200,
    )
    .await;

    // The reporter left an email address: the acceptance reaches them through the vault.
    let mails = sink.wait_for(1).await;
    assert_eq!(mails[0]["to"], json!(["reporter@example.com"]));
    assert!(mails[0]["subject"].as_str().unwrap().contains("有新进展"));
    assert!(mails[0]["text"].as_str().unwrap().contains("已受理"));
    assert!(!mails[0]["text"].as_str().unwrap().contains("handler1"));
    // Once the server has the mail server's answer, the delivery meets the "tell the
    // reporter" clock, so the sweeps below do not escalate it. (The sink holds the message a
    // moment before the server hears back.)
    let mut notify: Option<String> = None;
    for _ in 0..200 {
        notify = sqlx::query_scalar(
            "SELECT outcome FROM clocks WHERE report_id = $1 AND kind = 'notify_accept' \
             AND closed_at IS NOT NULL",
        )
        .bind(&case)
        .fetch_optional(&app.db.pool)
        .await
        .unwrap();
        if notify.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(notify.as_deref(), Some("met"), "notify_accept closed");

    // Thirty working days from Thursday 10 September: 11–30 September gives 14 (Sunday the
    // 20th is a make-up working day, Friday the 25th the Mid-Autumn holiday), 1–7 October is
    // the National Day holiday, 8–9 October (15–16), Saturday the 10th a make-up day (17),
    // 12–28 October (18–30): due Wednesday 28 October; the reminder three working days
    // before, on Friday the 23rd; escalation the next working day, Thursday the 29th.
    let (due, remind) = clock(&app, &case, "handle").await;
    assert_eq!(due.to_string(), "2026-10-28");
    assert_eq!(remind.to_string(), "2026-10-23");
    let d = |s: &str| -> NaiveDate { s.parse().unwrap() };
    // Before the reminder date: nothing. On it: one reminder, to the assignee, once.
    assert_eq!(sweep(&app, d("2026-10-22")).await.reminded, 0);
    assert_eq!(sweep(&app, remind).await.reminded, 1);
    assert_eq!(sweep(&app, remind).await.reminded, 0);
    let mails = sink.wait_for(2).await;
    let reminder = &mails[1];
    assert_eq!(reminder["to"], json!(["handler1@jubao.test"]));
    let subject = reminder["subject"].as_str().unwrap();
    assert!(
        subject.contains("【提醒】") && subject.contains(&due.to_string()),
        "{subject}"
    );
    assert!(reminder["text"].as_str().unwrap().contains("handler1 同志"));
    let html = reminder["html"].as_str().unwrap();
    assert!(html.contains("<p>") && html.contains(&format!("/console/#/cases/{case}")));
    // The due day, then escalation to the supervisor the next working day.
    assert_eq!(sweep(&app, due).await.due, 1);
    assert_eq!(sweep(&app, d("2026-10-29")).await.escalated, 1);
    let mails = sink.wait_for(5).await;
    let overdue: Vec<&Value> = mails
        .iter()
        .filter(|m| m["subject"].as_str().unwrap().contains("【督办】"))
        .collect();
    let mut to: Vec<String> = overdue
        .iter()
        .map(|m| m["to"][0].as_str().unwrap().to_string())
        .collect();
    to.sort();
    assert_eq!(to, ["handler1@jubao.test", "sup1@jubao.test"]);
    let escalations: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM case_events WHERE report_id = $1 AND kind = 'escalation'",
    )
    .bind(&case)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(escalations, 1);

    // The overdue board (today by the app's clock): make two clocks late by different amounts.
    let other = file_case(&app, &anonymous_report()).await;
    sqlx::query("UPDATE clocks SET due_on = '2026-03-02' WHERE report_id = $1 AND kind = 'handle'")
        .bind(&case)
        .execute(&app.db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE clocks SET due_on = '2026-01-05' WHERE report_id = $1 AND kind = 'accept'")
        .bind(&other)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let sup_token = login_raw(&app, "sup1", PASSWORD, None)
        .await
        .json::<Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let board: Value = get(&app, &sup_token, "/api/v1/cases/overdue")
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = board
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["case_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [other.as_str(), case.as_str()], "latest first");
    // Working days after the due day up to "today", 10 September 2026, counted with an
    // independent calendar (the chinesecalendar package): 170 since 5 January, 134 since
    // 2 March.
    assert_eq!(board[0]["working_days_late"], 170, "{board}");
    assert_eq!(board[1]["working_days_late"], 134, "{board}");
    // Handlers do not get the board.
    assert_eq!(
        get(&app, &h.token, "/api/v1/cases/overdue").await.status(),
        403
    );
    app.stop().await;
}

async fn two_instances_send_each_reminder_once(backend: Backend) {
    let sink = SmtpSink::start();
    let Some(app) = spawn_app_with(backend, |c| fast_outbox(c, &sink.url())).await else {
        return;
    };
    let second = app.another_instance(|_| {}).await;
    let intake = staff_with_email(
        &app,
        "intake1",
        "intake",
        "371500",
        Some("intake1@jubao.test"),
    )
    .await;
    for i in 0..5 {
        let _ = i;
        file_case(&app, &anonymous_report()).await;
    }
    let _ = intake;
    let any: String = sqlx::query_scalar("SELECT id FROM reports LIMIT 1")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let (_, remind) = clock(&app, &any, "accept").await;
    // Both instances sweep at the same moment, and both outbox workers deliver.
    let (a, b) = tokio::join!(sweep(&app, remind), sweep(&second, remind));
    assert_eq!(a.reminded + b.reminded, 5, "{a:?} {b:?}");
    let mails = sink.wait_for(5).await;
    assert!(mails
        .iter()
        .all(|m| m["to"] == json!(["intake1@jubao.test"])));
    // No timed wait: once every job is done (a job row is deleted only after its delivery)
    // and both instances have stopped, nothing can send again; then the count is final.
    for _ in 0..200 {
        if app.count("jobs").await == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(app.count("jobs").await, 0);
    second.stop().await;
    app.stop().await;
    assert_eq!(sink.messages().len(), 5, "each reminder exactly once");
}

async fn dead_letters_are_kept_and_retried(backend: Backend) {
    // An SMTP port nobody listens on yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let Some(app) = spawn_app_with(backend, |c| {
        fast_outbox(c, &format!("smtp://127.0.0.1:{port}"));
        c.outbox.max_attempts = 2;
    })
    .await
    else {
        return;
    };
    let admin = staff(&app, "admin1", "admin", "000000").await;
    let intake = staff(&app, "intake1", "intake", "371500").await;
    let case = file_case(
        &app,
        &named_report("李四", &resident_id("37150219800101123"), "13900139000"),
    )
    .await;
    post_ok(
        &app,
        &intake,
        &format!("/api/v1/cases/{case}/transitions"),
        &json!({"to": "accepted", "reason": "受理"}),
        200,
    )
    .await;
    let mut dead = Value::Null;
    for _ in 0..200 {
        dead = get(&app, &admin.token, "/api/v1/admin/dead-letters")
            .await
            .json()
            .await
            .unwrap();
        if !dead.as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let job = &dead[0];
    assert_eq!(job["kind"], "reporter_feedback");
    assert_eq!(job["attempts"], 2);
    assert!(
        !dead.to_string().contains("reporter@example.com"),
        "no identity in the dead-letter list"
    );
    // Only an admin sees or retries them.
    assert_eq!(
        get(&app, &intake.token, "/api/v1/admin/dead-letters")
            .await
            .status(),
        403
    );
    // The mail server comes up; the admin retries; the reporter gets the message.
    let sink = SmtpSink::start_on(Some(port));
    let id = job["id"].as_i64().unwrap();
    assert_eq!(
        post(
            &app,
            &admin.token,
            &format!("/api/v1/admin/dead-letters/{id}/retry"),
            &json!({})
        )
        .await
        .status(),
        204
    );
    let mails = sink.wait_for(1).await;
    assert_eq!(mails[0]["to"], json!(["reporter@example.com"]));
    assert_eq!(
        post(
            &app,
            &admin.token,
            &format!("/api/v1/admin/dead-letters/{id}/retry"),
            &json!({})
        )
        .await
        .status(),
        404
    );
    app.stop().await;
}

async fn reminders(app: TestApp) {
    let backend = app.backend;
    app.stop().await;
    reminders_escalation_and_overdue_board(backend).await;
}

async fn two_instances(app: TestApp) {
    let backend = app.backend;
    app.stop().await;
    two_instances_send_each_reminder_once(backend).await;
}

async fn dead_letters(app: TestApp) {
    let backend = app.backend;
    app.stop().await;
    dead_letters_are_kept_and_retried(backend).await;
}

both_databases!(reminders, two_instances, dead_letters);
