//! The case workflow over HTTP: every transition, prerequisites, assignment, recusal,
//! concurrency, extensions, identity reveal, staff intake and the audit chain.

use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::*;
use crate::staffkit::*;

/// A tip about a county hospital in 371502 (a county of city 371500, province 370000).
fn county_tip() -> Value {
    named_report("张三", &resident_id("37150219800101123"), "13800138000")
}

async fn audit_ok(app: &TestApp) {
    let v = jubao::audit::verify(&app.db, app.state.vault.audit_key(), None, |_, _| {})
        .await
        .unwrap();
    assert_eq!(v.first_broken, None, "{:?}", v.problem);
}

async fn denied_audits(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = $1 AND outcome = 'denied'")
        .bind(action)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

async fn closed_loop(app: TestApp) {
    let intake = staff(&app, "intake1", "intake", "371500").await;
    let h1 = staff(&app, "handler1", "handler", "371502").await;
    let h2 = staff(&app, "handler2", "handler", "371502").await;
    let sup = staff(&app, "sup1", "supervisor", "371500").await;
    let legal = staff(&app, "legal1", "legal", "371500").await;

    // handler2 already has an open case, so the new one goes to handler1 (fewest open).
    let busy = file_case(&app, &anonymous_report()).await;
    post_ok(
        &app,
        &intake,
        &format!("/api/v1/cases/{busy}/transitions"),
        &json!({"to": "accepted", "reason": "线索具体"}),
        200,
    )
    .await;
    let first: String = sqlx::query_scalar("SELECT u.username FROM reports r JOIN staff_users u ON u.id = r.assignee_id WHERE r.id = $1")
        .bind(&busy).fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(first, "handler1", "ties go by username");
    post_ok(
        &app,
        &sup,
        &format!("/api/v1/cases/{busy}/assignment"),
        &json!({"assignee": "handler2", "reason": "均衡工作量"}),
        200,
    )
    .await;

    let receipt = app.file_tip(&county_tip()).await;
    let code = receipt["tracking_code"].as_str().unwrap().to_string();
    let pass = receipt["passcode"].as_str().unwrap().to_string();
    let case = case_id_of(&app, &code).await;
    let path = |p: &str| format!("/api/v1/cases/{case}{p}");

    // Inbox of the intake user shows it with its acceptance deadline.
    let inbox: Value = get(&app, &intake.token, "/api/v1/cases?status=received")
        .await
        .json()
        .await
        .unwrap();
    let row = inbox
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == case.as_str())
        .expect("in the inbox");
    assert_eq!(row["next_clock"], "accept");
    assert_eq!(row["next_due"], receipt["accept_by"]);

    // Accept: assigned automatically to handler1, handle clock opened.
    let done = post_ok(
        &app,
        &intake,
        &path("/transitions"),
        &json!({"to": "accepted", "reason": "线索具体，属于受理范围"}),
        200,
    )
    .await;
    assert_eq!(done["status"], "accepted");
    assert_eq!(done["assignee"], h1.id.as_str());
    let detail: Value = get(&app, &h1.token, &path("")).await.json().await.unwrap();
    let kinds: Vec<&str> = detail["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["accept", "handle", "notify_accept"]);
    assert_eq!(detail["clocks"][0]["outcome"], "met");
    assert!(detail["reporter"]["pseudonym"]
        .as_str()
        .unwrap()
        .starts_with("R-"));
    assert!(
        !detail.to_string().contains("张三"),
        "no identity in the case view"
    );
    assert!(!detail.to_string().contains("13800138000"));
    // handler2 may not open handler1's case (IDOR).
    assert_eq!(get(&app, &h2.token, &path("")).await.status(), 403);

    post_ok(
        &app,
        &h1,
        &path("/transitions"),
        &json!({"to": "checking", "reason": "开始核查"}),
        200,
    )
    .await;
    // On-site checks need two inspectors.
    let bad = post_ok(
        &app,
        &h1,
        &path("/findings"),
        &json!({"summary": "现场检查", "on_site": true, "inspectors": ["李四"]}),
        422,
    )
    .await;
    assert_eq!(bad["error"]["field"], "inspectors");
    post_ok(&app, &h1, &path("/findings"), &json!({
        "summary": "调取住院病历 30 份，其中 12 份无治疗记录",
        "evidence": [{"kind": "documentary", "description": "住院病历复印件"}, {"kind": "inspection_record", "description": "现场检查笔录"}],
        "on_site": true, "inspectors": ["李四", "王五"]
    }), 200).await;

    let decide = json!({"to": "decided", "reason": "查实", "outcome": "substantiated",
        "verified_fen": 8_000_000, "recovered_fen": 6_000_000,
        "penalties": [{"kind": "fine", "amount_fen": 12_000_000}], "reward_due": true});
    // An adverse decision needs notice to the party first …
    let e = post_ok(&app, &h1, &path("/transitions"), &decide, 409).await;
    assert_eq!(e["error"]["code"], "party_notice_required");
    post_ok(
        &app,
        &h1,
        &path("/party-notice"),
        &json!({"reason": "告知拟处理决定"}),
        200,
    )
    .await;
    // … and their five working days (or their statement).
    let e = post_ok(&app, &h1, &path("/transitions"), &decide, 409).await;
    assert_eq!(e["error"]["code"], "defence_period_open");
    post_ok(
        &app,
        &h1,
        &path("/statement"),
        &json!({"reason": "当事人书面陈述，未提出新证据"}),
        200,
    )
    .await;
    // 60,000 yuan recovered ≥ 50,000: collective decision and legal review first.
    let e = post_ok(&app, &h1, &path("/transitions"), &decide, 409).await;
    assert_eq!(e["error"]["code"], "collective_decision_required");
    post_ok(&app, &sup, &path("/collective-decisions"), &json!({"meeting_date": "2026-11-20", "participants": ["局长", "副局长", "科长"], "conclusion": "同意按查实金额处理"}), 200).await;
    let e = post_ok(&app, &h1, &path("/transitions"), &decide, 409).await;
    assert_eq!(e["error"]["code"], "legal_review_required");
    // The handler is not a legal reviewer.
    post_ok(
        &app,
        &h1,
        &path("/legal-review"),
        &json!({"opinion": "approve"}),
        403,
    )
    .await;
    post_ok(
        &app,
        &legal,
        &path("/legal-review"),
        &json!({"opinion": "approve", "note": "事实清楚，证据确凿"}),
        200,
    )
    .await;
    let done = post_ok(&app, &h1, &path("/transitions"), &decide, 200).await;
    assert_eq!(done["status"], "decided");
    let amounts: (String, i64, i64, i64) = sqlx::query_as(
        "SELECT decision, verified_fen, recovered_fen, reward_due FROM reports WHERE id = $1",
    )
    .bind(&case)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(amounts, ("substantiated".into(), 8_000_000, 6_000_000, 1));

    // Closing needs the feedback text; then the reporter sees every step, no staff names.
    post_ok(
        &app,
        &h1,
        &path("/transitions"),
        &json!({"to": "closed", "reason": "办结"}),
        422,
    )
    .await;
    post_ok(&app, &h1, &path("/transitions"), &json!({"to": "closed", "reason": "办结", "feedback": "经查，您反映的问题属实，已依法处理。"}), 200).await;
    let view: Value = app.lookup(&code, &pass).await.json().await.unwrap();
    let steps: Vec<&str> = view["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["received", "accepted", "checking", "decided", "closed"]
    );
    assert!(view.to_string().contains("已依法处理"));
    assert!(!view.to_string().contains("handler1") && !view.to_string().contains("同志"));

    // A closed case allows nothing more; the error names the allowed statuses (none).
    let e = post_ok(
        &app,
        &h1,
        &path("/transitions"),
        &json!({"to": "checking", "reason": "x"}),
        409,
    )
    .await;
    assert_eq!(e["error"]["code"], "illegal_transition");
    // Every case clock is closed (the reward's notice clock runs on: issue 6); the audit
    // chain holds.
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM clocks WHERE report_id = $1 AND closed_at IS NULL \
         AND kind NOT IN ('reward_notice', 'reward_claim')",
    )
    .bind(&case)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(open, 0);
    audit_ok(&app).await;
    app.stop().await;
}

async fn illegal_transitions_name_the_allowed_ones(app: TestApp) {
    let intake = staff(&app, "intake1", "intake", "371500").await;
    let case = file_case(&app, &anonymous_report()).await;
    let before = app.count("case_events").await;
    let e = post_ok(
        &app,
        &intake,
        &format!("/api/v1/cases/{case}/transitions"),
        &json!({"to": "closed", "reason": "x", "feedback": "y"}),
        403,
    )
    .await;
    assert_eq!(e["error"]["code"], "forbidden", "intake may not close");
    let sup = staff(&app, "sup1", "supervisor", "370000").await;
    let e = post_ok(
        &app,
        &sup,
        &format!("/api/v1/cases/{case}/transitions"),
        &json!({"to": "closed", "reason": "x", "feedback": "y"}),
        409,
    )
    .await;
    assert_eq!(e["error"]["code"], "illegal_transition");
    let msg = e["error"]["message"].as_str().unwrap();
    for s in ["accepted", "not_accepted", "transferred", "merged"] {
        assert!(msg.contains(s), "{msg}");
    }
    // Grounds are required and checked.
    let e = post_ok(
        &app,
        &intake,
        &format!("/api/v1/cases/{case}/transitions"),
        &json!({"to": "not_accepted", "reason": "x"}),
        422,
    )
    .await;
    assert_eq!(e["error"]["field"], "ground");
    let e = post_ok(
        &app,
        &intake,
        &format!("/api/v1/cases/{case}/transitions"),
        &json!({"to": "not_accepted", "reason": "x", "ground": "because"}),
        422,
    )
    .await;
    assert_eq!(e["error"]["field"], "ground");
    assert_eq!(app.count("case_events").await, before, "nothing changed");
    assert_eq!(status_of(&app, &case).await, "received");
    post_ok(
        &app,
        &intake,
        &format!("/api/v1/cases/{case}/transitions"),
        &json!({"to": "not_accepted", "reason": "无具体线索", "ground": "no_clear_target"}),
        200,
    )
    .await;
    assert_eq!(status_of(&app, &case).await, "not_accepted");
    // Transfer (supervisor only) and merge into an earlier case.
    let a = file_case(&app, &anonymous_report()).await;
    let b = file_case(&app, &anonymous_report()).await;
    post_ok(
        &app,
        &intake,
        &format!("/api/v1/cases/{b}/transitions"),
        &json!({"to": "transferred", "reason": "涉嫌犯罪", "destination": "police"}),
        403,
    )
    .await;
    let e = post_ok(
        &app,
        &intake,
        &format!("/api/v1/cases/{a}/transitions"),
        &json!({"to": "merged", "reason": "同一事项", "merge_into": b}),
        422,
    )
    .await;
    assert_eq!(
        e["error"]["field"], "merge_into",
        "the earlier case keeps priority"
    );
    post_ok(
        &app,
        &intake,
        &format!("/api/v1/cases/{b}/transitions"),
        &json!({"to": "merged", "reason": "同一事项", "merge_into": a}),
        200,
    )
    .await;
    let into: Option<String> = sqlx::query_scalar("SELECT merged_into FROM reports WHERE id = $1")
        .bind(&b)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(into.as_deref(), Some(a.as_str()));
    post_ok(
        &app,
        &sup,
        &format!("/api/v1/cases/{a}/transitions"),
        &json!({"to": "transferred", "reason": "涉嫌犯罪", "destination": "other_region"}),
        422,
    )
    .await;
    post_ok(
        &app,
        &sup,
        &format!("/api/v1/cases/{a}/transitions"),
        &json!({"to": "transferred", "reason": "涉嫌犯罪", "destination": "police"}),
        200,
    )
    .await;
    assert!(denied_audits(&app, "case.transfer").await >= 1);
    audit_ok(&app).await;
    app.stop().await;
}

async fn concurrent_transitions_one_wins(app: TestApp) {
    let intake = staff(&app, "intake1", "intake", "371500").await;
    let sup = staff(&app, "sup1", "supervisor", "371500").await;
    let case = file_case(&app, &anonymous_report()).await;
    let p = format!("/api/v1/cases/{case}/transitions");
    let a = json!({"to": "accepted", "reason": "受理"});
    let r = json!({"to": "not_accepted", "reason": "不受理", "ground": "outside_scope"});
    let (x, y) = tokio::join!(
        post(&app, &intake.token, &p, &a),
        post(&app, &sup.token, &p, &r)
    );
    let mut codes = [x.status().as_u16(), y.status().as_u16()];
    codes.sort();
    assert_eq!(codes, [200, 409]);
    let events: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM case_events WHERE report_id = $1 AND kind = 'transition'",
    )
    .bind(&case)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(events, 1);
    audit_ok(&app).await;
    app.stop().await;
}

async fn recusal_and_regions(app: TestApp) {
    let intake = staff(&app, "intake1", "intake", "371500").await;
    let conflicted = staff(&app, "handler_c", "handler", "371502").await;
    let fair = staff(&app, "handler_z", "handler", "371502").await;
    let other_county = staff(&app, "handler_o", "handler", "371503").await;
    let other_city_sup = staff(&app, "sup_o", "supervisor", "371600").await;
    let sup = staff(&app, "sup1", "supervisor", "371500").await;
    // handler_c declares a conflict with the hospital (spacing and width differ).
    let res = post(
        &app,
        &conflicted.token,
        "/api/v1/me/conflicts",
        &json!({"institution": "某某市 第一人民医院", "note": "配偶在该院工作"}),
    )
    .await;
    assert_eq!(res.status(), 204);
    let case = file_case(&app, &anonymous_report()).await;
    let done = post_ok(
        &app,
        &intake,
        &format!("/api/v1/cases/{case}/transitions"),
        &json!({"to": "accepted", "reason": "受理"}),
        200,
    )
    .await;
    assert_eq!(
        done["assignee"],
        fair.id.as_str(),
        "the recused handler is skipped although handler_c sorts first"
    );
    // Never shown, not even to a supervisor who is recused.
    post_ok(
        &app,
        &sup,
        &format!("/api/v1/cases/{case}/assignment"),
        &json!({"assignee": "handler_c", "reason": "调整"}),
        422,
    )
    .await;
    post_ok(
        &app,
        &sup,
        &format!("/api/v1/cases/{case}/assignment"),
        &json!({"assignee": "handler_o", "reason": "调整"}),
        422,
    )
    .await;
    for (who, token) in [
        ("recused", &conflicted.token),
        ("other county", &other_county.token),
        ("other city", &other_city_sup.token),
    ] {
        assert_eq!(
            get(&app, token, &format!("/api/v1/cases/{case}"))
                .await
                .status(),
            403,
            "{who}"
        );
    }
    let list: Value = get(&app, &other_city_sup.token, "/api/v1/cases")
        .await
        .json()
        .await
        .unwrap();
    assert!(list.as_array().unwrap().is_empty());
    let list: Value = get(&app, &sup.token, "/api/v1/cases")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "a city sees its counties"
    );
    // Asking for a region outside one's own is refused.
    assert_eq!(
        get(&app, &other_county.token, "/api/v1/cases?region=371500")
            .await
            .status(),
        403
    );
    assert!(denied_audits(&app, "case.view").await >= 3);
    app.stop().await;
}

async fn extension_needs_a_supervisor(app: TestApp) {
    let intake = staff(&app, "intake1", "intake", "371500").await;
    let h = staff(&app, "handler1", "handler", "371502").await;
    let sup = staff(&app, "sup1", "supervisor", "371500").await;
    let case = file_case(&app, &anonymous_report()).await;
    post_ok(
        &app,
        &intake,
        &format!("/api/v1/cases/{case}/transitions"),
        &json!({"to": "accepted", "reason": "受理"}),
        200,
    )
    .await;
    let due_before: String =
        sqlx::query_scalar("SELECT due_on FROM clocks WHERE report_id = $1 AND kind = 'handle'")
            .bind(&case)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    let req = post_ok(
        &app,
        &h,
        &format!("/api/v1/cases/{case}/extensions"),
        &json!({"kind": "complex", "reason": "涉及多家机构，需延期"}),
        200,
    )
    .await;
    let rid = req["request_id"].as_str().unwrap();
    // The requester cannot approve; nothing moves.
    post_ok(
        &app,
        &h,
        &format!("/api/v1/cases/{case}/extensions/{rid}/decision"),
        &json!({"approve": true, "reason": "同意"}),
        403,
    )
    .await;
    let due_now: String =
        sqlx::query_scalar("SELECT due_on FROM clocks WHERE report_id = $1 AND kind = 'handle'")
            .bind(&case)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(due_now, due_before);
    // A major extension needs the case marked major and a collective decision.
    let done = post_ok(
        &app,
        &sup,
        &format!("/api/v1/cases/{case}/extensions/{rid}/decision"),
        &json!({"approve": true, "reason": "同意延长至三个月"}),
        200,
    )
    .await;
    // Accepted Thursday 25 June 2026 (the app's clock): three months end on Friday
    // 25 September, the Mid-Autumn holiday, and the weekend follows, so the deadline moves to
    // Monday the 28th (worked by hand from the State Council's 2026 notice).
    assert_eq!(done["due_on"], "2026-09-28", "{done}");
    let req = post_ok(
        &app,
        &h,
        &format!("/api/v1/cases/{case}/extensions"),
        &json!({"kind": "major", "reason": "重大案件"}),
        200,
    )
    .await;
    let rid = req["request_id"].as_str().unwrap();
    let e = post_ok(
        &app,
        &sup,
        &format!("/api/v1/cases/{case}/extensions/{rid}/decision"),
        &json!({"approve": true, "reason": "同意"}),
        409,
    )
    .await;
    assert_eq!(e["error"]["code"], "not_major");
    post_ok(
        &app,
        &sup,
        &format!("/api/v1/cases/{case}/major"),
        &json!({"reason": "涉案金额大"}),
        200,
    )
    .await;
    let e = post_ok(
        &app,
        &sup,
        &format!("/api/v1/cases/{case}/extensions/{rid}/decision"),
        &json!({"approve": true, "reason": "同意"}),
        409,
    )
    .await;
    assert_eq!(e["error"]["code"], "collective_decision_required");
    post_ok(&app, &sup, &format!("/api/v1/cases/{case}/collective-decisions"), &json!({"meeting_date": "2026-06-25", "participants": ["甲", "乙", "丙"], "conclusion": "延长至六个月"}), 200).await;
    let done = post_ok(
        &app,
        &sup,
        &format!("/api/v1/cases/{case}/extensions/{rid}/decision"),
        &json!({"approve": true, "reason": "集体讨论同意"}),
        200,
    )
    .await;
    // Six months: Friday 25 December 2026, a working day.
    assert_eq!(done["due_on"], "2026-12-25", "{done}");
    audit_ok(&app).await;
    app.stop().await;
}

async fn identity_reveal_custodian_model(app: TestApp) {
    let intake = staff(&app, "intake1", "intake", "371500").await;
    let mut h = staff(&app, "handler1", "handler", "371502").await;
    let cust = staff(&app, "cust1", "custodian", "371500").await;
    let auditor = staff(&app, "aud1", "auditor", "371500").await;
    let case = file_case(&app, &county_tip()).await;
    post_ok(
        &app,
        &intake,
        &format!("/api/v1/cases/{case}/transitions"),
        &json!({"to": "accepted", "reason": "受理"}),
        200,
    )
    .await;
    post_ok(
        &app,
        &h,
        &format!("/api/v1/cases/{case}/identity-requests"),
        &json!({"reason": ""}),
        422,
    )
    .await;
    let r = post_ok(
        &app,
        &h,
        &format!("/api/v1/cases/{case}/identity-requests"),
        &json!({"reason": "需与举报人核实细节"}),
        200,
    )
    .await;
    let rid = r["id"].as_str().unwrap().to_string();
    // Not yet approved: nothing is opened.
    post_ok(
        &app,
        &h,
        &format!("/api/v1/identity-requests/{rid}/reveal"),
        &json!({}),
        409,
    )
    .await;
    // The handler cannot approve; the custodian sees the queue and approves.
    post_ok(
        &app,
        &h,
        &format!("/api/v1/identity-requests/{rid}/decision"),
        &json!({"approve": true, "reason": "x"}),
        403,
    )
    .await;
    let queue: Value = get(&app, &cust.token, "/api/v1/identity-requests?state=pending")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queue.as_array().unwrap().len(), 1);
    post_ok(
        &app,
        &cust,
        &format!("/api/v1/identity-requests/{rid}/decision"),
        &json!({"approve": true, "reason": "核实必要"}),
        200,
    )
    .await;
    // The custodian cannot open it themselves.
    post_ok(
        &app,
        &cust,
        &format!("/api/v1/identity-requests/{rid}/reveal"),
        &json!({}),
        403,
    )
    .await;
    // Whoever sees an identity has a second factor: not yet, so refused, and the approval
    // stays usable.
    let e = post_ok(
        &app,
        &h,
        &format!("/api/v1/identity-requests/{rid}/reveal"),
        &json!({}),
        403,
    )
    .await;
    assert_eq!(e["error"]["code"], "totp_required_for_identity");
    enrol_totp(&app, &mut h).await;
    let id = post_ok(
        &app,
        &h,
        &format!("/api/v1/identity-requests/{rid}/reveal"),
        &json!({}),
        200,
    )
    .await;
    assert_eq!(id["name"], "张三");
    assert_eq!(id["phone"], "13800138000");
    // Once only.
    post_ok(
        &app,
        &h,
        &format!("/api/v1/identity-requests/{rid}/reveal"),
        &json!({}),
        410,
    )
    .await;
    // Auditors see the reveal in the log, without the identity.
    let log: Value = get(
        &app,
        &auditor.token,
        "/api/v1/audit?action=identity.reveal&outcome=ok",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(log.as_array().unwrap().len(), 1);
    assert!(!log.to_string().contains("张三") && !log.to_string().contains("13800138000"));
    assert_eq!(log[0]["actor"], "handler1");
    // Anonymous tips have nothing to reveal.
    let anon = file_case(&app, &anonymous_report()).await;
    post_ok(
        &app,
        &intake,
        &format!("/api/v1/cases/{anon}/transitions"),
        &json!({"to": "accepted", "reason": "受理"}),
        200,
    )
    .await;
    post_ok(
        &app,
        &h,
        &format!("/api/v1/cases/{anon}/identity-requests"),
        &json!({"reason": "核实"}),
        409,
    )
    .await;
    audit_ok(&app).await;
    app.stop().await;
}

async fn staff_intake_records_the_recorder(app: TestApp) {
    let intake = staff(&app, "intake1", "intake", "371500").await;
    let h = staff(&app, "handler1", "handler", "371502").await;
    let mut body = county_tip();
    body["medium"] = json!("visit");
    let before = app.counts().await;
    post_ok(&app, &h, "/api/v1/staff/reports", &body, 403).await;
    assert_eq!(app.counts().await, before);
    let r = post_ok(&app, &intake, "/api/v1/staff/reports", &body, 201).await;
    assert_eq!(r["tracking_code"].as_str().unwrap().len(), 12);
    let (channel, recorded_by): (String, Option<String>) =
        sqlx::query_as("SELECT channel, recorded_by FROM reports WHERE id = $1")
            .bind(r["case_id"].as_str().unwrap())
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(channel, "staff");
    assert_eq!(recorded_by.as_deref(), Some(intake.id.as_str()));
    let detail: Value = get(
        &app,
        &intake.token,
        &format!("/api/v1/cases/{}", r["case_id"].as_str().unwrap()),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(detail["recorded_by"], "intake1");
    // Without the medium it is refused by name.
    let e = post_ok(&app, &intake, "/api/v1/staff/reports", &county_tip(), 422).await;
    assert_eq!(e["error"]["field"], "medium");
    app.stop().await;
}

async fn audit_verify_catches_an_edited_row(app: TestApp) {
    let intake = staff(&app, "intake1", "intake", "371500").await;
    let auditor = staff(&app, "aud1", "auditor", "000000").await;
    let case = file_case(&app, &anonymous_report()).await;
    post_ok(
        &app,
        &intake,
        &format!("/api/v1/cases/{case}/transitions"),
        &json!({"to": "accepted", "reason": "受理"}),
        200,
    )
    .await;
    let v: Value = get(&app, &auditor.token, "/api/v1/audit/verify")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["first_broken"], Value::Null);
    let n = v["entries"].as_i64().unwrap();
    assert!(n >= 3, "{n}");
    // Someone with database access rewrites history.
    sqlx::query("UPDATE audit_log SET actor = 'nobody' WHERE seq = 2")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let v: Value = get(&app, &auditor.token, "/api/v1/audit/verify")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["first_broken"], 2);
    // Only auditors read the log.
    assert_eq!(
        get(&app, &intake.token, "/api/v1/audit").await.status(),
        403
    );
    app.stop().await;
}

both_databases!(
    closed_loop,
    illegal_transitions_name_the_allowed_ones,
    concurrent_transitions_one_wins,
    recusal_and_regions,
    identity_reveal_custodian_model,
    staff_intake_records_the_recorder,
    audit_verify_catches_an_edited_row,
);

// Thursday 25 June 2026 in Beijing: the extension dates are worked by hand.
both_databases!(at "2026-06-25T10:00:00+08:00": extension_needs_a_supervisor);
