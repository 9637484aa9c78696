//! What the staff console needs beyond the workflow API: the console's files (gzip, CSP),
//! the dashboard statistics scoped by region and role, the masked channel configuration for
//! admins, and both in the OpenAPI description.

use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::*;
use crate::staffkit::*;

both_databases!(
    console_is_served_compressed_under_the_csp,
    stats_follow_region_and_role,
    stats_count_by_the_beijing_month
);
both_databases!(backend: admin_config_masks_every_secret);

async fn console_is_served_compressed_under_the_csp(app: TestApp) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client.get(app.url("/console")).send().await.unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(r.headers()["location"], "/console/");
    let r = client.get(app.url("/console/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    let html = r.text().await.unwrap();
    assert!(
        !html.contains("<script>") && !html.contains("style="),
        "no inline code"
    );
    let r = client
        .get(app.url("/console/vendor/echarts.common.min.js"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let gz = r.bytes().await.unwrap().len();
    assert!(gz < 400 * 1024, "ECharts on the wire: {gz} bytes");
    let r = client
        .get(app.url("/console/no-such-file.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let doc: Value = client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/v1/stats/overview"]["get"].is_object());
    assert!(doc["paths"]["/api/v1/admin/config"]["get"].is_object());
    app.stop().await;
}

fn sum(v: &Value) -> i64 {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x["count"].as_i64().unwrap())
        .sum()
}

/// A tip received at 01:00 on 1 February in Beijing is stored as 17:00 UTC on 31 January:
/// the statistics count it in February, and a range starting 1 February includes it.
async fn stats_count_by_the_beijing_month(app: TestApp) {
    let january = file_case(&app, &anonymous_report()).await;
    let february = file_case(&app, &anonymous_report()).await;
    for (id, at) in [
        (&january, "2026-01-31T15:59:59.000000Z"), // 23:59:59 on 31 January in Beijing
        (&february, "2026-01-31T17:00:00.000000Z"), // 01:00 on 1 February in Beijing
    ] {
        sqlx::query("UPDATE reports SET received_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(&app.db.pool)
            .await
            .unwrap();
    }
    let sup = staff(&app, "sup1", "supervisor", "371500").await;
    let months = |v: &Value| -> Vec<(String, i64)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x["month"].as_str().unwrap().to_string(),
                    x["count"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let s: Value = get(
        &app,
        &sup.token,
        "/api/v1/stats/tips?from=2026-01-01&to=2026-02-28",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        months(&s["by_channel"]),
        vec![("2026-01".to_string(), 1), ("2026-02".to_string(), 1)],
        "{s}"
    );
    let s: Value = get(
        &app,
        &sup.token,
        "/api/v1/stats/tips?from=2026-02-01&to=2026-02-28",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        months(&s["by_channel"]),
        vec![("2026-02".to_string(), 1)],
        "{s}"
    );
    let s: Value = get(
        &app,
        &sup.token,
        "/api/v1/stats/cases?from=2026-01-01&to=2026-01-31",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        months(&s["by_status"]),
        vec![("2026-01".to_string(), 1)],
        "{s}"
    );
    app.stop().await;
}

async fn stats_follow_region_and_role(app: TestApp) {
    let case = file_case(&app, &anonymous_report()).await; // 371502
    file_case(&app, &anonymous_report()).await;
    let mut other = anonymous_report();
    other["target"]["region_code"] = json!("371602");
    file_case(&app, &other).await;
    let city = staff(&app, "sup1", "supervisor", "371500").await;
    let intake = staff(&app, "intake1", "intake", "371502").await;
    post_ok(
        &app,
        &intake,
        &format!("/api/v1/cases/{case}/transitions"),
        &json!({ "to": "accepted", "reason": "线索具体" }),
        200,
    )
    .await;
    let s: Value = get(&app, &city.token, "/api/v1/stats/overview")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s["region"], "371500");
    assert_eq!(s["months"].as_array().unwrap().len(), 12);
    assert_eq!(sum(&s["tips_by_channel"]), 2, "{s}");
    assert_eq!(s["tips_by_channel"][0]["key"], "h5");
    // Two categories per tip.
    assert_eq!(sum(&s["tips_by_category"]), 4, "{s}");
    let status: Vec<(String, i64)> = s["cases_by_status"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["key"].as_str().unwrap().to_string(),
                x["count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        status,
        vec![("accepted".to_string(), 1), ("received".to_string(), 1)]
    );
    // The acceptance clock closed in time.
    assert_eq!(s["deadlines_by_month"][0]["key"], "met", "{s}");
    assert_eq!(s["overdue_open"], 0);
    assert_eq!(
        s["tips_by_region"],
        json!([{ "key": "371502", "count": 2 }])
    );
    assert!(!s.to_string().contains("某某市第一人民医院"), "counts only");
    let other_city = staff(&app, "sup2", "auditor", "371600").await;
    let s: Value = get(&app, &other_city.token, "/api/v1/stats/overview")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sum(&s["tips_by_channel"]), 1, "{s}");
    let fin = staff(&app, "fin1", "finance", "000000").await;
    let s: Value = get(&app, &fin.token, "/api/v1/stats/overview")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sum(&s["tips_by_channel"]), 3, "{s}");
    for (name, role) in [("h1", "handler"), ("a1", "admin"), ("c1", "custodian")] {
        let s = staff(&app, name, role, "371500").await;
        let r = get(&app, &s.token, "/api/v1/stats/overview").await;
        assert_eq!(r.status(), 403, "{role}");
    }
    app.stop().await;
}

async fn admin_config_masks_every_secret(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| {
        c.hotline.push(jubao::config::HotlineSource {
            source: "12393".into(),
            secret: "hotline-secret-do-not-show-1".into(),
            callback_url: Some("https://callcentre.example.cn/cb".into()),
            previous_secret: Some("hotline-old-secret-do-not-show".into()),
            previous_secret_until: None,
            allow_recording_hosts: vec![],
        });
    })
    .await
    else {
        return;
    };
    let admin = staff(&app, "admin1", "admin", "000000").await;
    let r = get(&app, &admin.token, "/api/v1/admin/config").await;
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(
        !text.contains("do-not-show") && !text.contains("show-1"),
        "{text}"
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    let h = v
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "hotline")
        .unwrap();
    assert_eq!(h["name"], "12393");
    assert_eq!(h["endpoint"], "/bridges/hotline/12393/tickets");
    assert_eq!(
        h["public"]["callback_url"],
        "https://callcentre.example.cn/cb"
    );
    assert!(h["secrets"]["secret"].is_string());
    let sup = staff(&app, "sup1", "supervisor", "000000").await;
    assert_eq!(
        get(&app, &sup.token, "/api/v1/admin/config").await.status(),
        403
    );
    app.stop().await;
}
