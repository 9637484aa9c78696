//! When something happened, as people say it, read as a period `(from, to)` of days in
//! China (Asia/Shanghai), never after `today`:
//!
//! - numbers: `2026-10-05`, `2026.10.5`, `2026/10/5`, `2026年10月5日`, `26年10月`,
//!   `二〇二五年三月`, a month or a day without a year (`十月份`, `10月5号`, `5号`, `10/5`:
//!   the most recent one that is not in the future), parts of a month (`三月初`, `上个月底`,
//!   `十月中旬`);
//! - relative: `今天`, `昨天晚上`, `前几天`, `上周`, `上个月`, `三个月前`, `半年前`, `去年`,
//!   `前年`, `今年上半年`, `去年年底`;
//! - seasons and festivals (`去年冬天`, `今年夏天`, `春节前后`, `国庆期间`), the festival days
//!   from the caller's holiday calendar ([`crate::Checks::holiday`]);
//! - durations up to today (`最近半年`, `这两年`, `一年多了`, `从去年到现在`), and ranges of
//!   two of these (`2025年3月到5月`, `去年十月至今年一月`).
//!
//! The words are vocabulary (`bots/understanding.toml`); the grammar is here and in
//! `dates/words.rs` (festivals, seasons, parts of a month) and `dates/readback.rs` (the
//! period in plain words).

mod readback;
mod words;

pub use readback::describe_period;

use chrono::{Datelike, Duration, Months, NaiveDate};

use super::normalize_text;
use super::numbers::{cn_digit, cn_unit, parse_small_int};
use crate::vocab::{strip_words, Vocabulary};

/// The caller's holiday calendar: the first and last day off of a festival (by its code,
/// e.g. `spring_festival`) in a year, or `None` when that year's notice is not known.
pub type Holidays<'a> = &'a dyn Fn(&str, i32) -> Option<(NaiveDate, NaiveDate)>;

/// A period of days.
pub type Period = (NaiveDate, NaiveDate);

/// No holiday calendar: festivals are not understood.
pub fn no_holidays(_: &str, _: i32) -> Option<Period> {
    None
}

/// When something happened, with the shipped vocabulary and no holiday calendar. See
/// [`understand_when`].
pub fn parse_when(s: &str, today: NaiveDate) -> Option<Period> {
    understand_when(s, today, Vocabulary::built_in(), &no_holidays)
}

/// When something happened, as a period not after `today` (see the module comment).
pub fn understand_when(
    text: &str,
    today: NaiveDate,
    v: &Vocabulary,
    holidays: Holidays<'_>,
) -> Option<Period> {
    let w = normalize_text(text).to_lowercase();
    let w: String = if w.chars().any(|c| c.is_ascii_alphabetic()) {
        w.split_whitespace().collect::<Vec<_>>().join(" ")
    } else {
        w.chars().filter(|c| !c.is_whitespace()).collect()
    };
    let cx = Cx { today, v, holidays };
    // With the fillers off, or as said (一年多了: the 了 is no filler there).
    let t = strip_words(&w, &v.fillers.before, &v.fillers.after);
    let p = cx.range(t).or_else(|| cx.range(&w))?;
    clamp(p, today)
}

/// A date expression already given in a description (`去年冬天`, `10月5号`, `春节前后`):
/// the words as written and the period. Vague words alone (`最近`) are not taken.
pub fn find_when(
    text: &str,
    today: NaiveDate,
    v: &Vocabulary,
    holidays: Holidays<'_>,
) -> Option<(String, Period)> {
    let chars: Vec<char> = normalize_text(text).chars().take(2000).collect();
    let cx = Cx { today, v, holidays };
    for start in 0..chars.len() {
        if !starts_date(chars[start], v) {
            continue;
        }
        for end in (start + 2..=(start + 12).min(chars.len())).rev() {
            // Followed by a number: part of something else (今年七十岁, 去年3个人).
            if chars
                .get(end)
                .is_some_and(|&c| c.is_ascii_digit() || cn_digit(c).is_some())
            {
                continue;
            }
            let s: String = chars[start..end].iter().collect();
            if VAGUE.contains(&s.as_str()) || s.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            if let Some(p) = cx.range(&s).and_then(|p| clamp(p, today)) {
                return Some((s, p));
            }
        }
    }
    None
}

/// Words that say "some time" without saying when: understood as an answer, never taken
/// from a description.
const VAGUE: &[&str] = &[
    "最近",
    "近期",
    "近来",
    "这段时间",
    "这阵子",
    "前段时间",
    "之前",
    "以前",
    "今年",
    "当时",
];

fn starts_date(c: char, v: &Vocabulary) -> bool {
    c.is_ascii_digit()
        || cn_digit(c).is_some()
        || "今昨前去上这本近最十月年元清端中国".contains(c)
        || v.dates
            .festivals
            .iter()
            .any(|f| f.words.iter().any(|w| w.starts_with(c)))
        || v.dates
            .seasons
            .iter()
            .any(|s| s.words.iter().any(|w| w.starts_with(c)))
}

/// `to` moved back to `today`; `None` if it all lies in the future or before 1950.
fn clamp((from, to): Period, today: NaiveDate) -> Option<Period> {
    let to = to.min(today);
    (from <= to && from.year() >= 1950).then_some((from, to))
}

/// What the grammar needs: today, the vocabulary, the holiday calendar.
pub(super) struct Cx<'a> {
    pub(super) today: NaiveDate,
    pub(super) v: &'a Vocabulary,
    pub(super) holidays: Holidays<'a>,
}

impl Cx<'_> {
    /// A range of two expressions, one reaching to today, or one expression.
    fn range(&self, t: &str) -> Option<Period> {
        let today = self.today;
        let t = ["从", "自从", "自"]
            .iter()
            .find_map(|p| t.strip_prefix(p))
            .unwrap_or(t);
        for now in [
            "开始到现在",
            "到现在为止",
            "到现在",
            "到今天",
            "到如今",
            "至今",
            "以来",
            "开始",
            "起",
            " to now",
            " until now",
        ] {
            if let Some(a) = t.strip_suffix(now) {
                if let Some((from, _)) = self.one(a) {
                    return Some((from, today));
                }
            }
        }
        for sep in ["一直到", "至", "到", "~", "～", "—", " to "] {
            if let Some((a, b)) = t.split_once(sep) {
                let (a, b) = (a.trim(), b.trim());
                let (from, _) = self.one(a)?;
                let to = match b {
                    "现在" | "今天" | "如今" | "now" | "today" => today,
                    _ => self.one_after(a, b)?.1,
                };
                return (from <= to).then_some((from, to));
            }
        }
        self.one(t)
    }

    /// The second half of a range, which may leave out the year or the month of the
    /// first: `2025年3月到5月`, `10月5号到8号`.
    fn one_after(&self, a: &str, b: &str) -> Option<Period> {
        let ad = arabic(a);
        let bd = arabic(b);
        if let Some((y, _)) = ad.split_once('年') {
            if !bd.contains('年') && bd.contains('月') {
                if let Some(p) = self.one(&format!("{y}年{bd}")) {
                    return Some(p);
                }
            }
            if let Some((m, _)) = ad.split_once('月') {
                if !bd.contains('月') && !bd.contains('年') {
                    if let Some(p) = self.one(&format!("{y}年{m}月{bd}")) {
                        return Some(p);
                    }
                }
            }
        } else if let Some((m, _)) = ad.split_once('月') {
            if !bd.contains('月') {
                let (from, _) = self.one(a)?;
                let cand = format!("{}年{m}月{bd}", from.year());
                if let Some(p) = self.one(&cand) {
                    return Some(p);
                }
            }
        }
        self.one(b)
    }

    /// One expression.
    pub(super) fn one(&self, t: &str) -> Option<Period> {
        let t = t.trim();
        if t.is_empty() {
            return None;
        }
        let today = self.today;
        if let Some(p) = self.relative_word(t) {
            return Some(p);
        }
        if let Some(p) = self.counted(t) {
            return Some(p);
        }
        if let Some((year, rest)) = self.year_prefix(t) {
            return self.in_year(year, rest);
        }
        if let Some(p) = self.festival(None, t).or_else(|| self.season(None, t)) {
            return Some(p);
        }
        if let Some(p) = numeric(t, today) {
            return Some(p);
        }
        self.month_day(None, t)
    }

    /// Words for a day, a week, a month or a stretch of time before today.
    fn relative_word(&self, t: &str) -> Option<Period> {
        let today = self.today;
        let day = |n: i64| {
            let d = today.checked_sub_signed(Duration::days(n))?;
            Some((d, d))
        };
        let back = |n: i64| Some((today.checked_sub_signed(Duration::days(n))?, today));
        // 昨天晚上, 今天早上: the part of the day does not matter.
        let t = [
            "早上", "上午", "中午", "下午", "晚上", "夜里", "半夜", "傍晚",
        ]
        .iter()
        .find_map(|s| t.strip_suffix(s).filter(|r| !r.is_empty()))
        .unwrap_or(t);
        let monday = today.checked_sub_signed(Duration::days(i64::from(
            today.weekday().num_days_from_monday(),
        )))?;
        if let Some(p) = words::weekday(today, monday, t) {
            return Some(p);
        }
        match t {
            "今天" | "今日" | "今早" | "今晚" | "today" => day(0),
            "昨天" | "昨日" | "昨晚" | "昨儿" | "yesterday" => day(1),
            "前天" | "前日" => day(2),
            "大前天" => day(3),
            "这周" | "本周" | "这个星期" | "这星期" | "这礼拜" | "这个礼拜" | "this week" => {
                Some((monday, today))
            }
            "上周" | "上个星期" | "上星期" | "上礼拜" | "上个礼拜" | "last week" => {
                Some((
                    monday.checked_sub_signed(Duration::days(7))?,
                    monday.pred_opt()?,
                ))
            }
            "上上周" | "上上个星期" | "上上个礼拜" => Some((
                monday.checked_sub_signed(Duration::days(14))?,
                monday.checked_sub_signed(Duration::days(8))?,
            )),
            "前几天" | "前两天" | "这几天" | "这两天" | "最近几天" | "前些天"
            | "a few days ago" => Some((
                today.checked_sub_signed(Duration::days(10))?,
                today.pred_opt()?,
            )),
            "前些日子" | "前段时间" | "前一段时间" | "前阵子" | "前一阵" | "前一阵子"
            | "前段日子" => Some((today.checked_sub_signed(Duration::days(90))?, today)),
            "最近" | "近期" | "近来" | "最近一段时间" | "这段时间" | "这阵子" | "recently" => {
                back(30)
            }
            _ => words::month_relative(self, t),
        }
    }

    /// `三个月前`, `两周前`, `10天前`, `半年前`, and durations up to today: `最近半年`,
    /// `这两年`, `近三个月`, `一年多了`, `好几个月了`.
    fn counted(&self, t: &str) -> Option<Period> {
        let today = self.today;
        let (ago, body) = if let Some(b) = t
            .strip_suffix("之前")
            .or_else(|| t.strip_suffix("以前"))
            .or_else(|| t.strip_suffix('前'))
        {
            (true, b)
        } else {
            let mut b = t;
            for p in ["最近这", "最近", "过去", "近来", "这", "近", "这些"] {
                if let Some(r) = b.strip_prefix(p) {
                    b = r;
                    break;
                }
            }
            let b2 = ["以来", "多了", "了", "来", "多"]
                .iter()
                .find_map(|s| b.strip_suffix(s))
                .unwrap_or(b);
            if b2.len() == t.len() {
                return None;
            }
            (false, b2)
        };
        let body = body.strip_suffix('多').unwrap_or(body);
        let (n, unit) = count_unit(body)?;
        // (days, months) back from today
        let (days, months) = match unit {
            'd' => (n, 0),
            'w' => (n * 7, 0),
            'm' => (0, n),
            'y' => (0, n * 12),
            _ => return None,
        };
        // Half units are counted in halves: 半个月 = 15 days, 半年 = 6 months.
        let back = |d: u32, m: u32| -> Option<NaiveDate> {
            today
                .checked_sub_signed(Duration::days(i64::from(d) / 2))?
                .checked_sub_months(Months::new(m / 2))
        };
        // 半个月, 一个半月: half months are 15 days.
        let at = if unit == 'm' && n % 2 == 1 {
            back(n * 30, 0)?
        } else {
            back(days, months)?
        };
        if !ago {
            return Some((at, today));
        }
        let around = |d: i64| {
            Some((
                at.checked_sub_signed(Duration::days(d))?,
                at.checked_add_signed(Duration::days(d))?,
            ))
        };
        match unit {
            'd' => Some((at, at)),
            'w' => around(3),
            'm' if n % 2 == 1 => around(7),
            'm' => {
                let first = at.with_day(1)?;
                Some((first, last_of_month(first)?))
            }
            // 半年前: the month; 两年前: the year.
            _ if n % 2 == 1 => {
                let first = at.with_day(1)?;
                Some((first, last_of_month(first)?))
            }
            _ => {
                let y = at.year();
                Some((
                    NaiveDate::from_ymd_opt(y, 1, 1)?,
                    NaiveDate::from_ymd_opt(y, 12, 31)?,
                ))
            }
        }
    }

    /// `今年`, `去年`, `前年`, `大前年`, `2025年`, `26年`, `二〇二五年`, `两年前的`: the year
    /// and what follows it.
    fn year_prefix<'t>(&self, t: &'t str) -> Option<(i32, &'t str)> {
        let y = self.today.year();
        for (w, d) in [
            ("大前年", 3),
            ("前年", 2),
            ("去年", 1),
            ("今年", 0),
            ("本年", 0),
            ("this year", 0),
            ("last year", 1),
        ] {
            if let Some(r) = t.strip_prefix(w) {
                return Some((y - d, r.trim_start_matches('的').trim()));
            }
        }
        let (num, rest) = t.split_once('年')?;
        if num.is_empty() || num.chars().any(|c| cn_unit(c).is_some()) {
            return None;
        }
        let n = i32::try_from(parse_small_int(num)?).ok()?;
        let year = match (num.chars().count(), n) {
            (4, n) => n,
            (2, n) if 2000 + n <= y => 2000 + n,
            (2, n) => 1900 + n,
            _ => return None,
        };
        Some((year, rest))
    }

    /// What follows a year: nothing (the whole year), a month or a day, a season, a
    /// festival, a half or an end of the year.
    fn in_year(&self, year: i32, rest: &str) -> Option<Period> {
        let rest = rest.trim_start_matches('的');
        let jan1 = NaiveDate::from_ymd_opt(year, 1, 1)?;
        let dec31 = NaiveDate::from_ymd_opt(year, 12, 31)?;
        let month = |a: u32, b: u32| {
            let f = NaiveDate::from_ymd_opt(year, a, 1)?;
            Some((f, last_of_month(NaiveDate::from_ymd_opt(year, b, 1)?)?))
        };
        match rest {
            "" | "一年" | "全年" | "一整年" => return Some((jan1, dec31)),
            "上半年" => return month(1, 6),
            "下半年" => return month(7, 12),
            "年初" | "初" | "开年" | "年头" => return month(1, 2),
            "年中" => return month(6, 7),
            "年底" | "底" | "年末" | "末" | "年尾" | "年终" => return month(12, 12),
            _ => {}
        }
        if let Some(p) = self
            .festival(Some(year), rest)
            .or_else(|| self.season(Some(year), rest))
        {
            return Some(p);
        }
        self.month_day(Some(year), rest)
    }

    /// `10月`, `十月份`, `10月5号`, `5号`, `三月初`, `十月下旬`, `10/5`, in `year` or, with
    /// none, the most recent one not after today.
    fn month_day(&self, year: Option<i32>, t: &str) -> Option<Period> {
        words::month_day(self, year, &arabic(t))
    }

    fn festival(&self, year: Option<i32>, t: &str) -> Option<Period> {
        words::festival(self, year, t)
    }

    fn season(&self, year: Option<i32>, t: &str) -> Option<Period> {
        words::season(self, year, t)
    }
}

/// `三个月`, `两周`, `10天`, `半年`, `一个星期`, `好几年`: the count (in halves) and the
/// unit (`d`ays, `w`eeks, `m`onths, `y`ears).
fn count_unit(t: &str) -> Option<(u32, char)> {
    let units: [(&str, char); 10] = [
        ("个星期", 'w'),
        ("个礼拜", 'w'),
        ("星期", 'w'),
        ("礼拜", 'w'),
        ("个月", 'm'),
        ("周", 'w'),
        ("天", 'd'),
        ("日", 'd'),
        ("月", 'm'),
        ("年", 'y'),
    ];
    for (u, k) in units {
        if let Some(n) = t.strip_suffix(u) {
            let n = n.strip_suffix('多').unwrap_or(n);
            let halves = match n {
                "半" | "半个" => 1,
                "一" | "1" | "一个" | "个" => 2,
                "几" | "好几" | "几个" | "好几个" => 6,
                "两三" | "两三个" => 5,
                _ => parse_small_int(n.strip_suffix('个').unwrap_or(n))?.checked_mul(2)?,
            };
            if halves == 0 || halves > 2 * 100 {
                return None;
            }
            return Some((halves, k));
        }
    }
    None
}

/// The last day of `d`'s month.
pub(super) fn last_of_month(d: NaiveDate) -> Option<NaiveDate> {
    d.with_day(1)?
        .checked_add_months(Months::new(1))?
        .pred_opt()
}

/// Runs of Chinese numerals as ASCII digits: `十月五号` → `10月5号`, `二〇二五年` → `2025年`.
pub(super) fn arabic(t: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if !run.is_empty() {
            match parse_small_int(run) {
                Some(n) => out.push_str(&n.to_string()),
                None => out.push_str(run),
            }
            run.clear();
        }
    };
    for c in t.chars() {
        if cn_digit(c).is_some() || matches!(c, '十' | '百') {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// The written forms with a year: `2025-03-05`, `2025/3/5`, `2025.3.5`, `2025年3月5日`,
/// `20250305`, `2025-03`, `2025年3月` (and the same with a 2-digit year and a `年`).
fn numeric(s: &str, today: NaiveDate) -> Option<Period> {
    let s = arabic(s);
    let t: String = s
        .chars()
        .map(|c| match c {
            '年' | '月' | '/' | '.' => '-',
            '日' | '号' => ' ',
            c => c,
        })
        .collect();
    let t = t.trim().trim_end_matches('-');
    let parts: Vec<&str> = if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        vec![&t[..4], &t[4..6], &t[6..]]
    } else {
        t.split('-').map(str::trim).collect()
    };
    if parts
        .iter()
        .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let num = |p: &str| p.parse::<u32>().ok();
    let year = match parts.first() {
        Some(y) if y.len() == 4 => i32::try_from(num(y)?).ok()?,
        Some(y) if y.len() == 2 && s.contains('年') => {
            let n = i32::try_from(num(y)?).ok()?;
            if 2000 + n <= today.year() {
                2000 + n
            } else {
                1900 + n
            }
        }
        _ => return None,
    };
    if year < 1950 {
        return None;
    }
    match parts.as_slice() {
        [_, m] => {
            let first = NaiveDate::from_ymd_opt(year, num(m)?, 1)?;
            (first <= today).then(|| (first, last_of_month(first).unwrap_or(first)))
        }
        [_, m, d] => {
            let date = NaiveDate::from_ymd_opt(year, num(m)?, num(d)?)?;
            (date <= today).then_some((date, date))
        }
        _ => None,
    }
}
