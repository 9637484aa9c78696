//! Errors the framework raises before a handler runs (a query string, a path segment, a
//! JSON body that does not decode) answer in the CONTRACT §7 shape, localized, and change
//! nothing; NUL bytes anywhere get a 4xx on both databases.

use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::*;
use crate::staffkit::*;

async fn error_of(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = res.text().await.unwrap();
    assert!(ct.starts_with("application/json"), "{status} {ct}: {text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert!(body["error"]["code"].is_string(), "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    (status, body)
}

async fn framework_errors_have_the_contract_shape(app: TestApp) {
    let s = staff(&app, "supervisor1", "supervisor", "371502").await;
    let before = app.counts().await;
    let bad_query = app
        .client
        .get(app.url("/api/v1/cases?limit=abc"))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    let (status, body) = error_of(bad_query).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "invalid_query");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("查询参数"),
        "{body}"
    );

    let english = app
        .client
        .get(app.url("/api/v1/cases?limit=abc"))
        .header("accept-language", "en")
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    let (_, body) = error_of(english).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("query string"),
        "{body}"
    );

    let overdue = app
        .client
        .get(app.url("/api/v1/cases/overdue?limit=%00"))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    let (status, _) = error_of(overdue).await;
    assert_eq!(status, 400);

    // A JSON body that is not JSON, on a citizen and a staff route.
    let not_json = app
        .client
        .post(app.url("/api/v1/reports/lookup"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (status, body) = error_of(not_json).await;
    assert_eq!(status, 400, "{body}");
    // A NUL byte in a username, a tracking code and a path segment: 4xx, never a 500.
    for (path, body) in [
        (
            "/api/v1/auth/login",
            json!({ "username": "a\u{0}b", "password": "x" }),
        ),
        (
            "/api/v1/reports/lookup",
            json!({ "tracking_code": "1234\u{0}", "passcode": "1\u{0}" }),
        ),
    ] {
        let res = app.post_json(path, &body).await;
        let (status, body) = error_of(res).await;
        assert!((400..500).contains(&status), "{path}: {status} {body}");
    }
    let nul_path = app
        .client
        .get(app.url("/api/v1/cases/abc%00def"))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    let (status, body) = error_of(nul_path).await;
    assert!((400..500).contains(&status), "{status} {body}");
    assert_eq!(
        app.counts().await,
        before,
        "a refused request stored something"
    );
    app.stop().await;
}

both_databases!(framework_errors_have_the_contract_shape);
