//! What a step may understand beyond its answer kind (optional keys of a `[[step]]`):
//!
//! ```toml
//! suggest_from = "description"  # choice steps: offer the options whose keywords occur there
//! find_in = "description"       # text, date, amount steps: offer a value found there
//! offer = "bots-report-ask-…"   # the question asked instead when something is offered
//! infer_from = "target_name"    # choice steps: the option whose `endings` end that slot's
//!                               # text is taken without a question …
//! inferred = "bots-report-…"    # … and said with this message (`{ $value }` = its label)
//! unsure = "other"              # choice steps: "I don't know" picks this option …
//! unsure_note = "bots-report-…" # … and says so with this message
//! ```
//!
//! Offers are answered with an accepting word (`对`, `是的`), another answer, or a refusal
//! (`不对`: the question is asked plainly).

use serde::Deserialize;

use super::{check_id, Expect, Problem};

/// The optional understanding of one step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Understand {
    #[serde(default)]
    pub suggest_from: Option<String>,
    #[serde(default)]
    pub find_in: Option<String>,
    #[serde(default)]
    pub offer: Option<String>,
    #[serde(default)]
    pub infer_from: Option<String>,
    #[serde(default)]
    pub inferred: Option<String>,
    #[serde(default)]
    pub unsure: Option<String>,
    #[serde(default)]
    pub unsure_note: Option<String>,
}

impl Understand {
    /// Check the keys against the step's kind.
    pub(super) fn check(&self, expect: &Expect) -> Result<(), Problem> {
        let bad = |s: &str| Err(Problem::BadExpect(s.to_string()));
        for id in [&self.offer, &self.inferred, &self.unsure_note]
            .into_iter()
            .flatten()
        {
            check_id(id)?;
        }
        let choice = matches!(expect, Expect::Choice { .. } | Expect::MultiChoice { .. });
        if self.suggest_from.is_some() && !choice {
            return bad("`suggest_from` needs a choice step");
        }
        if self.infer_from.is_some() && !matches!(expect, Expect::Choice { .. }) {
            return bad("`infer_from` needs a `choice` step");
        }
        if self.find_in.is_some()
            && !matches!(
                expect,
                Expect::Text { .. } | Expect::Date | Expect::AmountYuan
            )
        {
            return bad("`find_in` needs a text, date or amount_yuan step");
        }
        if (self.suggest_from.is_some() || self.find_in.is_some()) && self.offer.is_none() {
            return bad("`suggest_from` and `find_in` need an `offer` message");
        }
        if let Some(u) = &self.unsure {
            if !expect.options().iter().any(|o| &o.value == u) {
                return bad("`unsure` must be the value of one of the options");
            }
        }
        Ok(())
    }

    /// The slots this step reads.
    pub fn reads(&self) -> impl Iterator<Item = &String> {
        [&self.suggest_from, &self.find_in, &self.infer_from]
            .into_iter()
            .flatten()
    }

    /// The message ids this step may show.
    pub fn message_ids(&self) -> impl Iterator<Item = &String> {
        [&self.offer, &self.inferred, &self.unsure_note]
            .into_iter()
            .flatten()
    }
}
