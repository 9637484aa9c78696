//! Taking an answer at the current step: text or media, parsed by the step's kind,
//! accepted, re-asked with a hint, or finishing the flow.

use super::offers::estimate_key;
#[allow(unused_imports)]
use super::*;
#[allow(unused_imports)]
use crate::flow::{Cmd, Expect, Finish, Flow, Step};
#[allow(unused_imports)]
use crate::{Locale, Msg};
#[allow(unused_imports)]
use chrono::NaiveDate;
#[allow(unused_imports)]
use serde_json::{json, Map, Value};
#[allow(unused_imports)]
use std::collections::{BTreeMap, BTreeSet};

impl Engine {
    /// The user answered the current step.
    pub(super) fn answer(&self, mut s: Conversation, input: Input, now: i64, out: &mut Outcome) {
        s.updated_at = now;
        out.locale = s.locale;
        let Some((_, step)) = self.flow_step(&s) else {
            out.replies.push(Msg::new("bots-internal-error"));
            return;
        };
        let step = shown(&s, step);

        if let Expect::Media { max } = step.expect {
            return self.answer_media(s, &step, max, input, out);
        }

        let text = match input {
            Input::Text(t) => t,
            Input::Link { title, url } => format!("{title} {url}"),
            Input::Voice {
                media_id,
                recognition: Some(t),
            } => {
                // The spoken answer; on a free-text step the recording is evidence too.
                if matches!(step.expect, Expect::Text { .. }) {
                    s.media.push(MediaRef {
                        kind: MediaKind::Voice,
                        media_id,
                        recognition: Some(t.clone()),
                    });
                }
                t
            }
            Input::Image { .. } | Input::Voice { .. } => {
                out.replies.push(Msg::new("bots-media-outside"));
                return self.ask(&mut s, out);
            }
            Input::Location { x, y, label } => {
                if matches!(step.expect, Expect::Location) {
                    let mut v = Map::new();
                    v.insert("label".into(), json!(label.trim()));
                    if let (Some(x), Some(y)) = (
                        serde_json::Number::from_f64(x),
                        serde_json::Number::from_f64(y),
                    ) {
                        v.insert("x".into(), Value::Number(x));
                        v.insert("y".into(), Value::Number(y));
                    }
                    return self.accept(s, &step, Value::Object(v), out);
                }
                // A location is no answer to any other question.
                String::new()
            }
            // Commands were handled before; kept total.
            Input::Command(_) => String::new(),
        };

        let word = normalize_word(&text);
        if self.answer_offer(&mut s, &step, &word, out).is_some() {
            return;
        }
        let unsure = self.vocab.is_unsure(&word);
        let lenient = matches!(step.expect, Expect::Location | Expect::Text { .. });
        // An option's own name wins over a skip word (`不用了` can be an option).
        let names_option = matches!(step.expect, Expect::Choice { .. })
            && match_option(step.expect.options(), &word).is_some();
        let skips = self.menu.words.skip.contains(&word) || (unsure && lenient && step.optional);
        if skips && !names_option {
            if step.optional {
                return self.skip(s, &step, out);
            }
            if self.answer_unsure(s.clone(), &step, out) {
                return;
            }
            out.replies.push(Msg::new("bots-cannot-skip"));
            return self.reask(s, &step, &text, out);
        }

        match self.parse_answer(&step, &text, &word, now) {
            Parsed::Value(v) => self.accept(s, &step, v, out),
            Parsed::Estimate(e) => {
                if let Some(slot) = &step.slot {
                    s.slots
                        .insert(estimate_key(slot), offers::estimate_json(&e));
                }
                self.accept(s, &step, json!(e.fen()), out)
            }
            Parsed::Unknown if step.optional => self.skip(s, &step, out),
            Parsed::Invalid | Parsed::Unknown if unsure && step.optional => {
                self.skip(s, &step, out)
            }
            Parsed::Invalid | Parsed::Unknown
                if unsure && self.answer_unsure(s.clone(), &step, out) => {}
            Parsed::Restart => {
                let Some(flow) = self.flows.get(&s.flow) else {
                    out.replies.push(Msg::new("bots-internal-error"));
                    return;
                };
                s.step = flow.start.clone();
                s.slots.clear();
                s.media.clear();
                s.attempts_on_step = 0;
                out.replies.push(Msg::new("bots-restarted"));
                self.ask(&mut s, out);
            }
            Parsed::Invalid | Parsed::Unknown => self.reask(s, &step, &text, out),
        }
    }

    /// Skip an optional step: its slot and anything kept for it are cleared.
    fn skip(&self, mut s: Conversation, step: &Step, out: &mut Outcome) {
        if let Some(slot) = &step.slot {
            s.slots.remove(slot);
            s.slots.remove(&estimate_key(slot));
            s.slots.remove(&offers::offer_key(slot));
        }
        self.advance(s, step, out)
    }

    pub(super) fn answer_media(
        &self,
        mut s: Conversation,
        step: &Step,
        max: usize,
        input: Input,
        out: &mut Outcome,
    ) {
        let slot = step.slot.clone().unwrap_or_default();
        let count = s.slots.get(&slot).and_then(Value::as_u64).unwrap_or(0) as usize;
        let (item, text) = match input {
            Input::Image { media_id } => (
                Some(MediaRef {
                    kind: MediaKind::Image,
                    media_id,
                    recognition: None,
                }),
                String::new(),
            ),
            // "完成" / "跳过" said aloud ends the sending, as typed.
            Input::Voice {
                recognition: Some(r),
                ..
            } if {
                let w = normalize_word(&r);
                self.menu.words.done.contains(&w) || self.menu.words.skip.contains(&w)
            } =>
            {
                (None, r)
            }
            Input::Voice {
                media_id,
                recognition,
            } => (
                Some(MediaRef {
                    kind: MediaKind::Voice,
                    media_id,
                    recognition,
                }),
                String::new(),
            ),
            Input::Text(t) => (None, t),
            Input::Link { title, url } => (None, format!("{title} {url}")),
            Input::Location { label, .. } => (None, label),
            Input::Command(_) => (None, String::new()),
        };
        if let Some(item) = item {
            s.media.push(item);
            let count = count + 1;
            s.slots.insert(slot, json!(count));
            s.attempts_on_step = 0;
            if count >= max {
                out.replies
                    .push(Msg::new("bots-media-full").arg("max", max.to_string()));
                return self.advance(s, step, out);
            }
            out.replies
                .push(Msg::new("bots-media-received").arg("count", count.to_string()));
            out.state = Some(s);
            return;
        }
        let w = normalize_word(&text);
        let done = self.menu.words.done.contains(&w) || self.menu.words.skip.contains(&w);
        if done && (count > 0 || step.optional) {
            return self.advance(s, step, out);
        }
        self.reask(s, step, &text, out)
    }

    pub(super) fn parse_answer(&self, step: &Step, text: &str, word: &str, now: i64) -> Parsed {
        let words = &self.menu.words;
        let v = match &step.expect {
            Expect::Text { min, max } => clean_text(text, *min, *max).map(Value::String),
            Expect::Choice { options } => match_option(options, word)
                .or_else(|| choice_in_text(options, word))
                .map(|i| {
                    // Index comes from `options`, so it is in range.
                    json!(options[i].value)
                }),
            Expect::MultiChoice { options } => match_multi(options, word)
                .or_else(|| Some(options_in_text(options, word, None)).filter(|f| !f.is_empty()))
                .map(|is| json!(is.iter().map(|&i| &options[i].value).collect::<Vec<_>>())),
            Expect::YesNo => yes_no(words, word).map(|b| json!(if b { "yes" } else { "no" })),
            Expect::SummaryConfirm { .. } => match yes_no(words, word) {
                Some(true) => Some(json!("yes")),
                Some(false) => return Parsed::Restart,
                None => None,
            },
            Expect::Date => understand_when(text, today(now), &self.vocab, &self.holidays())
                .map(offers::period_json),
            Expect::AmountYuan => {
                return match understand_amount(text, &self.vocab) {
                    Some(AmountAnswer::Estimate(e)) => Parsed::Estimate(e),
                    Some(AmountAnswer::Unknown) => Parsed::Unknown,
                    None => Parsed::Invalid,
                }
            }
            Expect::Region => self.checks.region(&normalize_text(text)).map(Value::String),
            Expect::ResidentId => self
                .checks
                .resident_id(&normalize_text(text))
                .map(Value::String),
            Expect::IdLast6 => self
                .checks
                .id_last6(&normalize_text(text))
                .map(Value::String),
            Expect::Phone => self.checks.phone(&normalize_text(text)).map(Value::String),
            Expect::Email => self.checks.email(&normalize_text(text)).map(Value::String),
            Expect::Location => match self.checks.region(&normalize_text(text)) {
                Some(code) => Some(json!({ "region_code": code })),
                None => clean_text(text, 2, 500).map(|t| json!({ "label": t })),
            },
            Expect::Digits { len } => {
                let d: String = normalize_text(text)
                    .chars()
                    .filter(|c| !matches!(c, ' ' | '-' | '_' | '.'))
                    .collect();
                (d.chars().count() == *len && d.bytes().all(|b| b.is_ascii_digit()))
                    .then_some(Value::String(d))
            }
            // Handled by `answer_media`.
            Expect::Media { .. } => None,
        };
        match v {
            Some(v) => Parsed::Value(v),
            None => Parsed::Invalid,
        }
    }

    pub(super) fn accept(&self, mut s: Conversation, step: &Step, v: Value, out: &mut Outcome) {
        if let Some(slot) = &step.slot {
            s.slots.insert(slot.clone(), v);
            s.slots.remove(&offers::offer_key(slot));
            if !matches!(step.expect, Expect::AmountYuan) {
                s.slots.remove(&estimate_key(slot));
            }
        }
        self.advance(s, step, out)
    }

    /// Go to the next step (first matching branch, else `next`) or finish the flow.
    pub(super) fn advance(&self, mut s: Conversation, step: &Step, out: &mut Outcome) {
        if let Some(finish) = step.finish {
            return self.finish(finish, s, out);
        }
        let next = step
            .branch
            .iter()
            .find(|b| s.slots.get(&b.if_slot).and_then(Value::as_str) == Some(b.equals.as_str()))
            .map(|b| &b.goto)
            .or(step.next.as_ref());
        let Some(next) = next else {
            out.replies.push(Msg::new("bots-internal-error"));
            return;
        };
        s.step = next.clone();
        s.attempts_on_step = 0;
        self.ask(&mut s, out);
    }

    pub(super) fn finish(&self, finish: Finish, s: Conversation, out: &mut Outcome) {
        out.state = None;
        let str_slot = |k: &str| s.slots.get(k).and_then(Value::as_str).map(str::to_string);
        match finish {
            Finish::FileReport => match build_draft(&s) {
                Some(d) => out.action = Some(Action::FileReport(Box::new(d))),
                None => out.replies.push(Msg::new("bots-internal-error")),
            },
            Finish::LookupStatus => match (str_slot("tracking_code"), str_slot("passcode")) {
                (Some(tracking_code), Some(passcode)) => {
                    out.action = Some(Action::LookupStatus {
                        tracking_code,
                        passcode,
                    })
                }
                _ => out.replies.push(Msg::new("bots-internal-error")),
            },
        }
    }

    /// The answer was not understood: hint, attempt count, maybe the way out, the question.
    pub(super) fn reask(&self, mut s: Conversation, step: &Step, text: &str, out: &mut Outcome) {
        s.attempts_on_step = s.attempts_on_step.saturating_add(1);
        let n = s.attempts_on_step;
        let mut hint = Msg::new(step.hint_id()).arg("attempt", n.to_string());
        match &step.expect {
            Expect::Text { min, max } => {
                hint = hint
                    .arg("min", min.to_string())
                    .arg("max", max.to_string())
                    .arg("chars", text.trim().chars().count().to_string());
            }
            Expect::Digits { len } => hint = hint.arg("len", len.to_string()),
            Expect::Media { max } => hint = hint.arg("max", max.to_string()),
            _ => hint = examples::example_args(hint, &step.expect, text, s.locale),
        }
        out.replies.push(hint);
        if n >= MAX_INVALID_BEFORE_HELP {
            out.replies
                .push(Msg::new("bots-stuck").arg("attempt", n.to_string()));
        }
        self.ask(&mut s, out);
    }
}
