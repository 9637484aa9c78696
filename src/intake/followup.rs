//! Reporter follow-up with tracking code + passcode (CONTRACT §3): the plain-language
//! timeline, messages both ways, and adding information. A wrong code and a wrong passcode
//! get the same 404; failures are counted per code and per client address in the database
//! (so every instance enforces the same limit) and answered with 429 past the limit.

use serde::Serialize;

use super::{seal_evidence, Intake};
use crate::domain::{bounded_text, tracking, Status};
use crate::error::{AppError, AppResult};
use crate::evidence::Processed;
use crate::i18n::{self, Locale};
use crate::store::{self, ratelimit};

#[derive(Debug, Clone, Copy)]
pub struct LookupLimits {
    pub per_code: i64,
    pub per_client: i64,
    pub window_secs: i64,
}

impl LookupLimits {
    /// The configured limits (`[intake] lookup_*`).
    pub fn of(c: &crate::config::IntakeConfig) -> Self {
        Self {
            per_code: i64::from(c.lookup_failures_per_code),
            per_client: i64::from(c.lookup_failures_per_client),
            window_secs: c.lookup_window_secs.secs(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct TimelineEntry {
    pub at: String,
    pub status: String,
    pub note: String,
}

#[derive(Debug, Serialize)]
pub struct MessageView {
    pub at: String,
    pub from: String,
    pub body: String,
    pub attachments: i64,
}

#[derive(Debug, Serialize)]
pub struct LookupView {
    pub status: String,
    pub status_label: String,
    pub timeline: Vec<TimelineEntry>,
    pub messages: Vec<MessageView>,
    /// The reward, once one exists: filled in by the caller from
    /// `rewards::flow::reporter_view` (intake does not reach up to rewards).
    pub reward: Option<serde_json::Value>,
    /// While the acceptance decision is pending: the day it is due, and whether that day
    /// may still move (a year whose holiday notice is not published yet).
    pub accept_by: Option<String>,
    pub accept_by_provisional: bool,
    /// The tip was recorded by staff or a call centre (who saw the passcode) and the
    /// reporter has not chosen a passcode of their own yet: the status page asks them to.
    pub passcode_change_suggested: bool,
}

/// A reporter who proved they hold a tip's code and passcode.
pub struct Authenticated {
    pub report_id: String,
    pub status: Status,
    pub locale: Locale,
    /// The tip was recorded by staff or a call centre, who saw the issued passcode.
    pub recorded_by_others: bool,
    /// The reporter has replaced the issued passcode with one of their own.
    pub passcode_chosen: bool,
}

#[derive(sqlx::FromRow)]
struct StoredCode {
    id: String,
    passcode_hash: Vec<u8>,
    passcode_phc: Option<String>,
    status: String,
    locale: String,
    channel: String,
    recorded_by: Option<String>,
}

fn display_time(stored: &str) -> String {
    store::parse_ts(stored)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|_| stored.to_string())
}

impl Intake {
    /// Check code + passcode under the rate limits. `client` is the caller's address.
    pub async fn authenticate(
        &self,
        code: &str,
        passcode: &str,
        client: &str,
        limits: LookupLimits,
    ) -> AppResult<Authenticated> {
        let now = self.db().now();
        let code_norm = tracking::normalize_code(code);
        let code_key = code_norm.clone().unwrap_or_else(|| code.trim().to_string());
        let vault = self.vault();
        let code_bucket = format!(
            "lc:{}",
            hex::encode(vault.request_digest(&[b"lookup-code", code_key.as_bytes()]))
        );
        let client_bucket = format!(
            "la:{}",
            hex::encode(vault.request_digest(&[b"lookup-client", client.as_bytes()]))
        );
        let db = self.db();
        let over = ratelimit::current(db, &code_bucket, limits.window_secs, now).await?
            >= limits.per_code
            || ratelimit::current(db, &client_bucket, limits.window_secs, now).await?
                >= limits.per_client;
        if over {
            return Err(rate_limited(limits.window_secs));
        }

        let row: Option<StoredCode> =
            match &code_norm {
                Some(c) => sqlx::query_as(
                    "SELECT id, passcode_hash, passcode_phc, status, locale, channel, recorded_by \
                 FROM reports WHERE tracking_code = $1",
                )
                .bind(c)
                .fetch_optional(&db.pool)
                .await?,
                None => None,
            };
        let ok = match &row {
            // A passcode the reporter chose replaces the issued one (argon2id).
            Some(r) if r.passcode_phc.is_some() => {
                match tracking::normalize_chosen_passcode(passcode) {
                    Some(chosen) => {
                        crate::staff::verify_password_queued(
                            r.passcode_phc.as_deref().unwrap_or_default(),
                            &chosen,
                        )
                        .await?
                    }
                    None => false,
                }
            }
            Some(r) => {
                let pass = tracking::normalize_passcode(passcode).unwrap_or_default();
                vault.passcode_matches(&code_key, &pass, &r.passcode_hash)
            }
            None => {
                // Same work as a real check, so timing does not tell codes apart.
                let pass = tracking::normalize_passcode(passcode).unwrap_or_default();
                let _ = vault.passcode_matches(&code_key, &pass, &[0u8; 32]);
                false
            }
        };
        match row {
            Some(r) if ok => Ok(Authenticated {
                status: Status::parse(&r.status).map_err(|_| {
                    AppError::internal(anyhow::anyhow!("unknown stored status {}", r.status))
                })?,
                locale: Locale::parse(&r.locale).unwrap_or_default(),
                // Someone else saw the issued passcode: the staff member who recorded a
                // letter, visit or call, or the call centre.
                recorded_by_others: r.recorded_by.is_some()
                    || matches!(r.channel.as_str(), "staff" | "hotline"),
                passcode_chosen: r.passcode_phc.is_some(),
                report_id: r.id,
            }),
            _ => {
                ratelimit::hit(db, &code_bucket, limits.window_secs, now).await?;
                ratelimit::hit(db, &client_bucket, limits.window_secs, now).await?;
                Err(AppError::not_found())
            }
        }
    }

    /// The reporter replaces their passcode (already authenticated with the current one):
    /// the new one is kept only as an argon2id hash, and the old one stops working at once.
    /// Audited (`report.passcode_change`, no secret in it).
    pub async fn change_passcode(
        &self,
        who: &Authenticated,
        new_passcode: &str,
        locale: Locale,
    ) -> AppResult<()> {
        let chosen = tracking::normalize_chosen_passcode(new_passcode).ok_or_else(|| {
            AppError::invalid("new_passcode", "error-passcode-weak")
                .arg("min", tracking::CHOSEN_MIN)
                .arg("max", tracking::CHOSEN_MAX)
                .in_locale(locale)
        })?;
        let phc = tokio::task::spawn_blocking(move || crate::staff::hash_password(&chosen))
            .await
            .map_err(AppError::internal)?
            .map_err(AppError::internal)?;
        let now = self.db().now();
        let mut tx = self.db().begin().await?;
        crate::audit::lock(&mut tx).await?;
        sqlx::query("UPDATE reports SET passcode_phc = $1, passcode_changed_at = $2 WHERE id = $3")
            .bind(&phc)
            .bind(store::ts(now))
            .bind(&who.report_id)
            .execute(&mut *tx)
            .await?;
        crate::audit::append(
            &mut tx,
            self.vault().audit_key(),
            &crate::audit::Entry {
                actor: &crate::audit::Actor::anonymous(),
                action: "report.passcode_change",
                outcome: crate::audit::Outcome::Ok,
                report_id: Some(&who.report_id),
                detail: serde_json::json!({}),
            },
        )
        .await?;
        tx.commit().await?;
        tracing::info!(report_id = %who.report_id, "reporter changed the passcode");
        Ok(())
    }

    /// The reporter's view of a tip: status, timeline, messages (never staff names).
    pub async fn view(&self, who: &Authenticated, locale: Locale) -> AppResult<LookupView> {
        let db = self.db();
        let events: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT at, kind, status, public_note FROM report_events WHERE report_id = $1 ORDER BY id",
        )
        .bind(&who.report_id)
        .fetch_all(&db.pool)
        .await?;
        let timeline = events
            .into_iter()
            .map(|(at, kind, status, note)| {
                let note = note.unwrap_or_else(|| {
                    if kind == "message" {
                        i18n::t(locale, "timeline-message-added", &[])
                    } else {
                        i18n::t(locale, &format!("timeline-{status}"), &[])
                    }
                });
                TimelineEntry {
                    at: display_time(&at),
                    status,
                    note,
                }
            })
            .collect();
        let messages: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT id, at, author, body FROM report_messages WHERE report_id = $1 ORDER BY id",
        )
        .bind(&who.report_id)
        .fetch_all(&db.pool)
        .await?;
        let counts: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT message_id, COUNT(*) FROM evidence WHERE report_id = $1 \
             AND message_id IS NOT NULL GROUP BY message_id",
        )
        .bind(&who.report_id)
        .fetch_all(&db.pool)
        .await?;
        let messages = messages
            .into_iter()
            .map(|(id, at, from, body)| MessageView {
                at: display_time(&at),
                from,
                body,
                attachments: counts.iter().find(|c| c.0 == id).map_or(0, |c| c.1),
            })
            .collect();
        let accept: Option<(String, i64)> = sqlx::query_as(
            "SELECT due_on, provisional FROM clocks WHERE report_id = $1 AND kind = 'accept' \
             AND closed_at IS NULL",
        )
        .bind(&who.report_id)
        .fetch_optional(&db.pool)
        .await?;
        Ok(LookupView {
            accept_by_provisional: accept.as_ref().is_some_and(|a| a.1 != 0),
            accept_by: accept.map(|a| a.0),
            passcode_change_suggested: who.recorded_by_others && !who.passcode_chosen,
            status: who.status.code().to_string(),
            status_label: i18n::t(locale, &format!("status-{}", who.status.code()), &[]),
            timeline,
            messages,
            // The reward's part is filled in by the caller (rewards sits above intake).
            reward: None,
        })
    }

    /// The reporter adds information (text and optional files) to their tip.
    pub async fn add_message(
        &self,
        who: &Authenticated,
        body: &str,
        evidence: Vec<Processed>,
        locale: Locale,
    ) -> AppResult<()> {
        if matches!(who.status, Status::Closed) {
            return Err(AppError::from(super::IntakeError::CaseClosed).in_locale(locale));
        }
        let min = if evidence.is_empty() { 1 } else { 0 };
        let body = if body.trim().is_empty() && min == 0 {
            String::new()
        } else {
            bounded_text(body, 1, 5000).map_err(|(msg, n)| {
                AppError::invalid("body", msg)
                    .arg("max", n)
                    .arg("min", 1)
                    .in_locale(locale)
            })?
        };
        let now = self.db().now();
        let keys = self.vault().case_keys_for(&who.report_id).await?;
        let mut tx = self.db().begin().await?;
        let message_id: i64 = sqlx::query_scalar(
            "INSERT INTO report_messages (report_id, at, author, body) \
             VALUES ($1, $2, 'reporter', $3) RETURNING id",
        )
        .bind(&who.report_id)
        .bind(store::ts(now))
        .bind(&body)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO report_events (report_id, at, kind, status) VALUES ($1, $2, 'message', $3)",
        )
        .bind(&who.report_id)
        .bind(store::ts(now))
        .bind(who.status.code())
        .execute(&mut *tx)
        .await?;
        let next_seq: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(seq), -1) + 1 FROM evidence WHERE report_id = $1",
        )
        .bind(&who.report_id)
        .fetch_one(&mut *tx)
        .await?;
        for (i, p) in evidence.into_iter().enumerate() {
            let row = seal_evidence(
                &keys,
                &who.report_id,
                next_seq as usize + i,
                Some(message_id),
                p,
                now,
            );
            super::committer::insert_evidence(&mut tx, &row).await?;
        }
        tx.commit().await?;
        tracing::info!(report_id = %who.report_id, "reporter added information");
        Ok(())
    }
}

pub fn rate_limited(window_secs: i64) -> AppError {
    AppError::from(super::IntakeError::RateLimited).arg("minutes", (window_secs + 59) / 60)
}
