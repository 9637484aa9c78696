//! SMS to reporters who chose it (issue 17 parts 2 and 4). The providers are
//! `tests/support/sms_sink.py`: Tencent Cloud's TC3-HMAC-SHA256 and Alibaba Cloud's RPC
//! signature checked with Python's hmac by the providers' documented steps.

use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::*;
use crate::pysink::PySink;
use crate::staffkit::{post_ok, staff, Staff};

pub(crate) const KEY_ID: &str = "AKIDsmstest0001";
pub(crate) const SECRET: &str = "sms-secret-do-not-log-7c1e";
pub(crate) const PHONE: &str = "13912345678";

both_databases!(backend: an_sms_with_a_verified_signature_and_no_case_content, the_reporter_chooses_how_to_be_told);

pub(crate) async fn start(what: &str) -> Option<PySink> {
    PySink::start(
        what,
        "sms_sink.py",
        &["--key-id", KEY_ID, "--secret", SECRET],
    )
    .await
}

pub(crate) fn sms_config(sink: &PySink, provider: &str) -> impl FnOnce(&mut jubao::config::Config) {
    let base = sink.base.clone();
    let provider = provider.to_string();
    move |c| {
        c.outbox.poll_ms = jubao::config::Millis::new(20);
        c.outbox.backoff_base_secs = jubao::config::Seconds::new(0);
        c.sms = toml::from_str(&format!(
            "provider = \"{provider}\"\nendpoint = \"{base}\"\nkey_id = \"{KEY_ID}\"\n\
             secret = \"{SECRET}\"\nsign_name = \"某某市医保局\"\napp_id = \"1400000001\"\n\
             template_id_status = \"TPL-STATUS-9\"\n"
        ))
        .unwrap();
    }
}

fn sms_report(phone: &str, notify_by: &str) -> Value {
    let mut r = named_report("王某某", &resident_id("37150219800101123"), phone);
    r["reporter"]["notify_by"] = json!(notify_by);
    r
}

pub(crate) async fn accept(app: &TestApp, intake: &Staff, case: &str) {
    post_ok(
        app,
        intake,
        &format!("/api/v1/cases/{case}/transitions"),
        &json!({"to": "accepted", "reason": "线索具体，予以受理"}),
        200,
    )
    .await;
}

pub(crate) async fn case_of(app: &TestApp, code: &str) -> String {
    sqlx::query_scalar("SELECT id FROM reports WHERE tracking_code = $1")
        .bind(code)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

/// For each provider: the reporter chose SMS; the acceptance goes out as the status
/// template with the status word, signed so that Python's hmac verifies it, to the phone
/// opened from the vault; the text has nothing of the case, and the phone and the secret
/// are in no log, job or delivery row.
async fn an_sms_with_a_verified_signature_and_no_case_content(backend: Backend) {
    for provider in ["tencent", "aliyun"] {
        let Some(sink) = start("sms::an_sms_with_a_verified_signature (sms_sink.py)").await else {
            return;
        };
        let Some(app) = spawn_app_with(backend, sms_config(&sink, provider)).await else {
            return;
        };
        let intake = staff(&app, "intake-sms", "intake", "371500").await;
        let receipt = app.file_tip(&sms_report(PHONE, "sms")).await;
        let code = receipt["tracking_code"].as_str().unwrap().to_string();
        let case = case_of(&app, &code).await;
        accept(&app, &intake, &case).await;
        let calls = sink.wait_calls(1).await;
        let c = &calls[0];
        assert_eq!(c["provider"], provider, "{c}");
        assert_eq!(c["verified"], true, "{c}");
        let to = if provider == "tencent" {
            format!("+86{PHONE}")
        } else {
            PHONE.to_string()
        };
        assert_eq!(c["phones"], json!([to]));
        assert_eq!(c["template"], "TPL-STATUS-9");
        assert_eq!(c["params"], json!(["已受理"]));
        assert_eq!(c["sign_name"], "某某市医保局");
        let raw = c["raw"].as_str().unwrap();
        for leak in [code.as_str(), "挂名住院", "人民医院", "王某某", "线索具体"] {
            assert!(!raw.contains(leak), "{leak} sent to the provider: {raw}");
        }
        // Delivered and recorded as SMS.
        let mut via: Option<String> = None;
        for _ in 0..100 {
            via = sqlx::query_scalar(
                "SELECT via FROM notice_deliveries WHERE report_id = $1 AND event_id IS NOT NULL",
            )
            .bind(&case)
            .fetch_optional(&app.db.pool)
            .await
            .unwrap()
            .flatten();
            if via.is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(via.as_deref(), Some("sms"));
        let jobs: Vec<(String, String)> = sqlx::query_as("SELECT kind, payload FROM jobs")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
        let logs = String::from_utf8_lossy(&captured_logs().lock().unwrap()).into_owned();
        for (where_, text) in [("logs", logs), ("jobs", format!("{jobs:?}"))] {
            assert!(!text.contains(PHONE), "the phone is in the {where_}");
            assert!(!text.contains(SECRET), "the secret is in the {where_}");
        }
        app.stop().await;
    }
}

/// `reporter.notify_by`: `page` sends nothing (the status page shows it); SMS without a
/// phone and an unknown choice are refused with a §7 error naming the field, storing
/// nothing; a provider refusing the number dead-letters the notice with a fixed code.
async fn the_reporter_chooses_how_to_be_told(backend: Backend) {
    let Some(sink) = start("sms::the_reporter_chooses (sms_sink.py)").await else {
        return;
    };
    let Some(app) = spawn_app_with(backend, sms_config(&sink, "aliyun")).await else {
        return;
    };
    let before = app.counts().await;
    let mut no_phone = sms_report(PHONE, "sms");
    no_phone["reporter"]
        .as_object_mut()
        .unwrap()
        .remove("phone");
    for (body, field) in [
        (no_phone, "reporter.notify_by"),
        (sms_report(PHONE, "pigeon"), "reporter.notify_by"),
    ] {
        let res = app.post_report(&body).await;
        assert_eq!(res.status(), 422);
        let e: Value = res.json().await.unwrap();
        assert_eq!(e["error"]["field"], field, "{e}");
        assert!(e["error"]["message"].as_str().unwrap().len() > 4, "{e}");
    }
    assert_eq!(
        app.counts().await,
        before,
        "a refused report stores nothing"
    );

    // Only the status page: nothing is sent, the delivery says so, the lookup shows it.
    let intake = staff(&app, "intake-sms", "intake", "371500").await;
    let receipt = app.file_tip(&sms_report(PHONE, "page")).await;
    let code = receipt["tracking_code"].as_str().unwrap().to_string();
    let case = case_of(&app, &code).await;
    accept(&app, &intake, &case).await;
    let mut via: Option<String> = None;
    for _ in 0..100 {
        via = sqlx::query_scalar("SELECT via FROM notice_deliveries WHERE report_id = $1")
            .bind(&case)
            .fetch_optional(&app.db.pool)
            .await
            .unwrap()
            .flatten();
        if via.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(via.as_deref(), Some("page"));
    let looked: Value = app
        .lookup(&code, receipt["passcode"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(looked["status"], "accepted", "{looked}");
    assert!(sink.calls().is_empty(), "{:?}", sink.calls());

    // A number the provider refuses: a permanent failure with a fixed code, no number.
    let receipt = app.file_tip(&sms_report("13900000000", "sms")).await;
    let case = case_of(&app, receipt["tracking_code"].as_str().unwrap()).await;
    accept(&app, &intake, &case).await;
    let mut dead = vec![];
    for _ in 0..200 {
        dead = jubao::notify::dead_letters(&app.db, 10).await.unwrap();
        if !dead.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].last_error.as_deref(), Some("sms_rejected"));
    assert!(!serde_json::to_string(&dead)
        .unwrap()
        .contains("13900000000"));
    app.stop().await;
}
