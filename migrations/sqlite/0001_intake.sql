-- Intake: tips from every channel, the reporter's sealed identity, evidence, the reporter's
-- timeline and messages, and the small tables intake needs (keys, idempotency, rate limits).
-- Times are UTC text (RFC 3339, microseconds, 'Z'); money is integer fen.

-- Data-encryption keys, each wrapped (AES-256-GCM) by the master key. One is 'active';
-- 'retiring' keys still open old values until `jubao keys rotate` has re-sealed them.
CREATE TABLE vault_keys (
    id          INTEGER PRIMARY KEY,
    wrapped     BLOB    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('active', 'retiring', 'retired')),
    created_at  TEXT    NOT NULL
);

CREATE TABLE reports (
    id                  TEXT    PRIMARY KEY,          -- UUIDv7, internal only
    tracking_code       TEXT    NOT NULL UNIQUE,      -- given to the reporter
    passcode_hash       BLOB    NOT NULL,             -- keyed hash; the passcode is never stored
    channel             TEXT    NOT NULL,             -- h5 | wechat | wecom | hotline | staff
    status              TEXT    NOT NULL,
    target_name         TEXT    NOT NULL,
    target_kind         TEXT    NOT NULL,
    target_region       TEXT,                         -- 6-digit administrative code
    target_address      TEXT,
    categories          TEXT    NOT NULL,             -- space-separated codes (also in report_categories)
    description         TEXT    NOT NULL,
    occurred_from       TEXT,
    occurred_to         TEXT,
    amount_estimate_fen INTEGER,
    anonymous           INTEGER NOT NULL,
    relation            TEXT,
    locale              TEXT    NOT NULL,
    recorded_by         TEXT,                         -- staff or agent who recorded a non-written report
    received_at         TEXT    NOT NULL,
    accept_by           TEXT    NOT NULL              -- Asia/Shanghai date, DOMAIN §4
);
CREATE INDEX reports_status_received ON reports (status, received_at);
CREATE INDEX reports_region ON reports (target_region, received_at);

CREATE TABLE report_categories (
    report_id   TEXT NOT NULL REFERENCES reports (id),
    category    TEXT NOT NULL,
    PRIMARY KEY (report_id, category)
);

-- One row per reporter; every column but the ids is a sealed value (vault), bound to the
-- report and the field. key_id says which data key sealed the row, for rotation.
CREATE TABLE reporter_identity (
    report_id       TEXT    PRIMARY KEY REFERENCES reports (id),
    key_id          INTEGER NOT NULL,
    name            BLOB,
    id_number       BLOB,
    phone           BLOB,
    email           BLOB,
    openid          BLOB,
    caller_number   BLOB,
    bank_account    BLOB
);
CREATE INDEX reporter_identity_key ON reporter_identity (key_id);

-- Keyed blind index (HMAC-SHA256) for equality search on phone and ID number.
CREATE TABLE identity_index (
    field       TEXT NOT NULL,
    digest      BLOB NOT NULL,
    report_id   TEXT NOT NULL REFERENCES reports (id),
    PRIMARY KEY (field, digest, report_id)
);

-- What the reporter sees: status changes and their own additions, in plain language.
CREATE TABLE report_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id   TEXT    NOT NULL REFERENCES reports (id),
    at          TEXT    NOT NULL,
    kind        TEXT    NOT NULL,      -- status | message
    status      TEXT    NOT NULL,      -- the status after the event
    public_note TEXT                   -- optional plain-language note for the reporter
);
CREATE INDEX report_events_report ON report_events (report_id, id);

CREATE TABLE report_messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id   TEXT    NOT NULL REFERENCES reports (id),
    at          TEXT    NOT NULL,
    author      TEXT    NOT NULL CHECK (author IN ('reporter', 'staff')),
    body        TEXT    NOT NULL
);
CREATE INDEX report_messages_report ON report_messages (report_id, id);

-- Evidence metadata; the bytes live sealed in evidence_blobs (see src/evidence/store.rs).
CREATE TABLE evidence (
    id                  TEXT    PRIMARY KEY,
    report_id           TEXT    NOT NULL REFERENCES reports (id),
    message_id          INTEGER,
    seq                 INTEGER NOT NULL,
    kind                TEXT    NOT NULL,         -- image | pdf | audio | video
    media_type          TEXT    NOT NULL,         -- sniffed, not declared
    size_bytes          INTEGER NOT NULL,
    sha256              TEXT    NOT NULL,         -- of the original, for chain of custody
    working_media_type  TEXT,
    working_sha256      TEXT,
    width               INTEGER,
    height              INTEGER,
    created_at          TEXT    NOT NULL
);
CREATE INDEX evidence_report ON evidence (report_id, seq);

CREATE TABLE evidence_blobs (
    evidence_id TEXT    NOT NULL REFERENCES evidence (id),
    variant     TEXT    NOT NULL CHECK (variant IN ('original', 'working')),
    key_id      INTEGER NOT NULL,
    data        BLOB    NOT NULL,
    PRIMARY KEY (evidence_id, variant)
);
CREATE INDEX evidence_blobs_key ON evidence_blobs (key_id);

-- Stored outcomes of requests carrying an Idempotency-Key (H5 double-taps, bot retries,
-- hotline call ids). The saved response is sealed: it holds a passcode.
CREATE TABLE idempotency (
    scope           TEXT    NOT NULL,
    key_digest      BLOB    NOT NULL,
    request_digest  BLOB    NOT NULL,
    report_id       TEXT,
    status_code     INTEGER NOT NULL,
    response        BLOB    NOT NULL,
    key_id          INTEGER NOT NULL,
    created_at      TEXT    NOT NULL,
    PRIMARY KEY (scope, key_digest)
);
CREATE INDEX idempotency_key ON idempotency (key_id);

CREATE TABLE rate_limits (
    bucket          TEXT    PRIMARY KEY,
    window_start    INTEGER NOT NULL,
    count           INTEGER NOT NULL
);
