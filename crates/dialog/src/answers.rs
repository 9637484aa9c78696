//! Reading people's answers: full-width text normalized, words matched to options, yes
//! and no, amounts in yuan (with 万 and 千), dates and periods, and the masks shown in
//! summaries.

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

/// The option named by `word`: its number, value or an alias.
pub(super) fn match_option(options: &[super::flow::Choice], word: &str) -> Option<usize> {
    if word.is_empty() {
        return None;
    }
    options.iter().enumerate().position(|(i, o)| {
        (i + 1).to_string() == word
            || normalize_word(&o.value) == word
            || o.aliases.iter().any(|a| normalize_word(a) == word)
    })
}

/// Several options, separated by spaces, commas, 、 or ；. The whole answer is first tried
/// as one option (aliases may contain spaces). Returns option indexes in option order.
pub(super) fn match_multi(options: &[super::flow::Choice], word: &str) -> Option<Vec<usize>> {
    if let Some(i) = match_option(options, word) {
        return Some(vec![i]);
    }
    let mut picked = BTreeSet::new();
    for tok in word.split(|c: char| {
        c.is_whitespace() || matches!(c, ',' | '，' | '、' | ';' | '；' | '/' | '和')
    }) {
        let tok = normalize_word(tok);
        if tok.is_empty() {
            continue;
        }
        picked.insert(match_option(options, &tok)?);
    }
    (!picked.is_empty()).then(|| picked.into_iter().collect())
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

/// When something happened, as a `(from, to)` range of dates not after `today`.
///
/// Accepted: `2025-03-05`, `2025/3/5`, `2025.3.5`, `2025年3月5日` (one day); `2025-03`,
/// `2025年3月` (that month, up to today); `今天`/`today`, `昨天`/`yesterday`, `前天`,
/// `本月`/`this month`, `上个月`/`last month`, `今年`/`this year`, `去年`/`last year`; and a
/// range of two of these joined by `至`, `到`, `~` or `to`.
pub fn parse_when(s: &str, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let w = normalize_word(s);
    for sep in ["至", "到", "~", "～", "—", " to "] {
        if let Some((a, b)) = w.split_once(sep) {
            let (from, _) = one_when(a.trim(), today)?;
            let (_, to) = one_when(b.trim(), today)?;
            return (from <= to).then_some((from, to));
        }
    }
    one_when(&w, today)
}

pub(super) fn one_when(s: &str, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let day = |d: NaiveDate| Some((d, d));
    let month_of = |d: NaiveDate| d.with_day(1);
    match s {
        "今天" | "today" => return day(today),
        "昨天" | "yesterday" => return day(today.pred_opt()?),
        "前天" => return day(today.pred_opt()?.pred_opt()?),
        "本月" | "这个月" | "this month" => return Some((month_of(today)?, today)),
        "上个月" | "上月" | "last month" => {
            let first = month_of(today)?.checked_sub_months(Months::new(1))?;
            return Some((first, month_of(today)?.pred_opt()?));
        }
        "今年" | "this year" => {
            return Some((NaiveDate::from_ymd_opt(today.year(), 1, 1)?, today))
        }
        "去年" | "last year" => {
            let y = today.year() - 1;
            return Some((
                NaiveDate::from_ymd_opt(y, 1, 1)?,
                NaiveDate::from_ymd_opt(y, 12, 31)?,
            ));
        }
        _ => {}
    }
    let t: String = s
        .chars()
        .map(|c| match c {
            '年' | '月' | '/' | '.' => '-',
            '日' | '号' => ' ',
            c => c,
        })
        .collect();
    let t = t.trim().trim_end_matches('-');
    let parts: Vec<&str> = if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        vec![&t[..4], &t[4..6], &t[6..]]
    } else {
        t.split('-').map(str::trim).collect()
    };
    if parts
        .iter()
        .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let num = |p: &str| p.parse::<u32>().ok();
    let year = match parts.first() {
        Some(y) if y.len() == 4 => i32::try_from(num(y)?).ok()?,
        _ => return None,
    };
    if year < 1950 {
        return None;
    }
    match parts.as_slice() {
        [_, m] => {
            let first = NaiveDate::from_ymd_opt(year, num(m)?, 1)?;
            let last = first.checked_add_months(Months::new(1))?.pred_opt()?;
            (first <= today).then(|| (first, last.min(today)))
        }
        [_, m, d] => {
            let date = NaiveDate::from_ymd_opt(year, num(m)?, num(d)?)?;
            (date <= today).then_some((date, date))
        }
        _ => None,
    }
}
