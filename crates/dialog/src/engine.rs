//! Stepping a conversation: one inbound message in, replies and perhaps an action out.
//!
//! Order of handling for each input:
//! 1. A stored conversation older than [`EXPIRY_SECS`] (or whose flow or step no longer
//!    exists after a deploy) is dropped with a note (`bots-expired`).
//! 2. Global commands (`menu.toml`) are recognised from text, voice recognition text or a
//!    [`Input::Command`]; they work at any step. English command words switch the
//!    conversation to English, Chinese ones to Chinese.
//! 3. Otherwise the current step handles the answer; with no conversation the user gets a
//!    short help (`bots-unknown`), or for photos and voice an explanation of when to send
//!    them (`bots-media-outside`).
//!
//! Answers that are not understood are answered with the step's hint, the attempt count
//! and the question again; from the [`MAX_INVALID_BEFORE_HELP`]th failed attempt on, a
//! message saying how to cancel or get help is added, so nobody is ever stuck.
//!
//! Voice messages: on a `media` step they are evidence (the recognition text is kept with
//! the [`MediaRef`], not added to the description). On other steps WeChat's recognition text
//! is taken as the typed answer, understood exactly as typed text is (`去年冬天吧。`,
//! `两千多块。`); on a free-text step the recording is also kept as evidence, since it is the
//! reporter's own words. On a media step a spoken "完成" or "跳过" ends the sending.

pub use super::answers::*;
pub use super::conversation::*;

mod answering;
mod examples;
mod offers;
mod summary;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use summary::{build_draft, summary_line};

use chrono::NaiveDate;
use serde_json::Value;

use super::flow::{summary_line_id, Cmd, Expect, Flow, FlowError, Menu, Step};
use super::vocab::Vocabulary;
use super::{Checks, Locale, Msg};

/// A conversation idle for longer than this (seconds) is forgotten.
pub const EXPIRY_SECS: i64 = 1800;

/// From this many failed answers on one step, a "how to get out" help is added.
pub const MAX_INVALID_BEFORE_HELP: u8 = 3;

/// China Standard Time has no daylight saving: dates are taken at UTC+8.
const CST_OFFSET_SECS: i64 = 8 * 3600;

/// Largest amount accepted (10^15 fen), as the report endpoint does.
pub(super) const MAX_AMOUNT_FEN: i64 = 1_000_000_000_000_000;

/// The loaded flows and menu, plus the caller's domain checks. Cheap to share (`&Engine` is all
/// [`Engine::step`] needs); build it once at start-up.
#[derive(Clone)]
pub struct Engine {
    flows: BTreeMap<String, Flow>,
    menu: Menu,
    vocab: Arc<Vocabulary>,
    checks: Arc<dyn Checks + Send + Sync>,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("flows", &self.flows.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The flows the engine starts by itself (global commands).
const REPORT_FLOW: &str = "report";
const STATUS_FLOW: &str = "status";

/// Message ids the engine emits on its own (beside those named in flow files), and those
/// the caller is expected to send after an [`Action`].
pub const ENGINE_MESSAGES: &[&str] = &[
    "bots-welcome",
    "bots-help",
    "bots-help-in-flow",
    "bots-unknown",
    "bots-expired",
    "bots-cancelled",
    "bots-nothing-to-cancel",
    "bots-restarted",
    "bots-language-set",
    "bots-media-outside",
    "bots-media-received",
    "bots-media-full",
    "bots-cannot-skip",
    "bots-stuck",
    "bots-option",
    "bots-yes",
    "bots-no",
    "bots-list-separator",
    "bots-internal-error",
    "bots-report-filed",
    "bots-report-failed",
    "bots-status-result",
    "bots-status-not-found",
    "bots-status-rate-limited",
];

impl Engine {
    /// Load every `*.toml` in `dir`: `menu.toml` is the menu, `understanding.toml` the
    /// vocabulary of everyday answers (the built-in one when the folder has none), every
    /// other file a flow. The flows `report` and `status` must be among them.
    pub fn load(
        dir: impl AsRef<Path>,
        checks: impl Checks + Send + Sync + 'static,
    ) -> Result<Engine, FlowError> {
        let dir = dir.as_ref();
        let io = |file: &Path, e: std::io::Error| FlowError::Io {
            file: file.display().to_string(),
            message: e.to_string(),
        };
        let mut files = vec![];
        for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
            let path = entry.map_err(|e| io(dir, e))?.path();
            if path.extension().is_some_and(|e| e == "toml") {
                let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                files.push((name, text));
            }
        }
        files.sort();
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        Engine::from_sources(&refs, checks)
    }

    /// The flows shipped in `bots/`, compiled in.
    pub fn built_in(checks: impl Checks + Send + Sync + 'static) -> Engine {
        Engine::from_sources(
            &[
                ("menu.toml", include_str!("../../../bots/menu.toml")),
                ("report.toml", include_str!("../../../bots/report.toml")),
                ("status.toml", include_str!("../../../bots/status.toml")),
                (
                    "understanding.toml",
                    include_str!("../../../bots/understanding.toml"),
                ),
            ],
            checks,
        )
        .expect("the shipped flow files are valid (tested)")
    }

    /// Build from `(file name, contents)` pairs; `menu.toml` is the menu,
    /// `understanding.toml` the vocabulary (built in when absent). `checks` judge the
    /// answers the engine cannot judge alone (see [`Checks`]).
    pub fn from_sources(
        files: &[(&str, &str)],
        checks: impl Checks + Send + Sync + 'static,
    ) -> Result<Engine, FlowError> {
        let mut flows = BTreeMap::new();
        let mut menu = None;
        let mut vocab = None;
        for (name, text) in files {
            if *name == "menu.toml" {
                menu = Some(Menu::from_toml(name, text)?);
                continue;
            }
            if *name == "understanding.toml" {
                vocab = Some(Vocabulary::from_toml(name, text)?);
                continue;
            }
            let flow = Flow::from_toml(name, text)?;
            if let Some(other) = flows.get(&flow.id) {
                let other: &Flow = other;
                return Err(FlowError::File {
                    file: name.to_string(),
                    problem: format!("flow id `{}` is also used by {}", flow.id, other.file),
                });
            }
            flows.insert(flow.id.clone(), flow);
        }
        let menu = menu.ok_or_else(|| FlowError::File {
            file: "menu.toml".into(),
            problem: "missing".into(),
        })?;
        for need in [REPORT_FLOW, STATUS_FLOW] {
            if !flows.contains_key(need) {
                return Err(FlowError::File {
                    file: format!("{need}.toml"),
                    problem: format!("no flow has the id `{need}`"),
                });
            }
        }
        let vocab = vocab.unwrap_or_else(|| Vocabulary::built_in().clone());
        Ok(Engine {
            flows,
            menu,
            vocab: Arc::new(vocab),
            checks: Arc::new(checks),
        })
    }

    /// The loaded flows.
    pub fn flows(&self) -> impl Iterator<Item = &Flow> {
        self.flows.values()
    }

    /// The command for a menu click key (`EventKey`), e.g. `REPORT`.
    pub fn command_for_key(&self, key: &str) -> Option<Cmd> {
        let key = key.trim();
        self.menu
            .commands
            .iter()
            .find(|c| c.keys.iter().any(|k| k == key))
            .map(|c| c.cmd)
    }

    /// Every message id the engine may emit: the flows' and its own.
    pub fn message_ids(&self) -> BTreeSet<String> {
        let mut ids: BTreeSet<String> = ENGINE_MESSAGES.iter().map(|s| s.to_string()).collect();
        for f in self.flows.values() {
            ids.extend(f.message_ids());
        }
        ids
    }

    /// Handle one inbound message. `state` is what the last step returned for this user
    /// (or `None`), `now` is unix seconds.
    pub fn step(&self, state: Option<Conversation>, input: Input, now: i64) -> Outcome {
        let mut out = Outcome {
            state: None,
            replies: vec![],
            locale: state.as_ref().map(|s| s.locale).unwrap_or_default(),
            action: None,
        };
        let mut state = state;
        if let Some(s) = &state {
            let stale = now.saturating_sub(s.updated_at) > EXPIRY_SECS;
            let gone = self.flow_step(s).is_none();
            if stale || gone {
                out.replies.push(Msg::new("bots-expired"));
                state = None;
            }
        }

        let command = match &input {
            Input::Command(c) => Some((*c, None)),
            Input::Text(t) => self.match_command(t, state.is_some()),
            Input::Voice {
                recognition: Some(t),
                ..
            } => self.match_command(t, state.is_some()),
            _ => None,
        };
        if let Some((cmd, locale)) = command {
            if let Some(l) = locale {
                out.locale = l;
            }
            self.command(cmd, state, now, &mut out);
            return out;
        }

        match state {
            Some(s) => self.answer(s, input, now, &mut out),
            None => self.idle(&input, &mut out),
        }
        out
    }

    fn flow_step(&self, s: &Conversation) -> Option<(&Flow, &Step)> {
        let flow = self.flows.get(&s.flow)?;
        Some((flow, flow.step(&s.step)?))
    }

    /// A command word, and the language it implies.
    fn match_command(&self, text: &str, in_flow: bool) -> Option<(Cmd, Option<Locale>)> {
        let w = normalize_word(text);
        if w.is_empty() {
            return None;
        }
        for c in &self.menu.commands {
            if c.zh.contains(&w) {
                return Some((c.cmd, Some(Locale::ZhCn)));
            }
            if c.en.contains(&w) {
                return Some((c.cmd, Some(Locale::En)));
            }
            if c.neutral.contains(&w) || (!in_flow && c.idle.contains(&w)) {
                return Some((c.cmd, None));
            }
        }
        None
    }

    fn command(&self, cmd: Cmd, state: Option<Conversation>, now: i64, out: &mut Outcome) {
        match cmd {
            Cmd::Report | Cmd::Status => {
                if state.is_some() {
                    out.replies.push(Msg::new("bots-restarted"));
                }
                let id = if cmd == Cmd::Report {
                    REPORT_FLOW
                } else {
                    STATUS_FLOW
                };
                self.start_flow(id, out.locale, now, out);
            }
            Cmd::Help => {
                out.replies.push(Msg::new("bots-help"));
                if let Some(mut s) = state {
                    s.locale = out.locale;
                    s.updated_at = now;
                    out.replies.push(Msg::new("bots-help-in-flow"));
                    self.ask(&mut s, out);
                }
            }
            Cmd::Cancel => {
                let id = if state.is_some() {
                    "bots-cancelled"
                } else {
                    "bots-nothing-to-cancel"
                };
                out.replies.push(Msg::new(id));
            }
            Cmd::Subscribe => {
                out.replies.push(Msg::new("bots-welcome"));
                out.state = state;
            }
            Cmd::English | Cmd::Chinese => {
                out.locale = if cmd == Cmd::English {
                    Locale::En
                } else {
                    Locale::ZhCn
                };
                out.replies.push(Msg::new("bots-language-set"));
                match state {
                    Some(mut s) => {
                        s.locale = out.locale;
                        s.updated_at = now;
                        self.ask(&mut s, out);
                    }
                    None => out.replies.push(Msg::new("bots-help")),
                }
            }
        }
    }

    fn start_flow(&self, id: &str, locale: Locale, now: i64, out: &mut Outcome) {
        let Some(flow) = self.flows.get(id) else {
            // Checked at load time; kept safe anyway.
            out.replies.push(Msg::new("bots-internal-error"));
            return;
        };
        let mut s = Conversation {
            flow: flow.id.clone(),
            step: flow.start.clone(),
            slots: BTreeMap::new(),
            media: vec![],
            locale,
            updated_at: now,
            attempts_on_step: 0,
        };
        if let Some(intro) = &flow.intro {
            out.replies.push(Msg::new(intro.as_str()));
        }
        self.ask(&mut s, out);
    }

    /// No conversation and no command.
    fn idle(&self, input: &Input, out: &mut Outcome) {
        match input {
            Input::Image { .. } | Input::Voice { .. } => {
                out.replies.push(Msg::new("bots-media-outside"));
            }
            Input::Text(t) => {
                if looks_english(t) {
                    out.locale = Locale::En;
                }
                out.replies.push(Msg::new("bots-unknown"));
            }
            _ => out.replies.push(Msg::new("bots-unknown")),
        }
    }

    /// Ask the current step's question (and list its options or the summary); stores the
    /// state in `out`.
    fn ask(&self, s: &mut Conversation, out: &mut Outcome) {
        out.locale = s.locale;
        let Some((flow, step)) = self.flow_step(s) else {
            out.replies.push(Msg::new("bots-internal-error"));
            out.state = None;
            return;
        };
        let step = &shown(s, step);
        // What an earlier answer already says: taken (the kind of a named target) or offered.
        if self.infer(s, step, out) {
            return self.advance(s.clone(), step, out);
        }
        let offered = self.offer(s, flow, step, out);
        let question = |out: &mut Outcome| {
            if !offered {
                out.replies.push(Msg::new(step.ask.as_str()));
            }
        };
        match &step.expect {
            Expect::Choice { options } | Expect::MultiChoice { options } => {
                question(out);
                for (i, o) in options.iter().enumerate() {
                    out.replies.push(option_line(i + 1, &o.label));
                }
            }
            Expect::YesNo => {
                out.replies.push(Msg::new(step.ask.as_str()));
                out.replies.push(option_line(1, "bots-yes"));
                out.replies.push(option_line(2, "bots-no"));
            }
            Expect::SummaryConfirm { title, lines } => {
                out.replies.push(Msg::new(title.as_str()));
                for slot in lines {
                    if let Some(m) = summary_line(flow, title, slot, s) {
                        out.replies.push(m.into_line());
                    }
                }
                out.replies.push(Msg::new(step.ask.as_str()));
            }
            _ => question(out),
        }
        out.state = Some(s.clone());
    }
}

enum Parsed {
    Value(Value),
    /// An amount: the estimate behind the slot's fen.
    Estimate(Estimate),
    /// "I don't know" (`不知道多少`): skip an optional step.
    Unknown,
    /// "No" to the summary: start the flow again.
    Restart,
    Invalid,
}

/// The step as this conversation sees it: a choice without the options whose `needs` slot
/// no earlier answer filled (SMS for a reporter who left no mobile number), so that the
/// list, its numbers and the words understood all agree.
pub(super) fn shown(s: &Conversation, step: &Step) -> Step {
    let mut step = step.clone();
    let keep = |o: &crate::flow::Choice| o.needs.as_ref().map_or(true, |n| s.slots.contains_key(n));
    if let Expect::Choice { options } | Expect::MultiChoice { options } = &mut step.expect {
        options.retain(keep);
    }
    step
}

fn option_line(n: usize, label: &str) -> Msg {
    Msg::new("bots-option")
        .arg("n", n.to_string())
        .label("label", vec![label.to_string()])
        .into_line()
}

/// Today's date in China (UTC+8) at unix time `now`.
fn today(now: i64) -> NaiveDate {
    chrono::DateTime::from_timestamp(now.saturating_add(CST_OFFSET_SECS), 0)
        .map(|d| d.date_naive())
        .unwrap_or_default()
}
