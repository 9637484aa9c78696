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
use crate::tools;

/// Files whose routes are mounted under `/api/v1` (see `web::routes`).
const UNDER_API: &[&str] = &[
    "src/channels/h5/mod.rs",
    "src/channels/staff/mod.rs",
    "src/web/stats.rs",
    "src/web/public.rs",
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

both_databases!(document_and_router_agree, a_validator_accepts_the_document);

/// `openapi-spec-validator` (an independent implementation of the OpenAPI rules, the one
/// client generators' tooling uses) accepts the document as served; and by our own reading
/// every path parameter is declared, every error answer has the §7 body, and every staff
/// operation says it needs a token and can answer 401.
async fn a_validator_accepts_the_document(app: TestApp) {
    let text = reqwest::get(app.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let error_ref = "#/components/schemas/Error";
    assert!(doc["components"]["schemas"]["Error"]["properties"]["error"].is_object());
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let declared: Vec<&str> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "path")
                        .filter_map(|p| p["name"].as_str())
                        .collect()
                })
                .unwrap_or_default();
            for seg in path.split('/') {
                if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    assert!(
                        declared.contains(&name),
                        "{method} {path}: {{{name}}} undeclared"
                    );
                }
            }
            let responses = op["responses"].as_object().unwrap();
            for (status, res) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        res["content"]["application/json"]["schema"]["$ref"], error_ref,
                        "{method} {path} {status}"
                    );
                }
            }
            let public = path.starts_with("/bots/")
                || path.starts_with("/bridges/")
                || path.starts_with("/api/v1/reports")
                || path.starts_with("/api/v1/public/")
                || [
                    "/api/v1/auth/login",
                    "/api/v1/auth/refresh",
                    "/api/v1/auth/setup",
                ]
                .contains(&path.as_str());
            if !public {
                assert!(responses.contains_key("401"), "{method} {path}: no 401");
                assert_eq!(
                    op["security"][0]["bearer"],
                    serde_json::json!([]),
                    "{method} {path}"
                );
            }
            if op.get("requestBody").is_some() {
                for s in ["413", "415", "422"] {
                    assert!(responses.contains_key(s), "{method} {path}: no {s}");
                }
            }
        }
    }
    let case = &doc["paths"]["/api/v1/cases/{id}/extensions/{request_id}/decision"]["post"];
    assert_eq!(case["parameters"][0]["name"], "id");
    assert_eq!(case["parameters"][1]["name"], "request_id");

    if !tools::need(
        "openapi::a_validator_accepts_the_document",
        &[tools::PYTHON3, tools::OPENAPI_SPEC_VALIDATOR],
    ) {
        app.stop().await;
        return;
    }
    let file = app.dir.path().join("openapi.json");
    std::fs::write(&file, &text).unwrap();
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import json, sys\n\
             from openapi_spec_validator import validate\n\
             validate(json.load(open(sys.argv[1])))\n\
             print('valid')",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "valid",
        "openapi-spec-validator refused the document: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    app.stop().await;
}

#[test]
fn route_parameters_are_written_the_openapi_way() {
    assert_eq!(openapi_path("/h5/{tail:.*}"), "/h5/{tail}");
    assert_eq!(openapi_path("/cases/{id}/x"), "/cases/{id}/x");
}
