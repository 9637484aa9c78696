//! The TOML form of a flow file and its checks (each problem named with the step).

#[allow(unused_imports)]
use super::*;
#[allow(unused_imports)]
use serde::Deserialize;
#[allow(unused_imports)]
use std::collections::{BTreeMap, BTreeSet, VecDeque};
#[allow(unused_imports)]
use std::fmt;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFlow {
    pub(super) id: String,
    pub(super) start: String,
    #[serde(default)]
    pub(super) intro: Option<String>,
    #[serde(default, rename = "step")]
    pub(super) steps: Vec<RawStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    pub(super) id: String,
    pub(super) ask: String,
    #[serde(default)]
    pub(super) hint: Option<String>,
    pub(super) expect: toml::Value,
    #[serde(default)]
    pub(super) optional: bool,
    #[serde(default)]
    pub(super) slot: Option<String>,
    #[serde(default)]
    pub(super) next: Option<String>,
    #[serde(default)]
    pub(super) branch: Vec<Branch>,
    #[serde(default)]
    pub(super) finish: Option<String>,
    // The optional understanding (see [`Understand`]).
    #[serde(default)]
    pub(super) suggest_from: Option<String>,
    #[serde(default)]
    pub(super) find_in: Option<String>,
    #[serde(default)]
    pub(super) offer: Option<String>,
    #[serde(default)]
    pub(super) infer_from: Option<String>,
    #[serde(default)]
    pub(super) inferred: Option<String>,
    #[serde(default)]
    pub(super) unsure: Option<String>,
    #[serde(default)]
    pub(super) unsure_note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExpect {
    pub(super) kind: String,
    #[serde(default)]
    pub(super) min: Option<usize>,
    #[serde(default)]
    pub(super) max: Option<usize>,
    #[serde(default)]
    pub(super) len: Option<usize>,
    #[serde(default)]
    pub(super) options: Vec<Choice>,
    #[serde(default)]
    pub(super) title: Option<String>,
    #[serde(default)]
    pub(super) lines: Vec<String>,
}

impl RawStep {
    pub(super) fn into_step(self) -> Result<Step, Problem> {
        let raw: RawExpect = match self.expect {
            toml::Value::String(kind) => RawExpect {
                kind,
                min: None,
                max: None,
                len: None,
                options: vec![],
                title: None,
                lines: vec![],
            },
            v @ toml::Value::Table(_) => v
                .try_into()
                .map_err(|e: toml::de::Error| Problem::BadExpect(e.message().to_string()))?,
            other => {
                return Err(Problem::BadExpect(format!(
                    "expected a kind name or a table, found {}",
                    other.type_str()
                )))
            }
        };
        let bad = |s: &str| Err(Problem::BadExpect(s.to_string()));
        let expect = match raw.kind.as_str() {
            "text" => {
                let (min, max) = (raw.min.unwrap_or(1), raw.max.unwrap_or(500));
                if min > max || max == 0 {
                    return bad("`min` must not exceed `max`, and `max` must be positive");
                }
                Expect::Text { min, max }
            }
            "choice" | "multi_choice" => {
                check_options(&raw.options)?;
                if raw.kind == "choice" {
                    Expect::Choice {
                        options: raw.options,
                    }
                } else {
                    Expect::MultiChoice {
                        options: raw.options,
                    }
                }
            }
            "yes_no" => Expect::YesNo,
            "date" => Expect::Date,
            "amount_yuan" => Expect::AmountYuan,
            "region" => Expect::Region,
            "resident_id" => Expect::ResidentId,
            "id_last6" => Expect::IdLast6,
            "phone" => Expect::Phone,
            "email" => Expect::Email,
            "media" => {
                let max = raw.max.unwrap_or(20);
                if max == 0 {
                    return bad("`max` must be positive");
                }
                Expect::Media { max }
            }
            "location" => Expect::Location,
            "digits" => match raw.len {
                Some(len @ 1..=64) => Expect::Digits { len },
                _ => return bad("`len` between 1 and 64 is required"),
            },
            "summary_confirm" => {
                let Some(title) = raw.title else {
                    return bad("`title` (the summary heading's message id) is required");
                };
                check_id(&title)?;
                Expect::SummaryConfirm {
                    title,
                    lines: raw.lines,
                }
            }
            other => return Err(Problem::UnknownExpect(other.to_string())),
        };
        check_id(&self.ask)?;
        if let Some(h) = &self.hint {
            check_id(h)?;
        }
        let finish = match self.finish.as_deref() {
            None => None,
            Some(f) => Some(Finish::parse(f).ok_or_else(|| Problem::UnknownFinish(f.into()))?),
        };
        if finish.is_some() && (self.next.is_some() || !self.branch.is_empty()) {
            return Err(Problem::FinishAndNext);
        }
        if finish.is_none() && self.next.is_none() {
            return Err(Problem::NoWayOn);
        }
        // Every answer is kept somewhere, except the summary's own "yes".
        if self.slot.is_none() && !matches!(expect, Expect::SummaryConfirm { .. }) {
            return Err(Problem::NeedsSlot);
        }
        let understand = Understand {
            suggest_from: self.suggest_from,
            find_in: self.find_in,
            offer: self.offer,
            infer_from: self.infer_from,
            inferred: self.inferred,
            unsure: self.unsure,
            unsure_note: self.unsure_note,
        };
        understand.check(&expect)?;
        Ok(Step {
            understand,
            id: self.id,
            ask: self.ask,
            hint: self.hint,
            expect,
            optional: self.optional,
            slot: self.slot,
            next: self.next,
            branch: self.branch,
            finish,
        })
    }
}

pub(super) fn check_options(options: &[Choice]) -> Result<(), Problem> {
    if options.is_empty() {
        return Err(Problem::BadExpect("a choice needs `options`".into()));
    }
    // Every way of naming an option must point to one option only.
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    for (i, o) in options.iter().enumerate() {
        check_id(&o.label)?;
        let keys = std::iter::once((i + 1).to_string())
            .chain(std::iter::once(o.value.clone()))
            .chain(o.aliases.iter().cloned());
        for k in keys {
            let k = crate::engine::normalize_word(&k);
            if let Some(j) = names.insert(k.clone(), i) {
                if j != i {
                    return Err(Problem::BadExpect(format!(
                        "`{k}` names two options ({} and {})",
                        options[j].value, o.value
                    )));
                }
            }
        }
    }
    Ok(())
}
