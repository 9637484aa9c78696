-- Related tips and triage (issue 18). Links are computed after the tip is stored, by the
-- outbox job `related_tips` (src/workflow/related.rs), so intake never waits for them.

-- One row per band of a tip's MinHash signature (jubao_rules::similar): two tips that share
-- a bucket are candidates for `similar_text`. The primary key is the lookup index: the
-- cost of finding candidates follows the bucket's size, not the number of tips.
CREATE TABLE text_buckets (
    bucket      BIGINT  NOT NULL,
    report_id   TEXT    NOT NULL REFERENCES reports (id),
    PRIMARY KEY (bucket, report_id)
);
CREATE INDEX text_buckets_report ON text_buckets (report_id);

-- A link from a tip to an earlier one (received_at, then id, orders them): the reasons
-- (space-separated codes: same_target, same_reporter, similar_text, overlapping_period,
-- shared_categories) and the score 0–100. Never the identity: same_reporter says only
-- that the blind index matched.
CREATE TABLE related_links (
    report_id       TEXT    NOT NULL REFERENCES reports (id),
    related_id      TEXT    NOT NULL REFERENCES reports (id),
    reasons         TEXT    NOT NULL,
    score           BIGINT  NOT NULL,
    text_permille   BIGINT  NOT NULL,
    computed_at     TEXT    NOT NULL,
    PRIMARY KEY (report_id, related_id)
);
CREATE INDEX related_links_related ON related_links (related_id);

-- The tips of one reporter (blind-index rows by tip).
CREATE INDEX identity_index_report ON identity_index (report_id);
-- Tips about one institution in a region.
CREATE INDEX reports_target_region ON reports (target_key, case_region);

-- Triage: each tip's priority and its explanation (jubao_rules::triage), computed by the
-- same job. `factors` is JSON: one entry a factor with its value, weight and points; the
-- score is their sum. `repeated`: identical to an earlier tip from the same client
-- address (sorted down, never dropped).
CREATE TABLE tip_triage (
    report_id   TEXT    NOT NULL PRIMARY KEY REFERENCES reports (id),
    score       BIGINT NOT NULL,
    policy      TEXT    NOT NULL,
    factors     TEXT    NOT NULL,
    repeated    BIGINT NOT NULL DEFAULT 0,
    computed_at TEXT    NOT NULL
);
CREATE INDEX tip_triage_score ON tip_triage (score);

-- The client address an H5 tip came from, as a keyed digest (vault; never the address):
-- only to mark repeated identical tips.
ALTER TABLE reports ADD COLUMN client_digest BYTEA;
CREATE INDEX reports_client ON reports (client_digest, received_at);
