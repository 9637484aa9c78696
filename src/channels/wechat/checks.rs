//! The bots' answer checks ([`dialog::Checks`]) done with the service's own domain types, so
//! that the bot accepts exactly what intake will: a resident ID with its GB 11643 check
//! character and birth date ([`ResidentId`]), a mainland mobile number (`+86` / `0086` and
//! separators allowed, [`MobilePhone`]), a 6-digit code of a real province
//! ([`RegionCode`]). The engine has already folded full-width digits and letters.

use std::sync::Arc;

use chrono::NaiveDate;

use crate::deadlines::calendar::Calendar;
use crate::deadlines::festivals;
use crate::domain::{MobilePhone, RegionCode, ResidentId};

/// [`dialog::Checks`] by [`crate::domain`]'s parsers, and the festival days of the holiday
/// calendar ([`festivals::festival`]) for date answers such as `春节前后`.
#[derive(Debug, Clone)]
pub struct DomainChecks {
    calendar: Arc<Calendar>,
}

impl DomainChecks {
    /// Checks whose festivals come from `calendar`.
    pub fn new(calendar: Calendar) -> Self {
        DomainChecks {
            calendar: Arc::new(calendar),
        }
    }
}

impl Default for DomainChecks {
    /// With the holiday notices compiled in.
    fn default() -> Self {
        DomainChecks::new(Calendar::built_in())
    }
}

impl dialog::Checks for DomainChecks {
    fn resident_id(&self, input: &str) -> Option<String> {
        ResidentId::parse(input)
            .ok()
            .map(|id| id.as_str().to_string())
    }

    fn id_last6(&self, input: &str) -> Option<String> {
        crate::vault::claims::normalize_id_last6(input)
    }

    fn phone(&self, input: &str) -> Option<String> {
        MobilePhone::parse(input)
            .ok()
            .map(|p| p.as_str().to_string())
    }

    fn email(&self, input: &str) -> Option<String> {
        crate::domain::Email::parse(input)
            .ok()
            .map(|e| e.as_str().to_string())
    }

    fn region(&self, input: &str) -> Option<String> {
        RegionCode::parse(input)
            .ok()
            .map(|r| r.as_str().to_string())
    }

    fn holiday(&self, festival: &str, year: i32) -> Option<(NaiveDate, NaiveDate)> {
        festivals::festival(&self.calendar, festival, year)
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
        let c = DomainChecks::default();
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

    #[test]
    fn the_bot_knows_the_festivals_of_the_calendar() {
        let c = DomainChecks::default();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            c.holiday("spring_festival", 2026),
            Some((d("2026-02-15"), d("2026-02-23")))
        );
        assert_eq!(c.holiday("spring_festival", 2023), None);
        // Through the engine: 春节前后 said on 2026-03-18 is two weeks either side of it.
        let today = d("2026-03-18");
        let v = dialog::Vocabulary::built_in();
        let h = |f: &str, y: i32| c.holiday(f, y);
        assert_eq!(
            dialog::engine::understand_when("春节前后", today, v, &h),
            Some((d("2026-02-01"), d("2026-03-09")))
        );
        assert_eq!(
            dialog::engine::understand_when("国庆期间", today, v, &h),
            Some((d("2025-10-01"), d("2025-10-08")))
        );
    }
}
