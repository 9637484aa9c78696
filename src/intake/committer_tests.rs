//! The intake writer's tests: bulk writes, the tip-by-tip fallback, the filing limit.

use super::*;
use crate::i18n::Locale;
use crate::intake::parse::{to_new_tip, RawReport};
use crate::vault::{SecretKey, Vault};

async fn setup(dir: &std::path::Path) -> (Db, Vault) {
    let url = format!("sqlite://{}", dir.join("t.db").display());
    let db = Db::connect(&url, 4).await.unwrap();
    db.migrate().await.unwrap();
    let vault = Vault::open(db.clone(), SecretKey::generate())
        .await
        .unwrap();
    (db, vault)
}

async fn tip(vault: &Vault, code: &str, named: bool) -> PreparedTip {
    let reporter = if named {
        serde_json::json!({"anonymous": false, "name": "张三", "phone": "13800138000"})
    } else {
        serde_json::json!({"anonymous": true})
    };
    let raw: RawReport = serde_json::from_value(serde_json::json!({
        "target": {"name": "某某医院", "kind": "hospital", "region_code": "371502"},
        "categories": ["fake_patient", "overcharging"],
        "description": "医院组织老人挂床住院，虚构诊疗项目骗取医保基金。",
        "reporter": reporter,
    }))
    .unwrap();
    let today = chrono::Utc::now().date_naive();
    let new = to_new_tip(raw, Locale::ZhCn, today).unwrap();
    let report_id = uuid::Uuid::now_v7().to_string();
    let sealer = vault.sealer().await.unwrap();
    let identity = vault.seal_identity(&sealer, &report_id, &new.identity);
    PreparedTip {
        report_id,
        channel: Channel::H5,
        tracking_code: code.to_string(),
        passcode_hash: vec![7; 32],
        tip: new,
        identity,
        case_keys: vec![],
        claim_verifier: None,
        evidence: vec![],
        received_at: chrono::Utc::now(),
        accept: AcceptClock {
            started_at: chrono::Utc::now(),
            start_on: today,
            due: crate::deadlines::period::Due {
                on: today,
                provisional: false,
            },
            remind_on: today,
            working_days: 15,
            remind_before: 3,
            rule: "national@1".into(),
            received_on: None,
        },
        case_region: "371502".into(),
        idempotency: None,
        extra: None,
        alert_attempts: None,
    }
}

async fn count(db: &Db, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_batch_is_written_in_bulk_with_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let (db, vault) = setup(dir.path()).await;
    let mut jobs = vec![];
    // 70 tips: more than one chunk of multi-row statements, named and anonymous.
    for i in 0..70 {
        jobs.push(tip(&vault, &format!("{i:012}"), i % 2 == 0).await);
    }
    let results = write_batch(&db, jobs).await;
    assert_eq!(results.len(), 70);
    for r in results {
        assert!(matches!(r, Ok(Outcome::Created)));
    }
    assert_eq!(count(&db, "reports").await, 70);
    assert_eq!(count(&db, "clocks").await, 70);
    assert_eq!(count(&db, "report_categories").await, 140);
    assert_eq!(count(&db, "report_events").await, 70);
    assert_eq!(count(&db, "reporter_identity").await, 35);
    assert_eq!(count(&db, "identity_index").await, 35);
    db.close().await;
}

#[tokio::test]
async fn a_colliding_code_falls_back_to_one_savepoint_per_tip() {
    let dir = tempfile::tempdir().unwrap();
    let (db, vault) = setup(dir.path()).await;
    let a = tip(&vault, "111111111111", true).await;
    let b = tip(&vault, "222222222222", false).await;
    // Same tracking code as the first: the bulk insert fails as a whole, then each tip
    // is written on its own and only this one is refused.
    let c = tip(&vault, "111111111111", true).await;
    let r = write_batch(&db, vec![a, b, c]).await;
    assert!(matches!(r[0], Ok(Outcome::Created)));
    assert!(matches!(r[1], Ok(Outcome::Created)));
    assert!(matches!(r[2], Ok(Outcome::CodeTaken)));
    assert_eq!(count(&db, "reports").await, 2);
    assert_eq!(count(&db, "report_categories").await, 4);
    assert_eq!(count(&db, "reporter_identity").await, 1);
    db.close().await;
}

/// Tips of one client in one batch are counted with one statement; those past the limit
/// are refused and nothing of them is stored, and the other client's tip is not touched.
#[tokio::test]
async fn a_batch_counts_each_clients_filings_and_refuses_those_over_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let (db, vault) = setup(dir.path()).await;
    let limits = crate::intake::limits::FilingLimits {
        per_client: 3,
        window_secs: 600,
    };
    let quota = |bucket: &str| crate::intake::limits::FilingQuota {
        bucket: bucket.into(),
        limits,
    };
    let mut jobs = vec![];
    for i in 0..5 {
        let mut t = tip(&vault, &format!("{i:012}"), false).await;
        t.tip.quota = Some(quota("fc:a"));
        jobs.push(t);
    }
    let mut other = tip(&vault, "999999999999", false).await;
    other.tip.quota = Some(quota("fc:b"));
    jobs.insert(2, other);
    let r = write_batch(&db, jobs).await;
    let refused: Vec<usize> = (0..r.len())
        .filter(|&i| matches!(r[i], Ok(Outcome::OverQuota { window_secs: 600 })))
        .collect();
    assert_eq!(refused, vec![4, 5], "the 4th and 5th tip of client a");
    assert!(r[..4].iter().all(|o| matches!(o, Ok(Outcome::Created))));
    assert_eq!(count(&db, "reports").await, 4);
    assert_eq!(count(&db, "report_categories").await, 8);
    let counts: Vec<(String, i64)> =
        sqlx::query_as("SELECT bucket, count FROM rate_limits ORDER BY bucket")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(counts, vec![("fc:a".into(), 5), ("fc:b".into(), 1)]);
    // A later batch of the same client: over the limit at once.
    let mut late = tip(&vault, "888888888888", false).await;
    late.tip.quota = Some(quota("fc:a"));
    let r = write_tip_alone(&db, late).await;
    assert!(matches!(r, Ok(Outcome::OverQuota { .. })));
    assert_eq!(count(&db, "reports").await, 4);
    db.close().await;
}

async fn write_tip_alone(db: &Db, p: PreparedTip) -> AppResult<Outcome> {
    write_batch(db, vec![p]).await.pop().unwrap()
}
