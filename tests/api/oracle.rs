//! Expected deadlines from an independent implementation, never the calendar under test.
//!
//! Which days are working days comes from the `chinesecalendar` Python package (its authors'
//! own entry of the State Council notices), through `tests/support/workdays.py`; days of a
//! year it has no data for are weekdays/weekends only and marked unknown. The counting
//! below is written here, from DOMAIN §4, not taken from the server's code.

use std::collections::BTreeMap;
use std::process::Command;

use chrono::{Datelike, Duration, Months, NaiveDate, Weekday};

#[derive(Clone, Copy)]
struct Day {
    work: bool,
    /// The package has this year's notice.
    known: bool,
}

pub struct Oracle {
    days: BTreeMap<NaiveDate, Day>,
}

/// The oracle for `from..=to`; `None` (after one `SKIPPED` line) when python3 or the
/// package is missing outside CI. Under CI it must be there.
pub fn load(what: &str, from: NaiveDate, to: NaiveDate) -> Option<Oracle> {
    use crate::tools::{need, CHINESECALENDAR, PYTHON3};
    if !need(what, &[PYTHON3, CHINESECALENDAR]) {
        return None;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/workdays.py");
    let out = Command::new("python3")
        .args([script, &from.to_string(), &to.to_string()])
        .output();
    let out = out.expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut days = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let (d, flag) = line.split_once(' ').unwrap();
        let day = Day {
            work: flag.ends_with('W'),
            known: !flag.starts_with('?'),
        };
        days.insert(d.parse().unwrap(), day);
    }
    Some(Oracle { days })
}

fn weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

impl Oracle {
    fn day(&self, d: NaiveDate) -> Day {
        *self
            .days
            .get(&d)
            .unwrap_or_else(|| panic!("{d} is outside the oracle's range"))
    }

    /// Add a year's notice of our own (a test's synthetic `cn-YYYY.toml`).
    pub fn with_year(&mut self, year: i32, off: &[NaiveDate], work: &[NaiveDate]) {
        for (d, day) in self.days.iter_mut() {
            if d.year() == year {
                *day = Day {
                    work: work.contains(d) || (!weekend(*d) && !off.contains(d)),
                    known: true,
                };
            }
        }
    }

    /// The Nth working day after `start` (the start day is not counted).
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        let mut d = start;
        let mut left = n;
        while left > 0 {
            d += Duration::days(1);
            if self.day(d).work {
                left -= 1;
            }
        }
        d
    }

    /// A period's last day moved off rest days (Civil Code art. 203).
    pub fn on_or_after(&self, mut d: NaiveDate) -> NaiveDate {
        while !self.day(d).work {
            d += Duration::days(1);
        }
        d
    }

    pub fn add_months(&self, start: NaiveDate, n: u32) -> NaiveDate {
        self.on_or_after(start.checked_add_months(Months::new(n)).unwrap())
    }

    /// Whether every day after `start` up to `end` is in a year with a notice.
    pub fn known_through(&self, start: NaiveDate, end: NaiveDate) -> bool {
        let mut d = start + Duration::days(1);
        while d <= end {
            if !self.day(d).known {
                return false;
            }
            d += Duration::days(1);
        }
        true
    }

    /// Working days in `(a, b]`.
    pub fn working_days_between(&self, a: NaiveDate, b: NaiveDate) -> u32 {
        let mut n = 0;
        let mut d = a + Duration::days(1);
        while d <= b {
            n += u32::from(self.day(d).work);
            d += Duration::days(1);
        }
        n
    }
}
