//! Flow files: guided conversations written as data (`bots/*.toml`), read and checked
//! before the engine uses them.
//!
//! A flow file names its `id`, the `start` step, an optional `intro` message shown when the
//! flow begins, and a list of `[[step]]` tables:
//!
//! ```toml
//! [[step]]
//! id = "target_kind"          # unique in the file
//! ask = "bots-report-ask-kind" # Fluent id of the question
//! hint = "bots-hint-choice"   # optional: shown when the answer is not understood
//! slot = "target_kind"        # where the answer is kept (unique in the file)
//! optional = false            # true: the user may answer 跳过 / skip
//! next = "place"              # the step after this one …
//! [step.expect]               # … what kind of answer is wanted
//! kind = "choice"
//! [[step.expect.options]]
//! value = "hospital"
//! label = "bots-kind-hospital"
//! aliases = ["医院"]
//! [[step.branch]]             # optional: checked in order before `next`
//! if_slot = "anonymous"
//! equals = "yes"
//! goto = "confirm"
//! ```
//!
//! A step either goes on (`next`, optionally preceded by `branch`es) or ends the flow with
//! `finish = "file_report" | "lookup_status"`. `expect` is either a bare kind
//! (`expect = "phone"`) or a table with the kind's parameters; see [`Expect`].
//!
//! The file `menu.toml` is not a flow: it holds the global command words and the small
//! vocabularies (skip, done, yes, no), see [`Menu`].

mod raw;
mod understand;

pub use understand::Understand;

use raw::*;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

use serde::Deserialize;

/// Why a flow or menu file was refused. Every variant names the file; step problems also
/// name the step.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error("{file}: cannot be read: {message}")]
    Io { file: String, message: String },
    #[error("{file}: not a valid flow file: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: step `{step}`: {problem}")]
    Step {
        file: String,
        step: String,
        problem: Problem,
    },
    #[error("{file}: {problem}")]
    File { file: String, problem: String },
}

/// What is wrong with one step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("unknown expect kind `{0}`")]
    UnknownExpect(String),
    #[error("bad expect: {0}")]
    BadExpect(String),
    #[error("`next` or `goto` points to `{0}`, which is not a step of this flow")]
    DanglingNext(String),
    #[error("slot `{0}` is already used by another step")]
    DuplicateSlot(String),
    #[error("another step has the same id")]
    DuplicateStep,
    #[error("cannot be reached from the start step")]
    Unreachable,
    #[error("has neither `next` nor `finish`")]
    NoWayOn,
    #[error("has both `finish` and `next`/`branch`")]
    FinishAndNext,
    #[error("unknown finish action `{0}`")]
    UnknownFinish(String),
    #[error("branch tests slot `{0}`, which no step fills")]
    UnknownBranchSlot(String),
    #[error("finish action needs slot `{0}`, which no step fills")]
    FinishNeedsSlot(String),
    #[error("needs a `slot`")]
    NeedsSlot,
    #[error("message id `{0}` is empty or not a valid Fluent id")]
    BadMessageId(String),
}

/// What ends a flow, handed to the main crate as an [`super::Action`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// Build a [`super::ReportDraft`] from the slots and file it.
    FileReport,
    /// Look up a report by the `tracking_code` and `passcode` slots.
    LookupStatus,
}

impl Finish {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "file_report" => Some(Finish::FileReport),
            "lookup_status" => Some(Finish::LookupStatus),
            _ => None,
        }
    }

    /// The slots the action reads and cannot do without.
    pub fn required_slots(self) -> &'static [&'static str] {
        match self {
            Finish::FileReport => &["description", "categories", "target_name", "target_kind"],
            Finish::LookupStatus => &["tracking_code", "passcode"],
        }
    }
}

/// One option of a `choice` or `multi_choice` step. The user may answer with its number
/// (1-based, in file order), its `value`, or any alias (compared ignoring ASCII case).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub value: String,
    /// Fluent id of the text shown in the numbered list and the summary.
    pub label: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Words and phrases that point to this option inside a longer answer or a
    /// description (`*` stands for up to eight characters: `拿*医保卡`).
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Name endings that imply this option (`卫生室`, `大药房`).
    #[serde(default)]
    pub endings: Vec<String>,
    /// A slot an earlier step must have filled for this option to be offered (`phone`:
    /// SMS only to a reporter who gave a mobile number). A hidden option is neither
    /// listed nor numbered nor understood.
    #[serde(default)]
    pub needs: Option<String>,
}

/// The kind of answer a step wants.
///
/// | kind | parameters | stored in the slot |
/// |---|---|---|
/// | `text` | `min`, `max` characters (default 1, 500) | the trimmed text |
/// | `choice` | `options` | the option's `value` |
/// | `multi_choice` | `options` | array of values, in option order, no repeats |
/// | `yes_no` | – | `"yes"` or `"no"` |
/// | `date` | – | `{ "from": "YYYY-MM-DD", "to": "YYYY-MM-DD" }` |
/// | `amount_yuan` | – | integer fen (an estimate said as a range, `两三千`, holds its middle in whole yuan; the range is kept under `{slot}:estimate`) |
/// | `region` | – | 6-digit code (checked by [`super::Checks::region`]) |
/// | `resident_id` | – | normalized ID number ([`super::Checks::resident_id`]) |
/// | `phone` | – | normalized mobile number ([`super::Checks::phone`]) |
/// | `id_last6` | – | the last 6 characters of an ID number, `X` upper case ([`super::Checks::id_last6`]) |
/// | `media` | `max` items (default 20) | number of items; the items go to `media` |
/// | `location` | – | `{ "label", "x"?, "y"?, "region_code"? }` |
/// | `digits` | `len` | the digits, spaces and dashes removed |
/// | `summary_confirm` | `title`, `lines` (slot names) | `"yes"` |
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    Text {
        min: usize,
        max: usize,
    },
    Choice {
        options: Vec<Choice>,
    },
    MultiChoice {
        options: Vec<Choice>,
    },
    YesNo,
    Date,
    AmountYuan,
    Region,
    ResidentId,
    IdLast6,
    Phone,
    /// An e-mail address (asked only of a reporter who chose to be told by e-mail).
    Email,
    Media {
        max: usize,
    },
    Location,
    Digits {
        len: usize,
    },
    SummaryConfirm {
        title: String,
        lines: Vec<String>,
    },
}

impl Expect {
    /// The kind's name as written in flow files.
    pub fn kind(&self) -> &'static str {
        match self {
            Expect::Text { .. } => "text",
            Expect::Choice { .. } => "choice",
            Expect::MultiChoice { .. } => "multi_choice",
            Expect::YesNo => "yes_no",
            Expect::Date => "date",
            Expect::AmountYuan => "amount_yuan",
            Expect::Region => "region",
            Expect::ResidentId => "resident_id",
            Expect::IdLast6 => "id_last6",
            Expect::Phone => "phone",
            Expect::Email => "email",
            Expect::Media { .. } => "media",
            Expect::Location => "location",
            Expect::Digits { .. } => "digits",
            Expect::SummaryConfirm { .. } => "summary_confirm",
        }
    }

    /// The message shown for an answer that is not understood when the step names no
    /// `hint` of its own.
    pub fn default_hint(&self) -> &'static str {
        match self {
            Expect::Text { .. } => "bots-hint-text",
            Expect::Choice { .. } => "bots-hint-choice",
            Expect::MultiChoice { .. } => "bots-hint-multi",
            Expect::YesNo => "bots-hint-yes-no",
            Expect::Date => "bots-hint-date",
            Expect::AmountYuan => "bots-hint-amount",
            Expect::Region => "bots-hint-region",
            Expect::ResidentId => "bots-hint-resident-id",
            Expect::IdLast6 => "bots-hint-id-last6",
            Expect::Phone => "bots-hint-phone",
            Expect::Email => "bots-hint-email",
            Expect::Media { .. } => "bots-hint-media",
            Expect::Location => "bots-hint-location",
            Expect::Digits { .. } => "bots-hint-digits",
            Expect::SummaryConfirm { .. } => "bots-hint-confirm",
        }
    }

    /// Options of a choice step (empty for other kinds).
    pub fn options(&self) -> &[Choice] {
        match self {
            Expect::Choice { options } | Expect::MultiChoice { options } => options,
            _ => &[],
        }
    }
}

/// A conditional jump: when slot `if_slot` holds the string `equals`, go to `goto`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Branch {
    pub if_slot: String,
    pub equals: String,
    pub goto: String,
}

/// One question of a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub id: String,
    pub ask: String,
    pub hint: Option<String>,
    pub expect: Expect,
    pub optional: bool,
    pub slot: Option<String>,
    pub next: Option<String>,
    pub branch: Vec<Branch>,
    pub finish: Option<Finish>,
    /// What the step understands beyond its answer (offers, inference, "I don't know").
    pub understand: Understand,
}

impl Step {
    /// The hint for an answer that is not understood.
    pub fn hint_id(&self) -> &str {
        self.hint
            .as_deref()
            .unwrap_or_else(|| self.expect.default_hint())
    }
}

/// A checked flow: every jump lands on a step, every step is reachable, slots are unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    pub id: String,
    pub start: String,
    pub intro: Option<String>,
    pub steps: Vec<Step>,
    /// The file it came from (for messages).
    pub file: String,
}

impl Flow {
    /// The step with this id.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// Every name ending of the flow's options (the names a description may hold).
    pub fn name_endings(&self) -> Vec<String> {
        let mut e: Vec<String> = self
            .steps
            .iter()
            .flat_map(|s| {
                s.expect
                    .options()
                    .iter()
                    .flat_map(|o| o.endings.iter().cloned())
            })
            .collect();
        e.sort();
        e.dedup();
        e
    }

    /// The step that fills this slot.
    pub fn step_for_slot(&self, slot: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.slot.as_deref() == Some(slot))
    }

    /// Every Fluent id the flow can show.
    pub fn message_ids(&self) -> BTreeSet<String> {
        let mut ids = BTreeSet::new();
        ids.extend(self.intro.clone());
        for s in &self.steps {
            ids.insert(s.ask.clone());
            ids.insert(s.hint_id().to_string());
            ids.extend(s.expect.options().iter().map(|o| o.label.clone()));
            ids.extend(s.understand.message_ids().cloned());
            if let Expect::SummaryConfirm { title, lines } = &s.expect {
                ids.insert(title.clone());
                ids.extend(lines.iter().map(|l| summary_line_id(title, l)));
            }
        }
        ids
    }

    /// Read and check one flow file. `file` is only used in error messages.
    pub fn from_toml(file: &str, text: &str) -> Result<Flow, FlowError> {
        let raw: RawFlow = toml::from_str(text).map_err(|e| FlowError::Parse {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        let file_err = |problem: String| FlowError::File {
            file: file.to_string(),
            problem,
        };
        let step_err = |step: &str, problem: Problem| FlowError::Step {
            file: file.to_string(),
            step: step.to_string(),
            problem,
        };
        if raw.id.trim().is_empty() {
            return Err(file_err("the flow has no `id`".into()));
        }
        if raw.steps.is_empty() {
            return Err(file_err("the flow has no steps".into()));
        }
        if let Some(intro) = &raw.intro {
            check_id(intro).map_err(|p| file_err(p.to_string()))?;
        }

        let mut steps = Vec::with_capacity(raw.steps.len());
        let mut ids = BTreeSet::new();
        let mut slots = BTreeSet::new();
        for rs in raw.steps {
            let id = rs.id.clone();
            if !ids.insert(id.clone()) {
                return Err(step_err(&id, Problem::DuplicateStep));
            }
            let step = rs.into_step().map_err(|p| step_err(&id, p))?;
            if let Some(slot) = &step.slot {
                if !slots.insert(slot.clone()) {
                    return Err(step_err(&id, Problem::DuplicateSlot(slot.clone())));
                }
            }
            steps.push(step);
        }

        if !ids.contains(&raw.start) {
            return Err(file_err(format!(
                "start step `{}` is not a step of this flow",
                raw.start
            )));
        }
        for s in &steps {
            let targets = s.next.iter().chain(s.branch.iter().map(|b| &b.goto));
            for t in targets {
                if !ids.contains(t) {
                    return Err(step_err(&s.id, Problem::DanglingNext(t.clone())));
                }
            }
            for o in s.expect.options() {
                if let Some(n) = o.needs.as_ref().filter(|n| !slots.contains(*n)) {
                    return Err(step_err(
                        &s.id,
                        Problem::BadExpect(format!(
                            "option `{}` needs slot `{n}`, which no step fills",
                            o.value
                        )),
                    ));
                }
            }
            for r in s.understand.reads() {
                if !slots.contains(r) {
                    return Err(step_err(
                        &s.id,
                        Problem::BadExpect(format!("reads slot `{r}`, which no step fills")),
                    ));
                }
            }
            for b in &s.branch {
                if !slots.contains(&b.if_slot) {
                    return Err(step_err(
                        &s.id,
                        Problem::UnknownBranchSlot(b.if_slot.clone()),
                    ));
                }
            }
            if let Some(f) = s.finish {
                for need in f.required_slots() {
                    if !slots.contains(*need) {
                        return Err(step_err(&s.id, Problem::FinishNeedsSlot(need.to_string())));
                    }
                }
            }
            if let Expect::SummaryConfirm { lines, .. } = &s.expect {
                for l in lines {
                    if !slots.contains(l) {
                        return Err(step_err(
                            &s.id,
                            Problem::BadExpect(format!("summary line `{l}` is not a slot")),
                        ));
                    }
                }
            }
        }
        if !steps.iter().any(|s| s.finish.is_some()) {
            return Err(file_err("no step has a `finish` action".into()));
        }

        // Reachability from the start step.
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::from([raw.start.clone()]);
        while let Some(id) = queue.pop_front() {
            if !seen.insert(id.clone()) {
                continue;
            }
            if let Some(s) = steps.iter().find(|s| s.id == id) {
                queue.extend(s.next.iter().cloned());
                queue.extend(s.branch.iter().map(|b| b.goto.clone()));
            }
        }
        if let Some(s) = steps.iter().find(|s| !seen.contains(&s.id)) {
            return Err(step_err(&s.id, Problem::Unreachable));
        }

        Ok(Flow {
            id: raw.id,
            start: raw.start,
            intro: raw.intro,
            steps,
            file: file.to_string(),
        })
    }
}

/// The Fluent id of one summary line: `{title}-{slot}` with `_` in the slot written `-`.
pub fn summary_line_id(title: &str, slot: &str) -> String {
    format!("{title}-{}", slot.replace('_', "-"))
}

/// Fluent identifiers: an ASCII letter, then letters, digits, `-` and `_`.
fn check_id(id: &str) -> Result<(), Problem> {
    let mut chars = id.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Problem::BadMessageId(id.to_string()))
    }
}

/// Global commands, recognised in any state before the flow sees the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cmd {
    /// Start the guided report (`举报`, `report`, menu key `REPORT`).
    Report,
    /// Start the status lookup (`查询`, `status`, menu key `QUERY`).
    Status,
    /// Explain what the bot can do (`帮助`, `help`, menu key `HELP`).
    Help,
    /// Leave the current flow (`取消`, `cancel`).
    Cancel,
    /// The user followed the account: send the welcome.
    Subscribe,
    /// Switch to English.
    English,
    /// Switch to Chinese.
    Chinese,
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Cmd::Report => "report",
            Cmd::Status => "status",
            Cmd::Help => "help",
            Cmd::Cancel => "cancel",
            Cmd::Subscribe => "subscribe",
            Cmd::English => "english",
            Cmd::Chinese => "chinese",
        };
        f.write_str(s)
    }
}

/// One command's words (`menu.toml`, `[[command]]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandWords {
    pub cmd: Cmd,
    /// Chinese words: using one switches the conversation to Chinese.
    #[serde(default)]
    pub zh: Vec<String>,
    /// English words: using one switches the conversation to English.
    #[serde(default)]
    pub en: Vec<String>,
    /// Words that keep the current language (menu keys typed as text, symbols).
    #[serde(default)]
    pub neutral: Vec<String>,
    /// Words understood only outside a flow (e.g. "1" for report after the welcome).
    #[serde(default)]
    pub idle: Vec<String>,
    /// Menu click keys (`EventKey`) mapped to this command.
    #[serde(default)]
    pub keys: Vec<String>,
}

/// Small vocabularies used by several answer kinds (`menu.toml`, `[words]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Words {
    pub skip: Vec<String>,
    pub done: Vec<String>,
    pub yes: Vec<String>,
    pub no: Vec<String>,
}

/// The contents of `menu.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Menu {
    pub words: Words,
    #[serde(rename = "command")]
    pub commands: Vec<CommandWords>,
}

impl Menu {
    /// Read and check `menu.toml`: every word names one command only, and the commands the
    /// engine relies on are present.
    pub fn from_toml(file: &str, text: &str) -> Result<Menu, FlowError> {
        let mut menu: Menu = toml::from_str(text).map_err(|e| FlowError::Parse {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        let err = |problem: String| FlowError::File {
            file: file.to_string(),
            problem,
        };
        let mut seen: BTreeMap<String, Cmd> = BTreeMap::new();
        for c in &mut menu.commands {
            for list in [&mut c.zh, &mut c.en, &mut c.neutral, &mut c.idle] {
                for w in list.iter_mut() {
                    *w = super::engine::normalize_word(w);
                    if w.is_empty() {
                        return Err(err(format!("command `{}` has an empty word", c.cmd)));
                    }
                    if let Some(other) = seen.insert(w.clone(), c.cmd) {
                        if other != c.cmd {
                            return Err(err(format!(
                                "word `{w}` is used by both `{other}` and `{}`",
                                c.cmd
                            )));
                        }
                    }
                }
            }
        }
        for need in [Cmd::Report, Cmd::Status, Cmd::Help, Cmd::Cancel] {
            if !menu.commands.iter().any(|c| c.cmd == need) {
                return Err(err(format!("command `{need}` is missing")));
            }
        }
        let w = &mut menu.words;
        for list in [&mut w.skip, &mut w.done, &mut w.yes, &mut w.no] {
            for x in list.iter_mut() {
                *x = super::engine::normalize_word(x);
            }
        }
        Ok(menu)
    }
}
