//! The WeChat Official Account and WeCom bots (CONTRACT §4): one decoded push in, one reply
//! text out, with the conversation engine ([`dialog`]) in between.
//!
//! * **Once.** Each push has a keyed digest (platform, account, `MsgId`, or for events the
//!   sender and `CreateTime`). The first delivery inserts a `bot_pushes` row and handles the
//!   push; concurrent or later deliveries wait for that row and return the same (saved,
//!   sealed) reply. The conversation row is updated compare-and-set, so two different
//!   messages of one user handled at once on two instances are applied one after the other.
//! * **Fast.** Nothing slow runs in the request. Photos and voice messages are kept in the
//!   conversation by media id; once the report is filed, one `bot_media` outbox job per file
//!   downloads it from the platform, runs it through the evidence path and attaches it to the
//!   report (a file that cannot be used is reported to the user in a customer-service
//!   message). Media sent in a conversation that is never confirmed is never downloaded.
//! * **Identity.** The openid / WeCom user id is never stored in the clear: conversations are
//!   keyed by a keyed digest of it, and a filed report keeps it in the vault
//!   (`reporter_identity`, field `openid`), which is how feedback finds the user.

pub mod batch;
pub mod checks;
mod filing;
mod http;

pub use http::{routes, BotsDoc};
pub mod jobs;
pub mod platform;
pub mod store;
mod waiting;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use futures_util::future::BoxFuture;

use crate::config::Config;
use crate::deadlines::calendar::Calendar;
use crate::domain::{tracking, Channel};
use crate::error::AppError;
use crate::i18n::{self, Locale};
use crate::intake::followup::LookupLimits;
use crate::intake::parse::{parse_json, to_new_tip, RawReport};
use crate::intake::{IdempotencyKey, Intake, Receipt, Submitted};
use crate::store::Db;
use crate::vault::{IdentityField, Vault};
use crate::wechat::crypto::MsgCrypt;
use crate::wechat::xml::{Event, Inbound, MsgKind};
use checks::DomainChecks;
use dialog::{Action, Engine, Input, Msg, ReportDraft};

/// Largest callback body read (a text message is at most 2,048 characters).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// How long a request works on a push before answering "no reply" (the platform gives up
/// at 5 s and retries; the work goes on and the retry gets the saved reply).
pub const ANSWER_WITHIN: Duration = Duration::from_millis(4300);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    Wechat,
    Wecom,
}

impl Platform {
    pub fn code(self) -> &'static str {
        match self {
            Platform::Wechat => "wechat",
            Platform::Wecom => "wecom",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "wechat" => Some(Platform::Wechat),
            "wecom" => Some(Platform::Wecom),
            _ => None,
        }
    }

    pub fn channel(self) -> Channel {
        match self {
            Platform::Wechat => Channel::Wechat,
            Platform::Wecom => Channel::Wecom,
        }
    }
}

/// The database part of a push, done; what is left for after the commit.
enum Staged {
    Done(Owned),
    Action {
        replies: Vec<Msg>,
        locale: Locale,
        action: Action,
    },
}

/// What the owner of a push did.
enum Owned {
    /// Another delivery of the push holds it.
    NotOwner,
    /// Processed: the reply (`None`: no reply).
    Reply(Option<String>),
}

/// One configured account, ready to use.
pub struct Account {
    pub platform: Platform,
    pub name: String,
    pub token: crate::config::Secret,
    /// App id (Official Account) or corp id (WeCom): the receive id inside ciphertexts.
    pub receive_id: String,
    pub agent_id: i64,
    /// `None`: plaintext mode (Official Account without an EncodingAESKey).
    pub crypt: Option<MsgCrypt>,
    pub secret: Option<crate::config::Secret>,
    pub api_base: String,
    /// Official Account: template ids for notices outside the 48-hour window.
    pub templates: Templates,
}

/// An Official Account's template (or subscription) messages, by notice kind.
#[derive(Debug, Clone, Default)]
pub struct Templates {
    pub status: Option<String>,
    pub reward: Option<String>,
    pub subscribe: bool,
}

impl Templates {
    /// The template for a notice of `kind` (`status`, `reward`, `deadline`, `message`).
    pub fn for_kind(&self, kind: &str) -> Option<&str> {
        let t = if kind == "reward" {
            self.reward.as_ref().or(self.status.as_ref())
        } else {
            self.status.as_ref()
        };
        t.map(String::as_str).filter(|t| !t.trim().is_empty())
    }
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("platform", &self.platform)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Render engine messages with the service's Fluent catalogue.
pub fn render(msgs: &[Msg], locale: Locale) -> String {
    let localize = |id: &str, args: &[(String, String)]| {
        let args: Vec<(&str, String)> = args.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        i18n::t(locale, id, &args)
    };
    let mut out = String::new();
    for m in msgs {
        if !out.is_empty() {
            out.push_str(if m.line { "\n" } else { "\n\n" });
        }
        out.push_str(&m.render(&localize));
    }
    out
}

/// The bots: accounts, the engine, and what handling a push needs.
pub struct Bots {
    pub engine: Engine,
    accounts: HashMap<(Platform, String), Account>,
    pub db: Db,
    pub vault: Arc<Vault>,
    pub http: reqwest::Client,
    pub lookup_limits: LookupLimits,
    pub evidence_limits: crate::evidence::Limits,
    pub max_attempts: u32,
    /// `[server] public_url`, for the status-page link of template messages.
    pub public_url: String,
    /// Group commit of pushes (SQLite only).
    batch: Option<batch::Batcher<Staged>>,
}

impl Bots {
    /// Build from the configuration: flows from `bots/` when that folder exists (so a
    /// question can be changed without a rebuild), else the flows compiled in.
    pub fn new(config: &Config, db: Db, vault: Arc<Vault>) -> anyhow::Result<Self> {
        let dir = std::path::Path::new("bots");
        // Festivals in date answers (春节前后) come from the same holiday notices as the
        // deadlines.
        let calendar = Calendar::load(std::path::Path::new(&config.calendar.holidays_dir))
            .context("loading the holiday calendar for the bots")?;
        let checks = DomainChecks::new(calendar);
        let engine = if dir.join("report.toml").is_file() {
            Engine::load(dir, checks).context("loading the bot flows in bots/")?
        } else {
            Engine::built_in(checks)
        };
        let mut accounts = HashMap::new();
        for a in &config.wechat {
            let crypt = match a.encoding_aes_key.as_deref().filter(|k| !k.is_empty()) {
                Some(k) => Some(MsgCrypt::new(k, &a.appid).map_err(|e| {
                    anyhow::anyhow!("[[wechat]] account `{}`: encoding_aes_key: {e}", a.account)
                })?),
                None => None,
            };
            accounts.insert(
                (Platform::Wechat, a.account.clone()),
                Account {
                    platform: Platform::Wechat,
                    name: a.account.clone(),
                    token: a.token.clone(),
                    receive_id: a.appid.clone(),
                    agent_id: 0,
                    crypt,
                    secret: a.appsecret.clone().filter(|s| !s.is_empty()),
                    api_base: a.api_base.trim_end_matches('/').to_string(),
                    templates: Templates {
                        status: a.template_id_status.clone(),
                        reward: a.template_id_reward.clone(),
                        subscribe: a.template_api == crate::config::TemplateApi::Subscribe,
                    },
                },
            );
        }
        for a in &config.wecom {
            let crypt = MsgCrypt::new(&a.encoding_aes_key, &a.corp_id).map_err(|e| {
                anyhow::anyhow!("[[wecom]] account `{}`: encoding_aes_key: {e}", a.account)
            })?;
            accounts.insert(
                (Platform::Wecom, a.account.clone()),
                Account {
                    platform: Platform::Wecom,
                    name: a.account.clone(),
                    token: a.token.clone(),
                    receive_id: a.corp_id.clone(),
                    agent_id: a.agent_id,
                    crypt: Some(crypt),
                    secret: a.secret.clone().filter(|s| !s.is_empty()),
                    api_base: a.api_base.trim_end_matches('/').to_string(),
                    templates: Templates::default(),
                },
            );
        }
        Ok(Self {
            engine,
            accounts,
            vault,
            http: platform::client()?,
            lookup_limits: LookupLimits::of(&config.intake),
            evidence_limits: crate::channels::upload::evidence_limits(config),
            max_attempts: config.outbox.max_attempts,
            public_url: config.public_url(),
            batch: db
                .backend
                .group_small_writes()
                .then(|| batch::Batcher::start(db.clone())),
            db,
        })
    }

    pub fn account(&self, platform: Platform, name: &str) -> Option<&Account> {
        self.accounts.get(&(platform, name.to_string()))
    }

    /// The keyed digest naming one user of one account (never the openid itself).
    pub fn user_digest(&self, a: &Account, user: &str) -> [u8; 32] {
        self.vault.request_digest(&[
            b"bot-user",
            a.platform.code().as_bytes(),
            a.name.as_bytes(),
            user.as_bytes(),
        ])
    }

    /// The keyed digest naming one push, the same for every delivery of it.
    pub fn push_digest(&self, a: &Account, m: &Inbound) -> [u8; 32] {
        let ct = m.create_time.to_string();
        let (kind, id): (&[u8], &[u8]) = match &m.msg_id {
            Some(id) if !id.is_empty() => (b"msg", id.as_bytes()),
            _ => (b"event", ct.as_bytes()),
        };
        self.vault.request_digest(&[
            b"bot-push",
            a.platform.code().as_bytes(),
            a.name.as_bytes(),
            kind,
            m.from_user.as_bytes(),
            id,
        ])
    }

    /// Handle one authenticated, decoded push: the reply text, or `None` for no reply.
    /// Answers within [`ANSWER_WITHIN`]; retried deliveries get the first one's reply.
    pub async fn handle<H>(
        self: &Arc<Self>,
        host: Arc<H>,
        a: &Account,
        m: Inbound,
    ) -> Option<String>
    where
        H: AsRef<Intake> + Send + Sync + ?Sized + 'static,
    {
        let digest = self.push_digest(a, &m);
        let deadline = tokio::time::Instant::now() + ANSWER_WITHIN;
        let mut claimed = false;
        loop {
            // The work runs in its own task: if it outlives the answer deadline it still
            // finishes and saves its reply for the platform's retry.
            let this = self.clone();
            let host = host.clone();
            let (platform, name, msg) = (a.platform, a.name.clone(), m.clone());
            let task = tokio::spawn(async move {
                let a = this.account(platform, &name)?;
                Some(
                    this.process_owned((*host).as_ref(), a, &digest, &msg, claimed)
                        .await,
                )
            });
            match tokio::time::timeout_at(deadline, task).await {
                Ok(Ok(Some(Owned::Reply(reply)))) => return reply,
                Ok(Ok(Some(Owned::NotOwner))) => {}
                Ok(Ok(None)) => return None,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "bot push task failed");
                    let _ = store::release_push(&self.db, &digest).await;
                    return None;
                }
                Err(_) => {
                    tracing::warn!("bot push took longer than the answer deadline");
                    return None;
                }
            }
            // Another delivery of the same push is being handled: wait for its answer.
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match store::wait_for_push(&self.db, &self.vault, &digest, left).await {
                Ok(store::Claim::Done(reply)) => return reply,
                // Its handler failed or died: this delivery takes over.
                Ok(store::Claim::Owner) if !claimed => claimed = true,
                // Still being worked on: no reply now; the platform retries and a later
                // delivery finds the answer.
                Ok(_) => return None,
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "bot push lookup failed");
                    return None;
                }
            }
        }
    }

    async fn process_owned(
        self: &Arc<Self>,
        intake: &Intake,
        a: &Account,
        digest: &[u8; 32],
        m: &Inbound,
        claimed: bool,
    ) -> Owned {
        match self.process(intake, a, digest, m, claimed).await {
            Ok(owned) => owned,
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "bot push failed");
                let _ = store::release_push(&self.db, digest).await;
                Owned::Reply(Some(self.internal_error_text(Locale::ZhCn)))
            }
        }
    }

    fn internal_error_text(&self, locale: Locale) -> String {
        i18n::t(locale, "bots-internal-error", &[])
    }

    /// Map a push to the engine's input; `Err` carries a direct answer for pushes the
    /// engine does not take (`None`: no reply at all).
    fn input_of(&self, m: &Inbound) -> Result<Input, Option<&'static str>> {
        match m.kind() {
            MsgKind::Text { content } => Ok(Input::Text(content.to_string())),
            MsgKind::Image {
                media_id: Some(id), ..
            } if !id.is_empty() => Ok(Input::Image {
                media_id: id.to_string(),
            }),
            MsgKind::Voice {
                media_id: Some(id),
                recognition,
                ..
            } if !id.is_empty() => Ok(Input::Voice {
                media_id: id.to_string(),
                recognition: recognition.map(str::to_string),
            }),
            MsgKind::Location { x, y, label } => {
                let num = |v: Option<&str>| v.and_then(|s| s.trim().parse::<f64>().ok());
                match (num(x), num(y)) {
                    (Some(x), Some(y)) if x.is_finite() && y.is_finite() => Ok(Input::Location {
                        x,
                        y,
                        label: label.unwrap_or_default().to_string(),
                    }),
                    _ => Err(Some("bots-unknown")),
                }
            }
            MsgKind::Link { title, url } => Ok(Input::Link {
                title: title.unwrap_or_default().to_string(),
                url: url.unwrap_or_default().to_string(),
            }),
            MsgKind::Event(Event::Subscribe { .. }) => Ok(Input::Command(dialog::Cmd::Subscribe)),
            MsgKind::Event(Event::Click { key }) => match self.engine.command_for_key(key) {
                Some(c) => Ok(Input::Command(c)),
                None => Err(Some("bots-unknown")),
            },
            // Unfollow, menu links, location reports, entering a WeCom app: no reply.
            MsgKind::Event(_) => Err(None),
            _ => Err(Some("bots-unknown")),
        }
    }

    /// Step the user's conversation and carry out its action. The claim, the conversation
    /// update and the saved reply are one transaction (on SQLite shared with the other
    /// pushes of the moment: [`batch`]); a push whose action files or looks up a report
    /// commits before the action and saves its reply after it.
    async fn process(
        self: &Arc<Self>,
        intake: &Intake,
        a: &Account,
        digest: &[u8; 32],
        m: &Inbound,
        claimed: bool,
    ) -> anyhow::Result<Owned> {
        let user = self.user_digest(a, &m.from_user);
        let sealer = self.vault.sealer().await?;
        let staged = match &self.batch {
            Some(batch) => {
                let (this, sealer, digest, m) = (self.clone(), sealer.clone(), *digest, m.clone());
                let work: batch::Work<Staged> =
                    Box::new(move |ex: &mut dyn crate::store::Exec| -> BoxFuture<'_, _> {
                        Box::pin(async move {
                            this.stage(ex, &sealer, &digest, &user, &m, claimed).await
                        })
                    });
                batch.run(work).await?
            }
            None => {
                let mut tx = self.db.begin().await?;
                let staged = self
                    .stage(&mut tx, &sealer, digest, &user, m, claimed)
                    .await?;
                tx.commit().await?;
                staged
            }
        };
        let (mut replies, locale, action) = match staged {
            Staged::Done(owned) => return Ok(owned),
            Staged::Action {
                replies,
                locale,
                action,
            } => (replies, locale, action),
        };
        match action {
            Action::FileReport(draft) => {
                replies.extend(self.file_report(intake, a, digest, m, *draft, locale).await);
            }
            Action::LookupStatus {
                tracking_code,
                passcode,
            } => {
                replies.push(
                    self.lookup(intake, &user, &tracking_code, &passcode, locale)
                        .await,
                );
            }
        }
        let mut conn = self.db.pool.acquire().await?;
        let reply = Some(render(&replies, locale));
        let reply = self.with_waiting(&mut *conn, &user, reply).await?;
        store::save_reply(&mut *conn, &sealer, digest, reply.as_deref()).await?;
        Ok(Owned::Reply(reply))
    }

    /// The database part of a push, inside the caller's transaction: claim, step, save.
    async fn stage(
        &self,
        conn: &mut dyn crate::store::Exec,
        sealer: &crate::vault::Sealer,
        digest: &[u8; 32],
        user: &[u8; 32],
        m: &Inbound,
        claimed: bool,
    ) -> anyhow::Result<Staged> {
        if !claimed && !store::insert_claim(&mut *conn, digest).await? {
            return Ok(Staged::Done(Owned::NotOwner));
        }
        let input = if matches!(m.kind(), MsgKind::Event(Event::Unsubscribe)) {
            store::delete_conversation(&mut *conn, user).await?;
            Err(None)
        } else {
            self.input_of(m)
        };
        for _ in 0..5 {
            let loaded = store::load_conversation(&mut *conn, &self.vault, user).await?;
            let input = match &input {
                Ok(i) => i.clone(),
                Err(direct) => {
                    let locale = loaded
                        .state
                        .as_ref()
                        .map_or(Locale::ZhCn, |s| s.locale.into());
                    let reply = direct.map(|id| render(&[Msg::new(id)], locale));
                    let reply = self.with_waiting(&mut *conn, user, reply).await?;
                    store::save_reply(&mut *conn, sealer, digest, reply.as_deref()).await?;
                    return Ok(Staged::Done(Owned::Reply(reply)));
                }
            };
            let now = Utc::now();
            let out = self
                .engine
                .step(loaded.state.clone(), input, now.timestamp());
            if !store::save_conversation(&mut *conn, sealer, user, &loaded, out.state.as_ref(), now)
                .await?
            {
                // Another message of this user got in first: step again from its state.
                continue;
            }
            let locale = Locale::from(out.locale);
            return Ok(match out.action {
                None => {
                    let reply = Some(render(&out.replies, locale));
                    let reply = self.with_waiting(&mut *conn, user, reply).await?;
                    store::save_reply(&mut *conn, sealer, digest, reply.as_deref()).await?;
                    Staged::Done(Owned::Reply(reply))
                }
                Some(action) => Staged::Action {
                    replies: out.replies,
                    locale,
                    action,
                },
            });
        }
        anyhow::bail!("conversation kept changing")
    }
}
