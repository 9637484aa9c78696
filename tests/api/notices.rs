//! Notices to WeChat reporters beyond the 48-hour customer-service window (issue 17 part
//! 1): the 45015 → template message path, the notice that waits for the user's next
//! message, and a wrong template id on the dead-letter list with the account named. The
//! platform is the loopback fake of `bots.rs`; pushes are built by wx_platform.py.

use serde_json::Value;

use crate::both_databases;
use crate::bots::*;
use crate::helpers::*;

both_databases!(
    outside_the_window_a_template_message_carries_no_case_content,
    a_notice_nobody_can_carry_waits_for_the_next_message,
    a_wrong_template_id_is_dead_lettered_with_the_account,
);

/// File a report through the `safe` account as `openid`; its case id and tracking code.
async fn file_by_bot(app: &TestApp, openid: &str) -> (Bot, String, String) {
    let bot = Bot::new(Mode::Safe, openid);
    let mut script: Vec<&str> = ZH_SCRIPT.to_vec();
    script.retain(|l| !l.starts_with("[img:"));
    play(&bot, app, &script).await;
    let code = tracking_code(&bot.say(app, "1").await);
    let id: String = sqlx::query_scalar("SELECT id FROM reports WHERE tracking_code = $1")
        .bind(&code)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    (bot, id, code)
}

async fn delivery(
    app: &TestApp,
    report_id: &str,
) -> Option<(String, Option<String>, Option<String>)> {
    sqlx::query_as(
        "SELECT state, via, reason FROM notice_deliveries WHERE report_id = $1 AND event_id IS NOT NULL \
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(report_id)
    .fetch_optional(&app.db.pool)
    .await
    .unwrap()
}

async fn wait_delivery(app: &TestApp, report_id: &str) -> (String, Option<String>, Option<String>) {
    for _ in 0..300 {
        if let Some(d) = delivery(app, report_id).await {
            return d;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no delivery recorded");
}

/// 45015 from the customer-service API: the account's status template goes out instead,
/// with a status word, a date and the status page's link, and nothing of the case (no
/// tracking code, no description, no target).
async fn outside_the_window_a_template_message_carries_no_case_content(app: TestApp) {
    let fake = FakePlatform::start().await;
    let backend = app.backend;
    app.stop().await;
    let Some(app) = bot_app_with(backend, &fake, |c| {
        c.server.public_url = "https://jubao.example.gov.cn".into();
        c.wechat[1].template_id_status = Some("TPL-status-1".into());
    })
    .await
    else {
        return;
    };
    let openid = "oGone-quiet-for-days-0815";
    let (_bot, case, code) = file_by_bot(&app, openid).await;
    fake.calls.lock().unwrap().gone = true;
    accept_case(&app, &case).await;
    let d = wait_delivery(&app, &case).await;
    assert_eq!(d, ("sent".into(), Some("wechat_template".into()), None));
    let templates = fake.calls.lock().unwrap().templates.clone();
    assert_eq!(templates.len(), 1, "{templates:#?}");
    let t = &templates[0];
    assert_eq!(t["path"], "/cgi-bin/message/template/send");
    assert_eq!(t["touser"], openid);
    assert_eq!(t["template_id"], "TPL-status-1");
    assert_eq!(t["url"], "https://jubao.example.gov.cn/h5/#status");
    assert_eq!(t["data"]["keyword1"]["value"], "已受理");
    let today = jubao::deadlines::calendar::shanghai_date(chrono::Utc::now()).to_string();
    assert_eq!(t["data"]["keyword2"]["value"], today.as_str());
    let text = t.to_string();
    for leak in [code.as_str(), "卫生院", "住院", "受理，予以", "线索具体"] {
        assert!(!text.contains(leak), "{leak} in {text}");
    }
    assert_eq!(fake.calls.lock().unwrap().refused, 1);
    assert!(jubao::notify::dead_letters(&app.db, 10)
        .await
        .unwrap()
        .is_empty());
    app.stop().await;
    fake.handle.stop(true).await;
}

/// Issue 15 item 9, now with the notice kept: a user who unfollowed is refused (45015, an
/// `errmsg` naming the openid) and the account has no template: the notice waits, nothing
/// is dead-lettered, and the openid is in no log, job or delivery row. When the user
/// writes again the reply gives it, once.
async fn a_notice_nobody_can_carry_waits_for_the_next_message(app: TestApp) {
    let fake = FakePlatform::start().await;
    let backend = app.backend;
    app.stop().await;
    let Some(app) = bot_app(backend, &fake).await else {
        return;
    };
    let openid = "oGone-unfollowed-4711";
    let (bot, case, code) = file_by_bot(&app, openid).await;
    let replies = fake.sent().len();
    fake.calls.lock().unwrap().gone = true;
    accept_case(&app, &case).await;
    let d = wait_delivery(&app, &case).await;
    assert_eq!(
        d,
        (
            "waiting".into(),
            None,
            Some("outside_48h_no_template".into())
        )
    );
    assert_eq!(fake.calls.lock().unwrap().refused, 1);
    assert_eq!(fake.sent().len(), replies);
    assert!(jubao::notify::dead_letters(&app.db, 10)
        .await
        .unwrap()
        .is_empty());
    let jobs: Vec<(String, String, String, Option<String>)> =
        sqlx::query_as("SELECT kind, state, payload, last_error FROM jobs")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    let rows: Vec<(String, String, Option<Vec<u8>>)> =
        sqlx::query_as("SELECT notice_key, state, user_digest FROM notice_deliveries")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    let logs = String::from_utf8_lossy(&captured_logs().lock().unwrap()).into_owned();
    for (where_, text) in [
        ("logs", logs),
        ("jobs", format!("{jobs:?}")),
        ("deliveries", format!("{rows:?}")),
    ] {
        assert!(
            !text.contains("unfollowed-4711"),
            "the openid is in the {where_}"
        );
        assert!(
            !text.contains("6650a1b2"),
            "the platform's errmsg is in the {where_}"
        );
    }
    // Waiting longer than the feedback deadline (5 working days): on the console's list.
    let supervisor = crate::staffkit::staff(&app, "sup-wait", "supervisor", "371500").await;
    let path = "/api/v1/notices/waiting";
    let listed: Value = crate::staffkit::get(&app, &supervisor.token, path)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed, serde_json::json!([]), "not yet past the deadline");
    let ten_days_ago = chrono::Utc::now() - chrono::Duration::days(14);
    sqlx::query("UPDATE notice_deliveries SET created_at = $1 WHERE report_id = $2")
        .bind(jubao::store::ts(ten_days_ago))
        .bind(&case)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let listed: Value = crate::staffkit::get(&app, &supervisor.token, path)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["case_id"], case.as_str(), "{listed}");
    assert_eq!(listed[0]["reason"], "outside_48h_no_template");
    assert!(listed[0]["working_days"].as_i64().unwrap() > 5, "{listed}");
    let detail: Value =
        crate::staffkit::get(&app, &supervisor.token, &format!("/api/v1/cases/{case}"))
            .await
            .json()
            .await
            .unwrap();
    let notices = detail["notices"].as_array().unwrap();
    assert!(
        notices
            .iter()
            .any(|n| n["state"] == "waiting" && n["reason"] == "outside_48h_no_template"),
        "{notices:?}"
    );
    assert!(!detail.to_string().contains("unfollowed-4711"));

    // The user writes again: the reply gives the notice before its own answer.
    let reply = bot.say(&app, "帮助").await;
    assert!(reply.contains(&code), "{reply}");
    assert!(reply.contains("已受理"), "{reply}");
    let d = delivery(&app, &case).await.unwrap();
    assert_eq!(d, ("sent".into(), Some("wechat_reply".into()), None));
    let digest: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT user_digest FROM notice_deliveries WHERE report_id = $1")
            .bind(&case)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert!(digest.is_none(), "the user's digest is cleared once given");
    // Once.
    let again = bot.say(&app, "帮助").await;
    assert!(!again.contains(&code), "{again}");
    app.stop().await;
    fake.handle.stop(true).await;
}

/// A template id the platform does not know (40037): dead-lettered at once with the code
/// and the account named, so an admin can fix the configuration and retry it.
async fn a_wrong_template_id_is_dead_lettered_with_the_account(app: TestApp) {
    let fake = FakePlatform::start().await;
    let backend = app.backend;
    app.stop().await;
    let Some(app) = bot_app_with(backend, &fake, |c| {
        c.wechat[1].template_id_status = Some("TPL-bad".into());
    })
    .await
    else {
        return;
    };
    let (_bot, case, _code) = file_by_bot(&app, "oGone-wrong-template-0099").await;
    fake.calls.lock().unwrap().gone = true;
    accept_case(&app, &case).await;
    wait_for("the dead letter", || {
        let db = app.db.clone();
        async move {
            !jubao::notify::dead_letters(&db, 10)
                .await
                .unwrap()
                .is_empty()
        }
    })
    .await;
    let dead = jubao::notify::dead_letters(&app.db, 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].kind, "reporter_feedback");
    assert_eq!(dead[0].last_error.as_deref(), Some("platform_40037"));
    assert_eq!(dead[0].target.as_deref(), Some("wechat safe"));
    let shown: Value = serde_json::to_value(&dead).unwrap();
    assert!(
        !shown.to_string().contains("wrong-template-0099"),
        "{shown}"
    );
    app.stop().await;
    fake.handle.stop(true).await;
}
