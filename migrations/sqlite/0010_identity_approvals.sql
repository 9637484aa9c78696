-- A reveal may need several custodians (`[identity] approvals_required`): one row per
-- custodian who approved, none of them the requester. The request turns `approved` when
-- enough rows exist; a refusal by any custodian turns it `denied`.
CREATE TABLE identity_approvals (
    request_id   TEXT    NOT NULL REFERENCES identity_requests (id),
    custodian_id TEXT    NOT NULL REFERENCES staff_users (id),
    reason       TEXT    NOT NULL,
    decided_at   TEXT    NOT NULL,
    PRIMARY KEY (request_id, custodian_id)
);

-- An evidence original is opened like an identity (it may carry the reporter's name, a
-- device serial, a GPS tag): a request that names the evidence, decided by custodians.
ALTER TABLE identity_requests ADD COLUMN evidence_id TEXT REFERENCES evidence (id);
