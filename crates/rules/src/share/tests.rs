use super::*;
use proptest::prelude::*;

/// (total, weights, expected shares)
type SplitCase<'a> = (i64, &'a [(&'a str, u32)], &'a [i64]);

#[test]
fn split_table() {
    let cases: &[SplitCase] = &[
        // 100 / 3: 33 each, 1 left; all remainders equal → the first listed
        (100, &[("a", 1), ("b", 1), ("c", 1)], &[34, 33, 33]),
        // 10 × 1/3 = 3.33, 10 × 2/3 = 6.67 → the larger fraction gets the fen
        (10, &[("a", 1), ("b", 2)], &[3, 7]),
        // 2 fen between three equals: ties in the order given
        (2, &[("a", 1), ("b", 1), ("c", 1)], &[1, 1, 0]),
        (0, &[("a", 3), ("b", 1)], &[0, 0]),
        (650_000, &[("a", 60), ("b", 40)], &[390_000, 260_000]),
        // 1001 × 5/7 = 715.0, × 1/7 = 143.0: exact
        (1_001, &[("a", 5), ("b", 1), ("c", 1)], &[715, 143, 143]),
        // 1000 × (1,1,5)/7 = 142.86, 142.86, 714.29 → 0.86 twice beat 0.29
        (1_000, &[("a", 1), ("b", 1), ("c", 5)], &[143, 143, 714]),
        (20_000, &[("only", 7)], &[20_000]),
    ];
    for (total, weights, expected) in cases {
        let got: Vec<i64> = split(*total, weights)
            .unwrap()
            .into_iter()
            .map(|(_, f)| f)
            .collect();
        assert_eq!(&got, expected, "{total} {weights:?}");
    }
    let keys: Vec<&str> = split(5, &[("x", 1), ("y", 1)])
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, ["x", "y"]);
}

#[test]
fn split_rejects_bad_weights() {
    assert_eq!(split::<&str>(100, &[]), Err(ShareError::Empty));
    assert_eq!(
        split(100, &[("a", 1), ("b", 0)]),
        Err(ShareError::ZeroWeight { index: 1 })
    );
    assert_eq!(
        split(100, &[("a", 1), ("b", 2), ("a", 3)]),
        Err(ShareError::DuplicateKey { index: 2 })
    );
    assert_eq!(split(-1, &[("a", 1)]), Err(ShareError::NegativeTotal(-1)));
}

#[test]
fn explain_shows_the_working() {
    // 1000 × (2, 1) / 3 = 666.67, 333.33: floors 666 and 333, one fen left, remainders 2 and 1.
    let s = explain(1_000, &[("a", 2), ("b", 1)]).unwrap();
    assert_eq!(s.weight_sum, 3);
    let got: Vec<(i64, i64, i64, i64)> = s
        .lines
        .iter()
        .map(|l| (l.floor_fen, l.remainder, l.extra_fen, l.amount_fen))
        .collect();
    assert_eq!(got, [(666, 2, 1, 667), (333, 1, 0, 333)]);
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(v["lines"][0]["tip"], "a");
    assert!(v["rule"].as_str().unwrap().starts_with("largest remainder"));
    assert_eq!(explain::<&str>(5, &[]), Err(ShareError::Empty));
}

#[test]
fn first_valid_picks_earliest_valid() {
    let tips = [
        (30, true, "c"),
        (10, false, "a"),
        (20, true, "b"),
        (20, true, "b2"),
    ];
    assert_eq!(first_valid(&tips), Some(&"b"));
    let none: [(i32, bool, &str); 2] = [(1, false, "x"), (2, false, "y")];
    assert_eq!(first_valid(&none), None);
    assert_eq!(first_valid::<i32, &str>(&[]), None);
    // with real timestamps
    let t = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    let tips = [
        (t("2024-03-01T09:00:00Z"), true, 7u64),
        (t("2024-03-01T08:59:59Z"), true, 9u64),
    ];
    assert_eq!(first_valid(&tips), Some(&9));
}

proptest! {
    #[test]
    fn split_is_exact_and_fair(
        total in 0i64..=1_000_000_000_000,
        weights in prop::collection::vec(1u32..=u32::MAX, 1..12),
    ) {
        let named: Vec<(usize, u32)> = weights.iter().copied().enumerate().collect();
        let shares = split(total, &named).unwrap();
        prop_assert_eq!(shares.iter().map(|(_, f)| f).sum::<i64>(), total);
        let sum: i128 = weights.iter().map(|&w| i128::from(w)).sum();
        for ((k, fen), (k2, w)) in shares.iter().zip(&named) {
            prop_assert_eq!(k, k2);
            // |fen − total·w/sum| < 1  ⇔  |fen·sum − total·w| < sum
            let diff = (i128::from(*fen) * sum - i128::from(total) * i128::from(*w)).abs();
            prop_assert!(diff < sum);
            prop_assert!(*fen >= 0);
        }
    }

    /// What a shared reward stores (`explain`'s lines, one row each): the shares sum to the
    /// total, each is within 1 fen of its exact proportion, the working adds up, and the
    /// fen left over went to the largest remainders, ties to the one recorded first.
    #[test]
    fn stored_shares_are_exact_and_fair(
        total in 0i64..=20_000_000_000,
        weights in prop::collection::vec(1u32..=MAX_WEIGHT, 1..=MAX_CO_REPORTERS),
    ) {
        let named: Vec<(String, u32)> =
            weights.iter().enumerate().map(|(i, w)| (format!("tip{i}"), *w)).collect();
        let s = explain(total, &named).unwrap();
        prop_assert_eq!(s.rule, REMAINDER_RULE);
        prop_assert_eq!(s.total_fen, total);
        let sum: i64 = weights.iter().map(|&w| i64::from(w)).sum();
        prop_assert_eq!(s.weight_sum, sum);
        prop_assert_eq!(s.lines.iter().map(|l| l.amount_fen).sum::<i64>(), total);
        let sum = i128::from(sum);
        for (l, (k, w)) in s.lines.iter().zip(&named) {
            prop_assert_eq!(&l.key, k);
            prop_assert_eq!(l.weight, *w);
            let exact = i128::from(total) * i128::from(*w);
            prop_assert!((i128::from(l.amount_fen) * sum - exact).abs() < sum);
            prop_assert_eq!(i128::from(l.floor_fen), exact / sum);
            prop_assert_eq!(i128::from(l.remainder), exact % sum);
            prop_assert!(l.extra_fen == 0 || l.extra_fen == 1);
            prop_assert_eq!(l.amount_fen, l.floor_fen + l.extra_fen);
        }
        // No co-reporter without the extra fen has a larger remainder than one with it,
        // nor an equal one while recorded earlier.
        for (i, a) in s.lines.iter().enumerate() {
            for (j, b) in s.lines.iter().enumerate() {
                if a.extra_fen == 1 && b.extra_fen == 0 {
                    prop_assert!(a.remainder > b.remainder || (a.remainder == b.remainder && i < j));
                }
            }
        }
        // The same amounts as `split`.
        let plain: Vec<i64> = split(total, &named).unwrap().into_iter().map(|(_, f)| f).collect();
        prop_assert_eq!(plain, s.lines.iter().map(|l| l.amount_fen).collect::<Vec<_>>());
    }

    #[test]
    fn first_valid_is_a_minimum(tips in prop::collection::vec((0u8..20, any::<bool>()), 0..10)) {
        let tagged: Vec<(u8, bool, usize)> = tips.iter().enumerate().map(|(i, (r, v))| (*r, *v, i)).collect();
        let expected = tagged.iter().filter(|t| t.1).map(|t| (t.0, t.2)).min().map(|(_, i)| i);
        prop_assert_eq!(first_valid(&tagged).copied(), expected);
    }
}
