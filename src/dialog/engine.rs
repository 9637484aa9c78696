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
//! is taken as the typed answer; on a free-text step the recording is also kept as evidence,
//! since it is the reporter's own words.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::flow::{summary_line_id, Cmd, Expect, Finish, Flow, FlowError, Menu, Step};
use super::{BasicChecks, Checks, Locale, Msg};

/// A conversation idle for longer than this (seconds) is forgotten.
pub const EXPIRY_SECS: i64 = 1800;

/// From this many failed answers on one step, a "how to get out" help is added.
pub const MAX_INVALID_BEFORE_HELP: u8 = 3;

/// China Standard Time has no daylight saving: dates are taken at UTC+8.
const CST_OFFSET_SECS: i64 = 8 * 3600;

/// Largest amount accepted (10^15 fen), as the report endpoint does.
const MAX_AMOUNT_FEN: i64 = 1_000_000_000_000_000;

/// The stored state of one user's conversation.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub flow: String,
    pub step: String,
    pub slots: BTreeMap<String, Value>,
    pub media: Vec<MediaRef>,
    pub locale: Locale,
    /// Unix seconds of the last message handled.
    pub updated_at: i64,
    pub attempts_on_step: u8,
}

impl fmt::Debug for Conversation {
    /// Slot values may hold identity data: only their names are printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conversation")
            .field("flow", &self.flow)
            .field("step", &self.step)
            .field("slots", &self.slots.keys().collect::<Vec<_>>())
            .field("media", &self.media.len())
            .field("locale", &self.locale)
            .field("updated_at", &self.updated_at)
            .field("attempts_on_step", &self.attempts_on_step)
            .finish()
    }
}

/// Evidence received in the chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Image,
    Voice,
}

/// A photo or voice message by its platform media id (to be downloaded by the caller).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRef {
    pub kind: MediaKind,
    pub media_id: String,
    /// WeChat's speech recognition of a voice message, if it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recognition: Option<String>,
}

/// One inbound message, already decoded from the platform's XML.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Text(String),
    Image {
        media_id: String,
    },
    Voice {
        media_id: String,
        recognition: Option<String>,
    },
    /// A shared location: `x` latitude, `y` longitude (WeChat's `Location_X`/`Location_Y`).
    Location {
        x: f64,
        y: f64,
        label: String,
    },
    Link {
        title: String,
        url: String,
    },
    /// A menu click or event, mapped by the caller (see [`Engine::command_for_key`]).
    Command(Cmd),
}

/// What the caller must do after sending the replies.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// File the report, then reply `bots-report-filed` (args `tracking_code`, `passcode`,
    /// `accept_by`) or `bots-report-failed`.
    FileReport(Box<ReportDraft>),
    /// Look the report up, then reply `bots-status-result` (args `status`, ref
    /// `status_label`), `bots-status-not-found` or `bots-status-rate-limited`.
    LookupStatus {
        tracking_code: String,
        passcode: String,
    },
}

/// The result of one step.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The state to store; `None` means the conversation is over (delete the row).
    pub state: Option<Conversation>,
    pub replies: Vec<Msg>,
    /// The language to render `replies` in (also valid when `state` is `None`).
    pub locale: Locale,
    pub action: Option<Action>,
}

impl Outcome {
    /// All replies as one text: list lines on their own line, other messages as paragraphs.
    pub fn render<F>(&self, localize: &F) -> String
    where
        F: Fn(&str, &[(String, String)]) -> String,
    {
        let mut out = String::new();
        for m in &self.replies {
            if !out.is_empty() {
                out.push_str(if m.line { "\n" } else { "\n\n" });
            }
            out.push_str(&m.render(localize));
        }
        out
    }

    /// The reply ids, for tests and logs.
    pub fn reply_ids(&self) -> Vec<&str> {
        self.replies.iter().map(|m| m.id.as_str()).collect()
    }
}

/// The report collected by the guided flow, in the shape of CONTRACT §3 plus the media.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportDraft {
    pub target: DraftTarget,
    pub categories: Vec<String>,
    pub description: String,
    pub occurred_from: Option<String>,
    pub occurred_to: Option<String>,
    pub amount_estimate_fen: Option<i64>,
    pub reporter: DraftReporter,
    /// Photos and voice messages, in the order received; voice recognition text stays with
    /// its item and is not part of `description`.
    pub media: Vec<MediaRef>,
    /// Coordinates of a shared location (latitude, longitude); not part of the JSON.
    pub coordinates: Option<(f64, f64)>,
    pub locale: Locale,
}

/// `target` of the report JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftTarget {
    pub name: String,
    pub kind: String,
    pub region_code: Option<String>,
    pub address: Option<String>,
}

/// `reporter` of the report JSON. Identity fields are `None` for anonymous reports.
#[derive(Clone, PartialEq, Eq)]
pub struct DraftReporter {
    pub anonymous: bool,
    pub name: Option<String>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub relation: Option<String>,
}

impl fmt::Debug for DraftReporter {
    /// Never prints identity values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let has = |o: &Option<String>| if o.is_some() { "…" } else { "-" };
        f.debug_struct("DraftReporter")
            .field("anonymous", &self.anonymous)
            .field("name", &has(&self.name))
            .field("id_number", &has(&self.id_number))
            .field("phone", &has(&self.phone))
            .field("relation", &self.relation)
            .finish()
    }
}

impl ReportDraft {
    /// The `POST /api/v1/reports` JSON body (CONTRACT §3), without the media. Absent
    /// optional fields are left out rather than sent as `null`.
    pub fn to_json(&self) -> Value {
        let mut target = Map::new();
        target.insert("name".into(), json!(self.target.name));
        target.insert("kind".into(), json!(self.target.kind));
        if let Some(r) = &self.target.region_code {
            target.insert("region_code".into(), json!(r));
        }
        if let Some(a) = &self.target.address {
            target.insert("address".into(), json!(a));
        }
        let mut reporter = Map::new();
        reporter.insert("anonymous".into(), json!(self.reporter.anonymous));
        let r = &self.reporter;
        for (k, v) in [
            ("name", &r.name),
            ("id_number", &r.id_number),
            ("phone", &r.phone),
            ("relation", &r.relation),
        ] {
            if let Some(v) = v {
                reporter.insert(k.into(), json!(v));
            }
        }
        let mut body = Map::new();
        body.insert("target".into(), Value::Object(target));
        body.insert("categories".into(), json!(self.categories));
        body.insert("description".into(), json!(self.description));
        if let Some(d) = &self.occurred_from {
            body.insert("occurred_from".into(), json!(d));
        }
        if let Some(d) = &self.occurred_to {
            body.insert("occurred_to".into(), json!(d));
        }
        if let Some(a) = self.amount_estimate_fen {
            body.insert("amount_estimate_fen".into(), json!(a));
        }
        body.insert("reporter".into(), Value::Object(reporter));
        body.insert("locale".into(), json!(self.locale.tag()));
        Value::Object(body)
    }
}

/// The loaded flows and menu, plus the domain checks. Cheap to share (`&Engine` is all
/// [`Engine::step`] needs); build it once at start-up.
#[derive(Clone)]
pub struct Engine {
    flows: BTreeMap<String, Flow>,
    menu: Menu,
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
    /// Load every `*.toml` in `dir`: `menu.toml` is the menu, every other file a flow. The
    /// flows `report` and `status` must be among them.
    pub fn load(dir: impl AsRef<Path>) -> Result<Engine, FlowError> {
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
        Engine::from_sources(&refs)
    }

    /// The flows shipped in `bots/`, compiled in.
    pub fn built_in() -> Engine {
        Engine::from_sources(&[
            ("menu.toml", include_str!("../../bots/menu.toml")),
            ("report.toml", include_str!("../../bots/report.toml")),
            ("status.toml", include_str!("../../bots/status.toml")),
        ])
        .expect("the shipped flow files are valid (tested)")
    }

    /// Build from `(file name, contents)` pairs; `menu.toml` is the menu.
    pub fn from_sources(files: &[(&str, &str)]) -> Result<Engine, FlowError> {
        let mut flows = BTreeMap::new();
        let mut menu = None;
        for (name, text) in files {
            if *name == "menu.toml" {
                menu = Some(Menu::from_toml(name, text)?);
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
        Ok(Engine {
            flows,
            menu,
            checks: Arc::new(BasicChecks),
        })
    }

    /// Use the caller's domain checks instead of [`BasicChecks`].
    pub fn with_checks(mut self, checks: impl Checks + Send + Sync + 'static) -> Engine {
        self.checks = Arc::new(checks);
        self
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
        match &step.expect {
            Expect::Choice { options } | Expect::MultiChoice { options } => {
                out.replies.push(Msg::new(step.ask.as_str()));
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
            _ => out.replies.push(Msg::new(step.ask.as_str())),
        }
        out.state = Some(s.clone());
    }

    /// The user answered the current step.
    fn answer(&self, mut s: Conversation, input: Input, now: i64, out: &mut Outcome) {
        s.updated_at = now;
        out.locale = s.locale;
        let Some((_, step)) = self.flow_step(&s) else {
            out.replies.push(Msg::new("bots-internal-error"));
            return;
        };
        let step = step.clone();

        if let Expect::Media { max } = step.expect {
            return self.answer_media(s, &step, max, input, out);
        }

        let text = match input {
            Input::Text(t) => t,
            Input::Link { title, url } => format!("{title} {url}"),
            Input::Voice {
                media_id,
                recognition: Some(t),
            } => {
                // The spoken answer; on a free-text step the recording is evidence too.
                if matches!(step.expect, Expect::Text { .. }) {
                    s.media.push(MediaRef {
                        kind: MediaKind::Voice,
                        media_id,
                        recognition: Some(t.clone()),
                    });
                }
                t
            }
            Input::Image { .. } | Input::Voice { .. } => {
                out.replies.push(Msg::new("bots-media-outside"));
                return self.ask(&mut s, out);
            }
            Input::Location { x, y, label } => {
                if matches!(step.expect, Expect::Location) {
                    let mut v = Map::new();
                    v.insert("label".into(), json!(label.trim()));
                    if let (Some(x), Some(y)) = (
                        serde_json::Number::from_f64(x),
                        serde_json::Number::from_f64(y),
                    ) {
                        v.insert("x".into(), Value::Number(x));
                        v.insert("y".into(), Value::Number(y));
                    }
                    return self.accept(s, &step, Value::Object(v), out);
                }
                // A location is no answer to any other question.
                String::new()
            }
            // Commands were handled before; kept total.
            Input::Command(_) => String::new(),
        };

        let word = normalize_word(&text);
        if self.menu.words.skip.contains(&word) {
            if step.optional {
                if let Some(slot) = &step.slot {
                    s.slots.remove(slot);
                }
                return self.advance(s, &step, out);
            }
            out.replies.push(Msg::new("bots-cannot-skip"));
            return self.reask(s, &step, &text, out);
        }

        match self.parse_answer(&step, &text, &word, now) {
            Parsed::Value(v) => self.accept(s, &step, v, out),
            Parsed::Restart => {
                let Some(flow) = self.flows.get(&s.flow) else {
                    out.replies.push(Msg::new("bots-internal-error"));
                    return;
                };
                s.step = flow.start.clone();
                s.slots.clear();
                s.media.clear();
                s.attempts_on_step = 0;
                out.replies.push(Msg::new("bots-restarted"));
                self.ask(&mut s, out);
            }
            Parsed::Invalid => self.reask(s, &step, &text, out),
        }
    }

    fn answer_media(
        &self,
        mut s: Conversation,
        step: &Step,
        max: usize,
        input: Input,
        out: &mut Outcome,
    ) {
        let slot = step.slot.clone().unwrap_or_default();
        let count = s.slots.get(&slot).and_then(Value::as_u64).unwrap_or(0) as usize;
        let (item, text) = match input {
            Input::Image { media_id } => (
                Some(MediaRef {
                    kind: MediaKind::Image,
                    media_id,
                    recognition: None,
                }),
                String::new(),
            ),
            Input::Voice {
                media_id,
                recognition,
            } => (
                Some(MediaRef {
                    kind: MediaKind::Voice,
                    media_id,
                    recognition,
                }),
                String::new(),
            ),
            Input::Text(t) => (None, t),
            Input::Link { title, url } => (None, format!("{title} {url}")),
            Input::Location { label, .. } => (None, label),
            Input::Command(_) => (None, String::new()),
        };
        if let Some(item) = item {
            s.media.push(item);
            let count = count + 1;
            s.slots.insert(slot, json!(count));
            s.attempts_on_step = 0;
            if count >= max {
                out.replies
                    .push(Msg::new("bots-media-full").arg("max", max.to_string()));
                return self.advance(s, step, out);
            }
            out.replies
                .push(Msg::new("bots-media-received").arg("count", count.to_string()));
            out.state = Some(s);
            return;
        }
        let w = normalize_word(&text);
        let done = self.menu.words.done.contains(&w) || self.menu.words.skip.contains(&w);
        if done && (count > 0 || step.optional) {
            return self.advance(s, step, out);
        }
        self.reask(s, step, &text, out)
    }

    fn parse_answer(&self, step: &Step, text: &str, word: &str, now: i64) -> Parsed {
        let words = &self.menu.words;
        let v = match &step.expect {
            Expect::Text { min, max } => clean_text(text, *min, *max).map(Value::String),
            Expect::Choice { options } => match_option(options, word).map(|i| {
                // Index comes from `options`, so it is in range.
                json!(options[i].value)
            }),
            Expect::MultiChoice { options } => match_multi(options, word)
                .map(|is| json!(is.iter().map(|&i| &options[i].value).collect::<Vec<_>>())),
            Expect::YesNo => yes_no(words, word).map(|b| json!(if b { "yes" } else { "no" })),
            Expect::SummaryConfirm { .. } => match yes_no(words, word) {
                Some(true) => Some(json!("yes")),
                Some(false) => return Parsed::Restart,
                None => None,
            },
            Expect::Date => parse_when(text, today(now)).map(|(from, to)| {
                json!({ "from": from.format("%Y-%m-%d").to_string(),
                        "to": to.format("%Y-%m-%d").to_string() })
            }),
            Expect::AmountYuan => parse_amount_fen(text).map(|f| json!(f)),
            Expect::Region => self.checks.region(text).map(Value::String),
            Expect::ResidentId => self.checks.resident_id(text).map(Value::String),
            Expect::Phone => self.checks.phone(text).map(Value::String),
            Expect::Location => match self.checks.region(text) {
                Some(code) => Some(json!({ "region_code": code })),
                None => clean_text(text, 2, 500).map(|t| json!({ "label": t })),
            },
            Expect::Digits { len } => {
                let d: String = normalize_text(text)
                    .chars()
                    .filter(|c| !matches!(c, ' ' | '-' | '_' | '.'))
                    .collect();
                (d.chars().count() == *len && d.bytes().all(|b| b.is_ascii_digit()))
                    .then_some(Value::String(d))
            }
            // Handled by `answer_media`.
            Expect::Media { .. } => None,
        };
        match v {
            Some(v) => Parsed::Value(v),
            None => Parsed::Invalid,
        }
    }

    fn accept(&self, mut s: Conversation, step: &Step, v: Value, out: &mut Outcome) {
        if let Some(slot) = &step.slot {
            s.slots.insert(slot.clone(), v);
        }
        self.advance(s, step, out)
    }

    /// Go to the next step (first matching branch, else `next`) or finish the flow.
    fn advance(&self, mut s: Conversation, step: &Step, out: &mut Outcome) {
        if let Some(finish) = step.finish {
            return self.finish(finish, s, out);
        }
        let next = step
            .branch
            .iter()
            .find(|b| s.slots.get(&b.if_slot).and_then(Value::as_str) == Some(b.equals.as_str()))
            .map(|b| &b.goto)
            .or(step.next.as_ref());
        let Some(next) = next else {
            out.replies.push(Msg::new("bots-internal-error"));
            return;
        };
        s.step = next.clone();
        s.attempts_on_step = 0;
        self.ask(&mut s, out);
    }

    fn finish(&self, finish: Finish, s: Conversation, out: &mut Outcome) {
        out.state = None;
        let str_slot = |k: &str| s.slots.get(k).and_then(Value::as_str).map(str::to_string);
        match finish {
            Finish::FileReport => match build_draft(&s) {
                Some(d) => out.action = Some(Action::FileReport(Box::new(d))),
                None => out.replies.push(Msg::new("bots-internal-error")),
            },
            Finish::LookupStatus => match (str_slot("tracking_code"), str_slot("passcode")) {
                (Some(tracking_code), Some(passcode)) => {
                    out.action = Some(Action::LookupStatus {
                        tracking_code,
                        passcode,
                    })
                }
                _ => out.replies.push(Msg::new("bots-internal-error")),
            },
        }
    }

    /// The answer was not understood: hint, attempt count, maybe the way out, the question.
    fn reask(&self, mut s: Conversation, step: &Step, text: &str, out: &mut Outcome) {
        s.attempts_on_step = s.attempts_on_step.saturating_add(1);
        let n = s.attempts_on_step;
        let mut hint = Msg::new(step.hint_id()).arg("attempt", n.to_string());
        match &step.expect {
            Expect::Text { min, max } => {
                hint = hint
                    .arg("min", min.to_string())
                    .arg("max", max.to_string())
                    .arg("chars", text.trim().chars().count().to_string());
            }
            Expect::Digits { len } => hint = hint.arg("len", len.to_string()),
            Expect::Media { max } => hint = hint.arg("max", max.to_string()),
            _ => {}
        }
        out.replies.push(hint);
        if n >= MAX_INVALID_BEFORE_HELP {
            out.replies
                .push(Msg::new("bots-stuck").arg("attempt", n.to_string()));
        }
        self.ask(&mut s, out);
    }
}

enum Parsed {
    Value(Value),
    /// "No" to the summary: start the flow again.
    Restart,
    Invalid,
}

fn option_line(n: usize, label: &str) -> Msg {
    Msg::new("bots-option")
        .arg("n", n.to_string())
        .label("label", vec![label.to_string()])
        .into_line()
}

/// One line of the summary for `slot`, or `None` when the slot is empty (skipped).
fn summary_line(flow: &Flow, title: &str, slot: &str, s: &Conversation) -> Option<Msg> {
    let v = s.slots.get(slot)?;
    let step = flow.step_for_slot(slot)?;
    let m = Msg::new(summary_line_id(title, slot));
    let label_of = |value: &str| {
        step.expect
            .options()
            .iter()
            .find(|o| o.value == value)
            .map(|o| o.label.clone())
    };
    let m = match &step.expect {
        Expect::Choice { .. } => m.label("value", vec![label_of(v.as_str()?)?]),
        Expect::MultiChoice { .. } => {
            let ids = v
                .as_array()?
                .iter()
                .filter_map(|x| label_of(x.as_str()?))
                .collect();
            m.label("value", ids)
        }
        Expect::YesNo => {
            let id = if v.as_str()? == "yes" {
                "bots-yes"
            } else {
                "bots-no"
            };
            m.label("value", vec![id.to_string()])
        }
        Expect::Text { .. } | Expect::Region | Expect::Digits { .. } => {
            m.arg("value", shorten(v.as_str()?, 100))
        }
        Expect::ResidentId => m.arg("value", mask_resident_id(v.as_str()?)),
        Expect::Phone => m.arg("value", mask_phone(v.as_str()?)),
        Expect::AmountYuan => m.arg("value", format_yuan(v.as_i64()?)),
        // Everything attached so far, including voice answers to text questions.
        Expect::Media { .. } => m.arg("value", s.media.len().max(v.as_u64()? as usize).to_string()),
        Expect::Date => {
            let (f, t) = (v.get("from")?.as_str()?, v.get("to")?.as_str()?);
            let text = if f == t {
                f.to_string()
            } else {
                format!("{f} ~ {t}")
            };
            m.arg("value", text)
        }
        Expect::Location => {
            let label = v.get("label").and_then(Value::as_str).unwrap_or_default();
            let text = match v.get("region_code").and_then(Value::as_str) {
                Some(code) => code.to_string(),
                None if !label.is_empty() => shorten(label, 100),
                None => {
                    let (x, y) = (v.get("x")?.as_f64()?, v.get("y")?.as_f64()?);
                    format!("{x:.5}, {y:.5}")
                }
            };
            m.arg("value", text)
        }
        Expect::SummaryConfirm { .. } => return None,
    };
    Some(m)
}

/// The report collected in `s`, or `None` if a required slot is missing.
fn build_draft(s: &Conversation) -> Option<ReportDraft> {
    let text = |k: &str| s.slots.get(k).and_then(Value::as_str).map(str::to_string);
    let categories: Vec<String> = match s.slots.get("categories")? {
        Value::String(c) => vec![c.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|c| c.as_str().map(str::to_string))
            .collect(),
        _ => return None,
    };
    if categories.is_empty() {
        return None;
    }
    let place = s.slots.get("place");
    let place_str = |k: &str| {
        place
            .and_then(|p| p.get(k))
            .and_then(Value::as_str)
            .filter(|x| !x.is_empty())
            .map(str::to_string)
    };
    let coordinates = place.and_then(|p| Some((p.get("x")?.as_f64()?, p.get("y")?.as_f64()?)));
    let when = s.slots.get("when");
    let date = |k: &str| {
        when.and_then(|w| w.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    // Anonymous unless the reporter explicitly chose to give their name.
    let anonymous = text("anonymous").as_deref() != Some("no");
    let identity = |k: &str| if anonymous { None } else { text(k) };
    Some(ReportDraft {
        target: DraftTarget {
            name: text("target_name")?,
            kind: text("target_kind")?,
            region_code: place_str("region_code").or_else(|| text("region")),
            address: place_str("label").or_else(|| text("address")),
        },
        categories,
        description: text("description")?,
        occurred_from: date("from"),
        occurred_to: date("to"),
        amount_estimate_fen: s.slots.get("amount").and_then(Value::as_i64),
        reporter: DraftReporter {
            anonymous,
            name: identity("reporter_name"),
            id_number: identity("id_number"),
            phone: identity("phone"),
            relation: text("relation"),
        },
        media: s.media.clone(),
        coordinates,
        locale: s.locale,
    })
}

/// Today's date in China (UTC+8) at unix time `now`.
fn today(now: i64) -> NaiveDate {
    chrono::DateTime::from_timestamp(now.saturating_add(CST_OFFSET_SECS), 0)
        .map(|d| d.date_naive())
        .unwrap_or_default()
}

/// Full-width ASCII (what Chinese input methods often type) to ASCII, the ideographic
/// space to a space.
pub fn normalize_text(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .collect()
}

/// A short answer as compared with command words, aliases and vocabularies: full-width
/// folded, ASCII lower case, inner whitespace collapsed, surrounding punctuation removed.
pub fn normalize_word(s: &str) -> String {
    let s = normalize_text(s).to_ascii_lowercase();
    let s: Vec<&str> = s.split_whitespace().collect();
    let s = s.join(" ");
    s.trim_matches(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '。' | '!'
                    | '?'
                    | '.'
                    | ','
                    | '，'
                    | '、'
                    | '~'
                    | '"'
                    | '\''
                    | '“'
                    | '”'
                    | '‘'
                    | '’'
                    | '…'
                    | ';'
                    | ':'
                    | '》'
                    | '《'
                    | '「'
                    | '」'
            )
    })
    .to_string()
}

/// Text that is mostly Latin letters and has no CJK characters.
fn looks_english(s: &str) -> bool {
    let has_cjk = s
        .chars()
        .any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c) || ('\u{3400}'..='\u{4DBF}').contains(&c));
    !has_cjk && s.chars().filter(|c| c.is_ascii_alphabetic()).count() >= 2
}

/// Trimmed text of `min..=max` characters with no control characters but line breaks and
/// tabs.
fn clean_text(s: &str, min: usize, max: usize) -> Option<String> {
    let t = s.trim();
    let n = t.chars().count();
    let ok = (min..=max).contains(&n)
        && !t
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'));
    ok.then(|| t.to_string())
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

/// The option named by `word`: its number, value or an alias.
fn match_option(options: &[super::flow::Choice], word: &str) -> Option<usize> {
    if word.is_empty() {
        return None;
    }
    options.iter().enumerate().position(|(i, o)| {
        (i + 1).to_string() == word
            || normalize_word(&o.value) == word
            || o.aliases.iter().any(|a| normalize_word(a) == word)
    })
}

/// Several options, separated by spaces, commas, 、 or ；. The whole answer is first tried
/// as one option (aliases may contain spaces). Returns option indexes in option order.
fn match_multi(options: &[super::flow::Choice], word: &str) -> Option<Vec<usize>> {
    if let Some(i) = match_option(options, word) {
        return Some(vec![i]);
    }
    let mut picked = BTreeSet::new();
    for tok in word.split(|c: char| {
        c.is_whitespace() || matches!(c, ',' | '，' | '、' | ';' | '；' | '/' | '和')
    }) {
        let tok = normalize_word(tok);
        if tok.is_empty() {
            continue;
        }
        picked.insert(match_option(options, &tok)?);
    }
    (!picked.is_empty()).then(|| picked.into_iter().collect())
}

fn yes_no(words: &super::flow::Words, word: &str) -> Option<bool> {
    if words.yes.iter().any(|w| w == word) {
        Some(true)
    } else if words.no.iter().any(|w| w == word) {
        Some(false)
    } else {
        None
    }
}

/// An amount of money in yuan, as people type it, to integer fen. Accepts `1200`,
/// `1,200`, `1200.5`, `1200.50`, `1.2万`, `3千`, `2亿`, with an optional `¥`/`￥` before and
/// `元`/`块`/`块钱`/`yuan` after. No sign, at most as many decimals as the unit allows (two
/// for yuan), and at most 10^15 fen. Computed with integers only.
pub fn parse_amount_fen(s: &str) -> Option<i64> {
    let s = normalize_text(s).to_ascii_lowercase();
    let mut t = s.trim();
    for p in ["¥", "￥", "rmb", "人民币", "约", "大约", "大概"] {
        t = t.strip_prefix(p).unwrap_or(t).trim_start();
    }
    for suf in ["块钱", "块", "元", "yuan", "rmb", "左右"] {
        t = t.strip_suffix(suf).unwrap_or(t).trim_end();
    }
    // (unit suffix, fen per unit, decimals allowed)
    let (t, unit, decimals): (&str, i64, usize) = if let Some(x) = t.strip_suffix('亿') {
        (x, 10_000_000_000, 10)
    } else if let Some(x) = t.strip_suffix('万') {
        (x, 1_000_000, 6)
    } else if let Some(x) = t.strip_suffix('千') {
        (x, 100_000, 5)
    } else {
        (t, 100, 2)
    };
    let t = t.trim();
    let (int_part, frac_part) = match t.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (t, None),
    };
    // Integer part: digits, commas only between digits.
    if int_part.is_empty() || int_part.starts_with(',') || int_part.ends_with(',') {
        return None;
    }
    if int_part.contains(",,") {
        return None;
    }
    let mut value: i64 = 0;
    for c in int_part.chars() {
        match c {
            ',' => continue,
            '0'..='9' => {
                value = value
                    .checked_mul(10)?
                    .checked_add(i64::from(c as u8 - b'0'))?;
            }
            _ => return None,
        }
    }
    let mut fen = value.checked_mul(unit)?;
    if let Some(f) = frac_part {
        if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let f = f.trim_end_matches('0');
        if f.len() > decimals {
            return None;
        }
        // `unit` is 10^decimals × (fen per smallest decimal step); scale the fraction.
        let mut step = unit;
        for c in f.bytes() {
            step /= 10;
            fen = fen.checked_add(i64::from(c - b'0').checked_mul(step)?)?;
        }
    }
    (fen <= MAX_AMOUNT_FEN).then_some(fen)
}

/// Fen as yuan for people: `1,200` or `1,200.50` (grouped; see [`crate::domain::money`]).
pub use crate::domain::money::yuan_grouped as format_yuan;

/// `110105194912310021` → `110***********0021`.
pub fn mask_resident_id(id: &str) -> String {
    mask(id, 3, 4)
}

/// `13800138000` → `138****8000`.
pub fn mask_phone(p: &str) -> String {
    mask(p, 3, 4)
}

fn mask(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(chars.len() - head - tail));
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// When something happened, as a `(from, to)` range of dates not after `today`.
///
/// Accepted: `2025-03-05`, `2025/3/5`, `2025.3.5`, `2025年3月5日` (one day); `2025-03`,
/// `2025年3月` (that month, up to today); `今天`/`today`, `昨天`/`yesterday`, `前天`,
/// `本月`/`this month`, `上个月`/`last month`, `今年`/`this year`, `去年`/`last year`; and a
/// range of two of these joined by `至`, `到`, `~` or `to`.
pub fn parse_when(s: &str, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let w = normalize_word(s);
    for sep in ["至", "到", "~", "～", "—", " to "] {
        if let Some((a, b)) = w.split_once(sep) {
            let (from, _) = one_when(a.trim(), today)?;
            let (_, to) = one_when(b.trim(), today)?;
            return (from <= to).then_some((from, to));
        }
    }
    one_when(&w, today)
}

fn one_when(s: &str, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let day = |d: NaiveDate| Some((d, d));
    let month_of = |d: NaiveDate| d.with_day(1);
    match s {
        "今天" | "today" => return day(today),
        "昨天" | "yesterday" => return day(today.pred_opt()?),
        "前天" => return day(today.pred_opt()?.pred_opt()?),
        "本月" | "这个月" | "this month" => return Some((month_of(today)?, today)),
        "上个月" | "上月" | "last month" => {
            let first = month_of(today)?.checked_sub_months(Months::new(1))?;
            return Some((first, month_of(today)?.pred_opt()?));
        }
        "今年" | "this year" => {
            return Some((NaiveDate::from_ymd_opt(today.year(), 1, 1)?, today))
        }
        "去年" | "last year" => {
            let y = today.year() - 1;
            return Some((
                NaiveDate::from_ymd_opt(y, 1, 1)?,
                NaiveDate::from_ymd_opt(y, 12, 31)?,
            ));
        }
        _ => {}
    }
    let t: String = s
        .chars()
        .map(|c| match c {
            '年' | '月' | '/' | '.' => '-',
            '日' | '号' => ' ',
            c => c,
        })
        .collect();
    let t = t.trim().trim_end_matches('-');
    let parts: Vec<&str> = if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        vec![&t[..4], &t[4..6], &t[6..]]
    } else {
        t.split('-').map(str::trim).collect()
    };
    if parts
        .iter()
        .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let num = |p: &str| p.parse::<u32>().ok();
    let year = match parts.first() {
        Some(y) if y.len() == 4 => i32::try_from(num(y)?).ok()?,
        _ => return None,
    };
    if year < 1950 {
        return None;
    }
    match parts.as_slice() {
        [_, m] => {
            let first = NaiveDate::from_ymd_opt(year, num(m)?, 1)?;
            let last = first.checked_add_months(Months::new(1))?.pred_opt()?;
            (first <= today).then(|| (first, last.min(today)))
        }
        [_, m, d] => {
            let date = NaiveDate::from_ymd_opt(year, num(m)?, num(d)?)?;
            (date <= today).then_some((date, date))
        }
        _ => None,
    }
}
