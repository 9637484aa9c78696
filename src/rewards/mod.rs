//! Rewards (DOMAIN §5): policies as data, the pure reward computation, and sharing; the
//! reward's life from proposal to payment ([`flow`]); the lead ledger export ([`ledger`])
//! and the statistics behind the console's charts ([`stats`]).
pub mod flow;
pub mod ledger;
pub mod policy;
pub mod share;
pub mod stats;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::config::Config;
use crate::error::{AppError, AppResult};
use policy::PolicySet;

/// The policies named by `[rewards] policies_dir` (built-in when empty). Policy files are
/// read-only data, like the locale files: loaded once per folder and shared; start-up loads
/// them first, so a bad file stops the service with its line named.
pub fn policies(config: &Config) -> AppResult<Arc<PolicySet>> {
    load_policies(&config.rewards.policies_dir).map_err(AppError::internal)
}

pub fn load_policies(dir: &str) -> anyhow::Result<Arc<PolicySet>> {
    static LOADED: OnceLock<Mutex<HashMap<String, Arc<PolicySet>>>> = OnceLock::new();
    let cache = LOADED.get_or_init(Default::default);
    if let Some(set) = cache
        .lock()
        .map_err(|_| anyhow::anyhow!("policy cache poisoned"))?
        .get(dir)
    {
        return Ok(set.clone());
    }
    let set = if dir.is_empty() {
        PolicySet::built_in()?
    } else {
        PolicySet::load_dir(dir)?
    };
    let set = Arc::new(set);
    cache
        .lock()
        .map_err(|_| anyhow::anyhow!("policy cache poisoned"))?
        .insert(dir.to_string(), set.clone());
    Ok(set)
}
