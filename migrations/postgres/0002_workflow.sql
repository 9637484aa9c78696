-- Workflow: staff accounts and sessions, the case columns on reports, clocks (legal
-- deadlines), the staff-side case record, identity-reveal requests, the hash-chained audit
-- log and the outbox (jobs). Same conventions as 0001: UTC text times, integer fen.

CREATE TABLE staff_users (
    id              TEXT    PRIMARY KEY,               -- UUIDv7
    username        TEXT    NOT NULL UNIQUE,
    display_name    TEXT    NOT NULL,
    email           TEXT,                              -- for reminders; staff, not reporters
    roles           TEXT    NOT NULL,                  -- comma-separated role codes
    region          TEXT    NOT NULL,                  -- 6-digit code; 000000 = national
    locale          TEXT    NOT NULL,
    password_hash   TEXT    NOT NULL,                  -- argon2id PHC string
    totp_secret     BYTEA,                              -- sealed by the vault; NULL until enrolled
    totp_last_step  BIGINT,                              -- last accepted time step (no replay)
    totp_enabled    BIGINT NOT NULL DEFAULT 0,
    failed_logins   BIGINT NOT NULL DEFAULT 0,
    locked_until    TEXT,
    open_cases      BIGINT NOT NULL DEFAULT 0,           -- open cases assigned (for assignment)
    active          BIGINT NOT NULL DEFAULT 1,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL
);

-- One row per login. The access token names its session, so logout and a replayed refresh
-- token revoke it for every instance, across restarts.
CREATE TABLE staff_sessions (
    id              TEXT    PRIMARY KEY,
    user_id         TEXT    NOT NULL REFERENCES staff_users (id),
    family          TEXT    NOT NULL,                  -- all sessions refreshed from one login
    refresh_digest  BYTEA    NOT NULL UNIQUE,           -- keyed digest; the token is never stored
    mfa             BIGINT NOT NULL,                  -- second factor passed at login
    created_at      TEXT    NOT NULL,
    expires_at      TEXT    NOT NULL,
    rotated_at      TEXT,                              -- refresh token used (reuse = replay)
    revoked_at      TEXT
);
CREATE INDEX staff_sessions_family ON staff_sessions (family);
CREATE INDEX staff_sessions_user ON staff_sessions (user_id);

-- Declared conflicts of interest: a user is recused from every case about the institution.
CREATE TABLE staff_conflicts (
    user_id     TEXT    NOT NULL REFERENCES staff_users (id),
    target_key  TEXT    NOT NULL,                      -- normalized institution name
    note        TEXT,
    declared_at TEXT    NOT NULL,
    PRIMARY KEY (user_id, target_key)
);
CREATE INDEX staff_conflicts_target ON staff_conflicts (target_key);

-- The one-time code that lets the first admin be created from the browser.
CREATE TABLE setup_codes (
    id          BIGINT PRIMARY KEY CHECK (id = 1),
    code_digest BYTEA    NOT NULL,
    created_at  TEXT    NOT NULL,
    used_at     TEXT
);

-- The case side of a report: where it belongs, who has it, whether it is still open.
ALTER TABLE reports ADD COLUMN case_region TEXT NOT NULL DEFAULT '000000';
ALTER TABLE reports ADD COLUMN target_key TEXT NOT NULL DEFAULT '';
ALTER TABLE reports ADD COLUMN assignee_id TEXT REFERENCES staff_users (id);
ALTER TABLE reports ADD COLUMN major BIGINT NOT NULL DEFAULT 0;
ALTER TABLE reports ADD COLUMN merged_into TEXT REFERENCES reports (id);
ALTER TABLE reports ADD COLUMN is_open BIGINT NOT NULL DEFAULT 1;
ALTER TABLE reports ADD COLUMN decision TEXT;             -- substantiated | partly | not_substantiated
ALTER TABLE reports ADD COLUMN verified_fen BIGINT;
ALTER TABLE reports ADD COLUMN recovered_fen BIGINT;
ALTER TABLE reports ADD COLUMN reward_due BIGINT;
ALTER TABLE reports ADD COLUMN decided_at TEXT;
ALTER TABLE reports ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
CREATE INDEX reports_inbox_region ON reports (case_region, is_open, received_at);
CREATE INDEX reports_inbox_assignee ON reports (assignee_id, is_open, received_at);
CREATE INDEX reports_target_key ON reports (target_key);

-- Legal clocks (DOMAIN §4). `next_check_on` is the next Asia/Shanghai date the sweep must
-- look at the clock (reminder, due day, escalation); NULL once closed. The sweep reads only
-- rows whose date has come, so its cost follows the due items, not the number of cases.
CREATE TABLE clocks (
    id              BIGSERIAL PRIMARY KEY,
    report_id       TEXT    NOT NULL REFERENCES reports (id),
    kind            TEXT    NOT NULL,   -- accept | notify_accept | handle | defence | feedback
    started_at      TEXT    NOT NULL,
    due_on          TEXT    NOT NULL,   -- last day (inclusive), Asia/Shanghai
    remind_on       TEXT    NOT NULL,
    stage           TEXT    NOT NULL,   -- pending | reminded | due | escalated
    next_check_on   TEXT,
    extension       TEXT,               -- NULL | complex | major
    closed_at       TEXT,
    outcome         TEXT                -- met | missed
);
CREATE INDEX clocks_sweep ON clocks (next_check_on) WHERE next_check_on IS NOT NULL;
CREATE INDEX clocks_overdue ON clocks (due_on) WHERE closed_at IS NULL;
CREATE INDEX clocks_report ON clocks (report_id, kind);

-- The staff-side record of a case: transitions, assignments, findings, collective decisions,
-- legal reviews, statement and defence, extensions, messages. `data` is JSON.
CREATE TABLE case_events (
    id          BIGSERIAL PRIMARY KEY,
    report_id   TEXT    NOT NULL REFERENCES reports (id),
    at          TEXT    NOT NULL,
    actor_id    TEXT    REFERENCES staff_users (id),
    kind        TEXT    NOT NULL,
    from_status TEXT,
    to_status   TEXT,
    reason      TEXT,
    data        TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX case_events_report ON case_events (report_id, id);

CREATE TABLE extension_requests (
    id              TEXT    PRIMARY KEY,
    report_id       TEXT    NOT NULL REFERENCES reports (id),
    kind            TEXT    NOT NULL,       -- complex (3 months) | major (6 months)
    requested_by    TEXT    NOT NULL REFERENCES staff_users (id),
    reason          TEXT    NOT NULL,
    requested_at    TEXT    NOT NULL,
    state           TEXT    NOT NULL,       -- pending | approved | denied
    decided_by      TEXT    REFERENCES staff_users (id),
    decision_reason TEXT,
    decided_at      TEXT
);
CREATE INDEX extension_requests_report ON extension_requests (report_id);

-- Identity reveal (custodian model): requested with a reason, decided by a custodian,
-- opened once for the requester.
CREATE TABLE identity_requests (
    id              TEXT    PRIMARY KEY,
    report_id       TEXT    NOT NULL REFERENCES reports (id),
    requested_by    TEXT    NOT NULL REFERENCES staff_users (id),
    reason          TEXT    NOT NULL,
    requested_at    TEXT    NOT NULL,
    state           TEXT    NOT NULL,       -- pending | approved | denied | revealed
    decided_by      TEXT    REFERENCES staff_users (id),
    decision_reason TEXT,
    decided_at      TEXT,
    revealed_at     TEXT
);
CREATE INDEX identity_requests_state ON identity_requests (state, requested_at);
CREATE INDEX identity_requests_report ON identity_requests (report_id);

-- Append-only audit log, hash-chained: hash = SHA-256(prev_hash || canonical entry).
-- audit_head holds the last seq and hash; updating it first serializes appenders.
CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          TEXT    NOT NULL,
    actor_id    TEXT,
    actor       TEXT    NOT NULL,       -- username, or 'system' / 'anonymous'
    action      TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,       -- ok | denied
    report_id   TEXT,
    detail      TEXT    NOT NULL,       -- JSON, never identity
    prev_hash   BYTEA    NOT NULL,
    hash        BYTEA    NOT NULL
);
CREATE INDEX audit_log_report ON audit_log (report_id, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE TABLE audit_head (
    id      BIGINT PRIMARY KEY CHECK (id = 1),
    seq     BIGINT NOT NULL,
    hash    BYTEA    NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, decode('0000000000000000000000000000000000000000000000000000000000000000', 'hex'));

-- The outbox: every notification is a row written in the transaction that causes it.
-- Workers lease rows (locked_until), delete them on success, back off on failure, and
-- move them to state 'dead' after max_attempts, where an admin sees and retries them.
CREATE TABLE jobs (
    id              BIGSERIAL PRIMARY KEY,
    kind            TEXT    NOT NULL,
    payload         TEXT    NOT NULL,       -- JSON; opaque ids only, never identity
    dedupe_key      TEXT    UNIQUE,
    priority        BIGINT NOT NULL DEFAULT 0,
    run_at          TEXT    NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    max_attempts    BIGINT NOT NULL,
    locked_until    TEXT,
    state           TEXT    NOT NULL DEFAULT 'ready',   -- ready | dead
    last_error      TEXT,
    created_at      TEXT    NOT NULL
);
CREATE INDEX jobs_ready ON jobs (state, priority, run_at);
