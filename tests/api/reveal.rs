//! Identity reveals, checked again at every step (issue 15, DOMAIN §6–§7): a custodian who
//! is recused or of another region cannot decide; an approval expires; an approval whose
//! custodian has since been recused no longer opens anything; a requester who has since been
//! recused cannot be approved; whoever opens an identity has a second factor; a region may
//! need two custodians. Every refusal returns no identity and is audited as denied.

use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::*;
use crate::staffkit::*;

const HOSPITAL: &str = "某某市第一人民医院";

async fn request(app: &TestApp, h: &Staff, case: &str) -> String {
    post_ok(
        app,
        h,
        &format!("/api/v1/cases/{case}/identity-requests"),
        &json!({"reason": "需当面核实举报人提供的票据原件"}),
        200,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn decide(app: &TestApp, s: &Staff, rid: &str, approve: bool, status: u16) -> Value {
    post_ok(
        app,
        s,
        &format!("/api/v1/identity-requests/{rid}/decision"),
        &json!({"approve": approve, "reason": "理由充分"}),
        status,
    )
    .await
}

async fn reveal(app: &TestApp, s: &Staff, rid: &str, status: u16) -> Value {
    post_ok(
        app,
        s,
        &format!("/api/v1/identity-requests/{rid}/reveal"),
        &json!({}),
        status,
    )
    .await
}

async fn recuse(app: &TestApp, s: &Staff) {
    let res = post(
        app,
        &s.token,
        "/api/v1/me/conflicts",
        &json!({"institution": HOSPITAL, "note": "亲属在该院工作"}),
    )
    .await;
    assert_eq!(res.status(), 204);
}

async fn denied(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = $1 AND outcome = 'denied'")
        .bind(action)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

/// A named tip, accepted: its only handler of 371502 has it.
async fn accepted_case(app: &TestApp) -> String {
    let intake = staff(app, "intake1", "intake", "371500").await;
    let case = file_case(
        app,
        &named_report("王晓明", &resident_id("37150219800101123"), "13905350000"),
    )
    .await;
    post_ok(
        app,
        &intake,
        &format!("/api/v1/cases/{case}/transitions"),
        &json!({"to": "accepted", "reason": "受理"}),
        200,
    )
    .await;
    case
}

async fn checked_at_every_step(backend: Backend) {
    // Thursday 10 September 2026, 10:00 in Beijing.
    let Some(app) = spawn_app_at(backend, "2026-09-10T10:00:00+08:00", |_| {}).await else {
        return;
    };
    let mut h = staff(&app, "handler1", "handler", "371502").await;
    let case = accepted_case(&app).await;
    let recused = staff(&app, "cust_r", "custodian", "371500").await;
    let far = staff(&app, "cust_far", "custodian", "371503").await;
    let b = staff(&app, "cust_b", "custodian", "371500").await;
    let c = staff(&app, "cust_c", "custodian", "371500").await;
    let d = staff(&app, "cust_d", "custodian", "371500").await;
    let near_auditor = staff(&app, "aud_near", "auditor", "371500").await;
    let far_auditor = staff(&app, "aud_far", "auditor", "371503").await;
    recuse(&app, &recused).await;
    enrol_totp(&app, &mut h).await;

    // A custodian of another county, or one recused from the hospital, cannot decide.
    let r1 = request(&app, &h, &case).await;
    let before = denied(&app, "identity.decide").await;
    for s in [&far, &recused] {
        let e = decide(&app, s, &r1, true, 403).await;
        assert_eq!(e["error"]["code"], "forbidden");
    }
    assert_eq!(denied(&app, "identity.decide").await, before + 2);
    // Only the region's auditor sees the request in the list.
    let list = |s: &Staff| {
        let token = s.token.clone();
        let app = &app;
        async move {
            let v: Value = get(app, &token, "/api/v1/identity-requests")
                .await
                .json()
                .await
                .unwrap();
            v.as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list(&near_auditor).await, vec![r1.clone()]);
    assert!(list(&far_auditor).await.is_empty());
    assert!(list(&recused).await.is_empty(), "recused: not listed");

    // Approved at 10:00 on the 10th; good for 24 hours: at 10:00 on the 11th it is gone.
    let v = decide(&app, &b, &r1, true, 200).await;
    assert_eq!(v["state"], "approved");
    assert_eq!(
        (v["approvals"].clone(), v["approvals_required"].clone()),
        (json!(1), json!(1))
    );
    app.clock.advance(chrono::Duration::hours(24));
    let e = reveal(&app, &h, &r1, 410).await;
    assert_eq!(e["error"]["code"], "approval_expired");
    assert!(!e.to_string().contains("王晓明"));

    // Within the time it opens, once.
    let r2 = request(&app, &h, &case).await;
    decide(&app, &b, &r2, true, 200).await;
    app.clock.advance(chrono::Duration::hours(23));
    let id = reveal(&app, &h, &r2, 200).await;
    assert_eq!(id["name"], "王晓明");

    // The custodian who approved is recused before the reveal: the approval is withdrawn.
    let r3 = request(&app, &h, &case).await;
    decide(&app, &c, &r3, true, 200).await;
    recuse(&app, &c).await;
    let e = reveal(&app, &h, &r3, 409).await;
    assert_eq!(e["error"]["code"], "approval_withdrawn");
    assert!(!e.to_string().contains("王晓明"));

    // The requester is recused after asking: no custodian can approve it any more.
    let r4 = request(&app, &h, &case).await;
    recuse(&app, &h).await;
    let e = decide(&app, &d, &r4, true, 409).await;
    assert_eq!(e["error"]["code"], "requester_ineligible");
    let e = reveal(&app, &h, &r4, 403).await;
    assert_eq!(e["error"]["code"], "forbidden");
    // A refusal of it is still possible.
    assert_eq!(decide(&app, &d, &r4, false, 200).await["state"], "denied");
    let reveals: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'identity.reveal' AND outcome = 'ok'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(reveals, 1, "one identity opened in all");
    assert!(denied(&app, "identity.reveal").await >= 3);
    app.stop().await;
}

async fn two_custodians_when_configured(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| c.identity.approvals_required = 2).await else {
        return;
    };
    let mut h = staff(&app, "handler1", "handler", "371502").await;
    let case = accepted_case(&app).await;
    let a = staff(&app, "cust_a", "custodian", "371500").await;
    let b = staff(&app, "cust_b", "custodian", "371500").await;
    enrol_totp(&app, &mut h).await;
    let r = request(&app, &h, &case).await;
    let v = decide(&app, &a, &r, true, 200).await;
    assert_eq!(v["state"], "pending", "one of two");
    assert_eq!(v["approvals"], 1);
    assert_eq!(v["approvals_required"], 2);
    let e = reveal(&app, &h, &r, 409).await;
    assert_eq!(e["error"]["code"], "not_approved");
    // The same custodian twice does not count as two.
    let e = decide(&app, &a, &r, true, 409).await;
    assert_eq!(e["error"]["code"], "already_decided");
    let v = decide(&app, &b, &r, true, 200).await;
    assert_eq!(v["state"], "approved");
    assert_eq!(v["approvals"], 2);
    assert_eq!(reveal(&app, &h, &r, 200).await["phone"], "13905350000");
    app.stop().await;
}

both_databases!(backend: checked_at_every_step, two_custodians_when_configured);
