//! What a conversation holds and what one step returns: the stored state, inbound
//! messages and media, the caller's action, and the report draft the guided flow builds.

#[allow(unused_imports)]
use super::engine::*;
#[allow(unused_imports)]
use super::*;
#[allow(unused_imports)]
use serde::{Deserialize, Serialize};
#[allow(unused_imports)]
use serde_json::{json, Map, Value};
#[allow(unused_imports)]
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

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
    /// The reporter did not know the category ("不知道是哪一类"): `categories` is `other`
    /// and staff should classify the tip. Not part of the JSON (CONTRACT §3 has no such
    /// field); the service records it on the case.
    pub needs_classification: bool,
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
    /// Asked only of a named reporter who chose to be told by e-mail.
    pub email: Option<String>,
    pub relation: Option<String>,
    /// The last 6 characters of the reporter's ID number, so that a reward by transfer
    /// reaches them and not whoever holds the passcode; stored by the service only as a
    /// keyed digest.
    pub claim_verifier: Option<String>,
    /// How the reporter wants to be told (`channel`, `sms`, `page`; `None`: the channel
    /// they came from), the report's `reporter.notify_by`.
    pub notify_by: Option<String>,
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
            .field("email", &has(&self.email))
            .field("relation", &self.relation)
            .field("claim_verifier", &has(&self.claim_verifier))
            .field("notify_by", &self.notify_by)
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
            ("email", &r.email),
            ("relation", &r.relation),
            ("claim_verifier", &r.claim_verifier),
            ("notify_by", &r.notify_by),
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
