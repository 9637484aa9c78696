//! The report JSON of CONTRACT §3, read into a [`NewTip`]. Shape errors (missing field,
//! wrong type, unknown field) name the field by its JSON path; value errors name the field
//! and say what is wrong, in the request's locale.

use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::{NewTip, Target};
use crate::domain::{
    bounded_text, parse_date, Category, Email, MobilePhone, RegionCode, Relation, ResidentId,
    TargetKind,
};
use crate::error::{AppError, Kind};
use crate::i18n::Locale;
use crate::vault::{Identity, IdentityField};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReport {
    pub target: RawTarget,
    pub categories: Vec<String>,
    pub description: String,
    #[serde(default)]
    pub occurred_from: Option<String>,
    #[serde(default)]
    pub occurred_to: Option<String>,
    #[serde(default)]
    pub amount_estimate_fen: Option<i64>,
    pub reporter: RawReporter,
    #[serde(default)]
    pub locale: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub region_code: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    /// The institution's code (统一社会信用代码 or 定点医药机构编码), optional.
    #[serde(default)]
    pub code: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReporter {
    pub anonymous: bool,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub id_number: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub relation: Option<String>,
    /// The last six characters of the reporter's ID number, to claim a reward by bank
    /// transfer later (anonymous reporters too): kept only as a keyed digest.
    #[serde(default)]
    pub claim_verifier: Option<String>,
    /// How to be told of news: `channel` (default), `sms` (needs `phone`), `email` (needs
    /// `email`) or `page` (only the status page).
    #[serde(default)]
    pub notify_by: Option<String>,
}

/// Parse JSON bytes into `T`, or a 400/422 naming the field. The body's own `locale` (if
/// any) is found first so the error is in the reporter's language.
pub fn parse_json<T: DeserializeOwned>(
    bytes: &[u8],
    fallback: Locale,
) -> Result<(T, Locale), AppError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|_| {
        AppError::bad_request("invalid_json", "error-invalid-json").in_locale(fallback)
    })?;
    let locale = value
        .get("locale")
        .and_then(|l| l.as_str())
        .and_then(Locale::parse)
        .unwrap_or(fallback);
    if let Some(field) = nul_in(&value, "") {
        // No text anywhere may hold a NUL: PostgreSQL refuses it in TEXT (a 500 otherwise),
        // and no reporter or staff member types one.
        return Err(AppError::invalid(field, "error-nul-character")
            .with_code("invalid_character")
            .in_locale(locale));
    }
    let parsed = serde_path_to_error::deserialize::<_, T>(value)
        .map_err(|e| shape_error(&e).in_locale(locale))?;
    Ok((parsed, locale))
}

/// The field (dotted path) of the first key or string that holds a NUL character.
fn nul_in(v: &serde_json::Value, path: &str) -> Option<String> {
    let here = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match v {
        serde_json::Value::String(s) if s.contains('\0') => Some(path.to_string()),
        serde_json::Value::Array(items) => items.iter().find_map(|i| nul_in(i, path)),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                Some(here(&k.replace('\0', "")))
            } else {
                nul_in(v, &here(k))
            }
        }),
        _ => None,
    }
}

fn shape_error(e: &serde_path_to_error::Error<serde_json::Error>) -> AppError {
    // "categories[0]" → "categories": errors name the field, not the index.
    let path: Vec<String> = e
        .path()
        .iter()
        .filter_map(|seg| match seg {
            serde_path_to_error::Segment::Map { key } => Some(key.clone()),
            serde_path_to_error::Segment::Enum { variant } => Some(variant.clone()),
            _ => None,
        })
        .collect();
    let msg = e.inner().to_string();
    let quoted = msg.split('`').nth(1).unwrap_or_default().to_string();
    let join = |last: &str| {
        let mut p = path.clone();
        if !last.is_empty() {
            p.push(last.to_string());
        }
        p.join(".")
    };
    if msg.starts_with("missing field") {
        AppError::invalid(join(&quoted), "error-missing-field").with_code("missing_field")
    } else if msg.starts_with("unknown field") {
        // The path already ends with the unknown key.
        AppError::invalid(join(""), "error-unknown-field")
            .with_code("unknown_field")
            .arg("field", join(""))
    } else if path.is_empty() {
        AppError::new(Kind::Invalid, "wrong_type", "error-invalid-json")
    } else {
        AppError::invalid(join(""), "error-wrong-type").with_code("wrong_type")
    }
}

/// Value checks and conversion to the domain. `today` is the Asia/Shanghai date.
pub fn to_new_tip(raw: RawReport, locale: Locale, today: NaiveDate) -> Result<NewTip, AppError> {
    let inv = |field: &str, msg: &'static str| AppError::invalid(field, msg).in_locale(locale);
    let text = |field: &str, s: &str, min: usize, max: usize| {
        bounded_text(s, min, max).map_err(|(msg, n)| {
            let e = inv(field, msg);
            match msg {
                "error-too-short" => e.arg("min", n),
                "error-too-long" => e.arg("max", n),
                _ => e,
            }
        })
    };

    let target = Target {
        name: text("target.name", &raw.target.name, 1, 200)?,
        kind: TargetKind::parse(raw.target.kind.trim()).map_err(|m| inv("target.kind", m))?,
        region: match raw.target.region_code.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(RegionCode::parse(s).map_err(|m| inv("target.region_code", m))?),
        },
        address: match raw.target.address.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(text("target.address", s, 1, 500)?),
        },
        code: match raw.target.code.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => {
                Some(crate::domain::institution::parse_code(s).map_err(|m| inv("target.code", m))?)
            }
        },
    };

    if raw.categories.is_empty() {
        return Err(inv("categories", "error-categories-empty"));
    }
    let mut categories = Vec::with_capacity(raw.categories.len());
    for c in &raw.categories {
        let c = Category::parse(c.trim()).map_err(|m| inv("categories", m))?;
        if !categories.contains(&c) {
            categories.push(c);
        }
    }

    let description = text("description", &raw.description, 10, 5000)?;

    let date = |field: &str, s: &Option<String>| -> Result<Option<NaiveDate>, AppError> {
        match s.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(s) => {
                let d = parse_date(s).map_err(|m| inv(field, m))?;
                if d > today {
                    return Err(inv(field, "error-date-future"));
                }
                Ok(Some(d))
            }
        }
    };
    let occurred_from = date("occurred_from", &raw.occurred_from)?;
    let occurred_to = date("occurred_to", &raw.occurred_to)?;
    if let (Some(a), Some(b)) = (occurred_from, occurred_to) {
        if b < a {
            return Err(inv("occurred_to", "error-date-order"));
        }
    }
    let amount_estimate_fen = match raw.amount_estimate_fen {
        None => None,
        // Up to 10^15 fen (10 trillion yuan): beyond any real case, far inside i64.
        Some(a) if (0..=1_000_000_000_000_000).contains(&a) => Some(a),
        Some(_) => return Err(inv("amount_estimate_fen", "error-amount")),
    };

    let r = raw.reporter;
    let relation = match r.relation.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(Relation::parse(s).map_err(|m| inv("reporter.relation", m))?),
    };
    let given = |o: &Option<String>| o.as_deref().is_some_and(|s| !s.trim().is_empty());
    let mut identity = Identity::default();
    if r.anonymous {
        for (field, v) in [
            ("reporter.name", &r.name),
            ("reporter.id_number", &r.id_number),
            ("reporter.phone", &r.phone),
            ("reporter.email", &r.email),
        ] {
            if v.is_some() {
                return Err(inv(field, "error-anonymous-with-identity"));
            }
        }
    } else {
        let name = r.name.as_deref().unwrap_or_default();
        if name.trim().is_empty() {
            return Err(inv("reporter.name", "error-named-needs-name"));
        }
        identity.set(
            IdentityField::Name,
            Some(text("reporter.name", name, 1, 50)?),
        );
        if given(&r.id_number) {
            let id = ResidentId::parse(r.id_number.as_deref().unwrap_or_default())
                .map_err(|m| inv("reporter.id_number", m))?;
            identity.set(IdentityField::IdNumber, Some(id.as_str().to_string()));
        }
        if given(&r.phone) {
            let p = MobilePhone::parse(r.phone.as_deref().unwrap_or_default())
                .map_err(|m| inv("reporter.phone", m))?;
            identity.set(IdentityField::Phone, Some(p.as_str().to_string()));
        }
        if given(&r.email) {
            let e = Email::parse(r.email.as_deref().unwrap_or_default())
                .map_err(|m| inv("reporter.email", m))?;
            identity.set(IdentityField::Email, Some(e.as_str().to_string()));
        }
        if identity.get(IdentityField::Phone).is_none()
            && identity.get(IdentityField::Email).is_none()
        {
            return Err(inv("reporter.phone", "error-named-needs-contact"));
        }
    }

    let notify_by = match r.notify_by.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => {
            let n = super::NotifyBy::parse(s)
                .ok_or_else(|| inv("reporter.notify_by", "error-notify-by"))?;
            let needs = match n {
                super::NotifyBy::Sms => Some((IdentityField::Phone, "error-notify-by-sms")),
                super::NotifyBy::Email => Some((IdentityField::Email, "error-notify-by-email")),
                _ => None,
            };
            if let Some((field, msg)) = needs {
                if identity.get(field).is_none() {
                    return Err(inv("reporter.notify_by", msg));
                }
            }
            Some(n)
        }
    };

    let claim_verifier = match r.claim_verifier.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(
            crate::vault::claims::normalize_id_last6(s)
                .ok_or_else(|| inv("reporter.claim_verifier", "error-reward-id-last6"))?,
        ),
    };
    // A real-name reporter's ID number is their verifier; one given besides must agree.
    if let (Some(v), Some(id)) = (&claim_verifier, identity.get(IdentityField::IdNumber)) {
        if !id.ends_with(v.as_str()) {
            return Err(inv(
                "reporter.claim_verifier",
                "error-claim-verifier-not-id",
            ));
        }
    }

    Ok(NewTip {
        claim_verifier,
        target,
        categories,
        description,
        occurred_from,
        occurred_to,
        amount_estimate_fen,
        anonymous: r.anonymous,
        relation,
        identity,
        locale,
        recorded_by: None,
        arrived: None,
        notify_by,
        client_digest: None,
        quota: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        "2026-11-23".parse().unwrap()
    }

    fn parse(json: &str) -> Result<NewTip, AppError> {
        let (raw, loc) = parse_json::<RawReport>(json.as_bytes(), Locale::ZhCn)?;
        to_new_tip(raw, loc, today())
    }

    const OK: &str = r#"{"target":{"name":"某某医院","kind":"hospital","region_code":"371500"},
        "categories":["fake_patient","fake_patient","overcharging"],
        "description":"有人组织老人住院，但其实没有治疗。","reporter":{"anonymous":true}}"#;

    #[test]
    fn a_good_anonymous_report() {
        let t = parse(OK).unwrap();
        assert_eq!(t.categories.len(), 2);
        assert!(t.identity.is_empty());
    }

    #[test]
    fn shape_errors_name_the_field() {
        let e = parse(r#"{"target":{"kind":"hospital"},"categories":["x"],"description":"0123456789","reporter":{"anonymous":true}}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("target.name"));
        assert_eq!(e.code, "missing_field");
        let e = parse(&OK.replace("\"anonymous\":true", "\"anonymous\":\"yes\"")).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("reporter.anonymous"));
        let e = parse(&OK.replace("\"kind\":\"hospital\"", "\"kind\":\"hospital\",\"x\":1"))
            .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("target.x"));
        let e = parse(&OK.replace("\"overcharging\"", "5")).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("categories"));
        assert_eq!(parse("{").unwrap_err().code, "invalid_json");
    }

    #[test]
    fn value_errors() {
        let e = parse(&OK.replace("overcharging", "bribery")).unwrap_err();
        assert_eq!(
            (e.field.as_deref(), e.msg_id),
            (Some("categories"), "error-unknown-category")
        );
        let e = parse(&OK.replace("371500", "12345")).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("target.region_code"));
        let e = parse(&OK.replace(
            "\"anonymous\":true",
            "\"anonymous\":true,\"phone\":\"13800138000\"",
        ))
        .unwrap_err();
        assert_eq!(e.msg_id, "error-anonymous-with-identity");
        let e = parse(&OK.replace(
            "\"anonymous\":true",
            "\"anonymous\":false,\"name\":\"张三\",\"id_number\":\"110105194912310021\",\"phone\":\"13800138000\"",
        ))
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("reporter.id_number"));
        let e = parse(&OK.replace("\"reporter\"", "\"amount_estimate_fen\":-1,\"reporter\""))
            .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("amount_estimate_fen"));
        let e = parse(&OK.replace("\"reporter\"", "\"amount_estimate_fen\":1.5,\"reporter\""))
            .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("amount_estimate_fen"));
        let e = parse(&OK.replace(
            "\"reporter\"",
            "\"occurred_from\":\"2027-01-01\",\"reporter\"",
        ))
        .unwrap_err();
        assert_eq!(e.msg_id, "error-date-future");
        let e = parse(&OK.replace("有人组织老人住院，但其实没有治疗。", "太短")).unwrap_err();
        assert_eq!(e.msg_id, "error-too-short");
    }

    #[test]
    fn errors_use_the_body_locale() {
        let e = parse(
            &OK.replace("371500", "1")
                .replace("\"reporter\"", "\"locale\":\"en\",\"reporter\""),
        )
        .unwrap_err();
        assert_eq!(e.locale, Some(Locale::En));
        assert_eq!(e.message(Locale::En), "The region code must be 6 digits.");
    }

    #[test]
    fn named_report_normalizes_identity() {
        let t = parse(&OK.replace(
            "\"anonymous\":true",
            "\"anonymous\":false,\"name\":\" 张三 \",\"id_number\":\"11010519491231002x\",\"phone\":\"138-0013-8000\",\"relation\":\"insider\"",
        ))
        .unwrap();
        assert_eq!(t.identity.get(IdentityField::Name), Some("张三"));
        assert_eq!(
            t.identity.get(IdentityField::IdNumber),
            Some("11010519491231002X")
        );
        assert_eq!(t.identity.get(IdentityField::Phone), Some("13800138000"));
        assert_eq!(t.relation, Some(Relation::Insider));
    }

    fn with(extra: &str) -> String {
        OK.replace("\"reporter\"", &format!("{extra},\"reporter\""))
    }

    fn named(fields: &str) -> String {
        OK.replace(
            "\"anonymous\":true",
            &format!("\"anonymous\":false,\"name\":\"张三\",{fields}"),
        )
    }

    /// A NUL anywhere (a string, an array item, a key) is refused with its field named.
    #[test]
    fn a_nul_character_is_refused_where_it_is() {
        let nul = |json: &str| {
            let e = parse(json).unwrap_err();
            assert_eq!(e.code, "invalid_character", "{json}");
            e.field.unwrap_or_default()
        };
        assert_eq!(
            nul(&OK.replace("某某医院", "某某\\u0000医院")),
            "target.name"
        );
        assert_eq!(
            nul(&OK.replace("\"overcharging\"", "\"over\\u0000charging\"")),
            "categories"
        );
        assert_eq!(
            nul(&OK.replace("\"kind\"", "\"ki\\u0000nd\"")),
            "target.kind"
        );
        assert!(parse(OK).is_ok());
    }

    /// Inside an enum's variant the variant names the path (`A.x`), as a key would.
    #[test]
    fn a_wrong_type_inside_an_enum_names_the_variant() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        enum Choice {
            A { x: u32 },
        }
        let e = parse_json::<Choice>(br#"{"A":{"x":"one"}}"#, Locale::ZhCn).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("A.x"));
        assert_eq!(e.code, "wrong_type");
    }

    /// Too short and too long texts say by how much the field may be.
    #[test]
    fn text_bounds_carry_their_limit() {
        let e = parse(&OK.replace("有人组织老人住院，但其实没有治疗。", "太短")).unwrap_err();
        assert_eq!(e.args, vec![("min", "10".to_string())]);
        let long = "长".repeat(5001);
        let e = parse(&OK.replace("有人组织老人住院，但其实没有治疗。", &long)).unwrap_err();
        assert_eq!(
            (e.field.as_deref(), e.msg_id),
            (Some("description"), "error-too-long")
        );
        assert_eq!(e.args, vec![("max", "5000".to_string())]);
    }

    /// Today is allowed, tomorrow is not; the period may be one day, not backwards.
    #[test]
    fn dates_of_the_facts() {
        let t = parse(&with(
            r#""occurred_from":"2026-11-23","occurred_to":"2026-11-23""#,
        ))
        .unwrap();
        assert_eq!(t.occurred_from, Some(today()));
        assert_eq!(t.occurred_to, Some(today()));
        let e = parse(&with(r#""occurred_to":"2026-11-24""#)).unwrap_err();
        assert_eq!(e.msg_id, "error-date-future");
        let e = parse(&with(
            r#""occurred_from":"2026-03-02","occurred_to":"2026-03-01""#,
        ))
        .unwrap_err();
        assert_eq!(
            (e.field.as_deref(), e.msg_id),
            (Some("occurred_to"), "error-date-order")
        );
        let t = parse(&with(
            r#""occurred_from":"2026-03-01","occurred_to":"2026-03-02""#,
        ))
        .unwrap();
        assert_eq!(t.occurred_to, Some("2026-03-02".parse().unwrap()));
    }

    /// The amount estimate: 0 and 10^15 fen are accepted, above and below are not.
    #[test]
    fn amount_bounds() {
        for ok in [0_i64, 1_234_500, 1_000_000_000_000_000] {
            let t = parse(&with(&format!("\"amount_estimate_fen\":{ok}"))).unwrap();
            assert_eq!(t.amount_estimate_fen, Some(ok));
        }
        let e = parse(&with("\"amount_estimate_fen\":1000000000000001")).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("amount_estimate_fen"));
    }

    /// SMS needs a phone and email an address; the page needs nothing.
    #[test]
    fn how_to_be_told_needs_its_contact() {
        let e = parse(&named(r#""email":"li@example.cn","notify_by":"sms""#)).unwrap_err();
        assert_eq!(
            (e.field.as_deref(), e.msg_id),
            (Some("reporter.notify_by"), "error-notify-by-sms")
        );
        let e = parse(&named(r#""phone":"13800138000","notify_by":"email""#)).unwrap_err();
        assert_eq!(e.msg_id, "error-notify-by-email");
        let t = parse(&named(r#""phone":"13800138000","notify_by":"sms""#)).unwrap();
        assert_eq!(t.notify_by, Some(super::super::NotifyBy::Sms));
        let t = parse(&named(r#""email":"li@example.cn","notify_by":"email""#)).unwrap();
        assert_eq!(t.notify_by, Some(super::super::NotifyBy::Email));
        let e = parse(&named(r#""phone":"13800138000","notify_by":"pigeon""#)).unwrap_err();
        assert_eq!(e.msg_id, "error-notify-by");
    }

    /// A verifier given with the ID number must be its last six characters.
    #[test]
    fn the_claim_verifier_agrees_with_the_id_number() {
        let id = r#""id_number":"11010519491231002X","phone":"13800138000""#;
        let t = parse(&named(&format!(r#"{id},"claim_verifier":"31002x""#))).unwrap();
        assert_eq!(t.claim_verifier.as_deref(), Some("31002X"));
        let e = parse(&named(&format!(r#"{id},"claim_verifier":"123456""#))).unwrap_err();
        assert_eq!(e.msg_id, "error-claim-verifier-not-id");
    }
}
