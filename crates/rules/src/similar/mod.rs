//! Related tips (issue 18): whether two tips tell the same facts, as pure functions.
//!
//! A description is [`normalize`]d (the folding of [`crate::domain::institution::fold`],
//! a small table of words that tips write in several ways, and runs of one character
//! collapsed), cut into character [`SHINGLE`]-grams with the commonest domain words left
//! out ([`STOP_SHINGLES`]), and summarized by a MinHash signature of [`BANDS`] × [`ROWS`]
//! values. Each band of the signature is one stored bucket ([`buckets`]): two tips whose
//! shingle sets have Jaccard similarity `s` share at least one bucket with probability
//! `1 − (1 − s^ROWS)^BANDS`, so candidates are found by an indexed equality lookup however
//! many tips are stored. Candidates are then compared exactly ([`jaccard_permille`]) and
//! linked when the similarity reaches [`SIMILAR_TEXT_PERMILLE`].
//!
//! [`link`] turns what two tips share (target, reporter, text, period, categories) into the
//! reasons and the score shown to handlers. The thresholds were chosen from the hand-made
//! table of paraphrases and non-matches in `table.rs` (docs/related.md gives the figures).

use std::collections::BTreeSet;

use chrono::NaiveDate;

use crate::domain::institution::fold;

/// Characters per shingle: Chinese words are mostly two characters.
pub const SHINGLE: usize = 2;
/// Bands of the MinHash signature (one stored bucket each).
pub const BANDS: usize = 20;
/// Signature values per band.
pub const ROWS: usize = 2;
/// Fewer distinct shingles than this (an empty or very short description, one character
/// repeated): no text signature, so no `similar_text` link; other reasons still apply.
pub const MIN_SHINGLES: usize = 6;
/// Exact Jaccard similarity of the shingle sets, in ‰, from which two descriptions are
/// `similar_text` (chosen from `table.rs`: every paraphrase is at or above it, every
/// non-match below).
pub const SIMILAR_TEXT_PERMILLE: u32 = 200;

/// Words written several ways in tips, folded to one spelling before shingling (after
/// [`fold`]; longest first where one contains another).
pub const SYNONYMS: &[(&str, &str)] = &[
    ("医疗保险卡", "医保卡"),
    ("社会保障卡", "医保卡"),
    ("社保卡", "医保卡"),
    ("挂名住院", "挂床"),
    ("挂床住院", "挂床"),
    ("虚假住院", "挂床"),
    ("假住院", "挂床"),
    ("冒充病人", "假病人"),
    ("虚假就医", "假病人"),
    ("冒名就医", "冒名"),
    ("冒用", "冒名"),
    ("老年人", "老人"),
    ("老人家", "老人"),
    ("大爷大妈", "老人"),
    ("药店", "药房"),
    ("统筹基金", "医保基金"),
    ("医保统筹", "医保基金"),
    ("骗取医保", "骗保"),
    ("套取医保", "骗保"),
    ("套保", "骗保"),
    ("返钱", "返现"),
    ("回扣", "返现"),
    ("给钱", "返现"),
    ("拿药", "开药"),
    ("入院", "住院"),
    ("收治", "住院"),
    ("诊所", "门诊"),
    ("刷医保", "刷卡"),
];

/// Shingles that nearly every tip contains; left out so that they neither make unrelated
/// tips look alike nor fill the buckets.
pub const STOP_SHINGLES: &[&str] = &[
    "医保", "医院", "基金", "举报", "反映", "情况", "存在", "问题", "我们", "他们", "这个", "一个",
    "没有", "进行", "医疗", "保险", "报销", "费用",
];

/// A description as compared: folded, synonyms unified, runs of one character collapsed.
pub fn normalize(text: &str) -> Vec<char> {
    let mut s = fold(text);
    for (from, to) in SYNONYMS {
        if s.contains(from) {
            s = s.replace(from, to);
        }
    }
    let mut out: Vec<char> = Vec::with_capacity(s.len());
    for c in s.chars() {
        if out.last() != Some(&c) {
            out.push(c);
        }
    }
    out
}

/// FNV-1a, 64 bits: a stable hash (stored buckets must not change between builds).
fn fnv(bytes: impl IntoIterator<Item = u8>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// splitmix64's finalizer: the family of hash functions of the signature.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The hashed shingles of a description, sorted and distinct.
pub fn shingles(text: &str) -> Vec<u64> {
    let chars = normalize(text);
    let mut set = BTreeSet::new();
    for w in chars.windows(SHINGLE) {
        let s: String = w.iter().collect();
        if STOP_SHINGLES.contains(&s.as_str()) {
            continue;
        }
        set.insert(fnv(s.bytes()));
    }
    set.into_iter().collect()
}

/// Exact Jaccard similarity of two sorted shingle sets, in ‰ (0 when either is empty).
pub fn jaccard_permille(a: &[u64], b: &[u64]) -> u32 {
    if a.is_empty() || b.is_empty() {
        return 0;
    }
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - both;
    u32::try_from(both * 1000 / union).unwrap_or(1000)
}

/// The MinHash signature of a shingle set; `None` below [`MIN_SHINGLES`].
pub fn signature(shingles: &[u64]) -> Option<Vec<u64>> {
    if shingles.len() < MIN_SHINGLES {
        return None;
    }
    Some(
        (0..BANDS * ROWS)
            .map(|i| {
                let seed = mix(0x9e37_79b9_7f4a_7c15 ^ (i as u64 + 1));
                shingles
                    .iter()
                    .map(|s| mix(s ^ seed))
                    .min()
                    .unwrap_or(u64::MAX)
            })
            .collect(),
    )
}

/// One bucket per band of the signature (the band's number is part of the bucket), as the
/// signed 64-bit integers both databases store.
pub fn buckets(signature: &[u64]) -> Vec<i64> {
    signature
        .chunks(ROWS)
        .enumerate()
        .map(|(band, rows)| {
            let bytes = (band as u64)
                .to_le_bytes()
                .into_iter()
                .chain(rows.iter().flat_map(|r| r.to_le_bytes()));
            fnv(bytes) as i64
        })
        .collect()
}

/// The buckets of a description (empty when it has no signature).
pub fn text_buckets(text: &str) -> Vec<i64> {
    signature(&shingles(text))
        .map(|s| buckets(&s))
        .unwrap_or_default()
}

/// The period a tip names: `from` and `to` (either may be missing).
pub type Period = (Option<NaiveDate>, Option<NaiveDate>);

/// Whether two periods share a day. A missing end is the other end (one day); a tip that
/// names no date overlaps nothing.
pub fn periods_overlap(a: Period, b: Period) -> bool {
    let span = |p: Period| match p {
        (Some(f), Some(t)) => Some((f.min(t), f.max(t))),
        (Some(d), None) | (None, Some(d)) => Some((d, d)),
        (None, None) => None,
    };
    match (span(a), span(b)) {
        (Some((af, at)), Some((bf, bt))) => af <= bt && bf <= at,
        _ => false,
    }
}

/// What two tips share.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shared {
    /// The same normalized institution name within the region, or the same institution code.
    pub target: bool,
    /// The same phone or ID number (the keyed blind index): shown as a relation only.
    pub reporter: bool,
    /// Exact Jaccard similarity of the descriptions, ‰ (0 when either has no signature).
    pub text_permille: u32,
    pub period: bool,
    pub categories: bool,
}

/// Weights of the score (0–100), written down in docs/related.md.
pub const SCORE_TARGET: u32 = 40;
pub const SCORE_REPORTER: u32 = 30;
/// The text part is `SCORE_TEXT × similarity` (similarity in ‰ / 1000).
pub const SCORE_TEXT: u32 = 60;
pub const SCORE_PERIOD: u32 = 10;
pub const SCORE_CATEGORIES: u32 = 10;

/// A link between two tips: its reasons (stable codes) and its score, 0–100.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub reasons: Vec<&'static str>,
    pub score: u32,
}

/// The link two tips make, if they share a target, a reporter or similar text; a shared
/// period or shared categories alone make none, but add to a link's reasons and score.
pub fn link(s: &Shared) -> Option<Link> {
    let similar = s.text_permille >= SIMILAR_TEXT_PERMILLE;
    if !(s.target || s.reporter || similar) {
        return None;
    }
    let mut reasons = vec![];
    let mut score = 0;
    if s.target {
        reasons.push("same_target");
        score += SCORE_TARGET;
    }
    if s.reporter {
        reasons.push("same_reporter");
        score += SCORE_REPORTER;
    }
    if similar {
        reasons.push("similar_text");
        score += SCORE_TEXT * s.text_permille.min(1000) / 1000;
    }
    if s.period {
        reasons.push("overlapping_period");
        score += SCORE_PERIOD;
    }
    if s.categories {
        reasons.push("shared_categories");
        score += SCORE_CATEGORIES;
    }
    Some(Link {
        reasons,
        score: score.min(100),
    })
}

#[cfg(test)]
mod table;
#[cfg(test)]
mod tests;
