//! The vault: the only module that holds a key or turns a sealed identity back into text.
//!
//! Keys: a master key (from `JUBAO_MASTER_KEY` or a 0600 key file) wraps data keys stored in
//! `vault_keys`; identity fields, evidence, saved receipts, staff TOTP secrets and the bots'
//! conversations, saved replies and tokens are sealed with the active data key, each bound
//! to the row it belongs to ([`context`]); `jubao keys rotate` re-seals all of them and
//! `--retire` then destroys the old keys ([`rotate`]). Sub-keys for the blind index, passcode hashes, idempotency keys and the audit chain
//! ([`AuditKey`]) are derived from the master key, so they survive data-key rotation.
//!
//! Instances share keys through the database: each re-reads which key is active every
//! [`ACTIVE_KEY_TTL`], so after `jubao keys rotate` creates a new key every instance seals
//! with it within that time, and the rotation re-seals whatever was written meanwhile.

pub mod audit_key;
pub mod claims;
pub mod context;
/// Sealing, key derivation and keyed digests: pure, in `crates/rules`.
pub use jubao_rules::crypto;
pub use jubao_rules::escrow;
mod casekeys;
pub mod identity;
mod reseal;
pub mod rotate;
pub mod shred;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use base64::Engine;
use chrono::Utc;

pub use audit_key::AuditKey;
pub use casekeys::CaseKeys;
use crypto::CryptoError;
pub use crypto::SecretKey;
pub use identity::{Identity, IdentityField, SealedIdentity};
pub use shred::{CaseKeyKind, ShredError, Shredder};

use crate::store::{self, Db};

/// How long an instance trusts its idea of the active key before asking the database.
pub const ACTIVE_KEY_TTL: Duration = Duration::from_secs(2);

struct Ring {
    keys: HashMap<u32, SecretKey>,
    active: u32,
    checked: Instant,
}

pub struct Vault {
    db: Db,
    master: SecretKey,
    blind: SecretKey,
    passcode: SecretKey,
    request: SecretKey,
    claim: SecretKey,
    token: SecretKey,
    audit: Arc<AuditKey>,
    ring: RwLock<Ring>,
    /// Per-case keys and the shred chain ([`shred`]); without it (tools and benches that
    /// open the vault with [`Vault::open`]) new values are sealed under the data key.
    shred: Option<Shredder>,
}

/// A snapshot of the active data key, to seal several values at once without locking.
#[derive(Clone)]
pub struct Sealer {
    key_id: u32,
    key: SecretKey,
}

impl Sealer {
    pub fn key_id(&self) -> i64 {
        i64::from(self.key_id)
    }

    fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        crypto::seal(&self.key, self.key_id, aad, plaintext)
    }

    /// Seal a large blob bound to `context`, reusing its buffer (evidence originals).
    pub fn seal_blob_owned(&self, context: &str, plaintext: Vec<u8>) -> Vec<u8> {
        crypto::seal_in_place(
            &self.key,
            self.key_id,
            format!("jubao/blob/v1|{context}").as_bytes(),
            plaintext,
        )
    }

    /// Seal evidence bytes (or any opaque blob) bound to `context`.
    pub fn seal_blob(&self, context: &str, plaintext: &[u8]) -> Vec<u8> {
        self.seal(format!("jubao/blob/v1|{context}").as_bytes(), plaintext)
    }

    /// Seal one variant of an evidence file, bound to its report (in place: a 20 MB file is
    /// never held twice).
    pub fn seal_evidence(
        &self,
        report_id: &str,
        evidence_id: &str,
        variant: &str,
        plaintext: Vec<u8>,
    ) -> Vec<u8> {
        self.seal_blob_owned(
            &context::evidence_context(report_id, evidence_id, variant),
            plaintext,
        )
    }
}

/// The configured master key: `JUBAO_MASTER_KEY` from the environment, else `file`.
pub fn configured_master_key(file: &Path) -> anyhow::Result<SecretKey> {
    load_master_key(std::env::var("JUBAO_MASTER_KEY").ok(), file)
}

/// Load the master key: `JUBAO_MASTER_KEY` (base64, 32 bytes) if set, else the key file,
/// which is created with mode 0600 when missing.
pub fn load_master_key(env_value: Option<String>, file: &Path) -> anyhow::Result<SecretKey> {
    let b64 = base64::engine::general_purpose::STANDARD;
    if let Some(v) = env_value.filter(|v| !v.trim().is_empty()) {
        let raw = b64
            .decode(v.trim())
            .map_err(|_| anyhow!("JUBAO_MASTER_KEY is not base64"))?;
        return SecretKey::from_slice(&raw)
            .ok_or_else(|| anyhow!("JUBAO_MASTER_KEY must decode to 32 bytes"));
    }
    match std::fs::read_to_string(file) {
        Ok(text) => {
            let raw = b64
                .decode(text.trim())
                .map_err(|_| anyhow!("{} is not base64", file.display()))?;
            SecretKey::from_slice(&raw)
                .ok_or_else(|| anyhow!("{} must hold 32 bytes (base64)", file.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SecretKey::generate();
            write_key_file(file, &b64.encode(key.as_bytes()))?;
            tracing::warn!(path = %file.display(), "generated a new master key; back it up");
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", file.display())),
    }
}

/// Write `key` as a new key file (mode 0600); refused when the file exists.
pub fn write_master_key(file: &Path, key: &SecretKey) -> anyhow::Result<()> {
    let b64 = base64::engine::general_purpose::STANDARD;
    write_key_file(file, &b64.encode(key.as_bytes()))
}

fn write_key_file(file: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(file)
        .with_context(|| format!("creating {}", file.display()))?;
    f.write_all(contents.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    Ok(())
}

fn dek_aad(id: u32) -> Vec<u8> {
    format!("jubao/dek/v1|{id}").into_bytes()
}

impl Vault {
    /// Open the vault over `db`, creating the first data key on a new database.
    pub async fn open(db: Db, master: SecretKey) -> anyhow::Result<Self> {
        let vault = Self {
            blind: master.derive("blind-index"),
            passcode: master.derive("passcode"),
            request: master.derive("request-digest"),
            claim: master.derive("claim-verifier"),
            token: master.derive("staff-token"),
            audit: Arc::new(AuditKey::derive(&master)),
            master,
            db,
            ring: RwLock::new(Ring {
                keys: HashMap::new(),
                active: 0,
                checked: Instant::now() - ACTIVE_KEY_TTL * 2,
            }),
            shred: None,
        };
        vault.ensure_first_key().await?;
        vault.reload().await?;
        Ok(vault)
    }

    /// As [`Vault::open`], with per-case keys wrapped by the shred chain held in
    /// `shred_key_file` (created with the chain on a new installation); new case keys are
    /// wrapped for `horizon_days` ahead.
    pub async fn open_shredding(
        db: Db,
        master: SecretKey,
        shred_key_file: &Path,
        horizon_days: u32,
    ) -> anyhow::Result<Self> {
        let shred = Shredder::open(&db, &master, shred_key_file, horizon_days).await?;
        let mut vault = Self::open(db, master).await?;
        vault.shred = Some(shred);
        Ok(vault)
    }

    async fn ensure_first_key(&self) -> anyhow::Result<()> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vault_keys")
            .fetch_one(&self.db.pool)
            .await?;
        if n > 0 {
            return Ok(());
        }
        let dek = SecretKey::generate();
        let wrapped = crypto::seal(&self.master, 0, &dek_aad(1), dek.as_bytes());
        // Two instances starting at once on a new database: one insert wins.
        sqlx::query(
            "INSERT INTO vault_keys (id, wrapped, state, created_at) VALUES (1, $1, 'active', $2) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(wrapped)
        .bind(store::ts(Utc::now()))
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    /// Re-read the key table.
    async fn reload(&self) -> anyhow::Result<()> {
        let rows: Vec<(i64, Vec<u8>, String)> =
            sqlx::query_as("SELECT id, wrapped, state FROM vault_keys ORDER BY id")
                .fetch_all(&self.db.pool)
                .await?;
        let mut keys = HashMap::new();
        let mut active = None;
        for (id, wrapped, state) in rows {
            let id = u32::try_from(id).context("key id out of range")?;
            let raw = crypto::open(&self.master, &dek_aad(id), &wrapped).map_err(|_| {
                anyhow!("data key {id} does not open with this master key (wrong master key?)")
            })?;
            let key = SecretKey::from_slice(&raw).ok_or_else(|| anyhow!("data key {id} size"))?;
            if state == "active" {
                active = Some(active.map_or(id, |a: u32| a.max(id)));
            }
            keys.insert(id, key);
        }
        let active = active.ok_or_else(|| anyhow!("no active data key in vault_keys"))?;
        let mut ring = self
            .ring
            .write()
            .map_err(|_| anyhow!("key ring lock poisoned"))?;
        *ring = Ring {
            keys,
            active,
            checked: Instant::now(),
        };
        Ok(())
    }

    /// The active data key, re-checked against the database every [`ACTIVE_KEY_TTL`].
    pub async fn sealer(&self) -> anyhow::Result<Sealer> {
        let stale = {
            let ring = self
                .ring
                .read()
                .map_err(|_| anyhow!("key ring lock poisoned"))?;
            ring.checked.elapsed() > ACTIVE_KEY_TTL
        };
        if stale {
            let active: Option<i64> =
                sqlx::query_scalar("SELECT MAX(id) FROM vault_keys WHERE state = 'active'")
                    .fetch_one(&self.db.pool)
                    .await?;
            let known = {
                let mut ring = self
                    .ring
                    .write()
                    .map_err(|_| anyhow!("key ring lock poisoned"))?;
                ring.checked = Instant::now();
                active.and_then(|a| u32::try_from(a).ok()) == Some(ring.active)
            };
            if !known {
                self.reload().await?;
            }
        }
        let ring = self
            .ring
            .read()
            .map_err(|_| anyhow!("key ring lock poisoned"))?;
        let key = ring
            .keys
            .get(&ring.active)
            .ok_or_else(|| anyhow!("active key missing"))?;
        Ok(Sealer {
            key_id: ring.active,
            key: key.clone(),
        })
    }

    /// The key a sealed value was made with, loading keys made by other instances.
    async fn key_for(&self, sealed: &[u8]) -> anyhow::Result<SecretKey> {
        let id = crypto::sealed_key_id(sealed)?;
        if let Some(k) = self.ring.read().map_err(|_| anyhow!("lock"))?.keys.get(&id) {
            return Ok(k.clone());
        }
        self.reload().await?;
        let ring = self.ring.read().map_err(|_| anyhow!("lock"))?;
        ring.keys
            .get(&id)
            .cloned()
            .ok_or_else(|| anyhow!("unknown data key {id}"))
    }

    /// Open a blob sealed with [`Sealer::seal_blob`] under the same context.
    pub async fn open_blob(&self, context: &str, sealed: &[u8]) -> anyhow::Result<Vec<u8>> {
        let key = self.key_for(sealed).await?;
        crypto::open(&key, format!("jubao/blob/v1|{context}").as_bytes(), sealed)
            .map_err(|e: CryptoError| anyhow!("opening blob: {e}"))
    }

    /// Open one variant of an evidence file of `report_id`. Files sealed before evidence
    /// named its report open under their old context until rotation re-seals them.
    pub async fn open_evidence(
        &self,
        report_id: &str,
        evidence_id: &str,
        variant: &str,
        sealed: &[u8],
    ) -> anyhow::Result<Vec<u8>> {
        let bound = context::evidence_context(report_id, evidence_id, variant);
        if crypto::sealed_key_id(sealed)? == shred::CASE_KEY_ID {
            let key = self
                .case_key(report_id, CaseKeyKind::for_variant(variant))
                .await?;
            return crypto::open(&key, format!("jubao/blob/v1|{bound}").as_bytes(), sealed)
                .map_err(|e| anyhow!("opening evidence: {e}"));
        }
        match self.open_blob(&bound, sealed).await {
            Ok(plain) => Ok(plain),
            Err(bound_err) => {
                let legacy = context::legacy_evidence_context(evidence_id, variant);
                self.open_blob(&legacy, sealed).await.map_err(|_| bound_err)
            }
        }
    }

    /// Keyed blind index of a normalized identity value, for equality search.
    pub fn blind_index(&self, field: IdentityField, normalized: &str) -> [u8; 32] {
        crypto::keyed_digest(
            &self.blind,
            &[field.column().as_bytes(), normalized.as_bytes()],
        )
    }

    /// Keyed hash of a reporter passcode. Passcodes are long random digit strings, so a
    /// keyed HMAC (not a slow password hash) is enough and keeps intake fast.
    pub fn passcode_hash(&self, tracking_code: &str, passcode: &str) -> [u8; 32] {
        crypto::keyed_digest(
            &self.passcode,
            &[tracking_code.as_bytes(), passcode.as_bytes()],
        )
    }

    pub fn passcode_matches(&self, tracking_code: &str, passcode: &str, stored: &[u8]) -> bool {
        crypto::digest_eq(&self.passcode_hash(tracking_code, passcode), stored)
    }

    /// Keyed digest for request-derived identifiers (idempotency keys, client addresses,
    /// rate-limit buckets) so that none is stored in the clear.
    pub fn request_digest(&self, parts: &[&[u8]]) -> [u8; 32] {
        crypto::keyed_digest(&self.request, parts)
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The master key's check value, hex (`escrow::key_check`): names the installation on
    /// its backups and key shares, and reveals nothing of the key.
    pub fn key_check_hex(&self) -> String {
        hex::encode(escrow::key_check(&self.master))
    }

    /// The audit chain's MAC and anchor signer (only given out by an opened vault, so a
    /// wrong master key is refused before anything is chained with it).
    pub fn audit_key(&self) -> &Arc<AuditKey> {
        &self.audit
    }

    /// Sign staff token claims (HS256 with a key derived from the master key, so every
    /// instance with the same master key accepts the same tokens).
    pub fn sign_token<T: serde::Serialize>(&self, claims: &T) -> anyhow::Result<String> {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            claims,
            &jsonwebtoken::EncodingKey::from_secret(self.token.as_bytes()),
        )
        .context("signing a token")
    }

    /// Verify a staff token: HS256 only (so `alg: none` and any other algorithm are
    /// refused), signature, issuer and expiry.
    pub fn verify_token<T: serde::de::DeserializeOwned>(
        &self,
        token: &str,
    ) -> Result<T, jsonwebtoken::errors::Error> {
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        v.algorithms = vec![jsonwebtoken::Algorithm::HS256];
        v.leeway = 5;
        v.set_issuer(&["jubao"]);
        v.set_required_spec_claims(&["exp", "iss", "sub"]);
        v.validate_aud = false;
        jsonwebtoken::decode::<T>(
            token,
            &jsonwebtoken::DecodingKey::from_secret(self.token.as_bytes()),
            &v,
        )
        .map(|d| d.claims)
    }

    /// Open every sealed field of one reporter identity. Callers outside the vault get this
    /// only through the custodian-approved reveal (workflow) and channel delivery.
    pub async fn open_identity(
        &self,
        report_id: &str,
        sealed: &SealedIdentity,
    ) -> anyhow::Result<Identity> {
        let mut out = Identity::default();
        for field in IdentityField::ALL {
            if let Some(blob) = sealed.get(field) {
                let key = self.identity_key(report_id, blob).await?;
                let plain = crypto::open(&key, &identity::aad(report_id, field), blob)
                    .map_err(|e| anyhow!("opening {}: {e}", field.column()))?;
                out.set(
                    field,
                    Some(String::from_utf8(plain).context("identity is utf-8")?),
                );
            }
        }
        Ok(out)
    }

    /// Seal an identity for `report_id` with the active key, and compute its blind index.
    pub fn seal_identity(
        &self,
        sealer: &Sealer,
        report_id: &str,
        identity: &Identity,
    ) -> SealedIdentity {
        let mut sealed = SealedIdentity {
            key_id: sealer.key_id(),
            ..SealedIdentity::default()
        };
        for field in IdentityField::ALL {
            if let Some(v) = identity.get(field) {
                sealed.set(
                    field,
                    Some(sealer.seal(&identity::aad(report_id, field), v.as_bytes())),
                );
                if field.indexed() {
                    sealed.index.push((field, self.blind_index(field, v)));
                }
                // A caller's number that is a mainland mobile is also indexed as a phone,
                // so a tip by phone and one by H5 from the same number are "same reporter"
                // (issue 18); the number itself stays sealed as `caller_number`.
                if field == IdentityField::CallerNumber {
                    if let Ok(m) = crate::domain::MobilePhone::parse(v) {
                        let phone = IdentityField::Phone;
                        sealed
                            .index
                            .push((phone, self.blind_index(phone, m.as_str())));
                    }
                }
            }
        }
        sealed
    }

    /// Create a new data key and make it the active one; the old ones become 'retiring'.
    /// The first step of a rotation (see [`rotate`]); a run interrupted after it resumes.
    pub async fn create_active_key(&self) -> anyhow::Result<u32> {
        let mut tx = self.db.begin_write().await?;
        let max: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM vault_keys")
            .fetch_one(&mut *tx)
            .await?;
        let id = u32::try_from(max.unwrap_or(0) + 1)?;
        let dek = SecretKey::generate();
        let wrapped = crypto::seal(&self.master, 0, &dek_aad(id), dek.as_bytes());
        sqlx::query("UPDATE vault_keys SET state = 'retiring' WHERE state = 'active'")
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO vault_keys (id, wrapped, state, created_at) VALUES ($1, $2, 'active', $3)",
        )
        .bind(i64::from(id))
        .bind(wrapped)
        .bind(store::ts(Utc::now()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.reload().await?;
        Ok(id)
    }

    pub(crate) fn open_with(
        &self,
        key_id: u32,
        aad: &[u8],
        sealed: &[u8],
    ) -> anyhow::Result<Vec<u8>> {
        let ring = self.ring.read().map_err(|_| anyhow!("lock"))?;
        let Some(key) = ring.keys.get(&key_id) else {
            bail!("unknown data key {key_id}")
        };
        crypto::open(key, aad, sealed).map_err(|e| anyhow!("{e}"))
    }
}
