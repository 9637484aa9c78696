//! Legal deadlines in Chinese working days (DOMAIN §4).

pub mod calendar;
pub mod clocks;
