-- The keyed audit chain (src/audit/chain.rs). Entries written from now on are chained with
-- HMAC-SHA256 under a key derived from the master key (chain_version 2); the rows already
-- here keep their plain SHA-256 chain (chain_version 1) and stay verifiable as the log's
-- leading part: verify refuses a plain entry after a keyed one.
ALTER TABLE audit_log ADD COLUMN chain_version BIGINT NOT NULL DEFAULT 1;

-- Signed statements of the chain's head (src/audit/anchor.rs): taken daily by the service
-- and by `jubao audit anchor`. Ed25519 over the anchor's text; the public key is kept with
-- each so an auditor can check an exported copy without the vault.
CREATE TABLE audit_anchors (
    id          BIGSERIAL PRIMARY KEY,
    seq         BIGINT  NOT NULL,       -- the head entry anchored
    chain       BYTEA   NOT NULL,       -- its chain value
    entries     BIGINT  NOT NULL,       -- entries in the log up to it
    at          TEXT    NOT NULL,       -- when signed (UTC)
    public_key  BYTEA   NOT NULL,
    signature   BYTEA   NOT NULL
);
CREATE INDEX audit_anchors_at ON audit_anchors (at);
