//! Benchmarks of a bot push (see docs/BENCHMARKS.md, "Bots").
//!
//! * `cpu`: verify `msg_signature`, decrypt, parse, one engine step, render, build and
//!   encrypt the reply — no database.
//! * `sqlite`: the same with the real `Bots::handle` on a fresh SQLite database (push
//!   de-duplication row, conversation loaded, stepped and saved sealed, reply sealed and
//!   saved), alternating `举报` / `取消` so every push persists a conversation change.
//! * `guided report`: the whole anonymous guided report (12 messages, tip filed at the end)
//!   on SQLite, server time only.
//! * After criterion, an open loop offers pushes at a fixed rate (`BOTS_RATE`, default 1000/s,
//!   for `BOTS_SECONDS`, default 5) through `Bots::handle` on SQLite and prints throughput
//!   and latency percentiles (latency from the scheduled send time).

use std::sync::Arc;
use std::time::Duration;

use criterion::{black_box, Criterion};
use jubao::channels::wechat::{Bots, Platform};
use jubao::config::Config;
use jubao::deadlines::calendar::Calendar;
use jubao::intake::Intake;
use jubao::store::Db;
use jubao::vault::{SecretKey, Vault};
use jubao::wechat::crypto::{signature, verify_signature, MsgCrypt};
use jubao::wechat::xml::{encrypted_envelope, parse_envelope, reply_text, Inbound};

const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
const TOKEN: &str = "bench-token";
const APPID: &str = "wx5823bf96d3bd56c7";

struct Host(Intake);

impl AsRef<Intake> for Host {
    fn as_ref(&self) -> &Intake {
        &self.0
    }
}

struct Setup {
    bots: Arc<Bots>,
    host: Arc<Host>,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::from_toml_and_env("", &[]).unwrap();
    config.wechat = vec![toml::from_str(&format!(
        "account = \"bench\"\nappid = \"{APPID}\"\ntoken = \"{TOKEN}\"\nencoding_aes_key = \"{KEY}\""
    ))
    .unwrap()];
    let db = Db::connect(&format!("sqlite://{}/b.db", dir.path().display()), 8)
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let vault = Arc::new(
        Vault::open(db.clone(), SecretKey::generate())
            .await
            .unwrap(),
    );
    let intake = Intake::new(
        db.clone(),
        vault.clone(),
        jubao::deadlines::Calendars::new(Calendar::built_in()),
        Arc::new(jubao::deadlines::rules::RuleSet::load(&config).unwrap()),
    );
    let bots = Arc::new(Bots::new(&config, db, vault).unwrap());
    Setup {
        bots,
        host: Arc::new(Host(intake)),
        _dir: dir,
    }
}

fn push_xml(user: &str, n: u64, text: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>\
         <CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>\
         <Content><![CDATA[{text}]]></Content><MsgId>{n}</MsgId></xml>"
    )
}

/// An encrypted push as the platform sends it: (msg_signature, timestamp, nonce, body).
fn encrypted_push(crypt: &MsgCrypt, xml: &str) -> (String, String, String, String) {
    let enc = crypt.encrypt(xml);
    let (ts, nonce) = ("1700000000".to_string(), "123456789".to_string());
    let sig = signature(TOKEN, &ts, &nonce, Some(&enc));
    let body = format!("<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><Encrypt><![CDATA[{enc}]]></Encrypt></xml>");
    (sig, ts, nonce, body)
}

/// The server's work for one push, as in `src/web/bots.rs`.
async fn serve(s: &Setup, crypt: &MsgCrypt, push: &(String, String, String, String)) -> String {
    let (sig, ts, nonce, body) = push;
    let env = parse_envelope(body.as_bytes(), 65536).unwrap();
    assert!(verify_signature(sig, TOKEN, ts, nonce, Some(&env.encrypt)));
    let xml = crypt.decrypt(&env.encrypt).unwrap();
    let m = Inbound::parse(xml.as_bytes(), 65536).unwrap();
    let (to, from) = (m.from_user.clone(), m.to_user.clone());
    let a = s.bots.account(Platform::Wechat, "bench").unwrap();
    let reply = s
        .bots
        .handle(s.host.clone(), a, m)
        .await
        .unwrap_or_default();
    let out = reply_text(&to, &from, 1700000001, &reply);
    let enc = crypt.encrypt(&out);
    let sig = signature(TOKEN, "1700000001", "42", Some(&enc));
    encrypted_envelope(&enc, &sig, "1700000001", "42")
}

const GUIDED: &[&str] = &[
    "举报",
    "镇卫生院组织老人免费体检后办理住院，人没住院，医保照样结算。",
    "1 6",
    "某某镇卫生院",
    "2",
    "371502",
    "2025年3月",
    "1.2万",
    "完成",
    "1",
    "跳过",
    "1",
];

fn benches(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
    let crypt = MsgCrypt::new(KEY, APPID).unwrap();
    let engine = dialog::Engine::built_in(jubao::channels::wechat::checks::DomainChecks::default());
    let push = encrypted_push(&crypt, &push_xml("oBenchUser", 1, "举报"));
    c.bench_function("bots/cpu: verify+decrypt+parse+step+render+encrypt", |b| {
        b.iter(|| {
            let (sig, ts, nonce, body) = &push;
            let env = parse_envelope(black_box(body.as_bytes()), 65536).unwrap();
            assert!(verify_signature(sig, TOKEN, ts, nonce, Some(&env.encrypt)));
            let xml = crypt.decrypt(&env.encrypt).unwrap();
            let m = Inbound::parse(xml.as_bytes(), 65536).unwrap();
            let out = engine.step(
                None,
                dialog::Input::Text(m.content.clone().unwrap_or_default()),
                1_700_000_000,
            );
            let text = jubao::channels::wechat::render(&out.replies, out.locale.into());
            let reply = reply_text(&m.from_user, &m.to_user, 1700000001, &text);
            let enc = crypt.encrypt(&reply);
            let sig = signature(TOKEN, "1700000001", "42", Some(&enc));
            encrypted_envelope(&enc, &sig, "1700000001", "42")
        })
    });

    let s = rt.block_on(setup());
    let mut n = 10u64;
    c.bench_function("bots/sqlite: one push, conversation step persisted", |b| {
        b.iter(|| {
            n += 1;
            let text = if n % 2 == 0 { "举报" } else { "取消" };
            let push = encrypted_push(&crypt, &push_xml("oBenchUser", n, text));
            rt.block_on(serve(&s, &crypt, &push))
        })
    });
    let mut user = 0u64;
    let mut g = c.benchmark_group("bots/sqlite");
    g.sample_size(20);
    g.bench_function("guided report, 11 messages, tip filed", |b| {
        b.iter(|| {
            user += 1;
            let who = format!("oGuided{user}");
            let mut last = String::new();
            for (i, line) in GUIDED.iter().enumerate() {
                let push = encrypted_push(&crypt, &push_xml(&who, user * 100 + i as u64, line));
                last = rt.block_on(serve(&s, &crypt, &push));
            }
            last
        })
    });
    g.finish();
}

fn open_loop(rt: &tokio::runtime::Runtime) {
    let rate: u64 = std::env::var("BOTS_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let secs: u64 = std::env::var("BOTS_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let s = Arc::new(rt.block_on(setup()));
    let crypt = Arc::new(MsgCrypt::new(KEY, APPID).unwrap());
    let total = rate * secs;
    // Pushes are built before the clock starts (the platform's work, not ours).
    let pushes: Vec<_> = (0..total)
        .map(|i| {
            let text = if (i / 200) % 2 == 0 {
                "举报"
            } else {
                "取消"
            };
            encrypted_push(
                &crypt,
                &push_xml(&format!("oLoad{}", i % 200), 1_000_000 + i, text),
            )
        })
        .collect();
    let lat = rt.block_on(async {
        let start = tokio::time::Instant::now();
        let mut tasks = Vec::with_capacity(total as usize);
        for (i, push) in pushes.into_iter().enumerate() {
            let due = start + Duration::from_secs_f64(i as f64 / rate as f64);
            tokio::time::sleep_until(due).await;
            let (s, crypt) = (s.clone(), crypt.clone());
            tasks.push(tokio::spawn(async move {
                serve(&s, &crypt, &push).await;
                due.elapsed()
            }));
        }
        let mut lat = Vec::with_capacity(tasks.len());
        for t in tasks {
            lat.push(t.await.unwrap());
        }
        (lat, start.elapsed())
    });
    let (mut lat, elapsed) = lat;
    lat.sort();
    let p = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)].as_secs_f64() * 1e3;
    println!(
        "bots/open loop on SQLite: {} pushes offered at {rate}/s in {:.2} s → {:.0}/s; \
         p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        lat.len(),
        elapsed.as_secs_f64(),
        lat.len() as f64 / elapsed.as_secs_f64(),
        p(0.5),
        p(0.9),
        p(0.99),
        p(1.0),
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c, &rt);
    c.final_summary();
    if std::env::var("BOTS_OPEN_LOOP").is_ok_and(|v| v != "0") {
        open_loop(&rt);
    }
}
