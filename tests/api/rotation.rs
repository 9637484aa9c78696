//! `keys rotate`: every sealed value moves to the new key, everything still opens, and an
//! interrupted rotation resumes.

use serde_json::Value;

use crate::both_databases;
use crate::helpers::*;
use jubao::vault::{rotate, IdentityField, SealedIdentity};

both_databases!(rotation_reseals_everything_and_resumes);

async fn rotation_reseals_everything_and_resumes(app: TestApp) {
    let id = resident_id("44030419900101001");
    let body = named_report("孙七", &id, "13711112222");
    let form = reqwest::multipart::Form::new()
        .part("report", reqwest::multipart::Part::text(body.to_string()))
        .part(
            "evidence",
            reqwest::multipart::Part::bytes(b"%PDF-1.4\n%%EOF\n".to_vec()),
        );
    let res = app
        .client
        .post(app.url("/api/v1/reports"))
        .header("Idempotency-Key", "rot-1")
        .multipart(form)
        .send()
        .await
        .unwrap();
    let receipt: Value = res.json().await.unwrap();
    for _ in 0..5 {
        app.file_tip(&named_report("孙七", &id, "13711112222"))
            .await;
    }
    let vault = &app.state.vault;

    // An interrupted rotation: the new key exists, nothing re-sealed yet.
    let new_key = vault.create_active_key().await.unwrap();
    assert!(rotate::pending(vault, i64::from(new_key)).await.unwrap() >= 8);

    let seen = std::sync::Mutex::new(vec![]);
    let progress = |d: u64, t: u64| seen.lock().unwrap().push((d, t));
    let out = rotate::rotate(vault, std::time::Duration::ZERO, &progress)
        .await
        .unwrap();
    assert!(out.resumed);
    assert_eq!(out.active_key, new_key);
    assert_eq!(rotate::pending(vault, i64::from(new_key)).await.unwrap(), 0);
    assert!(out.resealed >= 8);
    assert_eq!(seen.lock().unwrap().last().unwrap().0, out.resealed);
    let states: Vec<(i64, String)> = sqlx::query_as("SELECT id, state FROM vault_keys ORDER BY id")
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(
        states,
        vec![
            (1, "retired".to_string()),
            (i64::from(new_key), "active".to_string())
        ]
    );

    // Everything still opens: identities, evidence, the saved receipt, the passcode.
    let ids: Vec<String> = sqlx::query_scalar("SELECT report_id FROM reporter_identity")
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
    for rid in ids {
        let sealed = SealedIdentity::load(&app.db.pool, &rid)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(sealed.key_id, i64::from(new_key));
        let opened = vault.open_identity(&rid, &sealed).await.unwrap();
        assert_eq!(opened.get(IdentityField::IdNumber), Some(id.as_str()));
    }
    let res = app
        .client
        .post(app.url("/api/v1/reports"))
        .header("Idempotency-Key", "rot-1")
        .multipart(
            reqwest::multipart::Form::new()
                .part("report", reqwest::multipart::Part::text(body.to_string()))
                .part(
                    "evidence",
                    reqwest::multipart::Part::bytes(b"%PDF-1.4\n%%EOF\n".to_vec()),
                ),
        )
        .send()
        .await
        .unwrap();
    let replay: Value = res.json().await.unwrap();
    assert_eq!(replay["passcode"], receipt["passcode"]);
    assert_eq!(
        app.lookup(
            receipt["tracking_code"].as_str().unwrap(),
            receipt["passcode"].as_str().unwrap()
        )
        .await
        .status(),
        200
    );

    // A second, fresh rotation.
    let out2 = rotate::rotate(vault, std::time::Duration::ZERO, &|_, _| {})
        .await
        .unwrap();
    assert!(!out2.resumed);
    assert_eq!(out2.active_key, new_key + 1);
    // New tips are sealed with the newest key.
    app.file_tip(&named_report("孙七", &id, "13711112222"))
        .await;
    let keys: Vec<i64> = sqlx::query_scalar("SELECT DISTINCT key_id FROM reporter_identity")
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(keys, vec![i64::from(new_key + 1)]);
    app.stop().await;
}
