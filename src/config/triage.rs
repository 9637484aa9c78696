//! `[triage]`: where the triage weights come from (docs/related.md).

use serde::{Deserialize, Serialize};

/// Triage weights: a folder of TOML files (one region's dated, versioned weights each, the
/// format of `config/triage/default.toml`); empty: the weights built into the binary.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TriageConfig {
    pub weights_dir: String,
}
