//! Chinese working days (Asia/Shanghai), from the State Council's yearly holiday notice.
//!
//! One TOML file a year (`config/holidays/cn-YYYY.toml`) lists the rest days (`off`) and the
//! weekend days that are working days (`work`, 调休上班). Files are read at start-up from
//! `[calendar] holidays_dir`, so next year's notice is a new file, not a rebuild; the
//! 2024–2026 files are also built in for a binary deployed on its own.
//!
//! Counting rule (DOMAIN §4): the day a clock starts is not counted; a deadline of N working
//! days ends with the Nth working day after that day.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use anyhow::{bail, Context};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Asia::Shanghai;
use rust_embed::RustEmbed;
use serde::Deserialize;

#[derive(RustEmbed)]
#[folder = "config/holidays/"]
struct BuiltIn;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YearFile {
    year: i32,
    #[serde(default)]
    #[allow(dead_code)]
    source: String,
    off: Vec<NaiveDate>,
    work: Vec<NaiveDate>,
}

#[derive(Debug, Clone, Default)]
pub struct Calendar {
    off: HashSet<NaiveDate>,
    work: HashSet<NaiveDate>,
    years: BTreeSet<i32>,
}

impl Calendar {
    /// Load every `*.toml` in `dir`; fall back to the built-in years when `dir` is missing.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let mut cal = Calendar::default();
        if dir.is_dir() {
            let mut entries: Vec<_> = std::fs::read_dir(dir)?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            entries.sort();
            for p in entries {
                let text = std::fs::read_to_string(&p)?;
                cal.add_year(&text)
                    .with_context(|| format!("in {}", p.display()))?;
            }
        } else {
            cal = Self::built_in();
        }
        Ok(cal)
    }

    /// The calendars compiled into the binary (2024–2026).
    pub fn built_in() -> Self {
        let mut cal = Calendar::default();
        let mut names: Vec<_> = BuiltIn::iter().collect();
        names.sort();
        for name in names {
            let file = BuiltIn::get(&name).expect("listed");
            let text = String::from_utf8_lossy(&file.data).into_owned();
            cal.add_year(&text)
                .expect("built-in holiday files are valid (tested)");
        }
        cal
    }

    fn add_year(&mut self, text: &str) -> anyhow::Result<()> {
        let y: YearFile = toml::from_str(text)?;
        if !self.years.insert(y.year) {
            bail!("year {} is defined twice", y.year);
        }
        for d in &y.off {
            if d.year() != y.year {
                bail!("{d} is not in {}", y.year);
            }
        }
        for d in &y.work {
            if d.year() != y.year {
                bail!("{d} is not in {}", y.year);
            }
            if !is_weekend(*d) {
                bail!("make-up working day {d} is not a weekend day");
            }
            if y.off.contains(d) {
                bail!("{d} is both a rest day and a working day");
            }
        }
        self.off.extend(y.off);
        self.work.extend(y.work);
        Ok(())
    }

    /// Years with an official calendar; outside them only weekends are rest days.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.iter().copied()
    }

    pub fn covers(&self, d: NaiveDate) -> bool {
        self.years.contains(&d.year())
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

/// The first instant of Asia/Shanghai day `d`, in the stored UTC form
/// ([`crate::store::ts`]): the lower bound for "received on or after `d`".
pub fn day_start_utc(d: NaiveDate) -> String {
    let midnight = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    let start = Shanghai
        .from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| DateTime::from_naive_utc_and_offset(midnight, Utc));
    crate::store::ts(start)
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
            day_start_utc(d("2026-02-01")),
            "2026-01-31T16:00:00.000000Z"
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
            "/config/holidays"
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
    fn bad_files_are_rejected() {
        let mut cal = Calendar::default();
        assert!(cal
            .add_year("year = 2027\noff = []\nwork = [2027-03-03]\n")
            .is_err());
        assert!(cal
            .add_year("year = 2027\noff = [2028-01-01]\nwork = []\n")
            .is_err());
        assert!(cal
            .add_year("year = 2027\noff = []\nwork = []\nextra = 1\n")
            .is_err());
        assert!(cal.add_year("year = 2027\noff = []\nwork = []\n").is_ok());
        assert!(cal.add_year("year = 2027\noff = []\nwork = []\n").is_err());
    }
}
