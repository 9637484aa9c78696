//! `keys rotate`: every sealed value moves to the new key, everything still opens, an
//! interrupted rotation resumes.

use serde_json::Value;

use crate::both_databases;
use crate::helpers::*;
use jubao::vault::{rotate, IdentityField, SealedIdentity};

both_databases!(rotation_reseals_everything_and_resumes);

/// Re-seal every identity and evidence file sealed under its case key (key id 0) under the
/// active data key instead, as rows written before per-case keys (migration 0015) are:
/// those are what rotation re-seals; case keys are wrapped by the shred chain, not by a
/// data key (docs/retention.md).
async fn as_before_case_keys(app: &TestApp) {
    let vault = &app.state.vault;
    let pool = &app.db.pool;
    let sealer = vault.sealer().await.unwrap();
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT report_id FROM reporter_identity WHERE key_id = 0")
            .fetch_all(pool)
            .await
            .unwrap();
    for rid in ids {
        let sealed = SealedIdentity::load(pool, &rid).await.unwrap().unwrap();
        let plain = vault.open_identity(&rid, &sealed).await.unwrap();
        let mut tx = app.db.begin().await.unwrap();
        for table in ["identity_index", "reporter_identity"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE report_id = $1"))
                .bind(&rid)
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        vault
            .seal_identity(&sealer, &rid, &plain)
            .insert(&mut tx, &rid)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let blobs: Vec<(String, String, String, Vec<u8>)> = sqlx::query_as(
        "SELECT e.report_id, b.evidence_id, b.variant, b.data FROM evidence_blobs b \
         JOIN evidence e ON e.id = b.evidence_id WHERE b.key_id = 0",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (rid, eid, variant, data) in blobs {
        let plain = vault
            .open_evidence(&rid, &eid, &variant, &data)
            .await
            .unwrap();
        sqlx::query(
            "UPDATE evidence_blobs SET key_id = $1, data = $2 WHERE evidence_id = $3 AND variant = $4",
        )
        .bind(sealer.key_id())
        .bind(sealer.seal_evidence(&rid, &eid, &variant, plain))
        .bind(&eid)
        .bind(&variant)
        .execute(pool)
        .await
        .unwrap();
    }
}

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
    as_before_case_keys(&app).await;

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
    // New tips are sealed under their case key (key id 0), which rotation leaves alone and
    // which still opens after it.
    app.file_tip(&named_report("孙七", &id, "13711112222"))
        .await;
    let keys: Vec<i64> =
        sqlx::query_scalar("SELECT DISTINCT key_id FROM reporter_identity ORDER BY key_id")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(keys, vec![0, i64::from(new_key + 1)]);
    rotate::rotate(vault, std::time::Duration::ZERO, &|_, _| {})
        .await
        .unwrap();
    rotate::retire(vault).await.unwrap();
    let rid: String =
        sqlx::query_scalar("SELECT report_id FROM reporter_identity WHERE key_id = 0")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    let sealed = SealedIdentity::load(&app.db.pool, &rid)
        .await
        .unwrap()
        .unwrap();
    let opened = vault.open_identity(&rid, &sealed).await.unwrap();
    assert_eq!(opened.get(IdentityField::IdNumber), Some(id.as_str()));
    app.stop().await;
}

both_databases!(rotation_covers_everything_sealed_and_retire_destroys_old_keys);

/// The data key id a sealed value names in its first four bytes (big-endian): the format of
/// every value the vault seals, read here without the vault's code.
fn key_of(sealed: &[u8]) -> u32 {
    u32::from_be_bytes(sealed[..4].try_into().unwrap())
}

/// Every sealed value in the database, as (where, key id).
async fn sealed_keys(app: &TestApp) -> Vec<(String, u32)> {
    let pool = &app.db.pool;
    let mut out = vec![];
    for field in [
        "name",
        "id_number",
        "phone",
        "email",
        "openid",
        "caller_number",
        "bank_account",
    ] {
        let rows: Vec<Option<Vec<u8>>> =
            sqlx::query_scalar(&format!("SELECT {field} FROM reporter_identity"))
                .fetch_all(pool)
                .await
                .unwrap();
        out.extend(
            rows.into_iter()
                .flatten()
                .map(|b| (field.to_string(), key_of(&b))),
        );
    }
    for (what, sql) in [
        ("evidence", "SELECT data FROM evidence_blobs"),
        ("idempotency", "SELECT response FROM idempotency"),
        (
            "totp",
            "SELECT totp_secret FROM staff_users WHERE totp_secret IS NOT NULL",
        ),
        ("conversation", "SELECT state FROM bot_conversations"),
        (
            "push reply",
            "SELECT reply FROM bot_pushes WHERE reply IS NOT NULL",
        ),
        ("token", "SELECT token FROM bot_tokens"),
    ] {
        let rows: Vec<Vec<u8>> = sqlx::query_scalar(sql).fetch_all(pool).await.unwrap();
        out.extend(rows.into_iter().map(|b| (what.to_string(), key_of(&b))));
    }
    out
}

/// Issue 15 item 10: rotation re-seals every sealed thing (identities, evidence originals
/// and working copies, saved receipts, staff TOTP secrets, the bots' conversation state,
/// saved replies and tokens), evidence sealed before it named its report still opens and
/// is re-bound to it, and `--retire` refuses while anything is left under an old key, then
/// destroys the old keys, after which nothing in the database names them.
async fn rotation_covers_everything_sealed_and_retire_destroys_old_keys(app: TestApp) {
    use jubao::channels::wechat::store as bot;
    use jubao::vault::context::{evidence_context, totp_context};
    use jubao::vault::rotate::RetireRefused;
    let vault = &app.state.vault;
    let pool = &app.db.pool;

    // A named tip with a file, through multipart and an idempotency key.
    let id = resident_id("44030419900101002");
    let body = named_report("周九", &id, "13711113333");
    let pdf = b"%PDF-1.4\n%%EOF\n".to_vec();
    let form = reqwest::multipart::Form::new()
        .part("report", reqwest::multipart::Part::text(body.to_string()))
        .part("evidence", reqwest::multipart::Part::bytes(pdf.clone()));
    let res = app
        .client
        .post(app.url("/api/v1/reports"))
        .header("Idempotency-Key", "rot-all-1")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let (evidence_id, report_id): (String, String) =
        sqlx::query_as("SELECT id, report_id FROM evidence")
            .fetch_one(pool)
            .await
            .unwrap();
    // A second file as it was sealed before evidence named its report.
    let image = app
        .file_tip(&named_report("周九", &id, "13711113333"))
        .await;
    let legacy_report: String =
        sqlx::query_scalar("SELECT id FROM reports WHERE tracking_code = $1")
            .bind(image["tracking_code"].as_str().unwrap())
            .fetch_one(pool)
            .await
            .unwrap();
    let legacy_bytes = b"%PDF-1.4\n% sealed the old way\n%%EOF\n".to_vec();
    let sealer = vault.sealer().await.unwrap();
    let legacy_blob = sealer.seal_blob("evidence|legacy-ev|original", &legacy_bytes);
    sqlx::query(
        "INSERT INTO evidence (id, report_id, seq, kind, media_type, size_bytes, sha256, \
         created_at) VALUES ('legacy-ev', $1, 0, 'pdf', 'application/pdf', 10, 'x', $2)",
    )
    .bind(&legacy_report)
    .bind(jubao::store::ts(chrono::Utc::now()))
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO evidence_blobs (evidence_id, variant, key_id, data) \
         VALUES ('legacy-ev', 'original', $1, $2)",
    )
    .bind(sealer.key_id())
    .bind(&legacy_blob)
    .execute(pool)
    .await
    .unwrap();
    assert_eq!(
        vault
            .open_evidence(&legacy_report, "legacy-ev", "original", &legacy_blob)
            .await
            .unwrap(),
        legacy_bytes
    );

    // A custodian with TOTP; a bot conversation, a saved reply and a cached token.
    let custodian = crate::staffkit::staff(&app, "custodian1", "custodian", "000000").await;
    let totp_secret = custodian
        .totp_secret
        .clone()
        .expect("custodians enrol TOTP");
    let user_digest = vault.request_digest(&[b"bot-user", b"oRotate-0001"]);
    let push_digest = vault.request_digest(&[b"bot-push", b"msg-0001"]);
    let conversation: dialog::Conversation = serde_json::from_value(serde_json::json!({
        "flow": "report", "step": "describe", "slots": {"name": "周九"}, "media": [],
        "locale": "zh-CN", "updated_at": 1_700_000_000, "attempts_on_step": 0
    }))
    .unwrap();
    {
        let mut conn = pool.acquire().await.unwrap();
        let loaded = bot::load_conversation(&mut conn, vault, &user_digest)
            .await
            .unwrap();
        let now = chrono::Utc::now();
        assert!(bot::save_conversation(
            &mut conn,
            &sealer,
            &user_digest,
            &loaded,
            Some(&conversation),
            now
        )
        .await
        .unwrap());
        assert!(bot::insert_claim(&mut conn, &push_digest).await.unwrap());
        bot::save_reply(&mut conn, &sealer, &push_digest, Some("您的举报已收到"))
            .await
            .unwrap();
    }
    let expires = chrono::Utc::now() + chrono::Duration::hours(2);
    bot::store_token(
        &app.db,
        &sealer,
        "wechat",
        "demo",
        "ACCESS-TOKEN-R",
        expires,
    )
    .await
    .unwrap();
    let old_totp: Vec<u8> = sqlx::query_scalar("SELECT totp_secret FROM staff_users WHERE id = $1")
        .bind(&custodian.id)
        .fetch_one(pool)
        .await
        .unwrap();
    as_before_case_keys(&app).await;
    let before = sealed_keys(&app).await;
    let kinds: std::collections::BTreeSet<&str> = before.iter().map(|(w, _)| w.as_str()).collect();
    for kind in [
        "name",
        "id_number",
        "phone",
        "email",
        "evidence",
        "idempotency",
        "totp",
        "conversation",
        "push reply",
        "token",
    ] {
        assert!(kinds.contains(kind), "nothing sealed in {kind} to rotate");
    }
    assert!(before.iter().all(|(_, k)| *k == 1));

    // Interrupted: a new key exists, nothing re-sealed. Retiring now is refused.
    assert_eq!(vault.create_active_key().await.unwrap(), 2);
    let refused = rotate::retire(vault).await.unwrap_err();
    assert_eq!(
        refused.downcast_ref::<RetireRefused>(),
        Some(&RetireRefused::RotationUnfinished { keys: "1".into() })
    );
    assert_eq!(
        refused.to_string(),
        "a rotation has not finished (data key 1 still being replaced): run `jubao keys \
         rotate` until it completes, then `jubao keys rotate --retire`"
    );
    let out = rotate::rotate(vault, std::time::Duration::ZERO, &|_, _| {})
        .await
        .unwrap();
    assert!(out.resumed);
    assert_eq!(out.resealed as usize, {
        // Each identity row is one re-seal, whatever its number of fields.
        let identities: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reporter_identity")
            .fetch_one(pool)
            .await
            .unwrap();
        let fields = before
            .iter()
            .filter(|(w, _)| {
                [
                    "name",
                    "id_number",
                    "phone",
                    "email",
                    "openid",
                    "caller_number",
                    "bank_account",
                ]
                .contains(&w.as_str())
            })
            .count();
        before.len() - fields + identities as usize
    });
    assert!(sealed_keys(&app).await.iter().all(|(_, k)| *k == 2));

    // A straggler writes under the retired key (here: the TOTP secret as it was): refused.
    sqlx::query("UPDATE staff_users SET totp_secret = $1 WHERE id = $2")
        .bind(&old_totp)
        .bind(&custodian.id)
        .execute(pool)
        .await
        .unwrap();
    let refused = rotate::retire(vault).await.unwrap_err();
    assert_eq!(
        refused.to_string(),
        "1 sealed values are not under the active data key 2 (staff_users.totp_secret: 1): \
         run `jubao keys rotate` to re-seal them, then `jubao keys rotate --retire`"
    );
    let keys: Vec<(i64, String)> = sqlx::query_as("SELECT id, state FROM vault_keys ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap();
    assert_eq!(keys, vec![(1, "retired".into()), (2, "active".into())]);

    // Rotate again (key 3), then retire: keys 1 and 2 are destroyed.
    let out = rotate::rotate(vault, std::time::Duration::ZERO, &|_, _| {})
        .await
        .unwrap();
    assert_eq!((out.active_key, out.resumed), (3, false));
    let retired = rotate::retire(vault).await.unwrap();
    assert_eq!(retired.destroyed, vec![1, 2]);
    assert_eq!(retired.active_key, 3);
    let keys: Vec<(i64, String)> = sqlx::query_as("SELECT id, state FROM vault_keys ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap();
    assert_eq!(keys, vec![(3, "active".into())]);
    // Retiring again destroys nothing.
    assert!(rotate::retire(vault).await.unwrap().destroyed.is_empty());

    // Nothing in the database is sealed under a destroyed key …
    let after = sealed_keys(&app).await;
    assert_eq!(after.len(), before.len());
    assert!(after.iter().all(|(_, k)| *k == 3), "{after:?}");
    // … what was sealed under them no longer opens …
    assert!(vault
        .open_blob(&totp_context(&custodian.id), &old_totp)
        .await
        .is_err());
    // … and everything opens with the current key, evidence bound to its report.
    for rid in [&report_id, &legacy_report] {
        let sealed = SealedIdentity::load(pool, rid).await.unwrap().unwrap();
        let opened = vault.open_identity(rid, &sealed).await.unwrap();
        assert_eq!(opened.get(IdentityField::IdNumber), Some(id.as_str()));
        assert_eq!(
            opened.get(IdentityField::Email),
            Some("reporter@example.com")
        );
    }
    for (rid, eid, bytes) in [
        (&report_id, evidence_id.as_str(), &pdf),
        (&legacy_report, "legacy-ev", &legacy_bytes),
    ] {
        let sealed = jubao::store::blobs::get(&app.db, eid, "original")
            .await
            .unwrap()
            .unwrap();
        let strict = evidence_context(rid, eid, "original");
        assert_eq!(&vault.open_blob(&strict, &sealed).await.unwrap(), bytes);
    }
    let totp_now: Vec<u8> = sqlx::query_scalar("SELECT totp_secret FROM staff_users WHERE id = $1")
        .bind(&custodian.id)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(
        vault
            .open_blob(&totp_context(&custodian.id), &totp_now)
            .await
            .unwrap(),
        totp_secret
    );
    {
        let mut conn = pool.acquire().await.unwrap();
        let loaded = bot::load_conversation(&mut conn, vault, &user_digest)
            .await
            .unwrap();
        assert_eq!(loaded.state.as_ref(), Some(&conversation));
    }
    match bot::claim_push(&app.db, vault, &push_digest).await.unwrap() {
        bot::Claim::Done(reply) => assert_eq!(reply.as_deref(), Some("您的举报已收到")),
        _ => panic!("the saved reply is gone"),
    }
    assert_eq!(
        bot::cached_token(&app.db, vault, "wechat", "demo", chrono::Duration::zero())
            .await
            .unwrap()
            .as_deref(),
        Some("ACCESS-TOKEN-R")
    );
    // The saved receipt is replayed; the tip is looked up with its passcode.
    let res = app
        .client
        .post(app.url("/api/v1/reports"))
        .header("Idempotency-Key", "rot-all-1")
        .multipart(
            reqwest::multipart::Form::new()
                .part("report", reqwest::multipart::Part::text(body.to_string()))
                .part("evidence", reqwest::multipart::Part::bytes(pdf.clone())),
        )
        .send()
        .await
        .unwrap();
    let replay: Value = res.json().await.unwrap();
    assert_eq!(
        app.lookup(
            replay["tracking_code"].as_str().unwrap(),
            replay["passcode"].as_str().unwrap()
        )
        .await
        .status(),
        200
    );
    app.stop().await;
}
