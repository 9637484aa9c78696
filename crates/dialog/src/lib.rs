//! # dialog
//!
//! The chat-bot conversation engine of jubao (举报): guided flows written as data
//! (`bots/*.toml` at the repository root), stepped one inbound message at a time. The
//! WeChat Official Account and WeCom bots (`jubao::channels::wechat`) use it. It is a crate
//! of its own so that nothing in it can reach the service's database, network or layers: it
//! depends on no part of jubao (`tests/layers.rs` in the repository checks).
//!
//! The engine is pure: [`Engine::step`] takes the stored [`Conversation`] (or none), one
//! [`Input`] and the current time, and returns an [`Outcome`]: the new state to store
//! (`None` ends the conversation), the replies as Fluent message ids with arguments, and at
//! most one [`Action`] for the caller to carry out (file a report, look one up). It never
//! talks to the network, the database or Fluent, so any server instance can take the next
//! message of a conversation from the stored state.
//!
//! Replies are [`Msg`]s: a Fluent id, plain string arguments, and `refs`: arguments whose
//! value is itself one or more message ids (option labels, chosen categories) that the
//! caller localizes first. [`Msg::render`] and [`Outcome::render`] do that given any
//! `localize(id, args)` function, e.g. the service's `i18n::t`.
//!
//! Answers that need the domain's own rules (resident ID, mobile number, region code) go
//! through the [`Checks`] trait, which the caller implements and hands to the [`Engine`]
//! (the service with its domain types: `channels::wechat::checks::DomainChecks`).
//!
//! Everyday answers are understood by grammar in code (`engine::amounts`, `engine::dates`,
//! option numbers and keywords) over vocabulary in data (`bots/understanding.toml`, the
//! options' `keywords` and `endings` in the flow files, see [`vocab`]): "I don't know"
//! skips an optional question, `三千多` is an estimate, `去年冬天` a period, and what the
//! description already said is offered instead of asked.
//!
//! Modules: [`flow`] reads and checks the flow files and the menu; [`engine`] steps a
//! conversation (answers, summaries, the report draft); [`vocab`] reads the vocabulary. `cargo test -p dialog` runs its tests
//! (whole conversations, flow-file checks, parsers, and that every message id is in both
//! `locales/*/bots.ftl`).

mod answers;
mod conversation;
pub mod engine;
pub mod flow;
pub mod vocab;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use engine::{
    format_yuan, mask_phone, mask_resident_id, parse_amount_fen, parse_when, Action, Conversation,
    DraftReporter, DraftTarget, Engine, Input, MediaKind, MediaRef, Outcome, ReportDraft,
    EXPIRY_SECS, MAX_INVALID_BEFORE_HELP,
};
pub use flow::{Cmd, Expect, Finish, Flow, FlowError, Menu, Problem, Step};
pub use vocab::Vocabulary;

/// The language of a conversation. Serialized as `"zh-CN"` / `"en"`, like the service's
/// `i18n::Locale`, which converts from it (`From`; a test there checks the two agree).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Locale {
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl Locale {
    /// The BCP 47 tag, as used in the report JSON.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::En => "en",
        }
    }
}

/// Domain checks for answers the engine cannot judge alone, supplied by the caller (the
/// service checks with its own domain types, so that the bot accepts exactly what intake
/// will). Each gets the answer with full-width characters already folded to ASCII
/// ([`engine::normalize_text`]) and returns the normalized value to store, or `None` when
/// the answer is not valid (the step's hint is then shown).
pub trait Checks {
    /// An 18-character resident identity number (GB 11643), normalized (no spaces, `X`
    /// upper case).
    fn resident_id(&self, input: &str) -> Option<String>;
    /// The last 6 characters of an ID number (5 digits, then a digit or `X`), the reward
    /// claim verifier, normalized (`X` upper case).
    fn id_last6(&self, input: &str) -> Option<String>;
    /// A mainland mobile number, normalized to 11 digits.
    fn phone(&self, input: &str) -> Option<String>;
    /// A 6-digit administrative division code.
    fn region(&self, input: &str) -> Option<String>;
    /// An e-mail address, normalized. By default none is accepted (and a flow that asks
    /// for one then never gets past the question).
    fn email(&self, input: &str) -> Option<String> {
        let _ = input;
        None
    }
    /// The days off of a festival in `year` (first and last day, Asia/Shanghai) from the
    /// holiday calendar, by its code in `bots/understanding.toml` (`spring_festival`,
    /// `national_day`, `new_year`, `qingming`, `labour_day`, `dragon_boat`, `mid_autumn`);
    /// `None` when that year's notice is not known. By default no festival is known, and
    /// `春节前后` is then not understood.
    fn holiday(&self, festival: &str, year: i32) -> Option<(chrono::NaiveDate, chrono::NaiveDate)> {
        let _ = (festival, year);
        None
    }
}

/// One reply: a Fluent message id and its arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Msg {
    pub id: String,
    /// Plain arguments, passed to Fluent as strings.
    pub args: Vec<(String, String)>,
    /// Arguments whose value is the localized text of these message ids (several are
    /// joined with the localized `bots-list-separator`).
    #[serde(default)]
    pub refs: Vec<(String, Vec<String>)>,
    /// `true` for a list line (an option, a summary line): it follows the previous message
    /// on the next line instead of starting a new paragraph.
    #[serde(default)]
    pub line: bool,
}

impl Msg {
    /// A message without arguments.
    pub fn new(id: impl Into<String>) -> Self {
        Msg {
            id: id.into(),
            args: vec![],
            refs: vec![],
            line: false,
        }
    }

    /// Add a plain argument.
    pub fn arg(mut self, name: &str, value: impl Into<String>) -> Self {
        self.args.push((name.to_string(), value.into()));
        self
    }

    /// Add an argument whose value is the localized text of `ids`.
    pub fn label(mut self, name: &str, ids: Vec<String>) -> Self {
        self.refs.push((name.to_string(), ids));
        self
    }

    fn into_line(mut self) -> Self {
        self.line = true;
        self
    }

    /// Localize with `localize(id, args)`: the `refs` are localized first and added to the
    /// arguments.
    pub fn render<F>(&self, localize: &F) -> String
    where
        F: Fn(&str, &[(String, String)]) -> String,
    {
        let mut args = self.args.clone();
        for (name, ids) in &self.refs {
            let sep = localize("bots-list-separator", &[]);
            let parts: Vec<String> = ids.iter().map(|id| localize(id, &[])).collect();
            args.push((name.clone(), parts.join(&sep)));
        }
        localize(&self.id, &args)
    }
}
