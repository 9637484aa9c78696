-- Hotline bridge (CONTRACT §5): one row per call-centre work order that became a tip.
-- It lets status feedback go back to the call centre under its own `call_id` (the caller's
-- number never leaves the vault for that), and records where the call's recording is.
-- Retried work orders are answered from `idempotency` (scope `hotline:{source}`); the
-- primary key here is a second guard against a duplicate case for one call.
-- Same conventions as 0001/0002: UTC text times.

CREATE TABLE hotline_calls (
    source                  TEXT    NOT NULL,       -- [[hotline]] source, e.g. 12393
    call_id                 TEXT    NOT NULL,       -- the call centre's work-order id
    report_id               TEXT    NOT NULL UNIQUE REFERENCES reports (id),
    agent_id                TEXT    NOT NULL,       -- who took the call (also reports.recorded_by)
    received_at             TEXT    NOT NULL,       -- when the call centre took the call
    recording               TEXT    NOT NULL,       -- none | pending | stored | refused | failed
    recording_evidence_id   TEXT,                   -- the sealed recording, once stored
    PRIMARY KEY (source, call_id)
);
