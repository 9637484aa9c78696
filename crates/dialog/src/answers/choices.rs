//! Picking options from what people write: option numbers in every common form (`5`, `五`,
//! `第5个`, `5和8`, `5、8`, `5 8`), an option's value or alias, and the keywords of the
//! options found inside a free phrase (`拿我的医保卡给别人开药`); names of targets found in
//! a description by their ending (`…卫生室`, `…大药房`) and the option a name's ending
//! implies.

use std::collections::BTreeSet;

use super::normalize_word;
use super::numbers::parse_small_int;
use crate::flow::Choice;

/// An option number as people write it: `5`, `五`, `第5个`, `第五项`, `5号`.
fn option_number(word: &str) -> Option<usize> {
    let w = word.strip_prefix('第').unwrap_or(word);
    let w = ["个吧", "个", "项", "条", "类", "种", "号", "吧"]
        .iter()
        .find_map(|s| w.strip_suffix(s))
        .unwrap_or(w);
    if w.is_empty() || w.chars().count() > 3 {
        return None;
    }
    usize::try_from(parse_small_int(w)?).ok()
}

/// The option named by `word` (normalized): its number in any form, value or an alias.
pub(crate) fn match_option(options: &[Choice], word: &str) -> Option<usize> {
    if word.is_empty() {
        return None;
    }
    let by_name = options.iter().position(|o| {
        normalize_word(&o.value) == word || o.aliases.iter().any(|a| normalize_word(a) == word)
    });
    by_name.or_else(|| {
        option_number(word)
            .filter(|n| (1..=options.len()).contains(n))
            .map(|n| n - 1)
    })
}

/// Several options, separated by spaces, commas, 、, ；, 和, 跟 …. The whole answer is
/// first tried as one option (aliases may contain spaces). Returns option indexes in option
/// order.
pub(crate) fn match_multi(options: &[Choice], word: &str) -> Option<Vec<usize>> {
    if let Some(i) = match_option(options, word) {
        return Some(vec![i]);
    }
    let w = word
        .replace("还有", ",")
        .replace("以及", ",")
        .replace("或者", ",");
    let mut picked = BTreeSet::new();
    for tok in w.split(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                ',' | '，'
                    | '、'
                    | ';'
                    | '；'
                    | '/'
                    | '和'
                    | '跟'
                    | '与'
                    | '及'
                    | '或'
                    | '加'
                    | '.'
                    | '。'
            )
    }) {
        let tok = normalize_word(tok);
        if tok.is_empty() {
            continue;
        }
        picked.insert(match_option(options, &tok)?);
    }
    (!picked.is_empty()).then(|| picked.into_iter().collect())
}

/// `pattern` occurs in `text`; a `*` in it stands for up to eight characters
/// (`拿*医保卡` matches `拿我们老人的医保卡`).
pub(crate) fn contains_pattern(text: &str, pattern: &str) -> bool {
    let mut parts = pattern.split('*');
    let Some(first) = parts.next() else {
        return false;
    };
    let rest: Vec<&str> = parts.collect();
    if rest.is_empty() {
        return text.contains(first);
    }
    text.match_indices(first).any(|(i, _)| {
        let mut at = i + first.len();
        rest.iter().all(|p| {
            let window: String = text[at..].chars().take(8 + p.chars().count()).collect();
            match window.find(p) {
                Some(j) => {
                    at += j + p.len();
                    true
                }
                None => false,
            }
        })
    })
}

/// The options whose keywords or aliases occur in `text` (normalized), in option order.
/// `except` is left out (the "other" option is never suggested).
pub(crate) fn options_in_text(options: &[Choice], text: &str, except: Option<&str>) -> Vec<usize> {
    options
        .iter()
        .enumerate()
        .filter(|(_, o)| Some(o.value.as_str()) != except)
        .filter(|(_, o)| {
            o.keywords
                .iter()
                .chain(&o.aliases)
                .any(|k| k.chars().count() >= 2 && contains_pattern(text, &normalize_word(k)))
        })
        .map(|(i, _)| i)
        .collect()
}

/// The one option a free phrase names: the option whose ending or alias ends the phrase
/// (longest first: `村卫生室` → clinic, `医院的药房` → pharmacy), else the only option whose
/// keywords occur in it.
pub(crate) fn choice_in_text(options: &[Choice], text: &str) -> Option<usize> {
    if let Some(i) = kind_of_name(options, text) {
        return Some(i);
    }
    let found = options_in_text(options, text, None);
    match found.as_slice() {
        [i] => Some(*i),
        _ => None,
    }
}

/// The option whose ending (or alias) is the longest ending of `name`.
pub(crate) fn kind_of_name(options: &[Choice], name: &str) -> Option<usize> {
    let name = normalize_word(name);
    let mut best: Option<(usize, usize)> = None;
    for (i, o) in options.iter().enumerate() {
        for e in o.endings.iter().chain(&o.aliases) {
            let e = normalize_word(e);
            let n = e.chars().count();
            if n >= 2 && name.ends_with(&e) && best.map_or(true, |(_, m)| n > m) {
                best = Some((i, n));
            }
        }
    }
    best.map(|(i, _)| i)
}

/// The option sharing most characters with `text` (at least two), to name as an example.
pub(crate) fn closest_option(options: &[Choice], text: &str) -> Option<usize> {
    let typed: BTreeSet<char> = text.chars().filter(|c| !c.is_ascii_punctuation()).collect();
    let mut best: Option<(usize, usize)> = None;
    for (i, o) in options.iter().enumerate() {
        for k in o.keywords.iter().chain(&o.aliases) {
            let shared = k
                .chars()
                .collect::<BTreeSet<_>>()
                .intersection(&typed)
                .count();
            if shared >= 2 && best.map_or(true, |(_, m)| shared > m) {
                best = Some((i, shared));
            }
        }
    }
    best.map(|(i, _)| i)
}

/// The first name in `text` that ends with one of `endings` (longest ending first) and
/// has at least one character before it, walking back over at most 16 characters to a
/// punctuation mark, a space or one of `stops`: `我们村卫生室的医生` → `村卫生室`.
pub fn find_name(text: &str, endings: &[String], stops: &[String]) -> Option<String> {
    let chars: Vec<char> = text.chars().take(5000).collect();
    let mut endings: Vec<Vec<char>> = endings.iter().map(|e| e.chars().collect()).collect();
    endings.sort_by_key(|e| std::cmp::Reverse(e.len()));
    let stop = |c: char| {
        !(c.is_alphanumeric())
            || stops
                .iter()
                .any(|s| s.chars().count() == 1 && s.starts_with(c))
    };
    for end in 1..=chars.len() {
        for e in &endings {
            if e.is_empty() || e.len() > end || chars[end - e.len()..end] != e[..] {
                continue;
            }
            let body_end = end - e.len();
            let mut start = body_end;
            while start > 0 && body_end - start < 16 && !stop(chars[start - 1]) {
                start -= 1;
            }
            if start < body_end {
                return Some(chars[start..end].iter().collect());
            }
        }
    }
    None
}
