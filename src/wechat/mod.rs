//! WeChat Official Account and WeCom callback protocol: signatures, message crypto and the
//! callback XML (CONTRACT §4, shared/WECHAT.md). Pure functions; no I/O.

pub mod crypto;
pub mod xml;
