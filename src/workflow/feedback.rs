//! Feedback to the reporter through the channel the tip came from. The timeline (H5 status
//! page, bot `查询`, hotline look-up) is written in the transaction of the change; this job
//! then pushes the news out: email for H5 and staff-recorded tips that left an address,
//! a chat message for bots, a callback for the hotline. Channels other than H5/staff
//! register their senders here; a tip whose channel has no sender waits in the outbox
//! (retried, then dead-lettered where an admin sees it), never dropped.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::i18n::{self, Locale};
use crate::notify::email::{Email, Mailer};
use crate::notify::worker::JobError;
use crate::notify::{self, Claimed, NewJob};
use crate::store::{self, Db, Tx};
use crate::vault::{IdentityField, SealedIdentity, Vault};

/// The `reporter_feedback` job: push a timeline entry (`event_id`) or a staff message
/// (`message_id`) to the reporter through the tip's channel.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeedbackJob {
    pub report_id: String,
    #[serde(default)]
    pub event_id: Option<i64>,
    #[serde(default)]
    pub message_id: Option<i64>,
}

impl notify::Job for FeedbackJob {
    const KIND: &'static str = "reporter_feedback";
    /// Each entry and each message is sent once.
    fn dedupe_key(&self) -> Option<String> {
        match (self.event_id, self.message_id) {
            (Some(e), _) => Some(format!("feedback:{e}")),
            (None, Some(m)) => Some(format!("message:{m}")),
            (None, None) => None,
        }
    }
}

/// The one path that tells a reporter something: a timeline entry (`kind` = `status`,
/// `reward`, `deadline`; the `status` the entry shows; an optional plain-language note that
/// replaces the default text) and, in the same transaction, the job that pushes it through
/// the tip's channel.
pub async fn tell(
    tx: &mut Tx<'_>,
    at: chrono::DateTime<chrono::Utc>,
    max_attempts: u32,
    report_id: &str,
    kind: &str,
    status: &str,
    note: Option<String>,
) -> Result<i64, sqlx::Error> {
    let event_id: i64 = sqlx::query_scalar(
        "INSERT INTO report_events (report_id, at, kind, status, public_note) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(report_id)
    .bind(store::ts(at))
    .bind(kind)
    .bind(status)
    .bind(note)
    .fetch_one(&mut **tx)
    .await?;
    let job = NewJob::of(&FeedbackJob {
        report_id: report_id.to_string(),
        event_id: Some(event_id),
        message_id: None,
    });
    notify::enqueue(tx, &job, max_attempts).await?;
    Ok(event_id)
}

/// What the reporter is told, in their language, with no staff names.
#[derive(Debug, Clone)]
pub struct Notice {
    pub report_id: String,
    pub channel: String,
    pub locale: Locale,
    pub status: String,
    /// The plain-language text to send.
    pub text: String,
}

/// A channel that can reach a reporter (bots, hotline). It opens the contact it needs
/// through the vault itself; nothing here sees it.
pub trait Sender: Send + Sync {
    fn send<'a>(&'a self, notice: &'a Notice) -> BoxFuture<'a, Result<(), JobError>>;
}

pub struct FeedbackHandler {
    pub db: Db,
    pub vault: Arc<Vault>,
    pub mailer: Arc<Mailer>,
    pub senders: HashMap<&'static str, Arc<dyn Sender>>,
}

impl FeedbackHandler {
    async fn run_job(&self, p: FeedbackJob) -> Result<(), JobError> {
        let row: Option<(String, String, String, String)> = sqlx::query_as(
            "SELECT channel, locale, status, tracking_code FROM reports WHERE id = $1",
        )
        .bind(&p.report_id)
        .fetch_optional(&self.db.pool)
        .await
        .map_err(JobError::retry)?;
        let Some((channel, locale, status, tracking_code)) = row else {
            return Err(JobError::permanent("no_such_report"));
        };
        let locale = Locale::parse(&locale).unwrap_or_default();
        let (status, note) = if let Some(eid) = p.event_id {
            let r: Option<(String, Option<String>)> = sqlx::query_as(
                "SELECT status, public_note FROM report_events WHERE id = $1 AND report_id = $2",
            )
            .bind(eid)
            .bind(&p.report_id)
            .fetch_optional(&self.db.pool)
            .await
            .map_err(JobError::retry)?;
            r.ok_or_else(|| JobError::permanent("no_such_event"))?
        } else {
            (status, None)
        };
        let mut text = i18n::t(locale, &format!("timeline-{status}"), &[]);
        if let Some(mid) = p.message_id {
            let body: Option<String> = sqlx::query_scalar(
                "SELECT body FROM report_messages WHERE id = $1 AND report_id = $2",
            )
            .bind(mid)
            .bind(&p.report_id)
            .fetch_optional(&self.db.pool)
            .await
            .map_err(JobError::retry)?;
            let body = body.ok_or_else(|| JobError::permanent("no_such_message"))?;
            text = i18n::t(locale, "feedback-staff-message", &[("body", body)]);
        } else if let Some(n) = note {
            text.push('\n');
            text.push_str(&n);
        }
        let notice = Notice {
            report_id: p.report_id.clone(),
            channel: channel.clone(),
            locale,
            status: status.clone(),
            text,
        };
        match channel.as_str() {
            "h5" | "staff" => self.email_reporter(&notice, &tracking_code).await?,
            other => match self.senders.get(other) {
                Some(s) => s.send(&notice).await?,
                None => return Err(JobError::retry("no_feedback_sender")),
            },
        }
        // Delivered: the "tell a real-name reporter" clock is met.
        if p.event_id.is_some() {
            sqlx::query(
                "UPDATE clocks SET closed_at = $1, next_check_on = NULL, \
                 outcome = CASE WHEN due_on >= $2 THEN 'met' ELSE 'missed' END \
                 WHERE report_id = $3 AND kind = 'notify_accept' AND closed_at IS NULL",
            )
            .bind(crate::store::ts(self.db.now()))
            .bind(crate::deadlines::calendar::shanghai_date(self.db.now()).to_string())
            .bind(&p.report_id)
            .execute(&self.db.pool)
            .await
            .map_err(JobError::retry)?;
        }
        Ok(())
    }

    /// H5 and staff-recorded tips: the timeline already shows it; if the reporter left an
    /// email address, it is opened in the vault for this send only.
    async fn email_reporter(&self, n: &Notice, tracking_code: &str) -> Result<(), JobError> {
        let sealed = SealedIdentity::load(&self.db.pool, &n.report_id)
            .await
            .map_err(JobError::retry)?;
        let Some(sealed) = sealed else { return Ok(()) };
        if sealed.get(IdentityField::Email).is_none() {
            return Ok(());
        }
        let identity = self
            .vault
            .open_identity(&n.report_id, &sealed)
            .await
            .map_err(JobError::retry)?;
        let Some(to) = identity.get(IdentityField::Email) else {
            return Ok(());
        };
        let email = Email::render(
            to,
            n.locale,
            "reporter-update",
            &[
                ("tracking_code", tracking_code.to_string()),
                ("update", n.text.clone()),
            ],
            None,
        );
        self.mailer.send(&email).await
    }
}

impl notify::Run<FeedbackJob> for FeedbackHandler {
    fn run<'a>(&'a self, job: FeedbackJob, _: &'a Claimed) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(self.run_job(job))
    }
}
