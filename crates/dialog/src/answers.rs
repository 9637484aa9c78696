//! Reading people's answers: full-width text normalized, yes and no, strict amounts in
//! yuan, and the masks shown in summaries. The everyday forms are in the submodules:
//! [`numbers`] (Chinese and mixed numerals), `choices` (option numbers, keywords, names in a
//! description), [`amounts`] (estimates: `三千多`, `两三千`), [`dates`] (periods:
//! `去年冬天`, `春节前后`).

pub mod amounts;
pub(crate) mod choices;
pub mod dates;
pub mod numbers;

pub use amounts::{
    describe_amount, find_amount, understand_amount, AmountAnswer, AmountShape, Estimate,
};
pub use choices::find_name;
pub(crate) use choices::{
    choice_in_text, closest_option, kind_of_name, match_multi, match_option, options_in_text,
};
pub use dates::{
    describe_period, find_when, no_holidays, parse_when, understand_when, Holidays, Period,
};

#[allow(unused_imports)]
use super::engine::*;
#[allow(unused_imports)]
use super::*;
#[allow(unused_imports)]
use chrono::{Datelike, Months, NaiveDate};
#[allow(unused_imports)]
use std::collections::BTreeSet;

/// Full-width ASCII (what Chinese input methods often type) to ASCII, the ideographic
/// space to a space.
pub fn normalize_text(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .collect()
}

/// A short answer as compared with command words, aliases and vocabularies: full-width
/// folded, ASCII lower case, inner whitespace collapsed, surrounding punctuation removed.
pub fn normalize_word(s: &str) -> String {
    let s = normalize_text(s).to_ascii_lowercase();
    let s: Vec<&str> = s.split_whitespace().collect();
    let s = s.join(" ");
    s.trim_matches(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '。' | '!'
                    | '?'
                    | '.'
                    | ','
                    | '，'
                    | '、'
                    | '~'
                    | '"'
                    | '\''
                    | '“'
                    | '”'
                    | '‘'
                    | '’'
                    | '…'
                    | ';'
                    | ':'
                    | '》'
                    | '《'
                    | '「'
                    | '」'
            )
    })
    .to_string()
}

/// Text that is mostly Latin letters and has no CJK characters.
pub(super) fn looks_english(s: &str) -> bool {
    let has_cjk = s
        .chars()
        .any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c) || ('\u{3400}'..='\u{4DBF}').contains(&c));
    !has_cjk && s.chars().filter(|c| c.is_ascii_alphabetic()).count() >= 2
}

/// Trimmed text of `min..=max` characters with no control characters but line breaks and
/// tabs.
pub(super) fn clean_text(s: &str, min: usize, max: usize) -> Option<String> {
    let t = s.trim();
    let n = t.chars().count();
    let ok = (min..=max).contains(&n)
        && !t
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'));
    ok.then(|| t.to_string())
}

pub(super) fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

pub(super) fn yes_no(words: &super::flow::Words, word: &str) -> Option<bool> {
    if words.yes.iter().any(|w| w == word) {
        Some(true)
    } else if words.no.iter().any(|w| w == word) {
        Some(false)
    } else {
        None
    }
}

/// An amount of money in yuan, as people type it, to integer fen. Accepts `1200`,
/// `1,200`, `1200.5`, `1200.50`, `1.2万`, `3千`, `2亿`, with an optional `¥`/`￥` before and
/// `元`/`块`/`块钱`/`yuan` after. No sign, at most as many decimals as the unit allows (two
/// for yuan), and at most 10^15 fen. Computed with integers only.
pub fn parse_amount_fen(s: &str) -> Option<i64> {
    let s = normalize_text(s).to_ascii_lowercase();
    let mut t = s.trim();
    for p in ["¥", "￥", "rmb", "人民币", "约", "大约", "大概"] {
        t = t.strip_prefix(p).unwrap_or(t).trim_start();
    }
    for suf in ["块钱", "块", "元", "yuan", "rmb", "左右"] {
        t = t.strip_suffix(suf).unwrap_or(t).trim_end();
    }
    // (unit suffix, fen per unit, decimals allowed)
    let (t, unit, decimals): (&str, i64, usize) = if let Some(x) = t.strip_suffix('亿') {
        (x, 10_000_000_000, 10)
    } else if let Some(x) = t.strip_suffix('万') {
        (x, 1_000_000, 6)
    } else if let Some(x) = t.strip_suffix('千') {
        (x, 100_000, 5)
    } else {
        (t, 100, 2)
    };
    let t = t.trim();
    let (int_part, frac_part) = match t.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (t, None),
    };
    // Integer part: digits, commas only between digits.
    if int_part.is_empty() || int_part.starts_with(',') || int_part.ends_with(',') {
        return None;
    }
    if int_part.contains(",,") {
        return None;
    }
    let mut value: i64 = 0;
    for c in int_part.chars() {
        match c {
            ',' => continue,
            '0'..='9' => {
                value = value
                    .checked_mul(10)?
                    .checked_add(i64::from(c as u8 - b'0'))?;
            }
            _ => return None,
        }
    }
    let mut fen = value.checked_mul(unit)?;
    if let Some(f) = frac_part {
        if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let f = f.trim_end_matches('0');
        if f.len() > decimals {
            return None;
        }
        // `unit` is 10^decimals × (fen per smallest decimal step); scale the fraction.
        let mut step = unit;
        for c in f.bytes() {
            step /= 10;
            fen = fen.checked_add(i64::from(c - b'0').checked_mul(step)?)?;
        }
    }
    (fen <= MAX_AMOUNT_FEN).then_some(fen)
}

/// Fen as yuan for people, as the summary echoes an amount back: thousands grouped, the
/// decimals only when not a whole yuan: `1,200`, `1,200.50`, `-0.05`. (The service's other
/// style, two decimals and no grouping, is its `domain::money::yuan`.)
pub fn format_yuan(fen: i64) -> String {
    let neg = fen < 0;
    let fen = fen.unsigned_abs();
    let (yuan, cents) = (fen / 100, fen % 100);
    let digits = yuan.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if neg { "-" } else { "" };
    if cents == 0 {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{cents:02}")
    }
}

/// `110105194912310021` → `110***********0021`.
pub fn mask_resident_id(id: &str) -> String {
    mask(id, 3, 4)
}

/// `13800138000` → `138****8000`.
pub fn mask_phone(p: &str) -> String {
    mask(p, 3, 4)
}

/// `li.si@example.cn` → `l****@example.cn`: the first character and the domain.
pub fn mask_email(e: &str) -> String {
    match e.rsplit_once('@') {
        Some((local, domain)) => format!("{}@{domain}", mask(local, 1, 0)),
        None => mask(e, 1, 0),
    }
}

pub(super) fn mask(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(chars.len() - head - tail));
    out.extend(&chars[chars.len() - tail..]);
    out
}
