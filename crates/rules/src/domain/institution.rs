//! The reported institution as recusal compares it (DOMAIN §6): a person with a declared
//! conflict is recused from every case about that institution, however the tip wrote its
//! name, and from every case that names the institution's code.
//!
//! Two keys, each from one function here: [`target_key`] (the name, normalized) and
//! [`parse_code`] (统一社会信用代码 or 定点医药机构编码). [`conflict_match`] is the one SQL
//! rule that compares a case with a conflict.

use super::Invalid;

/// Suffixes that say what legal form a name has, not which institution it is: dropped
/// (longest first) so "某某大药房有限公司" and "某某大药房" are the same institution.
const LEGAL_SUFFIXES: [&str; 6] = [
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "集团公司",
    "分公司",
    "公司",
];

/// Institution names as compared for recusal: full-width folded to half-width, lower case,
/// no whitespace or punctuation (ASCII, CJK and full-width: `（`, `·`, `、`, `"` …), and
/// without a trailing legal-form suffix (有限公司 and the like). A name that would be empty
/// without its suffix keeps it. The only normalizer of institution names: intake stores
/// it with each tip, conflicts are declared with it.
pub fn target_key(name: &str) -> String {
    let folded = fold(name);
    let mut key = folded.as_str();
    for suffix in LEGAL_SUFFIXES {
        if let Some(rest) = key.strip_suffix(suffix) {
            if !rest.is_empty() {
                key = rest;
            }
            break;
        }
    }
    key.to_string()
}

/// Text as compared: full-width folded to half-width, lower case, with no whitespace or
/// punctuation. The one folding rule for institution names ([`target_key`]) and for tip
/// descriptions compared for similarity (`crate::similar::normalize`).
pub fn fold(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            // The ideographic space (U+3000) is whitespace: the filter drops it.
            _ => c,
        })
        .filter(|c| !c.is_whitespace() && !is_punctuation(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(c,
            '\u{2010}'..='\u{205E}'      // general punctuation: dashes, quotes, bullets, ·
            | '\u{3001}'..='\u{3003}'    // 、 。 〃
            | '\u{3008}'..='\u{3011}'    // 〈〉《》「」『』【】
            | '\u{3014}'..='\u{301F}'    // 〔〕〖〗〘〙〚〛〜〝〞〟
            | '\u{00B7}'                 // ·
            | '\u{30FB}'                 // ・
            | '\u{FE10}'..='\u{FE19}'
            | '\u{FE30}'..='\u{FE4F}'
            | '\u{FF61}'..='\u{FF65}')
}

/// An institution's code, normalized (upper case, no spaces): the 18-character unified
/// social credit code (统一社会信用代码, GB 32100-2015, check character verified) or the
/// national medical-insurance code of a designated institution (定点医药机构编码: `H` for
/// medical institutions or `P` for pharmacies, then 11 digits).
pub fn parse_code(s: &str) -> Result<String, Invalid> {
    let code: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let b = code.as_bytes();
    if b.len() == 12 && matches!(b[0], b'H' | b'P') && b[1..].iter().all(u8::is_ascii_digit) {
        return Ok(code);
    }
    if b.len() == 18 && uscc_valid(b) {
        return Ok(code);
    }
    Err("error-institution-code")
}

/// GB 32100-2015: 17 characters of the code set, then a check character.
fn uscc_valid(b: &[u8]) -> bool {
    const SET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    const WEIGHTS: [u32; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let value = |c: u8| SET.iter().position(|s| *s == c).map(|p| p as u32);
    let mut sum = 0;
    for (i, w) in WEIGHTS.iter().enumerate() {
        match value(b[i]) {
            Some(v) => sum += v * w,
            None => return false,
        }
    }
    let check = (31 - sum % 31) % 31;
    value(b[17]) == Some(check)
}

/// The SQL condition that a conflict row (alias `sc`) covers a case (the reports row,
/// alias `r`): the same normalized name, or the same institution code. The one place the
/// recusal rule is written; every query that hides or skips recused cases uses it.
pub fn conflict_match(sc: &str, r: &str) -> String {
    format!(
        "({sc}.target_key = {r}.target_key OR ({sc}.target_code IS NOT NULL \
         AND {sc}.target_code = {r}.target_code))"
    )
}

/// `NOT EXISTS` a conflict of the user bound as `user` (e.g. `$3`) that covers the case
/// `r` (the reports table's alias).
pub fn not_recused(r: &str, user: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM staff_conflicts scx WHERE scx.user_id = {user} AND {})",
        conflict_match("scx", r)
    )
}

/// The key a conflict declared by code alone is stored under (`staff_conflicts.target_key`
/// is part of its key): it cannot equal a normalized name, which has no punctuation.
pub fn code_only_key(code: &str) -> String {
    format!("#code:{code}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_written_differently_are_one_institution() {
        let k = target_key("聊城市人民医院");
        assert_eq!(target_key(" 聊城市 人民医院 "), k);
        assert_eq!(target_key("聊城市人民医院（东院）"), "聊城市人民医院东院");
        assert_eq!(target_key("ＡＢＣ Clinic"), "abcclinic");
        assert_eq!(target_key("A.B.C. clinic"), "abcclinic");
        assert_eq!(target_key("聊城·康泰大药房有限公司"), "聊城康泰大药房");
        assert_eq!(target_key("聊城康泰大药房股份有限公司"), "聊城康泰大药房");
        assert_eq!(
            target_key("聊城康泰大药房 有限责任公司。"),
            "聊城康泰大药房"
        );
        assert_eq!(target_key("《聊城康泰大药房》"), "聊城康泰大药房");
        // A name that is only a suffix keeps it: never an empty key.
        assert_eq!(target_key("有限公司"), "有限公司");
        assert_ne!(target_key("人民医院"), target_key("中医医院"));
    }

    #[test]
    fn institution_codes() {
        // 统一社会信用代码 examples with a valid check character.
        assert_eq!(
            parse_code("91350100M000100Y43").as_deref(),
            Ok("91350100M000100Y43")
        );
        assert_eq!(
            parse_code(" 91350100m000100y43 ").as_deref(),
            Ok("91350100M000100Y43")
        );
        assert!(parse_code("91350100M000100Y44").is_err(), "check character");
        assert!(
            parse_code("91350100I000100Y43").is_err(),
            "I is not in the code set"
        );
        assert_eq!(parse_code("h37150200001").as_deref(), Ok("H37150200001"));
        assert_eq!(parse_code("P3715-0200001").as_deref(), Ok("P37150200001"));
        assert!(parse_code("X37150200001").is_err());
        assert!(parse_code("H3715020000").is_err());
        assert!(!code_only_key("H37150200001").eq(&target_key("#code:H37150200001")));
    }

    #[test]
    fn the_ideographic_space_folds_away() {
        assert_eq!(fold("康泰\u{3000}医院"), fold("康泰医院"));
        assert_eq!(fold("康泰\u{3000}医院"), "康泰医院");
    }

    /// The recusal SQL, written out: the same name key, or the same code when there is one.
    #[test]
    fn the_recusal_conditions() {
        assert_eq!(
            conflict_match("sc", "r"),
            "(sc.target_key = r.target_key OR (sc.target_code IS NOT NULL \
             AND sc.target_code = r.target_code))"
        );
        assert_eq!(
            not_recused("r", "$3"),
            format!(
                "NOT EXISTS (SELECT 1 FROM staff_conflicts scx WHERE scx.user_id = $3 AND {})",
                conflict_match("scx", "r")
            )
        );
        assert_eq!(code_only_key("H37150200001"), "#code:H37150200001");
    }
}
