//! The vocabulary of everyday answers (`bots/understanding.toml`): "I don't know" phrases,
//! words that accept or turn down an offer, fillers, money words, festival and season
//! names, and where a name in a description begins. Read once when the engine is built; the
//! grammar that uses it is in `answers`.

use std::sync::OnceLock;

use serde::Deserialize;

use super::engine::normalize_word;
use super::flow::FlowError;

/// The contents of `understanding.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vocabulary {
    /// "I don't know", found inside a short answer.
    pub unsure: Vec<String>,
    /// Accepting what was offered.
    pub accept: Vec<String>,
    /// Turning an offer down.
    pub reject: Vec<String>,
    pub fillers: Fillers,
    pub amounts: AmountWords,
    pub names: NameWords,
    pub dates: DateWords,
}

/// Words taken off the start and the end of an answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fillers {
    pub before: Vec<String>,
    pub after: Vec<String>,
}

/// Money words around a number.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmountWords {
    pub before: Vec<String>,
    pub currency: Vec<String>,
    pub more: Vec<String>,
    pub more_before: Vec<String>,
    pub under_before: Vec<String>,
    pub under_after: Vec<String>,
    pub some: Vec<String>,
}

/// Where a name found in a description begins.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameWords {
    pub stops: Vec<String>,
}

/// Words of time: around/during/before/after a festival or season, seasons, festivals.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateWords {
    pub around: Vec<String>,
    pub during: Vec<String>,
    pub before: Vec<String>,
    pub after: Vec<String>,
    #[serde(rename = "season")]
    pub seasons: Vec<Season>,
    #[serde(rename = "festival")]
    pub festivals: Vec<Festival>,
}

/// A season: its words and its first and last month (`[12, 2]` runs over the new year).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Season {
    pub words: Vec<String>,
    pub months: [u32; 2],
}

/// A festival: its words and the code the caller's holiday calendar knows it by
/// ([`crate::Checks::holiday`]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Festival {
    pub code: String,
    pub words: Vec<String>,
}

const BUILT_IN: &str = include_str!("../../../bots/understanding.toml");

impl Vocabulary {
    /// Read and check `understanding.toml`: words are normalized (as answers are) and
    /// sorted longest first, so that the longest word is tried first.
    pub fn from_toml(file: &str, text: &str) -> Result<Vocabulary, FlowError> {
        let mut v: Vocabulary = toml::from_str(text).map_err(|e| FlowError::Parse {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        let err = |problem: String| FlowError::File {
            file: file.to_string(),
            problem,
        };
        for s in &v.dates.seasons {
            if !s.months.iter().all(|m| (1..=12).contains(m)) {
                return Err(err(format!("season {:?}: months must be 1 to 12", s.words)));
            }
        }
        let a = &mut v.amounts;
        let d = &mut v.dates;
        let lists: Vec<&mut Vec<String>> = vec![
            &mut v.unsure,
            &mut v.accept,
            &mut v.reject,
            &mut v.fillers.before,
            &mut v.fillers.after,
            &mut a.before,
            &mut a.currency,
            &mut a.more,
            &mut a.more_before,
            &mut a.under_before,
            &mut a.under_after,
            &mut a.some,
            &mut v.names.stops,
            &mut d.around,
            &mut d.during,
            &mut d.before,
            &mut d.after,
        ];
        for list in lists {
            tidy(list);
        }
        for s in &mut d.seasons {
            tidy(&mut s.words);
        }
        for f in &mut d.festivals {
            tidy(&mut f.words);
            if f.code.is_empty() {
                return Err(err("a festival has no `code`".into()));
            }
        }
        Ok(v)
    }

    /// The vocabulary shipped in `bots/understanding.toml`, compiled in.
    pub fn built_in() -> &'static Vocabulary {
        static V: OnceLock<Vocabulary> = OnceLock::new();
        V.get_or_init(|| {
            Vocabulary::from_toml("understanding.toml", BUILT_IN)
                .expect("the shipped vocabulary is valid (tested)")
        })
    }

    /// `text` (already normalized) with fillers taken off both ends, repeatedly.
    pub fn strip_fillers<'a>(&self, text: &'a str) -> &'a str {
        strip_words(text, &self.fillers.before, &self.fillers.after)
    }

    /// One of the "I don't know" phrases is in `word` (a short normalized answer).
    pub fn is_unsure(&self, word: &str) -> bool {
        word.chars().count() <= 20 && self.unsure.iter().any(|u| word.contains(u.as_str()))
    }

    /// `word` accepts an offer (never digits).
    pub fn accepts(&self, word: &str) -> bool {
        let stripped = self.strip_fillers(word);
        !word.chars().any(|c| c.is_ascii_digit())
            && self.accept.iter().any(|a| a == word || a == stripped)
    }

    /// `word` turns an offer down.
    pub fn rejects(&self, word: &str) -> bool {
        self.reject.iter().any(|a| a == word)
    }
}

/// Normalize, drop empties and duplicates, longest first.
fn tidy(list: &mut Vec<String>) {
    for w in list.iter_mut() {
        *w = normalize_word(w);
    }
    list.retain(|w| !w.is_empty());
    list.sort_by(|a, b| b.chars().count().cmp(&a.chars().count()).then(a.cmp(b)));
    list.dedup();
}

/// `text` with any of `before` off its start and `after` off its end, repeatedly, and the
/// punctuation and spaces between. Never strips everything: the last word stays.
pub(crate) fn strip_words<'a>(text: &'a str, before: &[String], after: &[String]) -> &'a str {
    let punct = |c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '，' | ',' | '。' | '.' | '、' | '!' | '！' | '?' | '？' | '~' | '…' | '；' | ';'
            )
    };
    let mut t = text.trim_matches(punct);
    loop {
        let mut changed = false;
        for b in before {
            if let Some(rest) = t.strip_prefix(b.as_str()) {
                let rest = rest.trim_matches(punct);
                if !rest.is_empty() {
                    t = rest;
                    changed = true;
                    break;
                }
            }
        }
        for a in after {
            if let Some(rest) = t.strip_suffix(a.as_str()) {
                let rest = rest.trim_matches(punct);
                if !rest.is_empty() {
                    t = rest;
                    changed = true;
                    break;
                }
            }
        }
        if !changed {
            return t;
        }
    }
}
