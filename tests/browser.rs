//! The citizen H5 page, end to end in a real browser: starts the real `jubao serve` on a free
//! port with a fresh SQLite database and master key, then runs `tests/browser/h5.mjs`
//! (playwright-core driving headless Chromium at phone size).
//!
//! Needs node on PATH, Chromium at `$CHROMIUM` or as `chromium` on PATH, and
//! `node_modules/playwright-core` (`npm ci`). When one is missing the test prints one
//! `SKIPPED` line and passes, except under `CI=true`, where it fails (tests/support/tools.rs).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/tools.rs"]
mod tools;

/// Kills the server when the test ends, however it ends.
struct ServerGuard(Child);

impl Drop for ServerGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Chromium, once [`browser_ready`] has found it.
fn chromium_path() -> PathBuf {
    tools::CHROMIUM
        .path()
        .expect("browser_ready found chromium")
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// Status code of `GET path`, by hand over a TcpStream (no HTTP client needed).
fn http_status(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: */*\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 64];
    let n = s.read(&mut head).ok()?;
    let line = std::str::from_utf8(&head[..n]).ok()?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The two browser tests each start a server and a Chromium; on a 2-core machine they run
/// one at a time so that neither times out waiting for the other.
static ONE_BROWSER_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn h5_end_to_end() {
    let _serial = ONE_BROWSER_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if !browser_ready("browser::h5_end_to_end") {
        return;
    }

    let tmp = tempfile::tempdir().expect("temp dir");
    let config = tmp.path().join("jubao.toml");
    std::fs::write(&config, "").expect("write empty config");
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let log_path = tmp.path().join("server.log");
    let log = std::fs::File::create(&log_path).expect("server log");

    let child = Command::new(env!("CARGO_BIN_EXE_jubao"))
        .arg("serve")
        .current_dir(&root)
        .env("JUBAO_CONFIG", &config)
        .env(
            "JUBAO_DATABASE_URL",
            format!("sqlite://{}/jubao.db", tmp.path().display()),
        )
        .env("JUBAO_KEYS_MASTER_KEY_FILE", tmp.path().join("master.key"))
        .env("JUBAO_SERVER_LISTEN", addr.to_string())
        // Every acceptance date then runs into a year with no holiday notice (provisional).
        .env("JUBAO_INTAKE_ACCEPT_WORKING_DAYS", "400")
        .env_remove("JUBAO_MASTER_KEY")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("clone log"))
        .stderr(log)
        .spawn()
        .expect("start jubao serve");
    let mut server = ServerGuard(child);

    let server_log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if http_status(addr, "/readyz") == Some(200) {
            break;
        }
        if let Ok(Some(status)) = server.0.try_wait() {
            panic!(
                "jubao serve exited early ({status}); its output:\n{}",
                server_log()
            );
        }
        if Instant::now() > deadline {
            panic!(
                "jubao serve not ready within 60 s; its output:\n{}",
                server_log()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }

    let out = Command::new("node")
        .arg(root.join("tests/browser/h5.mjs"))
        .current_dir(&root)
        .env("JUBAO_BASE_URL", format!("http://{addr}"))
        .env("CHROMIUM", chromium_path())
        .stdin(Stdio::null())
        .output()
        .expect("run node tests/browser/h5.mjs");
    println!("{}", String::from_utf8_lossy(&out.stdout));
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        drop(server);
        panic!(
            "h5 browser test failed ({}); screenshots in tests/browser/artifacts/; server output:\n{}",
            out.status,
            server_log()
        );
    }
}

/// Staff accounts for the console test: (username, roles, region).
const CONSOLE_STAFF: [(&str, &str, &str); 7] = [
    ("intake1", "intake", "371502"),
    ("handler1", "handler", "371502"),
    ("supervisor1", "supervisor", "371500"),
    ("custodian1", "custodian", "371500"),
    ("auditor1", "auditor", "371500"),
    ("handler2", "handler", "371600"),
    ("finance1", "finance", "371500"),
];
const CONSOLE_PASSWORD: &str = "Console-Test-Pass-2026";

/// `jubao ARGS` with the configuration, database and master key in `tmp`.
fn jubao(root: &Path, tmp: &Path, addr: SocketAddr, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_jubao"));
    c.args(args)
        .current_dir(root)
        .env("JUBAO_CONFIG", tmp.join("jubao.toml"))
        .env(
            "JUBAO_DATABASE_URL",
            format!("sqlite://{}/jubao.db", tmp.display()),
        )
        .env("JUBAO_KEYS_MASTER_KEY_FILE", tmp.join("master.key"))
        .env("JUBAO_SERVER_LISTEN", addr.to_string())
        .env_remove("JUBAO_MASTER_KEY");
    c
}

/// A `jubao serve` on a free port with a fresh SQLite database and master key in `tmp`,
/// its standard output and error in `tmp/server.log`.
struct Server {
    guard: ServerGuard,
    addr: SocketAddr,
    root: PathBuf,
    tmp: PathBuf,
}

impl Server {
    fn start(root: &Path, tmp: &Path) -> Server {
        let config = tmp.join("jubao.toml");
        std::fs::write(&config, "").expect("write empty config");
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let log = std::fs::File::create(tmp.join("server.log")).expect("server log");
        let child = jubao(root, tmp, addr, &["serve"])
            // Every acceptance date then runs into a year with no holiday notice (暂定).
            .env("JUBAO_INTAKE_ACCEPT_WORKING_DAYS", "400")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log"))
            .stderr(log)
            .spawn()
            .expect("start jubao serve");
        let mut server = Server {
            guard: ServerGuard(child),
            addr,
            root: root.to_path_buf(),
            tmp: tmp.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while http_status(addr, "/readyz") != Some(200) {
            if let Ok(Some(status)) = server.guard.0.try_wait() {
                panic!("jubao serve exited early ({status}):\n{}", server.log());
            }
            assert!(
                Instant::now() < deadline,
                "jubao serve not ready within 60 s:\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// `jubao ARGS` against this server's configuration, database and key.
    fn command(&self, args: &[&str]) -> Command {
        jubao(&self.root, &self.tmp, self.addr, args)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.tmp.join("server.log")).unwrap_or_default()
    }

    /// `jubao user add` for each (username, roles, region), with [`CONSOLE_PASSWORD`].
    fn add_staff(&self, staff: &[(&str, &str, &str)]) {
        for (username, roles, region) in staff {
            let out = self
                .command(&["user", "add", username, "--role", roles, "--region", region])
                .env("JUBAO_PASSWORD", CONSOLE_PASSWORD)
                .stdin(Stdio::null())
                .output()
                .expect("run jubao user add");
            assert!(
                out.status.success(),
                "jubao user add {username}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Run `node tests/browser/{script}` with `envs`; on failure, panic with its output and the
/// server's.
fn run_node(server: &Server, script: &str, envs: &[(&str, &str)], artifacts: &str) {
    let mut node = Command::new("node");
    node.arg(server.root.join("tests/browser").join(script))
        .current_dir(&server.root)
        .env("JUBAO_BASE_URL", server.base())
        .env("CHROMIUM", chromium_path())
        .stdin(Stdio::null());
    for (k, v) in envs {
        node.env(k, v);
    }
    let out = node.output().expect("run node");
    println!("{}", String::from_utf8_lossy(&out.stdout));
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        let log = server.log();
        panic!(
            "{script} failed ({}); screenshots in tests/browser/artifacts/{artifacts}/; server output:\n{log}",
            out.status
        );
    }
}

/// Whether node, Chromium and playwright-core are there (tests/support/tools.rs: otherwise
/// one SKIPPED line, or a failure under CI=true).
fn browser_ready(test: &str) -> bool {
    tools::need(test, &[tools::NODE, tools::CHROMIUM, tools::PLAYWRIGHT])
}

/// One browser test's server: the turn at the browser (one at a time), a fresh folder and
/// `jubao serve` in it. `None` (the test passes with a SKIPPED line, or fails under
/// `CI=true`) when node, Chromium, playwright-core or one of `extra` is missing.
struct Browsing {
    server: Server,
    _tmp: tempfile::TempDir,
    _serial: std::sync::MutexGuard<'static, ()>,
}

fn browsing(test: &str, extra: &[tools::Tool]) -> Option<Browsing> {
    let serial = ONE_BROWSER_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if !browser_ready(test) || (!extra.is_empty() && !tools::need(test, extra)) {
        return None;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().expect("temp dir");
    let server = Server::start(&root, tmp.path());
    Some(Browsing {
        server,
        _tmp: tmp,
        _serial: serial,
    })
}

/// Related tips, independent reporters and triage in the console (issue 18):
/// `tests/browser/related.mjs` against a server whose job worker links and triages tips.
#[test]
fn console_related_tips() {
    let Some(b) = browsing("browser::console_related_tips", &[]) else {
        return;
    };
    let server = &b.server;
    server.add_staff(&[
        ("intake1", "intake", "371502"),
        ("supervisor1", "supervisor", "371500"),
    ]);
    run_node(
        server,
        "related.mjs",
        &[("JUBAO_STAFF_PASSWORD", CONSOLE_PASSWORD)],
        "related",
    );
}

/// The staff console, end to end: the real server, staff created with `jubao user add`,
/// then `tests/browser/console.mjs` walks a tip from intake to closed and its reward from
/// proposal to payment in Chromium.
#[test]
fn console_end_to_end() {
    let Some(b) = browsing("browser::console_end_to_end", &[]) else {
        return;
    };
    let server = &b.server;
    server.add_staff(&CONSOLE_STAFF);
    run_node(
        server,
        "console.mjs",
        &[("JUBAO_STAFF_PASSWORD", CONSOLE_PASSWORD)],
        "console",
    );
}

/// The first-time setup page on a fresh server: the setup code is read from the server's
/// output (which must also name the console page), then `tests/browser/setup.mjs` tries a
/// wrong code, creates the first admin with the right one and enrols TOTP.
#[test]
fn console_setup_page() {
    let Some(b) = browsing("browser::console_setup_page", &[]) else {
        return;
    };
    let server = &b.server;
    let log = server.log();
    let code = log
        .lines()
        .find_map(|l| l.trim().strip_prefix("First-admin setup code: "))
        .unwrap_or_else(|| panic!("no setup code in the server's output:\n{log}"))
        .trim()
        .to_string();
    assert_eq!(code.len(), 19, "XXXX-XXXX-XXXX-XXXX: {code}");
    let page = format!("{}/console/#/setup", server.base());
    assert!(
        log.contains(&page),
        "the setup-code message names the console page {page}:\n{log}"
    );
    assert!(log.contains("POST /api/v1/auth/setup"), "{log}");
    run_node(server, "setup.mjs", &[("JUBAO_SETUP_CODE", &code)], "setup");
}

/// How the reporter is told (issue 17), in Chromium: `tests/browser/notices.mjs` files a tip
/// on the H5 page choosing SMS (this server has no `[sms]`) and one for the status page only,
/// accepts both in the console and reads each case's notices; then the waiting notice is
/// dated back by weeks (Python's sqlite3 on the server's database, as if time had passed) and
/// the second phase finds it on the console's list of notices waiting past the deadline.
#[test]
fn notices_end_to_end() {
    let _serial = ONE_BROWSER_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if !browser_ready("browser::notices_end_to_end")
        || !tools::need("browser::notices_end_to_end", &[tools::PYTHON3])
    {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let server = Server::start(&root, tmp.path());
    let out = server
        .command(&[
            "user", "add", "intake9", "--role", "intake", "--region", "370000",
        ])
        .env("JUBAO_PASSWORD", CONSOLE_PASSWORD)
        .stdin(Stdio::null())
        .output()
        .expect("run jubao user add");
    assert!(
        out.status.success(),
        "jubao user add: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let state = tmp.path().join("notices.json");
    let state = state.to_str().expect("utf-8 temp path");
    let envs = |phase| {
        [
            ("JUBAO_STAFF_PASSWORD", CONSOLE_PASSWORD),
            ("JUBAO_NOTICES_STATE", state),
            ("JUBAO_NOTICES_PHASE", phase),
        ]
    };
    run_node(&server, "notices.mjs", &envs("report"), "notices");
    // Weeks pass: the waiting notice was recorded long before the feedback deadline.
    const AGE: &str = "import sqlite3, sys\n\
        c = sqlite3.connect(sys.argv[1])\n\
        n = c.execute(\"UPDATE notice_deliveries SET created_at = '2026-01-05T01:00:00.000000Z' \
        WHERE state = 'waiting'\").rowcount\n\
        c.commit()\n\
        print(n)";
    let db = tmp.path().join("jubao.db");
    let aged = Command::new("python3")
        .args(["-c", AGE, db.to_str().expect("utf-8 temp path")])
        .output()
        .expect("run python3");
    assert!(
        aged.status.success(),
        "{}",
        String::from_utf8_lossy(&aged.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&aged.stdout).trim(),
        "1",
        "one waiting notice"
    );
    run_node(&server, "notices.mjs", &envs("overdue"), "notices");
}

/// The public page (typical cases and figures) at 360 px: `tests/browser/public.mjs` files
/// tips, publishes a typical case through the API with the staff made here, and checks the
/// page a citizen reaches from `/h5/`.
#[test]
fn public_page_at_phone_width() {
    let Some(b) = browsing("browser::public_page_at_phone_width", &[]) else {
        return;
    };
    let server = &b.server;
    server.add_staff(&[
        ("intake1", "intake", "371502"),
        ("handler1", "handler", "371502"),
        ("legal1", "legal", "371500"),
        ("supervisor1", "supervisor", "371500"),
    ]);
    run_node(
        server,
        "public.mjs",
        &[("JUBAO_STAFF_PASSWORD", CONSOLE_PASSWORD)],
        "public",
    );
}
