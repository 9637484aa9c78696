//! Separated duties among admins (DOMAIN §6, issue 16): `admin` is held alone; supervisor,
//! legal, finance, custodian and auditor wait for a second admin's approval and give no
//! access until then; a user an admin creates chooses their own password at first sign-in
//! (the first token serves only `POST /auth/password`); a TOTP reset takes two admins.

use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::*;
use crate::staffkit::*;

async fn denied(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE outcome = 'denied' AND action = $1")
        .bind(action)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

async fn audited(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE outcome = 'ok' AND action = $1")
        .bind(action)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

async fn roles_of(app: &TestApp, username: &str) -> String {
    sqlx::query_scalar("SELECT roles FROM staff_users WHERE username = $1")
        .bind(username)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

async fn json_of(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn new_user(username: &str, roles: &[&str]) -> Value {
    json!({
        "username": username,
        "password": "chosen-by-the-admin",
        "roles": roles,
        "region": "371500",
    })
}

/// Sign in with the password the admin chose, choose one's own, sign in again.
async fn first_sign_in(app: &TestApp, username: &str) -> Value {
    let (status, pair) = json_of(login_raw(app, username, "chosen-by-the-admin", None).await).await;
    assert_eq!(status, 200, "{pair}");
    assert_eq!(pair["password_change_required"], true);
    let t = pair["access_token"].as_str().unwrap();
    let res = post(
        app,
        t,
        "/api/v1/auth/password",
        &json!({"current_password": "chosen-by-the-admin", "new_password": "my-own-password-1"}),
    )
    .await;
    assert_eq!(res.status(), 204);
    let (status, pair) = json_of(login_raw(app, username, "my-own-password-1", None).await).await;
    assert_eq!(status, 200, "{pair}");
    assert_eq!(pair["password_change_required"], false);
    pair
}

async fn admin_cannot_hold_another_role(app: TestApp) {
    let admin = staff(&app, "admin1", "admin", "000000").await;
    let other_admin = staff(&app, "admin2", "admin", "000000").await;
    let users_before = app.count("staff_users").await;
    for role in [
        "intake",
        "handler",
        "supervisor",
        "legal",
        "finance",
        "custodian",
        "auditor",
    ] {
        let before = denied(&app, "user.create").await;
        let (status, body) = json_of(
            post(
                &app,
                &admin.token,
                "/api/v1/admin/users",
                &new_user(&format!("mixed-{role}"), &["admin", role]),
            )
            .await,
        )
        .await;
        assert_eq!(status, 422, "admin + {role}: {body}");
        assert_eq!(body["error"]["code"], "admin_combined");
        assert_eq!(body["error"]["field"], "roles");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("管理员不能同时担任其他角色"),
            "{body}"
        );
        assert_eq!(
            denied(&app, "user.create").await,
            before + 1,
            "admin + {role}"
        );
    }
    assert_eq!(app.count("staff_users").await, users_before);
    assert_eq!(app.count("staff_role_grants").await, 0);

    // In English too.
    let res = app
        .client
        .post(app.url("/api/v1/admin/users"))
        .bearer_auth(&admin.token)
        .header("Accept-Language", "en")
        .json(&new_user("mixed-en", &["custodian", "admin"]))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(res).await;
    assert_eq!(status, 422);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("An admin cannot hold any other role"),
        "{body}"
    );

    // Changing a user that way is refused as well, and nothing changes.
    let (status, h) = json_of(
        post(
            &app,
            &admin.token,
            "/api/v1/admin/users",
            &new_user("handler5", &["handler"]),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{h}");
    assert_eq!(h["roles"], json!(["handler"]));
    let h_id = h["id"].as_str().unwrap();
    let before = denied(&app, "user.roles").await;
    for (id, roles) in [
        (h_id, json!(["handler", "admin"])),
        (other_admin.id.as_str(), json!(["admin", "auditor"])),
    ] {
        let (status, body) = json_of(
            post(
                &app,
                &admin.token,
                &format!("/api/v1/admin/users/{id}/roles"),
                &json!({ "roles": roles }),
            )
            .await,
        )
        .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"]["code"], "admin_combined");
        assert_eq!(body["error"]["field"], "roles");
    }
    assert_eq!(denied(&app, "user.roles").await, before + 2);
    assert_eq!(roles_of(&app, "handler5").await, "handler");
    assert_eq!(roles_of(&app, "admin2").await, "admin");
    assert_eq!(app.count("staff_role_grants").await, 0);

    // One's own roles are another admin's business.
    let (status, body) = json_of(
        post(
            &app,
            &admin.token,
            &format!("/api/v1/admin/users/{}/roles", admin.id),
            &json!({ "roles": ["handler"] }),
        )
        .await,
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "own_account");
    assert_eq!(denied(&app, "user.roles").await, before + 3);
    assert_eq!(roles_of(&app, "admin1").await, "admin");

    // The bootstrap path keeps the rule too.
    let mut tx = app.db.begin().await.unwrap();
    let r = jubao::staff::create(
        &mut tx,
        &jubao::staff::NewUser {
            username: "both".into(),
            display_name: "both".into(),
            email: None,
            roles: jubao::staff::parse_roles("admin,custodian").unwrap(),
            region: "000000".into(),
            locale: "zh-CN".into(),
            password: PASSWORD.into(),
        },
        &jubao::staff::hash_password(PASSWORD).unwrap(),
    )
    .await;
    assert_eq!(r.unwrap_err().code, "admin_combined");
    app.stop().await;
}

async fn sensitive_roles_wait_for_a_second_admin(app: TestApp) {
    let admin1 = staff(&app, "admin1", "admin", "000000").await;
    let admin2 = staff(&app, "admin2", "admin", "000000").await;
    let (status, u) = json_of(
        post(
            &app,
            &admin1.token,
            "/api/v1/admin/users",
            &new_user("aud1", &["auditor", "intake"]),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{u}");
    // Intake is given; auditor waits.
    assert_eq!(u["roles"], json!(["intake"]));
    assert_eq!(u["pending_roles"], json!(["auditor"]));
    assert_eq!(u["password_change_required"], true);
    assert_eq!(roles_of(&app, "aud1").await, "intake");
    assert_eq!(audited(&app, "role.request").await, 1);

    let pair = first_sign_in(&app, "aud1").await;
    let aud = pair["access_token"].as_str().unwrap().to_string();
    // Pending gives no access.
    let (status, body) = json_of(get(&app, &aud, "/api/v1/audit").await).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "forbidden");
    assert_eq!(get(&app, &aud, "/api/v1/cases").await.status(), 200);

    // Both admins see the pending grant.
    let (status, grants) =
        json_of(get(&app, &admin2.token, "/api/v1/admin/role-grants").await).await;
    assert_eq!(status, 200);
    let grants = grants.as_array().unwrap().clone();
    assert_eq!(grants.len(), 1, "{grants:?}");
    let g = &grants[0];
    assert_eq!(g["username"], "aud1");
    assert_eq!(g["role"], "auditor");
    assert_eq!(g["status"], "pending");
    assert_eq!(g["requested_by_name"], "admin1");
    let grant = g["id"].as_i64().unwrap();
    let (_, users) = json_of(get(&app, &admin1.token, "/api/v1/admin/users").await).await;
    let listed = users
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["username"] == "aud1")
        .unwrap();
    assert_eq!(listed["pending_roles"], json!(["auditor"]));

    // The admin who asked cannot approve it.
    let decision = format!("/api/v1/admin/role-grants/{grant}/decision");
    let before = denied(&app, "role.decide").await;
    let (status, body) =
        json_of(post(&app, &admin1.token, &decision, &json!({"approve": true})).await).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "own_request");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("须由另一名管理员审批"));
    assert_eq!(denied(&app, "role.decide").await, before + 1);
    assert_eq!(get(&app, &aud, "/api/v1/audit").await.status(), 403);
    assert_eq!(roles_of(&app, "aud1").await, "intake");

    // A second admin approves: the role works at once.
    let (status, body) = json_of(
        post(
            &app,
            &admin2.token,
            &decision,
            &json!({"approve": true, "reason": "审计岗位"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "approved");
    assert_eq!(body["decided_by_name"], "admin2");
    assert_eq!(body["decision_reason"], "审计岗位");
    assert_eq!(roles_of(&app, "aud1").await, "intake,auditor");
    assert_eq!(get(&app, &aud, "/api/v1/audit").await.status(), 200);
    assert_eq!(audited(&app, "role.approve").await, 1);
    // Decided once.
    let (status, body) = json_of(
        post(
            &app,
            &admin2.token,
            &decision,
            &json!({"approve": false, "reason": "再议"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "not_pending");

    // Finance asked for, then refused by the second admin, who must say why.
    let (status, body) = json_of(
        post(
            &app,
            &admin1.token,
            &format!("/api/v1/admin/users/{}/roles", u["id"].as_str().unwrap()),
            &json!({"roles": ["intake", "auditor", "finance"]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["roles"], json!(["intake", "auditor"]));
    assert_eq!(body["pending_roles"], json!(["finance"]));
    let (_, grants) = json_of(get(&app, &admin2.token, "/api/v1/admin/role-grants").await).await;
    let finance = grants[0]["id"].as_i64().unwrap();
    assert_eq!(grants[0]["role"], "finance");
    let decision = format!("/api/v1/admin/role-grants/{finance}/decision");
    let (status, body) =
        json_of(post(&app, &admin2.token, &decision, &json!({"approve": false})).await).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "reason");
    let (status, body) = json_of(
        post(
            &app,
            &admin2.token,
            &decision,
            &json!({"approve": false, "reason": "不兼任财务"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "refused");
    assert_eq!(roles_of(&app, "aud1").await, "intake,auditor");
    assert_eq!(audited(&app, "role.refuse").await, 1);
    let (_, me) = json_of(get(&app, &aud, "/api/v1/me").await).await;
    assert_eq!(me["roles"], json!(["intake", "auditor"]));
    assert_eq!(me["pending_roles"], json!([]));
    let (_, pending) = json_of(get(&app, &admin2.token, "/api/v1/admin/role-grants").await).await;
    assert_eq!(pending, json!([]));
    let (_, all) =
        json_of(get(&app, &admin2.token, "/api/v1/admin/role-grants?status=all").await).await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    app.stop().await;
}

async fn first_sign_in_sets_ones_own_password(app: TestApp) {
    let admin1 = staff(&app, "admin1", "admin", "000000").await;
    let admin2 = staff(&app, "admin2", "admin", "000000").await;
    // Users made the bootstrap way chose their own password.
    add_user(&app, "handler1", "handler", "371502", None).await;
    let (_, pair) = json_of(login_raw(&app, "handler1", PASSWORD, None).await).await;
    assert_eq!(pair["password_change_required"], false);

    // An admin made by an admin waits for a second admin (or one admin could make another
    // and approve their own grants through it), and starts with the admin's password.
    let (status, u) = json_of(
        post(
            &app,
            &admin1.token,
            "/api/v1/admin/users",
            &new_user("admin3", &["admin"]),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{u}");
    assert_eq!(u["roles"], json!([]));
    assert_eq!(u["pending_roles"], json!(["admin"]));
    let (_, grants) = json_of(get(&app, &admin2.token, "/api/v1/admin/role-grants").await).await;
    let grant = grants[0]["id"].as_i64().unwrap();
    let (status, body) = json_of(
        post(
            &app,
            &admin2.token,
            &format!("/api/v1/admin/role-grants/{grant}/decision"),
            &json!({"approve": true, "reason": "新任系统管理员"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(roles_of(&app, "admin3").await, "admin");
    let (status, pair) =
        json_of(login_raw(&app, "admin3", "chosen-by-the-admin", None).await).await;
    assert_eq!(status, 200, "{pair}");
    assert_eq!(pair["password_change_required"], true);
    assert_eq!(pair["totp_enrollment_required"], false);
    let t = pair["access_token"].as_str().unwrap().to_string();
    // The token serves nothing else.
    for (method, path) in [
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/admin/users"),
        ("GET", "/api/v1/admin/role-grants"),
        ("POST", "/api/v1/auth/totp/setup"),
        ("POST", "/api/v1/auth/logout"),
        ("POST", "/api/v1/admin/users"),
    ] {
        let res = match method {
            "GET" => get(&app, &t, path).await,
            _ => post(&app, &t, path, &new_user("sneaky", &["handler"])).await,
        };
        let (status, body) = json_of(res).await;
        assert_eq!(status, 403, "{method} {path}: {body}");
        assert_eq!(body["error"]["code"], "password_change_required");
        assert_eq!(
            body["error"]["message"],
            "这是管理员为您设置的初始密码，请先修改为您自己的密码，再进行其他操作。"
        );
    }
    assert_eq!(app.count("staff_users").await, 4);
    // A refresh keeps the restriction.
    let (status, refreshed) = json_of(
        app.post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": pair["refresh_token"]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(refreshed["password_change_required"], true);
    let t = refreshed["access_token"].as_str().unwrap().to_string();
    assert_eq!(get(&app, &t, "/api/v1/me").await.status(), 403);

    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let (status, body) = json_of(
        post(
            &app,
            &t,
            "/api/v1/auth/password",
            &change("wrong-password", "my-own-password-1"),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["field"], "current_password");
    let (status, body) = json_of(
        post(
            &app,
            &t,
            "/api/v1/auth/password",
            &change("chosen-by-the-admin", "chosen-by-the-admin"),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["code"], "password_unchanged");
    assert_eq!(
        post(
            &app,
            &t,
            "/api/v1/auth/password",
            &change("chosen-by-the-admin", "my-own-password-1"),
        )
        .await
        .status(),
        204
    );
    // That sign-in is over; the admin's password no longer works; the new one signs in
    // normally (and an admin then enrols TOTP).
    assert_eq!(get(&app, &t, "/api/v1/me").await.status(), 401);
    assert_eq!(
        login_raw(&app, "admin3", "chosen-by-the-admin", None)
            .await
            .status(),
        401
    );
    let (status, pair) = json_of(login_raw(&app, "admin3", "my-own-password-1", None).await).await;
    assert_eq!(status, 200);
    assert_eq!(pair["password_change_required"], false);
    assert_eq!(pair["totp_enrollment_required"], true);
    let t = pair["access_token"].as_str().unwrap();
    assert_eq!(
        post(&app, t, "/api/v1/auth/totp/setup", &json!({}))
            .await
            .status(),
        200
    );
    let first: bool = sqlx::query_scalar::<_, String>(
        "SELECT detail FROM audit_log WHERE action = 'auth.password' AND actor = 'admin3' AND outcome = 'ok'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap()
    .contains("\"first\":true");
    assert!(first);
    app.stop().await;
}

async fn totp_reset_takes_two_admins(app: TestApp) {
    let admin1 = staff(&app, "admin1", "admin", "000000").await;
    let admin2 = staff(&app, "admin2", "admin", "000000").await;
    let cust = staff(&app, "cust1", "custodian", "371500").await;
    assert!(cust.totp_secret.is_some());
    let handler = staff(&app, "handler1", "handler", "371502").await;
    let ask = |who: &Staff, user: &str, reason: &str| {
        let (t, path) = (
            who.token.clone(),
            format!("/api/v1/admin/users/{user}/totp-reset"),
        );
        let body = json!({ "reason": reason });
        let app = &app;
        async move { json_of(post(app, &t, &path, &body).await).await }
    };
    let (status, body) = ask(&admin1, &cust.id, " ").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "reason");
    // Not for an account without TOTP, not for oneself.
    let (status, body) = ask(&admin1, &handler.id, "手机丢失").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "totp_not_enabled");
    let (status, body) = ask(&admin1, &admin1.id, "手机丢失").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "own_account");
    assert_eq!(denied(&app, "totp_reset.request").await, 1);

    let (status, reset) = ask(&admin1, &cust.id, "手机丢失").await;
    assert_eq!(status, 201, "{reset}");
    assert_eq!(reset["status"], "pending");
    assert_eq!(reset["username"], "cust1");
    assert_eq!(reset["reason"], "手机丢失");
    let (status, body) = ask(&admin2, &cust.id, "再申请").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "totp_reset_pending");
    // Asking did not reset anything.
    assert_eq!(
        get(&app, &cust.token, "/api/v1/identity-requests")
            .await
            .status(),
        200
    );
    let (_, list) = json_of(get(&app, &admin2.token, "/api/v1/admin/totp-resets").await).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["requested_by_name"], "admin1");

    let decision = format!("/api/v1/admin/totp-resets/{}/decision", reset["id"]);
    let (status, body) =
        json_of(post(&app, &admin1.token, &decision, &json!({"approve": true})).await).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "own_request");
    assert_eq!(denied(&app, "totp_reset.decide").await, 1);
    let enabled = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT totp_enabled FROM staff_users WHERE username = 'cust1'",
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
    };
    assert_eq!(enabled().await, 1);

    let (status, body) =
        json_of(post(&app, &admin2.token, &decision, &json!({"approve": true})).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "approved");
    assert_eq!(body["decided_by_name"], "admin2");
    assert_eq!(enabled().await, 0);
    // The custodian's sessions ended; the next sign-in enrols a new authenticator.
    assert_eq!(get(&app, &cust.token, "/api/v1/me").await.status(), 401);
    let (status, pair) = json_of(login_raw(&app, "cust1", PASSWORD, None).await).await;
    assert_eq!(status, 200, "{pair}");
    assert_eq!(pair["totp_enrollment_required"], true);
    assert_eq!(audited(&app, "totp_reset.request").await, 1);
    assert_eq!(audited(&app, "totp_reset.approve").await, 1);
    let (status, _) =
        json_of(post(&app, &admin2.token, &decision, &json!({"approve": true})).await).await;
    assert_eq!(status, 409);
    app.stop().await;
}

/// An admin records a staff member's conflict (DOMAIN §6): from then on the handler is
/// skipped at assignment and refused the case. An unknown user (404), an empty institution
/// (422) and a caller who is not an admin (403) are refused and record nothing.
async fn an_admin_records_a_conflict_for_a_handler(app: TestApp) {
    let admin = staff(&app, "admin1", "admin", "000000").await;
    let intake = staff(&app, "intake1", "intake", "371500").await;
    let conflicted = staff(&app, "handler_c", "handler", "371502").await;
    let fair = staff(&app, "handler_z", "handler", "371502").await;
    let path = format!("/api/v1/admin/users/{}/conflicts", conflicted.id);
    let hospital = json!({"institution": "某某市第一人民医院", "note": "其配偶在该院工作"});
    let unknown = "/api/v1/admin/users/00000000-0000-0000-0000-000000000000/conflicts";
    post_ok(&app, &admin, unknown, &hospital, 404).await;
    let e = post_ok(&app, &admin, &path, &json!({"institution": "  "}), 422).await;
    assert_eq!(e["error"]["field"], "institution");
    post_ok(&app, &fair, &path, &hospital, 403).await;
    assert_eq!(denied(&app, "user.conflict").await, 1);
    assert_eq!(
        app.count("staff_conflicts").await,
        0,
        "refusals record nothing"
    );

    let res = post(&app, &admin.token, &path, &hospital).await;
    assert_eq!(res.status(), 204);
    assert_eq!(app.count("staff_conflicts").await, 1);
    assert_eq!(audited(&app, "user.conflict").await, 1);

    // handler_c sorts first, but is recused from the hospital's tip.
    let case = file_case(&app, &anonymous_report()).await;
    let done = post_ok(
        &app,
        &intake,
        &format!("/api/v1/cases/{case}/transitions"),
        &json!({"to": "accepted", "reason": "受理"}),
        200,
    )
    .await;
    assert_eq!(done["assignee"], fair.id.as_str());
    let res = get(&app, &conflicted.token, &format!("/api/v1/cases/{case}")).await;
    assert_eq!(res.status(), 403);
    app.stop().await;
}

both_databases!(
    an_admin_records_a_conflict_for_a_handler,
    admin_cannot_hold_another_role,
    sensitive_roles_wait_for_a_second_admin,
    first_sign_in_sets_ones_own_password,
    totp_reset_takes_two_admins,
);
