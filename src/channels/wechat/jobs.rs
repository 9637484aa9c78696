//! Outbox work for the bots: fetching chat media into a filed report (`bot_media`), telling
//! the user about a file that could not be used (`bot_message`), feedback on status changes
//! (a [`Sender`] for the `wechat` and `wecom` channels), and purging old bot rows.
//!
//! Payloads hold opaque ids only (report id, account name, the platform's media id): the
//! user's openid is opened from the report's sealed identity at the moment of sending.

use std::sync::Arc;

use chrono::Utc;
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use super::platform::TemplateOutcome;
use super::{Bots, Platform};
use crate::i18n::{self, Locale};
use crate::notify::worker::{JobError, Periodic};
use crate::notify::Run;
use crate::notify::{Claimed, NewJob};
use crate::vault::{IdentityField, SealedIdentity};
use crate::workflow::feedback::{Delivery, Notice, Sender};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MediaJob {
    pub report_id: String,
    pub media_id: String,
    /// `image` or `voice`.
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessageJob {
    pub report_id: String,
    /// A `bots-*` message id; rendered in the report's locale with `tracking_code`.
    pub message: String,
}

impl crate::notify::Job for MediaJob {
    const KIND: &'static str = "bot_media";
    /// Each picture or voice message is fetched once.
    fn dedupe_key(&self) -> Option<String> {
        Some(format!(
            "{}:{}:{}",
            Self::KIND,
            self.report_id,
            self.media_id
        ))
    }
}

impl crate::notify::Job for MessageJob {
    const KIND: &'static str = "bot_message";
}

/// Where a report's bot user is: the platform, the account, and the sealed openid.
struct Reporter {
    platform: Platform,
    account: String,
    user: String,
    locale: Locale,
    tracking_code: String,
}

impl Bots {
    async fn reporter(&self, report_id: &str) -> Result<Reporter, JobError> {
        let row: Option<(String, String, String, String)> = sqlx::query_as(
            "SELECT b.platform, b.account, r.locale, r.tracking_code FROM bot_reporters b \
             JOIN reports r ON r.id = b.report_id WHERE b.report_id = $1",
        )
        .bind(report_id)
        .fetch_optional(&self.db.pool)
        .await
        .map_err(JobError::retry)?;
        let (platform, account, locale, tracking_code) =
            row.ok_or_else(|| JobError::permanent("not_a_bot_report"))?;
        let platform = Platform::parse(&platform)
            .ok_or_else(|| JobError::permanent("unknown_bot_platform"))?;
        let sealed = SealedIdentity::load(&self.db.pool, report_id)
            .await
            .map_err(JobError::retry)?
            .ok_or_else(|| JobError::permanent("no_sealed_identity"))?;
        let identity = self
            .vault
            .open_identity(report_id, &sealed)
            .await
            .map_err(JobError::retry)?;
        let user = identity
            .get(IdentityField::Openid)
            .ok_or_else(|| JobError::permanent("no_chat_user"))?
            .to_string();
        Ok(Reporter {
            platform,
            account,
            user,
            locale: Locale::parse(&locale).unwrap_or_default(),
            tracking_code,
        })
    }

    async fn run_media(&self, j: MediaJob) -> Result<(), JobError> {
        let (platform, account): (String, String) =
            sqlx::query_as("SELECT platform, account FROM bot_reporters WHERE report_id = $1")
                .bind(&j.report_id)
                .fetch_optional(&self.db.pool)
                .await
                .map_err(JobError::retry)?
                .ok_or_else(|| JobError::permanent("not_a_bot_report"))?;
        let a = Platform::parse(&platform)
            .and_then(|p| self.account(p, &account))
            .ok_or_else(|| JobError::permanent("bot_account_gone"))?;
        let bytes = match self.fetch_media(a, &j.media_id).await {
            Ok(b) => b,
            Err(JobError::Permanent(m)) => {
                self.tell_unusable(&j.report_id).await?;
                return Err(JobError::Permanent(m));
            }
            Err(e) => return Err(e),
        };
        let limits = self.evidence_limits.clone();
        let processed =
            tokio::task::spawn_blocking(move || crate::evidence::process(bytes, &limits))
                .await
                .map_err(JobError::retry)?;
        let processed = match processed {
            Ok(p) => p,
            Err(e) => {
                // A file we cannot use: the user hears about it; the job is done.
                tracing::info!(report_id = %j.report_id, reason = %e, "chat media refused");
                self.tell_unusable(&j.report_id).await?;
                return Ok(());
            }
        };
        let keys = self
            .vault
            .case_keys_for(&j.report_id)
            .await
            .map_err(JobError::retry)?;
        let mut tx = self.db.begin().await.map_err(JobError::retry)?;
        let next_seq: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(seq), -1) + 1 FROM evidence WHERE report_id = $1",
        )
        .bind(&j.report_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(JobError::retry)?;
        let row = crate::intake::seal_evidence(
            &keys,
            &j.report_id,
            next_seq as usize,
            None,
            processed,
            Utc::now(),
        );
        crate::intake::committer::insert_evidence(&mut tx, &row)
            .await
            .map_err(JobError::retry)?;
        tx.commit().await.map_err(JobError::retry)?;
        tracing::info!(report_id = %j.report_id, kind = %j.kind, "chat media attached");
        Ok(())
    }

    /// Queue a "could not use your file" message for the report's user.
    async fn tell_unusable(&self, report_id: &str) -> Result<(), JobError> {
        let mut tx = self.db.begin().await.map_err(JobError::retry)?;
        let payload = MessageJob {
            report_id: report_id.to_string(),
            message: "bots-media-failed".into(),
        };
        crate::notify::enqueue(&mut tx, &NewJob::of(&payload), self.max_attempts)
            .await
            .map_err(JobError::retry)?;
        tx.commit().await.map_err(JobError::retry)?;
        Ok(())
    }

    async fn run_message(&self, j: MessageJob) -> Result<(), JobError> {
        if !j.message.starts_with("bots-") {
            return Err(JobError::permanent("not_a_bot_message"));
        }
        let r = self.reporter(&j.report_id).await?;
        let text = i18n::t(
            r.locale,
            &j.message,
            &[("tracking_code", r.tracking_code.clone())],
        );
        let a = self
            .account(r.platform, &r.account)
            .ok_or_else(|| JobError::permanent("bot_account_gone"))?;
        self.send_text(a, &r.user, &text).await
    }

    /// A notice through the chat: a customer-service message inside the 48-hour window;
    /// outside it (45015) the account's template or subscription message; when neither can
    /// be sent (no template, unfollowed, not subscribed) it waits for the user's next
    /// message, whose reply gives it ([`super::waiting`]).
    async fn send_notice(&self, n: &Notice) -> Result<Delivery, JobError> {
        let r = self.reporter(&n.report_id).await?;
        let a = self
            .account(r.platform, &r.account)
            .ok_or_else(|| JobError::permanent("bot_account_gone"))?;
        let text = i18n::t(
            n.locale,
            "bots-feedback-update",
            &[
                ("tracking_code", r.tracking_code.clone()),
                ("update", n.text.clone()),
            ],
        );
        let waiting = |reason: &'static str| -> Result<Delivery, JobError> {
            Ok(Delivery::Waiting {
                reason,
                user: Some(self.user_digest(a, &r.user).to_vec()),
            })
        };
        let refused = match self.send_text(a, &r.user, &text).await {
            Ok(()) => {
                return Ok(Delivery::Sent(match r.platform {
                    Platform::Wechat => "wechat_service",
                    Platform::Wecom => "wecom",
                }))
            }
            Err(JobError::Permanent(code)) => code,
            Err(e) => return Err(e),
        };
        match (refused.as_str(), r.platform) {
            ("platform_45015", Platform::Wechat) => {
                match self.send_template(a, &r.user, n).await? {
                    TemplateOutcome::Sent(via) => Ok(Delivery::Sent(via)),
                    TemplateOutcome::NotConfigured => waiting("outside_48h_no_template"),
                    TemplateOutcome::Refused(why) => waiting(why),
                }
            }
            ("platform_43004", _) => waiting("unfollowed"),
            _ => Err(JobError::Permanent(refused)),
        }
    }
}

/// The `bot_media` and `bot_message` outbox handlers.
pub struct BotJobs(pub Arc<Bots>);

impl Run<MediaJob> for BotJobs {
    fn run<'a>(&'a self, job: MediaJob, _: &'a Claimed) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(self.0.run_media(job))
    }
}

impl Run<MessageJob> for BotJobs {
    fn run<'a>(&'a self, job: MessageJob, _: &'a Claimed) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(self.0.run_message(job))
    }
}

/// Reporter feedback through the chat the tip came from.
pub struct BotSender(pub Arc<Bots>);

impl Sender for BotSender {
    fn send<'a>(&'a self, notice: &'a Notice) -> BoxFuture<'a, Result<Delivery, JobError>> {
        Box::pin(self.0.send_notice(notice))
    }
}

/// Deletes push rows after a day and conversations a day after they expired.
pub struct BotPurge(pub Arc<Bots>);

impl Periodic for BotPurge {
    fn tick(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(super::store::purge(&self.0.db))
    }
}
