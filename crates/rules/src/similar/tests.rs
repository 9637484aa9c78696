use super::table::{NON_MATCHES, PARAPHRASES};
use super::*;

fn sim(a: &str, b: &str) -> u32 {
    jaccard_permille(&shingles(a), &shingles(b))
}

/// The probability that two tips of similarity `s` share a bucket (`1 − (1 − s^R)^B`).
fn candidate_probability(permille: u32) -> f64 {
    let s = f64::from(permille) / 1000.0;
    1.0 - (1.0 - s.powi(ROWS as i32)).powi(BANDS as i32)
}

#[test]
fn the_table_separates_at_the_threshold() {
    let mut report = String::new();
    let mut lowest_match = 1000;
    for (a, b) in PARAPHRASES {
        let s = sim(a, b);
        lowest_match = lowest_match.min(s);
        report.push_str(&format!("match {s:>4}‰  {a} | {b}\n"));
    }
    let mut highest_non = 0;
    for (a, b) in NON_MATCHES {
        let s = sim(a, b);
        highest_non = highest_non.max(s);
        report.push_str(&format!("non   {s:>4}‰  {a} | {b}\n"));
    }
    println!("{report}lowest paraphrase {lowest_match}‰, highest non-match {highest_non}‰");
    assert!(
        lowest_match >= SIMILAR_TEXT_PERMILLE,
        "a paraphrase is below the threshold:\n{report}"
    );
    assert!(
        highest_non < SIMILAR_TEXT_PERMILLE,
        "a non-match reaches the threshold:\n{report}"
    );
    // The banded lookup finds a pair at the threshold with high probability.
    assert!(
        candidate_probability(SIMILAR_TEXT_PERMILLE) > 0.5,
        "{}",
        candidate_probability(SIMILAR_TEXT_PERMILLE)
    );
}

#[test]
fn paraphrases_share_a_bucket() {
    for (a, b) in PARAPHRASES {
        let (ba, bb) = (text_buckets(a), text_buckets(b));
        assert_eq!(ba.len(), BANDS);
        assert!(
            ba.iter().any(|x| bb.contains(x)),
            "no shared bucket ({}‰): {a} | {b}",
            sim(a, b)
        );
    }
}

#[test]
fn a_text_is_its_own_match_and_buckets_are_stable() {
    let a = PARAPHRASES[0].0;
    assert_eq!(sim(a, a), 1000);
    assert_eq!(text_buckets(a), text_buckets(a));
    // Stored buckets must not change between builds: pin one.
    let pinned = text_buckets("康泰医院组织村里老人挂名住院，实际没有治疗。");
    assert_eq!(pinned.len(), BANDS);
    assert_eq!(
        pinned,
        text_buckets("康泰医院组织村里老人挂名住院，实际没有治疗。")
    );
}

#[test]
fn bad_input_is_normalized_not_refused() {
    // Empty, very short, one repeated character: no signature, no bucket, no similarity.
    for t in [
        "",
        "   ",
        "医院",
        "啊啊啊啊啊啊啊啊啊啊啊啊",
        "！！！！！！！！！！",
        "aaaaaaaaaaaa",
    ] {
        assert!(text_buckets(t).is_empty(), "{t:?}");
        assert_eq!(sim(t, t), 0, "{t:?}");
    }
    assert_eq!(normalize("啊啊啊啊啊"), vec!['啊']);
    // Full-width and half-width, punctuation and spaces: the same text.
    assert_eq!(
        normalize("ＡＢＣ医院，　挂床住院！"),
        normalize("abc医院挂床住院")
    );
    assert_eq!(
        shingles("康泰医院组织老人挂名住院。"),
        shingles("康泰医院 组织老人 挂床住院")
    );
}

#[test]
fn periods() {
    let d = |s: &str| Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap());
    assert!(periods_overlap(
        (d("2026-03-01"), d("2026-04-30")),
        (d("2026-04-01"), None)
    ));
    assert!(periods_overlap(
        (d("2026-04-30"), d("2026-03-01")),
        (d("2026-03-15"), d("2026-03-16"))
    ));
    assert!(!periods_overlap(
        (d("2026-03-01"), d("2026-03-31")),
        (d("2026-04-01"), d("2026-04-30"))
    ));
    assert!(!periods_overlap((None, None), (d("2026-04-01"), None)));
}

#[test]
fn links_need_a_primary_reason() {
    let none = Shared {
        period: true,
        categories: true,
        text_permille: SIMILAR_TEXT_PERMILLE - 1,
        ..Shared::default()
    };
    assert_eq!(link(&none), None);
    let all = Shared {
        target: true,
        reporter: true,
        text_permille: 1000,
        period: true,
        categories: true,
    };
    let l = link(&all).unwrap();
    assert_eq!(
        l.reasons,
        vec![
            "same_target",
            "same_reporter",
            "similar_text",
            "overlapping_period",
            "shared_categories"
        ]
    );
    assert_eq!(l.score, 100);
    let text = link(&Shared {
        text_permille: 500,
        ..Shared::default()
    })
    .unwrap();
    assert_eq!(text.reasons, vec!["similar_text"]);
    assert_eq!(text.score, SCORE_TEXT / 2);
    let target = link(&Shared {
        target: true,
        categories: true,
        ..Shared::default()
    })
    .unwrap();
    assert_eq!(target.score, SCORE_TARGET + SCORE_CATEGORIES);
}
