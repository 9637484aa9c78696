//! The example a hint names when an answer was not understood, chosen to be close to what
//! was typed: `10月5号` for a month and a day, `春节前后` for a festival, `3000元` for the
//! number in an amount, the category whose words share most with the answer.

use super::*;
use crate::answers::numbers::{cn_digit, parse_small_int};
use crate::flow::Expect;
use crate::Msg;

/// The numbers in `text` (ASCII or Chinese), in order.
fn numbers_in(text: &str) -> Vec<u32> {
    let mut out = vec![];
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() || cn_digit(c).is_some() || c == '十' {
            run.push(c);
        } else if !run.is_empty() {
            out.extend(parse_small_int(&run));
            run.clear();
        }
    }
    out
}

/// Words of a festival in an answer.
const FESTIVE: &[&str] = &[
    "春节", "国庆", "过年", "元旦", "中秋", "端午", "清明", "五一", "节",
];

/// An example date close to `text`.
fn date_example(text: &str, locale: Locale) -> String {
    let n = numbers_in(text);
    if locale == Locale::En {
        return match n.as_slice() {
            [m, d, ..] if (1..=12).contains(m) && (1..=31).contains(d) => {
                format!("2025-{m:02}-{d:02}")
            }
            _ => "2025-03-05".into(),
        };
    }
    let has = |chars: &str| text.chars().any(|c| chars.contains(c));
    match n.as_slice() {
        [y, m, ..] if *y >= 1950 && (1..=12).contains(m) => format!("{y}年{m}月"),
        [y, ..] if *y >= 1950 => format!("{y}年3月"),
        [m, d, ..] if (1..=12).contains(m) && (1..=31).contains(d) => format!("{m}月{d}号"),
        [m] if (1..=12).contains(m) && !has("天日号") => format!("{m}月份"),
        [d] if (1..=31).contains(d) => format!("10月{d}号"),
        _ if has("春夏秋冬冷热") && !text.contains("春节") => "去年冬天".into(),
        _ if FESTIVE.iter().any(|f| text.contains(f)) => "春节前后".into(),
        _ if has("周星期礼拜") => "上个星期".into(),
        _ if has("月") => "上个月底".into(),
        _ if has("天日") => "前几天".into(),
        _ => "上个月".into(),
    }
}

/// An example amount close to `text`.
fn amount_example(text: &str, locale: Locale) -> String {
    let n = numbers_in(text);
    let has = |chars: &str| text.chars().any(|c| chars.contains(c));
    match (locale, n.first()) {
        (Locale::En, Some(&x)) if x > 0 => format!("{x}"),
        (Locale::En, _) => "1200".into(),
        (_, Some(&x)) if x > 0 && has("多来余") => format!("{x}多元"),
        (_, Some(&x)) if x > 0 => format!("{x}元"),
        _ if has("几") => "几百块".into(),
        _ if has("千") => "两千块".into(),
        _ if has("万") => "一万五".into(),
        _ => "两千块".into(),
    }
}

/// The hint's `example` (and for choices `example_label`) for an answer `text` that was
/// not understood.
pub(super) fn example_args(hint: Msg, expect: &Expect, text: &str, locale: Locale) -> Msg {
    let w = normalize_word(text);
    match expect {
        Expect::Date => hint.arg("example", date_example(&w, locale)),
        Expect::AmountYuan => hint.arg("example", amount_example(&w, locale)),
        Expect::Choice { options } | Expect::MultiChoice { options } if !options.is_empty() => {
            let i = closest_option(options, &w).unwrap_or(0);
            hint.arg("example", (i + 1).to_string())
                .label("example_label", vec![options[i].label.clone()])
        }
        _ => hint,
    }
}
