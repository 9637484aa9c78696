//! Operations as a bureau's IT staff run them (docs/OPERATIONS.md): a backup taken while tips
//! are being filed and restored on a machine that lost its key file, the key rebuilt from 3
//! of 5 shares (checked by an independent implementation of Shamir's scheme in Python), a
//! tampered or foreign backup refused, scheduled backups and their metrics, `migrate --check`,
//! and the same recovery for PostgreSQL with pg_dump and pg_restore.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

#[path = "support/cli.rs"]
mod cli;
#[path = "support/tools.rs"]
mod tools;
use cli::{command, file_named, run, start};

const NAME: &str = "周八";
const PHONE: &str = "13600001111";

/// Run `c` with `input` on standard input.
fn run_with_input(mut c: Command, input: &str) -> (i32, String, String) {
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}/data/jubao.db", dir.display())
}

/// The tips acknowledged so far, filed by `n` tasks until `stop`.
fn file_until_stopped(
    base: &str,
    n: usize,
    stop: Arc<AtomicBool>,
) -> (Arc<Mutex<Vec<Value>>>, Vec<tokio::task::JoinHandle<()>>) {
    let acked = Arc::new(Mutex::new(Vec::new()));
    let tasks = (0..n)
        .map(|t| {
            let (base, acked, stop) = (base.to_string(), acked.clone(), stop.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let receipt = file_named(&client, &base, t * 100_000 + i).await;
                    acked.lock().unwrap().push(receipt);
                }
            })
        })
        .collect();
    (acked, tasks)
}

/// The identities of every report of the database at `url`, opened with the key in `key_file`
/// and the shred key file beside it (the case keys, docs/retention.md).
async fn open_every_identity(url: &str, key_file: &Path) -> Vec<(String, Option<String>)> {
    let db = jubao::store::Db::connect(url, 2).await.unwrap();
    let master = jubao::vault::configured_master_key(key_file).unwrap();
    let vault = jubao::vault::Vault::open_shredding(
        db.clone(),
        master,
        &key_file.with_file_name("shred.key"),
        30,
    )
    .await
    .unwrap();
    let ids: Vec<String> = sqlx::query_scalar("SELECT report_id FROM reporter_identity")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    let mut out = Vec::new();
    for id in ids {
        let sealed = jubao::vault::SealedIdentity::load(&db.pool, &id)
            .await
            .unwrap()
            .unwrap();
        let identity = vault.open_identity(&id, &sealed).await.unwrap();
        out.push((
            identity
                .get(jubao::vault::IdentityField::Name)
                .map(str::to_string)
                .unwrap_or_default(),
            identity
                .get(jubao::vault::IdentityField::Phone)
                .map(str::to_string),
        ));
    }
    db.close().await;
    out
}

/// GF(256) with x^8+x^4+x^3+x^2+1 and Lagrange interpolation at 0, written from Shamir's
/// paper, not from the crate the service uses: prints the key rebuilt from the shares given
/// on standard input, base64.
const PY_COMBINE: &str = r#"
import base64, sys
def mul(a, b):
    r = 0
    while b:
        if b & 1: r ^= a
        a <<= 1
        if a & 0x100: a ^= 0x11d
        b >>= 1
    return r
def inv(a):
    r = 1
    for _ in range(254): r = mul(r, a)
    return r
shares = []
for line in sys.stdin:
    f = dict(w.split("=", 1) for w in line.split()[2:])
    data = bytes.fromhex(f["data"].replace("-", ""))
    assert data[0] == int(f["x"])
    shares.append((data[0], data[1:]))
key = bytearray(len(shares[0][1]))
for i, (xi, yi) in enumerate(shares):
    num, den = 1, 1
    for j, (xj, _) in enumerate(shares):
        if i != j:
            num = mul(num, xj)
            den = mul(den, xi ^ xj)
    li = mul(num, inv(den))
    for b in range(len(key)): key[b] ^= mul(yi[b], li)
print(base64.b64encode(bytes(key)).decode())
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backup_while_filing_then_restore_with_the_key_from_three_of_five_shares() {
    let old = tempfile::tempdir().unwrap();
    let url = sqlite_url(old.path());
    let log = old.path().join("server.log");
    let server = start(old.path(), &url, &log).await;
    let key_text = std::fs::read_to_string(old.path().join("master.key")).unwrap();

    // The custodians' shares, made once.
    let mut c = command(old.path(), &url);
    c.args(["keys", "split", "--shares", "5", "--threshold", "3"]);
    let (code, shares, err) = run(c);
    assert_eq!(code, 0, "{shares}{err}");
    let shares: Vec<&str> = shares.lines().collect();
    assert_eq!(shares.len(), 5);
    assert!(err.contains("any 3 rebuild it"), "{err}");
    assert!(!shares.concat().contains(key_text.trim()));

    // Tips keep coming while the backup is taken.
    let stop = Arc::new(AtomicBool::new(false));
    let (acked, tasks) = file_until_stopped(&server.base, 4, stop.clone());
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked.lock().unwrap().len() < 40 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before: Vec<Value> = acked.lock().unwrap().clone();
    assert!(before.len() >= 40, "only {} tips filed", before.len());
    let file = old.path().join("backup.zip");
    let mut c = command(old.path(), &url);
    c.args(["backup", "--out"]).arg(&file);
    let (code, out, err) = tokio::task::spawn_blocking(move || run(c)).await.unwrap();
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("backup written to"), "{out}");
    let during = acked.lock().unwrap().len();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    assert!(acked.lock().unwrap().len() > before.len());
    assert!(
        during > before.len(),
        "no tip was filed while the backup ran"
    );
    drop(server);

    // The backup alone holds neither the key, nor the shred chain's value, nor any identity
    // in the clear.
    let raw = unzip_database(&file);
    let key_bytes = base64::engine::general_purpose::STANDARD
        .decode(key_text.trim())
        .unwrap();
    let shred_text = std::fs::read_to_string(old.path().join("shred.key")).unwrap();
    let shred_bytes = base64::engine::general_purpose::STANDARD
        .decode(shred_text.split_whitespace().nth(2).unwrap())
        .unwrap();
    for secret in [
        key_bytes.as_slice(),
        shred_bytes.as_slice(),
        key_text.trim().as_bytes(),
        NAME.as_bytes(),
        PHONE.as_bytes(),
    ] {
        assert!(
            !raw.windows(secret.len()).any(|w| w == secret),
            "a secret is in the backup"
        );
    }
    assert!(raw.starts_with(b"SQLite format 3\0"));

    // A new machine: the key file is lost. Restore refuses without a key and makes none.
    let new = tempfile::tempdir().unwrap();
    let new_url = sqlite_url(new.path());
    let key_file = new.path().join("master.key");
    let mut c = command(new.path(), &new_url);
    c.arg("restore").arg(&file);
    let (code, out, err) = run(c);
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("no master key"), "{err}");
    assert!(!key_file.exists());
    // Two shares are not enough, and write nothing.
    let mut c = command(new.path(), &new_url);
    c.args(["keys", "combine"]);
    let (code, _, err) = run_with_input(c, &format!("{}\n{}\n", shares[0], shares[3]));
    assert_ne!(code, 0);
    assert!(err.contains("3 shares are needed, 2 given"), "{err}");
    assert!(!key_file.exists());
    // A miscopied share is named.
    let typo = flip_one_data_char(shares[2]);
    let mut c = command(new.path(), &new_url);
    c.args(["keys", "combine"]);
    let (code, _, err) = run_with_input(c, &format!("{}\n{typo}\n{}\n", shares[0], shares[4]));
    assert_ne!(code, 0);
    assert!(err.contains("share 2: its check does not match"), "{err}");
    assert!(!key_file.exists());
    // Three of five rebuild it; Python's own interpolation agrees.
    let three = format!("{}\n{}\n{}\n", shares[0], shares[2], shares[4]);
    if tools::need("the independent Shamir check", &[tools::PYTHON3]) {
        let mut py = Command::new("python3");
        py.args(["-c", PY_COMBINE]);
        let (code, out, err) = run_with_input(py, &three);
        assert_eq!(code, 0, "{err}");
        assert_eq!(out.trim(), key_text.trim());
    }
    let mut c = command(new.path(), &new_url);
    c.args(["keys", "combine"]);
    let (code, out, err) = run_with_input(c, &three);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("master key rebuilt from 3 shares"), "{out}");
    assert_eq!(
        std::fs::read_to_string(&key_file).unwrap().trim(),
        key_text.trim()
    );
    // Combining again never overwrites the key file.
    let mut c = command(new.path(), &new_url);
    c.args(["keys", "combine"]);
    let (code, _, err) = run_with_input(c, &three);
    assert_ne!(code, 0);
    assert!(err.contains("exists"), "{err}");

    // The shred key file is not in the backup (docs/retention.md): it comes from where it is
    // kept apart, here the old machine's copy.
    std::fs::copy(old.path().join("shred.key"), new.path().join("shred.key")).unwrap();

    // Verify, restore, and refuse a second restore over the first.
    let mut c = command(new.path(), &new_url);
    c.args(["backup", "--verify"]).arg(&file);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("audit log intact"), "{out}");
    let mut c = command(new.path(), &new_url);
    c.arg("restore").arg(&file);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("restored into"), "{out}");
    let mut c = command(new.path(), &new_url);
    c.arg("restore").arg(&file);
    let (code, _, err) = run(c);
    assert_ne!(code, 0);
    assert!(
        err.contains("exists: a restore goes only into an empty data folder"),
        "{err}"
    );
    let mut c = command(new.path(), &new_url);
    c.args(["audit", "verify"]);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{out}{err}");

    // Every tip acknowledged before the backup began is there, and every identity opens.
    let identities = open_every_identity(&new_url, &key_file).await;
    assert!(identities.len() >= before.len());
    assert!(identities
        .iter()
        .all(|(n, p)| n == NAME && p.as_deref() == Some(PHONE)));
    let log = new.path().join("server.log");
    let server = start(new.path(), &new_url, &log).await;
    let client = reqwest::Client::new();
    for r in &before {
        assert_eq!(
            cli::look_up(&client, &server.base, r).await,
            200,
            "tip {} lost",
            r["tracking_code"]
        );
    }
}

fn flip_one_data_char(line: &str) -> String {
    let at = line.find("data=").unwrap() + "data=".len() + 7;
    let mut b = line.as_bytes().to_vec();
    b[at] = if b[at] == b'a' { b'b' } else { b'a' };
    String::from_utf8(b).unwrap()
}

fn unzip_database(file: &Path) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(file).unwrap()).unwrap();
    let mut raw = Vec::new();
    zip.by_name("jubao.db")
        .unwrap()
        .read_to_end(&mut raw)
        .unwrap();
    raw
}

/// A small installation with one backup: (folder, database url, backup file).
async fn one_backup() -> (tempfile::TempDir, String, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let log = dir.path().join("server.log");
    let server = start(dir.path(), &url, &log).await;
    let client = reqwest::Client::new();
    for i in 0..5 {
        file_named(&client, &server.base, i).await;
    }
    let file = dir.path().join("b.zip");
    let mut c = command(dir.path(), &url);
    c.args(["backup", "--out"]).arg(&file);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{out}{err}");
    // A backup never overwrites.
    let mut c = command(dir.path(), &url);
    c.args(["backup", "--out"]).arg(&file);
    let (code, _, err) = run(c);
    assert_ne!(code, 0);
    assert!(err.contains("exists: choose another file name"), "{err}");
    drop(server);
    (dir, url, file)
}

fn verify(dir: &Path, url: &str, file: &Path) -> (i32, String) {
    let mut c = command(dir, url);
    c.args(["backup", "--verify"]).arg(file);
    let (code, out, err) = run(c);
    (code, format!("{out}{err}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_cut_or_foreign_backup_is_refused_and_restores_nothing() {
    let (dir, url, file) = one_backup().await;
    let (code, out) = verify(dir.path(), &url, &file);
    assert_eq!(code, 0, "{out}");
    let bytes = std::fs::read(&file).unwrap();

    // One byte changed inside the compressed database.
    let mut changed = bytes.clone();
    changed[bytes.len() / 3] ^= 0x01;
    let bad = dir.path().join("changed.zip");
    std::fs::write(&bad, &changed).unwrap();
    let (code, out) = verify(dir.path(), &url, &bad);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("damaged") || out.contains("changed"), "{out}");

    // Cut short.
    let cut = dir.path().join("cut.zip");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let (code, out) = verify(dir.path(), &url, &cut);
    assert_ne!(code, 0);
    assert!(
        out.contains("is not a jubao backup (or it is cut short)"),
        "{out}"
    );

    // The manifest's digest no longer matches a database that was swapped.
    let forged = dir.path().join("forged.zip");
    rewrite_manifest(&file, &forged, |m| {
        m["database_sha256"] = json!("00".repeat(32))
    });
    let (code, out) = verify(dir.path(), &url, &forged);
    assert_ne!(code, 0);
    assert!(out.contains("does not match its manifest"), "{out}");

    // Another installation's key: named as such; a restore there writes nothing.
    let other = tempfile::tempdir().unwrap();
    let other_url = sqlite_url(other.path());
    std::fs::write(
        other.path().join("master.key"),
        base64::engine::general_purpose::STANDARD.encode([9u8; 32]),
    )
    .unwrap();
    let (code, out) = verify(other.path(), &other_url, &file);
    assert_ne!(code, 0);
    assert!(out.contains("made by another installation"), "{out}");
    let mut c = command(other.path(), &other_url);
    c.arg("restore").arg(&file);
    let (code, _, _) = run(c);
    assert_ne!(code, 0);
    let data = other.path().join("data");
    let left: Vec<_> = std::fs::read_dir(&data)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "a failed restore left {left:?}");

    // No scratch copy is left beside the backups either.
    let beside: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(beside.is_empty(), "{beside:?}");
}

fn rewrite_manifest(from: &Path, to: &Path, change: impl FnOnce(&mut Value)) {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(from).unwrap()).unwrap();
    let mut manifest: Value =
        serde_json::from_reader(zip.by_name("manifest.json").unwrap()).unwrap();
    change(&mut manifest);
    let raw = {
        let mut raw = Vec::new();
        zip.by_name("jubao.db")
            .unwrap()
            .read_to_end(&mut raw)
            .unwrap();
        raw
    };
    let mut w = zip::ZipWriter::new(std::fs::File::create(to).unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    w.start_file("jubao.db", opts).unwrap();
    w.write_all(&raw).unwrap();
    w.start_file("manifest.json", opts).unwrap();
    w.write_all(&serde_json::to_vec(&manifest).unwrap())
        .unwrap();
    w.finish().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_backups_keep_the_newest_and_show_in_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let folder = dir.path().join("backups");
    std::fs::create_dir_all(&folder).unwrap();
    // Two old backups (by their time): with keep = 2 the oldest goes when a new one is made.
    for (name, days) in [
        ("jubao-20200101T000000.000Z.zip", 30),
        ("jubao-20200102T000000.000Z.zip", 29),
    ] {
        let f = std::fs::File::create(folder.join(name)).unwrap();
        f.set_modified(std::time::SystemTime::now() - Duration::from_secs(days * 86_400))
            .unwrap();
    }
    std::fs::write(folder.join("notes.txt"), "not a backup").unwrap();
    let port = cli::free_port();
    let log = dir.path().join("server.log");
    let mut c = command(dir.path(), &url);
    c.arg("serve")
        .env("JUBAO_SERVER_LISTEN", format!("127.0.0.1:{port}"))
        .env("JUBAO_BACKUP_FOLDER", &folder)
        .env("JUBAO_BACKUP_KEEP", "2")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    let mut child = c.spawn().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let names = loop {
        let mut names: Vec<String> = std::fs::read_dir(&folder)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".zip"))
            .collect();
        names.sort();
        if !names.contains(&"jubao-20200101T000000.000Z.zip".to_string()) && names.len() == 2 {
            break names;
        }
        assert!(
            Instant::now() < deadline,
            "{names:?} {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(names[0], "jubao-20200102T000000.000Z.zip");
    assert!(folder.join("notes.txt").exists());
    let (code, out) = verify(dir.path(), &url, &folder.join(&names[1]));
    assert_eq!(code, 0, "{out}");
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let last: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("jubao_backup_last_success_timestamp_seconds "))
        .expect("backup metric")
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(now - last < 120, "{metrics}");
    assert!(
        metrics.contains("jubao_backup_failures_total 0"),
        "{metrics}"
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn migrate_check_lists_what_is_pending() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let mut c = command(dir.path(), &url);
    c.args(["migrate", "--check"]);
    let (code, out, err) = run(c);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("migrations pending:"), "{out}");
    assert!(out.contains("0001 "), "{out}");
    let mut c = command(dir.path(), &url);
    c.arg("migrate");
    assert_eq!(run(c).0, 0);
    let mut c = command(dir.path(), &url);
    c.args(["migrate", "--check"]);
    let (code, out, _) = run(c);
    assert_eq!(code, 0);
    assert!(out.starts_with("no migration pending"), "{out}");
}

/// A fresh database on the test server: (its URL, the admin URL, its name).
async fn postgres_database() -> Option<(String, String, String)> {
    let Ok(admin) = std::env::var("JUBAO_TEST_POSTGRES_URL") else {
        assert!(
            !tools::in_ci(),
            "the PostgreSQL backup test needs JUBAO_TEST_POSTGRES_URL, and under CI=true it must run"
        );
        tools::skipped("SKIPPED: the PostgreSQL backup test needs JUBAO_TEST_POSTGRES_URL");
        return None;
    };
    sqlx::any::install_default_drivers();
    let name = format!("jubao_t_{}", uuid::Uuid::new_v4().simple());
    let pool = sqlx::AnyPool::connect(&admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let base = admin.split('?').next().unwrap().rsplit_once('/').unwrap().0;
    Some((format!("{base}/{name}"), admin.clone(), name))
}

async fn drop_database(admin: &str, name: &str) {
    let pool = sqlx::AnyPool::connect(admin).await.unwrap();
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&pool)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_pg_dump_and_pg_restore_keep_every_tip() {
    if !tools::need("the PostgreSQL backup test", &[tools::PG_DUMP]) {
        return;
    }
    let Some((url, admin, name)) = postgres_database().await else {
        return;
    };
    let Some((restored, _, restored_name)) = postgres_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let server = start(dir.path(), &url, &log).await;
    let client = reqwest::Client::new();
    let mut receipts = Vec::new();
    for i in 0..5 {
        receipts.push(file_named(&client, &server.base, i).await);
    }
    drop(server);
    // `jubao backup` points PostgreSQL to its own tools.
    let mut c = command(dir.path(), &url);
    c.args(["backup", "--out"]).arg(dir.path().join("b.zip"));
    let (code, _, err) = run(c);
    assert_ne!(code, 0);
    assert!(err.contains("pg_dump"), "{err}");
    // The steps of docs/OPERATIONS.md.
    let dump = dir.path().join("jubao.dump");
    let out = Command::new("pg_dump")
        .args(["--format=custom", "--file"])
        .arg(&dump)
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new("pg_restore")
        .args(["--no-owner", "--dbname", &restored])
        .arg(&dump)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut c = command(dir.path(), &restored);
    c.args(["audit", "verify"]);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("audit log intact"), "{out}");
    let identities = open_every_identity(&restored, &dir.path().join("master.key")).await;
    assert_eq!(identities.len(), 5);
    assert!(identities
        .iter()
        .all(|(n, p)| n == NAME && p.as_deref() == Some(PHONE)));
    let log = dir.path().join("restored.log");
    let server = start(dir.path(), &restored, &log).await;
    for r in &receipts {
        assert_eq!(cli::look_up(&client, &server.base, r).await, 200);
    }
    drop(server);
    drop_database(&admin, &name).await;
    drop_database(&admin, &restored_name).await;
}
