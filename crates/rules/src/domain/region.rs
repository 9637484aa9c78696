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
