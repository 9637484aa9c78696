//! Amounts of money as people say them, read as an estimate in integer fen: a value
//! (`1200`, `两千块`, `一万五`, `1万5`, `2千`, `八百元左右`, `12,000元`, `1.2w`), more than a
//! value (`三千多`, `一千出头`, `超过一万`), a range (`两三千`, `五六百`, `2000到3000`,
//! `2到3千`), less than a value (`不到一千`), some hundreds (`几百块`), or unknown (`不知道多少`).
//! Every estimate is a `low..=high` range of non-negative fen; the report's single
//! `amount_estimate_fen` gets [`Estimate::fen`].

use super::numbers::{cn_digit, cn_unit, is_number_char, parse_number_centi};
use super::{format_yuan, normalize_text, parse_amount_fen, MAX_AMOUNT_FEN};
use crate::vocab::{strip_words, Vocabulary};
use crate::Locale;

/// How the amount was said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountShape {
    /// One value (`两千块`, `约 1200`): people's amounts are all "about".
    About,
    /// At least the value, below the next step (`三千多` = 3,000 to 4,000).
    More,
    /// Less than the value (`不到一千` = 0 to 1,000).
    Under,
    /// Between two values (`两三千`, `2000到3000`).
    Range,
    /// Some of a unit (`几百` = 100 to 900).
    Some,
}

/// An amount as an estimate: `low..=high` fen and how it was said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    pub low: i64,
    pub high: i64,
    pub shape: AmountShape,
}

impl Estimate {
    fn about(fen: i64) -> Estimate {
        Estimate {
            low: fen,
            high: fen,
            shape: AmountShape::About,
        }
    }

    /// The one figure the report holds (CONTRACT §3 `amount_estimate_fen`): the value
    /// itself, or for a range the middle of it, rounded down to whole yuan (`两三千` →
    /// 2,500 yuan, `三千多` → 3,500 yuan, `几百` → 500 yuan). The range itself is read back to
    /// the reporter in the summary and kept in the conversation.
    pub fn fen(&self) -> i64 {
        if self.shape == AmountShape::About {
            return self.low;
        }
        let mid = self.low / 2 + self.high / 2 + (self.low % 2 + self.high % 2) / 2;
        if mid >= 100 {
            mid / 100 * 100
        } else {
            mid
        }
    }
}

/// The answer to "how much money?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountAnswer {
    Estimate(Estimate),
    /// "不知道多少": the reporter does not know (the question is skipped).
    Unknown,
}

/// Read an answer to "how much money?" with the vocabulary `v`.
pub fn understand_amount(text: &str, v: &Vocabulary) -> Option<AmountAnswer> {
    let w: String = normalize_text(text)
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if let Some(e) = estimate(&w, v) {
        return Some(AmountAnswer::Estimate(e));
    }
    let has_number = w
        .chars()
        .any(|c| c.is_ascii_digit() || cn_digit(c).is_some());
    if v.is_unsure(&w) || (!has_number && w.contains("多少")) {
        return Some(AmountAnswer::Unknown);
    }
    None
}

/// The estimate in a whole answer (fillers and money words allowed around it).
fn estimate(w: &str, v: &Vocabulary) -> Option<Estimate> {
    let before: Vec<String> = v
        .fillers
        .before
        .iter()
        .chain(&v.amounts.before)
        .cloned()
        .collect();
    let after: Vec<String> = v
        .fillers
        .after
        .iter()
        .chain(&v.amounts.currency)
        .cloned()
        .collect();
    let t = strip_words(w, &before, &after);
    core(t, v)
}

/// An estimate with nothing around it but money words.
fn core(t: &str, v: &Vocabulary) -> Option<Estimate> {
    let t = strip_words(t, &[], &v.amounts.currency);
    if t.is_empty() {
        return None;
    }
    if let Some(fen) = single(t, v) {
        return check(Estimate::about(fen));
    }
    // 2000到3000, 两千至三千, 2到3千
    for sep in ["到", "至", "~", "～", "-", "—", "或者", "或"] {
        if let Some((a, b)) = t.split_once(sep) {
            let (a, b) = (
                strip_words(a, &[], &v.amounts.currency),
                strip_words(b, &[], &v.amounts.currency),
            );
            let (Some(mut lo), Some(hi)) = (single(a, v), single(b, v)) else {
                continue;
            };
            if let Some(unit) = b.chars().last().and_then(cn_unit) {
                let unit = i64::try_from(unit).ok()?;
                let bare = !a.chars().any(|c| cn_unit(c).is_some());
                if bare && lo.checked_mul(unit)? <= hi {
                    lo = lo.checked_mul(unit)?;
                }
            }
            return (lo <= hi)
                .then_some(Estimate {
                    low: lo,
                    high: hi,
                    shape: AmountShape::Range,
                })
                .and_then(check);
        }
    }
    if let Some(e) = adjacent_digits(t) {
        return check(e);
    }
    // 三千多, 一千出头, 二十几
    for m in &v.amounts.more {
        if let Some(x) = t.strip_suffix(m.as_str()) {
            let x = strip_words(x, &[], &v.amounts.currency);
            if let Some(low) = number_fen(x).filter(|&f| f > 0) {
                let high = low.checked_add(step_of(low))?;
                return check(Estimate {
                    low,
                    high,
                    shape: AmountShape::More,
                });
            }
        }
    }
    for m in &v.amounts.more_before {
        if let Some(x) = t.strip_prefix(m.as_str()) {
            if let Some(low) = single(x, v).filter(|&f| f > 0) {
                let high = low.checked_add(step_of(low))?;
                return check(Estimate {
                    low,
                    high,
                    shape: AmountShape::More,
                });
            }
        }
    }
    let under = |x: &str| single(x, v).filter(|&f| f > 0);
    for m in &v.amounts.under_before {
        if let Some(high) = t.strip_prefix(m.as_str()).and_then(under) {
            return check(Estimate {
                low: 0,
                high,
                shape: AmountShape::Under,
            });
        }
    }
    for m in &v.amounts.under_after {
        if let Some(high) = t.strip_suffix(m.as_str()).and_then(under) {
            return check(Estimate {
                low: 0,
                high,
                shape: AmountShape::Under,
            });
        }
    }
    // 几百, 好几千
    for s in &v.amounts.some {
        if let Some(units) = t.strip_prefix(s.as_str()) {
            if !units.is_empty() && units.chars().all(|c| cn_unit(c).is_some()) {
                let one = number_fen(&format!("一{units}"))?;
                return check(Estimate {
                    low: one,
                    high: one.checked_mul(9)?,
                    shape: AmountShape::Some,
                });
            }
        }
    }
    None
}

/// One value: the strict form (`1,200.50`, `12.3456万`), a number in any form (`一万五`),
/// or yuan and jiao (`三块五`, `5块5毛`).
fn single(t: &str, v: &Vocabulary) -> Option<i64> {
    let t = strip_words(t, &[], &v.amounts.currency);
    if let Some(f) = parse_amount_fen(t) {
        return Some(f);
    }
    if let Some(f) = number_fen(t) {
        return Some(f);
    }
    for sep in ['块', '元'] {
        if let Some((y, j)) = t.split_once(sep) {
            let j = j.trim_end_matches(['毛', '角']);
            let d = match j.chars().collect::<Vec<_>>().as_slice() {
                [c] => c.to_digit(10).or_else(|| cn_digit(*c))?,
                _ => return None,
            };
            return number_fen(y)?.checked_add(i64::from(d) * 10);
        }
    }
    None
}

/// A number in any form, as yuan, to fen (whole fen only).
fn number_fen(t: &str) -> Option<i64> {
    if t.is_empty() || !t.chars().all(is_number_char) {
        return None;
    }
    let c = parse_number_centi(t)?;
    i64::try_from(c).ok().filter(|&f| f <= MAX_AMOUNT_FEN)
}

/// 两三千, 五六百, 一千五六, 十五六万: two neighbouring digits where one is meant.
fn adjacent_digits(t: &str) -> Option<Estimate> {
    let chars: Vec<char> = t.chars().collect();
    for i in 0..chars.len().saturating_sub(1) {
        let (a, b) = (cn_digit(chars[i]), cn_digit(chars[i + 1]));
        let (Some(a), Some(b)) = (a, b) else { continue };
        if b != a + 1 || a == 0 {
            continue;
        }
        let rest: String = chars[i + 2..].iter().collect();
        if !rest.chars().all(|c| cn_unit(c).is_some()) {
            return None;
        }
        let prefix: String = chars[..i].iter().collect();
        let lo = number_fen(&format!("{prefix}{}{rest}", chars[i]))?;
        let hi = number_fen(&format!("{prefix}{}{rest}", chars[i + 1]))?;
        return (lo < hi).then_some(Estimate {
            low: lo,
            high: hi,
            shape: AmountShape::Range,
        });
    }
    None
}

/// The next step above a round amount: 3,000 → 1,000; 1,200 → 100; 20 → 10 (in fen).
fn step_of(fen: i64) -> i64 {
    let mut step = 100; // one yuan
    while fen % (step * 10) == 0 && step * 10 <= fen {
        step *= 10;
    }
    step
}

fn check(e: Estimate) -> Option<Estimate> {
    (0 <= e.low && e.low <= e.high && e.high <= MAX_AMOUNT_FEN).then_some(e)
}

/// An amount already given in a description: a number with a money word after it
/// (`报销了两千多块`, `花了3000元`). Returns the words as written and the estimate.
pub fn find_amount(text: &str, v: &Vocabulary) -> Option<(String, Estimate)> {
    let chars: Vec<char> = normalize_text(text)
        .to_lowercase()
        .chars()
        .take(2000)
        .collect();
    for end in 0..chars.len() {
        if !matches!(chars[end], '元' | '块') {
            continue;
        }
        let end = if chars.get(end + 1) == Some(&'钱') {
            end + 1
        } else {
            end
        };
        for start in end.saturating_sub(14)..end {
            let c = chars[start];
            if !(c.is_ascii_digit() || cn_digit(c).is_some() || c == '几' || c == '十') {
                continue;
            }
            let s: String = chars[start..=end].iter().collect();
            if let Some(e) = core(&s, v) {
                if e.high > 0 {
                    return Some((s, e));
                }
            }
        }
    }
    None
}

/// The estimate in plain words, as the summary reads it back.
pub fn describe_amount(e: &Estimate, locale: Locale) -> String {
    let (lo, hi, fen) = (
        format_yuan(e.low),
        format_yuan(e.high),
        format_yuan(e.fen()),
    );
    match (locale, e.shape) {
        (Locale::ZhCn, AmountShape::About) => format!("约 {lo} 元"),
        (Locale::ZhCn, AmountShape::More) => format!("{lo} 多元（记为约 {fen} 元）"),
        (Locale::ZhCn, AmountShape::Under) => format!("不到 {hi} 元（记为约 {fen} 元）"),
        (Locale::ZhCn, _) => format!("{lo} 到 {hi} 元（记为约 {fen} 元）"),
        (Locale::En, AmountShape::About) => format!("about {lo} yuan"),
        (Locale::En, AmountShape::More) => {
            format!("over {lo} yuan (recorded as about {fen})")
        }
        (Locale::En, AmountShape::Under) => {
            format!("under {hi} yuan (recorded as about {fen})")
        }
        (Locale::En, _) => format!("{lo} to {hi} yuan (recorded as about {fen})"),
    }
}
