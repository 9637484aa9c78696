//! The bots' answer checks ([`dialog::Checks`]) done with the service's own domain types, so
//! that the bot accepts exactly what intake will: a resident ID with its GB 11643 check
//! character and birth date ([`ResidentId`]), a mainland mobile number (`+86` / `0086` and
//! separators allowed, [`MobilePhone`]), a 6-digit code of a real province
//! ([`RegionCode`]). The engine has already folded full-width digits and letters.

use crate::domain::{MobilePhone, RegionCode, ResidentId};

/// [`dialog::Checks`] by [`crate::domain`]'s parsers.
#[derive(Debug, Clone, Copy, Default)]
pub struct DomainChecks;

impl dialog::Checks for DomainChecks {
    fn resident_id(&self, input: &str) -> Option<String> {
        ResidentId::parse(input)
            .ok()
            .map(|id| id.as_str().to_string())
    }

    fn phone(&self, input: &str) -> Option<String> {
        MobilePhone::parse(input)
            .ok()
            .map(|p| p.as_str().to_string())
    }

    fn region(&self, input: &str) -> Option<String> {
        RegionCode::parse(input)
            .ok()
            .map(|r| r.as_str().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dialog::engine::normalize_text;
    use dialog::Checks;

    const ID: &str = "11010519491231002X";
    const PHONE: &str = "13800138000";

    #[test]
    fn the_bot_accepts_what_the_domain_accepts() {
        let c = DomainChecks;
        assert_eq!(c.resident_id(" 11010519491231002x ").as_deref(), Some(ID));
        assert_eq!(c.resident_id("110105194912310021"), None);
        assert_eq!(c.resident_id("11010518001231002X"), None); // 1800: before 1900, check differs
        assert_eq!(c.resident_id("1101051949123100"), None);
        assert_eq!(c.resident_id("11010519491331002X"), None);
        // The engine folds full-width characters before it asks.
        let full_width = normalize_text("１１０１０５１９４９１２３１００２X");
        assert_eq!(c.resident_id(&full_width).as_deref(), Some(ID));
        assert_eq!(c.phone("138 0013 8000").as_deref(), Some(PHONE));
        assert_eq!(c.phone("0086-138-0013-8000").as_deref(), Some(PHONE));
        assert_eq!(c.phone("12800138000"), None);
        assert_eq!(c.phone("1380013800"), None);
        assert_eq!(c.phone("010-12345678"), None);
        assert_eq!(c.region("371502").as_deref(), Some("371502"));
        assert_eq!(c.region("071502"), None);
        assert_eq!(c.region("37150"), None);
    }
}
