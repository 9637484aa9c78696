//! Related tips (issue 18): tips on the same facts through different channels are linked
//! with the right reasons by the outbox job, an unrelated tip is not; the list shows only
//! what the caller may see (region, recusal); a merge from it keeps the earliest valid tip;
//! a failing link computation never fails the intake and is retried.

use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::*;
use crate::hotline::{eventually, post_signed, source, work_order, SECRET};
use crate::staffkit::*;
use crate::tools;

both_databases!(backend:
    tips_through_channels_are_linked_with_their_reasons,
    other_regions_and_recused_cases_never_appear,
    a_merge_from_the_list_keeps_the_earliest_valid_tip,
    a_failing_link_job_keeps_the_tip_and_is_retried,
    no_merge_into_a_case_the_caller_is_recused_from,
);

const PHONE: &str = "13800138000";
/// The same facts in other words (crates/rules/src/similar/table.rs, first pair).
const FACTS_H5: &str = "康泰医院组织村里老人挂名住院，实际没有治疗，用医保卡结算，每人给200元。";
const FACTS_CALL: &str =
    "康泰医院把村里的老年人拉去挂床住院，人没有治疗，拿社保卡结算，每个人返现200元。";
const FACTS_LETTER: &str =
    "有人反映康泰医院把村里老人拉去挂床住院，没有治疗却用社保卡结算，每人返现200元。";
const OTHER_FACTS: &str = "民生诊所伪造检查报告和住院病历，虚构病人骗取统筹基金。";

async fn app(backend: Backend) -> Option<TestApp> {
    if !tools::need(
        "related::* (hotline work orders signed by Python's hmac)",
        &[tools::PYTHON3],
    ) {
        return None;
    }
    spawn_app_with(backend, |c| {
        c.hotline = vec![source("12393")];
        c.outbox.poll_ms = jubao::config::Millis::new(20);
        c.outbox.backoff_base_secs = jubao::config::Seconds::new(1);
        c.outbox.backoff_max_secs = jubao::config::Seconds::new(1);
        c.outbox.sweep_secs = jubao::config::Seconds::new(3600);
    })
    .await
}

fn tip(target: &str, region: &str, description: &str) -> Value {
    let mut t = anonymous_report();
    t["target"] = json!({ "name": target, "kind": "hospital", "region_code": region });
    t["description"] = json!(description);
    t["categories"] = json!(["split_or_bed_hospitalization"]);
    t
}

fn named(mut t: Value, phone: &str) -> Value {
    t["reporter"] = json!({
        "anonymous": false, "name": "张测", "phone": phone, "relation": "patient",
    });
    t
}

/// Wait until every `related_tips` job has run.
async fn links_done(app: &TestApp) {
    eventually("the related-tips jobs to finish", || async {
        app.count("jobs WHERE kind = 'related_tips'").await == 0
    })
    .await;
}

async fn related(app: &TestApp, s: &Staff, case: &str) -> Vec<Value> {
    let res = get(app, &s.token, &format!("/api/v1/cases/{case}/related")).await;
    assert_eq!(res.status(), 200);
    res.json::<Vec<Value>>().await.unwrap()
}

fn entry<'a>(list: &'a [Value], id: &str) -> Option<&'a Value> {
    list.iter().find(|e| e["id"] == id)
}

fn reasons(e: &Value) -> Vec<String> {
    e["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

async fn tips_through_channels_are_linked_with_their_reasons(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let intake = staff(&app, "intake1", "intake", "371500").await;
    // A patient on H5, named; a relative on the hotline from the same mobile, naming the
    // institution with its legal-form suffix; a visit recorded by staff, anonymous, with
    // the name misspelt; and an unrelated tip.
    let h5 = file_case(&app, &named(tip("康泰医院", "371502", FACTS_H5), PHONE)).await;
    let mut order = work_order("C-REL-0001");
    order["caller_number"] = json!("138-0013-8000");
    order["target"] =
        json!({ "name": "康泰医院有限公司", "kind": "hospital", "region_code": "371502" });
    order["description"] = json!(FACTS_CALL);
    let res = post_signed(&app, "12393", SECRET, &order).await;
    assert_eq!(res.status(), 201, "{:?}", res.text().await);
    let code = res.json::<Value>().await.unwrap()["tracking_code"]
        .as_str()
        .unwrap()
        .to_string();
    let call = case_id_of(&app, &code).await;
    let mut letter = tip("康太医院", "371502", FACTS_LETTER);
    letter["medium"] = json!("visit");
    let letter = post_ok(&app, &intake, "/api/v1/staff/reports", &letter, 201).await["case_id"]
        .as_str()
        .unwrap()
        .to_string();
    let other = file_case(&app, &tip("民生诊所", "371502", OTHER_FACTS)).await;
    // Punctuation, full width and 有限公司: the same target as the first.
    let fullwidth = file_case(&app, &tip("《康泰医院》有限公司", "371502", OTHER_FACTS)).await;
    links_done(&app).await;

    let list = related(&app, &intake, &h5).await;
    let c = entry(&list, &call).expect("the call is related");
    let r = reasons(c);
    for want in [
        "same_target",
        "same_reporter",
        "similar_text",
        "shared_categories",
    ] {
        assert!(r.contains(&want.to_string()), "{want} in {r:?}");
    }
    assert_eq!(c["status"], "received");
    assert!(c["score"].as_i64().unwrap() >= 80, "{c}");
    assert!(c["received_at"].as_str().is_some());
    let l = entry(&list, &letter).expect("the letter is related");
    let r = reasons(l);
    assert!(r.contains(&"similar_text".to_string()), "{r:?}");
    assert!(!r.contains(&"same_target".to_string()), "{r:?}");
    assert!(!r.contains(&"same_reporter".to_string()), "{r:?}");
    let f = entry(&list, &fullwidth).expect("the same target, written otherwise");
    assert!(reasons(f).contains(&"same_target".to_string()));
    assert!(!reasons(f).contains(&"similar_text".to_string()));
    assert!(
        entry(&list, &other).is_none(),
        "an unrelated tip is not linked"
    );
    // The later tip lists the earlier one too; the unrelated tip is linked only to the
    // one that shares its words.
    assert!(entry(&related(&app, &intake, &call).await, &h5).is_some());
    let others = related(&app, &intake, &other).await;
    assert!(
        others.iter().all(|e| e["id"] != h5 && e["id"] != call),
        "{others:?}"
    );
    // The exact shape of CONTRACT §8, and no identity anywhere in it.
    for e in &list {
        let mut keys: Vec<&str> = e.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        keys.sort();
        assert_eq!(keys, ["id", "reasons", "received_at", "score", "status"]);
    }
    let text = serde_json::to_string(&list).unwrap();
    assert!(!text.contains(PHONE) && !text.contains("张测"), "{text}");
    let links: Vec<(String, String, String)> =
        sqlx::query_as("SELECT report_id, related_id, reasons FROM related_links")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    assert!(!format!("{links:?}").contains(PHONE));
    app.stop().await;
}

async fn other_regions_and_recused_cases_never_appear(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let county = staff(&app, "intake_county", "intake", "371502").await;
    let city = staff(&app, "intake_city", "intake", "371500").await;
    let recused = staff(&app, "intake_recused", "intake", "371500").await;
    let res = post(
        &app,
        &recused.token,
        "/api/v1/me/conflicts",
        &json!({"institution": "仁和大药房", "note": "亲属任职"}),
    )
    .await;
    assert_eq!(res.status(), 204);
    // The same reporter about two institutions in two counties, and a second tip on the
    // first one's facts.
    let a = file_case(&app, &named(tip("康泰医院", "371502", FACTS_H5), PHONE)).await;
    let b = file_case(
        &app,
        &named(tip("仁和大药房", "371503", OTHER_FACTS), PHONE),
    )
    .await;
    let c = file_case(&app, &tip("康泰医院", "371502", FACTS_CALL)).await;
    links_done(&app).await;

    let all = related(&app, &city, &a).await;
    assert!(entry(&all, &b).is_some(), "{all:?}");
    assert_eq!(reasons(entry(&all, &b).unwrap())[0], "same_reporter");
    assert!(entry(&all, &c).is_some());
    let mine = related(&app, &county, &a).await;
    assert!(entry(&mine, &c).is_some());
    assert!(
        entry(&mine, &b).is_none(),
        "another county's case: {mine:?}"
    );
    let mine = related(&app, &recused, &a).await;
    assert!(entry(&mine, &c).is_some());
    assert!(entry(&mine, &b).is_none(), "a recused case: {mine:?}");
    // The recused user may not ask about the case itself; the county user not about
    // another county's.
    let res = get(&app, &recused.token, &format!("/api/v1/cases/{b}/related")).await;
    assert_eq!(res.status(), 403);
    let res = get(&app, &county.token, &format!("/api/v1/cases/{b}/related")).await;
    assert_eq!(res.status(), 403);
    let e: Value = res.json().await.unwrap();
    assert_eq!(e["error"]["code"], "forbidden");
    let res = get(&app, &city.token, "/api/v1/cases/no-such-case/related").await;
    assert_eq!(res.status(), 404);
    app.stop().await;
}

async fn a_merge_from_the_list_keeps_the_earliest_valid_tip(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let intake = staff(&app, "intake1", "intake", "371500").await;
    let t0 = file_case(&app, &tip("康泰医院", "371502", FACTS_H5)).await;
    let t1 = file_case(&app, &named(tip("康泰医院", "371502", FACTS_CALL), PHONE)).await;
    let t2 = file_case(&app, &tip("康泰医院", "371502", FACTS_LETTER)).await;
    post_ok(
        &app,
        &intake,
        &format!("/api/v1/cases/{t0}/transitions"),
        &json!({"to": "not_accepted", "reason": "线索不清", "ground": "no_clear_target"}),
        200,
    )
    .await;
    links_done(&app).await;
    let list = related(&app, &intake, &t2).await;
    assert_eq!(entry(&list, &t0).unwrap()["status"], "not_accepted");
    assert_eq!(entry(&list, &t1).unwrap()["status"], "received");
    let merge = |into: &str| json!({"to": "merged", "reason": "同一事项", "merge_into": into});
    // Not into the earliest tip, which is not valid; not into a later one.
    let res = post(
        &app,
        &intake.token,
        &format!("/api/v1/cases/{t2}/transitions"),
        &merge(&t0),
    )
    .await;
    assert_eq!(res.status(), 422);
    let res = post(
        &app,
        &intake.token,
        &format!("/api/v1/cases/{t1}/transitions"),
        &merge(&t2),
    )
    .await;
    assert_eq!(res.status(), 422);
    post_ok(
        &app,
        &intake,
        &format!("/api/v1/cases/{t2}/transitions"),
        &merge(&t1),
        200,
    )
    .await;
    let first: Value = get(&app, &intake.token, &format!("/api/v1/cases/{t1}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["status"], "received");
    assert_eq!(first["merged_into"], Value::Null);
    let later: Value = get(&app, &intake.token, &format!("/api/v1/cases/{t2}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(later["merged_into"], t1);
    let list = related(&app, &intake, &t1).await;
    assert_eq!(entry(&list, &t2).unwrap()["status"], "merged");
    app.stop().await;
}

async fn a_failing_link_job_keeps_the_tip_and_is_retried(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let intake = staff(&app, "intake1", "intake", "371500").await;
    let first = file_case(&app, &tip("康泰医院", "371502", FACTS_H5)).await;
    links_done(&app).await;
    sqlx::query("ALTER TABLE related_links RENAME TO related_links_away")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let second = file_case(&app, &named(tip("康泰医院", "371502", FACTS_CALL), PHONE)).await;
    eventually("a failed attempt", || async {
        let n: Option<i64> = sqlx::query_scalar(
            "SELECT attempts FROM jobs WHERE kind = 'related_tips' AND last_error IS NOT NULL",
        )
        .fetch_optional(&app.db.pool)
        .await
        .unwrap();
        n.is_some_and(|n| n >= 1)
    })
    .await;
    let logs = String::from_utf8_lossy(&captured_logs().lock().unwrap()).into_owned();
    let line = logs
        .lines()
        .find(|l| l.contains("related tips not computed") && l.contains(&second))
        .expect("the failure is logged with the tip id");
    assert!(!line.contains(PHONE), "{line}");
    sqlx::query("ALTER TABLE related_links_away RENAME TO related_links")
        .execute(&app.db.pool)
        .await
        .unwrap();
    links_done(&app).await;
    let list = related(&app, &intake, &second).await;
    assert!(entry(&list, &first).is_some(), "{list:?}");
    app.stop().await;
}

/// A merge into an earlier case on an institution the caller is recused from is refused
/// like a merge into a case that is not there, and changes nothing; another person may.
async fn no_merge_into_a_case_the_caller_is_recused_from(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let recused = staff(&app, "intake_recused", "intake", "371500").await;
    let other = staff(&app, "intake_other", "intake", "371500").await;
    let res = post(
        &app,
        &recused.token,
        "/api/v1/me/conflicts",
        &json!({"institution": "仁和大药房", "note": "亲属任职"}),
    )
    .await;
    assert_eq!(res.status(), 204);
    let earlier = file_case(&app, &tip("仁和大药房", "371502", FACTS_H5)).await;
    let later = file_case(&app, &tip("康泰医院", "371502", FACTS_CALL)).await;
    let merge = json!({"to": "merged", "reason": "同一事项", "merge_into": earlier});
    let path = format!("/api/v1/cases/{later}/transitions");
    let refused = post(&app, &recused.token, &path, &merge).await;
    assert_eq!(refused.status(), 422);
    let refused: Value = refused.json().await.unwrap();
    let missing = post(
        &app,
        &recused.token,
        &path,
        &json!({"to": "merged", "reason": "同一事项", "merge_into": "no-such-case"}),
    )
    .await;
    assert_eq!(missing.status(), 422);
    let missing: Value = missing.json().await.unwrap();
    for k in ["code", "field", "message"] {
        assert_eq!(
            refused["error"][k], missing["error"][k],
            "the refusal does not tell the case is there: {refused} {missing}"
        );
    }
    assert_eq!(refused["error"]["field"], "merge_into", "{refused}");
    let case: Value = get(&app, &other.token, &format!("/api/v1/cases/{later}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(case["status"], "received");
    assert!(case["merged_into"].is_null(), "{case}");
    post_ok(&app, &other, &path, &merge, 200).await;
    app.stop().await;
}
