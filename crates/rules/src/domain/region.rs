//! Administrative regions (6-digit codes; `000000` is national) and how one covers another,
//! and the normalized institution name that recusal and related tips match on.

use super::{Invalid, RegionCode};

/// The national level, which sees every region.
pub const NATIONAL: &str = "000000";

/// A staff region: `000000` (national) or a real 6-digit administrative code.
pub fn parse_region(s: &str) -> Result<String, Invalid> {
    let s = s.trim();
    if s == NATIONAL {
        return Ok(s.to_string());
    }
    RegionCode::parse(s).map(|r| r.as_str().to_string())
}

/// The code prefix a region covers: `370000` → `37`, `371500` → `3715`, `371502` → itself,
/// `000000` → everything.
pub fn region_prefix(region: &str) -> &str {
    if region == NATIONAL {
        return "";
    }
    if let Some(p) = region.strip_suffix("0000") {
        return p;
    }
    if let Some(p) = region.strip_suffix("00") {
        return p;
    }
    region
}

/// Whether a user of `staff_region` may see a case in `case_region` (a city sees its
/// counties, a county only itself).
pub fn region_covers(staff_region: &str, case_region: &str) -> bool {
    case_region.starts_with(region_prefix(staff_region))
}

/// The regions whose staff see a case in `case_region`, most local first.
pub fn enclosing_regions(case_region: &str) -> Vec<String> {
    let mut out = vec![case_region.to_string()];
    if case_region.len() == 6 {
        for r in [
            format!("{}00", &case_region[..4]),
            format!("{}0000", &case_region[..2]),
            NATIONAL.to_string(),
        ] {
            if !out.contains(&r) {
                out.push(r);
            }
        }
    }
    out
}

/// The parent level that must be told about a major case: county → city → province →
/// national.
pub fn parent_region(region: &str) -> Option<String> {
    if region == NATIONAL || region.len() != 6 {
        return None;
    }
    if region.ends_with("0000") {
        return Some(NATIONAL.into());
    }
    if region.ends_with("00") {
        return Some(format!("{}0000", &region[..2]));
    }
    Some(format!("{}00", &region[..4]))
}

pub use super::institution::target_key;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staff_region_is_national_or_a_real_code() {
        assert_eq!(parse_region(" 000000 ").unwrap(), "000000");
        assert_eq!(parse_region("371502").unwrap(), "371502");
        assert_eq!(parse_region(" 370000").unwrap(), "370000");
        for bad in ["", "37150", "3715021", "abcdef", "990000"] {
            assert!(parse_region(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn a_city_covers_its_counties_and_a_county_only_itself() {
        assert!(region_covers("000000", "371502"));
        assert!(region_covers("370000", "371502"));
        assert!(region_covers("371500", "371502"));
        assert!(region_covers("371502", "371502"));
        assert!(!region_covers("371502", "371503"));
        assert!(!region_covers("371500", "371600"));
        assert!(!region_covers("370000", "440100"));
        assert!(!region_covers("371502", "371500"));
    }

    #[test]
    fn the_regions_that_see_a_case_run_from_local_to_national() {
        assert_eq!(
            enclosing_regions("371502"),
            ["371502", "371500", "370000", "000000"]
        );
        // A city-level case: its own code is not repeated.
        assert_eq!(enclosing_regions("371500"), ["371500", "370000", "000000"]);
        assert_eq!(enclosing_regions("370000"), ["370000", "000000"]);
        assert_eq!(enclosing_regions("000000"), ["000000"]);
        // Not a 6-digit code: only itself.
        assert_eq!(enclosing_regions("37"), ["37"]);
    }

    #[test]
    fn a_major_case_goes_one_level_up() {
        assert_eq!(parent_region("371502").as_deref(), Some("371500"));
        assert_eq!(parent_region("371500").as_deref(), Some("370000"));
        assert_eq!(parent_region("370000").as_deref(), Some("000000"));
        assert_eq!(parent_region("000000"), None);
        assert_eq!(parent_region("3715"), None);
        assert_eq!(parent_region("3715020"), None);
    }
}
