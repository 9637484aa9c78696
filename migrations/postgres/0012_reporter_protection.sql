-- Reporter protection (issue 15 items 7 and 8): rewards reach the reporter, not whoever
-- holds the passcode; recusal by institution code; nothing linkable for case staff.

-- The claim verifier a reporter may set with the tip: a keyed digest (key derived in the
-- vault, like the blind index) of the last six characters of their ID number, bound to
-- the tip. Never the characters. A bank-transfer claim must present a matching one.
CREATE TABLE claim_verifiers (
    report_id   TEXT    NOT NULL PRIMARY KEY REFERENCES reports (id),
    digest      BYTEA   NOT NULL,
    set_at      TEXT    NOT NULL
);

-- A passcode the reporter chose on the status page (argon2id, PHC string). When set,
-- it replaces the issued one (passcode_hash is no longer accepted).
ALTER TABLE reports ADD COLUMN passcode_phc TEXT;
ALTER TABLE reports ADD COLUMN passcode_changed_at TEXT;

-- The reported institution's code (统一社会信用代码 or 定点医药机构编码), normalized, when
-- the tip gives it; a conflict may be declared by code as well as by name.
ALTER TABLE reports ADD COLUMN target_code TEXT;
CREATE INDEX reports_target_code ON reports (target_code);
ALTER TABLE staff_conflicts ADD COLUMN target_code TEXT;
CREATE INDEX staff_conflicts_code ON staff_conflicts (target_code);

-- Institution names are normalized by a newer rule (punctuation, legal-form suffixes):
-- the service re-keys stored names once at start-up and records the rule's version here.
CREATE TABLE normalizations (
    name        TEXT    NOT NULL PRIMARY KEY,
    version     INTEGER NOT NULL
);

-- An in-person claim's identity check, recorded by two distinct finance officers: the
-- first records the characters shown (as a keyed digest bound to the share), the second
-- confirms with the same characters. The payment in person needs it confirmed. share_id
-- is a reward_shares id, without a foreign key so the file applies on its own.
CREATE TABLE reward_identity_checks (
    share_id     TEXT    NOT NULL PRIMARY KEY,
    digest       BYTEA   NOT NULL,
    checked_by   TEXT    NOT NULL REFERENCES staff_users (id),
    checked_at   TEXT    NOT NULL,
    confirmed_by TEXT    REFERENCES staff_users (id),
    confirmed_at TEXT
);
