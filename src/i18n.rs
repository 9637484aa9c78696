//! Localized strings from the Fluent files in `locales/` (zh-CN default, en).
//!
//! The files are embedded at build time, so a deployed binary needs nothing beside it.
//! Strings are read-only resources, so one process-wide copy is shared (no configuration
//! or state lives here).

use std::collections::HashMap;
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use rust_embed::RustEmbed;
use serde::{Deserialize, Serialize};

#[derive(RustEmbed)]
#[folder = "locales/"]
struct LocaleFiles;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Locale {
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::ZhCn, Locale::En];

    pub fn tag(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::En => "en",
        }
    }

    /// Exact tags accepted in request bodies.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "zh-CN" | "zh" | "zh-Hans" => Some(Locale::ZhCn),
            "en" | "en-US" | "en-GB" => Some(Locale::En),
            _ => None,
        }
    }

    /// Pick from an `Accept-Language` header: the first supported language wins (ordered by
    /// q-value), zh-CN when none is.
    pub fn from_accept_language(header: Option<&str>) -> Self {
        let Some(h) = header else { return Locale::ZhCn };
        let mut langs: Vec<(f32, Locale)> = h
            .split(',')
            .filter_map(|part| {
                let mut it = part.trim().split(';');
                let tag = it.next()?.trim().to_ascii_lowercase();
                let q = it
                    .find_map(|p| {
                        p.trim()
                            .strip_prefix("q=")
                            .and_then(|q| q.parse::<f32>().ok())
                    })
                    .unwrap_or(1.0);
                let loc = if tag.starts_with("zh") {
                    Locale::ZhCn
                } else if tag.starts_with("en") {
                    Locale::En
                } else {
                    return None;
                };
                Some((q, loc))
            })
            .collect();
        langs.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
        langs.first().map(|l| l.1).unwrap_or_default()
    }
}

/// The conversation engine's language (`crates/dialog` cannot use this type, it depends on
/// no part of the service; the two must name the same languages, a test checks).
impl From<dialog::Locale> for Locale {
    fn from(l: dialog::Locale) -> Self {
        match l {
            dialog::Locale::ZhCn => Locale::ZhCn,
            dialog::Locale::En => Locale::En,
        }
    }
}

pub struct Catalog {
    bundles: HashMap<Locale, FluentBundle<FluentResource>>,
}

static CATALOG: OnceLock<Catalog> = OnceLock::new();

/// The shared catalog, loaded on first use.
pub fn catalog() -> &'static Catalog {
    CATALOG.get_or_init(|| Catalog::load().expect("embedded Fluent files are valid (tested)"))
}

impl Catalog {
    pub fn load() -> anyhow::Result<Self> {
        let mut bundles = HashMap::new();
        for loc in Locale::ALL {
            let langid: unic_langid::LanguageIdentifier = loc.tag().parse()?;
            let mut bundle = FluentBundle::new_concurrent(vec![langid]);
            bundle.set_use_isolating(false);
            let prefix = format!("{}/", loc.tag());
            let mut names: Vec<_> = LocaleFiles::iter()
                .filter(|n| n.starts_with(&prefix))
                .collect();
            names.sort();
            for name in names {
                let file = LocaleFiles::get(&name).expect("listed file exists");
                let text = String::from_utf8(file.data.into_owned())?;
                let res = FluentResource::try_new(text)
                    .map_err(|(_, errs)| anyhow::anyhow!("{name}: {errs:?}"))?;
                bundle
                    .add_resource(res)
                    .map_err(|errs| anyhow::anyhow!("{name}: {errs:?}"))?;
            }
            bundles.insert(loc, bundle);
        }
        Ok(Self { bundles })
    }

    pub fn has(&self, loc: Locale, id: &str) -> bool {
        self.bundles[&loc].has_message(id)
    }

    /// Format message `id` with string arguments. A missing message falls back to zh-CN,
    /// then to the id itself (and is caught by the catalog tests).
    pub fn msg(&self, loc: Locale, id: &str, args: &[(&str, String)]) -> String {
        let mut fargs = FluentArgs::new();
        for (k, v) in args {
            fargs.set(*k, FluentValue::from(v.clone()));
        }
        for l in [loc, Locale::ZhCn] {
            let bundle = &self.bundles[&l];
            if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
                let mut errors = vec![];
                let s = bundle.format_pattern(pattern, Some(&fargs), &mut errors);
                return s.into_owned();
            }
        }
        id.to_string()
    }
}

/// Shorthand for [`Catalog::msg`] on the shared catalog.
pub fn t(loc: Locale, id: &str, args: &[(&str, String)]) -> String {
    catalog().msg(loc, id, args)
}

/// Whether the catalogue has message `id` in `loc`.
pub fn has(loc: Locale, id: &str) -> bool {
    catalog().has(loc, id)
}

/// The localized label of a request field path such as `reporter.id_number`.
pub fn field_label(loc: Locale, field: &str) -> String {
    let id = format!("field-{}", field.replace('.', "-"));
    if catalog().has(loc, &id) {
        t(loc, &id, &[])
    } else {
        field.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The engine's languages are these, under the same tags and serialized names.
    #[test]
    fn dialog_locales_are_these() {
        let mut seen = vec![];
        for l in [dialog::Locale::ZhCn, dialog::Locale::En] {
            let ours = Locale::from(l);
            assert_eq!(ours.tag(), l.tag());
            assert_eq!(
                serde_json::to_value(ours).unwrap(),
                serde_json::to_value(l).unwrap()
            );
            seen.push(ours);
        }
        assert_eq!(seen, Locale::ALL, "a language the bots cannot speak");
        assert_eq!(Locale::from(dialog::Locale::default()), Locale::default());
    }

    /// Every message in one locale exists in the other, so no user ever sees an id.
    #[test]
    fn locales_have_the_same_messages() {
        let ids = |loc: Locale| -> std::collections::BTreeSet<String> {
            let prefix = format!("{}/", loc.tag());
            LocaleFiles::iter()
                .filter(|n| n.starts_with(&prefix))
                .flat_map(|n| {
                    let data = LocaleFiles::get(&n).unwrap().data.into_owned();
                    String::from_utf8(data)
                        .unwrap()
                        .lines()
                        .filter_map(|l| {
                            let (id, _) = l.split_once(" =")?;
                            (!id.starts_with(' ') && !id.starts_with('#')).then(|| id.to_string())
                        })
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        let zh = ids(Locale::ZhCn);
        let en = ids(Locale::En);
        assert!(!zh.is_empty());
        let only_zh: Vec<_> = zh.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&zh).collect();
        assert!(
            only_zh.is_empty() && only_en.is_empty(),
            "{only_zh:?} {only_en:?}"
        );
    }

    #[test]
    fn formats_with_arguments() {
        let s = t(
            Locale::En,
            "error-too-long",
            &[("field", "Name".into()), ("max", "5".into())],
        );
        assert_eq!(s, "“Name” can have at most 5 characters.");
        assert_eq!(
            field_label(Locale::ZhCn, "reporter.id_number"),
            "身份证号码"
        );
    }

    #[test]
    fn wrong_status_messages_name_the_status_in_words() {
        let case = |loc, s: &str| t(loc, "error-wrong-status", &[("status", s.into())]);
        let reward = |loc, s: &str| t(loc, "error-reward-wrong-status", &[("status", s.into())]);
        assert_eq!(
            case(Locale::ZhCn, "checking"),
            "案件当前状态为“核查中”，不能进行此操作。"
        );
        assert_eq!(
            case(Locale::En, "not_accepted"),
            "The case is “not accepted”; this action is not possible now."
        );
        assert_eq!(
            reward(Locale::ZhCn, "paid"),
            "奖励当前状态为“已发放”，不能进行此操作。"
        );
        assert!(reward(Locale::En, "notified").contains("“told to the reporter”"));
        // A status the messages do not know yet is shown as it is, not dropped.
        assert!(case(Locale::ZhCn, "someday").contains("“someday”"));
    }

    #[test]
    fn accept_language() {
        assert_eq!(Locale::from_accept_language(None), Locale::ZhCn);
        assert_eq!(
            Locale::from_accept_language(Some("en-US,en;q=0.9")),
            Locale::En
        );
        assert_eq!(
            Locale::from_accept_language(Some("fr, en;q=0.5, zh;q=0.8")),
            Locale::ZhCn
        );
        assert_eq!(Locale::from_accept_language(Some("de")), Locale::ZhCn);
    }
}
