//! What the engine understands around a question: the categories a description suggests,
//! a name, date or amount it already gave (offered for a one-word "对"), the kind of target
//! a name implies (taken without asking), and "I don't know" at a step that has an answer
//! for it. Offers are kept in the conversation under `{slot}:offer` (`null` once turned
//! down), estimates under `{slot}:estimate`, "don't know" marks under `{slot}:unsure`.

use serde_json::{json, Value};

use super::*;
use crate::flow::{Expect, Flow, Step};
use crate::Msg;

/// Where an offer for `slot` is kept.
pub(super) fn offer_key(slot: &str) -> String {
    format!("{slot}:offer")
}

/// Where the estimate behind an amount in `slot` is kept.
pub(crate) fn estimate_key(slot: &str) -> String {
    format!("{slot}:estimate")
}

/// Where "the reporter did not know" is marked for `slot`.
pub(crate) fn unsure_key(slot: &str) -> String {
    format!("{slot}:unsure")
}

/// An estimate as kept in the conversation.
pub(super) fn estimate_json(e: &Estimate) -> Value {
    let shape = match e.shape {
        AmountShape::About => "about",
        AmountShape::More => "more",
        AmountShape::Under => "under",
        AmountShape::Range => "range",
        AmountShape::Some => "some",
    };
    json!({ "low": e.low, "high": e.high, "shape": shape })
}

/// An estimate read back from the conversation.
pub(crate) fn estimate_of(v: &Value) -> Option<Estimate> {
    let shape = match v.get("shape")?.as_str()? {
        "about" => AmountShape::About,
        "more" => AmountShape::More,
        "under" => AmountShape::Under,
        "range" => AmountShape::Range,
        "some" => AmountShape::Some,
        _ => return None,
    };
    let (low, high) = (v.get("low")?.as_i64()?, v.get("high")?.as_i64()?);
    (0 <= low && low <= high).then_some(Estimate { low, high, shape })
}

/// A period as kept in a `date` slot.
pub(super) fn period_json((from, to): Period) -> Value {
    json!({ "from": from.format("%Y-%m-%d").to_string(),
            "to": to.format("%Y-%m-%d").to_string() })
}

impl Engine {
    /// The festival days of the caller's calendar, as the date grammar wants them.
    pub(super) fn holidays(&self) -> impl Fn(&str, i32) -> Option<Period> + '_ {
        move |code: &str, year: i32| self.checks.holiday(code, year)
    }

    /// A choice step whose option follows from an earlier answer (`infer_from`): take it,
    /// say so, and return `true` (the caller moves on without asking).
    pub(super) fn infer(&self, s: &mut Conversation, step: &Step, out: &mut Outcome) -> bool {
        let (Some(from), Some(slot)) = (&step.understand.infer_from, &step.slot) else {
            return false;
        };
        let Some(text) = s.slots.get(from).and_then(Value::as_str) else {
            return false;
        };
        let options = step.expect.options();
        let Some(i) = kind_of_name(options, text) else {
            return false;
        };
        s.slots.insert(slot.clone(), json!(options[i].value));
        if let Some(note) = &step.understand.inferred {
            out.replies
                .push(Msg::new(note.as_str()).label("value", vec![options[i].label.clone()]));
        }
        true
    }

    /// Ask the step's offer instead of its question when the earlier answer it reads holds
    /// something for it; `true` if it did.
    pub(super) fn offer(
        &self,
        s: &mut Conversation,
        flow: &Flow,
        step: &Step,
        out: &mut Outcome,
    ) -> bool {
        let u = &step.understand;
        let (Some(msg), Some(slot)) = (&u.offer, &step.slot) else {
            return false;
        };
        let key = offer_key(slot);
        if s.slots.get(&key) == Some(&Value::Null) {
            return false; // turned down
        }
        let Some(source) = u.suggest_from.as_ref().or(u.find_in.as_ref()) else {
            return false;
        };
        let Some(text) = s
            .slots
            .get(source)
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            return false;
        };
        let today = today(s.updated_at);
        let v = &self.vocab;
        let found = match &step.expect {
            Expect::Choice { options } | Expect::MultiChoice { options } => {
                let found: Vec<usize> =
                    options_in_text(options, &normalize_word(&text), u.unsure.as_deref())
                        .into_iter()
                        .take(3)
                        .collect();
                (!found.is_empty()).then(|| {
                    let values: Vec<&str> =
                        found.iter().map(|&i| options[i].value.as_str()).collect();
                    let labels = found.iter().map(|&i| options[i].label.clone()).collect();
                    let stored = match &step.expect {
                        Expect::Choice { .. } => json!(values[0]),
                        _ => json!(values),
                    };
                    (stored, Msg::new(msg.as_str()).label("value", labels))
                })
            }
            Expect::Text { .. } => find_name(&text, &flow.name_endings(), &v.names.stops)
                .map(|n| (json!(n), Msg::new(msg.as_str()).arg("value", n))),
            Expect::Date => find_when(&text, today, v, &self.holidays()).map(|(said, p)| {
                let words = describe_period(p.0, p.1, s.locale);
                (
                    period_json(p),
                    Msg::new(msg.as_str()).arg("said", said).arg("value", words),
                )
            }),
            Expect::AmountYuan => find_amount(&text, v).map(|(said, e)| {
                let words = describe_amount(&e, s.locale);
                (
                    estimate_json(&e),
                    Msg::new(msg.as_str()).arg("said", said).arg("value", words),
                )
            }),
            _ => None,
        };
        match found {
            Some((stored, m)) => {
                s.slots.insert(key, stored);
                out.replies.push(m);
                true
            }
            None => {
                s.slots.remove(&key);
                false
            }
        }
    }

    /// An answer to an offer: accepted (`对`) → taken; turned down (`不对`) → the plain
    /// question. `None` when the answer is neither (it is then read as an answer).
    pub(super) fn answer_offer(
        &self,
        s: &mut Conversation,
        step: &Step,
        word: &str,
        out: &mut Outcome,
    ) -> Option<()> {
        let slot = step.slot.as_ref()?;
        let key = offer_key(slot);
        let offered = s.slots.get(&key).filter(|v| !v.is_null())?.clone();
        if self.vocab.accepts(word) {
            s.slots.remove(&key);
            match &step.expect {
                Expect::AmountYuan => {
                    let e = estimate_of(&offered)?;
                    s.slots.insert(slot.clone(), json!(e.fen()));
                    s.slots.insert(estimate_key(slot), offered);
                }
                _ => {
                    s.slots.insert(slot.clone(), offered);
                }
            }
            self.advance(s.clone(), step, out);
            return Some(());
        }
        if self.vocab.rejects(word) {
            s.slots.insert(key, Value::Null);
            s.attempts_on_step = 0;
            self.ask(s, out);
            return Some(());
        }
        None
    }

    /// "I don't know" at a step with an `unsure` option: take it, mark it for the
    /// handler, say so kindly, and move on.
    pub(super) fn answer_unsure(
        &self,
        mut s: Conversation,
        step: &Step,
        out: &mut Outcome,
    ) -> bool {
        let (Some(value), Some(slot)) = (&step.understand.unsure, &step.slot) else {
            return false;
        };
        let v = match &step.expect {
            Expect::MultiChoice { .. } => json!([value]),
            _ => json!(value),
        };
        s.slots.insert(slot.clone(), v);
        s.slots.insert(unsure_key(slot), json!(true));
        s.slots.remove(&offer_key(slot));
        if let Some(note) = &step.understand.unsure_note {
            out.replies.push(Msg::new(note.as_str()));
        }
        self.advance(s, step, out);
        true
    }
}
