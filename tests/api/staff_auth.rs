//! Staff authentication: passwords, lock-out, tokens (forged, expired, `alg: none`),
//! refresh rotation and replay, logout across instances, TOTP, the first-admin setup code.

use base64::Engine;
use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::*;
use crate::staffkit::*;

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

async fn login_lockout_and_tokens(app: TestApp) {
    let s = staff(&app, "handler1", "handler", "371502").await;
    assert_eq!(get(&app, &s.token, "/api/v1/me").await.status(), 200);

    // Wrong passwords: the same answer as an unknown user; then the account locks.
    for _ in 0..4 {
        let r = login_raw(&app, "handler1", "wrong-password!", None).await;
        assert_eq!(r.status(), 401);
    }
    let unknown: Value = login_raw(&app, "nobody", "wrong-password!", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unknown["error"]["code"], "invalid_credentials");
    let unknown_body = unknown.clone();
    assert_eq!(
        login_raw(&app, "handler1", "wrong-password!", None)
            .await
            .status(),
        401
    );
    // Locked: even the right password is refused, with the same answer as a wrong one
    // (nothing tells a guesser that the account exists or is locked).
    let locked = login_raw(&app, "handler1", PASSWORD, None).await;
    assert_eq!(locked.status(), 401);
    let body: Value = locked.json().await.unwrap();
    assert_eq!(body, unknown_body);

    // Forged tokens: none-algorithm, another key, another algorithm, tampered claims.
    let parts: Vec<&str> = s.token.split('.').collect();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap(),
    )
    .unwrap();
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        parts[1]
    );
    let hs512 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"guess"),
    )
    .unwrap();
    let other_key = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"guess"),
    )
    .unwrap();
    let mut promoted = claims.clone();
    promoted["sub"] = json!("someone-else");
    let tampered = format!("{}.{}.{}", parts[0], b64(&promoted), parts[2]);
    let mut expired = claims.clone();
    expired["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
    let expired = app.state.vault.sign_token(&expired).unwrap();
    for (what, t) in [
        ("alg none", none),
        ("HS512", hs512),
        ("other key", other_key),
        ("tampered", tampered),
        ("expired", expired.clone()),
        ("garbage", "abc".into()),
    ] {
        let r = get(&app, &t, "/api/v1/me").await;
        assert_eq!(r.status(), 401, "{what}");
        let e: Value = r.json().await.unwrap();
        assert!(e["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    let e: Value = get(&app, &expired, "/api/v1/me")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(e["error"]["code"], "token_expired");
    assert_eq!(
        app.client
            .get(app.url("/api/v1/cases"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let denied = |action: &'static str| {
        let pool = app.db.pool.clone();
        async move {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM audit_log WHERE action = $1 AND outcome = 'denied'",
            )
            .bind(action)
            .fetch_one(&pool)
            .await
            .unwrap();
            n
        }
    };
    // Every refused sign-in is audited; refused tokens once a minute per client address
    // (the rest are counted: limits.rs).
    assert_eq!(
        denied("auth.login").await,
        7,
        "refused sign-ins are audited"
    );
    assert_eq!(
        denied("auth.token").await,
        1,
        "refused tokens are audited, bounded"
    );
    app.stop().await;
}

async fn refresh_rotation_and_replay(app: TestApp) {
    let s = staff(&app, "handler1", "handler", "371502").await;
    let r1: Value = app
        .post_json("/api/v1/auth/refresh", &json!({"refresh_token": s.refresh}))
        .await
        .json()
        .await
        .unwrap();
    let new_access = r1["access_token"].as_str().unwrap().to_string();
    let new_refresh = r1["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(get(&app, &new_access, "/api/v1/me").await.status(), 200);
    // Replaying the old refresh token revokes the whole login, the new pair included.
    assert_eq!(
        app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": s.refresh}))
            .await
            .status(),
        401
    );
    assert_eq!(get(&app, &new_access, "/api/v1/me").await.status(), 401);
    assert_eq!(
        app.post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": new_refresh})
        )
        .await
        .status(),
        401
    );

    // Logout on one instance is seen by another (and by a restart: it is a row).
    let res = login_raw(&app, "handler1", PASSWORD, None).await;
    let pair: Value = res.json().await.unwrap();
    let token = pair["access_token"].as_str().unwrap().to_string();
    let other = app.another_instance(|_| {}).await;
    assert_eq!(
        get(&other, &token, "/api/v1/me").await.status(),
        200,
        "tokens work on every instance"
    );
    assert_eq!(
        post(&app, &token, "/api/v1/auth/logout", &json!({}))
            .await
            .status(),
        204
    );
    assert_eq!(get(&other, &token, "/api/v1/me").await.status(), 401);
    assert_eq!(
        app.post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": pair["refresh_token"]})
        )
        .await
        .status(),
        401
    );
    other.stop().await;

    // Refreshing never extends a login: each new session ends when the sign-in's did.
    let res = login_raw(&app, "handler1", PASSWORD, None).await;
    let mut pair: Value = res.json().await.unwrap();
    let ends_of = |family: String| {
        let pool = app.db.pool.clone();
        async move {
            let ends: Vec<String> = sqlx::query_scalar(
                "SELECT expires_at FROM staff_sessions WHERE family = $1 ORDER BY created_at",
            )
            .bind(family)
            .fetch_all(&pool)
            .await
            .unwrap();
            ends
        }
    };
    let family: String =
        sqlx::query_scalar("SELECT family FROM staff_sessions ORDER BY created_at DESC LIMIT 1")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    for _ in 0..3 {
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        pair = app
            .post_json(
                "/api/v1/auth/refresh",
                &json!({"refresh_token": pair["refresh_token"]}),
            )
            .await
            .json()
            .await
            .unwrap();
        assert!(pair["access_token"].is_string(), "{pair}");
    }
    let ends = ends_of(family).await;
    assert_eq!(ends.len(), 4);
    assert!(
        ends.iter().all(|e| *e == ends[0]),
        "a refresh moved the end: {ends:?}"
    );
    // Past the login's end, the refresh token is refused.
    sqlx::query("UPDATE staff_sessions SET expires_at = $1")
        .bind("2020-01-01T00:00:00.000000Z")
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(
        app.post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": pair["refresh_token"]})
        )
        .await
        .status(),
        401
    );
    app.stop().await;
}

async fn totp_is_mandatory_for_sensitive_roles(app: TestApp) {
    add_user(&app, "fin1", "finance", "371500", None).await;
    let res = login_raw(&app, "fin1", PASSWORD, None).await;
    let pair: Value = res.json().await.unwrap();
    assert_eq!(pair["totp_enrollment_required"], true);
    let token = pair["access_token"].as_str().unwrap();
    // Until enrolled, nothing but enrolment works.
    let e: Value = get(&app, token, "/api/v1/cases")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(e["error"]["code"], "totp_enrollment_required");
    let setup: Value = post(&app, token, "/api/v1/auth/totp/setup", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(setup["otpauth_uri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/jubao:fin1?secret="));
    let secret = totp_rs::Secret::Encoded(setup["secret"].as_str().unwrap().into())
        .to_bytes()
        .unwrap();
    assert_eq!(
        post(
            &app,
            token,
            "/api/v1/auth/totp/confirm",
            &json!({"code": "000000"})
        )
        .await
        .status(),
        401
    );
    let code = totp_code(&secret);
    assert_eq!(
        post(
            &app,
            token,
            "/api/v1/auth/totp/confirm",
            &json!({"code": code})
        )
        .await
        .status(),
        204
    );
    assert_eq!(get(&app, token, "/api/v1/cases").await.status(), 200);
    // From now on the code is asked at sign-in, and a used code is not accepted again.
    let e: Value = login_raw(&app, "fin1", PASSWORD, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(e["error"]["code"], "totp_required");
    assert_eq!(
        login_raw(&app, "fin1", PASSWORD, Some(&code))
            .await
            .status(),
        401,
        "replayed code"
    );
    // The TOTP secret is sealed, never stored in the clear.
    let sealed: Vec<u8> =
        sqlx::query_scalar("SELECT totp_secret FROM staff_users WHERE username = 'fin1'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert!(!sealed.windows(secret.len()).any(|w| w == secret.as_slice()));
    // A handler may opt in; it is not forced.
    let h = staff(&app, "handler1", "handler", "371502").await;
    assert!(h.totp_secret.is_none());
    app.stop().await;
}

async fn first_admin_setup_code(app: TestApp) {
    let code = jubao::staff::auth::ensure_setup_code(&app.db, &app.state.vault)
        .await
        .unwrap()
        .expect("a code on a new database");
    assert!(
        jubao::staff::auth::ensure_setup_code(&app.db, &app.state.vault)
            .await
            .unwrap()
            .is_none(),
        "printed once"
    );
    let body = |c: &str| json!({"setup_code": c, "username": "admin", "password": "a-long-admin-password", "email": "admin@example.gov.cn"});
    assert_eq!(
        app.post_json("/api/v1/auth/setup", &body("WRONG-CODE-0000-0000"))
            .await
            .status(),
        401
    );
    let res = app
        .post_json("/api/v1/auth/setup", &body(&code.to_lowercase()))
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(
        app.post_json("/api/v1/auth/setup", &body(&code))
            .await
            .status(),
        401,
        "single use"
    );
    // The admin must enrol TOTP, then manages users but sees no case content.
    let admin = {
        let r: Value = login_raw(&app, "admin", "a-long-admin-password", None)
            .await
            .json()
            .await
            .unwrap();
        let t = r["access_token"].as_str().unwrap().to_string();
        let setup: Value = post(&app, &t, "/api/v1/auth/totp/setup", &json!({}))
            .await
            .json()
            .await
            .unwrap();
        let secret = totp_rs::Secret::Encoded(setup["secret"].as_str().unwrap().into())
            .to_bytes()
            .unwrap();
        assert_eq!(
            post(
                &app,
                &t,
                "/api/v1/auth/totp/confirm",
                &json!({"code": totp_code(&secret)})
            )
            .await
            .status(),
            204
        );
        t
    };
    let created = post(&app, &admin, "/api/v1/admin/users", &json!({"username": "Handler9", "password": "another-long-one", "roles": ["handler"], "region": "371502"})).await;
    assert_eq!(created.status(), 201);
    let dup = post(&app, &admin, "/api/v1/admin/users", &json!({"username": "handler9", "password": "another-long-one", "roles": ["handler"], "region": "371502"})).await;
    assert_eq!(dup.status(), 409);
    let weak: Value = post(
        &app,
        &admin,
        "/api/v1/admin/users",
        &json!({"username": "h10", "password": "short", "roles": ["handler"], "region": "371502"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(weak["error"]["field"], "password");
    let case = file_case(&app, &anonymous_report()).await;
    assert_eq!(
        get(&app, &admin, &format!("/api/v1/cases/{case}"))
            .await
            .status(),
        403
    );
    assert_eq!(get(&app, &admin, "/api/v1/cases").await.status(), 403);
    app.stop().await;
}

/// Guesses sent in parallel each count: with `max_failed_logins` = 5 (the default), four
/// at once leave the account open, and the fifth locks it; twenty at once lock it too (a
/// count read before the others wrote would stop short of five).
async fn parallel_wrong_passwords_lock_at_exactly_the_count(app: TestApp) {
    assert_eq!(app.config.staff.max_failed_logins, 5);
    add_user(&app, "guess1", "handler", "371502", None).await;
    add_user(&app, "guess2", "handler", "371502", None).await;
    let locked = |name: &'static str| {
        let pool = app.db.pool.clone();
        async move {
            let (failed, until): (i64, Option<String>) = sqlx::query_as(
                "SELECT failed_logins, locked_until FROM staff_users WHERE username = $1",
            )
            .bind(name)
            .fetch_one(&pool)
            .await
            .unwrap();
            (failed, until.is_some())
        }
    };
    let wrong = |name: &'static str, n: usize| {
        let app = &app;
        futures_util::future::join_all(
            (0..n).map(move |_| login_raw(app, name, "wrong-password!", None)),
        )
    };
    for r in wrong("guess1", 4).await {
        assert_eq!(r.status(), 401);
    }
    assert_eq!(locked("guess1").await, (4, false));
    assert_eq!(
        login_raw(&app, "guess1", "wrong-password!", None)
            .await
            .status(),
        401
    );
    assert_eq!(locked("guess1").await, (0, true));
    assert_eq!(
        login_raw(&app, "guess1", PASSWORD, None).await.status(),
        401
    );

    for r in wrong("guess2", 20).await {
        assert_eq!(r.status(), 401);
    }
    assert!(
        locked("guess2").await.1,
        "20 parallel guesses did not lock the account"
    );
    assert_eq!(
        login_raw(&app, "guess2", PASSWORD, None).await.status(),
        401
    );
    app.stop().await;
}

both_databases!(
    parallel_wrong_passwords_lock_at_exactly_the_count,
    login_lockout_and_tokens,
    refresh_rotation_and_replay,
    totp_is_mandatory_for_sensitive_roles,
    first_admin_setup_code,
);
