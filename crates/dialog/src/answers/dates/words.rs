//! The named parts of the calendar: days of a week (`上个星期三`), this or last month and
//! their beginning, middle and end (`上个月底`), a month or a day with or without a year (`十月份`, `10月5号`), seasons
//! (`去年冬天`) and festivals (`春节前后`), the last two with their words from the
//! vocabulary and the festival days from the caller's holiday calendar.

use chrono::{Datelike, Duration, Months, NaiveDate};

use super::{last_of_month, Cx, Period};

/// A part of a month: `初` (days 1–10), `中` (11–20), `底` (21 to the end).
fn part_of_month(first: NaiveDate, part: &str) -> Option<Period> {
    let last = last_of_month(first)?;
    let day = |d: u32| first.with_day(d);
    match part {
        "" | "份" | "整月" => Some((first, last)),
        "初" | "头" | "上旬" | "月初" | "月头" | "份初" => Some((first, day(10)?)),
        "中" | "中旬" | "月中" | "份中" => Some((day(11)?, day(20)?)),
        "底" | "末" | "尾" | "下旬" | "月底" | "月末" | "月尾" | "份底" => {
            Some((day(21)?, last))
        }
        _ => None,
    }
}

/// `这个月`, `本月`, `上个月`, `上上个月`, with a part (`上个月底`); `月初`, `月底` alone
/// (the most recent one that has begun).
pub(super) fn month_relative(cx: &Cx<'_>, t: &str) -> Option<Period> {
    let this = cx.today.with_day(1)?;
    let months = [
        (["上上个月", "上上月", "", ""], 2),
        (["上个月", "上月", "last month", "前一个月"], 1),
        (["这个月", "本月", "这月", "this month"], 0),
    ];
    for (words, back) in months {
        for w in words.iter().filter(|w| !w.is_empty()) {
            if let Some(part) = t.strip_prefix(w) {
                let first = this.checked_sub_months(Months::new(back))?;
                // 上个月10号: a day of that month.
                let day = super::arabic(part.trim_end_matches(['号', '日']));
                if let Ok(n) = day.parse::<u32>() {
                    let date = first.with_day(n)?;
                    return (date <= cx.today).then_some((date, date));
                }
                return part_of_month(first, part.trim());
            }
        }
    }
    // 月底 alone: this month's if it has begun, else last month's.
    if matches!(t, "月初" | "月中" | "月底" | "月末" | "月头" | "月尾") {
        let p = part_of_month(this, t)?;
        if p.0 <= cx.today {
            return Some(p);
        }
        return part_of_month(this.checked_sub_months(Months::new(1))?, t);
    }
    None
}

/// `10月`, `10月份`, `10月5号`, `10月中旬`, `5号`, `10/5`, `10.5` (digits already ASCII),
/// in `year` or, with none, the most recent one that is not after today.
pub(super) fn month_day(cx: &Cx<'_>, year: Option<i32>, t: &str) -> Option<Period> {
    let today = cx.today;
    let num = |s: &str| -> Option<u32> {
        (!s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    // The most recent year in which `f` (a date in this year) is not after today.
    let recent = |f: &dyn Fn(i32) -> Option<NaiveDate>| -> Option<NaiveDate> {
        match year {
            Some(y) => f(y),
            None => {
                let d = f(today.year())?;
                if d <= today {
                    Some(d)
                } else {
                    f(today.year() - 1)
                }
            }
        }
    };
    let t = t.trim_end_matches(['日', '号']);
    if let Some((m, rest)) = t
        .split_once('月')
        .or_else(|| t.split_once('/'))
        .or_else(|| t.split_once('.'))
    {
        let m = num(m).filter(|m| (1..=12).contains(m))?;
        let rest = rest.trim_start_matches('份');
        if let Some(d) = num(rest) {
            let date = recent(&|y| NaiveDate::from_ymd_opt(y, m, d))?;
            return Some((date, date));
        }
        let first = recent(&|y| NaiveDate::from_ymd_opt(y, m, 1))?;
        return part_of_month(first, rest);
    }
    // A day of the month alone: this month's, or last month's if it is still to come.
    let d = num(t)?;
    if year.is_some() || !(1..=31).contains(&d) {
        return None;
    }
    let this = today.with_day(1)?;
    let date = match this.with_day(d) {
        Some(x) if x <= today => x,
        _ => this.checked_sub_months(Months::new(1))?.with_day(d)?,
    };
    Some((date, date))
}

/// How a festival or season is placed in time by the words after it.
enum Placing {
    During,
    Around,
    Before,
    After,
}

fn around_of(cx: &Cx<'_>, rest: &str) -> Option<Placing> {
    let rest = rest.trim_start_matches('的');
    let d = &cx.v.dates;
    let is = |list: &[String]| list.iter().any(|w| w == rest);
    if rest.is_empty() || is(&d.during) {
        Some(Placing::During)
    } else if is(&d.around) {
        Some(Placing::Around)
    } else if is(&d.before) {
        Some(Placing::Before)
    } else if is(&d.after) {
        Some(Placing::After)
    } else {
        None
    }
}

fn place((from, to): Period, a: Placing) -> Option<Period> {
    let days = Duration::days;
    Some(match a {
        Placing::During => (from, to),
        Placing::Around => (
            from.checked_sub_signed(days(14))?,
            to.checked_add_signed(days(14))?,
        ),
        Placing::Before => (from.checked_sub_signed(days(30))?, from.pred_opt()?),
        Placing::After => (to.succ_opt()?, to.checked_add_signed(days(30))?),
    })
}

/// `春节`, `春节前后`, `国庆期间`, `去年春节前`: the festival days of `year` (or of the most
/// recent year in which they have begun), placed by the words after.
pub(super) fn festival(cx: &Cx<'_>, year: Option<i32>, t: &str) -> Option<Period> {
    for f in &cx.v.dates.festivals {
        for w in &f.words {
            let Some(rest) = t.strip_prefix(w.as_str()) else {
                continue;
            };
            let a = around_of(cx, rest)?;
            let days = match year {
                Some(y) => (cx.holidays)(&f.code, y)?,
                None => {
                    let y = cx.today.year();
                    match (cx.holidays)(&f.code, y) {
                        Some(p) if p.0 <= cx.today => p,
                        _ => (cx.holidays)(&f.code, y - 1)?,
                    }
                }
            };
            let p = place(days, a)?;
            return (p.0 <= cx.today).then_some(p);
        }
    }
    None
}

/// `冬天`, `去年冬天`, `今年夏天的时候`: the season's months in `year` (winter runs from its
/// December into the next year), or the most recent season that has begun. A winter of the
/// current year that has not begun yet is the one that ended this year.
pub(super) fn season(cx: &Cx<'_>, year: Option<i32>, t: &str) -> Option<Period> {
    for s in &cx.v.dates.seasons {
        for w in &s.words {
            let Some(rest) = t.strip_prefix(w.as_str()) else {
                continue;
            };
            let a = around_of(cx, rest)?;
            let [m1, m2] = s.months;
            let span = |y: i32| -> Option<Period> {
                let from = NaiveDate::from_ymd_opt(y, m1, 1)?;
                let y2 = if m2 < m1 { y + 1 } else { y };
                Some((from, last_of_month(NaiveDate::from_ymd_opt(y2, m2, 1)?)?))
            };
            let y = year.unwrap_or(cx.today.year());
            let mut p = span(y)?;
            if p.0 > cx.today && (year.is_none() || (m2 < m1 && y == cx.today.year())) {
                p = span(y - 1)?;
            }
            let p = place(p, a)?;
            return (p.0 <= cx.today).then_some(p);
        }
    }
    None
}

/// `上个星期三`, `这周一`, `星期五` (the most recent one), `上礼拜天`.
pub(super) fn weekday(today: NaiveDate, monday: NaiveDate, t: &str) -> Option<Period> {
    let weeks: [(&str, Option<i64>); 15] = [
        ("上上个星期", Some(2)),
        ("上上周", Some(2)),
        ("上个星期", Some(1)),
        ("上个礼拜", Some(1)),
        ("上星期", Some(1)),
        ("上礼拜", Some(1)),
        ("上周", Some(1)),
        ("这个星期", Some(0)),
        ("这星期", Some(0)),
        ("这礼拜", Some(0)),
        ("这周", Some(0)),
        ("本周", Some(0)),
        ("星期", None),
        ("礼拜", None),
        ("周", None),
    ];
    for (w, back) in weeks {
        let Some(rest) = t.strip_prefix(w) else {
            continue;
        };
        let idx = match rest {
            "一" | "1" => 0,
            "二" | "2" => 1,
            "三" | "3" => 2,
            "四" | "4" => 3,
            "五" | "5" => 4,
            "六" | "6" => 5,
            "日" | "天" | "7" => 6,
            _ => return None,
        };
        let in_week = |b: i64| monday.checked_add_signed(Duration::days(idx - 7 * b));
        let d = match back {
            Some(b) => in_week(b)?,
            None => match in_week(0)? {
                d if d <= today => d,
                _ => in_week(1)?,
            },
        };
        return (d <= today).then_some((d, d));
    }
    None
}
