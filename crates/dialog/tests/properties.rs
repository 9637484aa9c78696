//! Properties over arbitrary answers: no input makes the engine panic at any step of the
//! report; no period read is ever after today (for any today); every amount read is a
//! non-negative integer of fen inside its own range.

mod support;

use chrono::{Duration, NaiveDate};
use dialog::engine::{find_amount, find_when, understand_amount, understand_when, AmountAnswer};
use dialog::Vocabulary;
use proptest::prelude::*;
use support::*;

/// Text made of the pieces answers are made of: numerals, units, time and money words,
/// punctuation, full-width forms, and anything else.
fn answer() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        proptest::sample::select(vec![
            "一",
            "二",
            "两",
            "三",
            "五",
            "九",
            "十",
            "百",
            "千",
            "万",
            "亿",
            "零",
            "几",
            "多",
            "来",
            "半",
            "个",
            "年",
            "月",
            "日",
            "号",
            "天",
            "周",
            "星期",
            "前",
            "后",
            "底",
            "初",
            "中旬",
            "去年",
            "今年",
            "前年",
            "上个月",
            "上上",
            "最近",
            "这",
            "近",
            "了",
            "到",
            "至",
            "~",
            "春节",
            "国庆",
            "冬天",
            "夏天",
            "前后",
            "期间",
            "块",
            "元",
            "钱",
            "左右",
            "不到",
            "以上",
            "以内",
            "超过",
            "大概",
            "不知道",
            "不记得",
            "对",
            "不对",
            "第",
            "和",
            "、",
            "，",
            "。",
            " ",
            ".",
            ",",
            "/",
            "-",
            "0",
            "1",
            "2",
            "9",
            "12",
            "31",
            "2025",
            "2026",
            "99999",
            "９",
            "．",
            "卫生室",
            "大药房",
            "医院",
            "拿",
            "医保卡",
            "收费",
            "k",
            "w",
            "¥",
        ])
        .prop_map(str::to_string),
        "\\PC{0,3}",
    ];
    proptest::collection::vec(piece, 0..8).prop_map(|v| v.concat())
}

fn any_today() -> impl Strategy<Value = NaiveDate> {
    (0i64..40_000).prop_map(|n| NaiveDate::from_ymd_opt(1960, 1, 1).unwrap() + Duration::days(n))
}

const STEPS: &[&str] = &[
    "description",
    "categories",
    "target_name",
    "target_kind",
    "place",
    "when",
    "amount",
    "evidence",
    "anonymous",
    "claim_verifier",
    "confirm",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn no_answer_panics_at_any_step(said in answer(), desc in answer(), step in 0..STEPS.len()) {
        let engine = engine();
        let desc = format!("{desc}村卫生室的医生去年冬天拿走了两千多块钱");
        let s = at_step(STEPS[step], &[("description", serde_json::json!(desc))]);
        let out = send(&engine, s, &said);
        prop_assert!(!out.replies.is_empty() || out.action.is_some());
        let voice = send(&engine, at_step(STEPS[step], &[]), &format!("🎤{said}"));
        prop_assert!(!voice.replies.is_empty() || voice.action.is_some());
    }

    #[test]
    fn no_period_is_in_the_future(said in answer(), today in any_today()) {
        let v = Vocabulary::built_in();
        if let Some((from, to)) = understand_when(&said, today, v, &holiday) {
            prop_assert!(from <= to && to <= today, "{said:?} on {today}: {from}..{to}");
        }
        if let Some((_, (from, to))) = find_when(&said, today, v, &holiday) {
            prop_assert!(from <= to && to <= today, "{said:?} on {today}: {from}..{to}");
        }
    }

    #[test]
    fn amounts_are_non_negative_integer_fen(said in answer()) {
        let v = Vocabulary::built_in();
        let estimates = [
            understand_amount(&said, v).and_then(|a| match a {
                AmountAnswer::Estimate(e) => Some(e),
                AmountAnswer::Unknown => None,
            }),
            find_amount(&said, v).map(|(_, e)| e),
        ];
        for e in estimates.into_iter().flatten() {
            prop_assert!(0 <= e.low && e.low <= e.high, "{said:?}: {e:?}");
            prop_assert!(e.low <= e.fen() && e.fen() <= e.high, "{said:?}: {e:?}");
            prop_assert!(e.high <= 1_000_000_000_000_000, "{said:?}: {e:?}");
        }
    }

    #[test]
    fn the_stored_slots_hold_valid_values(said in answer()) {
        let engine = engine();
        for step in ["when", "amount"] {
            let out = send(&engine, at_step(step, &[]), &said);
            let Some(s) = out.state else { continue };
            if let Some(v) = s.slots.get("when") {
                let from = d(v["from"].as_str().unwrap());
                let to = d(v["to"].as_str().unwrap());
                prop_assert!(from <= to && to <= today());
            }
            if let Some(v) = s.slots.get("amount") {
                prop_assert!(v.as_i64().is_some_and(|f| f >= 0), "{said:?}: {v}");
            }
        }
    }
}
