//! Triage and independent reporters (issue 18): the explanation adds up to the score, the
//! inbox sorts by it, a repeated identical tip from one client address is marked and sorted
//! down (never dropped), and a supervisor sees how many distinct reporters named a target,
//! by channel, never who.

use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::*;
use crate::hotline::eventually;
use crate::staffkit::*;

both_databases!(backend:
    the_explanation_adds_up_and_the_inbox_sorts_by_it,
    a_supervisor_sees_how_many_reporters_not_who,
    a_region_file_in_the_weights_folder_weighs_that_regions_tips,
);

async fn app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |c| {
        c.outbox.poll_ms = jubao::config::Millis::new(20);
        c.outbox.sweep_secs = jubao::config::Seconds::new(3600);
    })
    .await
}

async fn links_done(app: &TestApp) {
    eventually("the related-tips jobs to finish", || async {
        app.count("jobs WHERE kind = 'related_tips'").await == 0
    })
    .await;
}

fn tip(target: &str, description: &str, phone: Option<&str>, insider: bool) -> Value {
    let mut t = anonymous_report();
    t["target"] = json!({ "name": target, "kind": "hospital", "region_code": "371502" });
    t["description"] = json!(description);
    if let Some(p) = phone {
        t["reporter"] = json!({
            "anonymous": false, "name": "李测", "phone": p,
            "relation": if insider { "insider" } else { "patient" },
        });
    }
    t
}

async fn detail(app: &TestApp, s: &Staff, id: &str) -> Value {
    get(app, &s.token, &format!("/api/v1/cases/{id}"))
        .await
        .json()
        .await
        .unwrap()
}

fn factor(d: &Value, name: &str) -> Value {
    d["triage"]["factors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["factor"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("{name} in {d}"))
}

async fn the_explanation_adds_up_and_the_inbox_sorts_by_it(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let intake = staff(&app, "intake1", "intake", "371500").await;
    let mut big = tip(
        "康泰医院",
        "康泰医院组织村里老人挂名住院，实际没有治疗，用医保卡结算。",
        Some("13800138001"),
        true,
    );
    big["amount_estimate_fen"] = json!(150_000_000);
    big["categories"] = json!(["fake_patient", "other"]);
    let big = file_case(&app, &big).await;
    let mut small = tip(
        "民生诊所",
        "民生诊所多收了一次挂号费，金额不大。",
        None,
        false,
    );
    small["categories"] = json!(["other"]);
    small["amount_estimate_fen"] = json!(500);
    let small = file_case(&app, &small).await;
    // The same tip twice from this client: the second is marked, sorted down, kept.
    let same = tip(
        "仁和大药房",
        "仁和大药房用医保卡给顾客刷卡买米面油等生活用品。",
        None,
        false,
    );
    let first = file_case(&app, &same).await;
    let again = file_case(&app, &same).await;
    links_done(&app).await;

    for id in [&big, &small, &first, &again] {
        let d = detail(&app, &intake, id).await;
        let t = &d["triage"];
        let sum: i64 = t["factors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["points"].as_i64().unwrap())
            .sum();
        assert_eq!(t["score"].as_i64().unwrap(), sum, "{t}");
        assert_eq!(t["factors"].as_array().unwrap().len(), 8, "{t}");
        assert_eq!(t["policy"], "default@1");
        let text = t.to_string();
        assert!(
            !text.contains("13800138001") && !text.contains("李测"),
            "{text}"
        );
    }
    let d = detail(&app, &intake, &big).await;
    assert_eq!(factor(&d, "insider")["points"], 15);
    assert_eq!(factor(&d, "amount_estimate")["points"], 30);
    assert_eq!(factor(&d, "categories")["detail"], "fake_patient");
    let d = detail(&app, &intake, &again).await;
    assert_eq!(d["triage"]["repeated"], true);
    assert_eq!(factor(&d, "repeated")["points"], -40);
    assert_eq!(
        detail(&app, &intake, &first).await["triage"]["repeated"],
        false
    );

    let list: Vec<Value> = get(&app, &intake.token, "/api/v1/cases?sort=priority")
        .await
        .json()
        .await
        .unwrap();
    let pos = |id: &str| list.iter().position(|c| c["id"] == id).unwrap();
    assert!(pos(&big) < pos(&small), "{list:?}");
    assert!(pos(&first) < pos(&again), "the repeat is sorted down");
    assert_eq!(list[pos(&again)]["repeated"], true);
    assert!(list
        .windows(2)
        .all(|w| w[0]["priority"].as_i64() >= w[1]["priority"].as_i64()));
    // By time (the default) the repeat is first: it is not dropped.
    let by_time: Vec<Value> = get(&app, &intake.token, "/api/v1/cases")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_time[0]["id"], again);
    let res = get(&app, &intake.token, "/api/v1/cases?sort=loudest").await;
    assert_eq!(res.status(), 422);
    let e: Value = res.json().await.unwrap();
    assert_eq!(e["error"]["field"], "sort");
    app.stop().await;
}

async fn a_supervisor_sees_how_many_reporters_not_who(backend: Backend) {
    let Some(app) = app(backend).await else {
        return;
    };
    let sup = staff(&app, "sup1", "supervisor", "371500").await;
    let intake = staff(&app, "intake1", "intake", "371500").await;
    let other_city = staff(&app, "sup2", "supervisor", "371600").await;
    // Three distinct reporters on one hospital (one of them twice, once by phone and once
    // under another name with the same phone), and one reporter twice on a pharmacy.
    let a = file_case(
        &app,
        &tip(
            "康泰医院",
            "康泰医院让老人挂床住院，虚构治疗项目结算。",
            Some("13800138001"),
            false,
        ),
    )
    .await;
    file_case(
        &app,
        &tip(
            "康泰医院有限公司",
            "康泰医院让病人挂名住院，每人发给两百元。",
            Some("13800138002"),
            true,
        ),
    )
    .await;
    file_case(
        &app,
        &tip(
            "康泰医院",
            "康泰医院伪造病历和检查报告骗取基金。",
            Some("13800138003"),
            false,
        ),
    )
    .await;
    file_case(
        &app,
        &tip(
            "康泰医院",
            "康泰医院又组织村里老人住院三天领钱。",
            Some("13800138001"),
            false,
        ),
    )
    .await;
    file_case(
        &app,
        &tip(
            "仁和大药房",
            "仁和大药房让顾客刷医保卡买生活用品。",
            Some("13900139000"),
            false,
        ),
    )
    .await;
    file_case(
        &app,
        &tip(
            "仁和大药房",
            "仁和大药房用医保卡给人卖米面油和洗衣粉。",
            Some("13900139000"),
            false,
        ),
    )
    .await;
    links_done(&app).await;

    let res = get(&app, &sup.token, "/api/v1/targets/independent-reporters").await;
    assert_eq!(res.status(), 200);
    let list: Vec<Value> = res.json().await.unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    let t = &list[0];
    assert_eq!(t["target_name"], "康泰医院");
    assert_eq!(t["region"], "371500");
    assert_eq!(t["reporters"], 3);
    assert_eq!(t["tips"], 4);
    assert_eq!(t["by_channel"], json!([{"channel": "h5", "tips": 4}]));
    let text = serde_json::to_string(&list).unwrap();
    for secret in ["13800138001", "13800138002", "李测"] {
        assert!(!text.contains(secret), "{text}");
    }
    // Two other reporters for the first tip's triage.
    let d = detail(&app, &intake, &a).await;
    assert_eq!(factor(&d, "independent_reporters")["value"], 2, "{d}");
    // Another city sees nothing; a non-supervisor may not ask; bad input is a 422.
    let other: Vec<Value> = get(
        &app,
        &other_city.token,
        "/api/v1/targets/independent-reporters",
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(other.is_empty());
    let res = get(&app, &intake.token, "/api/v1/targets/independent-reporters").await;
    assert_eq!(res.status(), 403);
    for (q, field) in [
        ("from=2026-13-01", "from"),
        ("min_reporters=1", "min_reporters"),
        ("from=2026-12-02&to=2026-12-01", "from"),
    ] {
        let res = get(
            &app,
            &sup.token,
            &format!("/api/v1/targets/independent-reporters?{q}"),
        )
        .await;
        assert_eq!(res.status(), 422, "{q}");
        let e: Value = res.json().await.unwrap();
        assert_eq!(e["error"]["field"], field, "{q}: {e}");
    }
    let few: Vec<Value> = get(
        &app,
        &sup.token,
        "/api/v1/targets/independent-reporters?min_reporters=4",
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(few.is_empty());
    app.stop().await;
}

/// `[triage] weights_dir`: a province's own file (insider 40 points instead of 15) weighs
/// the tips of its region; a tip elsewhere keeps the national weights.
async fn a_region_file_in_the_weights_folder_weighs_that_regions_tips(backend: Backend) {
    let weights = tempfile::tempdir().unwrap();
    let national = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/triage/default.toml"),
    )
    .unwrap();
    let shandong = national
        .replace("id = \"default\"", "id = \"shandong-2026\"")
        .replace("region = \"000000\"", "region = \"370000\"")
        .replace("insider = 15 ", "insider = 40 ");
    assert_ne!(shandong, national);
    std::fs::write(weights.path().join("default.toml"), &national).unwrap();
    std::fs::write(weights.path().join("shandong-2026.toml"), &shandong).unwrap();
    let folder = weights.path().display().to_string();
    let Some(app) = spawn_app_with(backend, |c| {
        c.outbox.poll_ms = jubao::config::Millis::new(20);
        c.outbox.sweep_secs = jubao::config::Seconds::new(3600);
        c.triage.weights_dir = folder;
    })
    .await
    else {
        return;
    };
    let shandong_staff = staff(&app, "intake1", "intake", "371500").await;
    let beijing_staff = staff(&app, "intake2", "intake", "110000").await;
    let here = file_case(
        &app,
        &tip(
            "聊城某医院",
            "聊城某医院让病人挂床住院骗取医保基金。",
            Some("13800138002"),
            true,
        ),
    )
    .await;
    let mut there = tip(
        "北京某医院",
        "北京某医院让病人挂床住院骗取医保基金。",
        Some("13800138003"),
        true,
    );
    there["target"]["region_code"] = json!("110105");
    let there = file_case(&app, &there).await;
    links_done(&app).await;

    let d = detail(&app, &shandong_staff, &here).await;
    assert_eq!(d["triage"]["policy"], "shandong-2026@1", "{d}");
    assert_eq!(factor(&d, "insider")["points"], 40);
    let d = detail(&app, &beijing_staff, &there).await;
    assert_eq!(d["triage"]["policy"], "default@1", "{d}");
    assert_eq!(factor(&d, "insider")["points"], 15);
}
