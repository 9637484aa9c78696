//! Amounts of money as text. Amounts are kept and computed as integer fen (1 yuan = 100
//! fen); these only write them for people to read, in two styles:
//!
//! - [`yuan`]: always two decimals, no grouping (`1200.50`, `12000.00`), as the reward
//!   messages and errors show amounts;
//! - `format_yuan` of the conversation engine (`crates/dialog`, its only user): thousands
//!   grouped, decimals only when not a whole yuan (`1,200.50`, `12,000`), as the reporting
//!   dialog echoes an amount back.
//!
//! The two styles are distinct on purpose (existing messages use each); pick by where the
//! text is shown, and do not switch a message from one to the other silently.

/// Fen as yuan text with two decimals, no grouping: `1200.50`, `12000.00`, `-0.05`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
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
}
