//! Secrets never leak: identity fields and passcodes appear nowhere in the database files
//! (or a pg_dump), the stored evidence, or the logs.

use serde_json::Value;

use crate::both_databases;
use crate::helpers::*;
use crate::tools;

both_databases!(identity_and_passcodes_never_leak);

async fn identity_and_passcodes_never_leak(app: TestApp) {
    // On PostgreSQL the database is searched through a pg_dump.
    let test = "privacy::identity_and_passcodes_never_leak::postgres";
    if app.backend == Backend::Postgres && !tools::need(test, &[tools::PG_DUMP]) {
        app.stop().await;
        return;
    }
    let name = "赵六泄露测试";
    let id = resident_id("37150219750607845");
    let phone = "13987654321";
    let email = "leak-canary@example.com";
    let mut secrets: Vec<String> = vec![name.into(), id.clone(), phone.into(), email.into()];

    let mut body = named_report(name, &id, phone);
    body["reporter"]["email"] = Value::from(email);
    let r = app.file_tip(&body).await;
    secrets.push(r["passcode"].as_str().unwrap().to_string());

    // Same identity again through multipart, with a file that itself contains the phone
    // number (it must be stored sealed), and an idempotency key (the saved receipt holds
    // the passcode).
    let pdf = format!("%PDF-1.4\n% contact {phone} {email}\n%%EOF\n").into_bytes();
    let form = reqwest::multipart::Form::new()
        .part("report", reqwest::multipart::Part::text(body.to_string()))
        .part(
            "evidence",
            reqwest::multipart::Part::bytes(pdf).file_name("x.pdf"),
        );
    let res = app
        .client
        .post(app.url("/api/v1/reports"))
        .header("Idempotency-Key", "leak-1")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let r2: Value = res.json().await.unwrap();
    secrets.push(r2["passcode"].as_str().unwrap().to_string());
    // Failed look-ups with a real passcode against the wrong code must not log it either.
    app.lookup("123412341234", r2["passcode"].as_str().unwrap())
        .await;
    app.lookup(
        r2["tracking_code"].as_str().unwrap(),
        r2["passcode"].as_str().unwrap(),
    )
    .await;

    // The blind index finds both tips by phone without the phone being stored.
    let digest = app
        .state
        .vault
        .blind_index(jubao::vault::IdentityField::Phone, phone);
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM identity_index WHERE field = 'phone' AND digest = $1",
    )
    .bind(digest.to_vec())
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(n, 2);
    // And the vault opens the identity to exactly what was given.
    let (report_id,): (String,) = sqlx::query_as("SELECT id FROM reports WHERE tracking_code = $1")
        .bind(r["tracking_code"].as_str().unwrap())
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let sealed = jubao::vault::SealedIdentity::load(&app.db.pool, &report_id)
        .await
        .unwrap()
        .unwrap();
    let opened = app
        .state
        .vault
        .open_identity(&report_id, &sealed)
        .await
        .unwrap();
    assert_eq!(
        opened.get(jubao::vault::IdentityField::IdNumber),
        Some(id.as_str())
    );

    // Everything the database holds, as bytes (bytea decoded on PostgreSQL).
    let mut haystacks: Vec<(String, Vec<u8>)> = database_bytes(&app);
    haystacks.push(("logs".into(), captured_logs().lock().unwrap().clone()));
    // The logs did capture this test's requests (so an empty log cannot pass).
    assert!(
        String::from_utf8_lossy(&haystacks.last().unwrap().1).contains("/api/v1/reports/lookup")
    );

    for (where_, bytes) in &haystacks {
        for s in &secrets {
            let needle = s.as_bytes();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "a secret ({} bytes) was found in {where_}",
                needle.len()
            );
        }
    }
    app.stop().await;
}
