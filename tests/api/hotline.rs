//! Hotline bridge (CONTRACT §5). Work orders are signed by independent implementations
//! (Python's `hmac` module and `openssl dgst`), never by the server's own code; callbacks
//! are checked the same way.

use std::collections::HashMap;
use std::future::Future;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use jubao::config::HotlineSource;
use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::*;
use crate::staffkit::{enrol_totp, get, post_ok, reveal_approved, staff, Staff};
use crate::tools;

both_databases!(backend:
    signed_work_order_files_a_tip,
    provisional_acceptance_date_is_read_out,
    bad_work_orders_store_nothing,
    duplicate_and_concurrent_call_ids_make_one_case,
    callback_is_retried_until_acknowledged_and_arrives_once,
    recording_is_fetched_only_from_allowed_hosts,
    previous_secret_verifies_only_inside_its_overlap,
    case_staff_see_no_call_id_until_a_reveal,
);

pub(crate) const SECRET: &str = "test-hotline-secret-7d1f0c";
const CALLER_NUMBER: &str = "0635-8765 4321";
const CALLER_NAME: &str = "王测来电";

pub(crate) fn source(name: &str) -> HotlineSource {
    HotlineSource {
        source: name.into(),
        secret: SECRET.into(),
        callback_url: None,
        previous_secret: None,
        previous_secret_until: None,
        allow_recording_hosts: vec![],
    }
}

/// The app with these hotline sources; `None` when the test cannot run (no PostgreSQL, or
/// no python3 to sign with: see tests/support/tools.rs).
async fn app_with(backend: Backend, sources: Vec<HotlineSource>) -> Option<TestApp> {
    if !tools::need(
        "hotline::* (work orders signed by Python's hmac)",
        &[tools::PYTHON3],
    ) {
        return None;
    }
    spawn_app_with(backend, move |c| {
        c.hotline = sources;
        c.outbox.poll_ms = jubao::config::Millis::new(20);
        c.outbox.backoff_base_secs = jubao::config::Seconds::new(0);
        c.outbox.backoff_max_secs = jubao::config::Seconds::new(1);
        c.outbox.sweep_secs = jubao::config::Seconds::new(3600);
    })
    .await
}

/// HMAC-SHA256 by Python's standard library.
pub(crate) fn python_sign(secret: &str, ts: &str, body: &[u8]) -> String {
    const PY: &str = "import hmac, hashlib, sys\n\
        body = sys.stdin.buffer.read()\n\
        msg = sys.argv[2].encode() + b'.' + body\n\
        print(hmac.new(sys.argv[1].encode(), msg, hashlib.sha256).hexdigest())";
    run_signer(
        Command::new("python3").args(["-c", PY, secret, ts]),
        body.to_vec(),
    )
}

/// HMAC-SHA256 by `openssl dgst` over "{ts}.{body}".
fn openssl_sign(secret: &str, ts: &str, body: &[u8]) -> String {
    let mut input = format!("{ts}.").into_bytes();
    input.extend_from_slice(body);
    let out = run_signer(
        Command::new("openssl").args(["dgst", "-sha256", "-hmac", secret]),
        input,
    );
    out.rsplit(' ').next().unwrap().to_string()
}

fn run_signer(cmd: &mut Command, stdin: Vec<u8>) -> String {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("signer runs");
    let mut input = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || input.write_all(&stdin).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success());
    let s = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(!s.is_empty());
    s
}

fn now_ts(offset: i64) -> String {
    (chrono::Utc::now().timestamp() + offset).to_string()
}

pub(crate) fn work_order(call_id: &str) -> Value {
    json!({
        "call_id": call_id,
        "received_at": "2026-11-20T09:30:00+08:00",
        "caller_number": CALLER_NUMBER,
        "caller_name": CALLER_NAME,
        "anonymous": false,
        "target": { "name": "某某县中医院", "kind": "hospital", "region_code": "371502" },
        "categories": ["split_or_bed_hospitalization", "fictitious_services"],
        "description": "来电反映：该院组织老人挂床住院，虚构诊疗项目，用医保卡结算。",
        "agent_id": "A-007",
        "recording_url": null,
    })
}

fn anonymous_order(call_id: &str) -> Value {
    let mut o = work_order(call_id);
    o["anonymous"] = json!(true);
    o["caller_name"] = Value::Null;
    o
}

fn path(source: &str) -> String {
    format!("/bridges/hotline/{source}/tickets")
}

async fn post_raw(
    app: &TestApp,
    source: &str,
    body: Vec<u8>,
    ts: Option<&str>,
    sig: Option<&str>,
) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url(&path(source)))
        .header("content-type", "application/json")
        .body(body);
    if let Some(ts) = ts {
        req = req.header("X-Jubao-Timestamp", ts);
    }
    if let Some(sig) = sig {
        req = req.header("X-Jubao-Signature", sig);
    }
    req.send().await.unwrap()
}

/// Post `order` to `source`, signed by Python with `secret`.
pub(crate) async fn post_signed(
    app: &TestApp,
    source: &str,
    secret: &str,
    order: &Value,
) -> reqwest::Response {
    let body = serde_json::to_vec(order).unwrap();
    let ts = now_ts(0);
    let sig = python_sign(secret, &ts, &body);
    post_raw(app, source, body, Some(&ts), Some(&sig)).await
}

async fn report_id(app: &TestApp, call_id: &str) -> String {
    sqlx::query_scalar("SELECT report_id FROM hotline_calls WHERE call_id = $1")
        .bind(call_id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

async fn scalar_i64(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

pub(crate) async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..400 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn signed_work_order_files_a_tip(backend: Backend) {
    let Some(app) = app_with(backend, vec![source("12393")]).await else {
        return;
    };
    let res = post_signed(&app, "12393", SECRET, &work_order("C-20261120-0001")).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let r: Value = res.json().await.unwrap();
    assert_eq!(r["duplicate"], false);
    let code = r["tracking_code"].as_str().unwrap();
    let pass = r["passcode"].as_str().unwrap();
    // Digits only, to be read aloud by the agent.
    assert_eq!(code.len(), 12);
    assert_eq!(pass.len(), 16);
    assert!(code.bytes().chain(pass.bytes()).all(|b| b.is_ascii_digit()));

    let id = report_id(&app, "C-20261120-0001").await;
    let (channel, recorded_by, anonymous): (String, Option<String>, i64) =
        sqlx::query_as("SELECT channel, recorded_by, anonymous FROM reports WHERE id = $1")
            .bind(&id)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(channel, "hotline");
    assert_eq!(recorded_by.as_deref(), Some("hotline:12393:A-007"));
    assert_eq!(anonymous, 0);
    let (source, agent, received_at, recording): (String, String, String, String) = sqlx::query_as(
        "SELECT source, agent_id, received_at, recording FROM hotline_calls WHERE report_id = $1",
    )
    .bind(&id)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!((source.as_str(), agent.as_str()), ("12393", "A-007"));
    assert_eq!(received_at, "2026-11-20T01:30:00.000000Z");
    assert_eq!(recording, "none");
    // The acceptance clock starts when the caller spoke to the agent (20 November, Beijing
    // time), not when the bridge delivered the order; the agent is given the date to read.
    let (start_on, due_on): (String, String) = sqlx::query_as(
        "SELECT start_on, due_on FROM clocks WHERE report_id = $1 AND kind = 'accept'",
    )
    .bind(&id)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(start_on, "2026-11-20");
    assert_eq!(r["accept_by"], due_on.as_str());
    assert_eq!(r["accept_by_provisional"], false);
    assert!(r["accept_by_note"].is_null());
    let (from, to) = ("2026-11-01".parse().unwrap(), "2027-02-28".parse().unwrap());
    if let Some(o) = crate::oracle::load("hotline acceptance date check", from, to) {
        assert_eq!(
            due_on,
            o.add_working_days("2026-11-20".parse().unwrap(), 15)
                .to_string()
        );
    }
    assert_eq!(
        scalar_i64(
            &app,
            "SELECT COUNT(*) FROM case_events WHERE kind = 'hotline_call'"
        )
        .await,
        1
    );

    // Name and number are sealed in the vault: the number as caller_number, not as a phone.
    let sealed = jubao::vault::SealedIdentity::load(&app.db.pool, &id)
        .await
        .unwrap()
        .unwrap();
    let identity = app.state.vault.open_identity(&id, &sealed).await.unwrap();
    use jubao::vault::IdentityField as F;
    assert_eq!(identity.get(F::Name), Some(CALLER_NAME));
    assert_eq!(identity.get(F::CallerNumber), Some("063587654321"));
    assert_eq!(identity.get(F::Phone), None);
    let fields: Vec<String> = sqlx::query_scalar("SELECT field FROM identity_index")
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(fields, vec!["caller_number".to_string()]);

    // The reporter can look the case up with what the agent read out.
    let look = app.lookup(code, pass).await;
    assert_eq!(look.status(), 200);

    // An anonymous call, signed by openssl this time (a second independent signer): no
    // identity stored at all. Without openssl, Python signs it and only that is left out.
    let body = serde_json::to_vec(&anonymous_order("C-20261120-0002")).unwrap();
    let ts = now_ts(0);
    let by_openssl = "the openssl signature in hotline::signed_work_order_files_a_tip";
    let sig = if tools::need(by_openssl, &[tools::OPENSSL]) {
        openssl_sign(SECRET, &ts, &body)
    } else {
        python_sign(SECRET, &ts, &body)
    };
    let res = post_raw(&app, "12393", body, Some(&ts), Some(&sig)).await;
    assert_eq!(res.status(), 201);
    assert_eq!(app.count("reporter_identity").await, 1);
    assert_eq!(app.count("reports").await, 2);

    // Nothing secret or identifying reached the logs.
    let logs = String::from_utf8_lossy(&captured_logs().lock().unwrap()).to_string();
    for s in [SECRET, CALLER_NAME, "063587654321", "8765 4321", pass] {
        assert!(!logs.contains(s), "{s} in logs");
    }
    app.stop().await;
}

/// The agent's answer names the acceptance date and, when it is provisional (here the
/// national rule is 400 working days, so it runs into a year with no notice), a sentence to
/// read to the caller.
async fn provisional_acceptance_date_is_read_out(backend: Backend) {
    if !tools::need("hotline provisional date", &[tools::PYTHON3]) {
        return;
    }
    let Some(app) = spawn_app_with(backend, |c| {
        c.hotline = vec![source("12393")];
        c.intake.accept_working_days = 400;
    })
    .await
    else {
        return;
    };
    let res = post_signed(&app, "12393", SECRET, &work_order("C-20261120-0400")).await;
    assert_eq!(res.status(), 201);
    let r: Value = res.json().await.unwrap();
    assert_eq!(r["accept_by_provisional"], true);
    let note = r["accept_by_note"].as_str().unwrap();
    assert!(note.contains("暂定") && note.contains("节假日"), "{note}");
    // The replay of the same call says the same.
    let again: Value = post_signed(&app, "12393", SECRET, &work_order("C-20261120-0400"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["accept_by_note"], r["accept_by_note"]);
    app.stop().await;
}

async fn bad_work_orders_store_nothing(backend: Backend) {
    let Some(app) = app_with(backend, vec![source("12393")]).await else {
        return;
    };
    let before = app.counts().await;
    let good = serde_json::to_vec(&work_order("C-bad")).unwrap();
    let ts = now_ts(0);
    let sig = python_sign(SECRET, &ts, &good);

    async fn expect(res: reqwest::Response, status: u16, code: &str, field: Option<&str>) -> Value {
        assert_eq!(res.status(), status);
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["error"]["code"], code, "{v}");
        assert_eq!(v["error"]["field"].as_str(), field, "{v}");
        v
    }

    // Signatures: wrong secret, tampered body, missing headers, stale and future times.
    let wrong = python_sign("not-the-secret", &ts, &good);
    let v = expect(
        post_raw(&app, "12393", good.clone(), Some(&ts), Some(&wrong)).await,
        401,
        "invalid_signature",
        None,
    )
    .await;
    assert_eq!(v["error"]["message"], "签名无效。");
    let res = app
        .client
        .post(app.url(&path("12393")))
        .header("accept-language", "en")
        .header("X-Jubao-Timestamp", &ts)
        .header("X-Jubao-Signature", &wrong)
        .body(good.clone())
        .send()
        .await
        .unwrap();
    let v = expect(res, 401, "invalid_signature", None).await;
    assert_eq!(v["error"]["message"], "Invalid signature.");
    let mut tampered = good.clone();
    *tampered.last_mut().unwrap() = b' ';
    tampered.push(b'}');
    expect(
        post_raw(&app, "12393", tampered, Some(&ts), Some(&sig)).await,
        401,
        "invalid_signature",
        None,
    )
    .await;
    expect(
        post_raw(&app, "12393", good.clone(), Some(&ts), None).await,
        401,
        "invalid_signature",
        None,
    )
    .await;
    expect(
        post_raw(&app, "12393", good.clone(), None, Some(&sig)).await,
        401,
        "invalid_signature",
        None,
    )
    .await;
    for offset in [-400, 400] {
        let t = now_ts(offset);
        let s = python_sign(SECRET, &t, &good);
        let v = expect(
            post_raw(&app, "12393", good.clone(), Some(&t), Some(&s)).await,
            401,
            "invalid_signature",
            None,
        )
        .await;
        assert_eq!(v["error"]["message"], "签名无效。", "no detail about why");
    }
    // Unknown source.
    expect(
        post_raw(&app, "99999", good.clone(), Some(&ts), Some(&sig)).await,
        404,
        "unknown_source",
        None,
    )
    .await;

    // Signed, but not a valid work order.
    let signed = |body: Vec<u8>| {
        let t = now_ts(0);
        let s = python_sign(SECRET, &t, &body);
        (body, t, s)
    };
    let (b, t, s) = signed(b"{\"call_id\": ".to_vec());
    expect(
        post_raw(&app, "12393", b, Some(&t), Some(&s)).await,
        400,
        "invalid_json",
        None,
    )
    .await;
    let mut cases: Vec<(Value, &str, &str)> = vec![];
    let mut o = work_order("C-bad");
    o["categories"] = json!(["bribery"]);
    cases.push((o, "invalid_field", "categories"));
    let mut o = work_order("C-bad");
    o["target"]["kind"] = json!("bank");
    cases.push((o, "invalid_field", "target.kind"));
    let mut o = work_order("C-bad");
    o["recording_url"] = json!("http://127.0.0.1:9/rec.mp3");
    cases.push((o, "invalid_field", "recording_url"));
    let mut o = work_order("C-bad");
    o["recording_url"] = json!("http://169.254.169.254/latest/meta-data");
    cases.push((o, "invalid_field", "recording_url"));
    let mut o = anonymous_order("C-bad");
    o["caller_name"] = json!("张三");
    cases.push((o, "invalid_field", "caller_name"));
    let mut o = work_order("C-bad");
    o["caller_name"] = Value::Null;
    cases.push((o, "invalid_field", "caller_name"));
    let mut o = work_order("C-bad");
    o["caller_number"] = json!("unknown");
    cases.push((o, "invalid_field", "caller_number"));
    let mut o = work_order("C-bad");
    o["received_at"] = json!("yesterday");
    cases.push((o, "invalid_field", "received_at"));
    // A call in the future (beyond the signature's clock skew) or before 2018.
    let mut o = work_order("C-bad-future");
    o["received_at"] = json!((chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339());
    cases.push((o, "invalid_field", "received_at"));
    let mut o = work_order("C-bad-old");
    o["received_at"] = json!("2017-12-31T09:00:00+08:00");
    cases.push((o, "invalid_field", "received_at"));
    let mut o = work_order("C-bad");
    o["call_id"] = json!("");
    cases.push((o, "invalid_field", "call_id"));
    let mut o = work_order("C-bad");
    o.as_object_mut().unwrap().remove("agent_id");
    cases.push((o, "missing_field", "agent_id"));
    let mut o = work_order("C-bad");
    o["priority"] = json!("high");
    cases.push((o, "unknown_field", "priority"));
    for (order, code, field) in cases {
        let (b, t, s) = signed(serde_json::to_vec(&order).unwrap());
        expect(
            post_raw(&app, "12393", b, Some(&t), Some(&s)).await,
            422,
            code,
            Some(field),
        )
        .await;
    }
    // Oversized (the limit is 256 KiB), even when correctly signed.
    let mut o = work_order("C-big");
    o["description"] = json!("很".repeat(100_000));
    let (b, t, s) = signed(serde_json::to_vec(&o).unwrap());
    assert!(b.len() > 256 * 1024);
    expect(
        post_raw(&app, "12393", b, Some(&t), Some(&s)).await,
        413,
        "payload_too_large",
        None,
    )
    .await;

    assert_eq!(app.counts().await, before);
    assert_eq!(app.count("hotline_calls").await, 0);
    assert_eq!(app.count("jobs").await, 0);
    assert_eq!(app.count("case_events").await, 0);
    app.stop().await;
}

async fn duplicate_and_concurrent_call_ids_make_one_case(backend: Backend) {
    let Some(app) = app_with(backend, vec![source("12393"), source("12345")]).await else {
        return;
    };
    let first = post_signed(&app, "12393", SECRET, &work_order("C-dup")).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    // The same work order again, re-serialized with other whitespace and key order.
    let mut again = serde_json::to_string_pretty(&work_order("C-dup")).unwrap();
    again = again.replace("\"call_id\": \"C-dup\",", "");
    again = again.replacen('{', "{ \"call_id\": \"C-dup\",", 1);
    let ts = now_ts(0);
    let sig = python_sign(SECRET, &ts, again.as_bytes());
    let res = post_raw(&app, "12393", again.into_bytes(), Some(&ts), Some(&sig)).await;
    assert_eq!(res.status(), 200);
    let dup: Value = res.json().await.unwrap();
    assert_eq!(dup["duplicate"], true);
    assert_eq!(dup["tracking_code"], first["tracking_code"]);
    assert_eq!(dup["passcode"], first["passcode"]);
    // Same call_id, different content: a conflict, not a silent replay.
    let mut changed = work_order("C-dup");
    changed["description"] = json!("来电补充：该院还存在串换药品的情况，涉及多名患者。");
    let res = post_signed(&app, "12393", SECRET, &changed).await;
    assert_eq!(res.status(), 409);
    // The same call_id from another source is another call.
    let res = post_signed(&app, "12345", SECRET, &work_order("C-dup")).await;
    assert_eq!(res.status(), 201);
    assert_eq!(app.count("reports").await, 2);

    // Eight copies of one new call at the same moment: one case.
    let body = serde_json::to_vec(&work_order("C-race")).unwrap();
    let ts = now_ts(0);
    let sig = python_sign(SECRET, &ts, &body);
    let sends = (0..8).map(|_| {
        let (client, url, body, ts, sig) = (
            app.client.clone(),
            app.url(&path("12393")),
            body.clone(),
            ts.clone(),
            sig.clone(),
        );
        tokio::spawn(async move {
            let r = client
                .post(url)
                .header("X-Jubao-Timestamp", ts)
                .header("X-Jubao-Signature", sig)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        })
    });
    let mut results = vec![];
    for s in sends {
        results.push(s.await.unwrap());
    }
    let created = results.iter().filter(|(s, _)| *s == 201).count();
    let replayed = results.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!((created, replayed), (1, 7), "{results:?}");
    let codes: std::collections::BTreeSet<_> = results
        .iter()
        .map(|(_, v)| v["tracking_code"].to_string())
        .collect();
    assert_eq!(codes.len(), 1);
    assert!(results
        .iter()
        .all(|(s, v)| v["duplicate"] == json!(*s == 200)));
    assert_eq!(app.count("reports").await, 3);
    assert_eq!(app.count("hotline_calls").await, 3);
    app.stop().await;
}

/// One callback as received: timestamp and signature headers, body, our answer.
type Delivery = (String, String, Vec<u8>, u16);

/// A loopback server standing in for the call centre: it takes callbacks (failing the
/// first `fail_first`) and serves recordings.
#[derive(Default)]
struct CallCentre {
    fail_first: usize,
    calls: AtomicUsize,
    callbacks: Mutex<Vec<Delivery>>,
    recording: Vec<u8>,
    hits: Mutex<HashMap<String, usize>>,
}

async fn callback(req: HttpRequest, body: web::Bytes, cc: web::Data<CallCentre>) -> HttpResponse {
    let n = cc.calls.fetch_add(1, Ordering::SeqCst);
    let status = if n < cc.fail_first { 500 } else { 200 };
    let h = |k: &str| {
        req.headers()
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    cc.callbacks.lock().unwrap().push((
        h("x-jubao-timestamp"),
        h("x-jubao-signature"),
        body.to_vec(),
        status,
    ));
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
}

async fn recording(req: HttpRequest, cc: web::Data<CallCentre>) -> HttpResponse {
    *cc.hits
        .lock()
        .unwrap()
        .entry(req.path().to_string())
        .or_default() += 1;
    HttpResponse::Ok()
        .content_type("audio/mpeg")
        .body(cc.recording.clone())
}

async fn spawn_call_centre(cc: CallCentre) -> (u16, Arc<CallCentre>) {
    let cc = Arc::new(cc);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let data = web::Data::from(cc.clone());
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
            .route("/callback", web::post().to(callback))
            .route("/{name}", web::get().to(recording))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (port, cc)
}

async fn callback_is_retried_until_acknowledged_and_arrives_once(backend: Backend) {
    let (port, cc) = spawn_call_centre(CallCentre {
        fail_first: 2,
        ..Default::default()
    })
    .await;
    let mut src = source("12393");
    src.callback_url = Some(format!("http://127.0.0.1:{port}/callback"));
    let Some(app) = app_with(backend, vec![src]).await else {
        return;
    };
    let res = post_signed(&app, "12393", SECRET, &work_order("C-cb")).await;
    assert_eq!(res.status(), 201);
    let id = report_id(&app, "C-cb").await;

    // A staff member accepts the case: a reporter-visible status change.
    let mut tx = app.db.begin().await.unwrap();
    jubao::staff::create(
        &mut tx,
        &jubao::staff::NewUser {
            username: "intake1".into(),
            display_name: "受理员".into(),
            email: None,
            roles: vec![jubao::staff::Role::Intake],
            region: "000000".into(),
            locale: "zh-CN".into(),
            password: "correct horse battery".into(),
        },
        &jubao::staff::hash_password("correct horse battery").unwrap(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let login: Value = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"username": "intake1", "password": "correct horse battery"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap();
    let res = app
        .client
        .post(app.url(&format!("/api/v1/cases/{id}/transitions")))
        .bearer_auth(token)
        .json(&json!({"to": "accepted", "reason": "线索具体，予以受理"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{:?}", res.text().await);

    eventually("the callback to be acknowledged", || async {
        cc.callbacks.lock().unwrap().iter().any(|c| c.3 == 200)
            && scalar_i64(&app, "SELECT COUNT(*) FROM jobs").await == 0
    })
    .await;
    // No timed wait for a repeat: the job is gone (deleted only after an acknowledged
    // delivery), so once the instance has stopped nothing can call back again.
    app.stop().await;
    let calls = cc.callbacks.lock().unwrap().clone();
    let statuses: Vec<u16> = calls.iter().map(|c| c.3).collect();
    assert_eq!(statuses, vec![500, 500, 200]);
    for (ts, sig, body, _) in &calls {
        assert_eq!(*sig, python_sign(SECRET, ts, body), "callback signature");
        let at: i64 = ts.parse().unwrap();
        assert!((chrono::Utc::now().timestamp() - at).abs() < 60);
        let v: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(v["call_id"], "C-cb");
        assert_eq!(v["status"], "accepted");
        assert!(!v["text"].as_str().unwrap().is_empty());
        chrono::DateTime::parse_from_rfc3339(v["at"].as_str().unwrap()).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 4, "{v}");
        // Nothing of the caller's identity goes back out.
        let s = String::from_utf8_lossy(body);
        assert!(!s.contains(CALLER_NAME) && !s.contains("8765"));
    }
}

/// A few bytes that sniff as MP3 (ID3 tag, then a frame header).
fn mp3_bytes() -> Vec<u8> {
    let mut b = b"ID3\x03\x00\x00\x00\x00\x00\x00".to_vec();
    for i in 0..2000u32 {
        b.extend_from_slice(&[0xFF, 0xFB, 0x90, 0x64]);
        b.extend_from_slice(&i.to_be_bytes());
    }
    b
}

async fn recording_is_fetched_only_from_allowed_hosts(backend: Backend) {
    let audio = mp3_bytes();
    let (port, cc) = spawn_call_centre(CallCentre {
        recording: audio.clone(),
        ..Default::default()
    })
    .await;
    let mut allowed = source("12393");
    allowed.allow_recording_hosts = vec!["127.0.0.1".into()];
    let Some(app) = app_with(backend, vec![allowed, source("12345")]).await else {
        return;
    };

    let mut a = work_order("C-rec-a");
    a["recording_url"] = json!(format!("http://127.0.0.1:{port}/a.mp3?token=s3cr3t"));
    let res = post_signed(&app, "12393", SECRET, &a).await;
    assert_eq!(res.status(), 201);
    // "localhost" passes intake (host names are checked when fetched) and resolves to
    // loopback, which source 12345 does not allow.
    let mut b = work_order("C-rec-b");
    b["recording_url"] = json!(format!("http://localhost:{port}/b.mp3"));
    let res = post_signed(&app, "12345", SECRET, &b).await;
    assert_eq!(res.status(), 201);
    let (ida, idb) = (
        report_id(&app, "C-rec-a").await,
        report_id(&app, "C-rec-b").await,
    );

    eventually("both recording jobs to finish", || async {
        scalar_i64(
            &app,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'hotline_recording' AND state = 'ready'",
        )
        .await
            == 0
    })
    .await;

    // Allowed: stored as sealed audio evidence with the original's SHA-256.
    let (eid, kind, media, sha, size): (String, String, String, String, i64) = sqlx::query_as(
        "SELECT id, kind, media_type, sha256, size_bytes FROM evidence WHERE report_id = $1",
    )
    .bind(&ida)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    use sha2::Digest;
    assert_eq!((kind.as_str(), media.as_str()), ("audio", "audio/mpeg"));
    assert_eq!(sha, hex::encode(sha2::Sha256::digest(&audio)));
    assert_eq!(size, audio.len() as i64);
    let sealed = jubao::store::blobs::get(&app.db, &eid, "original")
        .await
        .unwrap()
        .unwrap();
    assert!(
        !sealed.windows(8).any(|w| w == &audio[..8]),
        "stored sealed"
    );
    let opened = app
        .state
        .vault
        .open_evidence(&ida, &eid, "original", &sealed)
        .await
        .unwrap();
    assert_eq!(opened, audio);
    let state: (String, Option<String>) = sqlx::query_as(
        "SELECT recording, recording_evidence_id FROM hotline_calls WHERE report_id = $1",
    )
    .bind(&ida)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(state, ("stored".to_string(), Some(eid)));

    // Refused: nothing fetched, nothing stored, dead-lettered at once, noted on the case.
    assert_eq!(cc.hits.lock().unwrap().get("/a.mp3"), Some(&1));
    assert_eq!(cc.hits.lock().unwrap().get("/b.mp3"), None);
    let evidence_b: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM evidence WHERE report_id = $1")
        .bind(&idb)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(evidence_b, 0);
    let (state, attempts, error): (String, i64, Option<String>) = sqlx::query_as(
        "SELECT state, attempts, last_error FROM jobs WHERE kind = 'hotline_recording'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!((state.as_str(), attempts), ("dead", 1));
    // A fixed code, never the address or the URL.
    assert_eq!(error.as_deref(), Some("recording_address_not_allowed"));
    let recording: String =
        sqlx::query_scalar("SELECT recording FROM hotline_calls WHERE report_id = $1")
            .bind(&idb)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(recording, "refused");
    let note: String = sqlx::query_scalar(
        "SELECT data FROM case_events WHERE report_id = $1 AND kind = 'hotline_recording'",
    )
    .bind(&idb)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(note.contains("refused"), "{note}");
    let logs = String::from_utf8_lossy(&captured_logs().lock().unwrap()).to_string();
    assert!(!logs.contains("s3cr3t"), "query string in logs");
    app.stop().await;
}

async fn previous_secret_verifies_only_inside_its_overlap(backend: Backend) {
    let now = chrono::Utc::now();
    let rotating = |name: &str, until: chrono::DateTime<chrono::Utc>| HotlineSource {
        source: name.into(),
        secret: "new-secret-2".into(),
        callback_url: None,
        previous_secret: Some(SECRET.into()),
        previous_secret_until: Some(until.to_rfc3339()),
        allow_recording_hosts: vec![],
    };
    let Some(app) = app_with(
        backend,
        vec![
            rotating("12393", now + chrono::Duration::hours(1)),
            rotating("12345", now - chrono::Duration::seconds(1)),
        ],
    )
    .await
    else {
        return;
    };
    // Inside the overlap both secrets verify.
    let res = post_signed(&app, "12393", SECRET, &work_order("C-rot-1")).await;
    assert_eq!(res.status(), 201);
    let res = post_signed(&app, "12393", "new-secret-2", &work_order("C-rot-2")).await;
    assert_eq!(res.status(), 201);
    // After it, only the new one.
    let res = post_signed(&app, "12345", SECRET, &work_order("C-rot-3")).await;
    assert_eq!(res.status(), 401);
    let res = post_signed(&app, "12345", "new-secret-2", &work_order("C-rot-3")).await;
    assert_eq!(res.status(), 201);
    assert_eq!(app.count("reports").await, 3);
    app.stop().await;
}

/// Issue 15 item 8: the call centre links a `call_id` to the caller's number, so case staff
/// never see it in the case (also not from an event stored before it was left out), only
/// through a custodian's reveal of a named caller (an anonymous caller's is never shown).
/// The work order's optional claim verifier is kept as a digest only.
async fn case_staff_see_no_call_id_until_a_reveal(backend: Backend) {
    let Some(app) = app_with(backend, vec![source("12393")]).await else {
        return;
    };
    let call_id = "CC-20261120-4711-LINKME";
    let mut order = work_order(call_id);
    order["claim_verifier"] = json!("52017x");
    let res = post_signed(&app, "12393", SECRET, &order).await;
    assert_eq!(res.status(), 201, "{:?}", res.text().await);
    let case = report_id(&app, call_id).await;
    let digests: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM claim_verifiers WHERE report_id = $1")
            .bind(&case)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(digests, 1);
    // An event written the old way, with the call id in it.
    sqlx::query(
        "INSERT INTO case_events (report_id, at, actor_id, kind, data) \
         VALUES ($1, '2026-11-20T01:30:00Z', NULL, 'hotline_call', $2)",
    )
    .bind(&case)
    .bind(json!({"source": "12393", "call_id": call_id, "agent_id": "A-007"}).to_string())
    .execute(&app.db.pool)
    .await
    .unwrap();
    let intake = staff(&app, "intake1", "intake", "371500").await;
    let mut h = staff(&app, "handler1", "handler", "371502").await;
    let sup = staff(&app, "sup1", "supervisor", "371500").await;
    let cust = staff(&app, "cust1", "custodian", "371500").await;
    let c = |p: &str| format!("/api/v1/cases/{case}{p}");
    post_ok(
        &app,
        &intake,
        &c("/transitions"),
        &json!({"to": "accepted", "reason": "受理"}),
        200,
    )
    .await;
    for s in [&intake, &h, &sup] {
        let res = get(&app, &s.token, &c("")).await;
        assert_eq!(res.status(), 200);
        let text = res.text().await.unwrap();
        assert!(text.contains("hotline_call"), "{text}");
        assert!(
            !text.contains(call_id),
            "{} sees the call id: {text}",
            s.username
        );
        assert!(!text.contains("LINKME"), "{text}");
    }
    let logs = String::from_utf8_lossy(&captured_logs().lock().unwrap()).into_owned();
    // The log buffer is the whole test binary's, where "52017" alone can be a port or a
    // duration; the verifier is the digits with their check letter, in either case.
    assert!(
        !logs.to_ascii_uppercase().contains("52017X"),
        "the claim verifier is in the logs"
    );

    // Through a custodian's decision, the requester sees it.
    enrol_totp(&app, &mut h).await;
    let v = reveal_approved(&app, &h, &cust, &case, "需向呼叫中心核实来电").await;
    assert_eq!(v["call_id"], call_id);
    let _: &Staff = &sup;
    app.stop().await;
}
