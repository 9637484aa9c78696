-- Bots (CONTRACT §4): WeChat Official Account and WeCom callbacks. Same conventions as 0002:
-- UTC text times, 64-bit integers, binary columns. No openid or user id is stored in the
-- clear: users are known by a keyed digest (`Vault::request_digest`), and everything that
-- holds what they wrote is sealed by the vault.

-- One row per push the platform delivered, so that retries (the platform retries after 5 s,
-- up to three times, and may deliver the same push concurrently) are handled once and get
-- the same answer. The first request to insert the row owns it ('pending'); the others wait
-- for 'done' and return the saved reply. Rows are deleted after a day.
CREATE TABLE bot_pushes (
    push_digest     BYTEA    PRIMARY KEY,    -- keyed digest of platform, account, MsgId (or user + CreateTime)
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'done')),
    reply           BYTEA,                   -- sealed reply text; NULL while pending or for "no reply"
    key_id          BIGINT,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL
);
CREATE INDEX bot_pushes_created ON bot_pushes (created_at);

-- The conversation of one user with one account, so any instance can take the next
-- message. The state (answers so far, possibly name, ID number and phone) is sealed with a
-- context naming the row. `version` makes concurrent updates safe (compare-and-set).
CREATE TABLE bot_conversations (
    user_digest     BYTEA    PRIMARY KEY,    -- keyed digest of platform, account, openid
    state           BYTEA    NOT NULL,       -- sealed JSON
    key_id          BIGINT NOT NULL,
    version         BIGINT NOT NULL,
    updated_at      TEXT    NOT NULL,
    expires_at      TEXT    NOT NULL        -- updated_at + 30 minutes; purged a day later
);
CREATE INDEX bot_conversations_expires ON bot_conversations (expires_at);

-- Platform access tokens, shared by every instance and refreshed before they expire.
CREATE TABLE bot_tokens (
    platform        TEXT    NOT NULL,       -- wechat | wecom
    account         TEXT    NOT NULL,       -- the path segment of the account in the config
    token           BYTEA    NOT NULL,       -- sealed
    key_id          BIGINT NOT NULL,
    expires_at      TEXT    NOT NULL,
    PRIMARY KEY (platform, account)
);

-- Which bot account a tip came through, so feedback goes back to the same account. The
-- user's openid / WeCom user id is in reporter_identity (field openid), sealed.
CREATE TABLE bot_reporters (
    report_id       TEXT    PRIMARY KEY REFERENCES reports (id),
    platform        TEXT    NOT NULL,
    account         TEXT    NOT NULL,
    created_at      TEXT    NOT NULL
);
