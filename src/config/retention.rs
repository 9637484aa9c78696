//! `[retention]`: how long reporter data is kept and when the daily purge runs
//! (`docs/retention.md`). The periods themselves are regional, dated policy data in
//! `policies_dir`; these keys say where it is and how the run works.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Folder of retention policy files (region, effective date, version); empty: the
    /// built-in copy of `config/retention/`.
    pub policies_dir: String,
    /// New case keys are wrapped for this many days ahead; the daily run re-wraps them
    /// before then. A backup forgets a purged case at most this long after the later of
    /// the purge and the backup.
    pub key_horizon_days: u32,
    /// Cases looked at per batch of the run (each purged case is its own transaction).
    pub batch: u32,
    /// Whether this instance runs the daily purge (one instance a day does, whichever
    /// claims the day first).
    pub enabled: bool,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            policies_dir: String::new(),
            key_horizon_days: 30,
            batch: 500,
            enabled: true,
        }
    }
}

impl super::Config {
    /// `[keys] shred_key_file`, or `shred.key` beside the master key file.
    pub fn shred_key_path(&self) -> std::path::PathBuf {
        match self.keys.shred_key_file.trim() {
            "" => self.master_key_path().with_file_name("shred.key"),
            f => std::path::PathBuf::from(f),
        }
    }
}
