//! Notices that could not be sent to a chat user (outside the 48-hour window with no
//! template, unfollowed, not subscribed) wait in `notice_deliveries` under the user's keyed
//! digest; the next reply to that user gives them, oldest first, before its own text. Each
//! is marked given with a conditional update, so two instances answering two messages of
//! the same user at once give it once.

use chrono::Utc;

use super::Bots;
use crate::i18n;
use crate::store;
use crate::workflow::feedback::{close_notify_clock, compose};

/// At most this many waiting notices go into one reply (the rest the next time).
const PER_REPLY: i64 = 5;

impl Bots {
    /// `reply` with the notices waiting for `user` put before it. No reply (an unfollow,
    /// an event that gets none): they keep waiting.
    pub(super) async fn with_waiting(
        &self,
        ex: &mut dyn store::Exec,
        user: &[u8; 32],
        reply: Option<String>,
    ) -> anyhow::Result<Option<String>> {
        let Some(reply) = reply else { return Ok(None) };
        let rows = ex
            .fetch_rows(
                "SELECT notice_key, report_id, event_id, message_id FROM notice_deliveries \
                 WHERE user_digest = $1 AND state = 'waiting' ORDER BY created_at, notice_key \
                 LIMIT $2",
                vec![user[..].into(), PER_REPLY.into()],
            )
            .await?;
        if rows.is_empty() {
            return Ok(Some(reply));
        }
        let now = Utc::now();
        let mut parts = vec![];
        for mut row in rows {
            let (key, report_id) = (
                row[0].take_text().unwrap_or_default(),
                row[1].take_text().unwrap_or_default(),
            );
            let (event_id, message_id) = (row[2].int(), row[3].int());
            let Some(n) = compose(&mut *ex, &report_id, event_id, message_id).await? else {
                continue;
            };
            let given = ex
                .run(
                    "UPDATE notice_deliveries SET state = 'sent', via = 'wechat_reply', \
                     reason = NULL, user_digest = NULL, sent_at = $1 \
                     WHERE notice_key = $2 AND state = 'waiting'",
                    vec![store::ts(now).into(), key.as_str().into()],
                )
                .await?;
            if given != 1 {
                continue;
            }
            if event_id.is_some() {
                close_notify_clock(&mut *ex, &report_id, now).await?;
            }
            parts.push(i18n::t(
                n.locale,
                "bots-feedback-update",
                &[("tracking_code", n.tracking_code), ("update", n.text)],
            ));
            tracing::info!(report_id = %report_id, "waiting notice given in a reply");
        }
        parts.push(reply);
        Ok(Some(parts.join("\n\n")))
    }
}
