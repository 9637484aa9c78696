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

    #[test]
    fn first_valid_is_a_minimum(tips in prop::collection::vec((0u8..20, any::<bool>()), 0..10)) {
        let tagged: Vec<(u8, bool, usize)> = tips.iter().enumerate().map(|(i, (r, v))| (*r, *v, i)).collect();
        let expected = tagged.iter().filter(|t| t.1).map(|t| (t.0, t.2)).min().map(|(_, i)| i);
        prop_assert_eq!(first_valid(&tagged).copied(), expected);
    }
}
