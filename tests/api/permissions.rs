//! The permission matrix of DOMAIN §6: every staff endpoint tried as every role (and as a
//! handler who does not have the case). A role that may not act gets 403 and the attempt
//! is audited; a role that may act gets past the permission check (here to a 409 or 422,
//! because the bodies are deliberately incomplete), and nothing changes.

use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::*;
use crate::staffkit::*;

const ROLES: [&str; 9] = [
    "intake",
    "handler",
    "other_handler",
    "supervisor",
    "legal",
    "finance",
    "custodian",
    "auditor",
    "admin",
];

/// Those who may see the case's content (DOMAIN §6: not an admin, not a recused or
/// unassigned handler).
const CASE_READERS: [&str; 7] = [
    "intake",
    "handler",
    "supervisor",
    "legal",
    "finance",
    "custodian",
    "auditor",
];

/// Every signed-in role lists the cases and identity requests it may see.
const LISTERS: [&str; 8] = [
    "intake",
    "handler",
    "other_handler",
    "supervisor",
    "legal",
    "finance",
    "custodian",
    "auditor",
];

/// Statistics, budgets and the reward list: money and counts, never identity.
const MONEY: [&str; 3] = ["finance", "supervisor", "auditor"];

/// One row of the matrix: who may, and the status those who may get. The bodies are
/// deliberately incomplete, so a permitted role gets the validation error (422); an
/// operation the case's state does not allow (it is in checking, with no reward) gets
/// 409; a record that does not exist gets 404; a read gets 200. Everyone else gets 403.
struct Row {
    method: &'static str,
    path: String,
    body: Value,
    allowed: Vec<&'static str>,
    expect: u16,
}

fn row(
    method: &'static str,
    path: String,
    body: Value,
    allowed: &[&'static str],
    expect: u16,
) -> Row {
    Row {
        method,
        path,
        body,
        allowed: allowed.to_vec(),
        expect,
    }
}

/// Written from DOMAIN §5 and §6, not from the code. `case` is in checking, assigned to
/// "handler"; `request` is a pending identity request "handler" made on it; `user` is a
/// member of staff.
fn matrix(case: &str, request: &str, user: &str) -> Vec<Row> {
    let c = |p: &str| format!("/api/v1/cases/{case}{p}");
    let a = |p: &str| format!("/api/v1{p}");
    let t = |to: &str| json!({ "to": to, "reason": "" });
    let none = Value::Null;
    vec![
        // Reading cases.
        row("GET", c(""), none.clone(), &CASE_READERS, 200),
        // Retention and typical cases (issue 19): the case is in checking, so a draft is
        // refused as not substantiated (409) to those who may draft.
        row("GET", c("/retention"), none.clone(), &CASE_READERS, 200),
        row("POST", c("/legal-hold"), json!({}), &["supervisor"], 422),
        row(
            "POST",
            c("/legal-hold/lift"),
            json!({}),
            &["supervisor"],
            422,
        ),
        row(
            "POST",
            c("/typical-cases"),
            json!({}),
            &["handler", "supervisor"],
            409,
        ),
        row(
            "GET",
            a("/typical-cases"),
            none.clone(),
            &["handler", "other_handler", "supervisor", "legal", "auditor"],
            200,
        ),
        row(
            "POST",
            a("/typical-cases/999999/legal-review"),
            json!({}),
            &["legal"],
            404,
        ),
        row(
            "POST",
            a("/typical-cases/999999/approve"),
            json!({}),
            &["supervisor"],
            404,
        ),
        row(
            "POST",
            a("/typical-cases/999999/withdraw"),
            json!({}),
            &["supervisor"],
            404,
        ),
        row("GET", a("/cases"), none.clone(), &LISTERS, 200),
        row("GET", c("/related"), none.clone(), &CASE_READERS, 200),
        row(
            "GET",
            a("/targets/independent-reporters"),
            none.clone(),
            &["supervisor"],
            200,
        ),
        row(
            "GET",
            a("/cases/overdue"),
            none.clone(),
            &["intake", "supervisor", "legal", "auditor"],
            200,
        ),
        row(
            "GET",
            a("/notices/waiting"),
            none.clone(),
            &[
                "intake",
                "handler",
                "other_handler",
                "supervisor",
                "auditor",
            ],
            200,
        ),
        row(
            "GET",
            c("/evidence/00000000-0000-0000-0000-000000000000"),
            none.clone(),
            &CASE_READERS,
            404,
        ),
        // The workflow (DOMAIN §4): the case is in checking, so intake's and the
        // supervisor's acceptance decisions come too late (409).
        row(
            "POST",
            c("/transitions"),
            t("accepted"),
            &["intake", "supervisor"],
            409,
        ),
        row(
            "POST",
            c("/transitions"),
            t("not_accepted"),
            &["intake", "supervisor"],
            409,
        ),
        // A supervisor may transfer a case being checked, with a reason (422 without one).
        row(
            "POST",
            c("/transitions"),
            t("transferred"),
            &["supervisor"],
            422,
        ),
        row(
            "POST",
            c("/transitions"),
            t("merged"),
            &["intake", "supervisor"],
            409,
        ),
        row("POST", c("/transitions"), t("checking"), &["handler"], 409),
        row("POST", c("/transitions"), t("decided"), &["handler"], 422),
        // Closing comes after the decision, for both who may close (409).
        row(
            "POST",
            c("/transitions"),
            t("closed"),
            &["handler", "supervisor"],
            409,
        ),
        row(
            "POST",
            c("/findings"),
            json!({"summary": ""}),
            &["handler"],
            422,
        ),
        row(
            "POST",
            c("/party-notice"),
            json!({"reason": ""}),
            &["handler"],
            422,
        ),
        row(
            "POST",
            c("/statement"),
            json!({"reason": ""}),
            &["handler"],
            422,
        ),
        row(
            "POST",
            c("/collective-decisions"),
            json!({"meeting_date": "x", "participants": [], "conclusion": ""}),
            &["supervisor"],
            422,
        ),
        row(
            "POST",
            c("/legal-review"),
            json!({"opinion": "approve", "note": ""}),
            &["legal"],
            422,
        ),
        row(
            "POST",
            c("/major"),
            json!({"reason": ""}),
            &["supervisor"],
            422,
        ),
        row(
            "POST",
            c("/extensions"),
            json!({"kind": "complex", "reason": ""}),
            &["handler", "supervisor"],
            422,
        ),
        row(
            "POST",
            c("/extensions/999999/decision"),
            json!({"approve": true, "reason": ""}),
            &["supervisor"],
            422,
        ),
        row(
            "POST",
            c("/assignment"),
            json!({"assignee": "", "reason": ""}),
            &["supervisor"],
            422,
        ),
        row(
            "POST",
            c("/messages"),
            json!({"body": ""}),
            &["handler", "supervisor"],
            422,
        ),
        // Identity (DOMAIN §6, §7): handlers ask, a custodian decides, the asker reveals
        // once approved (not yet: 409).
        row(
            "POST",
            c("/identity-requests"),
            json!({"reason": ""}),
            &["handler", "supervisor"],
            422,
        ),
        row("GET", a("/identity-requests"), none.clone(), &LISTERS, 200),
        row(
            "POST",
            a(&format!("/identity-requests/{request}/decision")),
            json!({"approve": true, "reason": ""}),
            &["custodian"],
            422,
        ),
        row(
            "POST",
            a(&format!("/identity-requests/{request}/reveal")),
            none.clone(),
            &["handler"],
            409,
        ),
        // An evidence original opens like an identity: asked for the same way.
        row(
            "POST",
            c("/evidence/00000000-0000-0000-0000-000000000000/original-requests"),
            json!({"reason": ""}),
            &["handler", "supervisor"],
            422,
        ),
        // Staff entry of letters, visits and calls.
        row(
            "POST",
            a("/staff/reports"),
            json!({"medium": "visit"}),
            &["intake"],
            422,
        ),
        // Rewards (DOMAIN §5): the assigned handler proposes, a supervisor marks, finance
        // approves and pays; the case has no reward yet (404) and is not decided (409).
        row("GET", c("/reward"), none.clone(), &CASE_READERS, 404),
        row(
            "GET",
            c("/reward/preview"),
            none.clone(),
            &CASE_READERS,
            409,
        ),
        row(
            "POST",
            c("/reward"),
            json!({"reason": ""}),
            &["handler"],
            409,
        ),
        row(
            "POST",
            c("/reward/flags"),
            json!({"quick": true, "reason": ""}),
            &["supervisor"],
            422,
        ),
        row(
            "POST",
            c("/reward/approve"),
            json!({}),
            &["finance", "supervisor"],
            404,
        ),
        row(
            "POST",
            c("/reward/return"),
            json!({"reason": ""}),
            &["finance", "supervisor"],
            422,
        ),
        row(
            "POST",
            c("/reward/notice"),
            json!({}),
            &["handler", "finance"],
            404,
        ),
        row(
            "POST",
            c("/reward/payment"),
            json!({"method": "bank_transfer", "reference": "", "amount_fen": 1}),
            &["finance"],
            422,
        ),
        // Issue 15 item 7: the in-person identity check (two finance officers) and the
        // masked bank account at the payment step are finance's alone.
        row(
            "POST",
            c("/reward/identity-check"),
            json!({"id_last6": ""}),
            &["finance"],
            422,
        ),
        row(
            "GET",
            c("/reward/bank-account"),
            none.clone(),
            &["finance"],
            404,
        ),
        row(
            "POST",
            c("/reward/reversal"),
            json!({"reason": ""}),
            &["finance", "supervisor"],
            422,
        ),
        row("GET", a("/rewards"), none.clone(), &MONEY, 200),
        row("GET", a("/finance/budgets"), none.clone(), &MONEY, 200),
        row(
            "POST",
            a("/finance/budgets"),
            json!({"year": 2026, "region": "371500", "amount_fen": -1}),
            &["finance"],
            422,
        ),
        // Statistics.
        row("GET", a("/stats/overview"), none.clone(), &MONEY, 200),
        row("GET", a("/stats/tips"), none.clone(), &MONEY, 200),
        row("GET", a("/stats/cases"), none.clone(), &MONEY, 200),
        row("GET", a("/stats/deadlines"), none.clone(), &MONEY, 200),
        row("GET", a("/stats/rewards"), none.clone(), &MONEY, 200),
        // Audit: auditors only.
        row("GET", a("/audit"), none.clone(), &["auditor"], 200),
        row("GET", a("/audit/verify"), none.clone(), &["auditor"], 200),
        // Management: admins only, and no case content.
        row("GET", a("/admin/users"), none.clone(), &["admin"], 200),
        row(
            "POST",
            a("/admin/users"),
            json!({"username": "", "password": "", "roles": [], "region": ""}),
            &["admin"],
            422,
        ),
        row(
            "POST",
            a(&format!("/admin/users/{user}/conflicts")),
            json!({"institution": ""}),
            &["admin"],
            422,
        ),
        row(
            "GET",
            a("/admin/dead-letters"),
            none.clone(),
            &["admin"],
            200,
        ),
        row(
            "POST",
            a("/admin/dead-letters/999999/retry"),
            none.clone(),
            &["admin"],
            404,
        ),
        row("GET", a("/admin/config"), none.clone(), &["admin"], 200),
        // Two admins (DOMAIN §6): roles, role grants, TOTP resets; the decisions take a
        // reason to refuse (422 without one).
        row(
            "POST",
            a(&format!("/admin/users/{user}/roles")),
            json!({"roles": []}),
            &["admin"],
            422,
        ),
        row(
            "POST",
            a(&format!("/admin/users/{user}/totp-reset")),
            json!({"reason": ""}),
            &["admin"],
            422,
        ),
        row(
            "GET",
            a("/admin/role-grants"),
            none.clone(),
            &["admin"],
            200,
        ),
        row(
            "POST",
            a("/admin/role-grants/999999/decision"),
            json!({"approve": false, "reason": ""}),
            &["admin"],
            422,
        ),
        row(
            "GET",
            a("/admin/totp-resets"),
            none.clone(),
            &["admin"],
            200,
        ),
        row(
            "POST",
            a("/admin/totp-resets/999999/decision"),
            json!({"approve": false, "reason": ""}),
            &["admin"],
            422,
        ),
        // One's own account: everyone signed in.
        row("GET", a("/me"), none.clone(), &ROLES, 200),
        row(
            "POST",
            a("/me/conflicts"),
            json!({"institution": ""}),
            &ROLES,
            422,
        ),
        row(
            "POST",
            a("/auth/password"),
            json!({"current_password": "wrong", "new_password": ""}),
            &ROLES,
            422,
        ),
    ]
}

/// Operations of the OpenAPI document that are not rows above, and why.
const OUTSIDE_THE_MATRIX: &[(&str, &str)] = &[
    ("POST /api/v1/auth/login", "no token yet: staff_auth.rs"),
    (
        "POST /api/v1/auth/refresh",
        "the refresh token is the credential: staff_auth.rs",
    ),
    (
        "POST /api/v1/auth/setup",
        "a one-time setup code is the credential: staff_auth.rs",
    ),
    (
        "POST /api/v1/auth/logout",
        "would end the session the matrix signs in with: staff_auth.rs",
    ),
    (
        "POST /api/v1/auth/totp/setup",
        "changes the caller's sign-in: staff_auth.rs",
    ),
    (
        "POST /api/v1/auth/totp/confirm",
        "changes the caller's sign-in: staff_auth.rs",
    ),
    ("POST /api/v1/reports", "citizens: no staff token"),
    (
        "POST /api/v1/reports/lookup",
        "citizens: tracking code and passcode",
    ),
    (
        "POST /api/v1/reports/messages",
        "citizens: tracking code and passcode",
    ),
    (
        "POST /api/v1/reports/reward/claim",
        "citizens: tracking code and passcode",
    ),
    (
        "POST /api/v1/reports/passcode",
        "citizens: tracking code and passcode",
    ),
    (
        "GET /bots/wechat/{account}",
        "a platform signature: bots.rs",
    ),
    (
        "POST /bots/wechat/{account}",
        "a platform signature: bots.rs",
    ),
    ("GET /bots/wecom/{account}", "a platform signature: bots.rs"),
    (
        "POST /bots/wecom/{account}",
        "a platform signature: bots.rs",
    ),
    (
        "POST /bridges/hotline/{source}/tickets",
        "an HMAC signature: hotline.rs",
    ),
    ("GET /api/v1/public/stats", "public, no login: retention.rs"),
    (
        "GET /api/v1/public/typical-cases",
        "public, no login: typical.rs",
    ),
];

/// The OpenAPI template of a concrete path of the matrix.
fn template(path: &str, case: &str, request: &str, user: &str) -> String {
    path.split('/')
        .enumerate()
        .map(|(i, seg)| {
            if seg == case || seg == user || (seg == request && i == 4) {
                "{id}".to_string()
            } else if seg == "999999" && path.contains("/extensions/") {
                "{request_id}".to_string()
            } else if seg == "999999" {
                "{id}".to_string()
            } else if seg.starts_with("00000000-") {
                "{evidence_id}".to_string()
            } else {
                seg.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn every_endpoint_as_every_role(app: TestApp) {
    let mut users = vec![];
    for role in ROLES {
        let (r, region) = match role {
            "handler" | "other_handler" => ("handler", "371502"),
            r => (r, "371500"),
        };
        users.push((role, staff(&app, role, r, region).await));
    }
    let token = |name: &str| {
        users
            .iter()
            .find(|(r, _)| *r == name)
            .unwrap()
            .1
            .token
            .clone()
    };
    let who = |name: &str| &users.iter().find(|(r, _)| *r == name).unwrap().1;
    // A case in checking, assigned to "handler" (other_handler already carries one).
    let busy = file_case(&app, &anonymous_report()).await;
    let (intake, sup, handler) = (who("intake"), who("supervisor"), who("handler"));
    post_ok(
        &app,
        intake,
        &format!("/api/v1/cases/{busy}/transitions"),
        &json!({"to": "accepted", "reason": "受理"}),
        200,
    )
    .await;
    post_ok(
        &app,
        sup,
        &format!("/api/v1/cases/{busy}/assignment"),
        &json!({"assignee": "other_handler", "reason": "均衡"}),
        200,
    )
    .await;
    let case = file_case(
        &app,
        &named_report("李四", &resident_id("37150219800101123"), "13900139000"),
    )
    .await;
    post_ok(
        &app,
        intake,
        &format!("/api/v1/cases/{case}/transitions"),
        &json!({"to": "accepted", "reason": "受理"}),
        200,
    )
    .await;
    let assignee: String = sqlx::query_scalar("SELECT u.username FROM reports r JOIN staff_users u ON u.id = r.assignee_id WHERE r.id = $1")
        .bind(&case).fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(assignee, "handler");
    post_ok(
        &app,
        handler,
        &format!("/api/v1/cases/{case}/transitions"),
        &json!({"to": "checking", "reason": "核查"}),
        200,
    )
    .await;
    let request = post_ok(
        &app,
        handler,
        &format!("/api/v1/cases/{case}/identity-requests"),
        &json!({"reason": "需核实举报人身份以便奖励"}),
        200,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();

    let before_version: i64 = sqlx::query_scalar("SELECT version FROM reports WHERE id = $1")
        .bind(&case)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let before_counts = app.counts().await;
    let before_events = app.count("case_events").await;
    let denied = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_log WHERE outcome = 'denied'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap()
    };
    let user = who("intake").id.clone();
    let rows = matrix(&case, &request, &user);
    let mut failures = vec![];
    for r in &rows {
        for role in ROLES {
            let req = match r.method {
                "GET" => app.client.get(app.url(&r.path)),
                _ => app.client.post(app.url(&r.path)).json(&r.body),
            };
            let audited_before = denied().await;
            let res = req.bearer_auth(token(role)).send().await.unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            let audited = denied().await - audited_before;
            let (method, path) = (r.method, &r.path);
            if r.allowed.contains(&role) {
                let expect = r.expect;
                if status != expect {
                    failures.push(format!(
                        "{role} {method} {path}: {status}, expected {expect} ({body})"
                    ));
                }
                if audited > 1 {
                    failures.push(format!("{role} {method} {path}: audited {audited} times"));
                }
            } else {
                if status != 403 || body["error"]["code"] != "forbidden" {
                    failures.push(format!(
                        "{role} {method} {path}: {status} {body}, expected 403"
                    ));
                }
                // A refused change is in the audit log, once; a refused read need not be.
                if r.method == "POST" && audited != 1 {
                    failures.push(format!(
                        "{role} {method} {path}: refused, {audited} denied audit entries"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "permission matrix mismatches:\n{}",
        failures.join("\n")
    );
    // Nothing changed.
    let after_version: i64 = sqlx::query_scalar("SELECT version FROM reports WHERE id = $1")
        .bind(&case)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(after_version, before_version);
    assert_eq!(status_of(&app, &case).await, "checking");
    assert_eq!(app.counts().await, before_counts);
    assert_eq!(app.count("case_events").await, before_events);

    // Every operation of the OpenAPI document is a row, or named above with its reason.
    let doc: Value = reqwest::get(app.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let covered: std::collections::BTreeSet<String> = rows
        .iter()
        .map(|r| format!("{} {}", r.method, template(&r.path, &case, &request, &user)))
        .chain(OUTSIDE_THE_MATRIX.iter().map(|(op, _)| op.to_string()))
        .collect();
    let mut missing = vec![];
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let op = format!("{} {path}", method.to_uppercase());
            if !covered.contains(&op) {
                missing.push(op);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "operations not in the permission matrix: {missing:?}"
    );
    app.stop().await;
}

both_databases!(every_endpoint_as_every_role);
