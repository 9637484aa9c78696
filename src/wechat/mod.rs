//! WeChat Official Account and WeCom callback protocol: signatures, message crypto and the
//! callback XML (CONTRACT §4, shared/WECHAT.md). The code lives in the `jubao-wechat` crate
//! (`crates/wechat`), which the fuzz targets build on their own; it is re-exported here.

pub use jubao_wechat::{crypto, xml};
