//! A period read back in plain words, as the summary shows it: `2025年10月5日`,
//! `2025年10月`, `2025年`, `2026年2月21日到28日`, `2025年12月到2026年2月`; in English
//! `5 October 2025`, `October 2025`, `21–28 February 2026`, `December 2025 to February 2026`.

use chrono::{Datelike, NaiveDate};

use super::last_of_month;
use crate::Locale;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// `from`–`to` in plain words for `locale`.
pub fn describe_period(from: NaiveDate, to: NaiveDate, locale: Locale) -> String {
    let whole_months = from.day() == 1 && last_of_month(to) == Some(to);
    let whole_years = whole_months && from.month() == 1 && to.month() == 12;
    let (y1, m1, d1) = (from.year(), from.month(), from.day());
    let (y2, m2, d2) = (to.year(), to.month(), to.day());
    let en_m = |m: u32| MONTHS[(m as usize + 11) % 12];
    match locale {
        Locale::ZhCn => {
            if from == to {
                format!("{y1}年{m1}月{d1}日")
            } else if whole_years && y1 == y2 {
                format!("{y1}年")
            } else if whole_years {
                format!("{y1}年到{y2}年")
            } else if whole_months && y1 == y2 && m1 == m2 {
                format!("{y1}年{m1}月")
            } else if whole_months && y1 == y2 {
                format!("{y1}年{m1}月到{m2}月")
            } else if whole_months {
                format!("{y1}年{m1}月到{y2}年{m2}月")
            } else if y1 == y2 && m1 == m2 {
                format!("{y1}年{m1}月{d1}日到{d2}日")
            } else if y1 == y2 {
                format!("{y1}年{m1}月{d1}日到{m2}月{d2}日")
            } else {
                format!("{y1}年{m1}月{d1}日到{y2}年{m2}月{d2}日")
            }
        }
        Locale::En => {
            if from == to {
                format!("{d1} {} {y1}", en_m(m1))
            } else if whole_years && y1 == y2 {
                format!("{y1}")
            } else if whole_years {
                format!("{y1} to {y2}")
            } else if whole_months && y1 == y2 && m1 == m2 {
                format!("{} {y1}", en_m(m1))
            } else if whole_months && y1 == y2 {
                format!("{} to {} {y1}", en_m(m1), en_m(m2))
            } else if whole_months {
                format!("{} {y1} to {} {y2}", en_m(m1), en_m(m2))
            } else if y1 == y2 && m1 == m2 {
                format!("{d1}–{d2} {} {y1}", en_m(m1))
            } else if y1 == y2 {
                format!("{d1} {} to {d2} {} {y1}", en_m(m1), en_m(m2))
            } else {
                format!("{d1} {} {y1} to {d2} {} {y2}", en_m(m1), en_m(m2))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn periods_in_plain_words() {
        let zh = |a, b| describe_period(a, b, Locale::ZhCn);
        assert_eq!(zh(d(2025, 10, 5), d(2025, 10, 5)), "2025年10月5日");
        assert_eq!(zh(d(2025, 10, 1), d(2025, 10, 31)), "2025年10月");
        assert_eq!(zh(d(2025, 1, 1), d(2025, 12, 31)), "2025年");
        assert_eq!(zh(d(2026, 2, 21), d(2026, 2, 28)), "2026年2月21日到28日");
        assert_eq!(zh(d(2025, 12, 1), d(2026, 2, 28)), "2025年12月到2026年2月");
        assert_eq!(zh(d(2025, 3, 1), d(2025, 5, 31)), "2025年3月到5月");
        assert_eq!(zh(d(2026, 2, 1), d(2026, 3, 10)), "2026年2月1日到3月10日");
        let en = |a, b| describe_period(a, b, Locale::En);
        assert_eq!(en(d(2025, 10, 5), d(2025, 10, 5)), "5 October 2025");
        assert_eq!(
            en(d(2025, 12, 1), d(2026, 2, 28)),
            "December 2025 to February 2026"
        );
        assert_eq!(en(d(2026, 2, 21), d(2026, 2, 28)), "21–28 February 2026");
    }
}
