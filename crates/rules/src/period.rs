//! Periods and their last day (DOMAIN §4).
//!
//! - A period of N working days ends with the Nth working day after the day it starts
//!   (the start day is not counted).
//! - A period of months or calendar days (the 3- and 6-month extensions, the 60- or 90-day
//!   claim window) ends on the corresponding day; a month without that day ends on its last
//!   day; and a last day that is a rest day or public holiday moves to the next working day
//!   (Civil Code arts. 201–203).
//!
//! A due date is *provisional* when its computation crossed a day of a year whose holiday
//! notice is not loaded: adding that year's file recomputes it ([`Period::due`] again).

use chrono::{Days, Months, NaiveDate};

use super::calendar::Calendar;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    WorkingDays(u32),
    Months(u32),
    Days(u32),
}

/// A computed last day, and whether it may still move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    pub on: NaiveDate,
    pub provisional: bool,
}

impl Period {
    /// The stored unit name (`clocks.period_unit`).
    pub fn unit(self) -> &'static str {
        match self {
            Period::WorkingDays(_) => "working_days",
            Period::Months(_) => "months",
            Period::Days(_) => "days",
        }
    }

    pub fn length(self) -> u32 {
        match self {
            Period::WorkingDays(n) | Period::Months(n) | Period::Days(n) => n,
        }
    }

    /// Read back from `clocks.period_unit` and `clocks.period_len`.
    pub fn from_stored(unit: &str, len: i64) -> Option<Period> {
        let n = u32::try_from(len).ok()?;
        match unit {
            "working_days" => Some(Period::WorkingDays(n)),
            "months" => Some(Period::Months(n)),
            "days" => Some(Period::Days(n)),
            _ => None,
        }
    }

    /// The last day of this period started on `start`, under `cal`.
    pub fn due(self, cal: &Calendar, start: NaiveDate) -> Due {
        let on = match self {
            Period::WorkingDays(n) => cal.add_working_days(start, n),
            Period::Months(n) => calendar_end(cal, start.checked_add_months(Months::new(n))),
            Period::Days(n) => calendar_end(cal, start.checked_add_days(Days::new(u64::from(n)))),
        };
        Due {
            on,
            provisional: !cal.covers_span(start, on),
        }
    }
}

/// The reminder date for a due date: `before` working days earlier, but never before the
/// clock started.
pub fn remind_on(cal: &Calendar, start: NaiveDate, due: NaiveDate, before: u32) -> NaiveDate {
    cal.sub_working_days(due, before).max(start)
}

/// The last day of a calendar period: moved off rest days (art. 203). chrono's month
/// arithmetic already ends a short month on its last day (art. 202).
fn calendar_end(cal: &Calendar, end: Option<NaiveDate>) -> NaiveDate {
    let end = end.unwrap_or(NaiveDate::MAX);
    if end == NaiveDate::MAX {
        return end;
    }
    cal.working_day_on_or_after(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::Origin;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// The rest-day table of the calendar issue (Civil Code art. 203), checked against the
    /// State Council notices by hand: 2025-10-04 is in the National Day holiday (1–8
    /// October), 2026-02-17 in the Spring Festival (15–23 February), 2026-01-31 a Saturday.
    #[test]
    fn calendar_periods_ending_on_a_rest_day_move_to_the_next_working_day() {
        let cal = Calendar::built_in();
        for (start, period, due) in [
            ("2025-07-04", Period::Months(3), "2025-10-09"),
            ("2025-11-17", Period::Months(3), "2026-02-24"),
            ("2025-12-02", Period::Days(60), "2026-02-02"),
            // A working last day stays put.
            ("2025-03-03", Period::Months(3), "2025-06-03"),
            // 2025-04-06 is in the Qingming holiday (4–6 April).
            ("2025-01-06", Period::Days(90), "2025-04-07"),
            // A month without the day ends on its last day (2026-02-28 is a make-up
            // working Saturday, so it stays).
            ("2025-08-31", Period::Months(6), "2026-02-28"),
            // 2025-11-30 is a Sunday: Monday 1 December.
            ("2025-05-31", Period::Months(6), "2025-12-01"),
        ] {
            let got = period.due(&cal, d(start));
            assert_eq!(got.on, d(due), "{start} + {period:?}");
            assert!(!got.provisional, "{start} + {period:?}");
        }
    }

    #[test]
    fn working_day_periods_do_not_count_the_start_day() {
        let cal = Calendar::built_in();
        let got = Period::WorkingDays(15).due(&cal, d("2026-02-13"));
        assert_eq!(got.on, d("2026-03-12"));
        assert!(!got.provisional);
    }

    #[test]
    fn a_period_into_a_year_without_a_notice_is_provisional_until_it_is_added() {
        let mut cal = Calendar::built_in();
        let start = d("2026-12-18");
        let before = Period::WorkingDays(15).due(&cal, start);
        // Weekends only in 2027: 21–25, 28–31 Dec (9), then 1, 4–8 Jan.
        assert_eq!(before.on, d("2027-01-08"));
        assert!(before.provisional);
        cal.add_year(
            "cn-2027.toml",
            "year = 2027\noff = [\"2027-01-01\"]\nwork = []\n",
            Origin::BuiltIn,
        )
        .unwrap();
        let after = Period::WorkingDays(15).due(&cal, start);
        assert_eq!(after.on, d("2027-01-11"));
        assert!(!after.provisional);
        // A claim window ending in 2027 is provisional too.
        assert!(
            Period::Days(60)
                .due(&Calendar::built_in(), d("2026-11-20"))
                .provisional
        );
    }

    /// 2026-03-12 is a Thursday: three working days earlier is Monday 9 March; a reminder
    /// that would fall before the clock started falls on its start day instead.
    #[test]
    fn reminders_come_working_days_before_and_never_before_the_start() {
        let cal = Calendar::built_in();
        assert_eq!(
            remind_on(&cal, d("2026-02-13"), d("2026-03-12"), 3),
            d("2026-03-09")
        );
        // Across the Spring Festival (rest 15–23 February 2026, Saturday 14 February a
        // make-up working day): before Wednesday 25 February come the 24th, the 14th, the 13th.
        assert_eq!(
            remind_on(&cal, d("2026-02-01"), d("2026-02-25"), 3),
            d("2026-02-13")
        );
        assert_eq!(
            remind_on(&cal, d("2026-03-10"), d("2026-03-12"), 5),
            d("2026-03-10")
        );
        assert_eq!(
            remind_on(&cal, d("2026-03-10"), d("2026-03-12"), 0),
            d("2026-03-12")
        );
    }

    #[test]
    fn stored_form_round_trips() {
        for p in [Period::WorkingDays(15), Period::Months(3), Period::Days(60)] {
            assert_eq!(
                Period::from_stored(p.unit(), i64::from(p.length())),
                Some(p)
            );
        }
        assert_eq!(Period::from_stored("weeks", 2), None);
        assert_eq!(Period::from_stored("days", -1), None);
    }
}
