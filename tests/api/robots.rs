//! Staff alerts in WeCom and DingTalk groups (`[[robots]]`, issue 17 part 3). The robots are
//! `tests/support/robot_sink.py`, an independent implementation that checks DingTalk's
//! signature by DingTalk's documented steps with Python's hmac and records every call.

use std::time::Duration;

use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::*;
use crate::pysink::PySink;

const DING_SECRET: &str = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab";
const WECOM_KEY: &str = "wecom-key-7f3a";
const DING_TOKEN: &str = "ding-token-91c2";

/// The robots on loopback.
pub(crate) async fn start_sink(what: &str) -> Option<PySink> {
    PySink::start(
        what,
        "robot_sink.py",
        &["--dingtalk-secret", DING_SECRET, "--wecom-key", WECOM_KEY],
    )
    .await
}

fn robot(toml_text: &str) -> jubao::config::RobotConfig {
    toml::from_str(toml_text).unwrap()
}

/// Three robots: a WeCom robot for the city 371500, a signing DingTalk robot for the whole
/// country, and a WeCom robot for another province that must hear nothing.
pub(crate) fn configure(sink: &PySink) -> impl FnOnce(&mut jubao::config::Config) + '_ {
    move |c| {
        let b = &sink.base;
        c.outbox.poll_ms = jubao::config::Millis::new(20);
        c.outbox.backoff_base_secs = jubao::config::Seconds::new(0);
        c.outbox.sweep_secs = jubao::config::Seconds::new(3600);
        c.robots = vec![
            robot(&format!(
                "kind = \"wecom\"\nregion = \"371500\"\n\
                 url = \"{b}/cgi-bin/webhook/send?key={WECOM_KEY}\""
            )),
            robot(&format!(
                "kind = \"dingtalk\"\nname = \"ops-ding\"\n\
                 url = \"{b}/robot/send?access_token={DING_TOKEN}\"\nsecret = \"{DING_SECRET}\""
            )),
            robot(&format!(
                "kind = \"wecom\"\nregion = \"440000\"\n\
                 url = \"{b}/cgi-bin/webhook/send?key={WECOM_KEY}\""
            )),
        ];
    }
}

both_databases!(backend: one_alert_per_robot_across_two_instances, revoked_and_flaky_robots);

pub(crate) fn content(call: &Value) -> String {
    call["body"]["text"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// A new tip, then an overdue escalation swept by two instances at once: each robot whose
/// region covers the case is told once about each, the DingTalk calls carry a `sign` that
/// Python's hmac verifies, and no alert carries case content or the tracking code.
async fn one_alert_per_robot_across_two_instances(backend: Backend) {
    let Some(sink) = start_sink("robots::one_alert_per_robot (robot_sink.py)").await else {
        return;
    };
    let Some(first) = spawn_app_with(backend, configure(&sink)).await else {
        return;
    };
    let second = first.another_instance(configure(&sink)).await;
    let receipt = first.file_tip(&anonymous_report()).await;
    let code = receipt["tracking_code"].as_str().unwrap().to_string();
    let (case, accept_by): (String, String) =
        sqlx::query_as("SELECT id, accept_by FROM reports WHERE tracking_code = $1")
            .bind(&code)
            .fetch_one(&first.db.pool)
            .await
            .unwrap();
    let calls = sink.wait_calls(2).await;
    // Both instances' workers have had time to claim anything left.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let calls_now = sink.calls();
    assert_eq!(calls_now.len(), 2, "{calls_now:#?}");
    let short = &case[case.len() - 8..];
    for c in &calls {
        assert_eq!(c["errcode"], 0, "{c}");
        assert_eq!(c["verified"], true, "{c}");
        let text = content(c);
        assert!(text.contains(short), "{text}");
        assert!(text.contains("371502"), "{text}");
        assert!(text.contains(&format!("/console/#/cases/{case}")), "{text}");
        assert!(!text.contains(&code), "tracking code in {text}");
        assert!(
            !text.contains("挂名住院") && !text.contains("人民医院"),
            "{text}"
        );
    }
    let kinds: Vec<&str> = calls.iter().map(|c| c["robot"].as_str().unwrap()).collect();
    assert!(
        kinds.contains(&"wecom") && kinds.contains(&"dingtalk"),
        "{kinds:?}"
    );

    // Ten days after the acceptance deadline both instances sweep at once.
    let late = chrono::NaiveDate::parse_from_str(&accept_by, "%Y-%m-%d").unwrap()
        + chrono::Duration::days(10);
    let (a, b) = tokio::join!(
        jubao::workflow::sweep::sweep(&first.state.workflow, late, 500),
        jubao::workflow::sweep::sweep(&second.state.workflow, late, 500),
    );
    assert_eq!(a.unwrap().escalated + b.unwrap().escalated, 1);
    let calls = sink.wait_calls(4).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(sink.calls().len(), 4, "{:#?}", sink.calls());
    for c in &calls[2..] {
        assert_eq!(c["verified"], true, "{c}");
        let text = content(c);
        assert!(text.contains("督办") && text.contains(short), "{text}");
    }
    assert_eq!(first.count("jobs").await, 0, "every alert done and removed");
    // The robots' keys and the signing secret are in no log line.
    let logs = String::from_utf8_lossy(&captured_logs().lock().unwrap()).into_owned();
    for secret in [WECOM_KEY, DING_TOKEN, DING_SECRET] {
        assert!(!logs.contains(secret), "{secret} logged");
    }
    second.stop().await;
    first.stop().await;
}

/// A robot whose key was revoked is dead-lettered at once with the platform's code and the
/// robot named; one that answers 503 is retried and told once.
async fn revoked_and_flaky_robots(backend: Backend) {
    let Some(sink) = start_sink("robots::revoked_and_flaky (robot_sink.py)").await else {
        return;
    };
    let b = sink.base.clone();
    let Some(app) = spawn_app_with(backend, |c| {
        c.outbox.poll_ms = jubao::config::Millis::new(20);
        c.outbox.backoff_base_secs = jubao::config::Seconds::new(0);
        c.robots = vec![
            robot(&format!(
                "kind = \"wecom\"\nname = \"revoked\"\n\
                 url = \"{b}/cgi-bin/webhook/send?key=revoked-key-0042\""
            )),
            robot(&format!(
                "kind = \"dingtalk\"\nname = \"flaky\"\n\
                 url = \"{b}/flaky/robot/send?access_token={DING_TOKEN}\"\nsecret = \"{DING_SECRET}\""
            )),
        ];
    })
    .await
    else {
        return;
    };
    app.file_tip(&anonymous_report()).await;
    let calls = sink.wait_calls(3).await;
    let mut dead = vec![];
    for _ in 0..200 {
        dead = jubao::notify::dead_letters(&app.db, 10).await.unwrap();
        if !dead.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].kind, "robot_post");
    assert_eq!(dead[0].target.as_deref(), Some("robot revoked"));
    assert_eq!(dead[0].last_error.as_deref(), Some("robot_93000"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let calls_now = sink.calls();
    assert_eq!(calls_now.len(), 3, "{calls_now:#?}");
    let statuses: Vec<(String, i64)> = calls
        .iter()
        .map(|c| {
            (
                c["robot"].as_str().unwrap().to_string(),
                c["status"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(statuses.contains(&("flaky".into(), 503)), "{statuses:?}");
    let told: Vec<&Value> = calls
        .iter()
        .filter(|c| c["robot"] == "dingtalk" && c["errcode"] == 0)
        .collect();
    assert_eq!(told.len(), 1, "{calls:#?}");
    // The admin's dead-letter list names the robot, never its key.
    let admin = crate::staffkit::staff(&app, "admin1", "admin", "000000").await;
    let res = crate::staffkit::get(&app, &admin.token, "/api/v1/admin/dead-letters").await;
    assert_eq!(res.status(), 200);
    let list: Value = res.json().await.unwrap();
    assert_eq!(list[0]["target"], json!("robot revoked"));
    let text = list.to_string();
    assert!(
        !text.contains("revoked-key-0042") && !text.contains(DING_TOKEN),
        "{text}"
    );
    app.stop().await;
}
