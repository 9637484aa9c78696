//! Test harness: the real application on a random port over a fresh database, SQLite or
//! PostgreSQL (`JUBAO_TEST_POSTGRES_URL`), talked to over real HTTP.

use std::io::Write;
use std::sync::{Arc, Mutex, Once, OnceLock};

use jubao::config::Config;
use jubao::startup::Application;
use jubao::store::{Clock, Db};
use jubao::vault::SecretKey;
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db: Db,
    pub dir: tempfile::TempDir,
    pub backend: Backend,
    pub db_url: String,
    pub state: actix_web::web::Data<jubao::web::AppState>,
    handle: actix_web::dev::ServerHandle,
    /// The configuration it runs with (another instance starts from it).
    pub config: Config,
    /// The master key, so another instance can open the same database.
    pub master: SecretKey,
    /// The instance's clock (the system clock unless started with [`spawn_app_at`]).
    pub clock: Clock,
    /// Whether [`TestApp::stop`] drops the PostgreSQL database (not for extra instances).
    owns_db: bool,
}

/// Everything every test's code logged, for the leak test to search.
pub fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| Arc::new(Mutex::new(Vec::new())))
        .clone()
}

#[derive(Clone)]
struct BufWriter(Arc<Mutex<Vec<u8>>>);

impl Write for BufWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn init_logs() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let buf = captured_logs();
        jubao::telemetry::init(
            true,
            "debug,sqlx=warn",
            move || BufWriter(buf.clone()),
            false,
        );
    });
}

pub fn postgres_admin_url() -> Option<String> {
    let url = std::env::var("JUBAO_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() && std::env::var("CI").is_ok_and(|v| v == "true") {
        // CI never passes without the PostgreSQL half (`.ci/run` starts the server).
        panic!(
            "JUBAO_TEST_POSTGRES_URL is not set under CI=true: the PostgreSQL half of the suite \
             would be skipped (install: apt-get install -y postgresql, then \
             JUBAO_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres)"
        );
    }
    if url.is_none() {
        static SAID: Once = Once::new();
        SAID.call_once(|| {
            // Written past the test harness's capture so it is seen in every run.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: PostgreSQL tests (JUBAO_TEST_POSTGRES_URL is not set)"
            );
        });
    }
    url
}

/// A new, empty PostgreSQL database; returns its URL.
pub async fn fresh_postgres_db(admin: &str) -> String {
    sqlx::any::install_default_drivers();
    let name = format!("jubao_t_{}", uuid::Uuid::new_v4().simple());
    let admin_db = Db::connect(admin, 2)
        .await
        .expect("connect to JUBAO_TEST_POSTGRES_URL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin_db.pool)
        .await
        .unwrap();
    admin_db.close().await;
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin, String::new()),
    };
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    format!("{base}/{name}{query}")
}

/// Drop a database made by [`fresh_postgres_db`].
pub async fn drop_postgres_db(url: &str) {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    let name = url
        .split('?')
        .next()
        .unwrap_or_default()
        .rsplit('/')
        .next()
        .unwrap_or_default();
    if !name.starts_with("jubao_t_") {
        return;
    }
    let admin_db = Db::connect(&admin, 2).await.unwrap();
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&admin_db.pool)
        .await;
    admin_db.close().await;
}

pub fn test_config(dir: &std::path::Path, db_url: &str) -> Config {
    let mut c = Config::from_toml_and_env("", &[]).unwrap();
    c.server.listen = "127.0.0.1:0".into();
    c.server.workers = 2;
    c.database.url = db_url.to_string();
    c.keys.master_key_file = dir.join("master.key").display().to_string();
    c.calendar.holidays_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/config/holidays").into();
    // The tests file many tips from one address (64 at once in reports.rs); the filing
    // limit itself is tested with a small one in limits.rs.
    c.intake.filings_per_client = 100_000;
    c
}

/// Start the app on `backend`; `None` (after one printed line) when PostgreSQL is not set up.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<TestApp> {
    spawn(backend, tweak, None, Clock::system()).await
}

/// Start the app with its clock reading `at` (RFC 3339, e.g. `2026-02-13T10:00:00+08:00`)
/// and running on from there; `app.clock.advance(..)` moves it. Deadlines, budget years
/// and claim windows can then be checked against dates worked out by hand.
pub async fn spawn_app_at(
    backend: Backend,
    at: &str,
    tweak: impl FnOnce(&mut Config),
) -> Option<TestApp> {
    let start = chrono::DateTime::parse_from_rfc3339(at)
        .expect("an RFC 3339 instant")
        .with_timezone(&chrono::Utc);
    spawn(backend, tweak, None, Clock::starting_at(start)).await
}

/// Start the app on a database with every migration but `held_back` (to test that
/// migration on data written before it: run `app.db.migrate()` to apply it). The later
/// migrations are applied so that today's code can write that data.
pub async fn spawn_app_without_migration(backend: Backend, held_back: i64) -> Option<TestApp> {
    spawn(backend, |_| {}, Some(held_back), Clock::system()).await
}

async fn spawn(
    backend: Backend,
    tweak: impl FnOnce(&mut Config),
    held_back: Option<i64>,
    clock: Clock,
) -> Option<TestApp> {
    init_logs();
    let dir = tempfile::tempdir().unwrap();
    let db_url = match backend {
        Backend::Sqlite => format!("sqlite://{}/jubao.db", dir.path().display()),
        Backend::Postgres => fresh_postgres_db(&postgres_admin_url()?).await,
    };
    let mut config = test_config(dir.path(), &db_url);
    tweak(&mut config);
    let db = Db::connect(&config.database.url, 8)
        .await
        .unwrap()
        .with_clock(clock.clone());
    match held_back {
        None => db.migrate().await.unwrap(),
        Some(held) => {
            let mut m = match backend {
                Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
                Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
            };
            m.migrations = m
                .migrations
                .iter()
                .filter(|x| x.version != held)
                .cloned()
                .collect::<Vec<_>>()
                .into();
            m.run(&db.pool).await.unwrap();
        }
    }
    let master = SecretKey::generate();
    // Also in the configured key file, for what opens the vault from the configuration
    // the way the commands do (`recalendar::reload`).
    {
        use base64::Engine;
        std::fs::write(
            &config.keys.master_key_file,
            base64::engine::general_purpose::STANDARD.encode(master.as_bytes()),
        )
        .unwrap();
    }
    let app = Application::build_with(config.clone(), db.clone(), master.clone())
        .await
        .unwrap();
    let port = app.port();
    let state = app.state();
    let handle = app.spawn();
    Some(TestApp {
        base: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::new(),
        db,
        dir,
        backend,
        db_url,
        state,
        handle,
        config,
        master,
        clock,
        owns_db: true,
    })
}

impl TestApp {
    /// Another instance on the same database and master key (a restart, or a second server
    /// behind the same load balancer).
    pub async fn another_instance(&self, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let mut config = self.config.clone();
        tweak(&mut config);
        let db = Db::connect(&config.database.url, 8)
            .await
            .unwrap()
            .with_clock(self.clock.clone());
        let app = Application::build_with(config.clone(), db.clone(), self.master.clone())
            .await
            .unwrap();
        let port = app.port();
        let state = app.state();
        let handle = app.spawn();
        TestApp {
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            db,
            dir,
            backend: self.backend,
            db_url: self.db_url.clone(),
            state,
            handle,
            config,
            master: self.master.clone(),
            clock: self.clock.clone(),
            owns_db: false,
        }
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_report(&self, body: &Value) -> reqwest::Response {
        self.post_json("/api/v1/reports", body).await
    }

    /// File a valid tip; returns the receipt.
    pub async fn file_tip(&self, body: &Value) -> Value {
        let res = self.post_report(body).await;
        assert_eq!(res.status(), 201, "{:?}", res.text().await);
        res.json().await.unwrap()
    }

    pub async fn lookup(&self, code: &str, passcode: &str) -> reqwest::Response {
        self.post_json(
            "/api/v1/reports/lookup",
            &json!({"tracking_code": code, "passcode": passcode}),
        )
        .await
    }

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }

    /// Row counts of every intake table, to prove a refused request stored nothing.
    pub async fn counts(&self) -> Vec<i64> {
        let mut v = vec![];
        for t in [
            "reports",
            "report_categories",
            "reporter_identity",
            "identity_index",
            "report_events",
            "report_messages",
            "evidence",
            "evidence_blobs",
            "idempotency",
        ] {
            v.push(self.count(t).await);
        }
        v
    }

    pub async fn stop(self) {
        self.handle.stop(true).await;
        self.db.close().await;
        if self.backend == Backend::Postgres && self.owns_db {
            drop_postgres_db(&self.db_url).await;
        }
    }
}

/// A valid anonymous report body.
pub fn anonymous_report() -> Value {
    json!({
        "target": { "name": "某某市第一人民医院", "kind": "hospital", "region_code": "371502",
                    "address": "某某路 1 号" },
        "categories": ["fake_patient", "fake_documents"],
        "description": "医院组织村里老人挂名住院，实际没有治疗，用医保卡结算。",
        "occurred_from": "2026-03-01",
        "occurred_to": "2026-04-30",
        "amount_estimate_fen": 1234500,
        "reporter": { "anonymous": true },
    })
}

/// A small JPEG (64×48), made here.
pub fn jpeg_bytes() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 3, y as u8 * 5, 128]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}

/// A valid named report body with the given identity.
pub fn named_report(name: &str, id_number: &str, phone: &str) -> Value {
    let mut r = anonymous_report();
    r["reporter"] = json!({
        "anonymous": false, "name": name, "id_number": id_number, "phone": phone,
        "email": "reporter@example.com", "relation": "insider",
    });
    r
}

/// Compute a valid resident ID number from a 17-digit body.
pub fn resident_id(body17: &str) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body17
        .bytes()
        .zip(W)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    format!("{body17}{}", b"10X98765432"[(sum % 11) as usize] as char)
}

/// Generate both a SQLite and a PostgreSQL test from one `async fn(TestApp)`.
#[macro_export]
macro_rules! both_databases {
    // Tests that build their own app (e.g. with config that names a loopback receiver)
    // take the backend instead of a running app.
    (backend: $($name:ident),+ $(,)?) => {
        $(
            mod $name {
                use super::*;
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(Backend::Sqlite).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if postgres_admin_url().is_none() { return }
                    super::$name(Backend::Postgres).await;
                }
            }
        )+
    };
    // Tests whose app's clock starts at a literal instant (see `spawn_app_at`).
    (at $when:literal: $($name:ident),+ $(,)?) => {
        $(
            mod $name {
                use super::*;
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = spawn_app_at(Backend::Sqlite, $when, |_| {}).await.unwrap();
                    super::$name(app).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some(app) = spawn_app_at(Backend::Postgres, $when, |_| {}).await else {
                        return;
                    };
                    super::$name(app).await;
                }
            }
        )+
    };
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                use super::*;
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = spawn_app(Backend::Sqlite).await.unwrap();
                    super::$name(app).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some(app) = spawn_app(Backend::Postgres).await else { return };
                    super::$name(app).await;
                }
            }
        )+
    };
}

/// Everything the app's database holds, as bytes to search for secrets: on SQLite the
/// database files themselves (main file and write-ahead log); on PostgreSQL a `pg_dump`, plus
/// every `bytea` value in it decoded from the dump's hex, so that plaintext in a binary
/// column is searched as the bytes it is, not as hex digits.
pub fn database_bytes(app: &TestApp) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![];
    match app.backend {
        Backend::Sqlite => {
            for entry in std::fs::read_dir(app.dir.path()).unwrap() {
                let p = entry.unwrap().path();
                if p.is_file() {
                    out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
                }
            }
            assert!(out
                .iter()
                .any(|(p, _)| p.ends_with("jubao.db-wal") || p.ends_with("jubao.db")));
        }
        Backend::Postgres => {
            let out_ = std::process::Command::new("pg_dump")
                .arg("--no-owner")
                .arg(&app.db_url)
                .output()
                .expect("run pg_dump");
            assert!(
                out_.status.success(),
                "{}",
                String::from_utf8_lossy(&out_.stderr)
            );
            assert!(out_.stdout.len() > 1000);
            let decoded = decode_bytea_hex(&out_.stdout);
            out.push(("pg_dump".into(), out_.stdout));
            out.push(("pg_dump bytea, decoded".into(), decoded));
        }
    }
    out
}

/// The bytes of every `\\x…` hex literal in a `pg_dump` (how COPY writes `bytea`), joined
/// with a zero byte between values.
pub fn decode_bytea_hex(dump: &[u8]) -> Vec<u8> {
    let mut out = vec![];
    let mut i = 0;
    while i + 3 < dump.len() {
        // COPY text escapes the backslash: a bytea value reads `\\x4142…`.
        if dump[i] == b'\\' && dump[i + 1] == b'\\' && dump[i + 2] == b'x' {
            let mut j = i + 3;
            while j + 1 < dump.len()
                && dump[j].is_ascii_hexdigit()
                && dump[j + 1].is_ascii_hexdigit()
            {
                out.push(
                    u8::from_str_radix(std::str::from_utf8(&dump[j..j + 2]).unwrap(), 16).unwrap(),
                );
                j += 2;
            }
            out.push(0);
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

#[test]
fn bytea_hex_in_a_dump_is_decoded() {
    let dump = b"1\t\\\\x41424344\tx\n2\t\\\\xe5bca0\n";
    let got = decode_bytea_hex(dump);
    assert_eq!(got, b"ABCD\0\xe5\xbc\xa0\0".to_vec());
}
