//! WeChat Official Account and WeCom callback protocol: signatures, message crypto and the
//! callback XML (CONTRACT §4, shared/WECHAT.md). Pure functions; no I/O.
//!
//! It is a crate of its own, with none of the service's dependencies, so that the fuzz
//! targets in `fuzz/` build and instrument only this code. The service re-exports it as
//! `jubao::wechat`.

pub mod crypto;
pub mod xml;

/// The one rule for tests that need a program from outside the Rust toolchain.
#[cfg(test)]
#[path = "../../../tests/support/tools.rs"]
mod test_tools;
