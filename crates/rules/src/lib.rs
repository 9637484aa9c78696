//! The pure rules of jubao: no database, no network, no clock of their own. Everything here
//! is a function of its arguments (and of the data files it is given), so it is tested on
//! its own and mutation-tested quickly (docs/TESTING.md):
//!
//! - [`domain`]: the types every layer uses (channel, status, categories, region codes and
//!   how they cover each other, resident ID, phone, tracking codes, money);
//! - [`calendar`], [`festivals`], [`period`]: Chinese working days in Asia/Shanghai from the
//!   State Council's yearly notice, and the last day of a legal period (DOMAIN §4);
//! - [`policy`], [`share`]: regional reward policy as data, the reward computation and its
//!   sharing among joint reporters (DOMAIN §5);
//! - [`escrow`]: the master key as Shamir shares for custodians to keep on paper;
//! - [`similar`]: whether two tips tell the same facts (normalized descriptions, MinHash
//!   buckets, the reasons and score of a link between tips);
//! - [`triage`], [`dated`]: a tip's priority with its explanation from regional triage weights,
//!   and the one rule that picks dated, versioned regional policy data;
//! - [`crypto`]: AES-256-GCM sealing bound to its context, key derivation and keyed digests
//!   (the vault's primitives; the vault keeps the keys).
//!
//! The service re-exports each module where it lives in the house (`jubao::domain`,
//! `jubao::deadlines::calendar`, `jubao::rewards::policy`, `jubao::vault::crypto`).

pub mod calendar;
pub mod crypto;
pub mod dated;
pub mod domain;
pub mod escrow;
pub mod festivals;
pub mod period;
pub mod policy;
pub mod retention;
pub mod share;
pub mod similar;
pub mod triage;
