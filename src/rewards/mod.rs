//! Rewards (DOMAIN §5): policies as data, the pure reward computation, and sharing; the
//! reward's life from proposal to payment ([`flow`]); the lead ledger export ([`ledger`])
//! and the statistics behind the console's charts ([`stats`]).
mod error;
pub mod flow;
pub mod ledger;
/// The policy computation and sharing are pure rules (`crates/rules`).
pub use jubao_rules::{policy, share};
pub mod stats;

pub use error::RewardError;

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

/// The reward steps that case operations start, registered in the workflow at start-up.
pub struct Steps;

impl crate::workflow::RewardSteps for Steps {
    fn reward_due<'a, 'b: 'a>(
        &'a self,
        op: &'a mut crate::workflow::Op<'b>,
    ) -> futures_util::future::BoxFuture<'a, AppResult<()>> {
        Box::pin(flow::open_notice_clock(op))
    }
}

/// Claim reminders and expiry ([`flow::sweep`]) as the outbox worker's periodic task; it is
/// registered before the deadline sweep, so an expired reward's claim clock closes rather
/// than escalates.
pub struct Sweeper(pub crate::workflow::Workflow);

impl crate::notify::worker::Periodic for Sweeper {
    fn tick(&self) -> futures_util::future::BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            let today = crate::deadlines::calendar::shanghai_date(self.0.db.now());
            flow::sweep(&self.0, today).await?;
            Ok(())
        })
    }
}
