//! Tests of the `jubao` binary as an operator runs it: start-up, configuration errors,
//! `kill -9` right after acknowledgements, and the CLI.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

#[path = "support/cli.rs"]
mod cli;
use cli::{command, file_named, run, start, tip, BIN};

async fn kill_nine_after_acknowledgements(db_url: String) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let mut server = start(dir.path(), &db_url, &log).await;
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(String, String)>::new()));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = vec![];
    for t in 0..32 {
        let (base, acked, stop) = (server.base.clone(), acked.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                i += 1;
                let Ok(r) = client
                    .post(format!("{base}/api/v1/reports"))
                    .json(&tip(t * 10000 + i))
                    .send()
                    .await
                else {
                    break;
                };
                if r.status() != 201 {
                    break;
                }
                let Ok(v) = r.json::<Value>().await else {
                    break;
                };
                acked.lock().unwrap().push((
                    v["tracking_code"].as_str().unwrap().to_string(),
                    v["passcode"].as_str().unwrap().to_string(),
                ));
            }
        }));
    }
    // Let acknowledgements flow, then SIGKILL mid-stream.
    let deadline = Instant::now() + Duration::from_secs(20);
    while acked.lock().unwrap().len() < 300 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 100, "only {} tips acknowledged", acked.len());

    let server = start(dir.path(), &db_url, &log).await;
    let client = reqwest::Client::new();
    for (code, pass) in &acked {
        let r = client
            .post(format!("{}/api/v1/reports/lookup", server.base))
            .json(&json!({"tracking_code": code, "passcode": pass}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            200,
            "acknowledged tip {code} lost after kill -9"
        );
    }
    // The binary's own log never holds a passcode.
    let logs = std::fs::read_to_string(&log).unwrap();
    assert!(logs.contains("tip received"));
    for (_, pass) in acked.iter().take(50) {
        assert!(!logs.contains(pass.as_str()));
    }
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_tips_survive_kill_9_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/jubao.db", dir.path().display());
    kill_nine_after_acknowledgements(url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_tips_survive_kill_9_postgres() {
    let Ok(admin) = std::env::var("JUBAO_TEST_POSTGRES_URL") else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: PostgreSQL crash test (JUBAO_TEST_POSTGRES_URL is not set)"
        );
        return;
    };
    sqlx::any::install_default_drivers();
    let name = format!("jubao_t_{}", uuid::Uuid::new_v4().simple());
    let pool = sqlx::AnyPool::connect(&admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .unwrap();
    let base = admin
        .split('?')
        .next()
        .unwrap()
        .rsplit_once('/')
        .unwrap()
        .0
        .to_string();
    kill_nine_after_acknowledgements(format!("{base}/{name}")).await;
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&pool)
        .await;
}

#[test]
fn unknown_configuration_keys_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/j.db", dir.path().display());
    let mut c = command(dir.path(), &url);
    std::fs::write(
        dir.path().join("bad.toml"),
        "[server]\nlisten = \"127.0.0.1:0\"\nlistne = 1\n",
    )
    .unwrap();
    c.env("JUBAO_CONFIG", dir.path().join("bad.toml"))
        .arg("migrate");
    let (code, _, err) = run(c);
    assert_ne!(code, 0);
    assert!(err.contains("listne"), "{err}");

    let mut c = command(dir.path(), &url);
    c.env("JUBAO_SERVER_LISTNE", "x").arg("migrate");
    let (code, _, err) = run(c);
    assert_ne!(code, 0);
    assert!(err.contains("JUBAO_SERVER_LISTNE"), "{err}");
}

#[test]
fn help_lists_the_commands() {
    let (code, out, _) = run({
        let mut c = Command::new(BIN);
        c.arg("--help");
        c
    });
    assert_eq!(code, 0);
    for cmd in ["serve", "migrate", "keys", "user", "audit"] {
        assert!(out.contains(cmd), "{out}");
    }
    let (code, out, _) = run({
        let mut c = Command::new(BIN);
        c.args(["keys", "rotate", "--help"]);
        c
    });
    assert_eq!(code, 0);
    assert!(out.contains("re-encrypt"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_while_serving() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/jubao.db", dir.path().display());
    let log = dir.path().join("server.log");
    let server = start(dir.path(), &url, &log).await;
    let client = reqwest::Client::new();
    // Identities are sealed under their case keys, which the shred chain wraps, not a data
    // key (docs/retention.md); the receipts saved for an Idempotency-Key are under the data
    // key: those 20 are what the rotation re-encrypts.
    let mut receipts = vec![];
    for i in 0..20 {
        let mut t = tip(i);
        t["reporter"] = json!({"anonymous": false, "name": "周八", "phone": "13600001111"});
        let r = client
            .post(format!("{}/api/v1/reports", server.base))
            .header("Idempotency-Key", format!("rotate-{i}"))
            .json(&t)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        receipts.push(r.json::<Value>().await.unwrap());
    }
    // Rotate from a second process while the server runs (short settle time for the test).
    let mut c = command(dir.path(), &url);
    c.args(["keys", "rotate", "--settle-secs", "3"]);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("rotated to data key 2: 20 rows re-encrypted"),
        "{out}"
    );
    // The server, which cached key 1, now seals new tips with key 2 and opens old ones.
    file_named(&client, &server.base, 99).await;
    for r in &receipts {
        assert_eq!(cli::look_up(&client, &server.base, r).await, 200);
    }
    // The rotation finished: its old key is destroyed, once.
    let retire = || {
        let mut c = command(dir.path(), &url);
        c.args(["keys", "rotate", "--retire"]);
        run(c)
    };
    let (code, out, err) = retire();
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        out.trim(),
        "destroyed retired data key(s) 1; everything is sealed under data key 2"
    );
    let (code, out, err) = retire();
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        out.trim(),
        "no retired data key to destroy (active data key 2)"
    );
    drop(server);
    let db = jubao::store::Db::connect(&url, 2).await.unwrap();
    let keys: Vec<i64> = sqlx::query_scalar("SELECT DISTINCT key_id FROM idempotency")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(keys, vec![2]);
    let keys: Vec<i64> = sqlx::query_scalar("SELECT DISTINCT key_id FROM reporter_identity")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(keys, vec![0], "under their case keys");
    let keys: Vec<(i64, String)> = sqlx::query_as("SELECT id, state FROM vault_keys")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(keys, vec![(2, "active".to_string())]);
    let mut f = std::fs::File::open(dir.path().join("master.key")).unwrap();
    let mut s = String::new();
    f.read_to_string(&mut s).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("master.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_add_and_audit_verify() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/j.db", dir.path().display());
    // Password from the environment, roles separated by commas.
    let mut c = command(dir.path(), &url);
    c.args([
        "user",
        "add",
        "Wang.Fang",
        "--role",
        "handler,intake",
        "--region",
        "371502",
    ])
    .env("JUBAO_PASSWORD", "a-good-long-password");
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("wang.fang") && out.contains("intake,handler"),
        "{out}"
    );
    // Password from stdin.
    let mut c = command(dir.path(), &url);
    c.args([
        "user",
        "add",
        "zhao",
        "--role",
        "custodian",
        "--region",
        "371500",
    ])
    .env_remove("JUBAO_PASSWORD")
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"another-long-password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("TOTP"));
    // Refusals name the problem and create nothing.
    for (args, needle) in [
        (vec!["user", "add", "x1", "--role", "root"], "Unknown role"),
        (
            vec![
                "user", "add", "x2", "--role", "handler", "--region", "999999",
            ],
            "region",
        ),
        (
            vec!["user", "add", "wang.fang", "--role", "handler"],
            "taken",
        ),
    ] {
        let mut c = command(dir.path(), &url);
        c.args(&args).env("JUBAO_PASSWORD", "a-good-long-password");
        let (code, _, err) = run(c);
        assert_ne!(code, 0);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let mut c = command(dir.path(), &url);
    c.args(["user", "add", "x3", "--role", "handler"])
        .env("JUBAO_PASSWORD", "short");
    let (code, _, err) = run(c);
    assert_ne!(code, 0);
    assert!(err.contains("10"), "{err}");

    // An export of the ledger is a read, audited.
    let mut c = command(dir.path(), &url);
    let ledger = dir.path().join("ledger.csv");
    c.args(["export", "ledger", "--out", ledger.to_str().unwrap()]);
    let (code, _, err) = run(c);
    assert_eq!(code, 0, "{err}");
    let mut c = command(dir.path(), &url);
    c.args(["audit", "verify"]);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("intact: 3 entries"), "{out}");
    let db = jubao::store::Db::connect(&url, 1).await.unwrap();
    let (actor, detail): (String, String) =
        sqlx::query_as("SELECT actor, detail FROM audit_log WHERE action = 'export.ledger'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    db.close().await;
    assert_eq!(actor, "cli");
    assert!(
        detail.contains("\"rows\":0") && detail.contains("\"format\":\"csv\""),
        "{detail}"
    );
    // Edit a row behind the log's back: verify names it and fails.
    let db = jubao::store::Db::connect(&url, 1).await.unwrap();
    sqlx::query("UPDATE audit_log SET detail = '{}' WHERE seq = 2")
        .execute(&db.pool)
        .await
        .unwrap();
    db.close().await;
    let mut c = command(dir.path(), &url);
    c.args(["audit", "verify"]);
    let (code, _, err) = run(c);
    assert_ne!(code, 0);
    assert!(err.contains("broken at entry 2"), "{err}");
}

/// `jubao calendar status` and `reload` as an operator runs them: the years in force with
/// where they came from; a year added to the folder is published by `reload`; a bad file
/// is named with its line and the command fails, changing nothing.
#[test]
fn calendar_status_and_reload() {
    let dir = tempfile::tempdir().unwrap();
    let holidays = dir.path().join("holidays");
    std::fs::create_dir(&holidays).unwrap();
    let db = format!("sqlite://{}/jubao.db", dir.path().display());
    let run = |args: &[&str]| {
        let out = command(dir.path(), &db)
            .env("JUBAO_CALENDAR_HOLIDAYS_DIR", &holidays)
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, err) = run(&["calendar", "reload"]);
    assert!(ok, "{err}");
    assert!(out.contains("calendar reloaded"), "{out}");
    let (ok, out, err) = run(&["calendar", "status"]);
    assert!(ok, "{err}");
    assert!(
        out.lines().any(|l| l.starts_with("2026  built in")),
        "{out}"
    );
    std::fs::write(
        holidays.join("cn-2099.toml"),
        "year = 2099\noff = [\"2099-01-01\"]\nwork = []\n",
    )
    .unwrap();
    let (ok, _, err) = run(&["calendar", "reload"]);
    assert!(ok, "{err}");
    let (_, out, _) = run(&["calendar", "status"]);
    assert!(
        out.lines()
            .any(|l| l.starts_with("2099  file cn-2099.toml")),
        "{out}"
    );
    std::fs::write(
        holidays.join("cn-2098.toml"),
        "year = 2098\noff = []\nwork = [\"2098-01-02\"]\n",
    )
    .unwrap();
    let (ok, _, err) = run(&["calendar", "reload"]);
    assert!(!ok);
    assert!(
        err.contains("cn-2098.toml:3: make-up working day 2098-01-02 is not a weekend day"),
        "{err}"
    );
    let (_, out, _) = run(&["calendar", "status"]);
    assert!(!out.contains("2098"), "nothing changed: {out}");
}

/// `jubao retention run [--dry-run]` from the command line (docs/retention.md): the shred
/// chain's key file the first start made is used, a dry run changes nothing, and without
/// the key file the command refuses and names it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_run_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/jubao.db", dir.path().display());
    let server = start(dir.path(), &url, &dir.path().join("server.log")).await;
    let client = reqwest::Client::new();
    file_named(&client, &server.base, 1).await;
    drop(server);
    let shred = dir.path().join("shred.key");
    let text = std::fs::read_to_string(&shred).unwrap();
    assert!(text.starts_with("jubao-shred-v1 "), "{text}");
    for (args, said) in [
        (
            &["retention", "run", "--dry-run"][..],
            "retention dry run (nothing changed) as of",
        ),
        (&["retention", "run"][..], "retention run as of"),
    ] {
        let mut c = command(dir.path(), &url);
        c.args(args);
        let (code, out, err) = run(c);
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains(said), "{out}");
        // The tip is still open: nothing ended, nothing purged.
        assert!(
            out.contains(": 0 ended cases looked at; identity purged 0"),
            "{out}"
        );
    }
    std::fs::remove_file(&shred).unwrap();
    let mut c = command(dir.path(), &url);
    c.args(["retention", "run", "--dry-run"]);
    let (code, out, err) = run(c);
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("shred.key is missing"), "{err}");
}
