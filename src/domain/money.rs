//! Amounts of money as text. Amounts are kept and computed as integer fen (1 yuan = 100
//! fen); these only write them for people to read, in two styles:
//!
//! - [`yuan`]: always two decimals, no grouping (`1200.50`, `12000.00`), as the reward
//!   messages and errors show amounts;
//! - [`yuan_grouped`]: thousands grouped, decimals only when not a whole yuan (`1,200.50`,
//!   `12,000`), as the reporting dialog echoes an amount back.
//!
//! The two styles are distinct on purpose (existing messages use each); pick by where the
//! text is shown, and do not switch a message from one to the other silently.

/// Fen as yuan text with two decimals, no grouping: `1200.50`, `12000.00`, `-0.05`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// Fen as yuan with thousands grouped, the decimals only when not a whole yuan: `1,200`,
/// `1,200.50`, `-0.05`.
pub fn yuan_grouped(fen: i64) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_decimals() {
        let cases = [
            (0, "0.00"),
            (5, "0.05"),
            (100, "1.00"),
            (120_050, "1200.50"),
            (1_200_000, "12000.00"),
            (-5, "-0.05"),
            (i64::MIN, "-92233720368547758.08"),
        ];
        for (fen, want) in cases {
            assert_eq!(yuan(fen), want, "{fen}");
        }
    }

    #[test]
    fn grouped() {
        let cases = [
            (0, "0"),
            (5, "0.05"),
            (100, "1"),
            (99_999, "999.99"),
            (100_000, "1,000"),
            (120_050, "1,200.50"),
            (1_200_000, "12,000"),
            (12_345_678_900, "123,456,789"),
            (-120_050, "-1,200.50"),
        ];
        for (fen, want) in cases {
            assert_eq!(yuan_grouped(fen), want, "{fen}");
        }
    }
}
