//! `jubao backup`, `jubao restore`, `jubao keys split|combine`, `jubao migrate --check`
//! (docs/OPERATIONS.md).

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use anyhow::Context;

use crate::config::Config;
use crate::ops::backup;
use crate::store::Db;
use crate::vault::{self, escrow, SecretKey, Vault};

fn bar(template: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(indicatif::ProgressStyle::with_template(template).expect("valid template"));
    bar
}

fn follow(bar: &indicatif::ProgressBar) -> impl FnMut(u64, u64) + '_ {
    move |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    }
}

/// The path of the embedded database, or why there is none.
fn sqlite_path(config: &Config) -> anyhow::Result<&Path> {
    let url = &config.database.url;
    anyhow::ensure!(
        url.starts_with("sqlite:"),
        "the database is PostgreSQL: back it up and restore it with pg_dump and pg_restore \
         (docs/OPERATIONS.md, \"PostgreSQL\")"
    );
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    Ok(Path::new(path.split('?').next().unwrap_or_default()))
}

/// The master key that exists: `JUBAO_MASTER_KEY`, else the key file. Never makes one (a
/// new key would open nothing of a backup or of the shares' key).
fn existing_master_key(config: &Config) -> anyhow::Result<SecretKey> {
    let file = config.master_key_path();
    let from_env = std::env::var("JUBAO_MASTER_KEY").is_ok_and(|v| !v.trim().is_empty());
    anyhow::ensure!(
        from_env || file.exists(),
        "no master key: {} does not exist and JUBAO_MASTER_KEY is not set (rebuild the key \
         from its shares with `jubao keys combine`)",
        file.display()
    );
    vault::configured_master_key(file)
}

pub async fn backup(config: &Config, out: &Path) -> anyhow::Result<()> {
    sqlite_path(config)?;
    let master = existing_master_key(config)?;
    let db = Db::connect(&config.database.url, 2).await?;
    let vault = Vault::open(db.clone(), master)
        .await
        .context("opening the vault")?;
    let bar = bar("backing up {bar:40} {bytes}/{total_bytes}");
    let m = backup::create(&db, &vault.key_check_hex(), out, follow(&bar)).await;
    bar.finish_and_clear();
    db.close().await;
    let m = m?;
    let rows: i64 = m.tables.values().sum();
    println!(
        "backup written to {}: schema version {}, {} tables, {rows} rows, {} bytes of \
         database, SHA-256 {}, key check {}",
        out.display(),
        m.schema_version,
        m.tables.len(),
        m.database_bytes,
        m.database_sha256,
        m.key_check
    );
    Ok(())
}

fn report(what: &str, file: &Path, c: &backup::Checked) {
    let reports = c.manifest.tables.get("reports").copied().unwrap_or(0);
    println!(
        "{what} {}: made {} (jubao {}, schema version {}), {reports} tips, database SHA-256 \
         {} matches, SQLite integrity ok, data keys open with this master key, audit log \
         intact ({} entries)",
        file.display(),
        c.manifest.created_at,
        c.manifest.jubao_version,
        c.manifest.schema_version,
        c.manifest.database_sha256,
        c.audit_entries
    );
}

pub async fn verify(config: &Config, file: &Path) -> anyhow::Result<()> {
    let master = existing_master_key(config)?;
    let bar = bar("verifying {bar:40} {bytes}/{total_bytes}");
    let c = backup::verify(file, &master, follow(&bar)).await;
    bar.finish_and_clear();
    report("backup verified:", file, &c?);
    Ok(())
}

pub async fn restore(config: &Config, file: &Path) -> anyhow::Result<()> {
    let path = sqlite_path(config)?;
    let master = existing_master_key(config)?;
    let bar = bar("restoring {bar:40} {bytes}/{total_bytes}");
    let c = backup::restore(file, path, &master, follow(&bar)).await;
    bar.finish_and_clear();
    let c = c?;
    report("restored into", path, &c);
    Ok(())
}

pub fn split(config: &Config, shares: usize, threshold: usize) -> anyhow::Result<()> {
    let master = existing_master_key(config)?;
    let lines = escrow::split(&master, shares, threshold)?;
    eprintln!(
        "The master key as {shares} shares; any {threshold} rebuild it (`jubao keys combine`), \
         fewer reveal nothing. Give each custodian one line, on paper; keep no copy here."
    );
    let mut out = std::io::stdout().lock();
    for l in lines {
        writeln!(out, "{l}")?;
    }
    Ok(())
}

pub fn combine(config: &Config, out: Option<&Path>) -> anyhow::Result<()> {
    let target = out.unwrap_or(config.master_key_path());
    anyhow::ensure!(
        !target.exists(),
        "{} exists: the rebuilt key is written only where there is none (nothing was changed)",
        target.display()
    );
    let stdin = std::io::stdin();
    let interactive = stdin.is_terminal();
    let mut lines: Vec<String> = Vec::new();
    let mut need: Option<usize> = None;
    for line in stdin.lock().lines() {
        if interactive && need.is_none() && lines.is_empty() {
            eprint!("share 1: ");
        }
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        if need.is_none() {
            need = threshold_of(&line);
        }
        lines.push(line);
        if need.is_some_and(|k| lines.len() >= k) {
            break;
        }
        if interactive {
            eprint!("share {}: ", lines.len() + 1);
        }
    }
    let key = escrow::combine(&lines)?;
    vault::write_master_key(target, &key)?;
    println!(
        "master key rebuilt from {} shares (key check {}), written to {} (mode 0600)",
        lines.len(),
        hex::encode(escrow::key_check(&key)),
        target.display()
    );
    Ok(())
}

/// The `k=` of a share line, to stop reading once enough are given.
fn threshold_of(line: &str) -> Option<usize> {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix("k="))
        .and_then(|k| k.parse().ok())
}

/// `jubao migrate --check`: the migrations this build would apply; exit 1 when any.
pub async fn migrate_check(config: &Config) -> anyhow::Result<bool> {
    let db = Db::connect(&config.database.url, 2).await?;
    let pending = db.pending_migrations().await;
    db.close().await;
    let pending = pending?;
    if pending.is_empty() {
        println!(
            "no migration pending: the database is at version {}",
            crate::store::latest_migration()
        );
        return Ok(true);
    }
    println!("{} migrations pending:", pending.len());
    for (version, description) in pending {
        println!("  {version:04} {description}");
    }
    Ok(false)
}
