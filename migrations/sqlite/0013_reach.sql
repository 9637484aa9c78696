-- Reaching reporters and staff where they are (issue 17).

-- The configured account, robot or provider an outbox job goes to, by its name
-- (`robot ops-dingtalk`, `wechat demo`): the dead-letter list names it, so an admin knows
-- which robot was revoked or which account has a wrong template id. Never a person.
ALTER TABLE jobs ADD COLUMN target TEXT;

-- How each notice to a reporter went out (issue 17 part 5), one row per feedback job
-- (its de-duplication key): 'sent' through `via` (wechat_service, wechat_template,
-- wechat_subscribe, wechat_reply, wecom, email, hotline, page), or 'waiting' with the
-- fixed `reason` (outside_48h_no_template, unfollowed, not_subscribed). A notice waiting
-- on a chat holds the keyed digest of the chat user (as bot_conversations does, never the
-- openid) until it is given in the reply to that user's next message; then it is cleared.
CREATE TABLE notice_deliveries (
    notice_key  TEXT    PRIMARY KEY,
    report_id   TEXT    NOT NULL REFERENCES reports (id),
    event_id    INTEGER,
    message_id  INTEGER,
    state       TEXT    NOT NULL CHECK (state IN ('sent', 'waiting')),
    via         TEXT,
    reason      TEXT,
    user_digest BLOB,
    created_at  TEXT    NOT NULL,
    sent_at     TEXT
);
CREATE INDEX notice_deliveries_report ON notice_deliveries (report_id);
CREATE INDEX notice_deliveries_user ON notice_deliveries (user_digest);
CREATE INDEX notice_deliveries_state ON notice_deliveries (state, created_at);

-- How the reporter chose to be told (issue 17 part 4): channel (NULL: the same), sms,
-- email or page (only the status page). The status page always shows every notice.
ALTER TABLE reports ADD COLUMN notify_by TEXT;
