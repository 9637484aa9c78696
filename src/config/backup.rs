//! `[backup]`: scheduled backups of the embedded database (docs/OPERATIONS.md).

use serde::{Deserialize, Serialize};

use super::units::Hours;

/// Scheduled backups: every `interval_hours`, a `jubao backup` into `folder`, keeping the
/// newest `keep`. Off while `folder` is empty (the default). SQLite only: PostgreSQL is
/// backed up with its own tools.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackupConfig {
    pub folder: String,
    pub interval_hours: Hours,
    pub keep: u32,
}

impl Default for BackupConfig {
    fn default() -> Self {
        Self {
            folder: String::new(),
            interval_hours: Hours::new(24),
            keep: 7,
        }
    }
}

impl BackupConfig {
    pub fn enabled(&self) -> bool {
        !self.folder.trim().is_empty()
    }
}
