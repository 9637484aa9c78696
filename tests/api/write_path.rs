//! Migration 0018 (fewer B-tree entries a tip, issue 20) on tips filed before it: their
//! categories, blind-index rows and case keys are the same rows after it, the tips are
//! still found by their codes, and new tips are written to the new tables. Read back with
//! plain sqlx queries, not through the code under test.

use crate::both_databases;
use crate::helpers::*;

type Rows = (
    Vec<(String, String)>,
    Vec<(String, Vec<u8>, String)>,
    Vec<(String, String, String, Option<Vec<u8>>)>,
);

async fn rows(app: &TestApp) -> Rows {
    let pool = &app.db.pool;
    let categories = sqlx::query_as(
        "SELECT report_id, category FROM report_categories ORDER BY report_id, category",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let index = sqlx::query_as(
        "SELECT field, digest, report_id FROM identity_index ORDER BY field, digest, report_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let keys = sqlx::query_as(
        "SELECT report_id, kind, epoch, wrapped FROM case_keys ORDER BY report_id, kind",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    (categories, index, keys)
}

async fn tips_from_before_the_write_path_migration_keep_their_rows(backend: Backend) {
    let Some(app) = spawn_app_without_migration(backend, 18).await else {
        return;
    };
    let mut receipts = vec![];
    for (name, id, phone) in [
        ("王秀兰", resident_id("37150219580314002"), "13912345678"),
        ("李建国", resident_id("37150219610101003"), "13800138000"),
    ] {
        receipts.push(app.file_tip(&named_report(name, &id, phone)).await);
    }
    receipts.push(app.file_tip(&anonymous_report()).await);
    let before = rows(&app).await;
    assert!(before.0.len() >= 3, "{:?}", before.0);
    assert_eq!(before.1.len(), 4, "two blind-index rows a named tip");

    app.db.migrate().await.unwrap();

    assert_eq!(rows(&app).await, before);
    for r in &receipts {
        let code = r["tracking_code"].as_str().unwrap();
        let res = app.lookup(code, r["passcode"].as_str().unwrap()).await;
        assert_eq!(res.status(), 200, "{code}");
    }
    let id = resident_id("37150219700505004");
    app.file_tip(&named_report("张伟", &id, "13700137000"))
        .await;
    let after = rows(&app).await;
    assert_eq!(after.1.len(), 6);
    assert!(after.0.len() > before.0.len());
    assert_eq!(after.2.len(), before.2.len() + (before.2.len() / 3));

    let indexes: Vec<String> = match backend {
        Backend::Sqlite => {
            for table in ["report_categories", "identity_index", "case_keys"] {
                let rowid = sqlx::query(&format!("SELECT rowid FROM {table}"))
                    .fetch_all(&app.db.pool)
                    .await;
                assert!(rowid.is_err(), "{table} is stored in its primary key");
            }
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'index'")
                .fetch_all(&app.db.pool)
                .await
                .unwrap()
        }
        Backend::Postgres => {
            sqlx::query_scalar("SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public'")
                .fetch_all(&app.db.pool)
                .await
                .unwrap()
        }
    };
    assert!(!indexes.iter().any(|i| i == "reports_target_key"));
    for kept in [
        "reports_target_region",
        "identity_index_report",
        "case_keys_epoch",
    ] {
        assert!(indexes.iter().any(|i| i == kept), "{kept}: {indexes:?}");
    }
    app.stop().await;
}

both_databases!(backend: tips_from_before_the_write_path_migration_keep_their_rows);
