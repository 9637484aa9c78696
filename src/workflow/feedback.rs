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

use crate::deadlines::calendar::shanghai_date;
use crate::domain::MobilePhone;
use crate::i18n::{self, Locale};
use crate::notify::email::{Email, Mailer};
use crate::notify::sms::Sms;
use crate::notify::worker::JobError;
use crate::notify::{self, Claimed, NewJob};
use crate::store::{self, Db, Tx};
use crate::vault::{IdentityField, SealedIdentity, Vault};
use sqlx::AnyConnection;

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
    /// The timeline entry's kind (`status`, `reward`, `deadline`; `message` for a staff
    /// message).
    pub kind: String,
    pub status: String,
    /// The Asia/Shanghai day of the entry, `YYYY-MM-DD`.
    pub on: String,
    /// The plain-language text to send.
    pub text: String,
    pub tracking_code: String,
    /// The reporter's choice (`channel`, `sms`, `email`, `page`; `None`: the channel).
    pub notify_by: Option<String>,
}

/// The one-word status a template message or SMS carries (已受理 …): nothing of the case.
pub fn status_word(locale: Locale, status: &str) -> String {
    let id = format!("status-{status}");
    if i18n::has(locale, &id) {
        i18n::t(locale, &id, &[])
    } else {
        i18n::t(locale, "wx-notice-update", &[])
    }
}

/// How a notice went out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Delivered, through `via` (`wechat_service`, `wechat_template`, `wechat_subscribe`,
    /// `wecom`, `email`, `hotline`, `page`: only the status page).
    Sent(&'static str),
    /// Nothing could carry it now (`reason`: `outside_48h_no_template`, `unfollowed`,
    /// `not_subscribed`): it waits, and the chat gives it in its reply the next time this
    /// user (`user`: the keyed digest the bot knows them by) writes.
    Waiting {
        reason: &'static str,
        user: Option<Vec<u8>>,
    },
}

/// A channel that can reach a reporter (bots, hotline). It opens the contact it needs
/// through the vault itself; nothing here sees it.
pub trait Sender: Send + Sync {
    fn send<'a>(&'a self, notice: &'a Notice) -> BoxFuture<'a, Result<Delivery, JobError>>;
}

pub struct FeedbackHandler {
    pub db: Db,
    pub vault: Arc<Vault>,
    pub mailer: Arc<Mailer>,
    pub senders: HashMap<&'static str, Arc<dyn Sender>>,
    /// `[sms]`, when configured.
    pub sms: Option<Arc<Sms>>,
}

/// The notice for a timeline entry (`event_id`) or a staff message (`message_id`) of a
/// report, as the reporter reads it; `None` when the report, entry or message is gone.
pub async fn compose(
    ex: &mut dyn store::Exec,
    report_id: &str,
    event_id: Option<i64>,
    message_id: Option<i64>,
) -> Result<Option<Notice>, sqlx::Error> {
    let take = |v: &mut store::exec::Value| v.take_text().unwrap_or_default();
    let mut rows = ex
        .fetch_rows(
            "SELECT channel, locale, status, tracking_code, notify_by FROM reports WHERE id = $1",
            vec![report_id.into()],
        )
        .await?;
    let Some(r) = rows.first_mut() else {
        return Ok(None);
    };
    let (channel, locale, status, tracking_code, notify_by) = (
        take(&mut r[0]),
        take(&mut r[1]),
        take(&mut r[2]),
        take(&mut r[3]),
        r[4].take_text(),
    );
    let locale = Locale::parse(&locale).unwrap_or_default();
    let (kind, status, at, note) = if let Some(eid) = event_id {
        let mut rows = ex
            .fetch_rows(
                "SELECT kind, status, at, public_note FROM report_events \
                 WHERE id = $1 AND report_id = $2",
                vec![eid.into(), report_id.into()],
            )
            .await?;
        let Some(r) = rows.first_mut() else {
            return Ok(None);
        };
        (
            take(&mut r[0]),
            take(&mut r[1]),
            take(&mut r[2]),
            r[3].take_text(),
        )
    } else {
        ("message".to_string(), status, String::new(), None)
    };
    let mut on = chrono::DateTime::parse_from_rfc3339(&at)
        .map(|t| shanghai_date(t.with_timezone(&chrono::Utc)).to_string())
        .unwrap_or_default();
    let mut text = i18n::t(locale, &format!("timeline-{status}"), &[]);
    if let Some(mid) = message_id {
        let mut rows = ex
            .fetch_rows(
                "SELECT body, at FROM report_messages WHERE id = $1 AND report_id = $2",
                vec![mid.into(), report_id.into()],
            )
            .await?;
        let Some(r) = rows.first_mut() else {
            return Ok(None);
        };
        let (body, at) = (take(&mut r[0]), take(&mut r[1]));
        on = chrono::DateTime::parse_from_rfc3339(&at)
            .map(|t| shanghai_date(t.with_timezone(&chrono::Utc)).to_string())
            .unwrap_or_default();
        text = i18n::t(locale, "feedback-staff-message", &[("body", body)]);
    } else if let Some(n) = note {
        text.push('\n');
        text.push_str(&n);
    }
    Ok(Some(Notice {
        report_id: report_id.to_string(),
        channel,
        locale,
        kind,
        status,
        on,
        text,
        tracking_code,
        notify_by,
    }))
}

/// A notice reached the reporter: the "tell a real-name reporter" clock is met.
pub async fn close_notify_clock(
    ex: &mut dyn store::Exec,
    report_id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), sqlx::Error> {
    ex.run(
        "UPDATE clocks SET closed_at = $1, next_check_on = NULL, \
         outcome = CASE WHEN due_on >= $2 THEN 'met' ELSE 'missed' END \
         WHERE report_id = $3 AND kind = 'notify_accept' AND closed_at IS NULL",
        vec![
            store::ts(now).into(),
            shanghai_date(now).to_string().into(),
            report_id.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Record how a notice went out (one row per notice, the latest outcome).
async fn record(
    conn: &mut AnyConnection,
    key: &str,
    p: &FeedbackJob,
    d: &Delivery,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), sqlx::Error> {
    let (state, via, reason, user) = match d {
        Delivery::Sent(via) => ("sent", Some(*via), None, None),
        Delivery::Waiting { reason, user } => ("waiting", None, Some(*reason), user.clone()),
    };
    let now = store::ts(now);
    sqlx::query(
        "INSERT INTO notice_deliveries (notice_key, report_id, event_id, message_id, state, \
         via, reason, user_digest, created_at, sent_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (notice_key) DO UPDATE SET state = excluded.state, via = excluded.via, \
         reason = excluded.reason, user_digest = excluded.user_digest, \
         sent_at = excluded.sent_at",
    )
    .bind(key)
    .bind(&p.report_id)
    .bind(p.event_id)
    .bind(p.message_id)
    .bind(state)
    .bind(via)
    .bind(reason)
    .bind(user)
    .bind(&now)
    .bind((state == "sent").then_some(now.clone()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl FeedbackHandler {
    async fn run_job(&self, p: FeedbackJob) -> Result<(), JobError> {
        let mut conn = self.db.pool.acquire().await.map_err(JobError::retry)?;
        let notice = compose(&mut *conn, &p.report_id, p.event_id, p.message_id)
            .await
            .map_err(JobError::retry)?
            .ok_or_else(|| JobError::permanent("no_such_notice"))?;
        drop(conn);
        let delivery = match (notice.notify_by.as_deref(), notice.channel.as_str()) {
            (Some("page"), _) => Delivery::Sent("page"),
            (Some("sms"), _) => self.sms_reporter(&notice).await?,
            (Some("email"), _) | (_, "h5" | "staff") => self.email_reporter(&notice).await?,
            (_, other) => match self.senders.get(other) {
                Some(s) => s.send(&notice).await?,
                None => return Err(JobError::retry("no_feedback_sender")),
            },
        };
        let now = self.db.now();
        let mut tx = self.db.begin().await.map_err(JobError::retry)?;
        if let Some(key) = notify::Job::dedupe_key(&p) {
            record(&mut tx, &key, &p, &delivery, now)
                .await
                .map_err(JobError::retry)?;
        }
        if p.event_id.is_some() && matches!(delivery, Delivery::Sent(_)) {
            close_notify_clock(&mut tx, &p.report_id, now)
                .await
                .map_err(JobError::retry)?;
        }
        tx.commit().await.map_err(JobError::retry)?;
        Ok(())
    }

    /// A reporter who chose SMS: the phone is opened in the vault for this send only; the
    /// message is the `[sms]` template with the status word. Without `[sms]` the notice
    /// waits (staff see it); without a phone the status page is all there is.
    async fn sms_reporter(&self, n: &Notice) -> Result<Delivery, JobError> {
        let Some(sms) = &self.sms else {
            return Ok(Delivery::Waiting {
                reason: "sms_not_configured",
                user: None,
            });
        };
        let sealed = SealedIdentity::load(&self.db.pool, &n.report_id)
            .await
            .map_err(JobError::retry)?;
        // A hotline caller's number is sealed as the caller number (intake refused SMS
        // unless it is a mainland mobile).
        let fields = [IdentityField::Phone, IdentityField::CallerNumber];
        let Some(sealed) = sealed.filter(|s| fields.iter().any(|f| s.get(*f).is_some())) else {
            return Ok(Delivery::Sent("page"));
        };
        let identity = self
            .vault
            .open_identity(&n.report_id, &sealed)
            .await
            .map_err(JobError::retry)?;
        let phone = identity
            .get(IdentityField::Phone)
            .map(str::to_string)
            .or_else(|| {
                let number = identity.get(IdentityField::CallerNumber)?;
                Some(MobilePhone::parse(number).ok()?.as_str().to_string())
            });
        let Some(phone) = phone else {
            return Ok(Delivery::Sent("page"));
        };
        let word = status_word(n.locale, &n.status);
        sms.send(&phone, sms.template_for(&n.kind), &word).await?;
        Ok(Delivery::Sent("sms"))
    }

    /// H5 and staff-recorded tips: the timeline already shows it; if the reporter left an
    /// email address, it is opened in the vault for this send only.
    async fn email_reporter(&self, n: &Notice) -> Result<Delivery, JobError> {
        let sealed = SealedIdentity::load(&self.db.pool, &n.report_id)
            .await
            .map_err(JobError::retry)?;
        let Some(sealed) = sealed else {
            return Ok(Delivery::Sent("page"));
        };
        if sealed.get(IdentityField::Email).is_none() {
            return Ok(Delivery::Sent("page"));
        }
        let identity = self
            .vault
            .open_identity(&n.report_id, &sealed)
            .await
            .map_err(JobError::retry)?;
        let Some(to) = identity.get(IdentityField::Email) else {
            return Ok(Delivery::Sent("page"));
        };
        let email = Email::render(
            to,
            n.locale,
            "reporter-update",
            &[
                ("tracking_code", n.tracking_code.clone()),
                ("update", n.text.clone()),
            ],
            None,
        );
        self.mailer.send(&email).await?;
        Ok(Delivery::Sent("email"))
    }
}

impl notify::Run<FeedbackJob> for FeedbackHandler {
    fn run<'a>(&'a self, job: FeedbackJob, _: &'a Claimed) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(self.run_job(job))
    }
}
