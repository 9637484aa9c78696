//! Scheduled backups (`[backup]`): one task per instance (the embedded database has one
//! instance). It keeps no state of its own: the newest `jubao-*.zip` in the folder says
//! when the last backup was made, so a restart neither repeats nor skips one.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::config::BackupConfig;
use crate::store::Db;
use crate::vault::Vault;

const PREFIX: &str = "jubao-";
const SUFFIX: &str = ".zip";
/// How long after a failed backup the next attempt is made.
const RETRY_AFTER: Duration = Duration::from_secs(600);

static FAILURES: AtomicU64 = AtomicU64::new(0);

/// Scheduled backups that failed in this process since it started.
pub fn failures() -> u64 {
    FAILURES.load(Ordering::Relaxed)
}

/// The scheduled backups in `folder`, oldest first, with their modification times.
pub fn backups(folder: &Path) -> Vec<(PathBuf, SystemTime)> {
    let mut out: Vec<(PathBuf, SystemTime)> = std::fs::read_dir(folder)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(PREFIX) && name.ends_with(SUFFIX)
        })
        .filter_map(|e| Some((e.path(), e.metadata().ok()?.modified().ok()?)))
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    out
}

/// Seconds since the epoch of the newest scheduled backup, if any.
pub fn last_success(folder: &Path) -> Option<u64> {
    let (_, at) = backups(folder).pop()?;
    Some(at.duration_since(SystemTime::UNIX_EPOCH).ok()?.as_secs())
}

/// How long until the next backup is due.
fn due_in(folder: &Path, interval: Duration) -> Duration {
    match backups(folder).pop() {
        None => Duration::ZERO,
        Some((_, at)) => {
            let age = SystemTime::now().duration_since(at).unwrap_or_default();
            interval.saturating_sub(age)
        }
    }
}

/// Make one scheduled backup now and delete the oldest beyond `keep`.
pub async fn run_once(db: &Db, vault: &Vault, cfg: &BackupConfig) -> anyhow::Result<PathBuf> {
    let folder = Path::new(cfg.folder.trim());
    std::fs::create_dir_all(folder)?;
    let name = format!("{PREFIX}{}{SUFFIX}", db.now().format("%Y%m%dT%H%M%S%.3fZ"));
    let out = folder.join(name);
    super::backup::create(db, &vault.key_check_hex(), &out, |_, _| {}).await?;
    let all = backups(folder);
    let excess = all.len().saturating_sub(cfg.keep as usize);
    for (old, _) in all.into_iter().take(excess) {
        if let Err(e) = std::fs::remove_file(&old) {
            tracing::warn!(error = %e, "could not delete an old backup");
        }
    }
    Ok(out)
}

/// Start the schedule, when `[backup] folder` is set.
pub fn spawn(db: Db, vault: Arc<Vault>, cfg: BackupConfig) -> Option<tokio::task::JoinHandle<()>> {
    if !cfg.enabled() {
        return None;
    }
    Some(tokio::spawn(async move {
        let interval = cfg.interval_hours.std();
        loop {
            tokio::time::sleep(due_in(Path::new(cfg.folder.trim()), interval)).await;
            match run_once(&db, &vault, &cfg).await {
                Ok(out) => tracing::info!(file = %out.display(), "scheduled backup written"),
                Err(e) => {
                    FAILURES.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(error = %format!("{e:#}"), "scheduled backup failed");
                    tokio::time::sleep(RETRY_AFTER).await;
                }
            }
        }
    }))
}
