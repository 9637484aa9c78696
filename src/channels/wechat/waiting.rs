//! Notices that could not be sent to a chat user (outside the 48-hour window with no
//! template, unfollowed, not subscribed) wait in `notice_deliveries` under the user's keyed
//! digest; the next reply to that user gives them, oldest first, before its own text. Each
//! is marked given with a conditional update, so two instances answering two messages of
//! the same user at once give it once.

use chrono::Utc;
use sqlx::AnyConnection;

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
        conn: &mut AnyConnection,
        user: &[u8; 32],
        reply: Option<String>,
    ) -> anyhow::Result<Option<String>> {
        let Some(reply) = reply else { return Ok(None) };
        let rows: Vec<(String, String, Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT notice_key, report_id, event_id, message_id FROM notice_deliveries \
             WHERE user_digest = $1 AND state = 'waiting' ORDER BY created_at, notice_key \
             LIMIT $2",
        )
        .bind(&user[..])
        .bind(PER_REPLY)
        .fetch_all(&mut *conn)
        .await?;
        if rows.is_empty() {
            return Ok(Some(reply));
        }
        let now = Utc::now();
        let mut parts = vec![];
        for (key, report_id, event_id, message_id) in rows {
            let Some(n) = compose(conn, &report_id, event_id, message_id).await? else {
                continue;
            };
            let given = sqlx::query(
                "UPDATE notice_deliveries SET state = 'sent', via = 'wechat_reply', \
                 reason = NULL, user_digest = NULL, sent_at = $1 \
                 WHERE notice_key = $2 AND state = 'waiting'",
            )
            .bind(store::ts(now))
            .bind(&key)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if given != 1 {
                continue;
            }
            if event_id.is_some() {
                close_notify_clock(conn, &report_id, now).await?;
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
