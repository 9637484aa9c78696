//! Domain types parsed at the edge. Once a value has one of these types it is valid; the
//! rest of the service never sees an unchecked string.

pub mod institution;
pub mod money;
pub mod region;

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A validation failure: the Fluent message id (the field is added by the caller).
pub type Invalid = &'static str;

macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident, $err:literal, { $($variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn parse(s: &str) -> Result<Self, Invalid> {
                match s { $($code => Ok($name::$variant),)+ _ => Err($err) }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

code_enum!(
    /// Fraud categories, DOMAIN §2 (Regulation arts. 38–41 and the "three fakes" campaign).
    Category, "error-unknown-category", {
        FakePatient = "fake_patient",
        FakeCondition = "fake_condition",
        FakeDocuments = "fake_documents",
        FictitiousServices = "fictitious_services",
        IdentityMisuse = "identity_misuse",
        SplitOrBedHospitalization = "split_or_bed_hospitalization",
        ExcessiveTreatment = "excessive_treatment",
        Overcharging = "overcharging",
        Substitution = "substitution",
        DrugResale = "drug_resale",
        OutOfScopeBilling = "out_of_scope_billing",
        DuplicateBenefits = "duplicate_benefits",
        AgencyMisconduct = "agency_misconduct",
        Other = "other",
    }
);

code_enum!(
    /// Who is reported (CONTRACT §3).
    TargetKind, "error-unknown-kind", {
        Hospital = "hospital",
        Clinic = "clinic",
        Pharmacy = "pharmacy",
        InsuredPerson = "insured_person",
        AgencyStaff = "agency_staff",
        Other = "other",
    }
);

code_enum!(
    /// The reporter's relation to the matter (CONTRACT §3).
    Relation, "error-unknown-relation", {
        Insider = "insider",
        Patient = "patient",
        Relative = "relative",
        Public = "public",
        Other = "other",
    }
);

code_enum!(
    /// The door a tip came in through (DOMAIN §1).
    Channel, "error-wrong-type", {
        H5 = "h5",
        Wechat = "wechat",
        Wecom = "wecom",
        Hotline = "hotline",
        Staff = "staff",
    }
);

code_enum!(
    /// Case status (DOMAIN §3).
    Status, "error-wrong-type", {
        Received = "received",
        Accepted = "accepted",
        NotAccepted = "not_accepted",
        Transferred = "transferred",
        Checking = "checking",
        Decided = "decided",
        Closed = "closed",
        Merged = "merged",
    }
);

/// An 18-character resident identity number (GB 11643-1999) with a valid check character
/// and birth date. `Debug` and `Display` never print it.
#[derive(Clone, PartialEq, Eq)]
pub struct ResidentId(String);

impl ResidentId {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &'static [u8; 11] = b"10X98765432";

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let s: String = s.trim().chars().filter(|c| !c.is_whitespace()).collect();
        let s = s.to_ascii_uppercase();
        let b = s.as_bytes();
        if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
            return Err("error-id-number");
        }
        let sum: u32 = b[..17]
            .iter()
            .zip(Self::WEIGHTS)
            .map(|(d, w)| u32::from(d - b'0') * w)
            .sum();
        if b[17] != Self::CHECK[(sum % 11) as usize] {
            return Err("error-id-number");
        }
        let birth =
            NaiveDate::parse_from_str(&s[6..14], "%Y%m%d").map_err(|_| "error-id-number")?;
        if chrono::Datelike::year(&birth) < 1900 {
            return Err("error-id-number");
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last six characters, used when an anonymous claimant proves identity in person.
    pub fn last6(&self) -> &str {
        &self.0[12..]
    }
}

impl fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResidentId(…)")
    }
}

/// A mainland China mobile number, normalized to 11 digits. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct MobilePhone(String);

impl MobilePhone {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let digits: String = s
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
            .collect();
        let digits = digits
            .strip_prefix("+86")
            .or_else(|| digits.strip_prefix("0086"))
            .unwrap_or(&digits)
            .to_string();
        let b = digits.as_bytes();
        if b.len() != 11 || !b.iter().all(u8::is_ascii_digit) || b[0] != b'1' || b[1] < b'3' {
            return Err("error-phone");
        }
        Ok(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for MobilePhone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MobilePhone(…)")
    }
}

/// An email address, checked for shape only (delivery proves the rest).
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let s = s.trim();
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err("error-email");
        };
        let ok = !local.is_empty()
            && local.len() <= 64
            && s.len() <= 254
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !s
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err("error-email")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email(…)")
    }
}

/// A 6-digit administrative division code (GB/T 2260) with a real province prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegionCode(String);

impl RegionCode {
    const PROVINCES: [&'static str; 34] = [
        "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
        "65", "71", "81", "82",
    ];

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let s = s.trim();
        if s.len() != 6
            || !s.bytes().all(|b| b.is_ascii_digit())
            || !Self::PROVINCES.contains(&&s[..2])
        {
            return Err("error-region-code");
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `other` lies within this region (a province sees its cities, a city its
    /// counties): trailing "00" pairs are wildcards.
    pub fn contains(&self, other: &RegionCode) -> bool {
        // Pairs come off a 6-digit code, so what is left is a whole number of pairs.
        other.0.starts_with(self.0.trim_end_matches("00"))
    }
}

/// Text between `min` and `max` characters after trimming; control characters other than
/// newlines and tabs are refused.
pub fn bounded_text(s: &str, min: usize, max: usize) -> Result<String, (Invalid, usize)> {
    let t = s.trim();
    let n = t.chars().count();
    if n < min {
        return Err(if min <= 1 {
            ("error-missing-field", min)
        } else {
            ("error-too-short", min)
        });
    }
    if n > max {
        return Err(("error-too-long", max));
    }
    if t.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(("error-wrong-type", 0));
    }
    Ok(t.to_string())
}

/// A `YYYY-MM-DD` date.
pub fn parse_date(s: &str) -> Result<NaiveDate, Invalid> {
    let s = s.trim();
    if s.len() != 10 {
        return Err("error-bad-date");
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| "error-bad-date")
}

/// Tracking codes: 11 random digits and a Damm check digit. Digits are the easiest thing to
/// read aloud in Chinese over a phone line, and Damm catches every single-digit error and
/// every swap of two adjacent digits.
pub mod tracking {
    use rand::Rng;

    const DAMM: [[u8; 10]; 10] = [
        [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
        [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
        [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
        [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
        [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
        [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
        [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
        [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
        [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
        [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
    ];

    pub const CODE_LEN: usize = 12;
    pub const PASSCODE_LEN: usize = 16;

    fn damm(digits: &[u8]) -> u8 {
        digits
            .iter()
            .fold(0u8, |acc, d| DAMM[acc as usize][(d - b'0') as usize])
    }

    pub fn new_code() -> String {
        let mut rng = rand::thread_rng();
        // First digit 1–9 so the code never starts with 0 (spreadsheets drop it).
        let mut s: Vec<u8> = vec![b'1' + rng.gen_range(0..9)];
        s.extend((0..CODE_LEN - 2).map(|_| b'0' + rng.gen_range(0..10)));
        s.push(b'0' + damm(&s));
        String::from_utf8(s).expect("ascii digits")
    }

    /// A 16-digit passcode (≈53 bits) from the OS-seeded CSPRNG. Guessing is further bounded
    /// by the per-code and per-client rate limits.
    pub fn new_passcode() -> String {
        let mut rng = rand::thread_rng();
        (0..PASSCODE_LEN)
            .map(|_| char::from(b'0' + rng.gen_range(0..10)))
            .collect()
    }

    /// Strip the spaces and dashes people type; `None` if what is left is not a valid code.
    pub fn normalize_code(s: &str) -> Option<String> {
        let d: String = s
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '\u{3000}'))
            .collect();
        let ok =
            d.len() == CODE_LEN && d.bytes().all(|b| b.is_ascii_digit()) && damm(d.as_bytes()) == 0;
        ok.then_some(d)
    }

    pub fn normalize_passcode(s: &str) -> Option<String> {
        let d: String = s
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '\u{3000}'))
            .collect();
        (d.len() == PASSCODE_LEN && d.bytes().all(|b| b.is_ascii_digit())).then_some(d)
    }

    /// The shortest and longest passcode a reporter may choose.
    pub const CHOSEN_MIN: usize = 10;
    pub const CHOSEN_MAX: usize = 64;

    /// A passcode the reporter chose (on the status page): the separators people type
    /// dropped as for the issued one, then 10–64 visible ASCII characters (digits are
    /// easiest to read over a phone line; letters are allowed). `None` if it is not one.
    pub fn normalize_chosen_passcode(s: &str) -> Option<String> {
        let d: String = s
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '\u{3000}'))
            .collect();
        ((CHOSEN_MIN..=CHOSEN_MAX).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_graphic()))
            .then_some(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_id_checksum() {
        // GB 11643-1999 example number.
        assert!(ResidentId::parse("11010519491231002X").is_ok());
        assert!(ResidentId::parse("11010519491231002x").is_ok());
        assert_eq!(
            ResidentId::parse("11010519491231002X").unwrap().last6(),
            "31002X"
        );
        assert!(ResidentId::parse("110105194912310021").is_err()); // wrong check digit
        assert!(ResidentId::parse("11010519491331002X").is_err()); // month 13
        assert!(ResidentId::parse("1101051949123100").is_err());
        assert!(ResidentId::parse("").is_err());
        assert!(format!("{:?}", ResidentId::parse("11010519491231002X").unwrap()).ends_with("(…)"));
    }

    /// Check characters worked out by hand with the GB 11643-1999 weights: births before
    /// 1900 are refused, 1 January 1900 is the first accepted; the number is kept upper-case
    /// and whole, and `Debug` prints none of it.
    #[test]
    fn resident_id_birth_year_and_normal_form() {
        assert!(ResidentId::parse("110105189912310023").is_err());
        let id = ResidentId::parse(" 110105190001010028 ").unwrap();
        assert_eq!(id.as_str(), "110105190001010028");
        assert_eq!(
            ResidentId::parse("11010519491231002x").unwrap().as_str(),
            "11010519491231002X"
        );
        assert!(!format!("{id:?}").contains("1101"));
    }

    #[test]
    fn mobile_phone_needs_1_then_3_to_9() {
        assert!(MobilePhone::parse("23800138000").is_err());
        assert!(MobilePhone::parse("11800138000").is_err());
        assert!(MobilePhone::parse("19900138000").is_ok());
        let p = MobilePhone::parse("13800138000").unwrap();
        assert!(!format!("{p:?}").contains("138"));
    }

    #[test]
    fn email_shape() {
        assert_eq!(
            Email::parse("  li.si@example.cn ").unwrap().as_str(),
            "li.si@example.cn"
        );
        let long_local = format!("{}@example.cn", "a".repeat(65));
        let long_total = format!("a@{}.cn", "b".repeat(251));
        for bad in [
            "@example.cn",
            long_local.as_str(),
            long_total.as_str(),
            "a@cn",
            "a@.example.cn",
            "a@example.cn.",
            "a b@example.cn",
            "<a@example.cn>",
            "a<b@example.cn",
            "a>b@example.cn",
            "a\u{7}b@example.cn",
            "a\tb@example.cn",
            "no-at-sign",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert!(Email::parse(&format!("{}@example.cn", "a".repeat(64))).is_ok());
        assert!(!format!("{:?}", Email::parse("li.si@example.cn").unwrap()).contains("li.si"));
    }

    #[test]
    fn mobile_phone() {
        assert_eq!(
            MobilePhone::parse("138 0013 8000").unwrap().as_str(),
            "13800138000"
        );
        assert_eq!(
            MobilePhone::parse("+86 13800138000").unwrap().as_str(),
            "13800138000"
        );
        assert!(MobilePhone::parse("12800138000").is_err());
        assert!(MobilePhone::parse("1380013800").is_err());
        assert!(MobilePhone::parse("010-12345678").is_err());
    }

    #[test]
    fn region_codes() {
        assert!(RegionCode::parse("371500").is_ok());
        assert!(RegionCode::parse("991500").is_err());
        assert!(RegionCode::parse("37150").is_err());
        let city = RegionCode::parse("371500").unwrap();
        let county = RegionCode::parse("371502").unwrap();
        let other = RegionCode::parse("371600").unwrap();
        assert!(city.contains(&county));
        assert!(!county.contains(&city));
        assert!(!city.contains(&other));
        assert!(RegionCode::parse("370000").unwrap().contains(&county));
        assert_eq!(RegionCode::parse(" 371500 ").unwrap().as_str(), "371500");
        // A city whose code ends in one zero pair plus a zero (威海 371000): its counties
        // are 3710xx, not 3711xx.
        let weihai = RegionCode::parse("371000").unwrap();
        assert!(weihai.contains(&RegionCode::parse("371002").unwrap()));
        assert!(!weihai.contains(&RegionCode::parse("371102").unwrap()));
        assert!(!weihai.contains(&RegionCode::parse("370102").unwrap()));
    }

    #[test]
    fn categories_round_trip() {
        assert_eq!(Category::ALL.len(), 14);
        for c in Category::ALL {
            assert_eq!(Category::parse(c.code()), Ok(*c));
        }
        assert!(Category::parse("fraud").is_err());
    }

    #[test]
    fn tracking_codes() {
        for _ in 0..1000 {
            let c = tracking::new_code();
            assert_eq!(tracking::normalize_code(&c), Some(c.clone()));
            // Any single-digit change is caught.
            let mut b = c.clone().into_bytes();
            b[5] = if b[5] == b'9' { b'0' } else { b[5] + 1 };
            assert_eq!(
                tracking::normalize_code(std::str::from_utf8(&b).unwrap()),
                None
            );
        }
        let c = tracking::new_code();
        let spaced = format!("{} {} {}", &c[..4], &c[4..8], &c[8..]);
        assert_eq!(tracking::normalize_code(&spaced), Some(c));
        assert_eq!(tracking::new_passcode().len(), 16);
    }

    #[test]
    fn text_bounds() {
        assert!(bounded_text("  short ", 10, 20).is_err());
        assert_eq!(
            bounded_text("  十个汉字十个汉字十个  ", 10, 20).unwrap(),
            "十个汉字十个汉字十个"
        );
        assert!(bounded_text("a\u{0}bcdefghijk", 10, 20).is_err());
        // What is wrong, and the bound it names.
        assert_eq!(bounded_text("  ", 1, 5), Err(("error-missing-field", 1)));
        assert_eq!(bounded_text("ab", 3, 5), Err(("error-too-short", 3)));
        assert_eq!(bounded_text("abcdef", 1, 5), Err(("error-too-long", 5)));
        assert_eq!(bounded_text("abcde", 1, 5).unwrap(), "abcde");
        assert_eq!(bounded_text("行\n\t列", 1, 5).unwrap(), "行\n\t列");
    }

    #[test]
    fn dates_are_yyyy_mm_dd() {
        assert_eq!(
            parse_date(" 2026-02-13 "),
            Ok(NaiveDate::from_ymd_opt(2026, 2, 13).unwrap())
        );
        for bad in ["2026-2-13", "2026-02-30", "13/02/2026", "", "2026-02-130"] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }

    /// `Debug` names the type and hides the value: not empty, not the number.
    #[test]
    fn debug_names_the_type_only() {
        let p = MobilePhone::parse("13800138000").unwrap();
        assert_eq!(format!("{p:?}"), "MobilePhone(…)");
        let e = Email::parse("li.si@example.cn").unwrap();
        assert_eq!(format!("{e:?}"), "Email(…)");
    }

    /// Issued passcodes are 16 decimal digits, all ten digits used.
    #[test]
    fn issued_passcodes_are_digits() {
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let p = tracking::new_passcode();
            assert_eq!(p.len(), tracking::PASSCODE_LEN, "{p}");
            assert!(p.bytes().all(|b| b.is_ascii_digit()), "{p}");
            seen.extend(p.bytes());
        }
        assert_eq!(seen.len(), 10, "{seen:?}");
    }

    #[test]
    fn passcodes_as_people_type_them() {
        use tracking::{normalize_chosen_passcode as chosen, normalize_passcode as issued};
        assert_eq!(
            issued("1234 5678-9012\u{3000}3456").as_deref(),
            Some("1234567890123456")
        );
        assert_eq!(
            issued("1234567890123456").as_deref(),
            Some("1234567890123456")
        );
        for bad in [
            "123456789012345",
            "12345678901234567",
            "12345678901234a6",
            "",
            "１２３４５６７８９０１２３４５６",
        ] {
            assert_eq!(issued(bad), None, "{bad}");
        }
        assert_eq!(chosen("abc-123 456 7").as_deref(), Some("abc1234567"));
        assert_eq!(
            chosen(&"9".repeat(64)).as_deref(),
            Some("9".repeat(64).as_str())
        );
        for bad in ["123456789", "", "12345678é0", "1234567890\t"] {
            assert_eq!(chosen(bad), None, "{bad:?}");
        }
        assert_eq!(chosen(&"9".repeat(65)), None);
    }
}
