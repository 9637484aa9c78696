//! Chinese working days (Asia/Shanghai), from the State Council's yearly holiday notice.
//!
//! One TOML file a year (`config/holidays/cn-YYYY.toml`) lists the rest days (`off`) and the
//! weekend days that are working days (`work`, 调休上班). Files are read at start-up from
//! `[calendar] holidays_dir`, so next year's notice is a new file, not a rebuild; the
//! 2024–2026 files are also built in for a binary deployed on its own.
//!
//! Counting rule (DOMAIN §4): the day a clock starts is not counted; a deadline of N working
//! days ends with the Nth working day after that day.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::Path;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Asia::Shanghai;
use rust_embed::RustEmbed;
use serde::Deserialize;
use toml::Spanned;

#[derive(RustEmbed)]
#[folder = "../../config/holidays/"]
struct BuiltIn;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YearFile {
    year: i32,
    #[serde(default)]
    source: String,
    off: Vec<Spanned<NaiveDate>>,
    work: Vec<Spanned<NaiveDate>>,
}

/// Where a year's notice was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A file in `holidays_dir` (its name).
    File(String),
    /// The copy compiled into the binary.
    BuiltIn,
    /// Published to the database by another instance or `jubao calendar reload`.
    Database,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(name) => write!(f, "file {name}"),
            Origin::BuiltIn => f.write_str("built in"),
            Origin::Database => f.write_str("database"),
        }
    }
}

/// One year's holiday notice as loaded: its text is kept so that it can be published to
/// the database and compared.
#[derive(Debug, Clone)]
pub struct YearNotice {
    pub year: i32,
    pub source: String,
    pub origin: Origin,
    pub text: String,
}

/// A holiday file that cannot be used: the file, the line (when known) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for CalendarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for CalendarError {}

#[derive(Debug, Clone, Default)]
pub struct Calendar {
    off: HashSet<NaiveDate>,
    work: HashSet<NaiveDate>,
    years: BTreeMap<i32, YearNotice>,
}

impl Calendar {
    /// Every `*.toml` in `dir`, then the built-in copy of each year the folder lacks (a
    /// folder that is missing altogether gives the built-in years). A bad file is an error
    /// naming the file and line; nothing is loaded then.
    pub fn load(dir: &Path) -> Result<Self, CalendarError> {
        let mut cal = Calendar::default();
        if dir.is_dir() {
            let read_err = |e: std::io::Error| CalendarError {
                file: dir.display().to_string(),
                line: None,
                message: e.to_string(),
            };
            let mut entries: Vec<_> = std::fs::read_dir(dir)
                .map_err(read_err)?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            entries.sort();
            for p in entries {
                let name = p.display().to_string();
                let text = std::fs::read_to_string(&p).map_err(|e| CalendarError {
                    file: name.clone(),
                    line: None,
                    message: e.to_string(),
                })?;
                let file_name = p
                    .file_name()
                    .map_or_else(|| name.clone(), |n| n.to_string_lossy().into_owned());
                cal.add_year(&name, &text, Origin::File(file_name))?;
            }
        }
        for notice in Self::built_in_notices() {
            if !cal.years.contains_key(&notice.year) {
                cal.add_year("built-in", &notice.text, Origin::BuiltIn)
                    .expect("built-in holiday files are valid (tested)");
            }
        }
        Ok(cal)
    }

    /// The calendars compiled into the binary (2024–2026).
    pub fn built_in() -> Self {
        let mut cal = Calendar::default();
        for n in Self::built_in_notices() {
            cal.add_year("built-in", &n.text, Origin::BuiltIn)
                .expect("built-in holiday files are valid (tested)");
        }
        cal
    }

    fn built_in_notices() -> Vec<YearNotice> {
        let mut names: Vec<_> = BuiltIn::iter().collect();
        names.sort();
        names
            .into_iter()
            .filter_map(|name| BuiltIn::get(&name))
            .map(|file| String::from_utf8_lossy(&file.data).into_owned())
            .filter_map(|text| {
                let y: YearFile = toml::from_str(&text).ok()?;
                Some(YearNotice {
                    year: y.year,
                    source: y.source,
                    origin: Origin::BuiltIn,
                    text,
                })
            })
            .collect()
    }

    /// Build a calendar from notices (e.g. read back from the database).
    pub fn from_notices(notices: &[YearNotice]) -> Result<Self, CalendarError> {
        let mut cal = Calendar::default();
        for n in notices {
            cal.add_year(
                &format!("{} ({})", n.year, n.origin),
                &n.text,
                n.origin.clone(),
            )?;
        }
        Ok(cal)
    }

    /// Check one year's file and add it. `file` names it in errors.
    pub fn add_year(
        &mut self,
        file: &str,
        text: &str,
        origin: Origin,
    ) -> Result<(), CalendarError> {
        let err = |span: Option<std::ops::Range<usize>>, message: String| CalendarError {
            file: file.to_string(),
            line: span.map(|s| line_of(text, s.start)),
            message,
        };
        let y: YearFile =
            toml::from_str(text).map_err(|e| err(e.span(), e.message().to_string()))?;
        if self.years.contains_key(&y.year) {
            return Err(err(None, format!("year {} is defined twice", y.year)));
        }
        let mut seen = HashSet::new();
        for d in y.off.iter().chain(&y.work) {
            let day = *d.get_ref();
            if day.year() != y.year {
                return Err(err(Some(d.span()), format!("{day} is not in {}", y.year)));
            }
            if !seen.insert(day) {
                return Err(err(Some(d.span()), format!("{day} is listed twice")));
            }
        }
        for d in &y.work {
            let day = *d.get_ref();
            if !is_weekend(day) {
                return Err(err(
                    Some(d.span()),
                    format!("make-up working day {day} is not a weekend day"),
                ));
            }
        }
        self.off.extend(y.off.iter().map(|d| *d.get_ref()));
        self.work.extend(y.work.iter().map(|d| *d.get_ref()));
        self.years.insert(
            y.year,
            YearNotice {
                year: y.year,
                source: y.source,
                origin,
                text: text.to_string(),
            },
        );
        Ok(())
    }

    /// Years with an official calendar; outside them only weekends are rest days, and a
    /// deadline through such a year is provisional.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.keys().copied()
    }

    /// The notices loaded, by year.
    pub fn notices(&self) -> impl Iterator<Item = &YearNotice> {
        self.years.values()
    }

    /// Whether every day after `start` up to and including `end` lies in a year with a
    /// notice: a due date computed over that span is final, otherwise provisional.
    pub fn covers_span(&self, start: NaiveDate, end: NaiveDate) -> bool {
        let (lo, hi) = if start <= end {
            (start, end)
        } else {
            (end, start)
        };
        let first = lo.succ_opt().unwrap_or(lo).year().min(hi.year());
        (first..=hi.year()).all(|y| self.years.contains_key(&y))
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        if self.work.contains(&d) {
            return true;
        }
        if self.off.contains(&d) {
            return false;
        }
        !is_weekend(d)
    }

    /// The Nth working day after `start` (`start` itself is not counted).
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        let mut d = start;
        let mut counted = 0;
        while counted < n {
            d = d.succ_opt().expect("dates stay far from chrono's limits");
            if self.is_working_day(d) {
                counted += 1;
            }
        }
        d
    }

    /// The Nth working day before `end` (`end` itself is not counted).
    pub fn sub_working_days(&self, end: NaiveDate, n: u32) -> NaiveDate {
        let mut d = end;
        let mut counted = 0;
        while counted < n {
            d = d.pred_opt().expect("dates stay far from chrono's limits");
            if self.is_working_day(d) {
                counted += 1;
            }
        }
        d
    }

    /// The first working day after `d`.
    pub fn next_working_day(&self, d: NaiveDate) -> NaiveDate {
        self.add_working_days(d, 1)
    }

    /// `d` itself when it is a working day, else the next one (Civil Code art. 203: a
    /// period whose last day is a rest day ends on the next working day).
    pub fn working_day_on_or_after(&self, d: NaiveDate) -> NaiveDate {
        if self.is_working_day(d) {
            d
        } else {
            self.next_working_day(d)
        }
    }

    /// Deadline for a clock that starts at instant `t`: N working days after its
    /// Asia/Shanghai date.
    pub fn deadline_after(&self, t: DateTime<Utc>, n: u32) -> NaiveDate {
        self.add_working_days(shanghai_date(t), n)
    }

    /// Working days from `a` (exclusive) to `b` (inclusive); negative when `b` is before `a`.
    pub fn working_days_between(&self, a: NaiveDate, b: NaiveDate) -> i64 {
        let (lo, hi, sign) = if a <= b { (a, b, 1) } else { (b, a, -1) };
        let mut d = lo;
        let mut n = 0;
        while d < hi {
            d = d.succ_opt().expect("in range");
            if self.is_working_day(d) {
                n += 1;
            }
        }
        n * sign
    }
}

pub fn shanghai_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&Shanghai).date_naive()
}

/// The first instant of Asia/Shanghai day `d`, in UTC: the lower bound for "received on or
/// after `d`".
pub fn day_start(d: NaiveDate) -> DateTime<Utc> {
    let midnight = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    Shanghai
        .from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| DateTime::from_naive_utc_and_offset(midnight, Utc))
}

/// 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_beijing_day_starts_at_16_utc_the_day_before() {
        assert_eq!(
            day_start(d("2026-02-01")),
            Utc.with_ymd_and_hms(2026, 1, 31, 16, 0, 0).unwrap()
        );
        let t = Utc.with_ymd_and_hms(2026, 1, 31, 16, 0, 0).unwrap();
        assert_eq!(shanghai_date(t), d("2026-02-01"));
    }

    #[test]
    fn built_in_years_load_and_match_the_folder() {
        let cal = Calendar::built_in();
        assert_eq!(cal.years().collect::<Vec<_>>(), vec![2024, 2025, 2026]);
        let from_dir = Calendar::load(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../config/holidays"
        )))
        .unwrap();
        assert_eq!(from_dir.off, cal.off);
        assert_eq!(from_dir.work, cal.work);
    }

    /// Rest-day and make-up-day counts per the State Council notices: 2024 has 8 make-up
    /// working days, 2025 has 5, 2026 has 6.
    #[test]
    fn official_make_up_days() {
        let cal = Calendar::built_in();
        for (year, n) in [(2024, 8), (2025, 5), (2026, 6)] {
            let c = cal.work.iter().filter(|x| x.year() == year).count();
            assert_eq!(c, n, "make-up days in {year}");
        }
        for w in [
            "2024-02-04",
            "2024-02-18",
            "2024-04-07",
            "2024-04-28",
            "2024-05-11",
            "2024-09-14",
            "2024-09-29",
            "2024-10-12",
            "2025-01-26",
            "2025-02-08",
            "2025-04-27",
            "2025-09-28",
            "2025-10-11",
            "2026-01-04",
            "2026-02-14",
            "2026-02-28",
            "2026-05-09",
            "2026-09-20",
            "2026-10-10",
        ] {
            assert!(cal.is_working_day(d(w)), "{w} is a make-up working day");
        }
        for off in [
            "2024-01-01",
            "2024-02-12",
            "2024-06-10",
            "2024-10-07",
            "2025-01-28",
            "2025-02-04",
            "2025-06-02",
            "2025-10-08",
            "2026-01-02",
            "2026-02-23",
            "2026-04-06",
            "2026-05-05",
            "2026-06-19",
            "2026-09-25",
            "2026-10-07",
        ] {
            assert!(!cal.is_working_day(d(off)), "{off} is a holiday");
        }
    }

    /// Working days per year: weekdays, minus holidays on weekdays, plus make-up days.
    /// 2024: 262 − 19 + 8 = 251; 2025: 261 − 18 + 5 = 248; 2026: 261 − 19 + 6 = 248.
    #[test]
    fn working_days_per_year() {
        let cal = Calendar::built_in();
        for (year, expected) in [(2024, 251), (2025, 248), (2026, 248)] {
            let n = cal.working_days_between(
                d(&format!("{}-12-31", year - 1)),
                d(&format!("{year}-12-31")),
            );
            assert_eq!(n, expected, "{year}");
        }
    }

    /// Counted backwards the same days come out negative: from Friday 13 February 2026 back
    /// to Monday 9 February is 4 working days; forwards to Wednesday 25 February, 3 (the
    /// make-up Saturday 14th, then 24th and 25th).
    #[test]
    fn working_days_between_is_signed() {
        let cal = Calendar::built_in();
        assert_eq!(
            cal.working_days_between(d("2026-02-13"), d("2026-02-09")),
            -4
        );
        assert_eq!(
            cal.working_days_between(d("2026-02-09"), d("2026-02-13")),
            4
        );
        assert_eq!(
            cal.working_days_between(d("2026-02-13"), d("2026-02-25")),
            3
        );
        assert_eq!(
            cal.working_days_between(d("2026-02-13"), d("2026-02-13")),
            0
        );
    }

    /// A calendar rebuilt from the notices as stored (what every instance does with the
    /// database's copy) knows the same days.
    #[test]
    fn from_notices_knows_what_the_notices_say() {
        let notices = Calendar::built_in_notices();
        assert_eq!(notices.len(), 3);
        let cal = Calendar::from_notices(&notices).unwrap();
        assert_eq!(cal.years().collect::<Vec<_>>(), vec![2024, 2025, 2026]);
        assert!(!cal.is_working_day(d("2026-02-16")));
        assert!(cal.is_working_day(d("2026-02-14")));
        let bad = YearNotice {
            year: 2027,
            source: String::new(),
            origin: Origin::Database,
            text: "year = 2027\noff = [\"2027-13-01\"]\nwork = []\n".into(),
        };
        assert!(Calendar::from_notices(&[bad]).is_err());
    }

    #[test]
    fn add_working_days_across_spring_festival_2026() {
        let cal = Calendar::built_in();
        // Received Friday 2026-02-13: Sat 14th is a make-up working day (1), then the
        // holiday 15th–23rd, then 24, 25, 26, 27 (2–5), Sat 28th make-up (6).
        assert_eq!(cal.add_working_days(d("2026-02-13"), 1), d("2026-02-14"));
        assert_eq!(cal.add_working_days(d("2026-02-13"), 6), d("2026-02-28"));
        assert_eq!(cal.add_working_days(d("2026-02-13"), 15), d("2026-03-12"));
        // The start day is never counted, even if it is a working day.
        assert_eq!(cal.add_working_days(d("2026-03-02"), 1), d("2026-03-03"));
        assert_eq!(cal.add_working_days(d("2026-03-02"), 0), d("2026-03-02"));
    }

    #[test]
    fn deadline_uses_shanghai_date() {
        let cal = Calendar::built_in();
        // 2026-03-01 17:00 UTC is already Monday 2026-03-02 01:00 in Shanghai.
        let t = Utc.with_ymd_and_hms(2026, 3, 1, 17, 0, 0).unwrap();
        assert_eq!(cal.deadline_after(t, 1), d("2026-03-03"));
    }

    #[test]
    fn bad_files_are_rejected_with_their_line() {
        let add =
            |cal: &mut Calendar, text: &str| cal.add_year("cn-2027.toml", text, Origin::BuiltIn);
        let mut cal = Calendar::default();
        let e = add(&mut cal, "year = 2027\noff = []\nwork = [\"2027-03-03\"]\n").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(
            e.to_string()
                .starts_with("cn-2027.toml:3: make-up working day 2027-03-03"),
            "{e}"
        );
        let e = add(&mut cal, "year = 2027\noff = [\"2028-01-01\"]\nwork = []\n").unwrap_err();
        assert_eq!(
            (e.line, e.message.as_str()),
            (Some(2), "2028-01-01 is not in 2027")
        );
        let e = add(
            &mut cal,
            "year = 2027\noff = [\n  \"2027-01-01\",\n  \"2027-01-01\",\n]\nwork = []\n",
        )
        .unwrap_err();
        assert_eq!(
            (e.line, e.message.as_str()),
            (Some(4), "2027-01-01 is listed twice")
        );
        let e = add(
            &mut cal,
            "year = 2027\noff = [\"2027-02-06\"]\nwork = [\"2027-02-06\"]\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        let e = add(&mut cal, "year = 2027\noff = []\nwork = []\nextra = 1\n").unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
        let e = add(&mut cal, "year = 2027\noff = [\"2027-13-01\"]\nwork = []\n").unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        assert!(cal.years().next().is_none(), "nothing was added");
        assert!(add(&mut cal, "year = 2027\noff = []\nwork = []\n").is_ok());
        assert!(add(&mut cal, "year = 2027\noff = []\nwork = []\n").is_err());
    }

    #[test]
    fn a_folder_lacking_a_year_falls_back_to_the_built_in_copy() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("cn-2027.toml"),
            "year = 2027\noff = [\"2027-01-01\"]\nwork = []\n",
        )
        .unwrap();
        let cal = Calendar::load(dir.path()).unwrap();
        assert_eq!(
            cal.years().collect::<Vec<_>>(),
            vec![2024, 2025, 2026, 2027]
        );
        // 2026-02-16 is in the Spring Festival: known although the folder has no 2026 file.
        assert!(!cal.is_working_day(d("2026-02-16")));
        assert!(!cal.is_working_day(d("2027-01-01")));
        let origins: Vec<String> = cal.notices().map(|n| n.origin.to_string()).collect();
        assert_eq!(
            origins,
            ["built in", "built in", "built in", "file cn-2027.toml"]
        );
    }

    #[test]
    fn a_span_is_covered_only_when_every_year_after_its_start_is() {
        let cal = Calendar::built_in();
        assert!(cal.covers_span(d("2026-12-01"), d("2026-12-31")));
        assert!(!cal.covers_span(d("2026-12-20"), d("2027-01-08")));
        // The start day is not counted: a clock started on 31 December 2026 whose period
        // ends in 2027 is provisional; one started on 2023-12-31 ending in 2024 is not.
        assert!(!cal.covers_span(d("2026-12-31"), d("2027-01-04")));
        assert!(cal.covers_span(d("2023-12-31"), d("2024-01-03")));
    }
}
