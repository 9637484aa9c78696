//! Typical cases (典型案例, issue 19): drafted from a decided case, reviewed by legal, published
//! by a supervisor who did not draft it, withdrawn; the text is checked against the case's
//! sealed reporter data, tracking codes, call ids and staff names, and a draft that names
//! the reporter in any spelling the check can see is refused with the field named, and
//! nothing changes. Expected values are written by hand.

use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::*;
use crate::staffkit::*;

both_databases!(draft_review_publish_withdraw);

const NAME: &str = "赵春梅";
const PHONE: &str = "13655556666";

struct Team {
    intake: Staff,
    handler: Staff,
    legal: Staff,
    sup: Staff,
}

/// A named tip taken to `decided` (substantiated) by its handler.
async fn decided_case(app: &TestApp) -> (Team, String, String) {
    let team = Team {
        intake: staff(app, "intake1", "intake", "371502").await,
        handler: staff(app, "handler1", "handler", "371502").await,
        legal: staff(app, "legal1", "legal", "371500").await,
        sup: staff(app, "sup1", "supervisor", "371500").await,
    };
    let receipt = app
        .file_tip(&named_report(
            NAME,
            &resident_id("37150219850505222"),
            PHONE,
        ))
        .await;
    let code = receipt["tracking_code"].as_str().unwrap().to_string();
    let case = case_id_of(app, &code).await;
    let path = |p: &str| format!("/api/v1/cases/{case}{p}");
    let decide = json!({"to": "decided", "reason": "查实", "outcome": "substantiated",
        "verified_fen": 1_500_000, "recovered_fen": 1_200_000,
        "penalties": [{"kind": "fine", "amount_fen": 2_400_000}], "reward_due": false});
    let steps = [
        (
            &team.intake,
            "/transitions",
            json!({"to": "accepted", "reason": "线索具体"}),
        ),
        (
            &team.handler,
            "/transitions",
            json!({"to": "checking", "reason": "开始核查"}),
        ),
        (
            &team.handler,
            "/party-notice",
            json!({"reason": "告知拟处理决定"}),
        ),
        (
            &team.handler,
            "/statement",
            json!({"reason": "当事人书面陈述"}),
        ),
        (&team.handler, "/transitions", decide),
    ];
    for (who, step, body) in steps {
        post_ok(app, who, &path(step), &body, 200).await;
    }
    (team, case, code)
}

fn draft(summary: &str) -> Value {
    json!({
        "title": "某民营医院虚构住院骗取医保基金案",
        "institution_kind": "民营医院",
        "region": "371500",
        "summary": summary,
        "legal_basis": "《医疗保障基金使用监督管理条例》第四十条",
        "penalty": "追回医保基金，处骗取金额两倍罚款",
    })
}

const SUMMARY: &str = "经查，该医院通过虚构住院病历骗取医保基金，已依法处理。";

async fn draft_review_publish_withdraw(app: TestApp) {
    let (t, case, code) = decided_case(&app).await;
    let drafts = format!("/api/v1/cases/{case}/typical-cases");
    let rows = || app.count("typical_cases");
    let audit_before = app.count("audit_log").await;

    // The reporter, a tracking code and a staff name, in spellings the check folds: each
    // refused with the field named and what it named; nothing is stored.
    let spaced_name = "赵 春·梅";
    let wide_phone = "１３６-5555 6666";
    let numerals = "一三六五五五五六六六六";
    for (field, text, code_expected) in [
        (
            "summary",
            format!("举报人{spaced_name}反映"),
            "names_reporter",
        ),
        ("summary", format!("联系电话{wide_phone}"), "names_reporter"),
        ("summary", format!("电话{numerals}"), "names_reporter"),
        ("summary", format!("查询码 {}", code), "names_tracking_code"),
        ("summary", "经办人handler1核实".to_string(), "names_staff"),
    ] {
        let e = post_ok(&app, &t.handler, &drafts, &draft(&text), 422).await;
        assert_eq!(e["error"]["field"], field, "{text}: {e}");
        assert_eq!(e["error"]["code"], code_expected, "{text}: {e}");
        let msg = e["error"]["message"].as_str().unwrap();
        assert!(!msg.contains(NAME) && !msg.contains(PHONE), "{msg}");
    }
    let mut titled = draft(SUMMARY);
    titled["title"] = json!(format!("{NAME}举报的案件"));
    let e = post_ok(&app, &t.handler, &drafts, &titled, 422).await;
    assert_eq!(e["error"]["field"], "title");
    assert_eq!(rows().await, 0, "refused drafts change nothing");
    // Each refusal is audited as denied, and no entry holds the text.
    let denied: Vec<String> = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'case.typical_draft' AND outcome = 'denied'",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(denied.len(), 6);
    assert!(denied
        .iter()
        .all(|d| !d.contains(NAME) && !d.contains("5555")));
    assert!(app.count("audit_log").await >= audit_before + 6);

    // A clean draft; its drafter may not review it, legal may; the drafter may not approve.
    let d = post_ok(&app, &t.handler, &drafts, &draft(SUMMARY), 200).await;
    let id = d["id"].as_str().unwrap().to_string();
    assert_eq!(d["status"], "draft");
    let review = format!("/api/v1/typical-cases/{id}/legal-review");
    let approve = format!("/api/v1/typical-cases/{id}/approve");
    let withdraw = format!("/api/v1/typical-cases/{id}/withdraw");
    let e = post_ok(&app, &t.handler, &review, &json!({"approve": true}), 403).await;
    assert_eq!(e["error"]["code"], "forbidden", "a handler is not legal");
    let e = post_ok(&app, &t.sup, &approve, &json!({}), 409).await;
    assert_eq!(
        e["error"]["code"], "typical_wrong_status",
        "not reviewed yet"
    );
    post_ok(&app, &t.legal, &review, &json!({"approve": true}), 200).await;
    let public = || async {
        app.client
            .get(app.url("/api/v1/public/typical-cases"))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    assert_eq!(public().await, json!([]), "reviewed is not yet published");
    let listed: Value = get(&app, &t.handler.token, "/api/v1/typical-cases")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["status"], "reviewed", "{listed}");
    assert_eq!(listed[0]["drafted_by"], "handler1");
    post_ok(&app, &t.sup, &approve, &json!({}), 200).await;
    let list = public().await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let res = app
        .client
        .get(app.url("/api/v1/public/typical-cases?page=2"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        400,
        "no query is read: an unknown one is refused"
    );
    let c = &list[0];
    assert_eq!(c["title"], "某民营医院虚构住院骗取医保基金案");
    assert_eq!(c["region"], "371500");
    assert_eq!(
        c["recovered_fen"], 1_200_000,
        "the decision's recovered amount"
    );
    let text = list.to_string();
    for secret in [
        NAME,
        PHONE,
        code.as_str(),
        case.as_str(),
        "handler1",
        "sup1",
    ] {
        assert!(!text.contains(secret), "the public list holds {secret}");
    }

    // A supervisor who drafts may not approve their own; withdrawal needs a reason.
    let own = post_ok(&app, &t.sup, &drafts, &draft("另一则典型案例的经过。"), 200).await;
    let own_id = own["id"].as_str().unwrap();
    post_ok(
        &app,
        &t.legal,
        &format!("/api/v1/typical-cases/{own_id}/legal-review"),
        &json!({"approve": true}),
        200,
    )
    .await;
    let e = post_ok(
        &app,
        &t.sup,
        &format!("/api/v1/typical-cases/{own_id}/approve"),
        &json!({}),
        403,
    )
    .await;
    assert_eq!(e["error"]["code"], "own_draft");
    let e = post_ok(&app, &t.sup, &withdraw, &json!({}), 422).await;
    assert_eq!(e["error"]["field"], "reason");
    post_ok(
        &app,
        &t.sup,
        &withdraw,
        &json!({"reason": "当事人已申请行政复议"}),
        200,
    )
    .await;
    assert_eq!(public().await, json!([]));
    let steps: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE report_id = $1 AND outcome = 'ok' \
         AND action LIKE 'case.typical_%' ORDER BY seq",
    )
    .bind(&case)
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(
        steps,
        [
            "case.typical_draft",
            "case.typical_review",
            "case.typical_publish",
            "case.typical_draft",
            "case.typical_review",
            "case.typical_withdraw"
        ]
    );
    let _ = t.intake;
    app.stop().await;
}
