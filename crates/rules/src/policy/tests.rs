use super::*;
use proptest::prelude::*;
use Grade::{A, B, C};

fn built_in() -> PolicySet {
    PolicySet::built_in().expect("shipped policies load")
}

fn policy(id: &str) -> Policy {
    built_in()
        .policies()
        .iter()
        .find(|p| p.id == id)
        .cloned()
        .expect("policy shipped")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// Which bound applied: neither, the floor, or the cap.
const NONE: (bool, bool) = (false, false);
const FLOOR: (bool, bool) = (true, false);
const CAP: (bool, bool) = (false, true);

/// One hand-worked example: (what, verified fen, insider, grade, heavy) → (amount, floor, cap).
struct Case {
    what: &'static str,
    verified: i64,
    insider: bool,
    grade: Option<Grade>,
    heavy: bool,
    amount: i64,
    floor: bool,
    cap: bool,
}

const fn case(
    what: &'static str,
    verified: i64,
    insider: bool,
    grade: Option<Grade>,
    heavy: bool,
    amount: i64,
    (floor, cap): (bool, bool),
) -> Case {
    Case {
        what,
        verified,
        insider,
        grade,
        heavy,
        amount,
        floor,
        cap,
    }
}

fn run_table(id: &str, cases: &[Case]) {
    let p = policy(id);
    for c in cases {
        let input = Input {
            verified_fen: c.verified,
            insider: c.insider,
            grade: c.grade,
            heavy: c.heavy,
            no_loss_amount_fen: None,
        };
        let out = compute(&p, &input).unwrap_or_else(|e| panic!("{id} {}: {e}", c.what));
        assert_eq!(out.amount_fen, c.amount, "{id} {}: amount", c.what);
        assert_eq!(out.floor_applied, c.floor, "{id} {}: floor", c.what);
        assert_eq!(out.cap_applied, c.cap, "{id} {}: cap", c.what);
        assert_eq!(
            recompute(&out),
            out.amount_fen,
            "{id} {}: recompute",
            c.what
        );
    }
}

/// Recomputes the amount from the explanation alone, as an auditor would.
fn recompute(c: &Computation) -> i64 {
    let mut subtotal = 0i64;
    for l in &c.lines {
        let expected = match l.key {
            "fixed_band" | "no_loss" => l.amount_fen,
            _ => (l.base_fen as i128 * l.rate_bp as i128 + 5_000).div_euclid(10_000) as i64,
        };
        assert_eq!(expected, l.amount_fen, "line {l:?}");
        subtotal += l.amount_fen;
    }
    assert_eq!(subtotal, c.subtotal_fen);
    if c.lines.first().map(|l| l.key) == Some("no_loss") {
        return subtotal;
    }
    let multiplied = if c.heavy_multiplier_applied {
        (subtotal as i128 * c.heavy_multiplier_pct as i128 + 50).div_euclid(100) as i64
    } else {
        subtotal
    };
    assert_eq!(multiplied, c.multiplied_fen);
    multiplied.max(c.floor_fen).min(c.cap_fen)
}

const YUAN: i64 = 100;

// ----- hand-worked tables -----------------------------------------------------------------

#[rustfmt::skip]
const DEFAULT_CASES: &[Case] = &[
    // 10,000 yuan × 5% = 500 yuan
    case("10k yuan", 10_000 * YUAN, false, None, false, 500 * YUAN, NONE),
    // edge: 50,000 × 5% = 2,500 yuan
    case("edge 50k", 50_000 * YUAN, false, None, false, 2_500 * YUAN, NONE),
    // edge: 2,500 + 100,000 × 4% = 6,500 yuan
    case("edge 150k", 150_000 * YUAN, false, None, false, 6_500 * YUAN, NONE),
    // just past the edge: +0.01 yuan × 3% rounds to 0
    case("150k + 1 fen", 150_000 * YUAN + 1, false, None, false, 650_000, NONE),
    // 5,000,013 fen: 250,000 + 13 × 4% = 0.52 → 1 fen (half up)
    case("rounding", 5_000_013, false, None, false, 250_001, NONE),
    // insider: 50,000 × 6% + 100,000 × 5% = 3,000 + 5,000 = 8,000 yuan
    case("insider 150k", 150_000 * YUAN, true, None, false, 8_000 * YUAN, NONE),
    // 1,000 yuan × 5% = 50 yuan → floor 200 yuan
    case("floor", 1_000 * YUAN, false, None, false, 200 * YUAN, FLOOR),
    // 4,000,000 yuan: 6,500 + 3,850,000 × 3% = 122,000 → cap 100,000 yuan
    case("cap", 4_000_000 * YUAN, false, None, false, 100_000 * YUAN, CAP),
    // heavy: 6,500 × 1.5 = 9,750 yuan
    case("heavy 150k", 150_000 * YUAN, false, None, true, 9_750 * YUAN, NONE),
    // heavy under cap: 2,000,000 yuan: 6,500 + 55,500 = 62,000 × 1.5 = 93,000 yuan
    case("heavy 2M", 2_000_000 * YUAN, false, None, true, 93_000 * YUAN, NONE),
    // heavy over cap: 2,500,000 yuan: 77,000 × 1.5 = 115,500 → cap
    case("heavy cap", 2_500_000 * YUAN, false, None, true, 100_000 * YUAN, CAP),
    // a grade is ignored by a marginal scheme
    case("grade ignored", 50_000 * YUAN, false, Some(A), false, 2_500 * YUAN, NONE),
];

#[test]
fn default_policy_table() {
    run_table("default", DEFAULT_CASES);
}

#[rustfmt::skip]
const SICHUAN_CASES: &[Case] = &[
    // edge: 100,000 × 2% = 2,000 yuan
    case("edge 100k", 100_000 * YUAN, false, None, false, 2_000 * YUAN, NONE),
    // edge: 2,000 + 900,000 × 1.5% = 15,500 yuan
    case("edge 1M", 1_000_000 * YUAN, false, None, false, 15_500 * YUAN, NONE),
    // edge: 15,500 + 9,000,000 × 1% = 105,500 yuan
    case("edge 10M", 10_000_000 * YUAN, false, None, false, 105_500 * YUAN, NONE),
    // 10,000 yuan × 2% = 200 yuan = floor exactly (not raised)
    case("at floor", 10_000 * YUAN, false, None, false, 200 * YUAN, NONE),
    // 5,000 yuan × 2% = 100 yuan → floor 200 yuan
    case("floor", 5_000 * YUAN, false, None, false, 200 * YUAN, FLOOR),
    // 30,000,000 yuan: 105,500 + 20,000,000 × 0.5% = 205,500 → cap 200,000 yuan
    case("cap", 30_000_000 * YUAN, false, None, false, 200_000 * YUAN, CAP),
    // heavy: 15,500 × 1.5 = 23,250 yuan
    case("heavy 1M", 1_000_000 * YUAN, false, None, true, 23_250 * YUAN, NONE),
    // heavy under cap: 15M yuan: 130,500 × 1.5 = 195,750 yuan
    case("heavy 15M", 15_000_000 * YUAN, false, None, true, 195_750 * YUAN, NONE),
    // heavy over cap: 20M yuan: 155,500 × 1.5 = 233,250 → cap
    case("heavy cap", 20_000_000 * YUAN, false, None, true, 200_000 * YUAN, CAP),
    // no insider uplift in the Sichuan document: unchanged
    case("insider", 100_000 * YUAN, true, None, false, 2_000 * YUAN, NONE),
];

#[test]
fn sichuan_2023_table() {
    run_table("sichuan", SICHUAN_CASES);
}

#[rustfmt::skip]
const FUJIAN_CASES: &[Case] = &[
    case("A 10k", 10_000 * YUAN, false, Some(A), false, 600 * YUAN, NONE),
    case("B 10k", 10_000 * YUAN, false, Some(B), false, 400 * YUAN, NONE),
    // 10,000 × 2% = 200 yuan = floor exactly
    case("C 10k", 10_000 * YUAN, false, Some(C), false, 200 * YUAN, NONE),
    // 5,000 × 2% = 100 yuan → floor 200 yuan
    case("C floor", 5_000 * YUAN, false, Some(C), false, 200 * YUAN, FLOOR),
    // 4,000,000 × 6% = 240,000 → cap 200,000 yuan
    case("A cap", 4_000_000 * YUAN, false, Some(A), false, 200_000 * YUAN, CAP),
    // heavy: 1,000,000 × 6% = 60,000 × 1.5 = 90,000 yuan
    case("A heavy", 1_000_000 * YUAN, false, Some(A), true, 90_000 * YUAN, NONE),
    // heavy: B 3,000,000 × 4% = 120,000 × 1.5 = 180,000 (under the cap);
    // A 3,000,000 × 6% = 180,000 × 1.5 = 270,000 → cap 200,000 yuan
    case("B heavy", 3_000_000 * YUAN, false, Some(B), true, 180_000 * YUAN, NONE),
    case("A heavy cap", 3_000_000 * YUAN, false, Some(A), true, 200_000 * YUAN, CAP),
    // rounding: 333,341 × 6% = 20,000.46 → 20,000; 333,342 → 20,000.52 → 20,001
    case("round down", 333_341, false, Some(A), false, 20_000, NONE),
    case("round up", 333_342, false, Some(A), false, 20_001, NONE),
];

#[test]
fn fujian_2024_table() {
    run_table("fujian", FUJIAN_CASES);
}

#[test]
fn marginal_lines_are_explained() {
    let p = policy("default");
    let out = compute(
        &p,
        &Input {
            verified_fen: 200_000 * YUAN,
            insider: true,
            ..Input::default()
        },
    )
    .unwrap();
    let got: Vec<(i64, Option<i64>, i64, i64, i64)> = out
        .lines
        .iter()
        .map(|l| (l.from_fen, l.to_fen, l.base_fen, l.rate_bp, l.amount_fen))
        .collect();
    assert_eq!(
        got,
        vec![
            (0, Some(5_000_000), 5_000_000, 600, 300_000),
            (5_000_000, Some(15_000_000), 10_000_000, 500, 500_000),
            (15_000_000, None, 5_000_000, 400, 200_000),
        ]
    );
    assert_eq!(out.subtotal_fen, 1_000_000);
    assert!(out.insider_uplift_applied);
    assert_eq!(out.insider_uplift_bp, 100);
    assert_eq!((out.policy_id.as_str(), out.policy_version), ("default", 1));
    assert_eq!(out.rounding, ROUNDING_RULE);
}

#[test]
fn computation_serializes_for_auditors() {
    let p = policy("default");
    let out = compute(
        &p,
        &Input {
            verified_fen: 150_000 * YUAN,
            heavy: true,
            ..Input::default()
        },
    )
    .unwrap();
    let text = toml::to_string(&out).expect("serializes");
    for needle in [
        "amount_fen = 975000",
        "policy_id = \"default\"",
        "marginal_bracket",
        "rate_bp = 400",
        "heavy_multiplier_pct = 150",
        "rounding = ",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
}

#[test]
fn no_loss_case() {
    let p = policy("default");
    let with = |amount: Option<i64>| {
        compute(
            &p,
            &Input {
                verified_fen: 0,
                no_loss_amount_fen: amount,
                heavy: true,
                insider: true,
                ..Input::default()
            },
        )
    };
    let out = with(Some(500 * YUAN)).unwrap();
    assert_eq!(out.amount_fen, 500 * YUAN);
    assert_eq!(out.lines[0].key, "no_loss");
    assert_eq!(recompute(&out), 500 * YUAN);
    assert_eq!(with(Some(200 * YUAN)).unwrap().amount_fen, 200 * YUAN);
    assert_eq!(with(Some(1_000 * YUAN)).unwrap().amount_fen, 1_000 * YUAN);
    assert_eq!(with(None), Err(ComputeError::NoLossAmountRequired));
    assert_eq!(
        with(Some(199 * YUAN)),
        Err(ComputeError::NoLossAmountOutOfRange {
            amount: 19_900,
            min: 20_000,
            max: 100_000
        })
    );
    assert!(matches!(
        with(Some(100_001)),
        Err(ComputeError::NoLossAmountOutOfRange { .. })
    ));
    assert_eq!(with(Some(-1)), Err(ComputeError::NegativeNoLossAmount(-1)));
}

#[test]
fn bad_inputs_are_rejected() {
    let p = policy("default");
    assert_eq!(
        compute(
            &p,
            &Input {
                verified_fen: -1,
                ..Input::default()
            }
        ),
        Err(ComputeError::NegativeVerified(-1))
    );
    assert_eq!(
        compute(
            &p,
            &Input {
                verified_fen: 100,
                no_loss_amount_fen: Some(20_000),
                ..Input::default()
            }
        ),
        Err(ComputeError::NoLossAmountWithLoss(100))
    );
    let f = policy("fujian");
    assert_eq!(
        compute(
            &f,
            &Input {
                verified_fen: 100,
                ..Input::default()
            }
        ),
        Err(ComputeError::GradeRequired("fujian".into()))
    );
}

#[test]
fn huge_amounts_do_not_overflow() {
    for p in built_in().policies() {
        let out = compute(
            p,
            &Input {
                verified_fen: i64::MAX,
                insider: true,
                heavy: true,
                grade: Some(Grade::A),
                no_loss_amount_fen: None,
            },
        )
        .unwrap();
        assert_eq!(out.amount_fen, p.cap_fen);
    }
}

const BANDS: &str = r#"
id = "weifang-like"
version = 1
region = "370700"
effective_from = 2021-01-01
cap_fen = 10_000_000
floor_fen = 20_000
insider_uplift_bp = 2000          # +20% of the band amount
heavy_multiplier_pct = 200
no_loss_min_fen = 20_000
no_loss_max_fen = 100_000
approval_threshold_fen = 5_000_000

[[scheme.bands]]
from_fen = 0
to_fen = 1_000_000
reward_fen = 20_000

[[scheme.bands]]
from_fen = 1_000_000
to_fen = 10_000_000
reward_fen = 50_000

[[scheme.bands]]
from_fen = 10_000_000
reward_fen = 6_000_000
"#;

#[test]
fn bands_scheme() {
    let p = Policy::from_toml_str("bands.toml", BANDS).unwrap();
    let amount = |v: i64, insider: bool, heavy: bool| {
        compute(
            &p,
            &Input {
                verified_fen: v,
                insider,
                heavy,
                ..Input::default()
            },
        )
        .unwrap()
    };
    assert_eq!(amount(1, false, false).amount_fen, 20_000);
    assert_eq!(amount(999_999, false, false).amount_fen, 20_000);
    assert_eq!(amount(1_000_000, false, false).amount_fen, 50_000);
    let insider = amount(5_000_000, true, false);
    assert_eq!(insider.amount_fen, 60_000);
    assert_eq!(insider.lines.len(), 2);
    assert_eq!(insider.lines[1].key, "band_insider_uplift");
    assert_eq!(recompute(&insider), 60_000);
    // open band: 60,000 yuan × 1.2 × 2 = 144,000 → cap 100,000 yuan
    let capped = amount(10_000_000, true, true);
    assert_eq!(capped.multiplied_fen, 14_400_000);
    assert_eq!(capped.amount_fen, 10_000_000);
    assert!(capped.cap_applied);
    assert!(p.needs_supervisor(capped.amount_fen));
    assert!(!p.needs_supervisor(5_000_000));
}

// ----- selection ----------------------------------------------------------------------------

#[test]
fn select_by_region_and_date() {
    let set = built_in();
    let pick = |code: &str, d: NaiveDate| set.select(code, d).map(|p| p.id.as_str());
    assert_eq!(pick("510104", date(2023, 6, 1)), Some("sichuan"));
    assert_eq!(pick("510000", date(2023, 2, 1)), Some("sichuan"));
    // Sichuan's rules start on 2023-02-01: January falls back to the national default.
    assert_eq!(pick("510104", date(2023, 1, 31)), Some("default"));
    assert_eq!(pick("350203", date(2024, 3, 1)), Some("fujian"));
    assert_eq!(pick("350203", date(2023, 12, 31)), Some("default"));
    assert_eq!(pick("110105", date(2024, 3, 1)), Some("default"));
    assert_eq!(pick("110105", date(2017, 12, 31)), None);
    assert_eq!(pick("5101", date(2024, 3, 1)), None);
    assert_eq!(pick("51010x", date(2024, 3, 1)), None);
}

fn small(id: &str, version: u32, region: &str, from: &str, to: Option<&str>) -> String {
    let to = to
        .map(|t| format!("effective_to = {t}\n"))
        .unwrap_or_default();
    format!(
        "id = \"{id}\"\nversion = {version}\nregion = \"{region}\"\neffective_from = {from}\n{to}\
         cap_fen = 100\nfloor_fen = 0\nno_loss_min_fen = 0\nno_loss_max_fen = 0\n\
         [[scheme.marginal]]\nrate_bp = 100\n"
    )
}

#[test]
fn select_most_specific_then_highest_version() {
    let files = [
        ("a", small("nat", 1, "000000", "2020-01-01", None)),
        ("b", small("sc", 1, "510000", "2020-01-01", None)),
        (
            "c",
            small("cd", 1, "510100", "2020-01-01", Some("2021-12-31")),
        ),
        ("d", small("cd", 2, "510100", "2021-06-01", None)),
        ("e", small("wh", 1, "510104", "2020-01-01", None)),
    ];
    let set = PolicySet::from_sources(files.iter().map(|(f, t)| (*f, t.as_str()))).unwrap();
    let pick = |code: &str, d: NaiveDate| set.select(code, d).map(|p| (p.id.as_str(), p.version));
    assert_eq!(pick("510104", date(2022, 1, 1)), Some(("wh", 1)));
    assert_eq!(pick("510105", date(2021, 1, 1)), Some(("cd", 1)));
    // both cd versions in force: the highest version wins
    assert_eq!(pick("510105", date(2021, 12, 31)), Some(("cd", 2)));
    assert_eq!(pick("510105", date(2022, 1, 1)), Some(("cd", 2)));
    assert_eq!(pick("511000", date(2022, 1, 1)), Some(("sc", 1)));
    assert_eq!(pick("440300", date(2022, 1, 1)), Some(("nat", 1)));
    assert_eq!(set.get("cd", 2).map(|p| p.source.as_str()), Some("d"));
}

// ----- loading ------------------------------------------------------------------------------

#[test]
fn built_in_policies_match_the_shipped_files() {
    let set = built_in();
    assert_eq!(set.policies().len(), 3);
    let d = policy("default");
    assert_eq!((d.cap_fen, d.floor_fen), (10_000_000, 20_000));
    assert_eq!((d.no_loss_min_fen, d.no_loss_max_fen), (20_000, 100_000));
    assert_eq!((d.claim_days, d.notice_working_days), (60, 5));
    assert_eq!(d.effective_from, date(2018, 1, 1));
    assert_eq!(d.region_prefix(), "");
    let s = policy("sichuan");
    assert_eq!(
        (s.cap_fen, s.floor_fen, s.region_prefix()),
        (20_000_000, 20_000, "51")
    );
    let f = policy("fujian");
    assert_eq!(
        f.scheme,
        Scheme::Grade(GradeRates {
            a_bp: 600,
            b_bp: 400,
            c_bp: 200
        })
    );
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/rewards");
    let loaded = PolicySet::load_dir(dir).unwrap();
    assert_eq!(loaded.policies().len(), 3);
    for p in loaded.policies() {
        let b = set.get(&p.id, p.version).unwrap();
        assert_eq!(
            (&b.scheme, b.cap_fen, &b.region),
            (&p.scheme, p.cap_fen, &p.region)
        );
    }
}

/// Line numbers below refer to this text (line 1 = `id`).
const BASE: &str = "id = \"t\"
version = 1
region = \"000000\"
effective_from = 2020-01-01
cap_fen = 1_000_000
floor_fen = 20_000
insider_uplift_bp = 100
heavy_multiplier_pct = 150
no_loss_min_fen = 20_000
no_loss_max_fen = 100_000

[[scheme.marginal]]
up_to_fen = 5_000_000
rate_bp = 500

[[scheme.marginal]]
up_to_fen = 15_000_000
rate_bp = 400

[[scheme.marginal]]
rate_bp = 300
";

/// BASE with line `n` (1-based) replaced by `text`.
fn with_line(n: usize, text: &str) -> String {
    with_lines(&[(n, text)])
}

fn assert_invalid(text: &str, line: usize, needle: &str) {
    match Policy::from_toml_str("bad.toml", text) {
        Err(e @ PolicyError::Invalid { .. }) => {
            let msg = e.to_string();
            assert_eq!(e.line(), Some(line), "{msg}");
            assert!(msg.starts_with(&format!("bad.toml:{line}: ")), "{msg}");
            assert!(msg.contains(needle), "{needle:?} not in {msg}");
        }
        other => panic!("expected Invalid at line {line} ({needle}), got {other:?}"),
    }
}

#[test]
fn base_is_valid() {
    let p = Policy::from_toml_str("ok.toml", BASE).unwrap();
    assert_eq!(p.claim_days, 60);
    assert_eq!(p.notice_working_days, 5);
    assert_eq!(p.approval_threshold_fen, None);
}

#[test]
fn rejects_unordered_brackets() {
    assert_invalid(&with_line(17, "up_to_fen = 4_000_000"), 17, "out of order");
}

#[test]
fn rejects_overlapping_brackets() {
    assert_invalid(&with_line(17, "up_to_fen = 5_000_000"), 17, "overlap");
}

#[test]
fn rejects_open_bracket_not_last() {
    assert_invalid(
        &with_line(13, ""),
        14,
        "open (no up_to_fen) but is not the last",
    );
}

#[test]
fn rejects_rate_out_of_range() {
    assert_invalid(&with_line(18, "rate_bp = 10_001"), 18, "outside 0..=10000");
    assert_invalid(&with_line(18, "rate_bp = -1"), 18, "outside 0..=10000");
    assert_invalid(
        &with_line(18, "rate_bp = 9_950"),
        18,
        "plus insider_uplift_bp",
    );
    assert_invalid(
        &with_line(7, "insider_uplift_bp = 20_000"),
        7,
        "outside 0..=10000",
    );
}

#[test]
fn rejects_cap_below_floor() {
    assert_invalid(&with_line(5, "cap_fen = 10_000"), 5, "below floor_fen");
}

#[test]
fn rejects_negative_amounts() {
    assert_invalid(&with_line(6, "floor_fen = -1"), 6, "must not be negative");
    assert_invalid(&with_line(13, "up_to_fen = -5"), 13, "must not be negative");
    assert_invalid(&with_line(5, "cap_fen = -1"), 5, "must not be negative");
    assert_invalid(&with_line(2, "version = -1"), 2, "expected u32");
}

#[test]
fn rejects_bad_no_loss_range() {
    assert_invalid(
        &with_line(9, "no_loss_min_fen = 200_000"),
        10,
        "below no_loss_min_fen",
    );
    assert_invalid(
        &with_line(9, "no_loss_min_fen = 10_000"),
        9,
        "below floor_fen",
    );
    assert_invalid(
        &with_line(10, "no_loss_max_fen = 2_000_000"),
        10,
        "above cap_fen",
    );
}

#[test]
fn rejects_unknown_keys() {
    assert_invalid(&with_line(11, "colour = 1"), 11, "unknown field `colour`");
    assert_invalid(&with_line(19, "note = 1"), 19, "unknown field `note`");
    let linear = BASE.replace("[[scheme.marginal]]", "[[scheme.linear]]");
    assert_invalid(&linear, 12, "unknown variant `linear`");
    assert_invalid(
        &with_line(12, "[[scheme.bands]]"),
        12,
        "exactly one of marginal, grade or bands",
    );
}

#[test]
fn rejects_missing_scheme_and_fields() {
    let no_scheme: String = BASE.lines().take(11).collect::<Vec<_>>().join("\n");
    assert_invalid(&no_scheme, 1, "missing field `scheme`");
    assert_invalid(&with_line(5, ""), 1, "missing field `cap_fen`");
    assert_invalid(&with_line(14, ""), 12, "missing field `rate_bp`");
}

#[test]
fn rejects_bad_region_dates_and_syntax() {
    assert_invalid(&with_line(3, "region = \"5100\""), 3, "6-digit");
    assert_invalid(
        &with_line(4, "effective_from = 2020-01-01T08:00:00"),
        4,
        "plain date",
    );
    assert_invalid(
        &with_line(11, "effective_to = 2019-12-31"),
        11,
        "before effective_from",
    );
    assert_invalid(&with_line(2, "version = "), 2, "");
    assert_invalid(
        &with_line(8, "heavy_multiplier_pct = 50"),
        8,
        "outside 100..=1000",
    );
    assert_invalid(&with_line(1, "id = \" \""), 1, "id must not be empty");
}

/// BANDS with line `n` (1-based) replaced.
fn bands_with(n: usize, text: &str) -> String {
    BANDS
        .lines()
        .enumerate()
        .map(|(i, l)| if i + 1 == n { text } else { l })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn rejects_bad_bands() {
    // BANDS starts with a blank line: band 1 is on lines 14–17, band 2 on 19–22, band 3 on 24–26.
    assert_eq!(BANDS.lines().nth(19), Some("from_fen = 1_000_000"));
    assert_invalid(
        &bands_with(20, "from_fen = 900_000"),
        20,
        "overlaps or is out of order",
    );
    assert_invalid(&bands_with(20, "from_fen = 1_100_000"), 20, "gap");
    assert_invalid(
        &bands_with(16, ""),
        15,
        "open (no to_fen) but is not the last",
    );
    assert_invalid(
        &bands_with(26, "reward_fen = 10_000"),
        26,
        "below the previous band",
    );
    assert_invalid(
        &bands_with(22, "reward_fen = -1"),
        22,
        "must not be negative",
    );
    let closed_last = format!("{BANDS}to_fen = 20_000_000\n");
    assert_invalid(&closed_last, 27, "last band must be open");
}

#[test]
fn rejects_bad_grades() {
    let grade = |a: &str, c: &str| {
        format!(
            "{}\n[scheme.grade]\n{a}\nB = 400\n{c}\n",
            BASE.lines().take(10).collect::<Vec<_>>().join("\n")
        )
    };
    assert!(Policy::from_toml_str("g.toml", &grade("A = 600", "C = 200")).is_ok());
    assert_invalid(&grade("A = 10_500", "C = 200"), 12, "outside 0..=10000");
    assert_invalid(&grade("A = 600", "D = 200"), 14, "unknown field `D`");
}

fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("jubao-rewards-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn load_dir_rejects_duplicate_id_and_version() {
    let dir = scratch_dir("dup");
    std::fs::write(dir.join("a.toml"), BASE).unwrap();
    std::fs::write(dir.join("b.toml"), BASE).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a policy").unwrap();
    let err = PolicySet::load_dir(&dir).unwrap_err();
    match &err {
        PolicyError::Duplicate {
            file,
            other,
            id,
            version,
        } => {
            assert!(
                file.ends_with("b.toml") && other.ends_with("a.toml"),
                "{err}"
            );
            assert_eq!((id.as_str(), *version), ("t", 1));
        }
        other => panic!("expected Duplicate, got {other:?}"),
    }
    std::fs::write(dir.join("b.toml"), with_line(2, "version = 2")).unwrap();
    assert_eq!(PolicySet::load_dir(&dir).unwrap().policies().len(), 2);
    std::fs::write(dir.join("c.toml"), with_line(5, "cap_fen = 1")).unwrap();
    let err = PolicySet::load_dir(&dir).unwrap_err().to_string();
    assert!(err.contains("c.toml:5: "), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(matches!(
        PolicySet::load_dir(&dir),
        Err(PolicyError::Io { .. })
    ));
}

// ----- properties ---------------------------------------------------------------------------

fn grade() -> impl Strategy<Value = Grade> {
    prop_oneof![Just(Grade::A), Just(Grade::B), Just(Grade::C)]
}

fn run(p: &Policy, v: i64, insider: bool, heavy: bool, g: Grade) -> Computation {
    compute(
        p,
        &Input {
            verified_fen: v,
            insider,
            heavy,
            grade: Some(g),
            no_loss_amount_fen: None,
        },
    )
    .expect("valid input")
}

/// Up to 100 million yuan, well past every cap.
const MAX_V: i64 = 10_000_000_000;

proptest! {
    #[test]
    fn within_floor_and_cap(v in 1..=MAX_V, insider: bool, heavy: bool, g in grade()) {
        for p in built_in().policies() {
            let c = run(p, v, insider, heavy, g);
            prop_assert!(c.amount_fen <= p.cap_fen);
            prop_assert!(c.amount_fen >= p.floor_fen);
            prop_assert_eq!(recompute(&c), c.amount_fen);
        }
    }

    #[test]
    fn monotone_in_verified(a in 1..=MAX_V, b in 1..=MAX_V, insider: bool, heavy: bool, g in grade()) {
        let (lo, hi) = (a.min(b), a.max(b));
        for p in built_in().policies() {
            let x = run(p, lo, insider, heavy, g);
            let y = run(p, hi, insider, heavy, g);
            prop_assert!(x.subtotal_fen <= y.subtotal_fen, "{} {lo} {hi}", p.id);
            prop_assert!(x.amount_fen <= y.amount_fen, "{} {lo} {hi}", p.id);
            // neighbours too, where rounding could bite
            let z = run(p, lo + 1, insider, heavy, g);
            prop_assert!(x.amount_fen <= z.amount_fen && x.subtotal_fen <= z.subtotal_fen);
        }
    }

    #[test]
    fn insider_never_lowers(v in 1..=MAX_V, heavy: bool, g in grade()) {
        for p in built_in().policies() {
            prop_assert!(run(p, v, false, heavy, g).amount_fen <= run(p, v, true, heavy, g).amount_fen);
        }
    }

    #[test]
    fn marginal_lines_cover_the_amount(v in 1..=MAX_V, insider: bool) {
        for p in built_in().policies() {
            if let Scheme::Marginal(_) = p.scheme {
                let c = run(p, v, insider, false, Grade::A);
                let covered: i64 = c.lines.iter().map(|l| l.base_fen).sum();
                prop_assert_eq!(covered, v);
                // rounding error is at most half a fen per line
                let exact: i128 = c.lines.iter().map(|l| l.base_fen as i128 * l.rate_bp as i128).sum();
                let diff = (c.subtotal_fen as i128 * 10_000 - exact).abs();
                prop_assert!(diff <= 5_000 * c.lines.len() as i128);
            }
        }
    }

    #[test]
    fn exact_on_bracket_edges(insider: bool, heavy: bool) {
        for p in built_in().policies() {
            let Scheme::Marginal(brackets) = &p.scheme else { continue };
            let uplift = if insider { p.insider_uplift_bp } else { 0 };
            let mut lower = 0i64;
            let mut expected = 0i128;
            for (i, b) in brackets.iter().enumerate() {
                let Some(up) = b.up_to_fen else { break };
                expected += (up - lower) as i128 * (b.rate_bp + uplift) as i128;
                lower = up;
                // every shipped edge lands on a whole fen: no rounding at all
                prop_assert_eq!(expected % 10_000, 0);
                let c = run(p, up, insider, heavy, Grade::A);
                prop_assert_eq!(c.lines.len(), i + 1, "no empty line past the edge");
                prop_assert_eq!(c.subtotal_fen as i128, expected / 10_000);
                let below = run(p, up - 1, insider, heavy, Grade::A);
                let above = run(p, up + 1, insider, heavy, Grade::A);
                prop_assert!(below.amount_fen <= c.amount_fen && c.amount_fen <= above.amount_fen);
            }
        }
    }
}

#[test]
fn label_and_collective_threshold() {
    let p = policy("default");
    assert_eq!(p.label(), "default@1");
    assert_eq!(policy("sichuan").label(), "sichuan@2023");
    // Above 50,000 yuan, not at it.
    assert!(!p.needs_collective(4_999_999));
    assert!(!p.needs_collective(5_000_000));
    assert!(p.needs_collective(5_000_001));
    let mut none = p.clone();
    none.collective_threshold_fen = None;
    assert!(!none.needs_collective(10_000_000));
}

/// BASE with each line `n` (1-based) replaced by its text.
fn with_lines(changes: &[(usize, &str)]) -> String {
    BASE.lines()
        .enumerate()
        .map(|(i, l)| {
            changes
                .iter()
                .find(|(n, _)| *n == i + 1)
                .map_or(l, |(_, t)| *t)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn bounds_that_meet_are_accepted() {
    let ok = |text: &str, what: &str| {
        if let Err(e) = Policy::from_toml_str("ok.toml", text) {
            panic!("{what}: {e}");
        }
    };
    ok(
        &BASE.replace(
            "effective_from = 2020-01-01",
            "effective_from = 2020-01-01\neffective_to = 2020-01-01",
        ),
        "in force for one day",
    );
    ok(
        &with_lines(&[(5, "cap_fen = 20_000"), (10, "no_loss_max_fen = 20_000")]),
        "cap equal to floor",
    );
    ok(
        &with_line(10, "no_loss_max_fen = 1_000_000"),
        "no-loss max at the cap",
    );
    ok(
        &with_line(14, "rate_bp = 9_900"),
        "bracket rate + uplift = 10000",
    );
    let grade = |a: &str| {
        format!(
            "{}\n[scheme.grade]\n{a}\nB = 400\nC = 200\n",
            BASE.lines().take(10).collect::<Vec<_>>().join("\n")
        )
    };
    ok(&grade("A = 9_900"), "grade rate + uplift = 10000");
    assert_invalid(&grade("A = 9_950"), 12, "exceeds 10000");
    ok(
        &BANDS.replace("reward_fen = 50_000", "reward_fen = 20_000"),
        "a band paying what the one before pays",
    );
}

#[test]
fn a_no_loss_amount_of_zero_is_out_of_range_not_negative() {
    let p = policy("default");
    let out = compute(
        &p,
        &Input {
            verified_fen: 0,
            no_loss_amount_fen: Some(0),
            ..Input::default()
        },
    );
    assert!(
        matches!(
            out,
            Err(ComputeError::NoLossAmountOutOfRange { amount: 0, .. })
        ),
        "{out:?}"
    );
}

#[test]
fn an_amount_exactly_at_the_cap_is_not_capped() {
    let p = Policy::from_toml_str("base.toml", BASE).unwrap();
    let at = |v: i64| {
        compute(
            &p,
            &Input {
                verified_fen: v,
                ..Input::default()
            },
        )
        .unwrap()
    };
    // 5% of 50,000 + 4% of 100,000 + 3% of 116,666.67 yuan (350,000.01 fen, rounded) =
    // 10,000 yuan: the cap, reached, not applied.
    let exact = at(26_666_667);
    assert_eq!(
        (exact.multiplied_fen, exact.amount_fen),
        (1_000_000, 1_000_000)
    );
    assert!(!exact.cap_applied);
    let over = at(26_666_700);
    assert_eq!(
        (over.multiplied_fen, over.amount_fen),
        (1_000_001, 1_000_000)
    );
    assert!(over.cap_applied);
}

/// A policy ends with its `effective_to`: the day after, the region falls back to the
/// national policy.
#[test]
fn a_policy_ends_on_its_last_day() {
    let sichuan = include_str!("../../../../config/rewards/sichuan-2023.toml").replace(
        "effective_from = 2023-02-01",
        "effective_from = 2023-02-01\neffective_to = 2024-12-31",
    );
    let set = PolicySet::from_sources([
        (
            "default.toml",
            include_str!("../../../../config/rewards/default.toml"),
        ),
        ("sichuan.toml", sichuan.as_str()),
    ])
    .unwrap();
    assert_eq!(
        set.select("510104", date(2024, 12, 31)).unwrap().id,
        "sichuan"
    );
    assert_ne!(
        set.select("510104", date(2025, 1, 1)).unwrap().id,
        "sichuan"
    );
}
