//! The summary shown before confirmation, and the report draft built from the answers.

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

/// One line of the summary for `slot`, or `None` when the slot is empty (skipped).
pub(super) fn summary_line(flow: &Flow, title: &str, slot: &str, s: &Conversation) -> Option<Msg> {
    let v = s.slots.get(slot)?;
    let step = flow.step_for_slot(slot)?;
    let m = Msg::new(summary_line_id(title, slot));
    let label_of = |value: &str| {
        step.expect
            .options()
            .iter()
            .find(|o| o.value == value)
            .map(|o| o.label.clone())
    };
    let m = match &step.expect {
        Expect::Choice { .. } => m.label("value", vec![label_of(v.as_str()?)?]),
        Expect::MultiChoice { .. } => {
            let ids = v
                .as_array()?
                .iter()
                .filter_map(|x| label_of(x.as_str()?))
                .collect();
            m.label("value", ids)
        }
        Expect::YesNo => {
            let id = if v.as_str()? == "yes" {
                "bots-yes"
            } else {
                "bots-no"
            };
            m.label("value", vec![id.to_string()])
        }
        Expect::Text { .. } | Expect::Region | Expect::Digits { .. } => {
            m.arg("value", shorten(v.as_str()?, 100))
        }
        Expect::ResidentId => m.arg("value", mask_resident_id(v.as_str()?)),
        Expect::Phone => m.arg("value", mask_phone(v.as_str()?)),
        Expect::Email => m.arg("value", mask_email(v.as_str()?)),
        // Read back with only its last character, as the ID number is.
        Expect::IdLast6 => m.arg("value", format!("*****{}", v.as_str()?.get(5..)?)),
        // Read back as said: a value, or a range with the figure recorded for it.
        Expect::AmountYuan => {
            let fen = v.as_i64()?;
            let e = s
                .slots
                .get(&super::offers::estimate_key(slot))
                .and_then(super::offers::estimate_of)
                .filter(|e| e.fen() == fen)
                .unwrap_or(Estimate {
                    low: fen,
                    high: fen,
                    shape: AmountShape::About,
                });
            m.arg("value", describe_amount(&e, s.locale))
        }
        // Everything attached so far, including voice answers to text questions.
        Expect::Media { .. } => m.arg("value", s.media.len().max(v.as_u64()? as usize).to_string()),
        Expect::Date => {
            let date = |k: &str| NaiveDate::parse_from_str(v.get(k)?.as_str()?, "%Y-%m-%d").ok();
            m.arg(
                "value",
                describe_period(date("from")?, date("to")?, s.locale),
            )
        }
        Expect::Location => {
            let label = v.get("label").and_then(Value::as_str).unwrap_or_default();
            let text = match v.get("region_code").and_then(Value::as_str) {
                Some(code) => code.to_string(),
                None if !label.is_empty() => shorten(label, 100),
                None => {
                    let (x, y) = (v.get("x")?.as_f64()?, v.get("y")?.as_f64()?);
                    format!("{x:.5}, {y:.5}")
                }
            };
            m.arg("value", text)
        }
        Expect::SummaryConfirm { .. } => return None,
    };
    Some(m)
}

/// The report collected in `s`, or `None` if a required slot is missing.
pub(super) fn build_draft(s: &Conversation) -> Option<ReportDraft> {
    let text = |k: &str| s.slots.get(k).and_then(Value::as_str).map(str::to_string);
    let categories: Vec<String> = match s.slots.get("categories")? {
        Value::String(c) => vec![c.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|c| c.as_str().map(str::to_string))
            .collect(),
        _ => return None,
    };
    if categories.is_empty() {
        return None;
    }
    let place = s.slots.get("place");
    let place_str = |k: &str| {
        place
            .and_then(|p| p.get(k))
            .and_then(Value::as_str)
            .filter(|x| !x.is_empty())
            .map(str::to_string)
    };
    let coordinates = place.and_then(|p| Some((p.get("x")?.as_f64()?, p.get("y")?.as_f64()?)));
    let when = s.slots.get("when");
    let date = |k: &str| {
        when.and_then(|w| w.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    // Anonymous unless the reporter explicitly chose to give their name.
    let anonymous = text("anonymous").as_deref() != Some("no");
    let identity = |k: &str| if anonymous { None } else { text(k) };
    Some(ReportDraft {
        target: DraftTarget {
            name: text("target_name")?,
            kind: text("target_kind")?,
            region_code: place_str("region_code").or_else(|| text("region")),
            address: place_str("label").or_else(|| text("address")),
        },
        categories,
        description: text("description")?,
        occurred_from: date("from"),
        occurred_to: date("to"),
        amount_estimate_fen: s.slots.get("amount").and_then(Value::as_i64),
        reporter: DraftReporter {
            anonymous,
            name: identity("reporter_name"),
            id_number: identity("id_number"),
            phone: identity("phone"),
            email: identity("email"),
            relation: text("relation"),
            // Offered to anonymous reporters, whose ID number is not asked.
            claim_verifier: text("claim_verifier"),
            notify_by: text("notify_by"),
        },
        media: s.media.clone(),
        needs_classification: s.slots.get(&super::offers::unsure_key("categories"))
            == Some(&Value::Bool(true)),
        coordinates,
        locale: s.locale,
    })
}
