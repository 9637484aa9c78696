//! Channels: a protocol in, a [`crate::intake::NewTip`] out (and feedback back out).
//! `wechat` is the WeChat Official Account and WeCom bot (its protocol is `crates/wechat`,
//! its conversation engine `dialog`, its flows `bots/`); `hotline` the 12393/12345 bridge.

pub mod hotline;
pub mod wechat;
