//! The OpenAPI document and the router agree both ways: every route the service answers
//! (citizen, bot and hotline routes included) is an operation of the document, and every
//! operation of the document is routed. The routes are read from the source (every
//! `.route("…", web::method()` in `src/`, under `/api/v1` where it is mounted there), the
//! document from the running server.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::both_databases;
use crate::helpers::*;
use crate::source::rust_files;

/// Files whose routes are mounted under `/api/v1` (see `web::routes`).
const UNDER_API: &[&str] = &[
    "src/channels/h5/mod.rs",
    "src/channels/staff/mod.rs",
    "src/web/stats.rs",
    "src/web/rewards.rs",
    "src/web/staff/mod.rs",
];

/// Routes that are not API operations: pages, redirects, probes and the document itself.
pub(crate) const NOT_OPERATIONS: &[&str] = &[
    "GET /api/v1/openapi.json",
    "GET /",
    "GET /h5",
    "GET /h5/{tail}",
    "GET /console",
    "GET /console/{tail}",
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
];

/// `{name:regex}` → `{name}`, as OpenAPI writes a path parameter.
fn openapi_path(route: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    let mut skipping = false;
    for c in route.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push(c);
            }
            ':' if in_param => skipping = true,
            '}' if in_param => {
                in_param = false;
                skipping = false;
                out.push(c);
            }
            _ if skipping => {}
            _ => out.push(c),
        }
    }
    out
}

/// "METHOD /path" for every `.route("/path", web::method()` in the source.
pub(crate) fn routed() -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![];
    rust_files(&root.join("src"), &mut files);
    let mut out = BTreeSet::new();
    for f in files {
        let rel = f
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(&f).unwrap();
        let prefix = if UNDER_API.contains(&rel.as_str()) {
            "/api/v1"
        } else {
            ""
        };
        let mut rest = text.as_str();
        while let Some(i) = rest.find(".route(") {
            rest = &rest[i + ".route(".len()..];
            let r = rest.trim_start();
            let Some(r) = r.strip_prefix('"') else {
                continue;
            };
            let Some(end) = r.find('"') else { continue };
            let path = &r[..end];
            let after = r[end + 1..]
                .trim_start()
                .trim_start_matches(',')
                .trim_start();
            let Some(m) = after.strip_prefix("web::") else {
                continue;
            };
            let method: String = m.chars().take_while(|c| c.is_ascii_lowercase()).collect();
            if method.is_empty() {
                continue;
            }
            out.insert(format!(
                "{} {prefix}{}",
                method.to_uppercase(),
                openapi_path(path)
            ));
        }
    }
    out
}

async fn document_and_router_agree(app: TestApp) {
    let doc: Value = reqwest::get(app.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "delete", "patch"] {
            if item.get(method).is_some() {
                documented.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    let routed: BTreeSet<String> = routed()
        .into_iter()
        .filter(|r| !NOT_OPERATIONS.contains(&r.as_str()))
        .collect();
    // The source reading found the routes of every front door (so an empty set cannot pass).
    for must in [
        "POST /api/v1/reports",
        "POST /bots/wechat/{account}",
        "GET /bots/wecom/{account}",
        "POST /bridges/hotline/{source}/tickets",
        "POST /api/v1/staff/reports",
        "POST /api/v1/auth/login",
    ] {
        assert!(routed.contains(must), "{must} not found in the source");
    }
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the OpenAPI document: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "documented operations that no route serves: {unrouted:?}"
    );
    app.stop().await;
}

both_databases!(document_and_router_agree);

#[test]
fn route_parameters_are_written_the_openapi_way() {
    assert_eq!(openapi_path("/h5/{tail:.*}"), "/h5/{tail}");
    assert_eq!(openapi_path("/cases/{id}/x"), "/cases/{id}/x");
}
