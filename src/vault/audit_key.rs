//! The audit log's two keys, the only key material the `audit` module ever holds: the MAC
//! key that links entries and the Ed25519 key that signs anchors of the chain's head.
//!
//! Both are derived from the master key with HKDF (purposes `audit-chain-mac` and
//! `audit-anchor-ed25519`), like the blind-index key: data-key rotation (`jubao keys
//! rotate`, with or without retiring old data keys) never touches them, so every entry
//! written since the keyed chain began verifies with the key every instance derives today,
//! and no key id needs recording per entry. Replacing the master key itself would change
//! them; that would need a new `chain_version` (see `audit::chain`).

use ed25519_dalek::{Signer, SigningKey};

use super::crypto::{self, SecretKey};

/// What the audit module gets from the vault: a MAC and a signer, never the master key.
pub struct AuditKey {
    mac: SecretKey,
    signer: SigningKey,
}

impl AuditKey {
    pub(super) fn derive(master: &SecretKey) -> Self {
        let seed = master.derive("audit-anchor-ed25519");
        Self {
            mac: master.derive("audit-chain-mac"),
            signer: SigningKey::from_bytes(seed.as_bytes()),
        }
    }

    /// An entry's chain value: HMAC-SHA256 over the previous entry's chain value and the
    /// entry's canonical bytes, each length-prefixed (`crypto::keyed_digest`).
    pub fn chain(&self, prev: &[u8], entry: &[u8]) -> [u8; 32] {
        crypto::keyed_digest(&self.mac, &[prev, entry])
    }

    /// Whether `stored` is the chain value of `entry` after `prev` (constant time).
    pub fn chain_matches(&self, prev: &[u8], entry: &[u8], stored: &[u8]) -> bool {
        crypto::digest_eq(&self.chain(prev, entry), stored)
    }

    /// Ed25519 signature of `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signer.sign(message).to_bytes()
    }

    /// The public half of the anchor key: what an auditor checks anchors with.
    pub fn public_key(&self) -> [u8; 32] {
        self.signer.verifying_key().to_bytes()
    }
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditKey(public {})", hex::encode(self.public_key()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_per_master_key_and_apart_from_other_subkeys() {
        let master = SecretKey::generate();
        let a = AuditKey::derive(&master);
        let b = AuditKey::derive(&master);
        assert_eq!(a.chain(b"p", b"e"), b.chain(b"p", b"e"));
        assert_eq!(a.public_key(), b.public_key());
        assert!(a.chain_matches(b"p", b"e", &b.chain(b"p", b"e")));
        assert!(!a.chain_matches(b"p", b"f", &b.chain(b"p", b"e")));
        let other = AuditKey::derive(&SecretKey::generate());
        assert_ne!(a.chain(b"p", b"e"), other.chain(b"p", b"e"));
        assert_ne!(a.public_key(), other.public_key());
        assert_ne!(a.mac.as_bytes(), master.derive("blind-index").as_bytes());
        let sig = ed25519_dalek::Signature::from_bytes(&a.sign(b"head"));
        let public = ed25519_dalek::VerifyingKey::from_bytes(&a.public_key()).unwrap();
        assert!(public.verify_strict(b"head", &sig).is_ok());
        assert!(public.verify_strict(b"head2", &sig).is_err());
    }
}
