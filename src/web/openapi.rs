//! `GET /api/v1/openapi.json`: the operations each module describes with `#[utoipa::path]`,
//! completed here by the rules every operation shares, so that a client generator (and an
//! OpenAPI tester) can take the document as it is:
//!
//! * every `{name}` of a path is a declared, required path parameter;
//! * the CONTRACT §7 error body is the component `Error`, and every 4xx/5xx answer has it;
//! * staff operations need the `bearer` scheme and can answer 401 and 403;
//! * every operation can answer 400 (an address with a NUL byte, a query string that does
//!   not decode), one with a path parameter 404, one with a body 408, 413, 415 and 422,
//!   one with query parameters 422;
//! * the citizen's operations and sign-in can answer 429 (with `Retry-After`), and forms
//!   with files 429 while the instance's upload bound is taken;
//! * sign-in can answer 503 while the password-hashing queue is full.
//!
//! What an operation answers beyond these (409, 410, …) its own attribute says.

use serde_json::{json, Map, Value};

/// Paths served without a staff token (everything else under `/api/v1` needs one).
fn is_public(path: &str) -> bool {
    const PUBLIC: &[&str] = &[
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/setup",
    ];
    path.starts_with("/bots/")
        || path.starts_with("/bridges/")
        || path.starts_with("/api/v1/reports")
        || path.starts_with("/api/v1/public/")
        || PUBLIC.contains(&path)
}

/// Operations limited per client (429 with `Retry-After`).
fn is_rate_limited(path: &str) -> bool {
    path.starts_with("/api/v1/reports") || path == "/api/v1/auth/login"
}

/// What each added status means.
fn description(status: &str) -> &'static str {
    match status {
        "400" => "The request is not what the operation reads: a body, query string or path segment that does not decode (a NUL byte included)",
        "401" => "No valid credentials, or a bad signature",
        "403" => "The caller's roles, region or recusals do not allow this (or the session may only change its password or set up TOTP)",
        "404" => "No such record, or not one the caller may see",
        "408" => "The body arrived too slowly (`[server] body_timeout_secs`, `body_min_bytes_per_sec`); the connection is closed",
        "409" => "The record is not in a state that allows this",
        "410" => "It existed but can no longer be used",
        "413" => "The body, a file or the number of files is over the limit",
        "415" => "A content type the operation does not take",
        "422" => "A field failed validation (named in `field`)",
        "429" => "Too many requests; `Retry-After` says when to try again, nothing was stored",
        "503" => "Busy right now; try again shortly",
        _ => "An error",
    }
}

/// The CONTRACT §7 error body.
fn error_schema() -> Value {
    json!({
        "type": "object",
        "description": "CONTRACT §7: every error answer",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "field"],
                "properties": {
                    "code": { "type": "string", "description": "Stable, machine-readable" },
                    "message": { "type": "string", "description": "In the request's locale" },
                    "field": { "type": ["string", "null"], "description": "The field it is about" }
                }
            }
        }
    })
}

/// The names of a path's `{…}` segments.
fn path_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

/// Complete one operation by the rules above.
fn complete(path: &str, op: &mut Map<String, Value>) {
    let params = op
        .entry("parameters")
        .or_insert_with(|| json!([]))
        .as_array_mut()
        .map(std::mem::take)
        .unwrap_or_default();
    let mut params: Vec<Value> = params;
    for name in path_params(path) {
        let declared = params
            .iter()
            .any(|p| p["in"] == "path" && p["name"] == name);
        if !declared {
            params.push(json!({
                "name": name, "in": "path", "required": true,
                "schema": { "type": "string", "maxLength": 200 }
            }));
        }
    }
    let has_path_params = !path_params(path).is_empty();
    let has_query_params = params.iter().any(|p| p["in"] == "query");
    if params.is_empty() {
        op.remove("parameters");
    } else {
        op.insert("parameters".into(), Value::Array(params));
    }
    let has_body = op.contains_key("requestBody");
    let mut add: Vec<&str> = vec!["400"];
    if !is_public(path) {
        add.extend(["401", "403"]);
        op.insert("security".into(), json!([{ "bearer": [] }]));
    }
    if has_path_params {
        add.push("404");
    }
    if has_body {
        add.extend(["408", "413", "415", "422"]);
    }
    if has_query_params {
        // A query value of the right type that the operation does not take.
        add.push("422");
    }
    if is_rate_limited(path) {
        add.push("429");
    }
    if path == "/api/v1/auth/login" {
        add.push("503");
    }
    let responses = op
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    let Some(responses) = responses else { return };
    for status in add {
        responses
            .entry(status)
            .or_insert_with(|| json!({ "description": description(status) }));
    }
    for (status, res) in responses.iter_mut() {
        let Some(res) = res.as_object_mut() else {
            continue;
        };
        let empty = res
            .get("description")
            .and_then(Value::as_str)
            .map_or(true, str::is_empty);
        if empty {
            res.insert("description".into(), json!(description(status)));
        }
        if status.starts_with('4') || status.starts_with('5') {
            res.insert(
                "content".into(),
                json!({ "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }),
            );
            if status == "429" || status == "503" {
                res.insert(
                    "headers".into(),
                    json!({ "Retry-After": {
                        "description": "Seconds to wait",
                        "schema": { "type": "string" }
                    } }),
                );
            }
        }
    }
}

/// The document, completed.
pub fn complete_document(doc: utoipa::openapi::OpenApi) -> Value {
    let mut doc = serde_json::to_value(doc).unwrap_or_else(|_| json!({}));
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for method in ["get", "put", "post", "delete", "patch"] {
                if let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) {
                    complete(path, op);
                }
            }
        }
    }
    // The modules' documents are merged: a tag two of them name is listed once.
    if let Some(tags) = doc.get_mut("tags").and_then(Value::as_array_mut) {
        let mut seen = std::collections::BTreeSet::new();
        tags.retain(|t| seen.insert(t["name"].as_str().unwrap_or_default().to_string()));
    }
    let components = doc
        .as_object_mut()
        .map(|d| d.entry("components").or_insert_with(|| json!({})));
    if let Some(components) = components.and_then(Value::as_object_mut) {
        components
            .entry("schemas")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .map(|s| s.insert("Error".into(), error_schema()));
        components
            .entry("securitySchemes")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .map(|s| {
                s.insert(
                    "bearer".into(),
                    json!({ "type": "http", "scheme": "bearer", "bearerFormat": "JWT" }),
                )
            });
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_parameter_is_declared_once() {
        let mut op = json!({
            "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
            "responses": { "200": { "description": "" } }
        });
        let op = op.as_object_mut().unwrap();
        complete("/api/v1/cases/{id}/extensions/{request_id}/decision", op);
        let names: Vec<&str> = op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["id", "request_id"]);
        let r = op["responses"].as_object().unwrap();
        let statuses: Vec<&str> = r.keys().map(String::as_str).collect();
        assert_eq!(statuses, ["200", "400", "401", "403", "404"]);
        assert_eq!(
            r["401"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Error"
        );
        assert!(!r["200"]["description"].as_str().unwrap().is_empty());
    }
}
