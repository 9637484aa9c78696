//! Shared by the corpus and property tests: stand-in domain checks with a literal holiday
//! table (copied by hand from config/holidays/cn-2024…2026.toml), a fixed "now", and a way
//! to put a conversation at any step of the report flow.

#![allow(dead_code)]

use std::collections::BTreeMap;

use chrono::NaiveDate;
use dialog::{Checks, Conversation, Engine, Input, Locale, Outcome};
use serde_json::{json, Value};

/// 2026-03-18 12:00 in China (a Wednesday), 04:00 UTC.
pub const NOW: i64 = 1_773_806_400;

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 18).unwrap()
}

pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Accepts nothing it is not asked about; knows the festivals of 2024–2026.
pub struct Calendar;

impl Checks for Calendar {
    fn resident_id(&self, _: &str) -> Option<String> {
        None
    }
    fn id_last6(&self, _: &str) -> Option<String> {
        None
    }
    fn phone(&self, _: &str) -> Option<String> {
        None
    }
    fn region(&self, _: &str) -> Option<String> {
        None
    }
    fn holiday(&self, festival: &str, year: i32) -> Option<(NaiveDate, NaiveDate)> {
        holiday(festival, year)
    }
}

/// The festival days off, by hand from the State Council notices.
pub fn holiday(festival: &str, year: i32) -> Option<(NaiveDate, NaiveDate)> {
    let (a, b) = match (festival, year) {
        ("spring_festival", 2024) => ("2024-02-10", "2024-02-17"),
        ("spring_festival", 2025) => ("2025-01-28", "2025-02-04"),
        ("spring_festival", 2026) => ("2026-02-15", "2026-02-23"),
        ("national_day", 2024) => ("2024-10-01", "2024-10-07"),
        ("national_day", 2025) => ("2025-10-01", "2025-10-08"),
        ("national_day", 2026) => ("2026-10-01", "2026-10-07"),
        ("mid_autumn", 2025) => ("2025-10-01", "2025-10-08"),
        ("mid_autumn", 2026) => ("2026-09-25", "2026-09-27"),
        ("new_year", 2025) => ("2025-01-01", "2025-01-01"),
        ("new_year", 2026) => ("2026-01-01", "2026-01-03"),
        ("labour_day", 2025) => ("2025-05-01", "2025-05-05"),
        ("labour_day", 2026) => ("2026-05-01", "2026-05-05"),
        ("qingming", 2025) => ("2025-04-04", "2025-04-06"),
        ("qingming", 2026) => ("2026-04-04", "2026-04-06"),
        ("dragon_boat", 2025) => ("2025-05-31", "2025-06-02"),
        _ => return None,
    };
    Some((d(a), d(b)))
}

pub fn engine() -> Engine {
    Engine::built_in(Calendar)
}

/// The report conversation at `step`, with these earlier answers.
pub fn at_step(step: &str, slots: &[(&str, Value)]) -> Conversation {
    let mut map = BTreeMap::new();
    for (k, v) in slots {
        map.insert(k.to_string(), v.clone());
    }
    map.entry("description".to_string())
        .or_insert_with(|| json!("有人骗医保的钱，我想反映一下这个情况。"));
    Conversation {
        flow: "report".into(),
        step: step.into(),
        slots: map,
        media: vec![],
        locale: Locale::ZhCn,
        updated_at: NOW,
        attempts_on_step: 0,
    }
}

/// `🎤…` is a voice message with that recognition text; anything else is typed.
pub fn input(said: &str) -> Input {
    match said.strip_prefix('🎤') {
        Some(r) => Input::Voice {
            media_id: "voice-1".into(),
            recognition: Some(r.into()),
        },
        None => Input::Text(said.into()),
    }
}

pub fn send(engine: &Engine, s: Conversation, said: &str) -> Outcome {
    engine.step(Some(s), input(said), NOW + 10)
}
