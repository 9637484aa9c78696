//! Retention policies (DOMAIN §8): how long after a case ends its reporter data is kept,
//! per region and from a date, chosen like every other kind of policy data
//! ([`crate::dated::select`]).
//!
//! A case *ends* on the later of the day it left the open statuses (closed, not accepted,
//! transferred, merged) and the last day of its reward claim windows. `identity_days`
//! after that its identity, chat and call identifiers and evidence originals are purged;
//! `sanitized_days` after it, the sanitized evidence.

use std::path::Path;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::dated;
use crate::triage::{toml_date, toml_opt_date};

const BUILT_IN: &[(&str, &str)] = &[(
    "config/retention/default.toml",
    include_str!("../../../config/retention/default.toml"),
)];

/// Longest period a policy may set (100 years).
const MAX_DAYS: u32 = 36_525;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionPolicy {
    pub id: String,
    pub version: u32,
    pub region: String,
    #[serde(deserialize_with = "toml_date")]
    pub effective_from: NaiveDate,
    #[serde(default, deserialize_with = "toml_opt_date")]
    pub effective_to: Option<NaiveDate>,
    /// Days after the case ends: identity, chat and call identifiers, evidence originals.
    pub identity_days: u32,
    /// Days after the case ends: sanitized evidence. Not fewer than `identity_days`.
    pub sanitized_days: u32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RetentionError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}

/// The days a case's data is purged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgeDays {
    pub identity_on: NaiveDate,
    pub sanitized_on: NaiveDate,
}

impl RetentionPolicy {
    pub fn from_toml_str(file: &str, text: &str) -> Result<RetentionPolicy, RetentionError> {
        let invalid = |message: String| RetentionError::Invalid {
            file: file.to_string(),
            message,
        };
        let p: RetentionPolicy = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if !dated::is_region_code(&p.region) {
            return Err(invalid(format!("region {:?} is not 6 digits", p.region)));
        }
        if p.identity_days == 0 || p.identity_days > MAX_DAYS {
            return Err(invalid(format!(
                "identity_days must be 1 to {MAX_DAYS} (a case's data is never purged before \
                 the case has ended)"
            )));
        }
        if p.sanitized_days < p.identity_days || p.sanitized_days > MAX_DAYS {
            return Err(invalid(format!(
                "sanitized_days must be at least identity_days ({}) and at most {MAX_DAYS}",
                p.identity_days
            )));
        }
        if p.effective_to.is_some_and(|to| to < p.effective_from) {
            return Err(invalid("effective_to is before effective_from".into()));
        }
        Ok(p)
    }

    /// `id@version`, as recorded with each purge.
    pub fn label(&self) -> String {
        format!("{}@{}", self.id, self.version)
    }

    /// The purge days of a case that ended on `ended_on`.
    pub fn purge_days(&self, ended_on: NaiveDate) -> PurgeDays {
        PurgeDays {
            identity_on: ended_on + Days::new(u64::from(self.identity_days)),
            sanitized_on: ended_on + Days::new(u64::from(self.sanitized_days)),
        }
    }
}

dated::dated_by_fields!(RetentionPolicy);

/// The loaded retention policies; `(id, version)` is unique.
#[derive(Debug, Clone, Default)]
pub struct RetentionPolicies(Vec<RetentionPolicy>);

impl RetentionPolicies {
    pub fn built_in() -> Result<Self, RetentionError> {
        Self::from_sources(BUILT_IN.iter().copied())
    }

    /// Every `*.toml` file of `dir`, in file-name order.
    pub fn load_dir(dir: &Path) -> Result<Self, RetentionError> {
        let texts = dated::read_toml_dir(dir).map_err(|(file, e)| RetentionError::Invalid {
            file,
            message: e.to_string(),
        })?;
        Self::from_sources(texts.iter().map(|(f, t)| (f.as_str(), t.as_str())))
    }

    /// Policies from `(file name, TOML text)` pairs; a repeated `(id, version)` is refused.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, RetentionError> {
        dated::parse_all(sources, RetentionPolicy::from_toml_str, |file, _, p| {
            RetentionError::Invalid {
                file: file.to_string(),
                message: format!("{} is defined twice", p.label()),
            }
        })
        .map(Self)
    }

    /// The policy for a case of `region_code` that ended on `date`.
    pub fn select(&self, region_code: &str, date: NaiveDate) -> Option<&RetentionPolicy> {
        dated::select(&self.0, region_code, date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_built_in_default_applies_everywhere() {
        let set = RetentionPolicies::built_in().unwrap();
        let p = set.select("371502", d(2026, 3, 1)).unwrap();
        assert_eq!(p.label(), "default@1");
        // 2026-03-01 to 2029-03-01 is 365 + 366 + 365 = 1096 days (29 Feb 2028).
        assert_eq!(p.purge_days(d(2026, 3, 1)).identity_on, d(2029, 2, 28));
    }

    #[test]
    fn a_region_overrides_from_its_date() {
        let local = "id = \"sd\"\nversion = 1\nregion = \"370000\"\neffective_from = 2026-01-01\n\
                     identity_days = 30\nsanitized_days = 60\n";
        let set = RetentionPolicies::from_sources([BUILT_IN[0], ("sd.toml", local)]).unwrap();
        assert_eq!(set.select("371502", d(2026, 1, 1)).unwrap().id, "sd");
        assert_eq!(set.select("371502", d(2025, 12, 31)).unwrap().id, "default");
        assert_eq!(set.select("110101", d(2026, 6, 1)).unwrap().id, "default");
        let p = set.select("371502", d(2026, 1, 1)).unwrap();
        assert_eq!(
            p.purge_days(d(2026, 1, 31)),
            PurgeDays {
                identity_on: d(2026, 3, 2),
                sanitized_on: d(2026, 4, 1)
            }
        );
    }

    #[test]
    fn bad_rules_are_refused_with_the_file_named() {
        let base = "id = \"x\"\nversion = 1\nregion = \"370000\"\neffective_from = 2026-01-01\n";
        for (extra, needle) in [
            ("identity_days = 0\nsanitized_days = 10\n", "identity_days"),
            (
                "identity_days = 30\nsanitized_days = 10\n",
                "sanitized_days",
            ),
            ("identity_days = 30\n", "sanitized_days"),
        ] {
            let err = RetentionPolicy::from_toml_str("x.toml", &format!("{base}{extra}"))
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("x.toml: ") && err.contains(needle), "{err}");
        }
    }
}
