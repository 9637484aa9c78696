//! Every cryptographic primitive the vault uses, in one reviewable place.
//!
//! * Sealed value: `key_id (4 bytes, BE) ‖ nonce (12) ‖ AES-256-GCM(ciphertext ‖ tag)`, with
//!   associated data naming what the value is (case and field), so a ciphertext moved to
//!   another row or field fails to open.
//! * Sub-keys (blind index, passcode hashing, idempotency keys) are derived from the master
//!   key with HKDF-SHA256 and never stored.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

pub const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;
const KEY_ID_LEN: usize = 4;
pub const SEAL_OVERHEAD: usize = KEY_ID_LEN + NONCE_LEN + 16;

/// A 256-bit secret key, wiped from memory when dropped.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey([u8; KEY_LEN]);

impl SecretKey {
    pub fn generate() -> Self {
        let mut k = [0u8; KEY_LEN];
        rand::rngs::OsRng.fill_bytes(&mut k);
        Self(k)
    }

    pub fn from_slice(b: &[u8]) -> Option<Self> {
        let arr: [u8; KEY_LEN] = b.try_into().ok()?;
        Some(Self(arr))
    }

    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// A sub-key for one purpose, derived with HKDF-SHA256.
    pub fn derive(&self, purpose: &str) -> SecretKey {
        let hk = Hkdf::<Sha256>::new(Some(b"jubao-v1"), &self.0);
        let mut out = [0u8; KEY_LEN];
        hk.expand(purpose.as_bytes(), &mut out)
            .expect("32 bytes is a valid HKDF-SHA256 length");
        SecretKey(out)
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("sealed value is malformed")]
    Malformed,
    #[error("sealed value failed authentication")]
    Authentication,
}

/// Seal `plaintext` under `key` (identified by `key_id`), bound to `aad`.
pub fn seal(key: &SecretKey, key_id: u32, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let cipher = Aes256Gcm::new_from_slice(key.as_bytes()).expect("key is 32 bytes");
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let ct = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .expect("AES-GCM encryption of an in-memory buffer cannot fail");
    let mut out = Vec::with_capacity(SEAL_OVERHEAD + plaintext.len());
    out.extend_from_slice(&key_id.to_be_bytes());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    out
}

/// As [`seal`], but reusing `plaintext`'s buffer: no second copy of a large file is made.
pub fn seal_in_place(key: &SecretKey, key_id: u32, aad: &[u8], mut buf: Vec<u8>) -> Vec<u8> {
    use aes_gcm::aead::AeadInPlace;
    let cipher = Aes256Gcm::new_from_slice(key.as_bytes()).expect("key is 32 bytes");
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let tag = cipher
        .encrypt_in_place_detached(Nonce::from_slice(&nonce), aad, &mut buf)
        .expect("AES-GCM encryption of an in-memory buffer cannot fail");
    buf.reserve_exact(KEY_ID_LEN + NONCE_LEN + tag.len());
    buf.extend_from_slice(&tag);
    // Prefix key id and nonce (a move inside the buffer, not a new allocation).
    let mut prefix = [0u8; KEY_ID_LEN + NONCE_LEN];
    prefix[..KEY_ID_LEN].copy_from_slice(&key_id.to_be_bytes());
    prefix[KEY_ID_LEN..].copy_from_slice(&nonce);
    buf.splice(0..0, prefix);
    buf
}

/// The key id a sealed value was made with.
pub fn sealed_key_id(sealed: &[u8]) -> Result<u32, CryptoError> {
    let id: [u8; KEY_ID_LEN] = sealed
        .get(..KEY_ID_LEN)
        .and_then(|s| s.try_into().ok())
        .ok_or(CryptoError::Malformed)?;
    Ok(u32::from_be_bytes(id))
}

/// Open a value made by [`seal`] with the same key and associated data.
pub fn open(key: &SecretKey, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < SEAL_OVERHEAD {
        return Err(CryptoError::Malformed);
    }
    let cipher = Aes256Gcm::new_from_slice(key.as_bytes()).expect("key is 32 bytes");
    let nonce = &sealed[KEY_ID_LEN..KEY_ID_LEN + NONCE_LEN];
    cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: &sealed[KEY_ID_LEN + NONCE_LEN..],
                aad,
            },
        )
        .map_err(|_| CryptoError::Authentication)
}

/// HMAC-SHA256 of the parts, each length-prefixed so that ("ab","c") ≠ ("a","bc").
pub fn keyed_digest(key: &SecretKey, parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes()).expect("any key length");
    for p in parts {
        mac.update(&(p.len() as u64).to_be_bytes());
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// Constant-time equality for digests.
pub fn digest_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_binding() {
        let k = SecretKey::generate();
        let s = seal(&k, 7, b"case-1|phone", b"13800138000");
        assert_eq!(sealed_key_id(&s).unwrap(), 7);
        assert_eq!(open(&k, b"case-1|phone", &s).unwrap(), b"13800138000");
        // Moved to another field or case: refused.
        assert!(open(&k, b"case-1|name", &s).is_err());
        assert!(open(&k, b"case-2|phone", &s).is_err());
        // Another key: refused.
        assert!(open(&SecretKey::generate(), b"case-1|phone", &s).is_err());
        // Tampered: refused.
        let mut t = s.clone();
        let last = t.len() - 1;
        t[last] ^= 1;
        assert!(open(&k, b"case-1|phone", &t).is_err());
        assert!(open(&k, b"x", &s[..10]).is_err());
    }

    #[test]
    fn seal_in_place_opens_like_seal() {
        let k = SecretKey::generate();
        let data = vec![7u8; 100_000];
        let s = seal_in_place(&k, 3, b"ctx", data.clone());
        assert_eq!(sealed_key_id(&s).unwrap(), 3);
        assert_eq!(s.len(), data.len() + SEAL_OVERHEAD);
        assert_eq!(open(&k, b"ctx", &s).unwrap(), data);
        assert!(open(&k, b"other", &s).is_err());
    }

    #[test]
    fn an_empty_value_seals_and_opens() {
        let k = SecretKey::generate();
        let s = seal(&k, 1, b"ctx", b"");
        assert_eq!(s.len(), SEAL_OVERHEAD);
        assert_eq!(open(&k, b"ctx", &s).unwrap(), b"");
        assert!(open(&k, b"ctx", &s[..SEAL_OVERHEAD - 1]).is_err());
    }

    #[test]
    fn keys_from_bytes_and_never_printed() {
        let k = SecretKey::from_slice(&[0x5a; 32]).unwrap();
        assert_eq!(k.as_bytes(), &[0x5a; 32]);
        assert!(SecretKey::from_slice(&[0x5a; 31]).is_none());
        assert!(SecretKey::from_slice(&[0x5a; 33]).is_none());
        assert_eq!(format!("{k:?}"), "SecretKey(…)");
    }

    #[test]
    fn digests_differ_when_they_differ() {
        let k = SecretKey::generate();
        let (a, b) = (keyed_digest(&k, &[b"x"]), keyed_digest(&k, &[b"y"]));
        assert!(!digest_eq(&a, &b));
        assert!(!digest_eq(&a, &a[..31]));
        assert!(!digest_eq(&a[..31], &a));
        assert!(digest_eq(&a[..31], &a[..31]));
    }

    #[test]
    fn fresh_nonce_every_time() {
        let k = SecretKey::generate();
        assert_ne!(seal(&k, 1, b"a", b"same"), seal(&k, 1, b"a", b"same"));
    }

    #[test]
    fn known_answer_for_gcm() {
        // NIST GCM test vector (AES-256, 96-bit IV, empty plaintext and AAD):
        // key 0…0, IV 0…0 → tag 530f8afbc74536b9a963b4f1c4cb738b.
        let cipher = Aes256Gcm::new_from_slice(&[0u8; 32]).unwrap();
        let out = cipher
            .encrypt(Nonce::from_slice(&[0u8; 12]), &b""[..])
            .unwrap();
        assert_eq!(hex::encode(out), "530f8afbc74536b9a963b4f1c4cb738b");
    }

    #[test]
    fn digests_are_keyed_and_unambiguous() {
        let k = SecretKey::generate();
        assert_ne!(
            keyed_digest(&k, &[b"ab", b"c"]),
            keyed_digest(&k, &[b"a", b"bc"])
        );
        assert_ne!(
            keyed_digest(&k, &[b"x"]),
            keyed_digest(&SecretKey::generate(), &[b"x"])
        );
        let d = keyed_digest(&k, &[b"x"]);
        assert!(digest_eq(&d, &keyed_digest(&k, &[b"x"])));
        assert_ne!(k.derive("a").as_bytes(), k.derive("b").as_bytes());
    }
}
