//! jubao (举报): intake, case handling and rewards for tips about fraud against China's
//! medical-insurance fund. See README.md for the architecture map.

pub mod config;
pub mod error;
pub mod evidence;
pub mod i18n;
