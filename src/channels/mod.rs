//! Channels: a protocol in, a [`crate::intake::NewTip`] out (and feedback back out).

pub mod hotline;
