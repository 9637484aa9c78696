//! jubao (举报): intake, case handling and rewards for tips about fraud against China's
//! medical-insurance fund. See README.md for the architecture map.
//!
//! Data flows one way: channel (web) → intake → vault/store → workflow → notify.

pub mod audit;
pub mod channels;
pub mod cli;
pub mod config;
pub mod deadlines;
/// The types every layer uses: a module of the pure rules crate (`crates/rules`).
pub use jubao_rules::domain;
pub mod error;
pub mod evidence;
pub mod i18n;
pub mod intake;
pub mod notify;
pub mod ops;
pub mod rewards;
pub mod staff;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod vault;
pub mod web;
pub mod wechat;
pub mod workflow;

/// The one rule for tests that need a program from outside the Rust toolchain.
#[cfg(test)]
#[path = "../tests/support/tools.rs"]
mod test_tools;
