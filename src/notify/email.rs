//! Staff email through lettre's async SMTP transport: each message has an HTML and a plain
//! text part, both from the same Fluent strings in the recipient's language. A failed send
//! is reduced to a fixed code ([`smtp_failure`]): the server's reply text, which echoes the
//! recipient's address, is never kept.

use futures_util::future::BoxFuture;
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use super::worker::JobError;
use super::{Claimed, FailCode};
use super::{Job, Run};
use crate::i18n::{self, Locale};

/// The payload of an `email` job: already rendered, so a retry sends the same message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Email {
    /// Render `email-{template}-subject` / `email-{template}-body` in `locale`. The body is
    /// plain text with blank lines between paragraphs; the HTML part escapes it and adds a
    /// link when `link` is given.
    pub fn render(
        to: &str,
        locale: Locale,
        template: &str,
        args: &[(&str, String)],
        link: Option<&str>,
    ) -> Self {
        let subject = i18n::t(locale, &format!("email-{template}-subject"), args);
        let mut text = i18n::t(locale, &format!("email-{template}-body"), args);
        let mut html = String::from(
            "<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.6\">",
        );
        for para in text.split("\n\n") {
            html.push_str("<p>");
            html.push_str(&escape(para).replace('\n', "<br>"));
            html.push_str("</p>");
        }
        if let Some(link) = link {
            let label = i18n::t(locale, "email-open-console", &[]);
            html.push_str(&format!(
                "<p><a href=\"{}\">{}</a></p>",
                escape(link),
                escape(&label)
            ));
            text.push_str(&format!("\n\n{label}: {link}"));
        }
        let footer = i18n::t(locale, "email-footer", &[]);
        html.push_str(&format!(
            "<p style=\"color:#666;font-size:12px\">{}</p></body></html>",
            escape(&footer)
        ));
        text.push_str(&format!("\n\n--\n{footer}\n"));
        Self {
            to: to.to_string(),
            subject,
            text,
            html,
        }
    }
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
}

impl Mailer {
    /// `url` like `smtp://127.0.0.1:2525` (plain), `smtps://…` or `smtp://…?tls=required`;
    /// empty disables sending (jobs wait and are retried, then dead-lettered).
    pub fn new(url: &str, from: &str) -> anyhow::Result<Self> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| anyhow::anyhow!("[smtp] from is not a mailbox: {e}"))?;
        let transport = if url.trim().is_empty() {
            None
        } else {
            Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("[smtp] url: {e}"))?
                    .timeout(Some(std::time::Duration::from_secs(20)))
                    .build(),
            )
        };
        Ok(Self { transport, from })
    }

    pub async fn send(&self, e: &Email) -> Result<(), JobError> {
        let Some(transport) = &self.transport else {
            return Err(JobError::retry("smtp_not_configured"));
        };
        let to: Mailbox =
            e.to.parse()
                .map_err(|_| JobError::permanent("smtp_invalid_recipient"))?;
        let msg = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&e.subject)
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(e.text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(e.html.clone()),
                    ),
            )
            .map_err(|_| JobError::permanent("smtp_unbuildable_message"))?;
        match transport.send(msg).await {
            Ok(_) => Ok(()),
            Err(err) if err.is_permanent() => Err(JobError::Permanent(smtp_failure(&err))),
            Err(err) => Err(JobError::Retry(smtp_failure(&err))),
        }
    }
}

/// A failed SMTP send as a fixed code, from the reply's status and the error's kind only.
/// The reply text ("550 5.1.1 <someone@example.com>: Recipient address rejected") and the
/// error's message are dropped.
pub fn smtp_failure(err: &lettre::transport::smtp::Error) -> FailCode {
    let status = err.status().and_then(|c| c.to_string().parse::<i64>().ok());
    match status {
        // Mailbox unavailable, not local, name not allowed (RFC 5321 §4.2.3).
        Some(550 | 551 | 553) => FailCode::new("smtp_rejected_recipient"),
        Some(552) => FailCode::new("smtp_message_too_large"),
        Some(530 | 534 | 535 | 538) => FailCode::new("smtp_auth_failed"),
        Some(421) => FailCode::new("smtp_unavailable"),
        Some(450..=452) => FailCode::new("smtp_deferred"),
        Some(c) if c >= 500 => FailCode::numbered("smtp_permanent", c),
        Some(c) => FailCode::numbered("smtp_transient", c),
        None if err.is_timeout() => FailCode::new("smtp_timeout"),
        None if err.is_tls() => FailCode::new("smtp_tls_failed"),
        None if err.is_response() => FailCode::new("smtp_bad_reply"),
        None if err.is_client() => FailCode::new("smtp_client_error"),
        // Connection refused, reset, name resolution, transport shut down.
        None => FailCode::new("smtp_unavailable"),
    }
}

impl Job for Email {
    const KIND: &'static str = "email";
}

impl Run<Email> for Mailer {
    fn run<'a>(&'a self, email: Email, _: &'a Claimed) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move { self.send(&email).await })
    }
}
