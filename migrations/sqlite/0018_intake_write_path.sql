-- Fewer B-tree entries for each new tip (issue 20: most of the intake writer's time is its
-- B-tree inserts and the pages they dirty, written to the WAL at each commit).
--
-- 1. The tables that are looked up only by their composite primary key are stored in it
--    (WITHOUT ROWID): one B-tree a table instead of the rowid table and the key's index.
--    Same columns, same key, same rows; nothing refers to their rowids.
-- 2. reports_target_key (target_key) is a prefix of reports_target_region
--    (target_key, case_region), which serves every lookup by target_key.

CREATE TABLE report_categories_v2 (
    report_id   TEXT NOT NULL REFERENCES reports (id),
    category    TEXT NOT NULL,
    PRIMARY KEY (report_id, category)
) WITHOUT ROWID;
INSERT INTO report_categories_v2 (report_id, category)
    SELECT report_id, category FROM report_categories;
DROP TABLE report_categories;
ALTER TABLE report_categories_v2 RENAME TO report_categories;

CREATE TABLE identity_index_v2 (
    field       TEXT NOT NULL,
    digest      BLOB NOT NULL,
    report_id   TEXT NOT NULL REFERENCES reports (id),
    PRIMARY KEY (field, digest, report_id)
) WITHOUT ROWID;
INSERT INTO identity_index_v2 (field, digest, report_id)
    SELECT field, digest, report_id FROM identity_index;
DROP TABLE identity_index;
ALTER TABLE identity_index_v2 RENAME TO identity_index;
CREATE INDEX identity_index_report ON identity_index (report_id);

CREATE TABLE case_keys_v2 (
    report_id   TEXT    NOT NULL REFERENCES reports (id),
    kind        TEXT    NOT NULL CHECK (kind IN ('identity', 'sanitized')),
    epoch       TEXT    NOT NULL,           -- YYYY-MM-DD (Asia/Shanghai)
    wrapped     BLOB,                       -- NULL once shredded
    created_at  TEXT    NOT NULL,
    shredded_at TEXT,
    PRIMARY KEY (report_id, kind)
) WITHOUT ROWID;
INSERT INTO case_keys_v2 (report_id, kind, epoch, wrapped, created_at, shredded_at)
    SELECT report_id, kind, epoch, wrapped, created_at, shredded_at FROM case_keys;
DROP TABLE case_keys;
ALTER TABLE case_keys_v2 RENAME TO case_keys;
CREATE INDEX case_keys_epoch ON case_keys (epoch);

DROP INDEX reports_target_key;
