//! Retention and crypto-shredding (issue 19): a purge after the configured period with the
//! legal hold honoured, and a backup copy of the rows taken before the purge that no
//! longer opens with the current key files. Dates are worked out by hand on the test
//! clock; secrets are searched for literally.

use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::*;
use crate::staffkit::*;

both_databases!(backend: purge_after_the_period_honours_the_hold, public_figures_withhold_small_counts);

const NAME: &str = "李秀英";
const PHONE: &str = "13912345678";

/// A regional policy for Shandong (37): identity 30 days after the case ends, sanitized
/// evidence 60 days after.
const SHANDONG: &str = "id = \"sd-test\"\nversion = 1\nregion = \"370000\"\n\
    effective_from = 2026-01-01\nidentity_days = 30\nsanitized_days = 60\n";

/// `body` with a period before 2 March 2026 (the test clocks start then).
fn earlier(mut body: Value) -> Value {
    body["occurred_from"] = json!("2026-01-05");
    body["occurred_to"] = json!("2026-02-20");
    body
}

async fn app_with_policy(backend: Backend, at: &str) -> Option<(TestApp, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sd.toml"), SHANDONG).unwrap();
    let policies = dir.path().display().to_string();
    let app = spawn_app_at(backend, at, |c| {
        c.retention.policies_dir = policies;
        // The test runs the purge itself, on days it chooses.
        c.retention.enabled = false;
    })
    .await?;
    Some((app, dir))
}

async fn run(app: &TestApp, dry: bool) -> jubao::workflow::retention::run::RunReport {
    let policies = jubao::workflow::retention::policies(&app.config).unwrap();
    let today = jubao::deadlines::calendar::shanghai_date(app.clock.now());
    jubao::workflow::retention::run::run(
        &app.state.workflow,
        &app.state.vault,
        &policies,
        today,
        dry,
    )
    .await
    .unwrap()
}

/// The sealed identity of `case` and its identity key's row, as a backup holds them.
type Snapshot = (Vec<Option<Vec<u8>>>, String, Option<Vec<u8>>);

async fn snapshot(app: &TestApp, case: &str) -> Snapshot {
    let (name, phone): (Option<Vec<u8>>, Option<Vec<u8>>) =
        sqlx::query_as("SELECT name, phone FROM reporter_identity WHERE report_id = $1")
            .bind(case)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    let (epoch, wrapped): (String, Option<Vec<u8>>) = sqlx::query_as(
        "SELECT epoch, wrapped FROM case_keys WHERE report_id = $1 AND kind = 'identity'",
    )
    .bind(case)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    (vec![name, phone], epoch, wrapped)
}

/// Put a snapshot back (as restoring the backup would) and try to open the name with the
/// current vault and shred key file.
async fn open_restored(app: &TestApp, case: &str, s: &Snapshot) -> Result<String, String> {
    sqlx::query("DELETE FROM reporter_identity WHERE report_id = $1")
        .bind(case)
        .execute(&app.db.pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO reporter_identity (report_id, key_id, name, phone) VALUES ($1, 0, $2, $3)",
    )
    .bind(case)
    .bind(s.0[0].clone())
    .bind(s.0[1].clone())
    .execute(&app.db.pool)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE case_keys SET epoch = $1, wrapped = $2 WHERE report_id = $3 AND kind = 'identity'",
    )
    .bind(&s.1)
    .bind(s.2.clone())
    .bind(case)
    .execute(&app.db.pool)
    .await
    .unwrap();
    let sealed = jubao::vault::SealedIdentity::load(&app.db.pool, case)
        .await
        .unwrap()
        .unwrap();
    match app.state.vault.open_identity(case, &sealed).await {
        Ok(id) => Ok(id
            .get(jubao::vault::IdentityField::Name)
            .unwrap_or_default()
            .to_string()),
        Err(e) => Err(format!("{e:#}")),
    }
}

/// File `body` with a photo (multipart) and return the case id.
async fn file_with_photo(app: &TestApp, body: &Value) -> String {
    let form = reqwest::multipart::Form::new()
        .part("report", reqwest::multipart::Part::text(body.to_string()))
        .part(
            "evidence",
            reqwest::multipart::Part::bytes(jpeg_bytes()).file_name("photo.jpg"),
        );
    let res = app
        .client
        .post(app.url("/api/v1/reports"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let receipt: Value = res.json().await.unwrap();
    case_id_of(app, receipt["tracking_code"].as_str().unwrap()).await
}

/// Open the name of `case` in the database file `copy` with the master key and a copy of the
/// instance's shred key file as they are now.
async fn open_copy(app: &TestApp, copy: &std::path::Path, case: &str) -> Result<String, String> {
    let keys = tempfile::tempdir().unwrap();
    let shred = keys.path().join("shred.key");
    std::fs::copy(app.config.shred_key_path(), &shred).unwrap();
    let db = jubao::store::Db::connect(&format!("sqlite://{}", copy.display()), 2)
        .await
        .unwrap()
        .with_clock(app.clock.clone());
    let vault = jubao::vault::Vault::open_shredding(db.clone(), app.master.clone(), &shred, 30)
        .await
        .map_err(|e| format!("{e:#}"))?;
    let sealed = jubao::vault::SealedIdentity::load(&db.pool, case)
        .await
        .unwrap()
        .unwrap();
    let out = match vault.open_identity(case, &sealed).await {
        Ok(id) => Ok(id
            .get(jubao::vault::IdentityField::Name)
            .unwrap_or_default()
            .to_string()),
        Err(e) => Err(format!("{e:#}")),
    };
    db.close().await;
    out
}

async fn not_accept(app: &TestApp, intake: &Staff, case: &str) {
    post_ok(
        app,
        intake,
        &format!("/api/v1/cases/{case}/transitions"),
        &json!({"to": "not_accepted", "reason": "线索不清", "ground": "no_clear_target"}),
        200,
    )
    .await;
}

async fn close_open_clocks(app: &TestApp, case: &str) {
    // The real-name reporter's "told whether accepted" clock closes when the notice goes
    // out; this test has no mail server, so it is closed here as the sender would.
    sqlx::query(
        "UPDATE clocks SET closed_at = $1, outcome = 'met' WHERE report_id = $2 AND closed_at IS NULL",
    )
    .bind("2026-03-02T03:00:00Z")
    .bind(case)
    .execute(&app.db.pool)
    .await
    .unwrap();
}

async fn purge_after_the_period_honours_the_hold(backend: Backend) {
    // Monday 2 March 2026, 10:00 in Beijing.
    let Some((app, _policies)) = app_with_policy(backend, "2026-03-02T10:00:00+08:00").await else {
        return;
    };
    let intake = staff(&app, "intake1", "intake", "371500").await;
    let sup = staff(&app, "sup1", "supervisor", "370000").await;
    let id_number = resident_id("37150219800101123");
    let a = file_with_photo(&app, &earlier(named_report(NAME, &id_number, PHONE))).await;
    let (photo, under_case_keys): (String, i64) = sqlx::query_as(
        "SELECT e.id, COUNT(*) FROM evidence e JOIN evidence_blobs b ON b.evidence_id = e.id \
         WHERE e.report_id = $1 AND b.key_id = 0 GROUP BY e.id",
    )
    .bind(&a)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(
        under_case_keys, 2,
        "original and working copy under the case's keys"
    );
    let photo_url = format!("/api/v1/cases/{a}/evidence/{photo}");
    let b = file_case(
        &app,
        &earlier(named_report(
            "王建国",
            &resident_id("37150219751212456"),
            "13700001111",
        )),
    )
    .await;

    // New identities are sealed under the case key (key id 0), wrapped for 30 days ahead.
    let key_id: i64 =
        sqlx::query_scalar("SELECT key_id FROM reporter_identity WHERE report_id = $1")
            .bind(&a)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(key_id, 0);
    let before = snapshot(&app, &a).await;
    assert_eq!(before.1, "2026-04-01", "2 March + 30 days");

    for c in [&a, &b] {
        not_accept(&app, &intake, c).await;
        close_open_clocks(&app, c).await;
    }
    let standing: Value = get(&app, &sup.token, &format!("/api/v1/cases/{a}/retention"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(standing["ended_on"], "2026-03-02", "{standing}");
    assert_eq!(standing["policy"], "sd-test@1");
    assert_eq!(standing["identity_purge_on"], "2026-04-01");
    assert_eq!(standing["sanitized_purge_on"], "2026-05-01");

    // Holds: a reason is required, only a supervisor places one, one at a time.
    let e = post_ok(
        &app,
        &sup,
        &format!("/api/v1/cases/{b}/legal-hold"),
        &json!({}),
        422,
    )
    .await;
    assert_eq!(e["error"]["field"], "reason");
    let e = post_ok(
        &app,
        &intake,
        &format!("/api/v1/cases/{b}/legal-hold"),
        &json!({"reason": "诉讼"}),
        403,
    )
    .await;
    assert_eq!(e["error"]["code"], "forbidden");
    post_ok(
        &app,
        &sup,
        &format!("/api/v1/cases/{b}/legal-hold"),
        &json!({"reason": "行政诉讼进行中"}),
        200,
    )
    .await;
    let e = post_ok(
        &app,
        &sup,
        &format!("/api/v1/cases/{b}/legal-hold"),
        &json!({"reason": "again"}),
        409,
    )
    .await;
    assert_eq!(e["error"]["code"], "already_held");

    assert_eq!(get(&app, &sup.token, &photo_url).await.status(), 200);
    // Before the period ends nothing is purged. On SQLite, a real backup copy of the
    // database file is taken now, and it opens with the key files of today.
    let r = run(&app, false).await;
    assert_eq!((r.purged_identity, r.held), (0, 0), "{r:?}");
    let copy = app.dir.path().join("backup-copy.db");
    if app.backend == Backend::Sqlite {
        sqlx::query(&format!("VACUUM INTO '{}'", copy.display()))
            .execute(&app.db.pool)
            .await
            .unwrap();
        assert_eq!(open_copy(&app, &copy, &a).await.unwrap(), NAME);
    }

    // 31 days on: Thursday 2 April 2026. A dry run counts and changes nothing.
    app.clock.advance(chrono::Duration::days(31));
    let counts = app.counts().await;
    let dry = run(&app, true).await;
    assert_eq!((dry.purged_identity, dry.held), (1, 1), "{dry:?}");
    assert_eq!(app.counts().await, counts, "a dry run changes nothing");
    let r = run(&app, false).await;
    assert_eq!(
        (r.purged_identity, r.purged_sanitized, r.held),
        (1, 0, 1),
        "{r:?}"
    );
    assert_eq!(r.chain_moved_to.as_deref(), Some("2026-04-02"));

    // A's identity, index and identity key are gone; B's (held) are there and open.
    let left: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM reporter_identity WHERE report_id = $1) \
         + (SELECT COUNT(*) FROM identity_index WHERE report_id = $1) \
         + (SELECT COUNT(*) FROM case_keys WHERE report_id = $1 AND kind = 'identity' AND wrapped IS NOT NULL)",
    )
    .bind(&a)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(left, 0);
    // A's original is gone with its identity; the sanitized copy stays until its own day.
    let blobs: Vec<String> =
        sqlx::query_scalar("SELECT variant FROM evidence_blobs WHERE evidence_id = $1")
            .bind(&photo)
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(blobs, ["working"]);
    assert_eq!(get(&app, &sup.token, &photo_url).await.status(), 200);
    let sealed_b = jubao::vault::SealedIdentity::load(&app.db.pool, &b)
        .await
        .unwrap()
        .unwrap();
    let opened = app.state.vault.open_identity(&b, &sealed_b).await.unwrap();
    assert_eq!(
        opened.get(jubao::vault::IdentityField::Name),
        Some("王建国")
    );

    // The backup copy of A's rows, restored, no longer opens with the current key files:
    // its case key was wrapped for 1 April and the chain is now at 2 April.
    let err = open_restored(&app, &a, &before).await.unwrap_err();
    assert!(err.contains("passed"), "{err}");
    if app.backend == Backend::Sqlite {
        let err = open_copy(&app, &copy, &a).await.unwrap_err();
        assert!(err.contains("passed"), "{err}");
    }
    let file = std::fs::read_to_string(app.config.shred_key_path()).unwrap();
    assert!(
        file.contains(" 2026-04-02 "),
        "the key file moved on: {file}"
    );

    // The audit says what kind of data went, never the data.
    let detail: String = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'retention.purge' AND report_id = $1",
    )
    .bind(&a)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(
        detail.contains("\"identity\"") && detail.contains("sd-test@1"),
        "{detail}"
    );
    for secret in [NAME, PHONE, id_number.as_str()] {
        assert!(!detail.contains(secret));
    }

    // Lifting the hold (with a reason) lets the next run purge B.
    let e = post_ok(
        &app,
        &sup,
        &format!("/api/v1/cases/{a}/legal-hold/lift"),
        &json!({"reason": "x"}),
        409,
    )
    .await;
    assert_eq!(e["error"]["code"], "not_held");
    post_ok(
        &app,
        &sup,
        &format!("/api/v1/cases/{b}/legal-hold/lift"),
        &json!({"reason": "诉讼已结束"}),
        200,
    )
    .await;
    let r = run(&app, false).await;
    assert_eq!((r.purged_identity, r.held), (1, 0), "{r:?}");
    // The restored rows of A above hold a key the chain has passed: the run marks it
    // shredded instead of stopping on it.
    assert_eq!(r.keys_passed, 1, "{r:?}");

    // 30 days more, Saturday 2 May 2026: the sanitized evidence of both is due (1 May).
    app.clock.advance(chrono::Duration::days(30));
    let r = run(&app, false).await;
    assert_eq!((r.purged_identity, r.purged_sanitized), (0, 2), "{r:?}");
    assert_eq!(app.count("evidence_blobs").await, 0);
    let res = get(&app, &sup.token, &photo_url).await;
    assert_eq!(res.status(), 409);
    let e: Value = res.json().await.unwrap();
    assert_eq!(e["error"]["code"], "evidence_purged");
    let kinds: Vec<String> = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'retention.purge' AND report_id = $1 \
         ORDER BY seq",
    )
    .bind(&a)
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert!(kinds[0].contains("evidence_originals"), "{kinds:?}");
    assert!(kinds[1].contains("sanitized_evidence"), "{kinds:?}");
    let holds: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action IN ('case.legal_hold', 'case.legal_hold_lift') \
         AND outcome = 'ok'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(holds, 2);
    app.stop().await;
}

/// `GET /api/v1/public/stats{query}`, with no login.
async fn public(app: &TestApp, query: &str) -> reqwest::Response {
    let url = app.url(&format!("/api/v1/public/stats{query}"));
    app.client.get(url).send().await.unwrap()
}

async fn public_figures_withhold_small_counts(backend: Backend) {
    let Some((app, _p)) = app_with_policy(backend, "2026-03-10T10:00:00+08:00").await else {
        return;
    };
    let mut tip = earlier(anonymous_report());
    for _ in 0..5 {
        app.file_tip(&tip).await;
    }
    tip["target"]["region_code"] = json!("110101");
    for _ in 0..4 {
        app.file_tip(&tip).await;
    }
    let res = public(&app, "").await;
    assert_eq!(res.status(), 200);
    let s: Value = res.json().await.unwrap();
    assert_eq!(s["min_published"], 5);
    let cells = s["cells"].as_array().unwrap();
    // Shandong: 5 received in March, published; nothing accepted (0: withheld). Beijing's
    // four are withheld, and with nothing published Beijing is not listed at all.
    let march = cells
        .iter()
        .find(|c| c["region"] == "370000" && c["month"] == "2026-03")
        .unwrap();
    assert_eq!(march["received"], 5);
    assert_eq!(march["accepted"], Value::Null);
    assert!(cells.iter().all(|c| c["region"] != "110000"), "{s}");
    assert_eq!(cells.len(), 12, "twelve months of Shandong");
    let city: Value = public(&app, "?level=city").await.json().await.unwrap();
    assert!(city["cells"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["region"] == "371500" && c["received"] == 5));
    let res = public(&app, "?level=street").await;
    assert_eq!(res.status(), 400);
    let e: Value = res.json().await.unwrap();
    assert_eq!(e["error"]["field"], "level");
    app.stop().await;
}
