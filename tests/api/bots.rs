//! The WeChat Official Account and WeCom bots over HTTP (CONTRACT §4). Every push is built,
//! and every encrypted reply opened, by `tests/support/wx_platform.py`: an independent
//! implementation of the platforms' side (Python standard library + the openssl CLI), so the
//! server's own crypto module is never used to check itself. The platform's HTTP API (token,
//! media download, customer-service messages) is a small fake server on loopback.

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::*;
use crate::tools;

const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
const TOKEN: &str = "test-bot-token";
const APPID: &str = "wx5823bf96d3bd56c7";
const CORP_ID: &str = "wwcorp0000000001";
const AGENT_ID: i64 = 1000002;
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/wx_platform.py");
const JPEG: &[u8] = include_bytes!("../browser/fixtures/receipt.jpg");

// ---------------------------------------------------------------------------------------
// The fake platform API.

#[derive(Default)]
pub(crate) struct Calls {
    tokens: usize,
    media: Vec<String>,
    sent: Vec<Value>,
    /// Whether users whose openid starts with `oGone-` have unfollowed (see [`send`]).
    pub(crate) gone: bool,
    pub(crate) refused: usize,
    /// Template and subscription messages received (`path` added to each body).
    pub(crate) templates: Vec<Value>,
}

pub(crate) struct FakePlatform {
    base: String,
    pub(crate) calls: Arc<Mutex<Calls>>,
    pub(crate) handle: actix_web::dev::ServerHandle,
}

impl FakePlatform {
    pub(crate) async fn start() -> FakePlatform {
        let calls = Arc::new(Mutex::new(Calls::default()));
        let data = web::Data::new(calls.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/cgi-bin/token", web::get().to(token))
                .route("/cgi-bin/gettoken", web::get().to(token))
                .route("/cgi-bin/media/get", web::get().to(media))
                .route("/cgi-bin/message/custom/send", web::post().to(send))
                .route("/cgi-bin/message/send", web::post().to(send))
                .route("/cgi-bin/message/template/send", web::post().to(template))
                .route(
                    "/cgi-bin/message/subscribe/bizsend",
                    web::post().to(template),
                )
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        FakePlatform {
            base: format!("http://127.0.0.1:{port}"),
            calls,
            handle,
        }
    }

    pub(crate) fn sent(&self) -> Vec<Value> {
        self.calls.lock().unwrap().sent.clone()
    }
}

type Shared = web::Data<Arc<Mutex<Calls>>>;
type Q = web::Query<std::collections::HashMap<String, String>>;

async fn token(calls: Shared, q: Q) -> HttpResponse {
    let ok = q.get("secret").is_some_and(|s| s == "app-secret")
        || q.get("corpsecret").is_some_and(|s| s == "corp-secret");
    if !ok {
        return HttpResponse::Ok().json(json!({"errcode": 40125, "errmsg": "invalid secret"}));
    }
    calls.lock().unwrap().tokens += 1;
    HttpResponse::Ok().json(json!({"access_token": "ACCESS-TOKEN-1", "expires_in": 7200}))
}

async fn media(calls: Shared, q: Q) -> HttpResponse {
    if q.get("access_token").map(String::as_str) != Some("ACCESS-TOKEN-1") {
        return HttpResponse::Ok().json(json!({"errcode": 40001, "errmsg": "invalid credential"}));
    }
    let id = q.get("media_id").cloned().unwrap_or_default();
    calls.lock().unwrap().media.push(id.clone());
    if id.starts_with("bad") {
        return HttpResponse::Ok()
            .content_type("image/jpeg")
            .body(b"not really a jpeg".to_vec());
    }
    HttpResponse::Ok().content_type("image/jpeg").body(JPEG)
}

/// Once `gone` is set, users whose openid starts with `oGone-` have unfollowed: the
/// platform answers 45015 and, as its error messages do, names the user in `errmsg`.
async fn send(calls: Shared, q: Q, body: web::Json<Value>) -> HttpResponse {
    if q.get("access_token").map(String::as_str) != Some("ACCESS-TOKEN-1") {
        return HttpResponse::Ok().json(json!({"errcode": 40001, "errmsg": "invalid credential"}));
    }
    let to = body["touser"].as_str().unwrap_or_default().to_string();
    if to.starts_with("oGone-") && calls.lock().unwrap().gone {
        calls.lock().unwrap().refused += 1;
        return HttpResponse::Ok().json(json!({
            "errcode": 45015,
            "errmsg": format!("response out of time limit or subscription is canceled \
                               (touser {to}) rid: 6650a1b2-1c2d3e4f")
        }));
    }
    calls.lock().unwrap().sent.push(body.into_inner());
    HttpResponse::Ok().json(json!({"errcode": 0, "errmsg": "ok"}))
}

/// Template (and subscription) messages: a template id `TPL-bad` is unknown (40037), as
/// is any message to a user who unfollowed (`oGone-` once `gone` is set: 43004 when the
/// user is `oGone-unfollowed-…`, else delivered, since template messages reach followers
/// outside the 48-hour window).
async fn template(
    calls: Shared,
    req: actix_web::HttpRequest,
    q: Q,
    body: web::Json<Value>,
) -> HttpResponse {
    if q.get("access_token").map(String::as_str) != Some("ACCESS-TOKEN-1") {
        return HttpResponse::Ok().json(json!({"errcode": 40001, "errmsg": "invalid credential"}));
    }
    let mut body = body.into_inner();
    if body["template_id"] == "TPL-bad" {
        return HttpResponse::Ok().json(json!({"errcode": 40037, "errmsg": "invalid template_id"}));
    }
    let to = body["touser"].as_str().unwrap_or_default().to_string();
    if to.starts_with("oGone-unfollowed") && calls.lock().unwrap().gone {
        return HttpResponse::Ok().json(json!({"errcode": 43004, "errmsg": "require subscribe"}));
    }
    body["path"] = json!(req.path());
    calls.lock().unwrap().templates.push(body);
    HttpResponse::Ok().json(json!({"errcode": 0, "errmsg": "ok", "msgid": 200228332}))
}

// ---------------------------------------------------------------------------------------
// The platform side of the callbacks, through wx_platform.py.

fn py(args: &[&str], stdin: Option<&str>) -> String {
    use std::io::Write;
    let mut child = Command::new("python3")
        .arg(SCRIPT)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "wx_platform.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Mode {
    Plain,
    Safe,
    Wecom,
}

#[derive(Clone)]
pub(crate) struct Bot {
    mode: Mode,
    path: String,
    openid: String,
    next_id: Arc<Mutex<i64>>,
}

impl Bot {
    pub(crate) fn new(mode: Mode, openid: &str) -> Bot {
        let path = match mode {
            Mode::Plain => "/bots/wechat/plain",
            Mode::Safe => "/bots/wechat/safe",
            Mode::Wecom => "/bots/wecom/corp",
        };
        Bot {
            mode,
            path: path.into(),
            openid: openid.into(),
            next_id: Arc::new(Mutex::new(1)),
        }
    }

    fn receive_id(&self) -> &'static str {
        if self.mode == Mode::Wecom {
            CORP_ID
        } else {
            APPID
        }
    }

    fn msg_id(&self) -> i64 {
        let mut n = self.next_id.lock().unwrap();
        *n += 1;
        6_000_000_000_000_000_000 + *n
    }

    fn xml(&self, msg_type: &str, fields: &str, msg_id: Option<i64>) -> String {
        let agent = if self.mode == Mode::Wecom {
            format!("<AgentID>{AGENT_ID}</AgentID>")
        } else {
            String::new()
        };
        let id = msg_id
            .map(|i| format!("<MsgId>{i}</MsgId>"))
            .unwrap_or_default();
        format!(
            "<xml><ToUserName><![CDATA[{}]]></ToUserName><FromUserName><![CDATA[{}]]></FromUserName>\
             <CreateTime>{}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{fields}{id}{agent}</xml>",
            if self.mode == Mode::Wecom { CORP_ID } else { "gh_test_account" },
            self.openid,
            chrono::Utc::now().timestamp(),
        )
    }

    pub(crate) fn text_xml(&self, content: &str) -> String {
        let c = content.replace("]]>", "]]]]><![CDATA[>");
        self.xml(
            "text",
            &format!("<Content><![CDATA[{c}]]></Content>"),
            Some(self.msg_id()),
        )
    }

    /// `push` of wx_platform.py: (query, body).
    pub(crate) fn push(&self, xml: &str, appid: Option<&str>) -> (Vec<(String, String)>, String) {
        let appid = appid.unwrap_or(self.receive_id());
        let mut args = vec![
            "push",
            "--token",
            TOKEN,
            "--appid",
            appid,
            "--xml-file",
            "-",
        ];
        match self.mode {
            Mode::Plain => args.push("--plain"),
            Mode::Safe => args.extend(["--key", KEY, "--openid"]),
            Mode::Wecom => args.extend(["--key", KEY, "--wecom"]),
        }
        let out: Value = serde_json::from_str(&py(&args, Some(xml))).unwrap();
        let query = out["query"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        (query, out["body"].as_str().unwrap().to_string())
    }

    pub(crate) async fn post_raw(
        &self,
        app: &TestApp,
        query: &[(String, String)],
        body: String,
    ) -> reqwest::Response {
        app.client
            .post(app.url(&self.path))
            .query(query)
            .header("content-type", "text/xml")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// Send a push; return the reply's text content ("" for no reply).
    async fn send_xml(&self, app: &TestApp, xml: &str) -> String {
        let (q, body) = self.push(xml, None);
        let res = self.post_raw(app, &q, body).await;
        assert_eq!(res.status(), 200);
        let body = res.text().await.unwrap();
        self.content_of(&body)
    }

    pub(crate) async fn say(&self, app: &TestApp, text: &str) -> String {
        let xml = self.text_xml(text);
        self.send_xml(app, &xml).await
    }

    /// The text of a reply body, decrypting it with wx_platform.py when encrypted.
    pub(crate) fn content_of(&self, body: &str) -> String {
        if body == "success" || body.is_empty() {
            return String::new();
        }
        let xml = if self.mode == Mode::Plain {
            assert!(!body.contains("<Encrypt>"), "{body}");
            body.to_string()
        } else {
            let enc = cdata_field(body, "Encrypt").expect("encrypted reply");
            // The reply's own msg_signature must check out too.
            let sig = py(
                &[
                    "sign",
                    "--token",
                    TOKEN,
                    "--timestamp",
                    &plain_field(body, "TimeStamp").unwrap(),
                    "--nonce",
                    &cdata_field(body, "Nonce").unwrap(),
                    "--encrypt",
                    &enc,
                ],
                None,
            );
            assert_eq!(sig.trim(), cdata_field(body, "MsgSignature").unwrap());
            py(
                &[
                    "decrypt",
                    "--key",
                    KEY,
                    "--receive-id",
                    self.receive_id(),
                    "--cipher",
                    &enc,
                ],
                None,
            )
        };
        assert_eq!(
            cdata_field(&xml, "ToUserName").as_deref(),
            Some(self.openid.as_str())
        );
        cdata_field(&xml, "Content").unwrap_or_default()
    }
}

/// A field's CDATA text (joined across split sections).
fn cdata_field(xml: &str, name: &str) -> Option<String> {
    let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    let inner = &xml[start..end];
    let mut out = String::new();
    let mut rest = inner;
    while let Some(i) = rest.find("<![CDATA[") {
        let after = &rest[i + 9..];
        let j = after.find("]]>")?;
        out.push_str(&after[..j]);
        rest = &after[j + 3..];
    }
    Some(out)
}

fn plain_field(xml: &str, name: &str) -> Option<String> {
    let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(xml[start..end].to_string())
}

pub(crate) fn tracking_code(reply: &str) -> String {
    let digits: Vec<String> = reply
        .split(|c: char| !c.is_ascii_digit())
        .filter(|w| w.len() == 12)
        .map(str::to_string)
        .collect();
    digits
        .first()
        .cloned()
        .unwrap_or_else(|| panic!("no tracking code in {reply:?}"))
}

fn passcode(reply: &str) -> String {
    reply
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 16)
        .unwrap_or_else(|| panic!("no passcode in {reply:?}"))
        .to_string()
}

pub(crate) fn configure(fake: &FakePlatform) -> impl FnOnce(&mut jubao::config::Config) + '_ {
    move |c| {
        let base = fake.base.clone();
        c.outbox.poll_ms = jubao::config::Millis::new(20);
        c.outbox.backoff_base_secs = jubao::config::Seconds::new(0);
        c.outbox.sweep_secs = jubao::config::Seconds::new(3600);
        c.wechat = vec![
            toml_account(&format!(
                "account = \"plain\"\nappid = \"{APPID}\"\ntoken = \"{TOKEN}\"\n\
                 appsecret = \"app-secret\"\napi_base = \"{base}\""
            )),
            toml_account(&format!(
                "account = \"safe\"\nappid = \"{APPID}\"\ntoken = \"{TOKEN}\"\n\
                 encoding_aes_key = \"{KEY}\"\nappsecret = \"app-secret\"\napi_base = \"{base}\""
            )),
        ];
        c.wecom = vec![toml::from_str(&format!(
            "account = \"corp\"\ncorp_id = \"{CORP_ID}\"\nagent_id = {AGENT_ID}\n\
             token = \"{TOKEN}\"\nencoding_aes_key = \"{KEY}\"\nsecret = \"corp-secret\"\n\
             api_base = \"{base}\""
        ))
        .unwrap()];
    }
}

fn toml_account(s: &str) -> jubao::config::WechatAccount {
    toml::from_str(s).unwrap()
}

/// The app with the bot accounts; `None` when the test cannot run (no PostgreSQL, or
/// without python3 and openssl for wx_platform.py: see tests/support/tools.rs).
pub(crate) async fn bot_app(backend: Backend, fake: &FakePlatform) -> Option<TestApp> {
    bot_app_with(backend, fake, |_| {}).await
}

/// As [`bot_app`], with `tweak` applied after the accounts are configured.
pub(crate) async fn bot_app_with(
    backend: Backend,
    fake: &FakePlatform,
    tweak: impl FnOnce(&mut jubao::config::Config),
) -> Option<TestApp> {
    let platform = "bots::* (the platforms' side is tests/support/wx_platform.py)";
    if !tools::need(platform, &[tools::PYTHON3, tools::OPENSSL]) {
        return None;
    }
    // The leak searches read a pg_dump of the PostgreSQL database.
    if backend == Backend::Postgres && !tools::need(platform, &[tools::PG_DUMP]) {
        return None;
    }
    spawn_app_with(backend, |c| {
        configure(fake)(c);
        tweak(c);
    })
    .await
}

/// The anonymous guided report in Chinese, up to (not including) the final confirmation;
/// one photo as evidence; the last 6 characters of an ID number as the reward verifier.
pub(crate) const ZH_SCRIPT: &[&str] = &[
    "举报",
    "镇卫生院组织老人免费体检后办理住院，人没住院，医保照样结算。",
    "1 6",
    "某某镇卫生院",
    "2",
    "371502",
    "2025年3月",
    "1.2万",
    "[img:media-1]",
    "完成",
    "1",
    "31002x",
    "微信就行",
];

const EN_SCRIPT: &[&str] = &[
    "report",
    "The clinic bills the insurance for check-ups that never happened.",
    "fictitious_services, 3",
    "Sunshine Clinic",
    "clinic",
    "371502",
    "2025-01 to 2025-02",
    "3000",
    "skip",
    "anonymous",
    "skip",
    "skip",
];

pub(crate) async fn play(bot: &Bot, app: &TestApp, script: &[&str]) -> String {
    let mut last = String::new();
    for line in script {
        last = if let Some(id) = line.strip_prefix("[img:").and_then(|r| r.strip_suffix(']')) {
            let xml = bot.xml(
                "image",
                &format!(
                    "<PicUrl><![CDATA[http://mmbiz.example/x]]></PicUrl><MediaId><![CDATA[{id}]]></MediaId>"
                ),
                Some(bot.msg_id()),
            );
            bot.send_xml(app, &xml).await
        } else {
            bot.say(app, line).await
        };
        assert!(!last.is_empty(), "no reply to {line:?}");
    }
    last
}

pub(crate) async fn wait_for<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..300 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

// ---------------------------------------------------------------------------------------
// Tests.

both_databases!(
    safe_mode_conversation_files_a_report_with_media,
    plaintext_conversation_in_english,
    provisional_acceptance_date_is_explained,
    wecom_url_check_and_conversation,
    bad_input_is_refused_politely,
    retry_storm_files_one_tip,
    conversation_moves_between_instances_and_survives_restart,
    feedback_reaches_the_chat,
    case_staff_see_no_openid_until_a_reveal,
    everyday_answers_and_a_category_for_staff_to_classify,
);

/// Issue 24: "不知道是哪一类" is filed as `other` with a case event asking the handler to
/// classify it; the description's target is offered, its kind inferred, and a colloquial
/// date and amount are read (the festival days from the holiday calendar).
async fn everyday_answers_and_a_category_for_staff_to_classify(app: TestApp) {
    let fake = FakePlatform::start().await;
    let backend = app.backend;
    app.stop().await;
    let Some(app) = bot_app(backend, &fake).await else {
        return;
    };
    let bot = Bot::new(Mode::Plain, "oUser-plain-0024");
    let summary = play(
        &bot,
        &app,
        &[
            "举报",
            "镇上的幸福大药房让老人拿医保卡换东西，我也说不清楚算哪一类",
            "我不知道是哪一类",
            "对",
            "不清楚",
            "去年国庆期间",
            "两三千块",
            "没有",
            "匿名",
            "不用了",
            "都行",
        ],
    )
    .await;
    assert!(summary.contains("被举报对象：幸福大药房"), "{summary}");
    assert!(summary.contains("对象类型：药店"), "{summary}");
    assert!(
        summary.contains("涉及金额：2,000 到 3,000 元（记为约 2,500 元）"),
        "{summary}"
    );
    let filed = bot.say(&app, "1").await;
    let code = tracking_code(&filed);
    let (id, amount, from, to): (String, Option<i64>, Option<String>, Option<String>) =
        sqlx::query_as(
            "SELECT id, amount_estimate_fen, occurred_from, occurred_to FROM reports \
             WHERE tracking_code = $1",
        )
        .bind(&code)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(amount, Some(250_000));
    // 国庆节 of the year before today, from the notice of that year.
    let last_year = chrono::Datelike::year(&chrono::Utc::now()) - 1;
    if last_year == 2025 {
        assert_eq!(from.as_deref(), Some("2025-10-01"));
        assert_eq!(to.as_deref(), Some("2025-10-08"));
    } else {
        assert!(from.is_some() || to.is_none());
    }
    let cats: Vec<String> =
        sqlx::query_scalar("SELECT category FROM report_categories WHERE report_id = $1")
            .bind(&id)
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(cats, ["other"]);
    let events: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM case_events WHERE report_id = $1 AND kind = 'category_unsure'",
    )
    .bind(&id)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(events, 1);
    app.stop().await;
    fake.handle.stop(true).await;
}

async fn safe_mode_conversation_files_a_report_with_media(app: TestApp) {
    let fake = FakePlatform::start().await;
    let backend = app.backend;
    app.stop().await;
    let Some(app) = bot_app(backend, &fake).await else {
        return;
    };
    let openid = "oUser-safe-0001-secret";
    let bot = Bot::new(Mode::Safe, openid);

    // Follow: the welcome.
    let welcome = bot
        .send_xml(
            &app,
            &bot.xml(
                "event",
                "<Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[]]></EventKey>",
                None,
            ),
        )
        .await;
    assert!(
        welcome.contains("欢迎关注医保基金监督举报平台"),
        "{welcome}"
    );

    let summary = play(&bot, &app, ZH_SCRIPT).await;
    assert!(summary.contains("某某镇卫生院"), "{summary}");
    // The verifier is read back with only its last character.
    assert!(summary.contains("身份证后 6 位：*****X"), "{summary}");
    assert!(!summary.contains("31002"), "{summary}");
    let filed = bot.say(&app, "1").await;
    let code = tracking_code(&filed);
    let pass = passcode(&filed);
    assert_eq!(app.count("reports").await, 1);
    let (channel, report_id): (String, String) =
        sqlx::query_as("SELECT channel, id FROM reports WHERE tracking_code = $1")
            .bind(&code)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(channel, "wechat");
    // The anonymous reporter's verifier reached the tip, as a digest only (searched below).
    let verifiers: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM claim_verifiers WHERE report_id = $1")
            .bind(&report_id)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(verifiers, 1);

    // The photo is fetched by the outbox (token + media API), processed and attached.
    wait_for("the photo", || {
        let (pool, id) = (app.db.pool.clone(), report_id.clone());
        async move {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM evidence WHERE report_id = $1")
                .bind(&id)
                .fetch_one(&pool)
                .await
                .unwrap();
            n == 1
        }
    })
    .await;
    {
        let calls = fake.calls.lock().unwrap();
        assert_eq!(calls.media, vec!["media-1".to_string()]);
        assert_eq!(calls.tokens, 1);
    }

    // The conversation is over (row deleted); the openid is nowhere in the clear: not in
    // any table (the whole database searched as bytes, bytea decoded on PostgreSQL), not in
    // a job payload. The bot's rows do exist, so the search covers them.
    assert_eq!(app.count("bot_conversations").await, 0);
    assert!(app.count("bot_reporters").await >= 1);
    for (where_, bytes) in database_bytes(&app) {
        assert!(
            !bytes.windows(openid.len()).any(|w| w == openid.as_bytes()),
            "the openid is readable in {where_}"
        );
        assert!(
            !bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"31002x")),
            "the claim verifier is readable in {where_}"
        );
    }
    let logs = String::from_utf8_lossy(&captured_logs().lock().unwrap()).to_string();
    assert!(!logs.contains(openid), "openid in the logs");
    assert!(!logs.contains("ACCESS-TOKEN-1"), "access token in the logs");

    // 查询: code and passcode → the status.
    let ask = bot.say(&app, "查询").await;
    assert!(ask.contains("12 位查询编号"), "{ask}");
    bot.say(&app, &code).await;
    let status = bot.say(&app, &pass).await;
    assert!(
        status.contains("已收到") || status.contains("状态"),
        "{status}"
    );

    app.stop().await;
    fake.handle.stop(true).await;
}

async fn plaintext_conversation_in_english(app: TestApp) {
    let fake = FakePlatform::start().await;
    let backend = app.backend;
    app.stop().await;
    let Some(app) = bot_app(backend, &fake).await else {
        return;
    };
    let bot = Bot::new(Mode::Plain, "oUser-plain-0002");
    let summary = play(&bot, &app, EN_SCRIPT).await;
    assert!(summary.contains("Sunshine Clinic"), "{summary}");
    let filed = bot.say(&app, "1").await;
    assert!(filed.contains("Tracking code"), "{filed}");
    let code = tracking_code(&filed);
    let locale: String = sqlx::query_scalar("SELECT locale FROM reports WHERE tracking_code = $1")
        .bind(&code)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(locale, "en");
    app.stop().await;
    fake.handle.stop(true).await;
}

/// A receipt whose acceptance date runs into a year with no holiday notice says so in plain
/// words (here the national rule is set to 400 working days, so every date is provisional).
async fn provisional_acceptance_date_is_explained(app: TestApp) {
    let fake = FakePlatform::start().await;
    let backend = app.backend;
    app.stop().await;
    if !tools::need("bots provisional date", &[tools::PYTHON3, tools::OPENSSL]) {
        return;
    }
    let Some(app) = spawn_app_with(backend, |c| {
        configure(&fake)(c);
        c.intake.accept_working_days = 400;
    })
    .await
    else {
        return;
    };
    let bot = Bot::new(Mode::Plain, "oUser-plain-0003");
    play(&bot, &app, EN_SCRIPT).await;
    let filed = bot.say(&app, "1").await;
    assert!(filed.contains("Tracking code"), "{filed}");
    assert!(
        filed.contains("provisional") && filed.contains("holidays"),
        "{filed}"
    );
    app.stop().await;
    fake.handle.stop(true).await;
}

async fn wecom_url_check_and_conversation(app: TestApp) {
    let fake = FakePlatform::start().await;
    let backend = app.backend;
    app.stop().await;
    let Some(app) = bot_app(backend, &fake).await else {
        return;
    };

    // URL check: the encrypted echostr, answered in plaintext with nothing around it.
    let check: Value = serde_json::from_str(&py(
        &[
            "urlcheck",
            "--token",
            TOKEN,
            "--key",
            KEY,
            "--appid",
            CORP_ID,
            "--wecom",
            "--echo",
            "1616140317555161061",
        ],
        None,
    ))
    .unwrap();
    let q: Vec<(String, String)> = check["query"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    let res = app
        .client
        .get(app.url("/bots/wecom/corp"))
        .query(&q)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), check["expect"].as_str().unwrap());
    // The same check with a tampered signature is refused.
    let bad: Vec<(String, String)> = q
        .iter()
        .map(|(k, v)| {
            if k == "msg_signature" {
                (k.clone(), "0".repeat(40))
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect();
    let res = app
        .client
        .get(app.url("/bots/wecom/corp"))
        .query(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    let bot = Bot::new(Mode::Wecom, "zhangsan");
    let mut script: Vec<&str> = ZH_SCRIPT.to_vec();
    script.retain(|l| !l.starts_with("[img:"));
    let summary = play(&bot, &app, &script).await;
    assert!(summary.contains("某某镇卫生院"), "{summary}");
    let filed = bot.say(&app, "1").await;
    let code = tracking_code(&filed);
    let channel: String =
        sqlx::query_scalar("SELECT channel FROM reports WHERE tracking_code = $1")
            .bind(&code)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(channel, "wecom");
    app.stop().await;
    fake.handle.stop(true).await;
}

async fn bad_input_is_refused_politely(app: TestApp) {
    let fake = FakePlatform::start().await;
    let backend = app.backend;
    app.stop().await;
    let Some(app) = bot_app(backend, &fake).await else {
        return;
    };
    let before = app.counts().await;
    let safe = Bot::new(Mode::Safe, "oUser-bad-0003");
    let plain = Bot::new(Mode::Plain, "oUser-bad-0004");

    // Official Account URL check, both ways.
    let check: Value = serde_json::from_str(&py(
        &["urlcheck", "--token", TOKEN, "--echo", "hello123"],
        None,
    ))
    .unwrap();
    let q: Vec<(String, String)> = check["query"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    let res = app
        .client
        .get(app.url("/bots/wechat/safe"))
        .query(&q)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "hello123");
    let res = app
        .client
        .get(app.url("/bots/wechat/safe?signature=00&timestamp=1&nonce=2&echostr=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    // Unknown account.
    let (q, body) = safe.push(&safe.text_xml("举报"), None);
    let res = app
        .client
        .post(app.url("/bots/wechat/nobody"))
        .query(&q)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = app
        .client
        .get(app.url("/bots/wecom/nobody"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    // Tampered msg_signature, and a valid signature over a different Encrypt.
    let tampered: Vec<(String, String)> = q
        .iter()
        .map(|(k, v)| {
            if k == "msg_signature" {
                (k.clone(), "f".repeat(40))
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect();
    let res = safe.post_raw(&app, &tampered, body.clone()).await;
    assert_eq!(res.status(), 401);
    let no_sig: Vec<(String, String)> = q
        .iter()
        .filter(|(k, _)| k != "msg_signature")
        .cloned()
        .collect();
    let res = safe.post_raw(&app, &no_sig, body.clone()).await;
    assert_eq!(res.status(), 401);
    // Plaintext push to a safe-mode account, signed correctly: refused.
    let (pq, pbody) = plain.push(&plain.text_xml("举报"), None);
    let res = safe.post_raw(&app, &pq, pbody).await;
    assert_eq!(res.status(), 400);

    // A valid ciphertext and signature, but for another app id.
    let (q2, body2) = safe.push(&safe.text_xml("举报"), Some("wxsomeoneelse00001"));
    let res = safe.post_raw(&app, &q2, body2).await;
    assert_eq!(res.status(), 400);

    // Truncated ciphertext, correctly signed (so it reaches the decryption).
    let enc = cdata_field(&body, "Encrypt").unwrap();
    for broken in [&enc[..enc.len() - 8], &enc[..40], "!!!notbase64", "AAAA"] {
        let ts = "1700000000";
        let nonce = "12345";
        let sig = py(
            &[
                "sign",
                "--token",
                TOKEN,
                "--timestamp",
                ts,
                "--nonce",
                nonce,
                "--encrypt",
                broken,
            ],
            None,
        );
        let q3 = vec![
            ("timestamp".to_string(), ts.to_string()),
            ("nonce".to_string(), nonce.to_string()),
            ("encrypt_type".to_string(), "aes".to_string()),
            ("msg_signature".to_string(), sig.trim().to_string()),
        ];
        let res = safe
            .post_raw(
                &app,
                &q3,
                format!("<xml><Encrypt><![CDATA[{broken}]]></Encrypt></xml>"),
            )
            .await;
        assert_eq!(res.status(), 400, "{broken}");
    }

    // Plaintext mode: entity tricks, malformed and enormous XML.
    for evil in [
        "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]>\
         <xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>\
         <MsgType>text</MsgType><Content>&b;</Content></xml>"
            .to_string(),
        "<!DOCTYPE xml SYSTEM \"file:///etc/passwd\"><xml/>".to_string(),
        "<xml><ToUserName>a</ToUserName>".to_string(),
        "<xml><Content>&xxe;</Content></xml>".to_string(),
        "not xml at all".to_string(),
    ] {
        let (q, body) = plain.push(&evil, None);
        let res = plain.post_raw(&app, &q, body).await;
        assert_eq!(res.status(), 400, "{evil}");
    }
    // A plaintext push is signed over timestamp and nonce only: the same signed URL again
    // (with any body) is a replay and refused, and so is a timestamp more than 300 s away
    // (signed correctly by wx_platform.py with that timestamp).
    let (q, body) = plain.push(&plain.text_xml("帮助"), None);
    assert_eq!(plain.post_raw(&app, &q, body.clone()).await.status(), 200);
    let res = plain.post_raw(&app, &q, plain.text_xml("举报")).await;
    assert_eq!(res.status(), 401, "a replayed plaintext URL was accepted");
    let stale = (chrono::Utc::now().timestamp() - 301).to_string();
    let out: Value = serde_json::from_str(&py(
        &[
            "push",
            "--token",
            TOKEN,
            "--appid",
            plain.receive_id(),
            "--xml-file",
            "-",
            "--plain",
            "--timestamp",
            &stale,
        ],
        Some(&plain.text_xml("帮助")),
    ))
    .unwrap();
    let stale_q: Vec<(String, String)> = out["query"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    let res = plain
        .post_raw(&app, &stale_q, out["body"].as_str().unwrap().to_string())
        .await;
    assert_eq!(res.status(), 401, "a push from 301 s ago was accepted");
    let huge = plain.text_xml(&"医".repeat(100_000));
    let (q, body) = plain.push(&huge, None);
    let res = plain.post_raw(&app, &q, body).await;
    assert_eq!(res.status(), 413);

    // Unknown message type: a polite help, in a valid reply.
    let video = plain.xml(
        "video",
        "<MediaId><![CDATA[v1]]></MediaId><ThumbMediaId><![CDATA[t1]]></ThumbMediaId>",
        Some(plain.msg_id()),
    );
    let reply = plain.send_xml(&app, &video).await;
    assert!(reply.contains("回复“举报”"), "{reply}");
    // A tip containing `]]>` does not break the reply XML: the reply parses and the
    // conversation goes on to the next question.
    let reply = plain.say(&app, "举报").await;
    assert!(reply.contains("请说说发生了什么事"), "{reply}");
    let reply = plain.say(&app, "hello ]]> <xml> & stuff").await;
    assert!(reply.contains("这属于哪类问题"), "{reply}");
    // An unknown menu key: help, never silence.
    let click = plain.xml(
        "event",
        "<Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[NOPE]]></EventKey>",
        None,
    );
    let help = plain.send_xml(&app, &click).await;
    assert!(help.contains("回复“"), "{help}");

    assert_eq!(
        app.counts().await,
        before,
        "a refused request stored something"
    );
    let logs = String::from_utf8_lossy(&captured_logs().lock().unwrap()).to_string();
    assert!(!logs.contains("oUser-bad-0003") && !logs.contains("oUser-bad-0004"));
    app.stop().await;
    fake.handle.stop(true).await;
}

async fn retry_storm_files_one_tip(app: TestApp) {
    let fake = FakePlatform::start().await;
    let backend = app.backend;
    app.stop().await;
    let Some(app) = bot_app(backend, &fake).await else {
        return;
    };
    let bot = Bot::new(Mode::Safe, "oUser-storm-0005");
    // An ordinary step delivered three times at once: one step, three equal answers.
    let start = bot.text_xml("举报");
    let (q, body) = bot.push(&start, None);
    let sends = (0..3).map(|_| {
        let (q, body, bot, app) = (q.clone(), body.clone(), bot.clone(), &app);
        async move {
            let res = bot.post_raw(app, &q, body).await;
            assert_eq!(res.status(), 200);
            bot.content_of(&res.text().await.unwrap())
        }
    });
    let replies = futures_util::future::join_all(sends).await;
    assert!(replies[0].contains("请说说发生了什么事"), "{replies:?}");
    assert!(replies.iter().all(|r| *r == replies[0]), "{replies:?}");
    assert_eq!(app.count("bot_conversations").await, 1);
    let mut script: Vec<&str> = ZH_SCRIPT.to_vec();
    script.retain(|l| !l.starts_with("[img:"));
    play(&bot, &app, &script[1..]).await;
    // The confirmation, delivered three times at once (same MsgId, as the platform retries).
    let xml = bot.text_xml("1");
    let (q, body) = bot.push(&xml, None);
    let sends = (0..3).map(|_| {
        let (q, body) = (q.clone(), body.clone());
        let bot = bot.clone();
        let app = &app;
        async move {
            let res = bot.post_raw(app, &q, body).await;
            assert_eq!(res.status(), 200);
            bot.content_of(&res.text().await.unwrap())
        }
    });
    let replies = futures_util::future::join_all(sends).await;
    let codes: Vec<String> = replies.iter().map(|r| tracking_code(r)).collect();
    assert!(codes.iter().all(|c| *c == codes[0]), "{replies:?}");
    assert_eq!(app.count("reports").await, 1);
    // A fourth, later delivery gets the same answer too.
    let (q, body) = bot.push(&xml, None);
    let res = bot.post_raw(&app, &q, body).await;
    assert_eq!(
        tracking_code(&bot.content_of(&res.text().await.unwrap())),
        codes[0]
    );
    // An event retried: one welcome, stored once.
    let sub = bot.xml("event", "<Event><![CDATA[subscribe]]></Event>", None);
    let a = bot.send_xml(&app, &sub).await;
    let b = bot.send_xml(&app, &sub).await;
    assert_eq!(a, b);
    assert_eq!(app.count("reports").await, 1);
    app.stop().await;
    fake.handle.stop(true).await;
}

async fn conversation_moves_between_instances_and_survives_restart(app: TestApp) {
    let fake = FakePlatform::start().await;
    let backend = app.backend;
    app.stop().await;
    let Some(first) = bot_app(backend, &fake).await else {
        return;
    };
    let second = first.another_instance(configure(&fake)).await;
    let bot = Bot::new(Mode::Safe, "oUser-move-0006");
    let mut script: Vec<&str> = ZH_SCRIPT.to_vec();
    script.retain(|l| !l.starts_with("[img:"));
    // Alternate between two instances on one database.
    let (head, tail) = script.split_at(6);
    for (i, line) in head.iter().enumerate() {
        let app = if i % 2 == 0 { &first } else { &second };
        // Each instance carries on the same conversation: never the "not understood" or
        // "expired" answers of an instance that does not know it.
        let reply = bot.say(app, line).await;
        assert!(
            !reply.is_empty() && !reply.contains("没有看懂") && !reply.contains("已经清除"),
            "{line}: {reply}"
        );
    }
    // Restart: the second instance goes away, a new one takes over.
    second.stop().await;
    let third = first.another_instance(configure(&fake)).await;
    let summary = play(&bot, &third, tail).await;
    assert!(summary.contains("某某镇卫生院"), "{summary}");
    let filed = bot.say(&third, "1").await;
    tracking_code(&filed);
    assert_eq!(first.count("reports").await, 1);
    third.stop().await;
    first.stop().await;
    fake.handle.stop(true).await;
}

async fn feedback_reaches_the_chat(app: TestApp) {
    let fake = FakePlatform::start().await;
    let backend = app.backend;
    app.stop().await;
    let Some(app) = bot_app(backend, &fake).await else {
        return;
    };
    let openid = "oUser-feedback-0007";
    let bot = Bot::new(Mode::Safe, openid);
    let mut script: Vec<&str> = ZH_SCRIPT.to_vec();
    script.retain(|l| !l.starts_with("[img:"));
    play(&bot, &app, &script).await;
    let code = tracking_code(&bot.say(&app, "1").await);
    let report_id: String = sqlx::query_scalar("SELECT id FROM reports WHERE tracking_code = $1")
        .bind(&code)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    accept_case(&app, &report_id).await;

    wait_for("the feedback message", || {
        let sent = fake.sent();
        async move { !sent.is_empty() }
    })
    .await;
    let sent = fake.sent();
    assert_eq!(sent[0]["touser"], openid);
    assert_eq!(sent[0]["msgtype"], "text");
    let text = sent[0]["text"]["content"].as_str().unwrap();
    assert!(text.contains(&code), "{text}");
    app.stop().await;
    fake.handle.stop(true).await;
}

/// A staff member accepts the case (which tells the reporter through the chat).
pub(crate) async fn accept_case(app: &TestApp, report_id: &str) {
    let mut tx = app.db.begin().await.unwrap();
    let user = jubao::staff::create(
        &mut tx,
        &jubao::staff::NewUser {
            username: "intake1".into(),
            display_name: "Intake One".into(),
            email: None,
            roles: jubao::staff::parse_roles("intake,supervisor").unwrap(),
            region: "000000".into(),
            locale: "zh-CN".into(),
            password: "a long enough password 123".into(),
        },
        &jubao::staff::hash_password("a long enough password 123").unwrap(),
    )
    .await
    .unwrap_or_else(|e| panic!("{}", e.code));
    tx.commit().await.unwrap();
    let p = jubao::staff::principal::Principal {
        id: user.id.clone(),
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        roles: user.roles.clone(),
        region: user.region.clone(),
        locale: user.locale.clone(),
        session: "test".into(),
        mfa: true,
    };
    let req: jubao::workflow::ops::TransitionRequest =
        serde_json::from_value(json!({"to": "accepted", "reason": "线索具体，予以受理"})).unwrap();
    jubao::workflow::ops::transition(&app.state.workflow, &p, report_id, req)
        .await
        .unwrap_or_else(|e| panic!("{} {:?}", e.code, e.field));
}

/// Issue 15 item 8: a bot reporter's openid links the tip to their WeChat account: case
/// staff never see it in the case, only through a custodian's reveal (`chat_id`).
async fn case_staff_see_no_openid_until_a_reveal(app: TestApp) {
    use crate::staffkit::{enrol_totp, get, post_ok, reveal_approved, staff};
    let fake = FakePlatform::start().await;
    let backend = app.backend;
    app.stop().await;
    let Some(app) = bot_app(backend, &fake).await else {
        return;
    };
    let openid = "oUser-linkable-9931";
    let bot = Bot::new(Mode::Safe, openid);
    let mut script: Vec<&str> = ZH_SCRIPT.to_vec();
    script.retain(|l| !l.starts_with("[img:"));
    play(&bot, &app, &script).await;
    let code = tracking_code(&bot.say(&app, "1").await);
    let case: String = sqlx::query_scalar("SELECT id FROM reports WHERE tracking_code = $1")
        .bind(&code)
        .fetch_one(&app.db.pool)
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
        assert!(
            !text.contains(openid) && !text.contains("linkable-9931"),
            "{}: {text}",
            s.username
        );
    }
    enrol_totp(&app, &mut h).await;
    let v = reveal_approved(&app, &h, &cust, &case, "需联系举报人补充材料").await;
    assert_eq!(v["chat_id"], openid);
    app.stop().await;
    fake.handle.stop(true).await;
}
