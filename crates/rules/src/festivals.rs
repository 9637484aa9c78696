//! Festival days off, read from the holiday calendar, for the bots' date answers (`春节前后`,
//! `国庆期间`; `dialog::Checks::holiday`). A festival is the run of consecutive rest days
//! (the notice's days off and the weekends joined to them) that the State Council's notice
//! gives it: the one containing its fixed day (元旦, 劳动节, 国庆节), or the longest of at least
//! three days in its season for the lunar ones (春节, 清明节, 端午节, 中秋节 — a 中秋节 that
//! joins 国庆节, as in 2025, is that run). Only years with a loaded notice are known.

use chrono::NaiveDate;

use super::calendar::Calendar;

/// The first and last day off of festival `code` in `year`, or `None` when the code is
/// unknown or the year has no notice.
pub fn festival(cal: &Calendar, code: &str, year: i32) -> Option<(NaiveDate, NaiveDate)> {
    if !cal.years().any(|y| y == year) {
        return None;
    }
    let d = |m: u32, day: u32| NaiveDate::from_ymd_opt(year, m, day);
    match code {
        "new_year" => run_containing(cal, d(1, 1)?),
        "spring_festival" => longest_run(cal, d(1, 15)?, d(2, 28)?, None),
        "qingming" => {
            longest_run(cal, d(4, 1)?, d(4, 8)?, None).or_else(|| run_containing(cal, d(4, 5)?))
        }
        "labour_day" => run_containing(cal, d(5, 1)?),
        "dragon_boat" => longest_run(cal, d(5, 25)?, d(6, 25)?, None),
        "mid_autumn" => longest_run(cal, d(9, 8)?, d(10, 8)?, d(10, 1))
            .or_else(|| run_containing(cal, d(10, 1)?)),
        "national_day" => run_containing(cal, d(10, 1)?),
        _ => None,
    }
}

/// The rest days around `day` (none if it is a working day), at most three weeks.
fn run_containing(cal: &Calendar, day: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    if cal.is_working_day(day) {
        return None;
    }
    let (mut a, mut b) = (day, day);
    for _ in 0..21 {
        match a.pred_opt() {
            Some(p) if !cal.is_working_day(p) => a = p,
            _ => break,
        }
    }
    for _ in 0..21 {
        match b.succ_opt() {
            Some(n) if !cal.is_working_day(n) => b = n,
            _ => break,
        }
    }
    Some((a, b))
}

/// The longest run of at least three rest days starting from `from` to `to`, leaving out a
/// run that contains `not` (the 国庆节 run when looking for 中秋节).
fn longest_run(
    cal: &Calendar,
    from: NaiveDate,
    to: NaiveDate,
    not: Option<NaiveDate>,
) -> Option<(NaiveDate, NaiveDate)> {
    let mut best: Option<(NaiveDate, NaiveDate)> = None;
    let mut day = from;
    while day <= to {
        if let Some((a, b)) = run_containing(cal, day) {
            let len = (b - a).num_days() + 1;
            let excluded = not.is_some_and(|n| a <= n && n <= b);
            let longer = best.map_or(true, |(x, y)| len > (y - x).num_days() + 1);
            if len >= 3 && !excluded && longer {
                best = Some((a, b));
            }
            day = b;
        }
        day = day.succ_opt()?;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn festivals_from_the_shipped_notices() {
        let cal = Calendar::built_in();
        let f = |code, year| festival(&cal, code, year);
        assert_eq!(
            f("spring_festival", 2026),
            Some((d("2026-02-15"), d("2026-02-23")))
        );
        assert_eq!(
            f("spring_festival", 2025),
            Some((d("2025-01-28"), d("2025-02-04")))
        );
        assert_eq!(
            f("spring_festival", 2024),
            Some((d("2024-02-10"), d("2024-02-17")))
        );
        assert_eq!(
            f("national_day", 2025),
            Some((d("2025-10-01"), d("2025-10-08")))
        );
        assert_eq!(
            f("national_day", 2026),
            Some((d("2026-10-01"), d("2026-10-07")))
        );
        // 2025: 中秋节 (10-06) joined 国庆节.
        assert_eq!(
            f("mid_autumn", 2025),
            Some((d("2025-10-01"), d("2025-10-08")))
        );
        assert_eq!(
            f("mid_autumn", 2026),
            Some((d("2026-09-25"), d("2026-09-27")))
        );
        assert_eq!(
            f("mid_autumn", 2024),
            Some((d("2024-09-15"), d("2024-09-17")))
        );
        // A Monday holiday joined to its weekend.
        assert_eq!(
            f("dragon_boat", 2024),
            Some((d("2024-06-08"), d("2024-06-10")))
        );
        assert_eq!(
            f("new_year", 2025),
            Some((d("2025-01-01"), d("2025-01-01")))
        );
        assert_eq!(
            f("new_year", 2026),
            Some((d("2026-01-01"), d("2026-01-03")))
        );
        assert_eq!(
            f("labour_day", 2026),
            Some((d("2026-05-01"), d("2026-05-05")))
        );
        assert_eq!(
            f("qingming", 2025),
            Some((d("2025-04-04"), d("2025-04-06")))
        );
        // No notice, no festival; unknown codes are unknown.
        assert_eq!(f("spring_festival", 2023), None);
        assert_eq!(f("harvest", 2026), None);
    }

    #[test]
    fn a_year_without_a_notice_has_no_festival_even_on_a_weekend() {
        let cal = Calendar::built_in();
        // 2023-01-01 is a Sunday: a plain weekend would make a run, but 2023 has no notice.
        assert!(!cal.years().any(|y| y == 2023));
        assert_eq!(festival(&cal, "new_year", 2023), None);
    }

    #[test]
    fn a_run_reaches_back_and_forward_from_any_of_its_days() {
        let cal = Calendar::built_in();
        assert_eq!(
            run_containing(&cal, d("2026-03-08")),
            Some((d("2026-03-07"), d("2026-03-08")))
        );
        assert_eq!(
            run_containing(&cal, d("2026-10-04")),
            Some((d("2026-10-01"), d("2026-10-07")))
        );
        assert_eq!(run_containing(&cal, d("2026-03-09")), None);
    }

    #[test]
    fn the_longest_run_wins_and_the_first_of_equals_is_kept() {
        let cal = Calendar::built_in();
        // 清明 (3 days) then 劳动节 (5 days): the longer.
        assert_eq!(
            longest_run(&cal, d("2026-04-01"), d("2026-05-10"), None),
            Some((d("2026-05-01"), d("2026-05-05")))
        );
        // 清明 2025 and 端午 2025 are 3 days each, 劳动节 left out: the first.
        assert_eq!(
            longest_run(
                &cal,
                d("2025-04-01"),
                d("2025-06-10"),
                Some(d("2025-05-01"))
            ),
            Some((d("2025-04-04"), d("2025-04-06")))
        );
        // Only weekends: none is three days.
        assert_eq!(
            longest_run(&cal, d("2026-03-01"), d("2026-03-31"), None),
            None
        );
    }
}
