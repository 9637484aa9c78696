//! Rewards and finance over HTTP (DOMAIN §5): propose → approve → notify → claim → pay, every
//! refusal (audited, nothing changed), budgets, reversal, expiry, statistics, and the lead
//! ledger export checked row by row.

use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::*;
use crate::staffkit::*;
use crate::tools;

/// The real-name tip of the workflow tests: an insider, ID number ending in …1123X-style
/// checksum (computed), in county 371502.
fn named_tip() -> (Value, String) {
    let id = resident_id("37150219800101123");
    (named_report("张三", &id, "13800138000"), id)
}

struct Team {
    intake: Staff,
    handler: Staff,
    sup: Staff,
    legal: Staff,
    f1: Staff,
}

async fn team(app: &TestApp) -> Team {
    Team {
        intake: staff(app, "intake1", "intake", "371500").await,
        // The handler also holds the finance role: four eyes must still hold.
        handler: staff(app, "handler1", "handler,finance", "371502").await,
        sup: staff(app, "sup1", "supervisor", "371500").await,
        legal: staff(app, "legal1", "legal", "371500").await,
        f1: staff(app, "finance1", "finance", "371500").await,
    }
}

/// File `body` and drive it to `decided` (substantiated, reward due).
async fn decided_case(
    app: &TestApp,
    t: &Team,
    body: &Value,
    verified: i64,
    recovered: i64,
) -> (String, String, String) {
    let receipt = app.file_tip(body).await;
    let code = receipt["tracking_code"].as_str().unwrap().to_string();
    let pass = receipt["passcode"].as_str().unwrap().to_string();
    let case = case_id_of(app, &code).await;
    let path = |p: &str| format!("/api/v1/cases/{case}{p}");
    let done = post_ok(
        app,
        &t.intake,
        &path("/transitions"),
        &json!({"to": "accepted", "reason": "线索具体"}),
        200,
    )
    .await;
    assert_eq!(done["assignee"], t.handler.id.as_str());
    for (p, b) in [
        (
            "/transitions",
            json!({"to": "checking", "reason": "开始核查"}),
        ),
        ("/party-notice", json!({"reason": "告知拟处理决定"})),
        ("/statement", json!({"reason": "当事人陈述"})),
    ] {
        post_ok(app, &t.handler, &path(p), &b, 200).await;
    }
    if recovered >= 5_000_000 {
        post_ok(app, &t.sup, &path("/collective-decisions"), &json!({"meeting_date": "2026-11-20", "participants": ["局长", "副局长", "科长"], "conclusion": "同意"}), 200).await;
        post_ok(
            app,
            &t.legal,
            &path("/legal-review"),
            &json!({"opinion": "approve"}),
            200,
        )
        .await;
    }
    post_ok(
        app,
        &t.handler,
        &path("/transitions"),
        &json!({"to": "decided", "reason": "查实",
        "outcome": "substantiated", "verified_fen": verified, "recovered_fen": recovered,
        "reward_due": true}),
        200,
    )
    .await;
    (case, code, pass)
}

async fn reward_status(app: &TestApp, case: &str) -> String {
    sqlx::query_scalar("SELECT status FROM rewards WHERE report_id = $1")
        .bind(case)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

async fn denied(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = $1 AND outcome = 'denied'")
        .bind(action)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

async fn claim(app: &TestApp, body: &Value) -> reqwest::Response {
    app.post_json("/api/v1/reports/reward/claim", body).await
}

async fn audit_ok(app: &TestApp) {
    let v = jubao::audit::verify(&app.db, app.state.vault.audit_key(), None, |_, _| {})
        .await
        .unwrap();
    assert_eq!(v.first_broken, None, "{:?}", v.problem);
}

async fn propose_approve_notify_claim_pay(app: TestApp) {
    let t = team(&app).await;
    let (body, id_number) = named_tip();
    // 80,000 yuan verified, 60,000 recovered (collective decision and legal review on file).
    let (case, code, pass) = decided_case(&app, &t, &body, 8_000_000, 6_000_000).await;
    let path = |p: &str| format!("/api/v1/cases/{case}/reward{p}");

    // The notice clock started with the decision and outlives the case's own clocks.
    let clock: (String, Option<String>) = sqlx::query_as(
        "SELECT kind, closed_at FROM clocks WHERE report_id = $1 AND kind = 'reward_notice'",
    )
    .bind(&case)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(clock.1, None);

    // Preview: default policy, insider (+1 point a bracket):
    // 6% of 50,000 yuan = 3,000 + 5% of 30,000 yuan = 1,500 → 4,500 yuan.
    let res = get(&app, &t.handler.token, &path("/preview")).await;
    assert_eq!(res.status(), 200);
    let c: Value = res.json().await.unwrap();
    assert_eq!(c["amount_fen"], 450_000);
    assert_eq!(c["policy_id"], "default");
    assert_eq!(c["lines"].as_array().unwrap().len(), 2);
    assert_eq!(c["lines"][0]["rate_bp"], 600);
    // A preview does not store anything.
    assert_eq!(app.count("rewards").await, 0);

    // Only the case's handler proposes; a negative or fractional amount is refused.
    post_ok(&app, &t.f1, &path(""), &json!({"reason": "x"}), 403).await;
    let e = post_ok(
        &app,
        &t.handler,
        &path(""),
        &json!({"reason": "申请奖励", "no_loss_amount_fen": -5}),
        422,
    )
    .await;
    assert_eq!(e["error"]["field"], "no_loss_amount_fen");
    let e = post_ok(
        &app,
        &t.handler,
        &path(""),
        &json!({"reason": "申请奖励", "no_loss_amount_fen": 12.5}),
        422,
    )
    .await;
    assert_eq!(e["error"]["code"], "wrong_type");
    let e = post_ok(
        &app,
        &t.handler,
        &path(""),
        &json!({"reason": "申请奖励", "facts_already_known": true}),
        409,
    )
    .await;
    assert_eq!(e["error"]["code"], "not_eligible");
    let e = post_ok(
        &app,
        &t.handler,
        &path(""),
        &json!({"reason": "申请奖励", "excluded_kind": "supervisory_body_staff"}),
        409,
    )
    .await;
    assert_eq!(e["error"]["code"], "not_eligible");
    assert_eq!(app.count("rewards").await, 0, "refusals change nothing");
    let p = post_ok(
        &app,
        &t.handler,
        &path(""),
        &json!({"reason": "申请奖励"}),
        200,
    )
    .await;
    assert_eq!(p["amount_fen"], 450_000);
    assert_eq!(p["needs_supervisor"], false);
    // Proposing twice is refused.
    post_ok(&app, &t.handler, &path(""), &json!({"reason": "再次"}), 409).await;

    // The proposer may not approve their own proposal, though they hold the finance role.
    let before = denied(&app, "case.reward_approve").await;
    let e = post_ok(&app, &t.handler, &path("/approve"), &json!({}), 403).await;
    assert_eq!(e["error"]["code"], "own_proposal");
    // Wrong role.
    post_ok(&app, &t.intake, &path("/approve"), &json!({}), 403).await;
    post_ok(&app, &t.legal, &path("/approve"), &json!({}), 403).await;
    assert_eq!(denied(&app, "case.reward_approve").await, before + 3);
    assert_eq!(reward_status(&app, &case).await, "proposed");

    // Return, propose again, approve.
    post_ok(&app, &t.f1, &path("/return"), &json!({}), 422).await;
    post_ok(
        &app,
        &t.f1,
        &path("/return"),
        &json!({"reason": "请补充证据等级说明"}),
        200,
    )
    .await;
    assert_eq!(reward_status(&app, &case).await, "returned");
    post_ok(
        &app,
        &t.handler,
        &path(""),
        &json!({"reason": "补充后重新申请"}),
        200,
    )
    .await;
    let a = post_ok(
        &app,
        &t.f1,
        &path("/approve"),
        &json!({"reason": "同意"}),
        200,
    )
    .await;
    assert_eq!(a["status"], "approved");
    // Approving again is refused.
    post_ok(&app, &t.f1, &path("/approve"), &json!({}), 409).await;

    // Before the notice the reporter sees no reward.
    let view: Value = app.lookup(&code, &pass).await.json().await.unwrap();
    assert_eq!(view["reward"], Value::Null);
    // A claim before the notice is refused.
    let res = claim(
        &app,
        &json!({"tracking_code": code, "passcode": pass, "id_last6": &id_number[12..]}),
    )
    .await;
    assert_eq!(res.status(), 404);

    // Notice: timeline + outbox job, claim window opened, notice clock met.
    let jobs_before = app.count("jobs").await;
    let n = post_ok(&app, &t.handler, &path("/notice"), &json!({}), 200).await;
    assert_eq!(n["status"], "notified");
    let claim_by = n["claim_by"].as_str().unwrap().to_string();
    // 2 August + 60 days = 1 October, a holiday until the 7th: the window runs to Thursday
    // 8 October (worked by hand from the State Council's 2026 notice).
    assert_eq!(claim_by, "2026-10-08");
    assert!(app.count("jobs").await > jobs_before);
    let outcome: Option<String> = sqlx::query_scalar(
        "SELECT outcome FROM clocks WHERE report_id = $1 AND kind = 'reward_notice'",
    )
    .bind(&case)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(outcome.as_deref(), Some("met"));
    let view: Value = app.lookup(&code, &pass).await.json().await.unwrap();
    assert_eq!(
        view["reward"],
        json!({"status": "notified", "amount_fen": 450_000, "claim_by": claim_by})
    );
    let last = view["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["status"], "reward_notified");
    assert!(last["note"].as_str().unwrap().contains("4500.00"));
    assert!(!view.to_string().contains("handler1"));

    // Claim refusals: bad bank account, wrong ID digits; nothing changes.
    let res = claim(
        &app,
        &json!({"tracking_code": code, "passcode": pass,
        "id_last6": &id_number[12..], "bank_account": "12-34"}),
    )
    .await;
    assert_eq!(res.status(), 422);
    let e: Value = res.json().await.unwrap();
    assert_eq!(e["error"]["field"], "bank_account");
    let res = claim(
        &app,
        &json!({"tracking_code": code, "passcode": pass,
        "id_last6": "99999X", "bank_account": "6222021001123456789"}),
    )
    .await;
    assert_eq!(res.status(), 422);
    let e: Value = res.json().await.unwrap();
    assert_eq!(e["error"]["code"], "id_mismatch");
    assert_eq!(reward_status(&app, &case).await, "notified");
    assert!(denied(&app, "reward.claim").await >= 3);

    // The claim: bank account into the vault, never in plaintext.
    let res = claim(
        &app,
        &json!({"tracking_code": code, "passcode": pass,
        "id_last6": id_number[12..].to_lowercase(), "bank_account": "6222 0210 0112 3456 789"}),
    )
    .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let done: Value = res.json().await.unwrap();
    assert_eq!(done["method"], "bank_transfer");
    assert_eq!(done["amount_fen"], 450_000);
    let sealed: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT bank_account FROM reporter_identity WHERE report_id = $1")
            .bind(&case)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    let sealed = sealed.expect("bank account sealed");
    assert!(!String::from_utf8_lossy(&sealed).contains("6222021001123456789"));
    // The vault opens it (and the other fields, re-sealed with it).
    let s = jubao::vault::SealedIdentity::load(&app.db.pool, &case)
        .await
        .unwrap()
        .unwrap();
    let opened = app.state.vault.open_identity(&case, &s).await.unwrap();
    use jubao::vault::IdentityField;
    assert_eq!(
        opened.get(IdentityField::BankAccount),
        Some("6222021001123456789")
    );
    assert_eq!(opened.get(IdentityField::Name), Some("张三"));
    // Claiming twice is refused.
    let res = claim(
        &app,
        &json!({"tracking_code": code, "passcode": pass, "id_last6": &id_number[12..]}),
    )
    .await;
    assert_eq!(res.status(), 409);

    // Payment refusals: negative, fractional, wrong amount, the proposer, wrong role.
    let pay = |amount: Value| json!({"method": "bank_transfer", "reference": "ICBC-20261120-0001", "amount_fen": amount});
    let e = post_ok(&app, &t.f1, &path("/payment"), &pay(json!(-450_000)), 422).await;
    assert_eq!(e["error"]["field"], "amount_fen");
    let e = post_ok(&app, &t.f1, &path("/payment"), &pay(json!(4500.5)), 422).await;
    assert_eq!(e["error"]["field"], "amount_fen");
    post_ok(&app, &t.f1, &path("/payment"), &pay(json!(450_001)), 422).await;
    let e = post_ok(
        &app,
        &t.handler,
        &path("/payment"),
        &pay(json!(450_000)),
        403,
    )
    .await;
    assert_eq!(e["error"]["code"], "own_proposal");
    post_ok(&app, &t.sup, &path("/payment"), &pay(json!(450_000)), 403).await;
    assert_eq!(app.count("reward_payments").await, 0);
    let paid = post_ok(&app, &t.f1, &path("/payment"), &pay(json!(450_000)), 200).await;
    assert_eq!(paid["status"], "paid");
    // Paying twice is refused, by the status check and the table's key.
    let e = post_ok(&app, &t.f1, &path("/payment"), &pay(json!(450_000)), 409).await;
    assert_eq!(e["error"]["code"], "already_paid");
    assert_eq!(app.count("reward_payments").await, 1);
    let dup = sqlx::query(
        "INSERT INTO reward_payments (share_id, reward_id, method, reference, amount_fen, \
         paid_on, year, case_region, recorded_by, recorded_at) SELECT share_id, reward_id, \
         method, 'again', amount_fen, paid_on, year, case_region, recorded_by, recorded_at \
         FROM reward_payments",
    )
    .execute(&app.db.pool)
    .await;
    assert!(dup.is_err(), "the database refuses a second payment");
    let view: Value = app.lookup(&code, &pass).await.json().await.unwrap();
    assert_eq!(view["reward"]["status"], "paid");

    // Budgets: set by finance, balance shown; bad amounts refused.
    let year = 2026;
    post_ok(
        &app,
        &t.f1,
        "/api/v1/finance/budgets",
        &json!({"year": year, "region": "371500", "amount_fen": -1}),
        422,
    )
    .await;
    post_ok(
        &app,
        &t.f1,
        "/api/v1/finance/budgets",
        &json!({"year": year, "region": "371500", "amount_fen": 1.5}),
        422,
    )
    .await;
    post_ok(
        &app,
        &t.handler,
        "/api/v1/finance/budgets",
        &json!({"year": year, "region": "371502", "amount_fen": 100}),
        200,
    )
    .await;
    post_ok(
        &app,
        &t.sup,
        "/api/v1/finance/budgets",
        &json!({"year": year, "region": "371500", "amount_fen": 100}),
        403,
    )
    .await;
    assert!(denied(&app, "finance.budget").await >= 3);
    let b = post_ok(
        &app,
        &t.f1,
        "/api/v1/finance/budgets",
        &json!({"year": year, "region": "371500", "amount_fen": 1_000_000}),
        200,
    )
    .await;
    assert_eq!(b["paid_fen"], 450_000);
    assert_eq!(b["balance_fen"], 550_000);
    let list: Value = get(
        &app,
        &t.sup.token,
        &format!("/api/v1/finance/budgets?year={year}"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(
        get(&app, &t.legal.token, "/api/v1/finance/budgets")
            .await
            .status(),
        403
    );

    // Statistics for the charts.
    let s: Value = get(&app, &t.f1.token, "/api/v1/stats/rewards")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s[0]["amount_fen"], 450_000);
    assert_eq!(s[0]["region"], "371502");
    let s: Value = get(&app, &t.sup.token, "/api/v1/stats/tips")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s["by_channel"][0]["key"], "h5");
    assert_eq!(s["by_channel"][0]["count"], 1);
    let s: Value = get(&app, &t.sup.token, "/api/v1/stats/deadlines")
        .await
        .json()
        .await
        .unwrap();
    assert!(s
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["clock"] == "reward_notice" && r["met"] == 1));
    let s: Value = get(&app, &t.sup.token, "/api/v1/stats/cases")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s["by_region"][0]["status"], "decided");
    assert_eq!(
        get(&app, &t.handler.token, "/api/v1/stats/tips")
            .await
            .status(),
        200,
        "the handler also holds finance"
    );
    assert_eq!(
        get(&app, &t.intake.token, "/api/v1/stats/tips")
            .await
            .status(),
        403
    );
    assert_eq!(
        get(&app, &t.f1.token, "/api/v1/stats/tips?from=2026-13-01")
            .await
            .status(),
        422
    );

    // Reversal (fraud): two people, a supervisor and finance.
    post_ok(&app, &t.f1, &path("/reversal"), &json!({}), 422).await;
    let r = post_ok(
        &app,
        &t.f1,
        &path("/reversal"),
        &json!({"reason": "举报人系伪造证据骗取奖励"}),
        200,
    )
    .await;
    assert_eq!(r["reversal"], "requested");
    // The view names the requester's roles, so a client offers the confirmation only to
    // the other role.
    let v: Value = get(&app, &t.sup.token, &path(""))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["reversal_requested_by"], t.f1.id.as_str());
    assert_eq!(v["reversal_requested_roles"], json!(["finance"]));
    post_ok(
        &app,
        &t.f1,
        &path("/reversal"),
        &json!({"reason": "确认"}),
        409,
    )
    .await;
    let r = post_ok(
        &app,
        &t.sup,
        &path("/reversal"),
        &json!({"reason": "确认撤销"}),
        200,
    )
    .await;
    assert_eq!(r["status"], "reversed");
    assert_eq!(r["repayment_due_fen"], 450_000);
    assert_eq!(reward_status(&app, &case).await, "reversed");

    // The staff view has the explanation.
    let v: Value = get(&app, &t.f1.token, &path(""))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["computation"]["lines"][1]["rate_bp"], 500);
    assert_eq!(v["finance_approved_by"], t.f1.id.as_str());

    // Wrong passcodes on the claim: 404, then rate-limited.
    let mut statuses = vec![];
    for _ in 0..7 {
        let res = claim(
            &app,
            &json!({"tracking_code": code, "passcode": "000000000000", "id_last6": "123456"}),
        )
        .await;
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses[0], 404);
    assert_eq!(*statuses.last().unwrap(), 429);

    // No bank account, ID number or passcode in any log line.
    let logs = String::from_utf8_lossy(&captured_logs().lock().unwrap()).to_string();
    for secret in ["6222021001123456789", id_number.as_str(), pass.as_str()] {
        assert!(!logs.contains(secret), "a secret leaked into the logs");
    }
    audit_ok(&app).await;
    app.stop().await;
}

async fn supervisor_in_person_and_expiry(app: TestApp) {
    let t = team(&app).await;
    let f2 = staff(&app, "finance2", "finance", "371500").await;
    // 266,700 yuan verified, nothing recovered: 2,500 + 4,000 + 3% of 116,700 = 3,501
    // → 10,001 yuan, above the supervisor threshold (10,000 yuan).
    let mut body = anonymous_report();
    body["target"]["region_code"] = json!("371502");
    let (case, code, pass) = decided_case(&app, &t, &body, 26_670_000, 0).await;
    let path = |p: &str| format!("/api/v1/cases/{case}/reward{p}");

    // A supervisor's marks: only a supervisor; heavy ×1.5 (still under the cap).
    post_ok(
        &app,
        &t.f1,
        &path("/flags"),
        &json!({"heavy": true, "reason": "x"}),
        403,
    )
    .await;
    post_ok(
        &app,
        &t.sup,
        &path("/flags"),
        &json!({"quick": true, "heavy": false, "reason": "重大线索快奖"}),
        200,
    )
    .await;
    let p = post_ok(
        &app,
        &t.handler,
        &path(""),
        &json!({"reason": "申请奖励"}),
        200,
    )
    .await;
    assert_eq!(p["amount_fen"], 1_000_100);
    assert_eq!(p["needs_supervisor"], true);
    // A quick reward's approval step has its own clock (the policy's 3 working days).
    let quick = |kind: &'static str| {
        let (app, case) = (&app, &case);
        async move {
            sqlx::query_as::<_, (String, String, Option<String>, Option<String>)>(
                "SELECT start_on, due_on, outcome, rule FROM clocks WHERE report_id = $1 AND kind = $2",
            )
            .bind(case)
            .bind(kind)
            .fetch_all(&app.db.pool)
            .await
            .unwrap()
        }
    };
    let approve = quick("reward_approve").await;
    assert_eq!(approve.len(), 1);
    assert_eq!(approve[0].2, None, "open");
    assert_eq!(approve[0].3.as_deref(), Some("default@1"));
    // Proposed Monday 28 September: 29th (1), 30th (2), 1–7 October a holiday, 8th (3).
    assert_eq!(approve[0].0, "2026-09-28");
    assert_eq!(approve[0].1, "2026-10-08");
    // Flags are fixed once proposed.
    post_ok(
        &app,
        &t.sup,
        &path("/flags"),
        &json!({"heavy": true, "reason": "x"}),
        409,
    )
    .await;
    // The supervisor alone cannot make it approved; finance approves, then the supervisor.
    let a = post_ok(&app, &t.f1, &path("/approve"), &json!({}), 200).await;
    assert_eq!(a["status"], "proposed");
    let e = post_ok(&app, &f2, &path("/approve"), &json!({}), 409).await;
    assert_eq!(e["error"]["code"], "already_approved");
    // A budget too small stops the last approval, with nothing changed.
    let year = 2026;
    post_ok(
        &app,
        &t.f1,
        "/api/v1/finance/budgets",
        &json!({"year": year, "region": "371502", "amount_fen": 1_000_000}),
        200,
    )
    .await;
    let e = post_ok(&app, &t.sup, &path("/approve"), &json!({}), 409).await;
    assert_eq!(e["error"]["code"], "budget_exceeded");
    assert_eq!(reward_status(&app, &case).await, "proposed");
    post_ok(
        &app,
        &t.f1,
        "/api/v1/finance/budgets",
        &json!({"year": year, "region": "371502", "amount_fen": 5_000_000}),
        200,
    )
    .await;
    let a = post_ok(&app, &t.sup, &path("/approve"), &json!({}), 200).await;
    assert_eq!(a["status"], "approved");
    assert_eq!(quick("reward_approve").await[0].2.as_deref(), Some("met"));
    let b: Value = get(&app, &t.f1.token, "/api/v1/finance/budgets")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(b[0]["committed_fen"], 1_000_100);

    // Finance gives the notice; the anonymous reporter set no claim verifier, so the reward
    // is claimed in person.
    post_ok(&app, &t.f1, &path("/notice"), &json!({}), 200).await;
    let res = claim(&app, &json!({"tracking_code": code, "passcode": pass})).await;
    assert_eq!(res.status(), 200);
    let done: Value = res.json().await.unwrap();
    assert_eq!(done["method"], "in_person");
    // The claim starts the quick reward's payment clock (5 working days).
    let pay = quick("reward_pay").await;
    assert_eq!(pay.len(), 1);
    assert_eq!(pay[0].2, None, "open until paid");
    // Claimed the same Monday: 29th, 30th, 8th, 9th October and Saturday the 10th, a
    // make-up working day (5).
    assert_eq!(pay[0].1, "2026-10-10");
    // No bank account: no transfer. In person: two finance officers check the identity
    // first (issue 15 item 7; tests/api/protection.rs has the details).
    let e = post_ok(
        &app,
        &t.f1,
        &path("/payment"),
        &json!({"method": "bank_transfer", "reference": "T1", "amount_fen": 1_000_100}),
        409,
    )
    .await;
    assert_eq!(e["error"]["code"], "no_bank_account");
    let in_person =
        json!({"method": "in_person", "reference": "收据 0001", "amount_fen": 1_000_100});
    let e = post_ok(&app, &t.f1, &path("/payment"), &in_person, 409).await;
    assert_eq!(e["error"]["code"], "identity_check_required");
    post_ok(
        &app,
        &t.f1,
        &path("/identity-check"),
        &json!({"id_last6": "12345X"}),
        200,
    )
    .await;
    post_ok(
        &app,
        &f2,
        &path("/identity-check"),
        &json!({"id_last6": "12345x"}),
        200,
    )
    .await;
    post_ok(&app, &t.f1, &path("/payment"), &in_person, 200).await;
    assert_eq!(reward_status(&app, &case).await, "paid");
    assert_eq!(quick("reward_pay").await[0].2.as_deref(), Some("met"));

    // A second case: notified, then the claim window passes.
    let mut body2 = anonymous_report();
    body2["description"] = json!("另一家诊所虚构诊疗项目，串换药品结算医保基金。");
    let (case2, code2, pass2) = decided_case(&app, &t, &body2, 1_000_000, 0).await;
    let path2 = |p: &str| format!("/api/v1/cases/{case2}/reward{p}");
    // Quick reward on the second case? Not marked: the policy's 5 working days.
    post_ok(
        &app,
        &t.handler,
        &path2(""),
        &json!({"reason": "申请"}),
        200,
    )
    .await;
    post_ok(&app, &f2, &path2("/approve"), &json!({}), 200).await;
    let not_quick: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM clocks WHERE report_id = $1 AND kind IN ('reward_approve', 'reward_pay')",
    )
    .bind(&case2)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(
        not_quick, 0,
        "only a quick reward has approval and payment clocks"
    );
    post_ok(&app, &t.handler, &path2("/notice"), &json!({}), 200).await;
    sqlx::query("UPDATE rewards SET claim_by = '2000-01-01' WHERE report_id = $1")
        .bind(&case2)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let res = claim(
        &app,
        &json!({"tracking_code": code2, "passcode": pass2, "id_last6": "12345X"}),
    )
    .await;
    assert_eq!(res.status(), 409);
    let e: Value = res.json().await.unwrap();
    assert_eq!(e["error"]["code"], "reward_expired");
    let view: Value = app.lookup(&code2, &pass2).await.json().await.unwrap();
    assert_eq!(view["reward"]["status"], "expired");
    let today: chrono::NaiveDate = "2026-09-28".parse().unwrap();
    let s = jubao::rewards::flow::sweep(&app.state.workflow, today)
        .await
        .unwrap();
    assert_eq!(s.expired, 1);
    assert_eq!(reward_status(&app, &case2).await, "expired");
    let s = jubao::rewards::flow::sweep(&app.state.workflow, today)
        .await
        .unwrap();
    assert_eq!(s.expired, 0, "once");
    let view: Value = app.lookup(&code2, &pass2).await.json().await.unwrap();
    let last = view["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["status"], "reward_expired");
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM clocks WHERE report_id = $1 AND closed_at IS NULL",
    )
    .bind(&case2)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(open, 1, "only the feedback clock of the open case is left");

    // The quick case's notice clock used the quick deadline (2 working days).
    let (started, due): (String, String) = sqlx::query_as(
        "SELECT started_at, due_on FROM clocks WHERE report_id = $1 AND kind = 'reward_notice'",
    )
    .bind(&case)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(started.starts_with("2026-09-28T"), "{started}");
    assert_eq!(
        due, "2026-10-10",
        "the flag came after the decision: the policy's 5 working days stand"
    );
    audit_ok(&app).await;
    app.stop().await;
}

async fn ledger_export_row_by_row(app: TestApp) {
    let t = team(&app).await;
    let (body, _) = named_tip();
    let (case, _, _) = decided_case(&app, &t, &body, 8_000_000, 6_000_000).await;
    post_ok(
        &app,
        &t.handler,
        &format!("/api/v1/cases/{case}/reward"),
        &json!({"reason": "申请"}),
        200,
    )
    .await;
    let other = file_case(&app, &anonymous_report()).await;
    let dir = tempfile::tempdir().unwrap();
    use jubao::rewards::ledger::{export, Format, Range, COLUMNS};
    let csv_path = dir.path().join("ledger.csv");
    let xlsx_path = dir.path().join("ledger.xlsx");
    let mut seen = vec![];
    let n = export(
        &app.db,
        std::fs::File::create(&csv_path).unwrap(),
        Format::Csv,
        Range::default(),
        |d| seen.push(d),
    )
    .await
    .unwrap();
    assert_eq!(n, 2);
    assert_eq!(seen, [2]);
    export(
        &app.db,
        std::fs::File::create(&xlsx_path).unwrap(),
        Format::Xlsx,
        Range::default(),
        |_| {},
    )
    .await
    .unwrap();

    let mut r = csv::Reader::from_path(&csv_path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, COLUMNS);
    let rows: Vec<Vec<String>> = r
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    // Ordered by case id (UUIDv7: order of receipt).
    assert_eq!(rows[0][0], case);
    assert_eq!(rows[1][0], other);
    let col = |name: &str| COLUMNS.iter().position(|c| *c == name).unwrap();
    let decided = &rows[0];
    assert_eq!(decided[col("渠道")], "h5");
    assert_eq!(decided[col("问题类别")], "fake_patient fake_documents");
    assert_eq!(decided[col("被举报对象")], "某某市第一人民医院");
    assert_eq!(decided[col("地区")], "371502");
    assert_eq!(decided[col("举报人")], "实名");
    assert_eq!(decided[col("状态")], "decided");
    assert_eq!(decided[col("处理结论")], "substantiated");
    assert_eq!(decided[col("查实金额(分)")], "8000000");
    assert_eq!(decided[col("追回金额(分)")], "6000000");
    assert_eq!(decided[col("奖励金额(分)")], "450000");
    assert_eq!(decided[col("奖励状态")], "proposed");
    // accept, notify_accept (not yet delivered: still open), handle, defence closed in time.
    let met: i64 = decided[col("时限按时")].parse().unwrap();
    assert!(met >= 3, "{decided:?}");
    assert_eq!(decided[col("时限超时")], "0");
    let fresh = &rows[1];
    assert_eq!(fresh[col("状态")], "received");
    assert_eq!(fresh[col("举报人")], "匿名");
    assert_eq!(fresh[col("处理结论")], "");
    assert_eq!(fresh[col("奖励金额(分)")], "");

    // The XLSX, read by an independent reader (Python's zipfile + ElementTree), holds the
    // same cells.
    if let Some(sheet) = xlsx_read_by_python(&xlsx_path) {
        assert_eq!(sheet[0], header);
        for (i, row) in rows.iter().enumerate() {
            let mut want = row.clone();
            while want.last().is_some_and(String::is_empty) {
                want.pop();
            }
            assert_eq!(sheet[i + 1], want, "row {}", i + 1);
        }
    }

    // No identity in any export: the CSV as written, the XLSX as every part of its zip
    // unpacked (its sheets are deflated, so the raw bytes could never show a name). The
    // unpacked sheet does hold the cells, so an empty search cannot pass.
    let mut exports = vec![("ledger.csv".to_string(), std::fs::read(&csv_path).unwrap())];
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&xlsx_path).unwrap()).unwrap();
    for i in 0..zip.len() {
        let mut part = zip.by_index(i).unwrap();
        let mut bytes = vec![];
        std::io::Read::read_to_end(&mut part, &mut bytes).unwrap();
        exports.push((format!("ledger.xlsx:{}", part.name()), bytes));
    }
    assert!(exports
        .iter()
        .any(|(_, b)| String::from_utf8_lossy(b).contains("某某市第一人民医院")));
    for (name, bytes) in &exports {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains("张三") && !text.contains("13800138000"),
            "identity in {name}"
        );
    }
    let csv_text = std::fs::read_to_string(&csv_path).unwrap();
    assert!(!csv_text.contains("张三"));

    // A date range that excludes everything writes only the header.
    let empty = dir.path().join("empty.csv");
    let n = export(
        &app.db,
        std::fs::File::create(&empty).unwrap(),
        Format::Csv,
        Range {
            from: chrono::NaiveDate::from_ymd_opt(2001, 1, 1),
            to: chrono::NaiveDate::from_ymd_opt(2001, 12, 31),
        },
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(n, 0);
    assert_eq!(std::fs::read_to_string(&empty).unwrap().lines().count(), 1);
    app.stop().await;
}

/// The cells of the XLSX's first sheet as Python's zipfile + ElementTree read them (an
/// independent reader); `None` when python3 is missing (see tests/support/tools.rs).
fn xlsx_read_by_python(path: &std::path::Path) -> Option<Vec<Vec<String>>> {
    if !tools::need(
        "the XLSX check in rewards::ledger_export_row_by_row",
        &[tools::PYTHON3],
    ) {
        return None;
    }
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(XLSX_READER)
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

const XLSX_READER: &str = r#"
import json, sys, zipfile, xml.etree.ElementTree as ET
ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
z = zipfile.ZipFile(sys.argv[1])
assert "xl/workbook.xml" in z.namelist()
root = ET.fromstring(z.read("xl/worksheets/sheet1.xml"))
out = []
for row in root.find("m:sheetData", ns):
    cells = {}
    for c in row:
        ref = c.get("r"); col = "".join(ch for ch in ref if ch.isalpha())
        idx = 0
        for ch in col: idx = idx * 26 + (ord(ch) - 64)
        if c.get("t") == "inlineStr":
            cells[idx - 1] = "".join(t.text or "" for t in c.iter("{%s}t" % ns["m"]))
        else:
            cells[idx - 1] = c.find("m:v", ns).text
    out.append([cells.get(i, "") for i in range(max(cells) + 1 if cells else 0)])
print(json.dumps(out, ensure_ascii=False))
"#;

async fn openapi_lists_the_reward_endpoints(app: TestApp) {
    let doc: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for p in [
        "/api/v1/cases/{id}/reward/preview",
        "/api/v1/cases/{id}/reward/approve",
        "/api/v1/cases/{id}/reward/payment",
        "/api/v1/finance/budgets",
        "/api/v1/stats/rewards",
        "/api/v1/cases/{id}/transitions",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p} missing");
    }
    // Co-reporters: the proposal's list, the payment's tip, the reward's shares.
    let schemas = &doc["components"]["schemas"];
    for (schema, field) in [
        ("ProposeRequest", "co_reporters"),
        ("CoReporter", "weight"),
        ("PaymentRequest", "tip"),
        ("RewardView", "shares"),
        ("ShareView", "share_id"),
    ] {
        assert!(
            schemas[schema]["properties"].get(field).is_some(),
            "{schema}.{field} missing"
        );
    }
    app.stop().await;
}

/// POST in a given language; returns the status and the body.
async fn post_in(app: &TestApp, s: &Staff, path: &str, body: &Value, lang: &str) -> (u16, Value) {
    let res = app
        .client
        .post(app.url(path))
        .bearer_auth(&s.token)
        .header("accept-language", lang)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// (tip, weight, amount_fen, status) of a case's reward shares, in the order recorded.
async fn shares_in_db(app: &TestApp, case: &str) -> Vec<(String, i64, i64, String)> {
    sqlx::query_as(
        "SELECT s.report_id, s.weight, s.amount_fen, s.status FROM reward_shares s \
         JOIN rewards r ON r.id = s.reward_id WHERE r.report_id = $1 ORDER BY s.seq",
    )
    .bind(case)
    .fetch_all(&app.db.pool)
    .await
    .unwrap()
}

/// A decided real-name case (the first valid reporter) and a later anonymous tip on the same
/// facts merged into it (a joint report): (case, code, passcode, ID number, tip, its code,
/// its passcode).
struct Joint {
    case: String,
    code: String,
    pass: String,
    id_number: String,
    tip: String,
    tip_code: String,
    tip_pass: String,
}

async fn joint_report(app: &TestApp, t: &Team, verified: i64) -> Joint {
    let (body, id_number) = named_tip();
    let (case, code, pass) = decided_case(app, t, &body, verified, 0).await;
    let mut second = anonymous_report();
    second["description"] = json!("我和同事一起发现医院组织老人挂名住院，用医保卡结算，联名举报。");
    let receipt = app.file_tip(&second).await;
    let tip_code = receipt["tracking_code"].as_str().unwrap().to_string();
    let tip_pass = receipt["passcode"].as_str().unwrap().to_string();
    let tip = case_id_of(app, &tip_code).await;
    post_ok(
        app,
        &t.intake,
        &format!("/api/v1/cases/{tip}/transitions"),
        &json!({"to": "merged", "reason": "同一事项（联名举报）", "merge_into": case}),
        200,
    )
    .await;
    Joint {
        case,
        code,
        pass,
        id_number,
        tip,
        tip_code,
        tip_pass,
    }
}

async fn co_reporters_share_claim_and_pay_their_own(app: TestApp) {
    let t = team(&app).await;
    // 10,000.20 yuan verified, insider: 6% → 60,001 fen (above the 200-yuan floor).
    let j = joint_report(&app, &t, 1_000_020).await;
    let case = j.case.clone();
    let path = |p: &str| format!("/api/v1/cases/{case}/reward{p}");
    // A tip that is not merged into this case.
    let other = app.file_tip(&anonymous_report()).await;
    let other_code = other["tracking_code"].as_str().unwrap().to_string();

    // Bad co-reporters: 422 with the CONTRACT error, in the caller's language, and nothing
    // stored. An unknown tip and a tip of another case get the same answer.
    let with = |co: Value| json!({"reason": "联名举报，按贡献分配", "co_reporters": co});
    let zh_unknown = |tip: &str| format!("“{tip}”既不是本案件，也不是并入本案件的举报。");
    let bad: Vec<(Value, &str, String, String)> = vec![
        (
            json!([{"tip": j.code, "weight": 2}, {"tip": "no-such-tip", "weight": 1}]),
            "co_reporters.tip",
            zh_unknown("no-such-tip"),
            "“no-such-tip” is neither this case nor a tip merged into it.".into(),
        ),
        (
            json!([{"tip": j.code, "weight": 2}, {"tip": other_code, "weight": 1}]),
            "co_reporters.tip",
            zh_unknown(&other_code),
            format!("“{other_code}” is neither this case nor a tip merged into it."),
        ),
        (
            json!([{"tip": j.code, "weight": 2}, {"tip": j.tip, "weight": 0}]),
            "co_reporters.weight",
            "共同举报人的分配比例须为 1 至 10000 的整数。".into(),
            "A co-reporter's weight is a whole number from 1 to 10000.".into(),
        ),
        (
            json!([{"tip": j.code, "weight": 2}, {"tip": j.tip, "weight": 1}, {"tip": case, "weight": 1}]),
            "co_reporters.tip",
            format!("举报“{case}”重复列出。"),
            format!("The tip “{case}” is listed more than once."),
        ),
        (
            json!([{"tip": j.tip, "weight": 1}]),
            "co_reporters",
            // Named by its case id: the tracking code is the reporter's.
            format!("共同举报人须包括第一个有效举报人（案件 {}）。", j.case),
            format!(
                "The co-reporters must include the first valid reporter (case {}).",
                j.case
            ),
        ),
    ];
    let before = denied(&app, "case.reward_propose").await;
    for (co, field, zh, en) in &bad {
        for (lang, message) in [("zh-CN", zh), ("en", en)] {
            let (status, e) = post_in(&app, &t.handler, &path(""), &with(co.clone()), lang).await;
            assert_eq!(status, 422, "{co} {e}");
            assert_eq!(e["error"]["code"], "invalid_field", "{e}");
            assert_eq!(e["error"]["field"], *field, "{e}");
            assert_eq!(e["error"]["message"], message.as_str(), "{e}");
        }
    }
    // A negative or fractional weight is the wrong type.
    let e = post_ok(
        &app,
        &t.handler,
        &path(""),
        &with(json!([{"tip": case, "weight": 1.5}])),
        422,
    )
    .await;
    assert_eq!(e["error"]["field"], "co_reporters.weight");
    assert_eq!(app.count("rewards").await, 0, "refusals store nothing");
    assert_eq!(
        app.count("reward_shares").await,
        0,
        "refusals store nothing"
    );
    assert_eq!(denied(&app, "case.reward_propose").await, before + 10);

    // 1:1 first, returned, then 2:1 (the tips named by tracking code and by case id).
    let p = post_ok(
        &app,
        &t.handler,
        &path(""),
        &with(json!([{"tip": case, "weight": 1}, {"tip": j.tip_code, "weight": 1}])),
        200,
    )
    .await;
    assert_eq!(p["amount_fen"], 60_001);
    // 30,000.5 each: the fen left over goes to the one recorded first.
    let amounts: Vec<i64> = p["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["amount_fen"].as_i64().unwrap())
        .collect();
    assert_eq!(amounts, [30_001, 30_000]);
    post_ok(
        &app,
        &t.f1,
        &path("/return"),
        &json!({"reason": "比例应为 2:1"}),
        200,
    )
    .await;
    let p = post_ok(
        &app,
        &t.handler,
        &path(""),
        &with(json!([{"tip": j.code, "weight": 2}, {"tip": j.tip, "weight": 1}])),
        200,
    )
    .await;
    assert_eq!(p["amount_fen"], 60_001);
    assert!(p["remainder_rule"]
        .as_str()
        .unwrap()
        .starts_with("largest remainder"));
    // 60,001 × 2/3 = 40,000.67 and × 1/3 = 20,000.33: the larger remainder takes the fen.
    assert_eq!(
        shares_in_db(&app, &case).await,
        [
            (case.clone(), 2, 40_001, "pending".to_string()),
            (j.tip.clone(), 1, 20_000, "pending".to_string()),
        ]
    );
    let v: Value = get(&app, &t.f1.token, &path(""))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["amount_fen"], 60_001, "the reward is still the total");
    // Shares are named by their own ids; the reporters' tracking codes are not on staff
    // screens (DOMAIN §7).
    assert_eq!(v["shares"][1]["case_id"], j.tip.as_str());
    assert!(v["shares"][0]["share_id"]
        .as_str()
        .is_some_and(|s| !s.is_empty()));
    assert_ne!(v["shares"][0]["share_id"], v["shares"][1]["share_id"]);
    let shown = v.to_string();
    assert!(
        !shown.contains(j.code.as_str()) && !shown.contains(j.tip_code.as_str()),
        "a tracking code in the staff view: {shown}"
    );
    assert_eq!(v["shares"][0]["weight"], 2);
    let sharing = &v["computation"]["sharing"];
    assert_eq!(sharing["weight_sum"], 3);
    assert_eq!(sharing["lines"][0]["remainder"], 2);
    assert_eq!(sharing["lines"][0]["extra_fen"], 1);
    assert!(sharing["rule"]
        .as_str()
        .unwrap()
        .contains("ties to the one recorded first"));
    assert!(!v.to_string().contains("张三"), "no identity in the reward");

    // One approval for the whole reward; one notice, to each reporter through their tip.
    post_ok(&app, &t.f1, &path("/approve"), &json!({}), 200).await;
    post_ok(&app, &t.handler, &path("/notice"), &json!({}), 200).await;
    let a: Value = app.lookup(&j.code, &j.pass).await.json().await.unwrap();
    let b: Value = app
        .lookup(&j.tip_code, &j.tip_pass)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(a["reward"]["amount_fen"], 40_001);
    assert_eq!(b["reward"]["amount_fen"], 20_000);
    assert_eq!(b["reward"]["status"], "notified");
    let note = b["timeline"].as_array().unwrap().last().unwrap()["note"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(note.contains("200.00") && note.contains("600.01"), "{note}");

    // The co-reporter claims their own share (in person, anonymous) with their own code.
    let res = claim(
        &app,
        &json!({"tracking_code": j.tip_code, "passcode": j.pass, "id_last6": "12345X"}),
    )
    .await;
    assert_eq!(res.status(), 404, "one's code with the other's passcode");
    let res = claim(
        &app,
        &json!({"tracking_code": j.tip_code, "passcode": j.tip_pass, "id_last6": "12345X"}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let done: Value = res.json().await.unwrap();
    assert_eq!(done["amount_fen"], 20_000);
    assert_eq!(done["method"], "in_person");
    // Their code reaches only their share: claiming again is refused, and the first
    // reporter's share is still open.
    let res = claim(
        &app,
        &json!({"tracking_code": j.tip_code, "passcode": j.tip_pass, "id_last6": "12345X"}),
    )
    .await;
    assert_eq!(res.status(), 409);
    let st: Vec<String> = shares_in_db(&app, &case)
        .await
        .into_iter()
        .map(|s| s.3)
        .collect();
    assert_eq!(st, ["notified", "claimed"]);
    assert_eq!(reward_status(&app, &case).await, "notified");
    let a: Value = app.lookup(&j.code, &j.pass).await.json().await.unwrap();
    assert_eq!(a["reward"]["status"], "notified");

    // The first reporter claims theirs, by transfer, into their own vault record.
    let res = claim(
        &app,
        &json!({"tracking_code": j.code, "passcode": j.pass,
        "id_last6": &j.id_number[12..], "bank_account": "6222021001123456789"}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let done: Value = res.json().await.unwrap();
    assert_eq!(done["amount_fen"], 40_001);
    assert_eq!(reward_status(&app, &case).await, "claimed");
    let vault = &app.state.vault;
    assert!(vault.has_bank_account(&app.db.pool, &case).await.unwrap());
    assert!(!vault.has_bank_account(&app.db.pool, &j.tip).await.unwrap());

    // Finance pays each share once, naming its tip.
    let pay = |tip: &str, amount: i64| json!({"method": "bank_transfer", "reference": "ICBC-0001", "amount_fen": amount, "tip": tip});
    let e = post_ok(
        &app,
        &t.f1,
        &path("/payment"),
        &json!({"method": "bank_transfer", "reference": "X", "amount_fen": 40_001}),
        422,
    )
    .await;
    assert_eq!(e["error"]["field"], "tip");
    let e = post_ok(&app, &t.f1, &path("/payment"), &pay(&j.code, 60_001), 422).await;
    assert_eq!(e["error"]["field"], "amount_fen");
    let e = post_ok(
        &app,
        &t.f1,
        &path("/payment"),
        &pay(&other_code, 40_001),
        422,
    )
    .await;
    assert_eq!(e["error"]["field"], "tip");
    let paid = post_ok(&app, &t.f1, &path("/payment"), &pay(&j.code, 40_001), 200).await;
    assert_eq!(paid["status"], "claimed", "not paid until every share is");
    assert_eq!(paid["share"]["status"], "paid");
    let e = post_ok(&app, &t.f1, &path("/payment"), &pay(&case, 40_001), 409).await;
    assert_eq!(e["error"]["code"], "already_paid");
    assert_eq!(e["error"]["message"], "该奖励已支付，不能重复支付。");
    assert_eq!(reward_status(&app, &case).await, "claimed");
    // The co-reporter gave no account: in person, once two finance officers checked the
    // identity (of their share, named by their tracking code).
    let e = post_ok(
        &app,
        &t.f1,
        &path("/payment"),
        &pay(&j.tip_code, 20_000),
        409,
    )
    .await;
    assert_eq!(e["error"]["code"], "no_bank_account");
    let in_person = json!({"method": "in_person", "reference": "收据 0002", "amount_fen": 20_000, "tip": j.tip});
    let e = post_ok(&app, &t.f1, &path("/payment"), &in_person, 409).await;
    assert_eq!(e["error"]["code"], "identity_check_required");
    let f2 = staff(&app, "finance2", "finance", "371500").await;
    let check = json!({"id_last6": "12345X", "tip": j.tip_code});
    let e = post_ok(
        &app,
        &t.f1,
        &path("/identity-check"),
        &json!({"id_last6": "12345X"}),
        422,
    )
    .await;
    assert_eq!(
        e["error"]["field"], "tip",
        "a shared reward names the share"
    );
    post_ok(&app, &t.f1, &path("/identity-check"), &check, 200).await;
    post_ok(&app, &f2, &path("/identity-check"), &check, 200).await;
    let paid = post_ok(&app, &t.f1, &path("/payment"), &in_person, 200).await;
    assert_eq!(paid["status"], "paid");
    let e = post_ok(&app, &t.f1, &path("/payment"), &in_person, 409).await;
    assert_eq!(e["error"]["code"], "already_paid");
    assert_eq!(reward_status(&app, &case).await, "paid");
    let paid: Vec<(String, i64)> =
        sqlx::query_as("SELECT share_id, amount_fen FROM reward_payments ORDER BY amount_fen")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(
        paid.iter().map(|p| p.1).collect::<Vec<_>>(),
        [20_000, 40_001]
    );
    let b: Value = app
        .lookup(&j.tip_code, &j.tip_pass)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(b["reward"]["status"], "paid");
    assert_eq!(
        b["timeline"].as_array().unwrap().last().unwrap()["status"],
        "reward_paid"
    );

    // Budgets count the shares' payments.
    let year = 2026;
    let bud = post_ok(
        &app,
        &t.f1,
        "/api/v1/finance/budgets",
        &json!({"year": year, "region": "371500", "amount_fen": 100_000}),
        200,
    )
    .await;
    assert_eq!(bud["paid_fen"], 60_001);
    assert_eq!(bud["committed_fen"], 0);
    audit_ok(&app).await;
    app.stop().await;
}

async fn co_reporter_share_expires_alone(app: TestApp) {
    let t = team(&app).await;
    let j = joint_report(&app, &t, 1_000_000).await;
    let case = j.case.clone();
    let path = |p: &str| format!("/api/v1/cases/{case}/reward{p}");
    // 600 yuan, 1:1.
    post_ok(
        &app,
        &t.handler,
        &path(""),
        &json!({"reason": "联名举报",
        "co_reporters": [{"tip": case, "weight": 1}, {"tip": j.tip, "weight": 1}]}),
        200,
    )
    .await;
    post_ok(&app, &t.f1, &path("/approve"), &json!({}), 200).await;
    let year = 2026;
    let bud = post_ok(
        &app,
        &t.f1,
        "/api/v1/finance/budgets",
        &json!({"year": year, "region": "371500", "amount_fen": 1_000_000}),
        200,
    )
    .await;
    assert_eq!(bud["committed_fen"], 60_000);
    post_ok(&app, &t.handler, &path("/notice"), &json!({}), 200).await;
    let res = claim(
        &app,
        &json!({"tracking_code": j.code, "passcode": j.pass, "id_last6": &j.id_number[12..]}),
    )
    .await;
    assert_eq!(res.status(), 200);
    // The window passes before the co-reporter claims.
    sqlx::query("UPDATE rewards SET claim_by = '2000-01-01' WHERE report_id = $1")
        .bind(&case)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let res = claim(
        &app,
        &json!({"tracking_code": j.tip_code, "passcode": j.tip_pass, "id_last6": "12345X"}),
    )
    .await;
    assert_eq!(res.status(), 409);
    let e: Value = res.json().await.unwrap();
    assert_eq!(e["error"]["code"], "reward_expired");
    let today: chrono::NaiveDate = "2026-09-10".parse().unwrap();
    let s = jubao::rewards::flow::sweep(&app.state.workflow, today)
        .await
        .unwrap();
    assert_eq!(s.expired, 1, "only the unclaimed share");
    let st: Vec<String> = shares_in_db(&app, &case)
        .await
        .into_iter()
        .map(|s| s.3)
        .collect();
    assert_eq!(st, ["claimed", "expired"]);
    assert_eq!(reward_status(&app, &case).await, "claimed");
    let b: Value = app
        .lookup(&j.tip_code, &j.tip_pass)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(b["reward"]["status"], "expired");
    assert_eq!(
        b["timeline"].as_array().unwrap().last().unwrap()["status"],
        "reward_expired"
    );
    let a: Value = app.lookup(&j.code, &j.pass).await.json().await.unwrap();
    assert_eq!(a["reward"]["status"], "claimed");
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM clocks WHERE report_id = $1 AND kind = 'reward_claim' AND closed_at IS NULL")
        .bind(&case).fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(open, 0, "the claim clock closed with the window");
    // The expired share leaves the budget; the claimed one stays committed until paid.
    let b: Value = get(
        &app,
        &t.f1.token,
        &format!("/api/v1/finance/budgets?year={year}"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(b[0]["committed_fen"], 30_000);
    // In person: two finance officers check the ID against the one given with the tip.
    let f2 = staff(&app, "finance2", "finance", "371500").await;
    let check = json!({"id_last6": &j.id_number[12..], "tip": j.code});
    post_ok(
        &app,
        &t.f1,
        &path("/identity-check"),
        &json!({"id_last6": "99999X", "tip": j.code}),
        422,
    )
    .await;
    post_ok(&app, &t.f1, &path("/identity-check"), &check, 200).await;
    post_ok(&app, &f2, &path("/identity-check"), &check, 200).await;
    let paid = post_ok(
        &app,
        &t.f1,
        &path("/payment"),
        &json!({"method": "in_person",
        "reference": "收据 0003", "amount_fen": 30_000, "tip": j.code}),
        200,
    )
    .await;
    assert_eq!(paid["status"], "paid");
    // Reversal covers the whole reward; what was paid is due back.
    post_ok(
        &app,
        &t.sup,
        &path("/reversal"),
        &json!({"reason": "联名举报人伪造证据"}),
        200,
    )
    .await;
    let r = post_ok(
        &app,
        &t.f1,
        &path("/reversal"),
        &json!({"reason": "确认撤销"}),
        200,
    )
    .await;
    assert_eq!(r["repayment_due_fen"], 30_000);
    for (code, pass) in [(&j.code, &j.pass), (&j.tip_code, &j.tip_pass)] {
        let v: Value = app.lookup(code, pass).await.json().await.unwrap();
        assert_eq!(v["reward"]["status"], "reversed");
    }
    audit_ok(&app).await;
    app.stop().await;
}

/// Migration 0007 on rewards written before it: each becomes one share of its whole amount
/// that keeps the reward's id, and a recorded payment stays the share's (a second one is
/// refused); a claimed one is paid in person after the two-officer identity check.
async fn rewards_from_before_shares_keep_working(backend: Backend) {
    let Some(app) = spawn_app_without_migration(backend, 7).await else {
        return;
    };
    let t = team(&app).await;
    let (claimed_case, code, pass) =
        decided_case(&app, &t, &anonymous_report(), 1_000_000, 0).await;
    let mut body = anonymous_report();
    body["description"] = json!("另一家诊所虚构诊疗项目，串换药品结算医保基金。");
    let (paid_case, _, _) = decided_case(&app, &t, &body, 1_000_000, 0).await;
    let today = jubao::deadlines::calendar::shanghai_date(chrono::Utc::now());
    let now = jubao::store::ts(chrono::Utc::now());
    let claim_by = (today + chrono::Duration::days(60)).to_string();
    let mut ids = vec![];
    for (case, status) in [(&claimed_case, "claimed"), (&paid_case, "paid")] {
        let id = uuid::Uuid::now_v7().to_string();
        // What 0005's code stored: the digest bound to the reward's id.
        let digest =
            (status == "claimed").then(|| app.state.vault.id_check_digest(&id, "12345X").to_vec());
        sqlx::query(
            "INSERT INTO rewards (id, report_id, beneficiary_report_id, case_region, policy_id, \
             policy_version, input, computation, amount_fen, status, needs_supervisor, \
             proposed_by, proposed_at, finance_approved_by, finance_approved_at, approved_at, \
             notified_at, claim_by, claimed_at, claim_method, id_check_digest, paid_at) \
             VALUES ($1, $2, $2, '371502', 'default', 1, '{}', '{}', 50000, $3, 0, $4, $5, $6, \
             $5, $5, $5, $7, $5, 'in_person', $8, $9)",
        )
        .bind(&id)
        .bind(case.as_str())
        .bind(status)
        .bind(&t.handler.id)
        .bind(&now)
        .bind(&t.f1.id)
        .bind(&claim_by)
        .bind(digest)
        .bind((status == "paid").then(|| now.clone()))
        .execute(&app.db.pool)
        .await
        .unwrap();
        ids.push(id);
    }
    sqlx::query(
        "INSERT INTO reward_payments (reward_id, method, reference, amount_fen, paid_on, year, \
         case_region, recorded_by, recorded_at) VALUES ($1, 'in_person', 'R1', 50000, $2, $3, \
         '371502', $4, $5)",
    )
    .bind(&ids[1])
    .bind(today.to_string())
    .bind(i64::from(chrono::Datelike::year(&today)))
    .bind(&t.f1.id)
    .bind(&now)
    .execute(&app.db.pool)
    .await
    .unwrap();

    app.db.migrate().await.unwrap();

    let shares: Vec<(String, String, String, i64, i64, String)> = sqlx::query_as(
        "SELECT id, reward_id, report_id, weight, amount_fen, status FROM reward_shares ORDER BY id",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(
        shares,
        [
            (
                ids[0].clone(),
                ids[0].clone(),
                claimed_case.clone(),
                1,
                50_000,
                "claimed".into()
            ),
            (
                ids[1].clone(),
                ids[1].clone(),
                paid_case.clone(),
                1,
                50_000,
                "paid".into()
            ),
        ]
    );
    let paid: Vec<(String, String)> =
        sqlx::query_as("SELECT share_id, reward_id FROM reward_payments")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(paid, [(ids[1].clone(), ids[1].clone())]);

    // The paid reward cannot be paid again; the claimed one is paid in person once two
    // finance officers checked the claimant's identity (issue 15 item 7: the digits given
    // at claim time before it prove nothing).
    let pay = json!({"method": "in_person", "reference": "收据 9", "amount_fen": 50_000});
    let check = json!({"id_last6": "12345x"});
    let f2 = staff(&app, "finance2", "finance", "371500").await;
    let checked = format!("/api/v1/cases/{claimed_case}/reward/identity-check");
    post_ok(&app, &t.f1, &checked, &check, 200).await;
    post_ok(&app, &f2, &checked, &check, 200).await;
    let e = post_ok(
        &app,
        &t.f1,
        &format!("/api/v1/cases/{paid_case}/reward/payment"),
        &pay,
        409,
    )
    .await;
    assert_eq!(e["error"]["code"], "already_paid");
    let v: Value = get(
        &app,
        &t.f1.token,
        &format!("/api/v1/cases/{claimed_case}/reward"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(v["shares"][0]["status"], "claimed");
    assert_eq!(v["shares"][0]["amount_fen"], 50_000);
    let done = post_ok(
        &app,
        &t.f1,
        &format!("/api/v1/cases/{claimed_case}/reward/payment"),
        &pay,
        200,
    )
    .await;
    assert_eq!(done["status"], "paid");
    let view: Value = app.lookup(&code, &pass).await.json().await.unwrap();
    assert_eq!(view["reward"]["status"], "paid");
    assert_eq!(view["reward"]["amount_fen"], 50_000);
    app.stop().await;
}

both_databases!(backend: rewards_from_before_shares_keep_working);

/// A reward above the policy's `collective_threshold_fen` (50,000 yuan in the default
/// policy) needs a collective decision and a legal review before it is approved, even when
/// the recovered amount alone would not; a quick reward's approval clock is escalated to the
/// region's finance staff when it passes, like any other clock.
async fn large_reward_needs_collective_decision_and_quick_clock_escalates(app: TestApp) {
    let t = team(&app).await;
    let fin = staff_with_email(
        &app,
        "finance9",
        "finance",
        "371500",
        Some("finance9@jubao.test"),
    )
    .await;
    // 2,000,000 yuan verified, nothing recovered: 2,500 + 4,000 + 3% of 1,850,000 = 62,000 yuan.
    let (case, _, _) = decided_case(&app, &t, &anonymous_report(), 200_000_000, 0).await;
    let path = |p: &str| format!("/api/v1/cases/{case}{p}");
    post_ok(
        &app,
        &t.sup,
        &path("/reward/flags"),
        &json!({"quick": true, "reason": "快奖"}),
        200,
    )
    .await;
    let p = post_ok(
        &app,
        &t.handler,
        &path("/reward"),
        &json!({"reason": "申请奖励"}),
        200,
    )
    .await;
    assert_eq!(p["amount_fen"], 6_200_000);
    let e = post_ok(&app, &fin, &path("/reward/approve"), &json!({}), 409).await;
    assert_eq!(e["error"]["code"], "collective_decision_required");
    assert_eq!(reward_status(&app, &case).await, "proposed");
    post_ok(&app, &t.sup, &path("/collective-decisions"), &json!({"meeting_date": "2026-11-20", "participants": ["局长", "副局长", "科长"], "conclusion": "同意奖励"}), 200).await;
    let e = post_ok(&app, &fin, &path("/reward/approve"), &json!({}), 409).await;
    assert_eq!(e["error"]["code"], "legal_review_required", "{e}");
    post_ok(
        &app,
        &t.legal,
        &path("/legal-review"),
        &json!({"opinion": "approve"}),
        200,
    )
    .await;

    // The quick approval clock passes: the sweep escalates it to finance (and supervisors).
    let (id, due): (i64, String) = sqlx::query_as(
        "SELECT id, due_on FROM clocks WHERE report_id = $1 AND kind = 'reward_approve' AND closed_at IS NULL",
    )
    .bind(&case)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let late = due.parse::<chrono::NaiveDate>().unwrap() + chrono::Duration::days(7);
    let s = jubao::workflow::sweep::sweep(&app.state.workflow, late, 500)
        .await
        .unwrap();
    assert!(s.escalated >= 1, "{s:?}");
    let mailed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE dedupe_key = $1")
        .bind(format!("clock:{id}:escalated:{}", fin.id))
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(mailed, 1, "finance is told of the late quick approval");
    let a = post_ok(&app, &fin, &path("/reward/approve"), &json!({}), 200).await;
    assert_eq!(
        a["status"], "proposed",
        "a supervisor approves too (above 10,000 yuan)"
    );
    audit_ok(&app).await;
    app.stop().await;
}

// Sunday 2 August 2026 in Beijing: the claim window's 60 days end on 1 October, a
// National Day holiday, so the window runs to the next working day (Civil Code art. 203).
both_databases!(at "2026-08-02T10:00:00+08:00": propose_approve_notify_claim_pay);
// Monday 28 September 2026: the quick reward's clocks cross the National Day holiday.
both_databases!(at "2026-09-28T10:00:00+08:00": supervisor_in_person_and_expiry);

both_databases!(
    large_reward_needs_collective_decision_and_quick_clock_escalates,
    ledger_export_row_by_row,
    openapi_lists_the_reward_endpoints,
);

// Thursday 10 September 2026 in Beijing: budget year 2026 whatever day the suite runs.
both_databases!(
    at "2026-09-10T10:00:00+08:00":
    co_reporters_share_claim_and_pay_their_own,
    co_reporter_share_expires_alone,
);
