//! Operations on the installation as a whole: backups of the embedded database, checked
//! and restored (`backup`), and their schedule (`schedule`); the figures the shipped
//! alert rules watch (`metrics`). The master key's escrow by
//! shares is a pure rule (`vault::escrow`, from `crates/rules`).

pub mod backup;
pub mod metrics;
pub mod schedule;
