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

/// (method, path, body, roles allowed) — written from DOMAIN §6, not from the code.
fn matrix(case: &str) -> Vec<(&'static str, String, Value, Vec<&'static str>)> {
    let c = |p: &str| format!("/api/v1/cases/{case}{p}");
    let t = |to: &str| json!({ "to": to, "reason": "" });
    vec![
        (
            "GET",
            c(""),
            Value::Null,
            vec![
                "intake",
                "handler",
                "supervisor",
                "legal",
                "finance",
                "custodian",
                "auditor",
            ],
        ),
        (
            "GET",
            "/api/v1/cases".into(),
            Value::Null,
            vec![
                "intake",
                "handler",
                "other_handler",
                "supervisor",
                "legal",
                "finance",
                "custodian",
                "auditor",
            ],
        ),
        (
            "GET",
            "/api/v1/cases/overdue".into(),
            Value::Null,
            vec!["intake", "supervisor", "legal", "auditor"],
        ),
        (
            "POST",
            c("/transitions"),
            t("accepted"),
            vec!["intake", "supervisor"],
        ),
        (
            "POST",
            c("/transitions"),
            t("not_accepted"),
            vec!["intake", "supervisor"],
        ),
        (
            "POST",
            c("/transitions"),
            t("transferred"),
            vec!["supervisor"],
        ),
        (
            "POST",
            c("/transitions"),
            t("merged"),
            vec!["intake", "supervisor"],
        ),
        ("POST", c("/transitions"), t("checking"), vec!["handler"]),
        ("POST", c("/transitions"), t("decided"), vec!["handler"]),
        (
            "POST",
            c("/transitions"),
            t("closed"),
            vec!["handler", "supervisor"],
        ),
        (
            "POST",
            c("/findings"),
            json!({"summary": ""}),
            vec!["handler"],
        ),
        (
            "POST",
            c("/party-notice"),
            json!({"reason": ""}),
            vec!["handler"],
        ),
        (
            "POST",
            c("/statement"),
            json!({"reason": ""}),
            vec!["handler"],
        ),
        (
            "POST",
            c("/collective-decisions"),
            json!({"meeting_date": "x", "participants": [], "conclusion": ""}),
            vec!["supervisor"],
        ),
        (
            "POST",
            c("/legal-review"),
            json!({"opinion": "approve", "note": ""}),
            vec!["legal"],
        ),
        (
            "POST",
            c("/major"),
            json!({"reason": ""}),
            vec!["supervisor"],
        ),
        (
            "POST",
            c("/extensions"),
            json!({"kind": "complex", "reason": ""}),
            vec!["handler", "supervisor"],
        ),
        (
            "POST",
            c("/assignment"),
            json!({"assignee": "", "reason": ""}),
            vec!["supervisor"],
        ),
        (
            "POST",
            c("/messages"),
            json!({"body": ""}),
            vec!["handler", "supervisor"],
        ),
        (
            "POST",
            c("/identity-requests"),
            json!({"reason": ""}),
            vec!["handler", "supervisor"],
        ),
        (
            "GET",
            "/api/v1/identity-requests".into(),
            Value::Null,
            vec![
                "intake",
                "handler",
                "other_handler",
                "supervisor",
                "legal",
                "finance",
                "custodian",
                "auditor",
            ],
        ),
        (
            "POST",
            "/api/v1/staff/reports".into(),
            json!({"medium": "visit"}),
            vec!["intake"],
        ),
        ("GET", "/api/v1/audit".into(), Value::Null, vec!["auditor"]),
        (
            "GET",
            "/api/v1/audit/verify".into(),
            Value::Null,
            vec!["auditor"],
        ),
        (
            "GET",
            "/api/v1/admin/users".into(),
            Value::Null,
            vec!["admin"],
        ),
        (
            "GET",
            "/api/v1/admin/dead-letters".into(),
            Value::Null,
            vec!["admin"],
        ),
        (
            "POST",
            "/api/v1/admin/users".into(),
            json!({"username": "", "password": "", "roles": [], "region": ""}),
            vec!["admin"],
        ),
    ]
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
    // A case in checking, assigned to "handler" (other_handler already carries one).
    let busy = file_case(&app, &anonymous_report()).await;
    let intake = &users[0].1;
    post_ok(
        &app,
        intake,
        &format!("/api/v1/cases/{busy}/transitions"),
        &json!({"to": "accepted", "reason": "受理"}),
        200,
    )
    .await;
    let sup = &users.iter().find(|(r, _)| *r == "supervisor").unwrap().1;
    post_ok(
        &app,
        sup,
        &format!("/api/v1/cases/{busy}/assignment"),
        &json!({"assignee": "other_handler", "reason": "均衡"}),
        200,
    )
    .await;
    let case = file_case(&app, &anonymous_report()).await;
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
    let handler = &users[1].1;
    post_ok(
        &app,
        handler,
        &format!("/api/v1/cases/{case}/transitions"),
        &json!({"to": "checking", "reason": "核查"}),
        200,
    )
    .await;

    let before_version: i64 = sqlx::query_scalar("SELECT version FROM reports WHERE id = $1")
        .bind(&case)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let before_counts = app.counts().await;
    let before_events = app.count("case_events").await;
    let mut refused = 0;
    let mut failures = vec![];
    for (method, path, body, allowed) in matrix(&case) {
        for role in ROLES {
            let req = match method {
                "GET" => app.client.get(app.url(&path)),
                _ => app.client.post(app.url(&path)).json(&body),
            };
            let res = req.bearer_auth(token(role)).send().await.unwrap();
            let status = res.status().as_u16();
            let may = allowed.contains(&role);
            let ok = if may {
                status != 403 && status != 401 && status < 500
            } else {
                status == 403
            };
            if !ok {
                failures.push(format!("{role} {method} {path} {body}: {status}"));
            }
            if status == 403 {
                refused += 1;
                let e: Value = res.json().await.unwrap();
                assert_eq!(e["error"]["code"], "forbidden");
            }
        }
    }
    assert!(
        failures.is_empty(),
        "permission matrix mismatches:\n{}",
        failures.join("\n")
    );
    // Nothing changed, and every refusal is in the audit log.
    let after_version: i64 = sqlx::query_scalar("SELECT version FROM reports WHERE id = $1")
        .bind(&case)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(after_version, before_version);
    assert_eq!(status_of(&app, &case).await, "checking");
    assert_eq!(app.counts().await, before_counts);
    assert_eq!(app.count("case_events").await, before_events);
    let denied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE outcome = 'denied'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert!(denied >= refused, "{denied} audited < {refused} refused");
    app.stop().await;
}

both_databases!(every_endpoint_as_every_role);
