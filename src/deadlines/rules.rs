//! Deadline rules as regional, dated policy data (DOMAIN §4: "defaults, configurable per
//! region").
//!
//! The national rule comes from the configuration (`[intake] accept_working_days` and the
//! `[workflow]` clock keys): it is rule `national@1`, in force everywhere from 2018. A
//! province or city whose own measures differ adds a file to `[workflow] rules_dir`
//! (default `config/deadlines/`), one rule per file:
//!
//! ```toml
//! id = "example"            # with version, unique
//! version = 2027
//! region = "440000"         # 6 digits; trailing 00 pairs are wildcards
//! effective_from = 2027-01-01
//! # effective_to = 2030-12-31   (optional, inclusive)
//! accept_working_days = 15
//! notify_working_days = 5
//! handle_working_days = 30
//! defence_working_days = 5
//! feedback_working_days = 5
//! complex_extension_months = 3
//! major_extension_months = 6
//! ```
//!
//! A clock uses the rule in force on the day it starts for the case's region: the most
//! specific region wins, then the latest `effective_from`, then the highest version. Each
//! clock records the rule it was computed under (`id@version`).

use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::config::Config;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: String,
    pub version: u32,
    pub region: String,
    pub effective_from: NaiveDate,
    pub effective_to: Option<NaiveDate>,
    pub accept_working_days: u32,
    pub notify_working_days: u32,
    pub handle_working_days: u32,
    pub defence_working_days: u32,
    pub feedback_working_days: u32,
    pub complex_extension_months: u32,
    pub major_extension_months: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    version: u32,
    region: String,
    effective_from: toml::value::Datetime,
    effective_to: Option<toml::value::Datetime>,
    accept_working_days: u32,
    notify_working_days: u32,
    handle_working_days: u32,
    defence_working_days: u32,
    feedback_working_days: u32,
    complex_extension_months: u32,
    major_extension_months: u32,
}

impl Rule {
    /// `id@version`, as stored on each clock.
    pub fn label(&self) -> String {
        format!("{}@{}", self.id, self.version)
    }

    fn prefix(&self) -> &str {
        crate::domain::region::region_prefix(&self.region)
    }

    fn applies(&self, region: &str, on: NaiveDate) -> bool {
        region.starts_with(self.prefix())
            && self.effective_from <= on
            && self.effective_to.map_or(true, |to| on <= to)
    }

    /// The national rule of the configuration.
    pub fn national(config: &Config) -> Rule {
        let w = &config.workflow;
        Rule {
            id: "national".into(),
            version: 1,
            region: "000000".into(),
            effective_from: NaiveDate::from_ymd_opt(2018, 1, 1).unwrap_or_default(),
            effective_to: None,
            accept_working_days: config.intake.accept_working_days,
            notify_working_days: w.notify_accept_working_days,
            handle_working_days: w.handle_working_days,
            defence_working_days: w.defence_working_days,
            feedback_working_days: w.feedback_working_days,
            complex_extension_months: w.complex_extension_months,
            major_extension_months: w.major_extension_months,
        }
    }

    /// Parse and check one rule file; errors name the file and line.
    pub fn from_toml_str(file: &str, text: &str) -> anyhow::Result<Rule> {
        let raw: RawRule = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |s| {
                text[..s.start.min(text.len())].matches('\n').count() + 1
            });
            anyhow::anyhow!("{file}:{line}: {}", e.message().trim())
        })?;
        let date = |name: &str, d: &toml::value::Datetime| -> anyhow::Result<NaiveDate> {
            d.date
                .filter(|_| d.time.is_none())
                .and_then(|x| NaiveDate::from_ymd_opt(x.year.into(), x.month.into(), x.day.into()))
                .ok_or_else(|| anyhow::anyhow!("{file}: {name} must be a date (YYYY-MM-DD)"))
        };
        if raw.region.len() != 6 || !raw.region.bytes().all(|b| b.is_ascii_digit()) {
            anyhow::bail!("{file}: region {:?} is not a 6-digit code", raw.region);
        }
        if raw.id.trim().is_empty() {
            anyhow::bail!("{file}: id must not be empty");
        }
        let effective_from = date("effective_from", &raw.effective_from)?;
        let effective_to = raw
            .effective_to
            .as_ref()
            .map(|d| date("effective_to", d))
            .transpose()?;
        if effective_to.is_some_and(|to| to < effective_from) {
            anyhow::bail!("{file}: effective_to is before effective_from");
        }
        for (name, n) in [
            ("accept_working_days", raw.accept_working_days),
            ("handle_working_days", raw.handle_working_days),
            ("complex_extension_months", raw.complex_extension_months),
        ] {
            if n == 0 {
                anyhow::bail!("{file}: {name} must be at least 1");
            }
        }
        if raw.major_extension_months < raw.complex_extension_months {
            anyhow::bail!(
                "{file}: major_extension_months is shorter than complex_extension_months"
            );
        }
        Ok(Rule {
            id: raw.id.trim().to_string(),
            version: raw.version,
            region: raw.region,
            effective_from,
            effective_to,
            accept_working_days: raw.accept_working_days,
            notify_working_days: raw.notify_working_days,
            handle_working_days: raw.handle_working_days,
            defence_working_days: raw.defence_working_days,
            feedback_working_days: raw.feedback_working_days,
            complex_extension_months: raw.complex_extension_months,
            major_extension_months: raw.major_extension_months,
        })
    }
}

/// The national rule and every regional one.
#[derive(Debug, Clone)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

impl RuleSet {
    /// The configuration's national rule plus the files of `[workflow] rules_dir` (a
    /// missing folder adds none).
    pub fn load(config: &Config) -> anyhow::Result<RuleSet> {
        let mut rules = vec![Rule::national(config)];
        let dir = Path::new(&config.workflow.rules_dir);
        if dir.is_dir() {
            let mut paths: Vec<_> = std::fs::read_dir(dir)?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            paths.sort();
            for p in paths {
                let name = p.display().to_string();
                let rule = Rule::from_toml_str(&name, &std::fs::read_to_string(&p)?)?;
                if rules.iter().any(|r| r.label() == rule.label()) {
                    anyhow::bail!("{name}: rule {} is defined twice", rule.label());
                }
                rules.push(rule);
            }
        }
        Ok(RuleSet { rules })
    }

    /// The rule for a clock of a case in `region` starting on `on`.
    pub fn select(&self, region: &str, on: NaiveDate) -> &Rule {
        self.rules
            .iter()
            .filter(|r| r.applies(region, on))
            .max_by(|a, b| {
                (a.prefix().len(), a.effective_from, a.version).cmp(&(
                    b.prefix().len(),
                    b.effective_from,
                    b.version,
                ))
            })
            .unwrap_or(&self.rules[0])
    }

    pub fn get(&self, label: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.label() == label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    const GD: &str =
        "id = \"gd\"\nversion = 2027\nregion = \"440000\"\neffective_from = 2027-01-01\n\
        accept_working_days = 10\nnotify_working_days = 3\nhandle_working_days = 20\n\
        defence_working_days = 5\nfeedback_working_days = 5\ncomplex_extension_months = 3\n\
        major_extension_months = 6\n";

    #[test]
    fn the_most_specific_rule_in_force_that_day_applies() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("gd.toml"), GD).unwrap();
        let mut config = Config::default();
        config.workflow.rules_dir = dir.path().display().to_string();
        let set = RuleSet::load(&config).unwrap();
        assert_eq!(set.select("440105", d("2026-12-31")).label(), "national@1");
        assert_eq!(set.select("440105", d("2027-01-01")).label(), "gd@2027");
        assert_eq!(
            set.select("440105", d("2027-01-01")).accept_working_days,
            10
        );
        assert_eq!(set.select("510105", d("2027-06-01")).label(), "national@1");
        assert_eq!(
            set.select("440105", d("2027-01-01")).accept_working_days,
            10
        );
        assert!(set.get("gd@2027").is_some());
    }

    #[test]
    fn bad_rule_files_name_the_file_and_line() {
        let e = Rule::from_toml_str("gd.toml", &GD.replace("= 20\n", "= \"twenty\"\n"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("gd.toml:7:"), "{e}");
        let e = Rule::from_toml_str("gd.toml", &format!("{GD}extra = 1\n"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("gd.toml:12:"), "{e}");
        let e = Rule::from_toml_str("gd.toml", &GD.replace("\"440000\"", "\"44\""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("6-digit"), "{e}");
        let e = Rule::from_toml_str(
            "gd.toml",
            &GD.replace("major_extension_months = 6", "major_extension_months = 2"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("shorter"), "{e}");
    }
}
