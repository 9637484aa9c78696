-- Separated duties among admins (DOMAIN §6, src/staff/duties.rs, src/staff/resets.rs).

-- A user an admin created signs in first with the admin's password and must choose their
-- own before anything else (the login's token then serves only POST /auth/password).
-- Users made by the bootstrap path (`jubao user add`, the setup code) chose their own.
ALTER TABLE staff_users ADD COLUMN password_change_required BIGINT NOT NULL DEFAULT 0;

-- Custodian, finance, auditor, legal and supervisor are granted only when a second admin
-- approves. Until then the role is here, pending, and not in staff_users.roles, so it gives
-- no access. One pending grant per user and role.
CREATE TABLE staff_role_grants (
    id              BIGSERIAL PRIMARY KEY,
    user_id         TEXT    NOT NULL REFERENCES staff_users (id),
    role            TEXT    NOT NULL,
    status          TEXT    NOT NULL,                   -- pending | approved | refused | withdrawn
    requested_by    TEXT    NOT NULL REFERENCES staff_users (id),
    requested_at    TEXT    NOT NULL,
    decided_by      TEXT    REFERENCES staff_users (id),
    decided_at      TEXT,
    decision_reason TEXT
);
CREATE INDEX staff_role_grants_status ON staff_role_grants (status);
CREATE UNIQUE INDEX staff_role_grants_pending ON staff_role_grants (user_id, role)
    WHERE status = 'pending';

-- Resetting another user's TOTP: one admin asks (with a reason), a different admin decides.
CREATE TABLE staff_totp_resets (
    id              BIGSERIAL PRIMARY KEY,
    user_id         TEXT    NOT NULL REFERENCES staff_users (id),
    reason          TEXT    NOT NULL,
    status          TEXT    NOT NULL,                   -- pending | approved | refused
    requested_by    TEXT    NOT NULL REFERENCES staff_users (id),
    requested_at    TEXT    NOT NULL,
    decided_by      TEXT    REFERENCES staff_users (id),
    decided_at      TEXT,
    decision_reason TEXT
);
CREATE INDEX staff_totp_resets_status ON staff_totp_resets (status);
CREATE UNIQUE INDEX staff_totp_resets_pending ON staff_totp_resets (user_id)
    WHERE status = 'pending';
