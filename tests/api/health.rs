use crate::both_databases;
use crate::helpers::*;

both_databases!(
    health_ready_metrics,
    root_redirects_to_h5_with_csp,
    unknown_route_is_json_404
);

async fn health_ready_metrics(app: TestApp) {
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    app.file_tip(&anonymous_report()).await;
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(
        text.contains("jubao_tips_received_total{channel=\"h5\"}"),
        "{text}"
    );
    assert!(text.contains("jubao_http_requests_total"), "{text}");
    // Routes are labelled by pattern, never by a raw path.
    assert!(text.contains("route=\"/api/v1/reports\""), "{text}");
    app.stop().await;
}

async fn root_redirects_to_h5_with_csp(app: TestApp) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(r.headers()["location"], "/h5/");
    let r = client.get(app.url("/h5/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let etag = r.headers()["etag"].clone();
    let r = client
        .get(app.url("/h5/"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    app.stop().await;
}

async fn unknown_route_is_json_404(app: TestApp) {
    let r = app
        .client
        .get(app.url("/nope"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "not_found");
    assert_eq!(v["error"]["message"], "Not found.");
    app.stop().await;
}
