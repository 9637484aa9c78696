//! Reporter protection at the reward and around the case (issue 15 items 7 and 8, and the
//! scoping left-overs): a reward is paid by transfer only to whoever knows the verifier the
//! reporter set with the tip, else in person after two finance officers checked the
//! identity; the reporter can replace a passcode that staff or a call centre saw; finance
//! sees a bank account masked, at the payment step only, and every look is audited;
//! recusal follows the institution however its name is written and by its code; the
//! dashboard leaves out recused cases; a staff email waiting in the outbox holds no
//! address. Expected values are written by hand; secrets are searched for literally.

use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::*;
use crate::staffkit::*;

// Thursday 10 September 2026 in Beijing (budget year 2026 whatever day the suite runs).
both_databases!(
    at "2026-09-10T10:00:00+08:00":
    transfer_claim_needs_the_verifier,
    in_person_claim_needs_two_finance_officers,
);

both_databases!(
    passcode_change_and_the_prompt,
    recusal_by_name_written_differently_and_by_code,
    names_stored_under_the_old_rule_are_re_keyed,
    dashboard_leaves_out_recused_cases,
);

both_databases!(backend: staff_email_job_holds_no_address);

const ACCOUNT: &str = "6222021001123457315";

struct Team {
    intake: Staff,
    handler: Staff,
    f1: Staff,
    f2: Staff,
}

async fn team(app: &TestApp) -> Team {
    Team {
        intake: staff(app, "intake1", "intake", "371500").await,
        handler: staff(app, "handler1", "handler", "371502").await,
        f1: staff(app, "finance1", "finance", "371500").await,
        f2: staff(app, "finance2", "finance", "371500").await,
    }
}

/// File `body`, drive it to a notified reward of 2,500 yuan (50,000 yuan verified: 5 % of
/// the first bracket); return (case, tracking code, passcode).
async fn notified(app: &TestApp, t: &Team, body: &Value) -> (String, String, String) {
    let receipt = app.file_tip(body).await;
    let code = receipt["tracking_code"].as_str().unwrap().to_string();
    let pass = receipt["passcode"].as_str().unwrap().to_string();
    let case = case_id_of(app, &code).await;
    let path = |p: &str| format!("/api/v1/cases/{case}{p}");
    let accept = json!({"to": "accepted", "reason": "线索具体"});
    post_ok(app, &t.intake, &path("/transitions"), &accept, 200).await;
    for (p, b) in [
        (
            "/transitions",
            json!({"to": "checking", "reason": "开始核查"}),
        ),
        ("/party-notice", json!({"reason": "告知拟处理决定"})),
        ("/statement", json!({"reason": "当事人陈述"})),
        (
            "/transitions",
            json!({"to": "decided", "reason": "查实",
            "outcome": "substantiated", "verified_fen": 5_000_000, "recovered_fen": 1_000_000,
            "reward_due": true}),
        ),
        ("/reward", json!({"reason": "申请奖励"})),
    ] {
        post_ok(app, &t.handler, &path(p), &b, 200).await;
    }
    post_ok(
        app,
        &t.f1,
        &path("/reward/approve"),
        &json!({"reason": "同意"}),
        200,
    )
    .await;
    let n = post_ok(app, &t.handler, &path("/reward/notice"), &json!({}), 200).await;
    assert_eq!(n["status"], "notified");
    (case, code, pass)
}

fn anonymous(verifier: Option<&str>, description: &str) -> Value {
    let mut body = anonymous_report();
    body["description"] = json!(description);
    if let Some(v) = verifier {
        body["reporter"]["claim_verifier"] = json!(v);
    }
    body
}

async fn claim(app: &TestApp, body: &Value) -> (u16, Value) {
    let res = app.post_json("/api/v1/reports/reward/claim", body).await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn audit_count(app: &TestApp, action: &str, outcome: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = $1 AND outcome = $2")
        .bind(action)
        .bind(outcome)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

async fn text_of(app: &TestApp, s: &Staff, path: &str) -> (u16, String) {
    let res = get(app, &s.token, path).await;
    (res.status().as_u16(), res.text().await.unwrap())
}

/// Whoever holds the passcode (the staff member who recorded a visit, the call centre) can
/// not have the reward transferred to their own account without the verifier the reporter
/// set with the tip; with it, the reporter can. Finance then sees the account masked at the
/// payment step, each look audited, and nowhere else.
async fn transfer_claim_needs_the_verifier(app: TestApp) {
    let t = team(&app).await;
    let (case, code, pass) = notified(
        &app,
        &t,
        &anonymous(None, "诊所虚构诊疗项目，串换药品结算医保基金，长期如此。"),
    )
    .await;
    let with = |extra: Value| {
        let mut b = json!({"tracking_code": code, "passcode": pass, "bank_account": ACCOUNT});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    // No verifier was set: a transfer is refused with or without digits, nothing stored.
    let (st, e) = claim(&app, &with(json!({"id_last6": "31002X"}))).await;
    assert_eq!(
        (st, e["error"]["code"].as_str()),
        (422, Some("no_claim_verifier")),
        "{e}"
    );
    assert!(
        e["error"]["message"].as_str().unwrap().contains("现场"),
        "{e}"
    );
    let (st, e) = claim(&app, &with(json!({"locale": "en"}))).await;
    assert_eq!(
        (st, e["error"]["code"].as_str()),
        (422, Some("verifier_required")),
        "{e}"
    );
    assert_eq!(e["error"]["field"], "id_last6");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("bank transfer"),
        "{e}"
    );
    assert_eq!(app.count("reporter_identity").await, 0, "no account stored");
    let open: String =
        sqlx::query_scalar("SELECT s.status FROM reward_shares s WHERE s.report_id = $1")
            .bind(&case)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(open, "notified");
    assert_eq!(audit_count(&app, "reward.claim", "denied").await, 2);

    // A tip whose reporter set the verifier: wrong digits refused, the right ones accepted.
    let (case2, code2, pass2) = notified(
        &app,
        &t,
        &anonymous(
            Some("31002x"),
            "药店用医保卡刷生活用品，再把费用摊到药品上。",
        ),
    )
    .await;
    let body = |last6: &str| {
        json!({"tracking_code": code2, "passcode": pass2,
        "bank_account": "6222 0210 0112 3457 315", "id_last6": last6})
    };
    let (st, e) = claim(&app, &body("99999X")).await;
    assert_eq!(
        (st, e["error"]["code"].as_str()),
        (422, Some("id_mismatch")),
        "{e}"
    );
    let (st, done) = claim(&app, &body("31002X")).await;
    assert_eq!(st, 200, "{done}");
    assert_eq!(done["method"], "bank_transfer");
    // The verifier is stored only as a digest: the characters are not in the database.
    for (where_, bytes) in database_bytes(&app) {
        assert!(
            !bytes.windows(6).any(|w| w == b"31002X" || w == b"31002x"),
            "the verifier is readable in {where_}"
        );
        assert!(
            !bytes
                .windows(ACCOUNT.len())
                .any(|w| w == ACCOUNT.as_bytes()),
            "the account is readable in {where_}"
        );
    }

    // Finance at the payment step sees the last four digits, and each look is audited.
    let p2 = |p: &str| format!("/api/v1/cases/{case2}/reward{p}");
    let before = audit_count(&app, "case.reward_bank_account", "ok").await;
    for i in 1..=2 {
        let (st, body) = text_of(&app, &t.f1, &p2("/bank-account")).await;
        assert_eq!(st, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["bank_account"], "**** 7315");
        assert!(
            !body.contains(ACCOUNT) && !body.contains("0112345"),
            "{body}"
        );
        assert_eq!(
            audit_count(&app, "case.reward_bank_account", "ok").await,
            before + i
        );
    }
    // Not for other roles; not for a claim in person (the first case has none).
    let (st, _) = text_of(&app, &t.handler, &p2("/bank-account")).await;
    assert_eq!(st, 403);
    let (st, _) = text_of(
        &app,
        &t.f1,
        &format!("/api/v1/cases/{case}/reward/bank-account"),
    )
    .await;
    assert_eq!(st, 409);
    // Nowhere else: reward view, reward list, case, ledger export.
    for path in [
        p2(""),
        "/api/v1/rewards".to_string(),
        format!("/api/v1/cases/{case2}"),
    ] {
        let (st, body) = text_of(&app, &t.f1, &path).await;
        assert_eq!(st, 200, "{path}: {body}");
        // (The last four digits alone may occur by chance in an id or a time.)
        assert!(
            !body.contains("**** 7315") && !body.contains("1123457315"),
            "{path} shows the account: {body}"
        );
    }
    let ledger = app.dir.path().join("ledger.csv");
    use jubao::rewards::ledger::{export, Format, Range};
    let file = std::fs::File::create(&ledger).unwrap();
    export(&app.db, file, Format::Csv, Range::default(), |_| {})
        .await
        .unwrap();
    let csv = std::fs::read_to_string(&ledger).unwrap();
    assert!(
        !csv.contains("**** 7315") && !csv.contains("1123457315"),
        "{csv}"
    );

    // Paid by transfer; after that the account is no longer shown.
    let pay = json!({"method": "bank_transfer", "reference": "T-0001", "amount_fen": 250_000});
    post_ok(&app, &t.f1, &p2("/payment"), &pay, 200).await;
    let (st, _) = text_of(&app, &t.f1, &p2("/bank-account")).await;
    assert_eq!(st, 409);
    app.stop().await;
}

/// A claim in person is paid only after two different finance officers recorded the
/// identity check with the same ID characters; it is audited, and the verifier of a tip
/// that has one must match.
async fn in_person_claim_needs_two_finance_officers(app: TestApp) {
    let t = team(&app).await;
    let (case, code, pass) = notified(
        &app,
        &t,
        &anonymous(None, "卫生院编造就诊记录，用村民医保卡结算，村民并未就医。"),
    )
    .await;
    let (st, done) = claim(&app, &json!({"tracking_code": code, "passcode": pass})).await;
    assert_eq!(st, 200, "{done}");
    assert_eq!(done["method"], "in_person");
    let path = |p: &str| format!("/api/v1/cases/{case}/reward{p}");
    let pay = json!({"method": "in_person", "reference": "收据 0001", "amount_fen": 250_000});
    let e = post_ok(&app, &t.f1, &path("/payment"), &pay, 409).await;
    assert_eq!(e["error"]["code"], "identity_check_required");

    let check = |last6: &str| json!({"id_last6": last6});
    let v = post_ok(&app, &t.f1, &path("/identity-check"), &check("12345X"), 200).await;
    assert_eq!(v["identity_check"], "recorded");
    // Still one officer: no payment; the same officer cannot confirm.
    post_ok(&app, &t.f2, &path("/payment"), &pay, 409).await;
    let e = post_ok(&app, &t.f1, &path("/identity-check"), &check("12345X"), 409).await;
    assert_eq!(e["error"]["code"], "second_officer_required");
    // The second officer must see the same document; others may not check at all.
    let e = post_ok(&app, &t.f2, &path("/identity-check"), &check("54321X"), 422).await;
    assert_eq!(e["error"]["code"], "id_mismatch");
    post_ok(
        &app,
        &t.handler,
        &path("/identity-check"),
        &check("12345X"),
        403,
    )
    .await;
    let v = post_ok(&app, &t.f2, &path("/identity-check"), &check("12345x"), 200).await;
    assert_eq!(v["identity_check"], "confirmed");
    let e = post_ok(&app, &t.f2, &path("/identity-check"), &check("12345X"), 409).await;
    assert_eq!(e["error"]["code"], "identity_already_checked");
    assert_eq!(
        audit_count(&app, "case.reward_identity_check", "ok").await,
        2
    );
    assert_eq!(
        audit_count(&app, "case.reward_identity_check", "denied").await,
        4
    );
    let who: (String, String) =
        sqlx::query_as("SELECT checked_by, confirmed_by FROM reward_identity_checks")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(who, (t.f1.id.clone(), t.f2.id.clone()));
    post_ok(&app, &t.f1, &path("/payment"), &pay, 200).await;

    // With a verifier set at report time, the document shown must match it.
    let (case2, code2, pass2) = notified(
        &app,
        &t,
        &anonymous(
            Some("31002X"),
            "药店把保健品换成药品名目刷医保卡，每月多次。",
        ),
    )
    .await;
    let (st, _) = claim(&app, &json!({"tracking_code": code2, "passcode": pass2})).await;
    assert_eq!(st, 200);
    let p2 = |p: &str| format!("/api/v1/cases/{case2}/reward{p}");
    let e = post_ok(&app, &t.f1, &p2("/identity-check"), &check("12345X"), 422).await;
    assert_eq!(e["error"]["code"], "id_mismatch");
    post_ok(&app, &t.f1, &p2("/identity-check"), &check("31002X"), 200).await;
    app.stop().await;
}

/// A tip recorded by staff: the status page is told to ask for a new passcode; the change
/// takes the old one and a new one, after which only the new one works; the new one is
/// stored only as a hash. An H5 tip is not prompted.
async fn passcode_change_and_the_prompt(app: TestApp) {
    let intake = staff(&app, "intake1", "intake", "371500").await;
    let mut body = anonymous_report();
    body["medium"] = json!("visit");
    let res = post(&app, &intake.token, "/api/v1/staff/reports", &body).await;
    assert_eq!(res.status(), 201);
    let r: Value = res.json().await.unwrap();
    let (code, old) = (
        r["tracking_code"].as_str().unwrap(),
        r["passcode"].as_str().unwrap(),
    );
    let view: Value = app.lookup(code, old).await.json().await.unwrap();
    assert_eq!(view["passcode_change_suggested"], true);
    let h5 = app.file_tip(&anonymous_report()).await;
    let v: Value = app
        .lookup(
            h5["tracking_code"].as_str().unwrap(),
            h5["passcode"].as_str().unwrap(),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["passcode_change_suggested"], false, "nobody else saw it");

    let new = "4711 0815 2026 77";
    let change = |pass: &str, new: &str| json!({"tracking_code": code, "passcode": pass, "new_passcode": new});
    let path = "/api/v1/reports/passcode";
    // A wrong current passcode is the look-up's 404; a short new one a §7 error.
    let res = app.post_json(path, &change("0000000000000000", new)).await;
    assert_eq!(res.status(), 404);
    let res = app.post_json(path, &change(old, "12345")).await;
    assert_eq!(res.status(), 422);
    let e: Value = res.json().await.unwrap();
    assert_eq!(e["error"]["field"], "new_passcode");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("10"),
        "{e}"
    );
    assert_eq!(app.lookup(code, old).await.status(), 200, "nothing changed");
    let res = app.post_json(path, &change(old, new)).await;
    assert_eq!(res.status(), 200);

    assert_eq!(
        app.lookup(code, old).await.status(),
        404,
        "the old one stops working"
    );
    let res = app.lookup(code, "4711-0815-2026-77").await;
    assert_eq!(res.status(), 200, "typed with dashes");
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["passcode_change_suggested"], false);
    assert_eq!(audit_count(&app, "report.passcode_change", "ok").await, 1);
    let logs = String::from_utf8_lossy(&captured_logs().lock().unwrap()).into_owned();
    assert!(
        !logs.contains("47110815202677"),
        "the new passcode is in the logs"
    );
    for (where_, bytes) in database_bytes(&app) {
        assert!(
            !bytes.windows(14).any(|w| w == b"47110815202677"),
            "the new passcode is readable in {where_}"
        );
    }
    app.stop().await;
}

/// A conflict declared under a differently written name, or by the institution's code,
/// recuses: the case is not shown, not listed, and not in the statistics.
async fn recusal_by_name_written_differently_and_by_code(app: TestApp) {
    let by_name = staff(&app, "sup_name", "supervisor", "371500").await;
    let by_code = staff(&app, "sup_code", "supervisor", "371500").await;
    let free = staff(&app, "sup_free", "supervisor", "371500").await;
    let mut body = anonymous_report();
    body["target"] = json!({"name": "聊城康泰大药房有限公司", "kind": "pharmacy",
        "region_code": "371502", "code": "91350100M000100Y43"});
    let case = file_case(&app, &body).await;
    // Same code, a name nobody declared.
    body["target"]["name"] = json!("康泰药店（东昌府店）");
    body["target"]["code"] = json!("9135 0100 m000 100y43");
    let case2 = file_case(&app, &body).await;
    // A bad code is refused, naming the field.
    body["target"]["code"] = json!("91350100M000100Y44");
    let res = app.post_report(&body).await;
    assert_eq!(res.status(), 422);
    let e: Value = res.json().await.unwrap();
    assert_eq!(e["error"]["field"], "target.code");

    let declare = |s: &Staff, b: Value| {
        let token = s.token.clone();
        let app = &app;
        async move { post(app, &token, "/api/v1/me/conflicts", &b).await.status() }
    };
    assert_eq!(
        declare(&by_name, json!({"institution": " 聊城·康泰大药房 "})).await,
        204
    );
    assert_eq!(
        declare(&by_code, json!({"code": "91350100M000100Y43"})).await,
        204
    );
    assert_eq!(declare(&free, json!({"code": "H37150200001X"})).await, 422);
    assert_eq!(declare(&free, json!({})).await, 422);

    for (s, hidden) in [
        (&by_name, vec![case.as_str()]),
        (&by_code, vec![case.as_str(), case2.as_str()]),
        (&free, vec![]),
    ] {
        for c in [&case, &case2] {
            let want = if hidden.contains(&c.as_str()) {
                403
            } else {
                200
            };
            let res = get(&app, &s.token, &format!("/api/v1/cases/{c}")).await;
            assert_eq!(res.status(), want, "{} {c}", s.username);
        }
        let (_, inbox) = text_of(&app, s, "/api/v1/cases").await;
        for c in [&case, &case2] {
            assert_eq!(
                inbox.contains(c.as_str()),
                !hidden.contains(&c.as_str()),
                "{}",
                s.username
            );
        }
        let stats: Value = get(&app, &s.token, "/api/v1/stats/cases")
            .await
            .json()
            .await
            .unwrap();
        let n: i64 = stats["by_status"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["count"].as_i64().unwrap())
            .sum();
        assert_eq!(n, 2 - hidden.len() as i64, "{} {stats}", s.username);
    }
    app.stop().await;
}

/// A database from before the name rule changed: its tips and conflicts carry keys of the
/// old rule (width, spaces and case folded only). The start-up re-keying brings both to the
/// new rule once, so a conflict written either way recuses from a tip written either way.
async fn names_stored_under_the_old_rule_are_re_keyed(app: TestApp) {
    let old_tip = staff(&app, "sup_old", "supervisor", "371500").await;
    let new_tip = staff(&app, "sup_new", "supervisor", "371500").await;
    let mut body = anonymous_report();
    body["target"]["name"] = json!("聊城市人民医院（东院）");
    let case = file_case(&app, &body).await;
    // As the old rule stored them.
    sqlx::query("UPDATE reports SET target_key = '聊城市人民医院（东院）' WHERE id = $1")
        .bind(&case)
        .execute(&app.db.pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO staff_conflicts (user_id, target_key, note, declared_at) \
         VALUES ($1, '聊城市人民医院(东院)有限公司', NULL, '2026-01-01T00:00:00Z')",
    )
    .bind(&old_tip.id)
    .execute(&app.db.pool)
    .await
    .unwrap();
    sqlx::query("UPDATE normalizations SET version = 1")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let path = format!("/api/v1/cases/{case}");
    assert_eq!(
        get(&app, &old_tip.token, &path).await.status(),
        200,
        "not matched yet"
    );

    let changed = jubao::workflow::recusal::rekey_institutions(&app.db)
        .await
        .unwrap();
    assert_eq!(changed, 2);
    assert_eq!(
        jubao::workflow::recusal::rekey_institutions(&app.db)
            .await
            .unwrap(),
        0,
        "once"
    );
    let key: String = sqlx::query_scalar("SELECT target_key FROM reports WHERE id = $1")
        .bind(&case)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(key, "聊城市人民医院东院");
    assert_eq!(get(&app, &old_tip.token, &path).await.status(), 403);
    let res = post(
        &app,
        &new_tip.token,
        "/api/v1/me/conflicts",
        &json!({"institution": "聊城市 人民医院 东院"}),
    )
    .await;
    assert_eq!(res.status(), 204);
    assert_eq!(get(&app, &new_tip.token, &path).await.status(), 403);
    app.stop().await;
}

/// The dashboard overview (its snapshot is shared) counts a recused reader's cases out.
async fn dashboard_leaves_out_recused_cases(app: TestApp) {
    let recused = staff(&app, "aud_r", "auditor", "371500").await;
    let other = staff(&app, "aud_o", "auditor", "371500").await;
    file_case(&app, &anonymous_report()).await;
    let mut body = anonymous_report();
    body["target"]["name"] = json!("东昌府区康复医院有限公司");
    file_case(&app, &body).await;
    file_case(&app, &body).await;
    let res = post(
        &app,
        &recused.token,
        "/api/v1/me/conflicts",
        &json!({"institution": "东昌府区 康复医院"}),
    )
    .await;
    assert_eq!(res.status(), 204);
    let total = |s: &Staff| {
        let token = s.token.clone();
        let app = &app;
        async move {
            let v: Value = get(app, &token, "/api/v1/stats/overview")
                .await
                .json()
                .await
                .unwrap();
            let sum = |k: &str| -> i64 {
                v[k].as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["count"].as_i64().unwrap())
                    .sum()
            };
            (
                sum("cases_by_status"),
                sum("tips_by_channel"),
                sum("tips_by_region"),
            )
        }
    };
    assert_eq!(total(&other).await, (3, 3, 3));
    assert_eq!(total(&recused).await, (1, 1, 1));
    // The other reader is still served from the shared snapshot, unchanged.
    assert_eq!(total(&other).await, (3, 3, 3));
    app.stop().await;
}

/// A reminder email waiting in the outbox holds the user's id, not their address; the
/// address is looked up when it is sent.
async fn staff_email_job_holds_no_address(backend: Backend) {
    let sink = SmtpSink::start();
    let Some(app) = spawn_app_with(backend, |c| {
        c.smtp.url = sink.url().into();
        c.smtp.from = "医保举报系统 <noreply@jubao.test>".into();
        c.outbox.enabled = false;
    })
    .await
    else {
        return;
    };
    let address = "wang.intake@jubao.test";
    let intake = staff_with_email(&app, "intake1", "intake", "371500", Some(address)).await;
    let case = file_case(&app, &anonymous_report()).await;
    let remind: String =
        sqlx::query_scalar("SELECT remind_on FROM clocks WHERE report_id = $1 AND kind = 'accept'")
            .bind(&case)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    let s = jubao::workflow::sweep::sweep(&app.state.workflow, remind.parse().unwrap(), 500)
        .await
        .unwrap();
    assert_eq!(s.reminded, 1);
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT kind, payload FROM jobs WHERE kind <> 'related_tips'")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].0, "staff_email");
    assert!(rows[0].1.contains(&intake.id), "{}", rows[0].1);
    for (kind, payload) in &rows {
        assert!(!payload.contains("wang.intake"), "{kind}: {payload}");
    }
    // An instance with the outbox on sends it, to the address the user has then.
    let sender = app
        .another_instance(|c| {
            c.outbox.enabled = true;
            c.outbox.poll_ms = jubao::config::Millis::new(20);
        })
        .await;
    let mails = sink.wait_for(1).await;
    assert_eq!(mails[0]["to"], json!([address]));
    sender.stop().await;
    app.stop().await;
}
