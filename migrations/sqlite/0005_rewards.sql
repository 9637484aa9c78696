-- Rewards and finance (DOMAIN §5): one reward per case, computed by a policy and kept with
-- its explanation; approvals under four eyes; the claim; one payment per reward; budgets
-- per year and region. Same conventions as 0001/0002: UTC text times, integer fen; dates
-- (claim_by, paid_on) are Asia/Shanghai YYYY-MM-DD.

-- A supervisor's marks on a case (Yunnan 2021 快奖、重奖): quick rewards get shorter
-- deadlines, heavy rewards the policy's multiplier (still under the cap).
ALTER TABLE reports ADD COLUMN reward_quick INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reports ADD COLUMN reward_heavy INTEGER NOT NULL DEFAULT 0;

CREATE TABLE rewards (
    id                      TEXT    PRIMARY KEY,            -- UUIDv7
    report_id               TEXT    NOT NULL UNIQUE REFERENCES reports (id),
    -- The tip whose reporter is rewarded: the case itself, or the earliest valid tip merged
    -- into it (DOMAIN §5 first reporter). Claims and the reporter's look-up go by this one.
    beneficiary_report_id   TEXT    NOT NULL REFERENCES reports (id),
    case_region             TEXT    NOT NULL,
    policy_id               TEXT    NOT NULL,
    policy_version          INTEGER NOT NULL,
    input                   TEXT    NOT NULL,               -- JSON: what the proposal stated
    computation             TEXT    NOT NULL,               -- JSON: how the amount was reached
    amount_fen              INTEGER NOT NULL CHECK (amount_fen >= 0),
    status                  TEXT    NOT NULL CHECK (status IN ('proposed', 'returned', 'approved',
                                'notified', 'claimed', 'paid', 'expired', 'reversed')),
    needs_supervisor        INTEGER NOT NULL,
    proposed_by             TEXT    NOT NULL REFERENCES staff_users (id),
    proposed_at             TEXT    NOT NULL,
    finance_approved_by     TEXT    REFERENCES staff_users (id),
    finance_approved_at     TEXT,
    supervisor_approved_by  TEXT    REFERENCES staff_users (id),
    supervisor_approved_at  TEXT,
    approved_at             TEXT,
    returned_by             TEXT    REFERENCES staff_users (id),
    returned_at             TEXT,
    return_reason           TEXT,
    notified_at             TEXT,
    claim_by                TEXT,
    claim_reminded_at       TEXT,
    claimed_at              TEXT,
    claim_method            TEXT    CHECK (claim_method IN ('bank_transfer', 'in_person')),
    -- Keyed digest (vault) of the ID-number digits an anonymous claimant gave, for the
    -- in-person check; never the digits themselves.
    id_check_digest         BLOB,
    paid_at                 TEXT,
    expired_at              TEXT,
    reversal_requested_by   TEXT    REFERENCES staff_users (id),
    reversal_requested_at   TEXT,
    reversal_reason         TEXT,
    reversed_by             TEXT    REFERENCES staff_users (id),
    reversed_at             TEXT,
    version                 INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX rewards_beneficiary ON rewards (beneficiary_report_id);
CREATE INDEX rewards_status ON rewards (status, case_region);
CREATE INDEX rewards_claim_by ON rewards (claim_by) WHERE status = 'notified';

-- At most one payment per reward: a second one is refused by the status check and, should
-- two race, by this primary key.
CREATE TABLE reward_payments (
    reward_id       TEXT    PRIMARY KEY REFERENCES rewards (id),
    method          TEXT    NOT NULL CHECK (method IN ('bank_transfer', 'in_person')),
    reference       TEXT    NOT NULL,       -- bank transfer reference or receipt number
    amount_fen      INTEGER NOT NULL CHECK (amount_fen > 0),
    paid_on         TEXT    NOT NULL,
    year            INTEGER NOT NULL,       -- budget year (Asia/Shanghai)
    case_region     TEXT    NOT NULL,
    recorded_by     TEXT    NOT NULL REFERENCES staff_users (id),
    recorded_at     TEXT    NOT NULL
);
CREATE INDEX reward_payments_year ON reward_payments (year, case_region);

-- The reward budget of a region for a year. The balance is computed: amount minus what was
-- paid and what approved rewards have committed.
CREATE TABLE reward_budgets (
    year        INTEGER NOT NULL,
    region      TEXT    NOT NULL,
    amount_fen  INTEGER NOT NULL CHECK (amount_fen >= 0),
    set_by      TEXT    NOT NULL REFERENCES staff_users (id),
    set_at      TEXT    NOT NULL,
    PRIMARY KEY (year, region)
);
