//! What auditors and statistics readers see (issue 15, DOMAIN §6): the audit log shows an
//! auditor only the entries about their region's cases (a city sees its counties, national
//! sees all), never about cases they are recused from; statistics leave out cases whose
//! target the reader is recused from.

use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::*;
use crate::staffkit::*;

async fn entries_about(app: &TestApp, s: &Staff, case: &str) -> usize {
    let v: Value = get(app, &s.token, &format!("/api/v1/audit?report_id={case}"))
        .await
        .json()
        .await
        .unwrap();
    let all: Value = get(app, &s.token, "/api/v1/audit?limit=500")
        .await
        .json()
        .await
        .unwrap();
    let in_all = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["report_id"] == case)
        .count();
    let n = v.as_array().unwrap().len();
    assert_eq!(
        n, in_all,
        "the unfiltered list agrees with the filtered one"
    );
    n
}

async fn tips_counted(app: &TestApp, s: &Staff) -> i64 {
    let v: Value = get(app, &s.token, "/api/v1/stats/tips")
        .await
        .json()
        .await
        .unwrap();
    v["by_channel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["count"].as_i64().unwrap())
        .sum()
}

async fn auditors_see_their_region_and_not_their_conflicts(app: TestApp) {
    let intake = staff(&app, "intake1", "intake", "371500").await;
    let _h = staff(&app, "handler1", "handler", "371502").await;
    let city = staff(&app, "aud_city", "auditor", "371500").await;
    let county = staff(&app, "aud_county", "auditor", "371502").await;
    let other = staff(&app, "aud_other", "auditor", "371503").await;
    let national = staff(&app, "aud_nation", "auditor", "000000").await;
    let recused = staff(&app, "aud_recused", "auditor", "371500").await;
    let res = post(
        &app,
        &recused.token,
        "/api/v1/me/conflicts",
        &json!({"institution": "某某市第一人民医院", "note": "曾在该院任职"}),
    )
    .await;
    assert_eq!(res.status(), 204);
    let case = file_case(&app, &anonymous_report()).await;
    post_ok(
        &app,
        &intake,
        &format!("/api/v1/cases/{case}/transitions"),
        &json!({"to": "accepted", "reason": "受理"}),
        200,
    )
    .await;
    // The acceptance (and the assignment with it) are audited about the case.
    for s in [&city, &county, &national] {
        assert!(entries_about(&app, s, &case).await >= 1, "{}", s.username);
    }
    for s in [&other, &recused] {
        assert_eq!(entries_about(&app, s, &case).await, 0, "{}", s.username);
    }
    // Statistics: the recused reader does not count the tip; the others of the city do.
    assert_eq!(tips_counted(&app, &city).await, 1);
    assert_eq!(tips_counted(&app, &recused).await, 0);
    assert_eq!(tips_counted(&app, &other).await, 0);
    app.stop().await;
}

both_databases!(auditors_see_their_region_and_not_their_conflicts);
