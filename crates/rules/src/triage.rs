//! Triage (issue 18): a priority for each tip with its explanation. The factors are the
//! amount estimate, the categories, an insider relation, the evidence (count and kinds),
//! independent reporters on the same target and the target's earlier substantiated cases,
//! and whether the tip repeats an identical one from the same client address; each has its
//! weight in regional policy data, dated and versioned like the reward policies
//! (`config/triage/*.toml`, chosen by [`crate::dated::select`]). The score is the sum of the
//! factors' points, so the explanation always adds up to it. Identity never enters it:
//! the facts carry counts and codes only.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::dated;

/// The triage policies shipped in `config/triage/`, compiled in.
const BUILT_IN: [(&str, &str); 1] = [(
    "config/triage/default.toml",
    include_str!("../../../config/triage/default.toml"),
)];

/// The points of the highest band an amount estimate reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmountBand {
    pub from_fen: i64,
    pub points: i64,
}

/// One triage policy (the weights of a region from a date).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriagePolicy {
    pub id: String,
    pub version: u32,
    pub region: String,
    #[serde(deserialize_with = "toml_date")]
    pub effective_from: NaiveDate,
    #[serde(default, deserialize_with = "toml_opt_date")]
    pub effective_to: Option<NaiveDate>,
    pub amount: Vec<AmountBand>,
    /// Points of the weightiest category the tip names (codes of DOMAIN §2).
    pub categories: BTreeMap<String, i64>,
    pub insider: i64,
    pub evidence_per_file: i64,
    pub evidence_max: i64,
    /// Points for each distinct kind of evidence (image, pdf, audio, video).
    pub evidence_kind: BTreeMap<String, i64>,
    pub independent_per_reporter: i64,
    pub independent_max: i64,
    pub substantiated_per_case: i64,
    pub substantiated_max: i64,
    /// Points (≤ 0) for a tip identical to an earlier one from the same client address.
    pub repeated: i64,
}

/// A TOML local date (`2018-01-01`) as a [`NaiveDate`].
pub(crate) fn toml_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    let v = toml::value::Datetime::deserialize(d)?;
    match (v.date, v.time) {
        (Some(x), None) => {
            NaiveDate::from_ymd_opt(i32::from(x.year), u32::from(x.month), u32::from(x.day))
                .ok_or_else(|| serde::de::Error::custom("not a date"))
        }
        _ => Err(serde::de::Error::custom(
            "a date (YYYY-MM-DD) without a time",
        )),
    }
}

pub(crate) fn toml_opt_date<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<NaiveDate>, D::Error> {
    toml_date(d).map(Some)
}

#[derive(Debug, thiserror::Error)]
pub enum TriageError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: triage weights {id} version {version} are also in {other}")]
    Duplicate {
        file: String,
        other: String,
        id: String,
        version: u32,
    },
}

impl TriagePolicy {
    pub fn from_toml_str(file: &str, text: &str) -> Result<TriagePolicy, TriageError> {
        let invalid = |message: String| TriageError::Invalid {
            file: file.to_string(),
            message,
        };
        let p: TriagePolicy = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if !dated::is_region_code(&p.region) {
            return Err(invalid(format!("region {:?} is not 6 digits", p.region)));
        }
        if !p.amount.windows(2).all(|w| w[0].from_fen < w[1].from_fen) {
            return Err(invalid("amount bands must rise".into()));
        }
        let weights = [
            p.insider,
            p.evidence_per_file,
            p.evidence_max,
            p.independent_per_reporter,
            p.independent_max,
            p.substantiated_per_case,
            p.substantiated_max,
        ];
        let all = weights
            .iter()
            .chain(p.categories.values())
            .chain(p.evidence_kind.values())
            .chain(p.amount.iter().map(|b| &b.points));
        if all.clone().any(|w| *w < 0) || p.repeated > 0 {
            return Err(invalid("weights are ≥ 0 and `repeated` ≤ 0".into()));
        }
        Ok(p)
    }

    /// `id@version`, as stored with each triage.
    pub fn label(&self) -> String {
        format!("{}@{}", self.id, self.version)
    }
}

dated::dated_by_fields!(TriagePolicy);

/// The loaded triage policies.
#[derive(Debug, Clone, Default)]
pub struct TriagePolicies(Vec<TriagePolicy>);

impl TriagePolicies {
    /// The weights shipped in `config/triage/`, compiled into the binary.
    pub fn built_in() -> Result<TriagePolicies, TriageError> {
        TriagePolicies::from_sources(BUILT_IN.iter().copied())
    }

    /// Every `*.toml` file of `dir` (not recursive), in file-name order.
    pub fn load_dir(dir: impl AsRef<std::path::Path>) -> Result<TriagePolicies, TriageError> {
        let files = dated::read_toml_dir(dir.as_ref())
            .map_err(|(file, source)| TriageError::Io { file, source })?;
        TriagePolicies::from_sources(files.iter().map(|(f, t)| (f.as_str(), t.as_str())))
    }

    /// Weights from `(file name, TOML text)` pairs; a repeated `(id, version)` is refused.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<TriagePolicies, TriageError> {
        dated::parse_all(sources, TriagePolicy::from_toml_str, |file, other, p| {
            TriageError::Duplicate {
                file: file.to_string(),
                other: other.to_string(),
                id: p.id.clone(),
                version: p.version,
            }
        })
        .map(TriagePolicies)
    }

    pub fn policies(&self) -> &[TriagePolicy] {
        &self.0
    }

    pub fn select(&self, region_code: &str, date: NaiveDate) -> Option<&TriagePolicy> {
        dated::select(&self.0, region_code, date)
    }
}

/// What triage looks at: counts and codes, never who the reporter is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub amount_estimate_fen: Option<i64>,
    pub categories: Vec<String>,
    pub insider: bool,
    /// The kind of each evidence file.
    pub evidence: Vec<String>,
    /// Distinct reporters of other tips on the same target (by the blind index).
    pub independent_reporters: i64,
    /// Earlier cases on the same target decided substantiated (or partly).
    pub substantiated_before: i64,
    /// Identical to an earlier tip from the same client address.
    pub repeated: bool,
}

/// One line of the explanation: `points` is what the factor adds to the score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Factor {
    pub factor: String,
    /// The fact (an amount in fen, a count, 0/1).
    pub value: i64,
    /// The policy's weight for it (per unit, or the band's points).
    pub weight: i64,
    pub points: i64,
    /// The category or band that set the weight, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A tip's priority and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Triage {
    pub score: i64,
    pub policy: String,
    pub factors: Vec<Factor>,
}

fn factor(name: &str, value: i64, weight: i64, points: i64, detail: Option<String>) -> Factor {
    Factor {
        factor: name.to_string(),
        value,
        weight,
        points,
        detail,
    }
}

/// The triage of a tip under `p`: every factor, with the score their sum.
pub fn triage(p: &TriagePolicy, f: &Facts) -> Triage {
    let amount = f.amount_estimate_fen.unwrap_or(0).max(0);
    let band = p.amount.iter().rev().find(|b| amount >= b.from_fen);
    let weightiest = f
        .categories
        .iter()
        .filter_map(|c| p.categories.get(c).map(|w| (*w, c)))
        .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(a.1)));
    let files = i64::try_from(f.evidence.len()).unwrap_or(i64::MAX);
    let mut kinds: Vec<&String> = f.evidence.iter().collect();
    kinds.sort();
    kinds.dedup();
    let kind_points: i64 = kinds
        .iter()
        .map(|k| p.evidence_kind.get(*k).copied().unwrap_or(0))
        .sum();
    let capped = |n: i64, per: i64, max: i64| n.max(0).saturating_mul(per).min(max);
    let factors = vec![
        factor(
            "amount_estimate",
            amount,
            band.map_or(0, |b| b.points),
            band.map_or(0, |b| b.points),
            band.map(|b| format!("≥ {} fen", b.from_fen)),
        ),
        factor(
            "categories",
            i64::try_from(f.categories.len()).unwrap_or(0),
            weightiest.map_or(0, |w| w.0),
            weightiest.map_or(0, |w| w.0),
            weightiest.map(|w| w.1.clone()),
        ),
        factor(
            "insider",
            i64::from(f.insider),
            p.insider,
            if f.insider { p.insider } else { 0 },
            None,
        ),
        factor(
            "evidence_count",
            files,
            p.evidence_per_file,
            capped(files, p.evidence_per_file, p.evidence_max),
            None,
        ),
        factor(
            "evidence_kinds",
            i64::try_from(kinds.len()).unwrap_or(0),
            kind_points,
            kind_points,
            (!kinds.is_empty()).then(|| {
                kinds
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            }),
        ),
        factor(
            "independent_reporters",
            f.independent_reporters,
            p.independent_per_reporter,
            capped(
                f.independent_reporters,
                p.independent_per_reporter,
                p.independent_max,
            ),
            None,
        ),
        factor(
            "substantiated_before",
            f.substantiated_before,
            p.substantiated_per_case,
            capped(
                f.substantiated_before,
                p.substantiated_per_case,
                p.substantiated_max,
            ),
            None,
        ),
        factor(
            "repeated",
            i64::from(f.repeated),
            p.repeated,
            if f.repeated { p.repeated } else { 0 },
            None,
        ),
    ];
    Triage {
        score: factors.iter().map(|x| x.points).sum(),
        policy: p.label(),
        factors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> TriagePolicy {
        TriagePolicies::built_in()
            .unwrap()
            .select("371502", NaiveDate::from_ymd_opt(2026, 12, 1).unwrap())
            .unwrap()
            .clone()
    }

    #[test]
    fn the_explanation_adds_up_to_the_score() {
        let p = policy();
        let f = Facts {
            amount_estimate_fen: Some(12_345_600),
            categories: vec!["fake_patient".into(), "other".into()],
            insider: true,
            evidence: vec!["image".into(), "image".into(), "pdf".into()],
            independent_reporters: 2,
            substantiated_before: 5,
            repeated: false,
        };
        let t = triage(&p, &f);
        assert_eq!(t.score, t.factors.iter().map(|f| f.points).sum::<i64>());
        assert_eq!(t.factors.len(), 8);
        let get = |n: &str| t.factors.iter().find(|f| f.factor == n).unwrap().clone();
        assert_eq!(get("insider").points, p.insider);
        assert_eq!(get("evidence_count").points, 3 * p.evidence_per_file);
        assert_eq!(
            get("evidence_kinds").points,
            p.evidence_kind["image"] + p.evidence_kind["pdf"]
        );
        assert_eq!(
            get("substantiated_before").points,
            p.substantiated_max.min(5 * p.substantiated_per_case)
        );
        assert_eq!(get("categories").detail.as_deref(), Some("fake_patient"));
        assert_eq!(get("repeated").points, 0);
        assert_eq!(t.policy, "default@1");
    }

    #[test]
    fn repeated_tips_sort_down_and_nothing_is_negative_but_that() {
        let p = policy();
        let base = Facts {
            categories: vec!["overcharging".into()],
            ..Facts::default()
        };
        let once = triage(&p, &base);
        let again = triage(
            &p,
            &Facts {
                repeated: true,
                ..base.clone()
            },
        );
        assert!(again.score < once.score);
        assert_eq!(
            again.score,
            again.factors.iter().map(|f| f.points).sum::<i64>()
        );
        // No facts at all: every factor is there, with zero points.
        let empty = triage(&p, &Facts::default());
        assert_eq!(empty.score, 0);
        assert!(empty.factors.iter().all(|f| f.points == 0));
    }

    #[test]
    fn bad_policies_are_refused() {
        let good = BUILT_IN[0].1;
        assert!(TriagePolicy::from_toml_str("x", good).is_ok());
        let bad = good.replace("repeated = -40", "repeated = 5");
        assert!(TriagePolicy::from_toml_str("x", &bad).is_err());
        let bad = good.replace("region = \"000000\"", "region = \"37\"");
        assert!(TriagePolicy::from_toml_str("x", &bad).is_err());
        assert!(TriagePolicy::from_toml_str("x", &format!("unknown = 1\n{good}")).is_err());
    }

    /// A folder of weights: a region's own file wins over the national one for its codes
    /// only; a repeated `(id, version)` names both files; a folder that is not there is an
    /// I/O error naming it; files other than `*.toml` are not read.
    #[test]
    fn weights_load_from_a_folder() {
        let dir = std::env::temp_dir().join(format!("jubao-triage-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let national = BUILT_IN[0].1;
        let shandong = national
            .replace("id = \"default\"", "id = \"shandong\"")
            .replace("region = \"000000\"", "region = \"370000\"")
            .replace("insider = 15 ", "insider = 40 ");
        std::fs::write(dir.join("a-national.toml"), national).unwrap();
        std::fs::write(dir.join("b-shandong.toml"), &shandong).unwrap();
        std::fs::write(dir.join("notes.txt"), "not a policy").unwrap();
        let set = TriagePolicies::load_dir(&dir).unwrap();
        assert_eq!(set.policies().len(), 2);
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let liaocheng = set.select("371502", day).unwrap();
        assert_eq!(
            (liaocheng.label(), liaocheng.insider),
            ("shandong@1".into(), 40)
        );
        assert_eq!(set.select("110101", day).unwrap().label(), "default@1");

        std::fs::write(dir.join("c-again.toml"), &shandong).unwrap();
        match TriagePolicies::load_dir(&dir) {
            Err(TriageError::Duplicate {
                file,
                other,
                id,
                version,
            }) => {
                assert!(file.ends_with("c-again.toml"), "{file}");
                assert!(other.ends_with("b-shandong.toml"), "{other}");
                assert_eq!((id.as_str(), version), ("shandong", 1));
            }
            other => panic!("{other:?}"),
        }
        std::fs::remove_dir_all(&dir).unwrap();
        match TriagePolicies::load_dir(&dir) {
            Err(TriageError::Io { file, .. }) => assert!(file.contains("jubao-triage-"), "{file}"),
            other => panic!("{other:?}"),
        }
    }

    /// Dates, versions and the end of a file's force are read and used: a later version
    /// wins, a file not yet in force or ended is passed over.
    #[test]
    fn weights_are_chosen_by_date_and_version() {
        let national = BUILT_IN[0].1;
        let p = TriagePolicy::from_toml_str("x", national).unwrap();
        assert_eq!(
            p.effective_from,
            NaiveDate::from_ymd_opt(2018, 1, 1).unwrap()
        );
        assert_eq!(p.effective_to, None);
        let regional = |version: u32, from: &str, to: Option<&str>, insider: i64| {
            let mut t = national
                .replace("id = \"default\"", "id = \"sd\"")
                .replace("region = \"000000\"", "region = \"370000\"")
                .replace("version = 1", &format!("version = {version}"))
                .replace(
                    "effective_from = 2018-01-01",
                    &format!("effective_from = {from}"),
                )
                .replace("insider = 15 ", &format!("insider = {insider} "));
            if let Some(to) = to {
                t = t.replace(
                    &format!("effective_from = {from}"),
                    &format!("effective_from = {from}\neffective_to = {to}"),
                );
            }
            t
        };
        let v1 = regional(1, "2020-01-01", None, 20);
        let v2 = regional(2, "2020-01-01", Some("2025-12-31"), 30);
        let v3 = regional(3, "2027-01-01", None, 40);
        let set = TriagePolicies::from_sources([
            ("n", national),
            ("v1", v1.as_str()),
            ("v2", v2.as_str()),
            ("v3", v3.as_str()),
        ])
        .unwrap();
        let on = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let pick = |day| set.select("371502", day).unwrap().insider;
        assert_eq!(pick(on(2025, 12, 31)), 30, "the highest version in force");
        assert_eq!(pick(on(2026, 1, 1)), 20, "version 2 ended");
        assert_eq!(pick(on(2027, 1, 1)), 40, "version 3 begins");
        assert_eq!(
            pick(on(2019, 6, 1)),
            15,
            "before the region's files: national"
        );
        let v2 = TriagePolicy::from_toml_str("v2", &v2).unwrap();
        assert_eq!(v2.effective_to, Some(on(2025, 12, 31)));
        assert_eq!(v2.version, 2);
    }

    /// Bands must rise strictly; `repeated` may be 0 (no penalty) but not positive.
    #[test]
    fn equal_bands_are_refused_and_a_zero_repeat_is_allowed() {
        let good = BUILT_IN[0].1;
        let equal = good.replace("from_fen = 1_000_000 ", "from_fen = 1 ");
        assert_ne!(equal, good);
        assert!(TriagePolicy::from_toml_str("x", &equal).is_err());
        let zero = good.replace("repeated = -40", "repeated = 0");
        assert_eq!(TriagePolicy::from_toml_str("x", &zero).unwrap().repeated, 0);
    }
}
