-- Retention and crypto-shredding (issue 19, DOMAIN §8).

-- Per-case data keys. A case's identity fields and evidence originals are sealed under its
-- `identity` key, its sanitized evidence (working copies) under its `sanitized` key. Each
-- key is wrapped under the shred chain's key for `epoch` (src/vault/shred.rs), the last
-- day on which it can still be opened; the retention run either purges the case on the
-- next day or re-wraps the key under a later epoch. Rows sealed before this migration keep
-- their data-key sealing (reporter_identity.key_id and evidence_blobs.key_id > 0); 0 there
-- means "sealed under the case key".
CREATE TABLE case_keys (
    report_id   TEXT    NOT NULL REFERENCES reports (id),
    kind        TEXT    NOT NULL CHECK (kind IN ('identity', 'sanitized')),
    epoch       TEXT    NOT NULL,           -- YYYY-MM-DD (Asia/Shanghai)
    wrapped     BLOB,                       -- NULL once shredded
    created_at  TEXT    NOT NULL,
    shredded_at TEXT,
    PRIMARY KEY (report_id, kind)
);
CREATE INDEX case_keys_epoch ON case_keys (epoch);

-- The shred chain's position: the day whose chain value the instances' shred key files
-- hold, and a check value of that chain value (a key file that does not match is refused).
CREATE TABLE shred_state (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    epoch       TEXT    NOT NULL,
    check_value BLOB    NOT NULL
);

-- Legal holds: while one is in force (not lifted) nothing of the case is purged.
CREATE TABLE legal_holds (
    id          TEXT    PRIMARY KEY,
    report_id   TEXT    NOT NULL REFERENCES reports (id),
    reason      TEXT    NOT NULL,
    placed_by   TEXT    NOT NULL,
    placed_at   TEXT    NOT NULL,
    lifted_by   TEXT,
    lifted_at   TEXT,
    lift_reason TEXT
);
CREATE INDEX legal_holds_report ON legal_holds (report_id);

-- What the retention run purged, per case and stage (never the data): the run resumes from
-- here and the case page shows it.
CREATE TABLE retention_purges (
    report_id   TEXT    NOT NULL REFERENCES reports (id),
    stage       TEXT    NOT NULL CHECK (stage IN ('identity', 'sanitized')),
    policy      TEXT    NOT NULL,           -- policy id and version, e.g. default@1
    purged_at   TEXT    NOT NULL,
    PRIMARY KEY (report_id, stage)
);

-- The daily run: the day it last ran (claimed by one instance a day).
CREATE TABLE retention_state (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    ran_on      TEXT
);
INSERT INTO retention_state (id, ran_on) VALUES (1, NULL);

-- Typical cases (典型案例曝光, DOMAIN §8): drafted by a handler from a decided case, reviewed
-- by legal, published on a supervisor's approval (never by the drafter), withdrawn by a
-- supervisor. Their text is checked against the case's reporter data before each step.
CREATE TABLE typical_cases (
    id                  TEXT    PRIMARY KEY,
    report_id           TEXT    NOT NULL REFERENCES reports (id),
    case_region         TEXT    NOT NULL,
    status              TEXT    NOT NULL CHECK (status IN ('draft', 'reviewed', 'returned',
                                    'published', 'withdrawn')),
    title               TEXT    NOT NULL,
    institution_kind    TEXT    NOT NULL,
    region              TEXT    NOT NULL,       -- the 6-digit code shown (province or city)
    summary             TEXT    NOT NULL,       -- what was done
    legal_basis         TEXT    NOT NULL,
    penalty             TEXT    NOT NULL,
    recovered_fen       INTEGER NOT NULL CHECK (recovered_fen >= 0),
    drafted_by          TEXT    NOT NULL REFERENCES staff_users (id),
    drafted_at          TEXT    NOT NULL,
    reviewed_by         TEXT    REFERENCES staff_users (id),
    reviewed_at         TEXT,
    review_note         TEXT,
    approved_by         TEXT    REFERENCES staff_users (id),
    published_at        TEXT,
    withdrawn_by        TEXT    REFERENCES staff_users (id),
    withdrawn_at        TEXT,
    withdraw_reason     TEXT
);
CREATE INDEX typical_cases_status ON typical_cases (status, published_at);
CREATE INDEX typical_cases_report ON typical_cases (report_id);
