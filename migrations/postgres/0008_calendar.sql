-- Deadlines that stay right across years (DOMAIN §4). Each clock keeps what it needs to be
-- computed again from its own start when a year's holiday notice is added: the day its
-- period counts from, the period (unit and length), how early its reminder goes out, and the
-- deadline rule (id@version) it was computed under. `provisional` = 1 while its due date
-- crosses a year with no notice loaded.
ALTER TABLE clocks ADD COLUMN start_on TEXT;
ALTER TABLE clocks ADD COLUMN period_unit TEXT NOT NULL DEFAULT 'working_days';  -- working_days | months | days
ALTER TABLE clocks ADD COLUMN period_len BIGINT NOT NULL DEFAULT 0;
ALTER TABLE clocks ADD COLUMN provisional BIGINT NOT NULL DEFAULT 0;
ALTER TABLE clocks ADD COLUMN rule TEXT;
ALTER TABLE clocks ADD COLUMN remind_before BIGINT NOT NULL DEFAULT 1;
-- Rows written before this migration: start_on NULL until the service fills them in at
-- start (deadlines::published::backfill).
CREATE INDEX clocks_provisional ON clocks (id) WHERE provisional = 1 AND closed_at IS NULL;
CREATE INDEX clocks_legacy ON clocks (id) WHERE start_on IS NULL;

-- The holiday notices in force, published by the instance that loaded them (at start or by
-- `jubao calendar reload`), so that every instance counts with the same calendar. A year
-- from a file replaces a different copy; a built-in year never replaces one.
CREATE TABLE holiday_years (
    year         BIGINT  PRIMARY KEY,
    origin       TEXT    NOT NULL,     -- "file cn-2027.toml" | "built in"
    body         TEXT    NOT NULL,     -- the TOML text
    digest       TEXT    NOT NULL,     -- SHA-256 of body, hex
    published_at TEXT    NOT NULL
);
-- Bumped whenever holiday_years changes: instances poll it and reload. `warned_on` makes the
-- daily provisional-deadline warning come from one instance a day.
CREATE TABLE calendar_state (
    id          BIGINT  PRIMARY KEY CHECK (id = 1),
    generation  BIGINT  NOT NULL,
    updated_at  TEXT    NOT NULL,
    warned_on   TEXT
);
INSERT INTO calendar_state (id, generation, updated_at) VALUES (1, 0, '1970-01-01T00:00:00.000000Z');

-- Staff entry of a letter, visit or call: the day it reached the bureau (its clocks start
-- then), distinct from received_at (when it was recorded).
ALTER TABLE reports ADD COLUMN received_on TEXT;
