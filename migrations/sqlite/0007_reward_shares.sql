-- Co-reporters (DOMAIN §5): a reward is split into shares, one per rewarded tip, in the
-- proportions the decision records. A joint report arrives as several tips (one reporter
-- each) merged into one case; each share goes to its tip's reporter, is claimed with that
-- tip's tracking code and passcode, and is paid by its own payment. A reward with no
-- co-reporters recorded has one share: the first valid reporter's, of the whole amount.
-- The reward's status follows its shares once notified (docs/rewards.md). A claim's
-- method, ID-digit digest and times are kept on its share; `rewards.id_check_digest` is no
-- longer written (its values move to the backfilled shares below).

CREATE TABLE reward_shares (
    id              TEXT    NOT NULL PRIMARY KEY,   -- UUIDv7; a backfilled share takes its reward's id
    reward_id       TEXT    NOT NULL REFERENCES rewards (id),
    report_id       TEXT    NOT NULL REFERENCES reports (id),   -- the tip whose reporter gets it
    seq             INTEGER NOT NULL,               -- order recorded (remainder ties go to the lower)
    weight          INTEGER NOT NULL CHECK (weight > 0),
    amount_fen      INTEGER NOT NULL CHECK (amount_fen >= 0),
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'notified', 'claimed', 'paid',
                                'expired')),
    claimed_at      TEXT,
    claim_method    TEXT    CHECK (claim_method IN ('bank_transfer', 'in_person')),
    -- Keyed digest (vault) of the ID-number digits an anonymous claimant gave, bound to the
    -- share; never the digits themselves.
    id_check_digest BLOB,
    paid_at         TEXT,
    expired_at      TEXT,
    UNIQUE (reward_id, report_id),
    UNIQUE (reward_id, seq)
);
CREATE INDEX reward_shares_report ON reward_shares (report_id);

-- Every existing reward becomes one share of its whole amount, to its beneficiary. The
-- share keeps the reward's id, so the digest of an anonymous claim (bound to that id) and
-- the claim rate-limit bucket stay valid. A reversed reward's share keeps where it had got.
INSERT INTO reward_shares (id, reward_id, report_id, seq, weight, amount_fen, status,
    claimed_at, claim_method, id_check_digest, paid_at, expired_at)
SELECT id, id, beneficiary_report_id, 0, 1, amount_fen,
    CASE
        WHEN status IN ('notified', 'claimed', 'paid', 'expired') THEN status
        WHEN status = 'reversed' AND paid_at IS NOT NULL THEN 'paid'
        WHEN status = 'reversed' AND claimed_at IS NOT NULL THEN 'claimed'
        WHEN status = 'reversed' AND notified_at IS NOT NULL THEN 'notified'
        ELSE 'pending'
    END,
    claimed_at, claim_method, id_check_digest, paid_at, expired_at
FROM rewards;

-- One payment per share (was: per reward). Rebuilt because the key changes: a new table,
-- the rows copied (a reward's payment is its backfilled share's), the old one dropped.
CREATE TABLE reward_payments_new (
    share_id        TEXT    NOT NULL PRIMARY KEY REFERENCES reward_shares (id),
    reward_id       TEXT    NOT NULL REFERENCES rewards (id),
    method          TEXT    NOT NULL CHECK (method IN ('bank_transfer', 'in_person')),
    reference       TEXT    NOT NULL,       -- bank transfer reference or receipt number
    amount_fen      INTEGER NOT NULL CHECK (amount_fen > 0),
    paid_on         TEXT    NOT NULL,
    year            INTEGER NOT NULL,       -- budget year (Asia/Shanghai)
    case_region     TEXT    NOT NULL,
    recorded_by     TEXT    NOT NULL REFERENCES staff_users (id),
    recorded_at     TEXT    NOT NULL
);
INSERT INTO reward_payments_new (share_id, reward_id, method, reference, amount_fen, paid_on,
    year, case_region, recorded_by, recorded_at)
SELECT reward_id, reward_id, method, reference, amount_fen, paid_on, year, case_region,
    recorded_by, recorded_at
FROM reward_payments;
DROP TABLE reward_payments;
ALTER TABLE reward_payments_new RENAME TO reward_payments;
CREATE INDEX reward_payments_year ON reward_payments (year, case_region);
CREATE INDEX reward_payments_reward ON reward_payments (reward_id);
