//! The keyed audit chain and its anchors, as an operator and an auditor meet them. Entries
//! are written by the service's own code; then the database is changed the way someone
//! with write access but no key would (the re-hashing below is this file's own, from the
//! documented plain rule), and the real binary's `jubao audit verify [--anchor FILE]` and
//! `jubao audit anchor --out FILE` must say so, naming the entry. SQLite and PostgreSQL.

use std::ops::RangeInclusive;
use std::process::{Command, Stdio};

use base64::Engine;
use jubao::audit::{self, Actor, Entry, Outcome};
use jubao::store::Db;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::both_databases;
use crate::helpers::*;
use crate::tools;

/// `jubao ARGS` on the app's database with the app's master key: (success, stdout, stderr).
async fn jubao(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let cfg = app.dir.path().join("cli.toml");
    std::fs::write(&cfg, "").unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_jubao"));
    c.args(args)
        .current_dir(app.dir.path())
        .env("JUBAO_CONFIG", &cfg)
        .env("JUBAO_DATABASE_URL", &app.db_url)
        .env(
            "JUBAO_MASTER_KEY",
            base64::engine::general_purpose::STANDARD.encode(app.master.as_bytes()),
        )
        .env(
            "JUBAO_CALENDAR_HOLIDAYS_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/config/holidays"),
        )
        .stdin(Stdio::null());
    let out = tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `n` entries appended the way the service appends them.
async fn write_entries(app: &TestApp, n: usize) {
    let key = app.state.vault.audit_key();
    for i in 0..n {
        let actor = Actor {
            id: (i % 2 == 0).then(|| format!("u{i}")),
            name: format!("user{i}"),
        };
        audit::append_alone(
            &app.db,
            key,
            &Entry {
                actor: &actor,
                action: "case.view",
                outcome: if i % 3 == 0 {
                    Outcome::Denied
                } else {
                    Outcome::Ok
                },
                report_id: (i % 2 == 1).then_some("r-1"),
                detail: json!({ "i": i }),
            },
        )
        .await
        .unwrap();
    }
}

async fn count(db: &Db) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

type LogRow = (
    i64,
    String,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    String,
    Vec<u8>,
);

async fn rows(db: &Db) -> Vec<LogRow> {
    sqlx::query_as(
        "SELECT seq, at, actor_id, actor, action, outcome, report_id, detail, hash \
         FROM audit_log ORDER BY seq",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap()
}

/// The chain value as it was before the chain was keyed: SHA-256 over a tag, the previous
/// value, the sequence number and the length-prefixed fields. Anyone can compute it.
fn plain_hash(prev: &[u8], r: &LogRow) -> Vec<u8> {
    let (seq, at, actor_id, actor, action, outcome, report_id, detail, _) = r;
    let mut h = Sha256::new();
    h.update(b"jubao/audit/v1");
    h.update(prev);
    h.update(seq.to_be_bytes());
    for part in [
        Some(at),
        actor_id.as_ref(),
        Some(actor),
        Some(action),
        Some(outcome),
        report_id.as_ref(),
        Some(detail),
    ] {
        match part {
            Some(s) => {
                h.update([1u8]);
                h.update((s.len() as u64).to_be_bytes());
                h.update(s.as_bytes());
            }
            None => h.update([0u8]),
        }
    }
    h.finalize().to_vec()
}

/// Re-chain the entries in `seqs` with plain SHA-256 (marking them `version`, if given),
/// relink the entry after them and, when they reach the end, move the head: all an
/// attacker without the key can do.
async fn rehash_plain(db: &Db, seqs: RangeInclusive<i64>, version: Option<i64>) {
    let mut prev = vec![0u8; 32];
    let mut head = None;
    for r in rows(db).await {
        let seq = r.0;
        if seqs.contains(&seq) {
            let h = plain_hash(&prev, &r);
            sqlx::query("UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3")
                .bind(&prev)
                .bind(&h)
                .bind(seq)
                .execute(&db.pool)
                .await
                .unwrap();
            if let Some(v) = version {
                sqlx::query("UPDATE audit_log SET chain_version = $1 WHERE seq = $2")
                    .bind(v)
                    .bind(seq)
                    .execute(&db.pool)
                    .await
                    .unwrap();
            }
            head = Some(h.clone());
            prev = h;
        } else {
            if seq == seqs.end() + 1 {
                sqlx::query("UPDATE audit_log SET prev_hash = $1 WHERE seq = $2")
                    .bind(&prev)
                    .bind(seq)
                    .execute(&db.pool)
                    .await
                    .unwrap();
            }
            head = None;
            prev = r.8;
        }
    }
    if let Some(h) = head {
        sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
            .bind(h)
            .execute(&db.pool)
            .await
            .unwrap();
    }
}

async fn anchor_to(app: &TestApp, name: &str) -> (std::path::PathBuf, Value) {
    let file = app.dir.path().join(name);
    let (ok, out, err) = jubao(app, &["audit", "anchor", "--out", file.to_str().unwrap()]).await;
    assert!(ok, "{out}{err}");
    let a: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    (file, a)
}

async fn verify(app: &TestApp, anchor: Option<&std::path::Path>) -> (bool, String, String) {
    match anchor {
        None => jubao(app, &["audit", "verify"]).await,
        Some(f) => jubao(app, &["audit", "verify", "--anchor", f.to_str().unwrap()]).await,
    }
}

/// (c) An intact log verifies with and without its anchor; the anchor names the head and
/// carries the vault's public key, and its signature checks out with openssl, no vault.
async fn intact_log_verifies_with_and_without_its_anchor(app: TestApp) {
    write_entries(&app, 5).await;
    let n = count(&app.db).await;
    let (ok, out, err) = verify(&app, None).await;
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!("audit log intact: {n} entries")),
        "{out}"
    );
    let (file, a) = anchor_to(&app, "anchor.json").await;
    assert_eq!(a["seq"], n);
    assert_eq!(a["entries"], n);
    assert_eq!(
        a["public_key"],
        hex::encode(app.state.vault.audit_key().public_key())
    );
    let (ok, out, err) = verify(&app, Some(&file)).await;
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!("anchor of entry {n}")) && out.contains("matches"),
        "{out}"
    );
    // The log goes on; the older anchor still holds.
    write_entries(&app, 2).await;
    let (ok, _, err) = verify(&app, Some(&file)).await;
    assert!(ok, "{err}");
    if tools::need("audit anchor signature", &[tools::OPENSSL]) {
        openssl_verifies(app.dir.path(), &a);
    }
    app.stop().await;
}

/// The anchor's signature, checked as an auditor would: openssl, the documented message,
/// the public key from the file.
fn openssl_verifies(dir: &std::path::Path, a: &Value) {
    let message = format!(
        "jubao-audit-anchor/1\nseq {}\nchain {}\nat {}\nentries {}\npublic_key {}\n",
        a["seq"],
        a["chain"].as_str().unwrap(),
        a["at"].as_str().unwrap(),
        a["entries"],
        a["public_key"].as_str().unwrap()
    );
    std::fs::write(dir.join("msg"), &message).unwrap();
    std::fs::write(
        dir.join("sig"),
        hex::decode(a["signature"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    // SubjectPublicKeyInfo of an Ed25519 key: a fixed 12-byte prefix, then the key.
    let mut der = hex::decode("302a300506032b6570032100").unwrap();
    der.extend(hex::decode(a["public_key"].as_str().unwrap()).unwrap());
    std::fs::write(dir.join("pub.der"), der).unwrap();
    let openssl = |msg: &str| {
        Command::new("openssl")
            .current_dir(dir)
            .args(["pkeyutl", "-verify", "-pubin", "-keyform", "DER", "-inkey"])
            .args(["pub.der", "-rawin", "-in", msg, "-sigfile", "sig"])
            .output()
            .unwrap()
    };
    let out = openssl("msg");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(dir.join("msg2"), message.replace("seq ", "seq 1")).unwrap();
    assert!(!openssl("msg2").status.success());
}

/// (a) An entry rewritten in the database and the chain re-hashed without the key: verify
/// names that entry, whether the rows keep their chain version or claim the plain one.
async fn rewritten_entry_rehashed_without_the_key_is_named(app: TestApp) {
    write_entries(&app, 6).await;
    let n = count(&app.db).await;
    let target = n - 3;
    sqlx::query("UPDATE audit_log SET detail = '{\"i\":99}', actor = 'someone' WHERE seq = $1")
        .bind(target)
        .execute(&app.db.pool)
        .await
        .unwrap();
    rehash_plain(&app.db, target..=n, None).await;
    let (ok, out, err) = verify(&app, None).await;
    assert!(!ok, "{out}");
    assert!(
        err.contains(&format!("audit log broken at entry {target}:")),
        "{err}"
    );
    rehash_plain(&app.db, target..=n, Some(1)).await;
    let (ok, out, err) = verify(&app, None).await;
    assert!(!ok, "{out}");
    assert!(
        err.contains(&format!("broken at entry {target}:")) && err.contains("without the key"),
        "{err}"
    );
    app.stop().await;
}

/// (a, the whole log) Someone who re-hashes every entry as a plain one, from the first,
/// and deletes the stored anchors, is not caught by the walk alone: it reports every entry
/// as plain. An anchor kept outside the database catches it at the anchored entry.
async fn whole_log_made_plain_is_caught_by_an_anchor(app: TestApp) {
    write_entries(&app, 4).await;
    let n = count(&app.db).await;
    let (file, _) = anchor_to(&app, "anchor.json").await;
    sqlx::query("UPDATE audit_log SET detail = '{}' WHERE seq = 2")
        .execute(&app.db.pool)
        .await
        .unwrap();
    rehash_plain(&app.db, 1..=n, Some(1)).await;
    sqlx::query("DELETE FROM audit_anchors")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let (ok, out, err) = verify(&app, None).await;
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!("entries 1-{n} predate the keyed chain")),
        "{out}"
    );
    let (ok, out, err) = verify(&app, Some(&file)).await;
    assert!(!ok, "{out}");
    assert!(
        err.contains(&format!("broken at entry {n}:")) && err.contains("anchored"),
        "{err}"
    );
    app.stop().await;
}

/// (b) An anchor, then the log's last entries deleted and its head set back: verify with
/// the anchor fails; the stored anchor catches it too until it is deleted as well, and
/// then verify without the file passes.
async fn truncated_log_fails_against_its_anchor(app: TestApp) {
    write_entries(&app, 6).await;
    let n = count(&app.db).await;
    let (file, _) = anchor_to(&app, "anchor.json").await;
    let keep = n - 2;
    let hash: Vec<u8> = sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1")
        .bind(keep)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq > $1")
        .bind(keep)
        .execute(&app.db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(keep)
        .bind(&hash)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let removed = format!("broken at entry {}:", keep + 1);
    let (ok, _, err) = verify(&app, None).await;
    assert!(
        !ok && err.contains(&removed) && err.contains("entries removed"),
        "{err}"
    );
    sqlx::query("DELETE FROM audit_anchors WHERE seq > $1")
        .bind(keep)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let (ok, out, err) = verify(&app, None).await;
    assert!(ok, "{err}");
    assert!(out.contains(&format!("intact: {keep} entries")), "{out}");
    let (ok, _, err) = verify(&app, Some(&file)).await;
    assert!(!ok);
    assert!(
        err.contains(&removed) && err.contains(&format!("covers entry {n}")),
        "{err}"
    );
    app.stop().await;
}

/// (d) An anchor file with its entry or chain value changed fails its signature; one made
/// up and signed with another key (in the documented format) is refused as not this
/// vault's.
async fn altered_or_foreign_anchor_is_refused(app: TestApp) {
    write_entries(&app, 3).await;
    let (_, a) = anchor_to(&app, "anchor.json").await;
    let dir = app.dir.path();
    let seq = a["seq"].as_i64().unwrap();
    for (name, field, value) in [
        ("seq.json", "seq", json!(seq - 1)),
        ("chain.json", "chain", json!(hex::encode([7u8; 32]))),
        ("entries.json", "entries", json!(seq + 5)),
    ] {
        let mut t = a.clone();
        t[field] = value;
        let f = dir.join(name);
        std::fs::write(&f, t.to_string()).unwrap();
        let (ok, out, err) = verify(&app, Some(&f)).await;
        assert!(!ok, "{name}: {out}");
        assert!(err.contains("signature does not verify"), "{name}: {err}");
    }
    use ed25519_dalek::Signer;
    let other = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    let mut forged = a.clone();
    forged["public_key"] = json!(hex::encode(other.verifying_key().to_bytes()));
    let message = format!(
        "jubao-audit-anchor/1\nseq {}\nchain {}\nat {}\nentries {}\npublic_key {}\n",
        forged["seq"],
        forged["chain"].as_str().unwrap(),
        forged["at"].as_str().unwrap(),
        forged["entries"],
        forged["public_key"].as_str().unwrap()
    );
    forged["signature"] = json!(hex::encode(other.sign(message.as_bytes()).to_bytes()));
    let f = dir.join("forged.json");
    std::fs::write(&f, forged.to_string()).unwrap();
    let (ok, _, err) = verify(&app, Some(&f)).await;
    assert!(!ok);
    assert!(err.contains("signed by another key"), "{err}");
    app.stop().await;
}

/// The service anchors the head by itself (the outbox worker's periodic task), once a day
/// at most; verify checks the stored anchors, and a changed one is named.
async fn the_service_anchors_the_head_and_verify_checks_it(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| {
        c.outbox.sweep_secs = jubao::config::Seconds::new(1)
    })
    .await
    else {
        return;
    };
    write_entries(&app, 3).await;
    let n = count(&app.db).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let stored = loop {
        let s = audit::anchor::stored(&app.db).await.unwrap();
        if !s.is_empty() {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "no anchor stored");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    // The worker may have anchored while the entries were written.
    let anchored = stored[0].seq;
    assert!((1..=n).contains(&anchored), "{stored:?}");
    let key = app.state.vault.audit_key();
    assert!(stored[0].check(key).is_ok());
    // Not due again for a day, even with new entries.
    write_entries(&app, 1).await;
    let again = audit::anchor::anchor_if_due(&app.db, key).await.unwrap();
    assert!(again.is_none());
    let (ok, out, err) = verify(&app, None).await;
    assert!(ok, "{err}");
    assert!(out.contains("1 stored anchors checked"), "{out}");
    sqlx::query("UPDATE audit_anchors SET entries = entries + 1")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let (ok, _, err) = verify(&app, None).await;
    assert!(!ok);
    assert!(
        err.contains(&format!("broken at entry {anchored}:")) && err.contains("signature"),
        "{err}"
    );
    app.stop().await;
}

/// A database from before the keyed chain: its plain entries still verify as the log's
/// leading part, and the output says how many there are; a plain entry after keyed ones,
/// or a plain entry changed and re-hashed, is refused.
async fn entries_from_before_the_keyed_chain_still_verify(app: TestApp) {
    assert_eq!(count(&app.db).await, 0);
    let mut prev = vec![0u8; 32];
    for seq in 1..=3i64 {
        let r: LogRow = (
            seq,
            format!("2024-01-0{seq}T00:00:00.000000Z"),
            None,
            "system".into(),
            "deadline.escalate".into(),
            "ok".into(),
            Some("r-0".into()),
            format!("{{\"n\":{seq}}}"),
            vec![],
        );
        let h = plain_hash(&prev, &r);
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor_id, actor, action, outcome, report_id, \
             detail, prev_hash, hash, chain_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
             $9, $10, 1)",
        )
        .bind(r.0)
        .bind(r.1.clone())
        .bind(r.2.clone())
        .bind(r.3.clone())
        .bind(r.4.clone())
        .bind(r.5.clone())
        .bind(r.6.clone())
        .bind(r.7.clone())
        .bind(&prev)
        .bind(&h)
        .execute(&app.db.pool)
        .await
        .unwrap();
        prev = h;
    }
    sqlx::query("UPDATE audit_head SET seq = 3, hash = $1 WHERE id = 1")
        .bind(&prev)
        .execute(&app.db.pool)
        .await
        .unwrap();
    write_entries(&app, 2).await;
    let (ok, out, err) = verify(&app, None).await;
    assert!(ok, "{err}");
    assert!(
        out.contains("intact: 5 entries") && out.contains("entries 1-3 predate the keyed chain"),
        "{out}"
    );
    // A plain entry changed and re-hashed (and the stored anchors, which the worker may
    // have taken meanwhile and which would name entry 3, deleted): the first keyed entry,
    // whose MAC covers the plain part, no longer checks out.
    sqlx::query("DELETE FROM audit_anchors")
        .execute(&app.db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_log SET detail = '{}' WHERE seq = 2")
        .execute(&app.db.pool)
        .await
        .unwrap();
    rehash_plain(&app.db, 2..=3, None).await;
    let (ok, _, err) = verify(&app, None).await;
    assert!(!ok);
    assert!(err.contains("broken at entry 4:"), "{err}");
    app.stop().await;
}

/// Data-key rotation leaves the audit key alone: entries from before and after a rotation
/// verify, and so does an anchor taken before it.
async fn rotating_the_data_key_keeps_the_chain_verifiable(app: TestApp) {
    write_entries(&app, 3).await;
    let (file, _) = anchor_to(&app, "anchor.json").await;
    let (ok, out, err) = jubao(&app, &["keys", "rotate", "--settle-secs", "0"]).await;
    assert!(ok, "{out}{err}");
    write_entries(&app, 2).await;
    let (ok, _, err) = verify(&app, Some(&file)).await;
    assert!(ok, "{err}");
    app.stop().await;
}

both_databases!(
    rotating_the_data_key_keeps_the_chain_verifiable,
    intact_log_verifies_with_and_without_its_anchor,
    rewritten_entry_rehashed_without_the_key_is_named,
    whole_log_made_plain_is_caught_by_an_anchor,
    truncated_log_fails_against_its_anchor,
    altered_or_foreign_anchor_is_refused,
    entries_from_before_the_keyed_chain_still_verify,
);
both_databases!(backend: the_service_anchors_the_head_and_verify_checks_it);
