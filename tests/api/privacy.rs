//! Secrets never leak: identity fields and passcodes appear nowhere in the database files
//! (or a pg_dump), the stored evidence, or the logs; a mail relay that refuses a recipient
//! and quotes the address back leaves that address in no log, job or dead letter.

use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::*;
use crate::staffkit::*;
use crate::tools;

both_databases!(identity_and_passcodes_never_leak);
both_databases!(backend: refused_recipients_leave_no_address);

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

/// Issue 15 item 9: a reporter notice and a staff mail go to a relay that refuses every
/// recipient with "550 5.1.1 <address>: …". Both jobs are dead-lettered with the fixed code
/// `smtp_rejected_recipient`; neither address is in the logs, the dead-letter list or the
/// jobs' errors, and the reporter's is nowhere in the jobs table at all.
async fn refused_recipients_leave_no_address(backend: Backend) {
    let relay = SmtpSink::start_rejecting();
    let Some(app) = spawn_app_with(backend, |c| {
        c.smtp.url = relay.url().into();
        c.smtp.from = "医保举报系统 <noreply@jubao.test>".into();
        c.outbox.poll_ms = jubao::config::Millis::new(20);
        c.outbox.backoff_base_secs = jubao::config::Seconds::new(0);
        c.outbox.sweep_secs = jubao::config::Seconds::new(3600);
        c.outbox.max_attempts = 3;
    })
    .await
    else {
        return;
    };
    let reporter_address = "refused-reporter-canary@example.com";
    let staff_address = "refused-staff-canary@example.com";
    let admin = staff(&app, "admin1", "admin", "000000").await;
    let intake = staff(&app, "intake1", "intake", "371500").await;

    // The reporter notice: accepting a named tip tells the reporter by email.
    let mut body = named_report("钱八", &resident_id("37150219800101123"), "13900139008");
    body["reporter"]["email"] = json!(reporter_address);
    let case = file_case(&app, &body).await;
    post_ok(
        &app,
        &intake,
        &format!("/api/v1/cases/{case}/transitions"),
        &json!({"to": "accepted", "reason": "受理"}),
        200,
    )
    .await;
    // A staff mail, queued as the deadline sweep queues one.
    let mail = jubao::notify::email::Email::render(
        staff_address,
        jubao::i18n::Locale::default(),
        "deadline-today",
        &[("case", "abcd1234".into()), ("name", "值班同志".into())],
        None,
    );
    let mut tx = app.db.begin().await.unwrap();
    jubao::notify::enqueue(&mut tx, &jubao::notify::NewJob::of(&mail), 3)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut dead = Value::Null;
    for _ in 0..300 {
        dead = get(&app, &admin.token, "/api/v1/admin/dead-letters")
            .await
            .json()
            .await
            .unwrap();
        if dead.as_array().unwrap().len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // A refused recipient is permanent: one attempt each, then the dead-letter list.
    let mut seen: Vec<(String, i64, String)> = dead
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            (
                j["kind"].as_str().unwrap().to_string(),
                j["attempts"].as_i64().unwrap(),
                j["last_error"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("email".into(), 1, "smtp_rejected_recipient".into()),
            (
                "reporter_feedback".into(),
                1,
                "smtp_rejected_recipient".into()
            ),
        ]
    );
    assert_eq!(relay.rejected(), 2, "both sends reached the relay");

    let jobs: Vec<(String, String, String, Option<String>)> =
        sqlx::query_as("SELECT kind, state, payload, last_error FROM jobs ORDER BY id")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    let errors: String = jobs
        .iter()
        .map(|(_, _, _, e)| e.clone().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let everything = format!("{jobs:?}");
    let logs = String::from_utf8_lossy(&captured_logs().lock().unwrap()).into_owned();
    // The failures were logged (so an empty or unrelated log cannot pass) …
    assert!(
        logs.lines().any(|l| l.contains("job dead-lettered")
            && l.contains("smtp_rejected_recipient")
            && l.contains("reporter_feedback")),
        "the dead letter is logged with its code"
    );
    // … and neither address is in them, nor in what the admin sees, nor in a job's error.
    let dead = dead.to_string();
    for address in [reporter_address, staff_address] {
        let local = address.split('@').next().unwrap();
        for (where_, text) in [
            ("logs", &logs),
            ("dead letters", &dead),
            ("job errors", &errors),
        ] {
            assert!(!text.contains(local), "{address} found in the {where_}");
        }
    }
    // The reporter's address lives only in the vault: nowhere in the jobs table.
    assert!(
        !everything.contains("refused-reporter-canary"),
        "the reporter's address is in the jobs table"
    );
    app.stop().await;
}
