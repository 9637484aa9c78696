//! Bodies are bounded (issue 16 item 3): look-up and claim read JSON only; a message's
//! code and passcode are checked before any of its files is read; a body that trickles is
//! cut with the CONTRACT §7 408; forms with files beyond the instance's bound
//! (`[evidence] max_concurrent_uploads`, `upload_bytes_in_flight`) are refused at once with
//! 429 and `Retry-After`, before their bytes are read. The slow clients here are raw TCP
//! sockets that write part of a request and then stall.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::both_databases;
use crate::helpers::*;

both_databases!(lookup_and_claim_take_json_only);
both_databases!(backend: a_message_is_authenticated_before_its_files_are_read);
both_databases!(backend: a_body_that_trickles_is_cut_with_408);
both_databases!(backend: uploads_beyond_the_bound_are_refused_before_they_are_read);

const JPEG: &[u8] = include_bytes!("../browser/fixtures/receipt.jpg");
const BOUNDARY: &str = "jubao-test-boundary";

/// Open a connection to the app and write `head` (a request line and headers, without the
/// blank line) and then `body_start`, leaving the rest of the declared body unsent.
async fn start_request(app: &TestApp, head: &str, body_start: &[u8]) -> TcpStream {
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("{head}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    s.write_all(body_start).await.unwrap();
    s.flush().await.unwrap();
    s
}

/// Read an HTTP/1.1 answer until the server closes the connection or its body (by
/// `Content-Length`) is complete, within `within`: (status, lower-case headers, body).
async fn read_answer(s: &mut TcpStream, within: Duration) -> (u16, String, Value) {
    try_answer(s, within)
        .await
        .unwrap_or_else(|| panic!("no complete answer within {within:?}"))
}

/// [`read_answer`], or `None` when no answer has come within `within`.
async fn try_answer(s: &mut TcpStream, within: Duration) -> Option<(u16, String, Value)> {
    let mut buf = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout_at(deadline, s.read(&mut chunk))
            .await
            .ok()?
            .unwrap_or(0);
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(split) = text.find("\r\n\r\n") {
            let head = text[..split].to_ascii_lowercase();
            let body = &text[split + 4..];
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            if n == 0 || length.is_some_and(|len| body.len() >= len) {
                let status = head[9..12].parse().unwrap();
                let body = serde_json::from_str(body).unwrap_or(Value::Null);
                return Some((status, head, body));
            }
        }
        assert!(n > 0, "closed without an answer: {text:?}");
    }
}

/// Wait until `/metrics` shows `forms` forms holding `bytes` bytes of the upload bound (the
/// server admits a form when it starts reading it).
async fn wait_for_uploads(app: &TestApp, forms: u64, bytes: u64) {
    let want = [
        format!("jubao_uploads_in_flight {forms}"),
        format!("jubao_upload_bytes_in_flight {bytes}"),
    ];
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let res = app.client.get(app.url("/metrics")).send().await.unwrap();
        let text = res.text().await.unwrap();
        if want.iter().all(|w| text.lines().any(|l| l == w)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "never {want:?}: {:?}",
            text.lines()
                .filter(|l| l.contains("upload"))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn part(name: &str, filename: Option<&str>, ctype: &str, content: &[u8]) -> Vec<u8> {
    let file = filename
        .map(|f| format!("; filename=\"{f}\""))
        .unwrap_or_default();
    let mut out = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"{file}\r\n\
         Content-Type: {ctype}\r\n\r\n"
    )
    .into_bytes();
    out.extend_from_slice(content);
    out.extend_from_slice(b"\r\n");
    out
}

fn form_head(path: &str, length: usize) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {length}"
    )
}

/// A §7 error body with `code`.
fn assert_error(body: &Value, code: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    assert!(body["error"].get("field").is_some(), "{body}");
}

async fn lookup_and_claim_take_json_only(app: TestApp) {
    let before = app.counts().await;
    for path in ["/api/v1/reports/lookup", "/api/v1/reports/reward/claim"] {
        let form = reqwest::multipart::Form::new()
            .text(
                "report",
                json!({"tracking_code": "1", "passcode": "2"}).to_string(),
            )
            .part(
                "evidence",
                reqwest::multipart::Part::bytes(JPEG.to_vec()).file_name("a.jpg"),
            );
        let res = app
            .client
            .post(app.url(path))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 415, "{path}");
        assert_error(&res.json().await.unwrap(), "unsupported_media_type");
        let res = app
            .client
            .post(app.url(path))
            .header("content-type", "text/plain")
            .header("accept-language", "en")
            .body(r#"{"tracking_code":"1","passcode":"2"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 415, "{path}");
        let body: Value = res.json().await.unwrap();
        assert_error(&body, "unsupported_media_type");
        assert_eq!(
            body["error"]["message"],
            "Please send JSON (application/json)."
        );
    }
    assert_eq!(app.counts().await, before);
    app.stop().await;
}

async fn a_message_is_authenticated_before_its_files_are_read(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let receipt = app.file_tip(&anonymous_report()).await;
    let code = receipt["tracking_code"].as_str().unwrap();
    let passcode = receipt["passcode"].as_str().unwrap();
    let before = app.counts().await;

    // A file before the message part is refused, not read.
    let mut body = part("evidence", Some("a.jpg"), "image/jpeg", JPEG);
    body.extend(part(
        "message",
        None,
        "application/json",
        json!({"tracking_code": code, "passcode": passcode, "body": "补充一张照片"})
            .to_string()
            .as_bytes(),
    ));
    body.extend(format!("--{BOUNDARY}--\r\n").as_bytes());
    let res = app
        .client
        .post(app.url("/api/v1/reports/messages"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let err: Value = res.json().await.unwrap();
    assert_error(&err, "json_part_first");
    assert_eq!(err["error"]["field"], "message");

    // A wrong passcode is answered (404) while the file after it is still on its way: the
    // declared 5 MiB never arrive, and the answer comes long before the body deadline.
    let json = json!({"tracking_code": code, "passcode": "0000000000000000", "body": "x"});
    let mut start = part(
        "message",
        None,
        "application/json",
        json.to_string().as_bytes(),
    );
    start.extend(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"evidence\"; \
             filename=\"big.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
        )
        .as_bytes(),
    );
    start.extend_from_slice(&JPEG[..100]);
    let started = Instant::now();
    let mut s = start_request(
        &app,
        &form_head("/api/v1/reports/messages", 5 << 20),
        &start,
    )
    .await;
    let (status, _, body) = read_answer(&mut s, Duration::from_secs(10)).await;
    assert_eq!(status, 404, "{body}");
    assert_error(&body, "not_found");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(
        app.counts().await,
        before,
        "a refused message stored something"
    );
    app.stop().await;
}

async fn a_body_that_trickles_is_cut_with_408(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| {
        c.server.body_timeout_secs = jubao::config::Seconds::new(1);
        // 1 MB/s: a byte every 200 ms is far too slow.
        c.server.body_min_bytes_per_sec = 1_000_000;
        c.wechat = vec![toml::from_str(
            "account = \"plain\"\nappid = \"wx5823bf96d3bd56c7\"\ntoken = \"test-bot-token\"\n\
             appsecret = \"app-secret\"\napi_base = \"http://127.0.0.1:9\"",
        )
        .unwrap()];
    })
    .await
    else {
        return;
    };
    let before = app.counts().await;
    // A citizen route, a staff route (read by the framework) and a bot callback.
    for (path, ctype) in [
        ("/api/v1/reports/lookup", "application/json"),
        ("/api/v1/auth/login", "application/json"),
        ("/api/v1/reports", "application/json"),
        (
            "/bots/wechat/plain?signature=x&timestamp=1&nonce=2",
            "text/xml",
        ),
    ] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {ctype}\r\n\
             Accept-Language: en\r\nContent-Length: 200"
        );
        let started = Instant::now();
        let mut s = start_request(&app, &head, b"{\"tracking").await;
        // A byte every 200 ms: the body never completes.
        let trickle = async {
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                if s.write_all(b" ").await.is_err() {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_millis(1500), trickle).await;
        let (status, head, body) = read_answer(&mut s, Duration::from_secs(5)).await;
        let waited = started.elapsed();
        assert_eq!(status, 408, "{path}: {body}");
        assert_error(&body, "body_timeout");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("too slowly"),
            "{body}"
        );
        assert!(head.contains("connection: close"), "{path}: {head}");
        assert!(
            waited >= Duration::from_millis(900) && waited < Duration::from_secs(6),
            "{path}: cut after {waited:?}"
        );
    }
    // A body that arrives in time is read as usual (here a wrong code: 404).
    let res = app.lookup("123456789012", "1234567890123456").await;
    assert_eq!(res.status(), 404);
    assert_eq!(app.counts().await, before);
    app.stop().await;
}

async fn uploads_beyond_the_bound_are_refused_before_they_are_read(backend: Backend) {
    // One file of at most 1 MiB: the largest form is 256 KiB + 1 MiB + 64 KiB; the budget
    // holds one such form and 100 KiB more.
    let budget = (256 + 1024 + 64 + 100) * 1024;
    let Some(app) = spawn_app_with(backend, |c| {
        c.evidence.max_files = 1;
        c.evidence.max_file_bytes = 1 << 20;
        c.evidence.max_concurrent_uploads = 2;
        c.evidence.upload_bytes_in_flight = budget;
    })
    .await
    else {
        return;
    };
    let report = anonymous_report().to_string();
    let form_start = part("report", None, "application/json", report.as_bytes());
    let upload = |app: &TestApp| {
        let form = reqwest::multipart::Form::new()
            .text("report", report.clone())
            .part(
                "evidence",
                reqwest::multipart::Part::bytes(JPEG.to_vec())
                    .file_name("a.jpg")
                    .mime_str("image/jpeg")
                    .unwrap(),
            );
        app.client
            .post(app.url("/api/v1/reports"))
            .header("accept-language", "en")
            .multipart(form)
            .send()
    };
    let before = app.counts().await;

    // A slow upload declaring 1 MiB holds that much of the budget while it trickles in.
    let mut slow = start_request(&app, &form_head("/api/v1/reports", 1 << 20), &form_start).await;
    wait_for_uploads(&app, 1, 1 << 20).await;
    // Another declaring 600 KiB does not fit beside it: 429 at once, nothing read.
    let mut big = start_request(&app, &form_head("/api/v1/reports", 600 << 10), &form_start).await;
    let (status, head, body) = read_answer(&mut big, Duration::from_secs(5)).await;
    assert_eq!(status, 429, "{body}");
    assert_error(&body, "uploads_busy");
    assert!(head.contains("retry-after: 10"), "{head}");
    // A small one fits beside it (the JPEG is a few KiB).
    let res = upload(&app).await.unwrap();
    assert_eq!(res.status(), 201, "{:?}", res.text().await);

    // Two slots: with the slow one and a second slow one in flight, a small form is refused.
    let mut slow2 = start_request(&app, &form_head("/api/v1/reports", 20 << 10), &form_start).await;
    wait_for_uploads(&app, 2, (1 << 20) + (20 << 10)).await;
    let res = upload(&app).await.unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(
        res.headers().get("retry-after").unwrap().to_str().unwrap(),
        "10"
    );
    let body: Value = res.json().await.unwrap();
    assert_error(&body, "uploads_busy");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("try again in 10 seconds"),
        "{body}"
    );
    let tips_so_far = app.count("reports").await;

    // Once the slow ones give up, their share comes back.
    drop(slow.shutdown().await);
    drop(slow2.shutdown().await);
    drop((slow, slow2));
    wait_for_uploads(&app, 0, 0).await;
    let res = upload(&app).await.unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(app.count("reports").await, tips_so_far + 1);
    assert!(app.counts().await[0] > before[0]);
    app.stop().await;
}
