//! Backups of the embedded SQLite database (docs/OPERATIONS.md).
//!
//! A backup is a zip file of two entries: `jubao.db`, an online, consistent snapshot taken
//! with `VACUUM INTO` while the service serves (deflated), and `manifest.json` (format,
//! time, schema version, row counts, size and SHA-256 of the snapshot, and the key check of
//! the master key it was made under: 4 bytes of a derived digest, never the key). Without
//! the master key a backup reveals no identity: identity fields and evidence are sealed.
//!
//! Verifying unpacks the snapshot next to the backup, checks its size and digest, SQLite's
//! `integrity_check`, the row counts, that this installation's master key opens its data
//! keys, and the audit chain. Restoring does the same into the configured database path,
//! which must not exist yet; only a fully checked snapshot is moved into place.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Connection;

use crate::store::Db;
use crate::vault::{crypto::SecretKey, escrow, Vault};

pub const FORMAT: &str = "jubao-backup/1";
const DB_ENTRY: &str = "jubao.db";
const MANIFEST_ENTRY: &str = "manifest.json";
const CHUNK: usize = 1 << 20;

/// What a backup says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub created_at: String,
    pub jubao_version: String,
    pub schema_version: i64,
    /// `escrow::key_check` of the master key, hex: tells the installation, reveals nothing.
    pub key_check: String,
    pub database_bytes: u64,
    pub database_sha256: String,
    /// Rows per table of the snapshot.
    pub tables: BTreeMap<String, i64>,
}

/// What a verification found.
#[derive(Debug)]
pub struct Checked {
    pub manifest: Manifest,
    pub audit_entries: i64,
}

/// Files removed when dropped, unless kept: a failed backup or restore leaves nothing.
struct Scratch(Vec<PathBuf>);

impl Scratch {
    fn keep(mut self) {
        self.0.clear();
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for p in &self.0 {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let mut s = p.clone().into_os_string();
                s.push(suffix);
                let _ = std::fs::remove_file(PathBuf::from(s));
            }
        }
    }
}

fn sibling(path: &Path, tag: &str) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let file = format!(
        ".{}.{tag}-{}",
        name.unwrap_or_default(),
        uuid::Uuid::new_v4().simple()
    );
    dir.map_or_else(|| PathBuf::from(&file), |d| d.join(&file))
}

/// Write a backup of `db` (SQLite) to `out`, which must not exist, marked with the vault's
/// `key_check` (`Vault::key_check_hex`). `progress(done, total)` follows the bytes compressed.
pub async fn create(
    db: &Db,
    key_check: &str,
    out: &Path,
    mut progress: impl FnMut(u64, u64),
) -> anyhow::Result<Manifest> {
    ensure!(
        db.backend == crate::store::Backend::Sqlite,
        "the database is PostgreSQL: back it up with pg_dump (docs/OPERATIONS.md, \"PostgreSQL\")"
    );
    ensure!(
        !out.exists(),
        "{} exists: choose another file name (a backup never overwrites)",
        out.display()
    );
    let snapshot = sibling(out, "snapshot");
    let partial = sibling(out, "partial");
    let scratch = Scratch(vec![snapshot.clone(), partial.clone()]);
    sqlx::query("VACUUM INTO $1")
        .bind(snapshot.to_string_lossy().into_owned())
        .execute(&db.pool)
        .await
        .with_context(|| format!("taking the snapshot next to {}", out.display()))?;
    let (schema_version, tables) = describe(&snapshot).await?;
    let total = std::fs::metadata(&snapshot)?.len();
    let file = std::fs::File::create(&partial)
        .with_context(|| format!("creating {}", partial.display()))?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    zip.start_file(DB_ENTRY, deflated)?;
    let mut reader = std::fs::File::open(&snapshot)?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut done = 0u64;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        zip.write_all(&buf[..n])
            .with_context(|| format!("writing {}", out.display()))?;
        done += n as u64;
        progress(done, total);
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        created_at: crate::store::ts(db.now()),
        jubao_version: env!("CARGO_PKG_VERSION").into(),
        schema_version,
        key_check: key_check.to_string(),
        database_bytes: done,
        database_sha256: hex::encode(hash.finalize()),
        tables,
    };
    zip.start_file(MANIFEST_ENTRY, zip::write::SimpleFileOptions::default())?;
    zip.write_all(&serde_json::to_vec_pretty(&manifest)?)?;
    let file = zip
        .finish()
        .with_context(|| format!("writing {}", out.display()))?
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(|| format!("writing {}", out.display()))?;
    file.sync_all()
        .with_context(|| format!("writing {}", out.display()))?;
    drop(file);
    ensure!(
        !out.exists(),
        "{} appeared while the backup was written: nothing was replaced",
        out.display()
    );
    std::fs::rename(&partial, out).with_context(|| format!("moving into {}", out.display()))?;
    sync_dir(out);
    drop(scratch);
    Ok(manifest)
}

fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

/// Schema version and rows per table of a database file, opened read-only.
async fn describe(path: &Path) -> anyhow::Result<(i64, BTreeMap<String, i64>)> {
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&opts)
        .await
        .context("opening the snapshot")?;
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await?;
    let mut tables = BTreeMap::new();
    for name in names {
        // Names come from the schema itself; quoted as identifiers.
        let sql = format!("SELECT COUNT(*) FROM \"{}\"", name.replace('"', "\"\""));
        let n: i64 = sqlx::query_scalar(&sql).fetch_one(&mut conn).await?;
        tables.insert(name, n);
    }
    let version: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut conn)
            .await
            .context("the snapshot has no migration table: not a jubao database")?;
    conn.close().await?;
    Ok((version.unwrap_or(0), tables))
}

/// Read the manifest and unpack the snapshot of `file` to `dest`, checking its size and
/// digest (and the zip's own checksum).
fn unpack(
    file: &Path,
    dest: &Path,
    progress: &mut impl FnMut(u64, u64),
) -> anyhow::Result<Manifest> {
    let f = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let not_backup = || {
        format!(
            "{} is not a jubao backup (or it is cut short)",
            file.display()
        )
    };
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(f)).with_context(not_backup)?;
    let manifest: Manifest = {
        let entry = zip.by_name(MANIFEST_ENTRY).with_context(not_backup)?;
        let mut text = Vec::new();
        entry
            .take(1 << 20)
            .read_to_end(&mut text)
            .with_context(|| format!("{}: its manifest is damaged", file.display()))?;
        serde_json::from_slice(&text)
            .with_context(|| format!("{}: its manifest is damaged", file.display()))?
    };
    ensure!(
        manifest.format == FORMAT,
        "{}: backup format {:?}, this version reads {FORMAT:?}",
        file.display(),
        manifest.format
    );
    let mut entry = zip.by_name(DB_ENTRY).with_context(not_backup)?;
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dest)
        .with_context(|| format!("creating {}", dest.display()))?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut done = 0u64;
    loop {
        let n = entry
            .read(&mut buf)
            .with_context(|| format!("{}: the database inside is damaged", file.display()))?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        out.write_all(&buf[..n])
            .with_context(|| format!("writing {}", dest.display()))?;
        done += n as u64;
        progress(done, manifest.database_bytes);
    }
    out.sync_all()?;
    let digest = hex::encode(hash.finalize());
    ensure!(
        done == manifest.database_bytes && digest == manifest.database_sha256,
        "{}: the database inside does not match its manifest (size or SHA-256 differs): \
         the backup was changed",
        file.display()
    );
    Ok(manifest)
}

/// Check an unpacked snapshot at `path` against its manifest and `master`.
async fn check(path: &Path, manifest: Manifest, master: &SecretKey) -> anyhow::Result<Checked> {
    let this = hex::encode(escrow::key_check(master));
    ensure!(
        manifest.key_check == this,
        "the backup was made by another installation (its key check is {}, this \
         installation's master key gives {this}): restore it with that installation's master \
         key, or rebuild that key from its shares (`jubao keys combine`)",
        manifest.key_check
    );
    let (version, tables) = describe(path).await?;
    let known = crate::store::latest_migration();
    ensure!(
        version <= known,
        "the backup's schema is version {version}, newer than this jubao (version {known}): \
         restore it with the release that made it"
    );
    ensure!(
        version == manifest.schema_version,
        "the schema version differs from the manifest's"
    );
    if let Some((name, n)) = manifest
        .tables
        .iter()
        .find(|(name, n)| tables.get(*name) != Some(n))
    {
        bail!(
            "table {name}: the manifest counts {n} rows, the database holds {}",
            tables.get(name).copied().unwrap_or(0)
        );
    }
    let url = format!("sqlite://{}", path.display());
    let db = Db::connect(&url, 2).await?;
    let result = async {
        let ok: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&db.pool)
            .await?;
        ensure!(ok == "ok", "SQLite's integrity check failed: {ok}");
        db.migrate().await?;
        let vault = Vault::open(db.clone(), master.clone())
            .await
            .context("this installation's master key does not open the backup's data keys")?;
        let v = crate::audit::verify(vault.db(), vault.audit_key(), None, |_, _| {}).await?;
        if let Some(seq) = v.first_broken {
            bail!(
                "the audit log in the backup is broken at entry {seq}: {}",
                v.problem.unwrap_or_default()
            );
        }
        // Everything back in the database file, so the file alone is the restored database.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&db.pool)
            .await?;
        Ok(v.entries)
    }
    .await;
    db.close().await;
    Ok(Checked {
        manifest,
        audit_entries: result?,
    })
}

/// Verify `file`: unpack it next to itself, check everything, remove the copy.
pub async fn verify(
    file: &Path,
    master: &SecretKey,
    mut progress: impl FnMut(u64, u64),
) -> anyhow::Result<Checked> {
    let copy = sibling(file, "verify");
    let _scratch = Scratch(vec![copy.clone()]);
    let manifest = unpack(file, &copy, &mut progress)?;
    check(&copy, manifest, master).await
}

/// Restore `file` into `db_path`, which must not exist; checked before it is moved there.
pub async fn restore(
    file: &Path,
    db_path: &Path,
    master: &SecretKey,
    mut progress: impl FnMut(u64, u64),
) -> anyhow::Result<Checked> {
    for suffix in ["", "-wal"] {
        let mut p = db_path.as_os_str().to_owned();
        p.push(suffix);
        ensure!(
            !Path::new(&p).exists(),
            "{} exists: a restore goes only into an empty data folder (move the old \
             database away first; nothing was changed)",
            Path::new(&p).display()
        );
    }
    if let Some(dir) = db_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let staged = sibling(db_path, "restore");
    let scratch = Scratch(vec![staged.clone()]);
    let manifest = unpack(file, &staged, &mut progress)?;
    let checked = check(&staged, manifest, master).await?;
    ensure!(
        !db_path.exists(),
        "{} appeared during the restore: nothing was replaced",
        db_path.display()
    );
    std::fs::rename(&staged, db_path)
        .with_context(|| format!("moving into {}", db_path.display()))?;
    scratch.keep();
    for suffix in ["-wal", "-shm"] {
        let mut p = staged.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    sync_dir(db_path);
    Ok(checked)
}
