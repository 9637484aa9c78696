//! Issue 17, the parts that reach a reporter where they chose and staff where they are:
//! the bot asks how to be told and a reporter who chose SMS gets the notice by SMS; a
//! hotline caller who asked for SMS gets it by SMS; the group robots hear of a deadline
//! three working days ahead (once per clock, across instances) and of a new tip with the
//! region's counts. The outside parties are loopback fakes checking what they receive with
//! independent code (tests/support/sms_sink.py, robot_sink.py, wx_platform.py).

use std::time::Duration;

use chrono::NaiveDate;
use serde_json::{json, Value};

use crate::both_databases;
use crate::bots::{bot_app_with, play, tracking_code, Bot, FakePlatform, Mode, ZH_SCRIPT};
use crate::helpers::*;
use crate::pysink::PySink;
use crate::robots::content;
use crate::sms::{accept, case_of, sms_config, PHONE};
use crate::staffkit::staff;

both_databases!(backend:
    a_bot_reporter_who_chose_sms_is_told_by_sms,
    a_bot_reporter_who_chose_email_is_asked_the_address_and_told_by_email,
    a_hotline_caller_who_asked_for_sms_is_told_by_sms,
    robots_hear_of_a_deadline_three_working_days_ahead_once,
);

/// Until the outbox is empty: every job done (and removed), so nothing more can be sent.
async fn drained(app: &TestApp) {
    for _ in 0..400 {
        if app.count("jobs").await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let jobs: Vec<(String, Option<String>)> = sqlx::query_as("SELECT kind, last_error FROM jobs")
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
    panic!("the outbox never emptied: {jobs:?}");
}

/// How the notice of the case's first timeline entry went out, once it has.
async fn via_of(app: &TestApp, case: &str) -> Option<String> {
    for _ in 0..200 {
        let via: Option<Option<String>> = sqlx::query_scalar(
            "SELECT via FROM notice_deliveries WHERE report_id = $1 AND event_id IS NOT NULL",
        )
        .bind(case)
        .fetch_optional(&app.db.pool)
        .await
        .unwrap();
        if let Some(v) = via.flatten() {
            return Some(v);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

async fn notify_by(app: &TestApp, case: &str) -> Option<String> {
    sqlx::query_scalar("SELECT notify_by FROM reports WHERE id = $1")
        .bind(case)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

/// The guided report up to "anonymous or named?" (no photo), then a named reporter with
/// a mobile number, up to "how shall we tell you?": the bot's replies.
async fn named_until_notify(bot: &Bot, app: &TestApp) -> String {
    let mut script: Vec<&str> = ZH_SCRIPT[..10].to_vec();
    script.retain(|l| !l.starts_with("[img:"));
    play(
        bot,
        app,
        &[&script[..], &["实名", "张三", "跳过", PHONE, "2"]].concat(),
    )
    .await
}

/// A named WeChat reporter answers the bot's "how shall we tell you?" with "发短信给我";
/// the stored tip has `notify_by = sms`, and the acceptance reaches them as an SMS (to the
/// phone they gave, signed so that Python verifies it), not as a chat message.
async fn a_bot_reporter_who_chose_sms_is_told_by_sms(backend: Backend) {
    let Some(sink) = crate::sms::start("reach::a_bot_reporter (sms_sink.py)").await else {
        return;
    };
    let fake = FakePlatform::start().await;
    let Some(app) = bot_app_with(backend, &fake, sms_config(&sink, "tencent")).await else {
        return;
    };
    let bot = Bot::new(Mode::Safe, "oUser-sms-0017");
    let asked = named_until_notify(&bot, &app).await;
    assert!(asked.contains("有了处理结果，您想怎么知道？"), "{asked}");
    assert!(asked.contains("2. 发短信到我留的手机号"), "{asked}");
    let summary = bot.say(&app, "发短信给我").await;
    assert!(
        summary.contains("怎么告诉您结果：发短信到我留的手机号"),
        "{summary}"
    );
    let code = tracking_code(&bot.say(&app, "1").await);
    let case = case_of(&app, &code).await;
    assert_eq!(notify_by(&app, &case).await.as_deref(), Some("sms"));

    let intake = staff(&app, "intake-bot-sms", "intake", "371500").await;
    accept(&app, &intake, &case).await;
    assert_eq!(via_of(&app, &case).await.as_deref(), Some("sms"));
    let calls = sink.wait_calls(1).await;
    assert_eq!(calls[0]["verified"], true, "{}", calls[0]);
    assert_eq!(calls[0]["phones"], json!([format!("+86{PHONE}")]));
    assert_eq!(calls[0]["params"], json!(["已受理"]));
    drained(&app).await;
    assert_eq!(sink.calls().len(), 1, "one SMS");
    // Not told through the chat as well.
    let sent = fake.sent();
    assert!(
        sent.iter().all(|m| m["touser"] != "oUser-sms-0017"),
        "{sent:?}"
    );
    app.stop().await;
    fake.handle.stop(true).await;
}

/// A named caller who left a mainland mobile number (written as the call centre's system
/// shows it) and asked for SMS: `notify_by = sms`, the acceptance goes out as an SMS to
/// that number. SMS for an anonymous caller (whose number is not kept) or to a landline,
/// email (a work order carries no address) and unknown choices are refused with a §7 error
/// naming `notify_by`, storing nothing.
async fn a_hotline_caller_who_asked_for_sms_is_told_by_sms(backend: Backend) {
    use crate::hotline::{post_signed, source, work_order, SECRET};
    let Some(sink) = crate::sms::start("reach::a_hotline_caller (sms_sink.py)").await else {
        return;
    };
    if !crate::tools::need("reach::a_hotline_caller", &[crate::tools::PYTHON3]) {
        return;
    }
    let sms = sms_config(&sink, "aliyun");
    let Some(app) = spawn_app_with(backend, move |c| {
        sms(c);
        c.hotline = vec![source("12393")];
    })
    .await
    else {
        return;
    };
    let before = app.counts().await;
    for (i, (anonymous, number, choice, message)) in [
        (true, "139 1234 5678", "sms", "实名"),
        (false, "0635-8765 4321", "sms", "手机"),
        (false, "13912345678", "email", "电子邮箱"),
        (false, "13912345678", "pigeon", "告知方式"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut o = work_order(&format!("12393-bad-{i}"));
        o["caller_number"] = json!(number);
        o["notify_by"] = json!(choice);
        if anonymous {
            o["anonymous"] = json!(true);
            o["caller_name"] = Value::Null;
        }
        let res = post_signed(&app, "12393", SECRET, &o).await;
        assert_eq!(res.status(), 422, "{o}");
        let e: Value = res.json().await.unwrap();
        assert_eq!(e["error"]["field"], "notify_by", "{e}");
        let text = e["error"]["message"].as_str().unwrap();
        assert!(text.contains(message), "{e}");
        assert!(!text.contains("1391234"), "{e}");
    }
    assert_eq!(
        app.counts().await,
        before,
        "a refused work order stores nothing"
    );

    let mut o = work_order("12393-sms-0001");
    o["caller_number"] = json!("+86 139-1234-5678");
    o["notify_by"] = json!("sms");
    let res = post_signed(&app, "12393", SECRET, &o).await;
    assert_eq!(res.status(), 201);
    let receipt: Value = res.json().await.unwrap();
    let case = case_of(&app, receipt["tracking_code"].as_str().unwrap()).await;
    assert_eq!(notify_by(&app, &case).await.as_deref(), Some("sms"));

    let intake = staff(&app, "intake-hotline-sms", "intake", "371500").await;
    accept(&app, &intake, &case).await;
    assert_eq!(via_of(&app, &case).await.as_deref(), Some("sms"));
    let calls = sink.wait_calls(1).await;
    let c = &calls[0];
    assert_eq!(
        (c["provider"].as_str(), &c["verified"]),
        (Some("aliyun"), &json!(true)),
        "{c}"
    );
    assert_eq!(c["phones"], json!(["13912345678"]));
    assert_eq!(c["params"], json!(["已受理"]));
    let raw = c["raw"].as_str().unwrap();
    for leak in ["中医院", "挂床", "王测来电", "12393-sms-0001"] {
        assert!(!raw.contains(leak), "{leak} sent to the provider: {raw}");
    }
    drained(&app).await;
    assert_eq!(sink.calls().len(), 1);
    let logs = String::from_utf8_lossy(&captured_logs().lock().unwrap()).into_owned();
    assert!(!logs.contains("13912345678") && !logs.contains("139-1234-5678"));
    app.stop().await;
}

/// The last day before `due` from which `due` is the `n`th working day (by the
/// independent calendar of tests/support/workdays.py).
fn working_days_before(o: &crate::oracle::Oracle, due: NaiveDate, n: u32) -> NaiveDate {
    let mut d = due - chrono::Duration::days(1);
    while o.add_working_days(d, n) != due {
        d -= chrono::Duration::days(1);
    }
    d
}

/// The robots of `crate::robots::configure`, and staff email reminders 5 working days ahead.
fn robots_and_early_reminders(sink: &PySink) -> impl FnOnce(&mut jubao::config::Config) + '_ {
    move |c| {
        crate::robots::configure(sink)(c);
        c.workflow.remind_before_working_days = 5;
    }
}

/// Two tips: each robot covering the region hears of each once, with the region's counts
/// (tips today, waiting for acceptance) and no case content. Two instances sweep at once on
/// the day of the email reminder (5 working days ahead here): the groups hear nothing. Then
/// on the day three working days before the acceptance deadline: each robot hears once per
/// clock that it is due in 3 working days, and not again on the next day's sweep.
async fn robots_hear_of_a_deadline_three_working_days_ahead_once(backend: Backend) {
    let Some(sink) = crate::robots::start_sink("reach::robots (robot_sink.py)").await else {
        return;
    };
    let Some(first) = spawn_app_with(backend, robots_and_early_reminders(&sink)).await else {
        return;
    };
    let second = first
        .another_instance(robots_and_early_reminders(&sink))
        .await;
    let mut cases = vec![];
    for n in 1..=2 {
        let receipt = first.file_tip(&anonymous_report()).await;
        let code = receipt["tracking_code"].as_str().unwrap().to_string();
        cases.push(case_of(&first, &code).await);
        let calls = sink.wait_calls(2 * n).await;
        drained(&first).await;
        assert_eq!(sink.calls().len(), 2 * n, "once per covering robot");
        for c in &calls[2 * (n - 1)..] {
            assert_eq!(c["verified"], true, "{c}");
            let text = content(c);
            assert!(
                text.contains(&format!("本辖区今天已收到 {n} 条，待受理 {n} 条")),
                "{text}"
            );
            assert!(
                text.contains(&cases[n - 1][cases[n - 1].len() - 8..]),
                "{text}"
            );
            assert!(!text.contains(&code), "{text}");
            assert!(
                !text.contains("挂名住院") && !text.contains("人民医院"),
                "{text}"
            );
        }
    }
    let due: String =
        sqlx::query_scalar("SELECT due_on FROM clocks WHERE report_id = $1 AND kind = 'accept'")
            .bind(&cases[0])
            .fetch_one(&first.db.pool)
            .await
            .unwrap();
    let due = NaiveDate::parse_from_str(&due, "%Y-%m-%d").unwrap();
    let Some(oracle) = crate::oracle::load(
        "reach::robots (the day 3 working days before)",
        due - chrono::Duration::days(30),
        due + chrono::Duration::days(30),
    ) else {
        second.stop().await;
        first.stop().await;
        return;
    };
    // The email reminder, 5 working days ahead: the groups hear nothing of it.
    let early = working_days_before(&oracle, due, 5);
    let (a, b) = tokio::join!(
        jubao::workflow::sweep::sweep(&first.state.workflow, early, 500),
        jubao::workflow::sweep::sweep(&second.state.workflow, early, 500),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        (a.reminded + b.reminded, a.alerted + b.alerted),
        (2, 0),
        "{a:?} {b:?}"
    );
    drained(&first).await;
    assert_eq!(sink.calls().len(), 4, "{:#?}", sink.calls());

    let day = working_days_before(&oracle, due, 3);
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM clocks WHERE closed_at IS NULL AND due_on > $1 AND due_on <= $2",
    )
    .bind(day.to_string())
    .bind(due.to_string())
    .fetch_one(&first.db.pool)
    .await
    .unwrap();
    assert_eq!(open, 2, "both acceptance clocks are in the window");
    let (a, b) = tokio::join!(
        jubao::workflow::sweep::sweep(&first.state.workflow, day, 500),
        jubao::workflow::sweep::sweep(&second.state.workflow, day, 500),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.alerted + b.alerted, open as usize, "{a:?} {b:?}");
    let expected = 4 + 2 * open as usize;
    sink.wait_calls(expected).await;
    drained(&first).await;
    let calls = sink.calls();
    assert_eq!(calls.len(), expected, "{calls:#?}");
    for case in &cases {
        let short = &case[case.len() - 8..];
        let told: Vec<&Value> = calls[4..]
            .iter()
            .filter(|c| content(c).contains(short))
            .collect();
        assert_eq!(told.len(), 2, "each robot once for {short}: {told:#?}");
        for c in told {
            let text = content(c);
            assert!(text.contains("还有 3 个工作日届满"), "{text}");
            assert!(text.contains(&format!("（{due}）")), "{text}");
            assert!(!text.contains("挂名住院"), "{text}");
        }
    }
    // The next day's sweep (and its email reminders) tell the groups nothing more.
    let next = day + chrono::Duration::days(1);
    let (a, b) = tokio::join!(
        jubao::workflow::sweep::sweep(&first.state.workflow, next, 500),
        jubao::workflow::sweep::sweep(&second.state.workflow, next, 500),
    );
    assert_eq!(a.unwrap().alerted + b.unwrap().alerted, 0);
    drained(&first).await;
    assert_eq!(sink.calls().len(), expected);
    second.stop().await;
    first.stop().await;
}

/// A named WeChat reporter answers "发邮件": the bot asks the address (refusing one that is
/// not), reads it back masked, and files `notify_by = email` with it; the acceptance goes
/// to that address through the real SMTP peer on loopback, not through the chat.
async fn a_bot_reporter_who_chose_email_is_asked_the_address_and_told_by_email(backend: Backend) {
    let mail = crate::smtp_sink::SmtpSink::start();
    let fake = FakePlatform::start().await;
    let url = mail.url();
    let Some(app) = bot_app_with(backend, &fake, |c| {
        c.smtp.url = url.into();
        c.smtp.from = "医保举报系统 <noreply@jubao.test>".into();
    })
    .await
    else {
        return;
    };
    let bot = Bot::new(Mode::Safe, "oUser-mail-0017");
    let asked = named_until_notify(&bot, &app).await;
    assert!(asked.contains("4. 发电子邮件给我"), "{asked}");
    let ask = bot.say(&app, "发邮件").await;
    assert!(ask.contains("请写您的电子邮箱地址"), "{ask}");
    let again = bot.say(&app, "没有邮箱@").await;
    assert!(again.contains("邮箱地址不对"), "{again}");
    let summary = bot.say(&app, "zhang.san@example.cn").await;
    assert!(
        summary.contains("电子邮箱：z********@example.cn"),
        "{summary}"
    );
    assert!(
        summary.contains("怎么告诉您结果：发电子邮件给我"),
        "{summary}"
    );
    let code = tracking_code(&bot.say(&app, "1").await);
    let case = case_of(&app, &code).await;
    assert_eq!(notify_by(&app, &case).await.as_deref(), Some("email"));

    let intake = staff(&app, "intake-bot-mail", "intake", "371500").await;
    accept(&app, &intake, &case).await;
    assert_eq!(via_of(&app, &case).await.as_deref(), Some("email"));
    let got = mail.wait_for(1).await;
    assert_eq!(got[0]["to"], json!(["zhang.san@example.cn"]), "{}", got[0]);
    drained(&app).await;
    assert_eq!(mail.messages().len(), 1, "one e-mail");
    let sent = fake.sent();
    assert!(
        sent.iter().all(|m| m["touser"] != "oUser-mail-0017"),
        "{sent:?}"
    );
    app.stop().await;
    fake.handle.stop(true).await;
}
