//! Email to a member of staff, queued by user id: the outbox row holds the rendered
//! message and the user's id, never their address, which is looked up when the job is
//! sent. So the job table (and its dead-letter list) holds no staff address, and a changed
//! address is the one written to.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use super::StaffUser;
use crate::i18n::Locale;
use crate::notify::email::{Email, Mailer};
use crate::notify::worker::JobError;
use crate::notify::{Claimed, Job, Run};
use crate::store::Db;

/// The payload of a `staff_email` job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StaffEmail {
    pub user_id: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Job for StaffEmail {
    const KIND: &'static str = "staff_email";
}

impl StaffEmail {
    /// Render `email-{template}-*` for `user` in their language (see [`Email::render`]).
    pub fn render(
        user: &StaffUser,
        template: &str,
        args: &[(&str, String)],
        link: Option<&str>,
    ) -> Self {
        let locale = Locale::parse(&user.locale).unwrap_or_default();
        let e = Email::render("", locale, template, args, link);
        Self {
            user_id: user.id.clone(),
            subject: e.subject,
            text: e.text,
            html: e.html,
        }
    }
}

/// Sends [`StaffEmail`] jobs to the address the user has when the job runs.
pub struct StaffMailer {
    pub db: Db,
    pub mailer: Arc<Mailer>,
}

impl Run<StaffEmail> for StaffMailer {
    fn run<'a>(&'a self, job: StaffEmail, _: &'a Claimed) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let to: Option<Option<String>> =
                sqlx::query_scalar("SELECT email FROM staff_users WHERE id = $1 AND active = 1")
                    .bind(&job.user_id)
                    .fetch_optional(&self.db.pool)
                    .await
                    .map_err(JobError::retry)?;
            let Some(to) = to.flatten().filter(|t| !t.trim().is_empty()) else {
                // Left, deactivated or without an address: kept for an admin to see.
                return Err(JobError::permanent("staff_no_address"));
            };
            self.mailer
                .send(&Email {
                    to,
                    subject: job.subject,
                    text: job.text,
                    html: job.html,
                })
                .await
        })
    }
}
