//! Legal deadlines in Chinese working days (DOMAIN §4): the holiday calendar, periods and
//! their last day, the regional deadline rules, and the clocks of each case.

pub mod clocks;
pub mod published;
pub mod rules;

/// The calendar, the festivals and periods are pure rules (`crates/rules`).
pub use jubao_rules::{calendar, festivals, period};

use std::sync::Arc;

use arc_swap::ArcSwap;
use chrono::NaiveDate;

use calendar::Calendar;

/// The calendar in force in this process. Every instance follows the calendar published in
/// the database ([`published`]): when a year is added, each swaps it in within seconds.
#[derive(Clone)]
pub struct Calendars(Arc<ArcSwap<Calendar>>);

impl Calendars {
    pub fn new(cal: Calendar) -> Self {
        Self(Arc::new(ArcSwap::from_pointee(cal)))
    }

    /// The calendar now in force (a cheap handle; hold it for one computation).
    pub fn current(&self) -> Arc<Calendar> {
        self.0.load_full()
    }

    pub fn replace(&self, cal: Calendar) {
        self.0.store(Arc::new(cal));
    }
}

/// The first instant of Asia/Shanghai day `d` in the stored UTC form ([`crate::store::ts`]):
/// the lower bound for "received on or after `d`".
pub fn day_start_utc(d: NaiveDate) -> String {
    crate::store::ts(calendar::day_start(d))
}
