//! Message signatures and message encryption for WeChat Official Account "safe mode" and
//! WeCom app callbacks (CONTRACT §4, shared/WECHAT.md).
//!
//! Both platforms use the same scheme:
//!
//! * **Signatures.** The platform proves a request came from it by sending the SHA-1 of a few
//!   strings: the shared token, the `timestamp` and `nonce` query parameters and, for
//!   `msg_signature`, the base64 `Encrypt` text (or the encrypted `echostr` of a WeCom URL
//!   check). The strings are sorted byte-wise, concatenated with no separator and hashed; the
//!   digest travels as lower-case hex. The plain `signature` of an Official Account push does
//!   not cover the body, so in safe mode only `msg_signature` authenticates the message.
//! * **Encryption.** The 43-character `EncodingAESKey` is unpadded base64 of a 32-byte AES-256
//!   key; the IV is the key's first 16 bytes, so it is the same for every message. The
//!   plaintext is `16 random bytes ‖ message length (u32, big-endian) ‖ message ‖ receive id`,
//!   where the receive id is the Official Account's app id or the WeCom corp id (suite id for
//!   third-party apps). It is padded PKCS#7-style to a multiple of **32** bytes (pad values 1 to
//!   32), encrypted with AES-256-CBC, and sent as standard base64.
//!
//! There is no MAC on the ciphertext: callers must check `msg_signature` (see
//! [`verify_signature`]) *before* calling [`MsgCrypt::decrypt`], so that a forger never gets
//! to probe the padding check.

use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::Engine;
use rand::RngCore;
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

/// The block size the protocol pads to. It is twice the AES block size, which is why a stock
/// PKCS#7 unpad routine (which only accepts 1..=16) rejects real platform messages.
pub const PAD_BLOCK: usize = 32;

/// Length of an `EncodingAESKey` as the platforms issue it.
pub const ENCODING_AES_KEY_LEN: usize = 43;

const RANDOM_LEN: usize = 16;
const HEADER_LEN: usize = RANDOM_LEN + 4;

/// Why a key could not be loaded or a message could not be decrypted. The variants carry no
/// data, so an error can be logged without leaking message content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("EncodingAESKey must be 43 base64 characters that decode to 32 bytes")]
    BadKey,
    #[error("ciphertext is not valid base64")]
    BadBase64,
    #[error("ciphertext or decrypted frame has an impossible length")]
    BadLength,
    #[error("decrypted message has invalid padding")]
    BadPadding,
    #[error("decrypted message is addressed to another receive id")]
    BadReceiveId,
    #[error("decrypted message is not UTF-8")]
    BadUtf8,
}

/// The platforms' signature: lower-case hex SHA-1 of `token`, `timestamp`, `nonce` and, when
/// given, `extra` (the `Encrypt` text or encrypted `echostr` for `msg_signature`), sorted
/// byte-wise and concatenated.
pub fn signature(token: &str, timestamp: &str, nonce: &str, extra: Option<&str>) -> String {
    let mut parts = [token, timestamp, nonce, extra.unwrap_or("")];
    let used = if extra.is_some() { 4 } else { 3 };
    let parts = &mut parts[..used];
    parts.sort_unstable();
    let mut hasher = Sha1::new();
    for part in parts.iter() {
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Checks a received signature against the one computed from the same inputs, in constant
/// time. Upper-case hex is accepted; anything of the wrong length is simply a mismatch.
pub fn verify_signature(
    expected_hex: &str,
    token: &str,
    timestamp: &str,
    nonce: &str,
    extra: Option<&str>,
) -> bool {
    let computed = signature(token, timestamp, nonce, extra);
    let received = expected_hex.to_ascii_lowercase();
    bool::from(computed.as_bytes().ct_eq(received.as_bytes()))
}

/// Decodes an `EncodingAESKey`. The platforms append nothing to mark the end, so one `=` is
/// added back; their generator does not zero the two unused low bits of the last character,
/// so the decoder must accept non-zero trailing bits (a strict decoder rejects real keys).
fn decode_encoding_aes_key(encoding_aes_key: &str) -> Result<[u8; 32], CryptoError> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    if encoding_aes_key.len() != ENCODING_AES_KEY_LEN {
        return Err(CryptoError::BadKey);
    }
    let mut padded = String::with_capacity(ENCODING_AES_KEY_LEN + 1);
    padded.push_str(encoding_aes_key);
    padded.push('=');
    let bytes = LENIENT.decode(padded).map_err(|_| CryptoError::BadKey)?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| CryptoError::BadKey)
}

/// Encrypts and decrypts message bodies for one account (one key, one receive id).
#[derive(Clone)]
pub struct MsgCrypt {
    key: [u8; 32],
    receive_id: String,
}

impl std::fmt::Debug for MsgCrypt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MsgCrypt")
            .field("key", &"<redacted>")
            .field("receive_id", &self.receive_id)
            .finish()
    }
}

impl MsgCrypt {
    /// `encoding_aes_key` is the 43-character key from the platform's console; `receive_id` is
    /// the Official Account app id, or the WeCom corp id (suite id for third-party apps).
    pub fn new(encoding_aes_key: &str, receive_id: &str) -> Result<Self, CryptoError> {
        Ok(Self {
            key: decode_encoding_aes_key(encoding_aes_key)?,
            receive_id: receive_id.to_owned(),
        })
    }

    /// The receive id every decrypted message must end with.
    pub fn receive_id(&self) -> &str {
        &self.receive_id
    }

    fn iv(&self) -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&self.key[..16]);
        iv
    }

    /// Decrypts an `Encrypt` element (or a WeCom `echostr`, once URL-decoded) and returns the
    /// message it carries. Checks, in order: base64, a whole positive number of AES blocks,
    /// the 32-byte-block padding (every pad byte), the length field against the frame, the
    /// trailing receive id (exactly), and UTF-8. Never panics.
    pub fn decrypt(&self, b64_ciphertext: &str) -> Result<String, CryptoError> {
        let mut buf = STANDARD
            .decode(b64_ciphertext)
            .map_err(|_| CryptoError::BadBase64)?;
        if buf.is_empty() || buf.len() % 16 != 0 {
            return Err(CryptoError::BadLength);
        }
        let plain = Aes256CbcDec::new(&self.key.into(), &self.iv().into())
            .decrypt_padded_mut::<NoPadding>(&mut buf)
            .map_err(|_| CryptoError::BadLength)?;
        let framed = unpad32(plain)?;
        if framed.len() < HEADER_LEN {
            return Err(CryptoError::BadLength);
        }
        let (header, rest) = framed.split_at(HEADER_LEN);
        let mut len_bytes = [0u8; 4];
        len_bytes.copy_from_slice(&header[RANDOM_LEN..]);
        let msg_len =
            usize::try_from(u32::from_be_bytes(len_bytes)).map_err(|_| CryptoError::BadLength)?;
        if msg_len > rest.len() {
            return Err(CryptoError::BadLength);
        }
        let (msg, receive_id) = rest.split_at(msg_len);
        if !bool::from(receive_id.ct_eq(self.receive_id.as_bytes())) {
            return Err(CryptoError::BadReceiveId);
        }
        String::from_utf8(msg.to_vec()).map_err(|_| CryptoError::BadUtf8)
    }

    /// Encrypts a reply (or any message) with 16 fresh random bytes from the OS-seeded
    /// thread RNG, returning standard base64.
    ///
    /// # Panics
    /// If `msg` is longer than `u32::MAX` bytes, which the protocol's length field cannot
    /// express.
    pub fn encrypt(&self, msg: &str) -> String {
        let mut random = [0u8; RANDOM_LEN];
        rand::thread_rng().fill_bytes(&mut random);
        self.encrypt_with_random(msg, &random)
    }

    /// [`MsgCrypt::encrypt`] with caller-chosen random bytes, for known-answer tests. Never
    /// use a fixed value in production.
    ///
    /// # Panics
    /// If `msg` is longer than `u32::MAX` bytes.
    pub fn encrypt_with_random(&self, msg: &str, random16: &[u8; 16]) -> String {
        let msg_len = u32::try_from(msg.len()).unwrap_or_else(|_| {
            panic!(
                "message of {} bytes exceeds the protocol's 4 GiB limit",
                msg.len()
            )
        });
        let body_len = HEADER_LEN + msg.len() + self.receive_id.len();
        let pad = PAD_BLOCK - body_len % PAD_BLOCK;
        let mut plain = Vec::with_capacity(body_len + pad);
        plain.extend_from_slice(random16);
        plain.extend_from_slice(&msg_len.to_be_bytes());
        plain.extend_from_slice(msg.as_bytes());
        plain.extend_from_slice(self.receive_id.as_bytes());
        // `pad` is in 1..=32, so it fits a byte.
        plain.resize(body_len + pad, pad as u8);
        let sealed = Aes256CbcEnc::new(&self.key.into(), &self.iv().into())
            .encrypt_padded_vec_mut::<NoPadding>(&plain);
        STANDARD.encode(sealed)
    }
}

/// Strips the protocol's padding: the last byte `n` must be in 1..=32, no longer than the
/// data, and the last `n` bytes must all equal `n`. The byte comparison does not stop early.
fn unpad32(data: &[u8]) -> Result<&[u8], CryptoError> {
    let Some(&last) = data.last() else {
        return Err(CryptoError::BadPadding);
    };
    let pad = usize::from(last);
    if pad == 0 || pad > PAD_BLOCK || pad > data.len() {
        return Err(CryptoError::BadPadding);
    }
    let (body, tail) = data.split_at(data.len() - pad);
    let diff = tail.iter().fold(0u8, |acc, &b| acc | (b ^ last));
    if diff != 0 {
        return Err(CryptoError::BadPadding);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::Write;
    use std::process::{Command, Stdio};

    // Tencent's Official Account message-crypto sample (the Java `WXBizMsgCryptTest` shipped
    // with the sample code, package `com.qq.weixin.mp.aes`). Note: the sample's token is
    // `pamtest`, not `spamtest`.
    const OA_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    const OA_APPID: &str = "wxb11529c136998cb6";
    const OA_RANDOM: &[u8; 16] = b"aaaabbbbccccdddd";
    const OA_MSG1: &str = "我是中文abcd123";
    const OA_CIPHER1: &str =
        "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==";
    const OA_MSG2: &str = "<xml><ToUserName><![CDATA[oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw]]></ToUserName><FromUserName><![CDATA[gh_7f083739789a]]></FromUserName><CreateTime>1407743423</CreateTime><MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[eYJ1MbwPRJtOvIEabaxHs7TX2D-HV71s79GUxqdUkjm6Gs2Ed1KF3ulAOA9H1xG0]]></MediaId><Title><![CDATA[testCallBackReplyVideo]]></Title><Description><![CDATA[testCallBackReplyVideo]]></Description></Video></xml>";
    const OA_CIPHER2: &str = "jn1L23DB+6ELqJ+6bruv23M2GmYfkv0xBh2h+XTBOKVKcgDFHle6gqcZ1cZrk3e1qjPQ1F4RsLWzQRG9udbKWesxlkupqcEcW7ZQweImX9+wLMa0GaUzpkycA8+IamDBxn5loLgZpnS7fVAbExOkK5DYHBmv5tptA9tklE/fTIILHR8HLXa5nQvFb3tYPKAlHF3rtTeayNf0QuM+UW/wM9enGIDIJHF7CLHiDNAYxr+r+OrJCmPQyTy8cVWlu9iSvOHPT/77bZqJucQHQ04sq7KZI27OcqpQNSto2OdHCoTccjggX5Z9Mma0nMJBU+jLKJ38YB1fBIz+vBzsYjrTmFQ44YfeEuZ+xRTQwr92vhA9OxchWVINGC50qE/6lmkwWTwGX9wtQpsJKhP+oS7rvTY8+VdzETdfakjkwQ5/Xka042OlUb1/slTwo4RscuQ+RdxSGvDahxAJ6+EAjLt9d8igHngxIbf6YyqqROxuxqIeIch3CssH/LqRs+iAcILvApYZckqmA7FNERspKA5f8GoJ9sv8xmGvZ9Yrf57cExWtnX8aCMMaBropU/1k+hKP5LVdzbWCG0hGwx/dQudYR/eXp3P0XxjlFiy+9DMlaFExWUZQDajPkdPrEeOwofJb";

    /// The account the key belongs to is what the caller compares the message's id with
    /// (found by `cargo mutants`: nothing read it back).
    #[test]
    fn the_receive_id_is_the_one_given() {
        let c = MsgCrypt::new(OA_KEY, OA_APPID).unwrap();
        assert_eq!(c.receive_id(), OA_APPID);
    }

    /// Padding bytes that are wrong in ways that cancel each other out are still wrong: the
    /// comparison ORs the differences (found by `cargo mutants`: XOR would accept this).
    #[test]
    fn padding_whose_errors_cancel_is_refused() {
        let mut data = b"0123456789abcdefghijklmnopqrstu".to_vec();
        data.extend_from_slice(&[3 ^ 1, 3 ^ 1, 3]);
        assert_eq!(unpad32(&data), Err(CryptoError::BadPadding));
        let mut good = b"0123456789abcdefghijklmnopqrstu".to_vec();
        good.extend_from_slice(&[3, 3, 3]);
        assert_eq!(unpad32(&good).unwrap().len(), 31);
    }

    // WeCom's URL-check sample: the `testVerifyUrl` case of the same Java sample test and the
    // C# `Sample.cs` of WeCom's callback crypto sample. The decrypted echostr,
    // `1616140317555161061`, is not printed in Tencent's samples; it is the value that
    // third-party libraries' tests of this vector assert, and our decrypt reproduces it.
    const WECOM_TOKEN: &str = "QDG6eK";
    const WECOM_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
    const WECOM_CORP: &str = "wx5823bf96d3bd56c7";
    const WECOM_URL_SIG: &str = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3";
    const WECOM_URL_TS: &str = "1409659589";
    const WECOM_URL_NONCE: &str = "263014780";
    const WECOM_URL_ECHO: &str =
        "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==";

    fn oa() -> MsgCrypt {
        MsgCrypt::new(OA_KEY, OA_APPID).unwrap()
    }

    /// Seals an already padded plaintext (a multiple of 16 bytes) without any checks, so tests
    /// can hand-build malformed frames.
    fn seal_raw(c: &MsgCrypt, plain: &[u8]) -> String {
        let sealed = Aes256CbcEnc::new(&c.key.into(), &c.iv().into())
            .encrypt_padded_vec_mut::<NoPadding>(plain);
        STANDARD.encode(sealed)
    }

    fn frame(len_field: u32, msg: &[u8], rid: &[u8]) -> Vec<u8> {
        let mut v = b"0123456789abcdef".to_vec();
        v.extend_from_slice(&len_field.to_be_bytes());
        v.extend_from_slice(msg);
        v.extend_from_slice(rid);
        v
    }

    fn padded(mut body: Vec<u8>, pad: u8, count: usize) -> Vec<u8> {
        body.resize(body.len() + count, pad);
        body
    }

    /// Whether `test` can run its cross-check with the `openssl` CLI (tests/support/tools.rs).
    fn need_openssl(test: &str) -> bool {
        crate::test_tools::need(test, &[crate::test_tools::OPENSSL])
    }

    fn openssl(args: &[&str], input: &[u8]) -> Vec<u8> {
        let mut child = Command::new("openssl")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("run openssl: {e}"));
        child.stdin.take().unwrap().write_all(input).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    #[test]
    fn url_check_signature_known_answer() {
        // Published example of the Official Account server-URL check (shared/WECHAT.md).
        let sig = signature("AAAAA", "1714036504", "1514711492", None);
        assert_eq!(sig, "f464b24fc39322e44b38aa78f5edd27bd1441696");
        assert!(verify_signature(
            &sig,
            "AAAAA",
            "1714036504",
            "1514711492",
            None
        ));
        assert!(verify_signature(
            &sig.to_uppercase(),
            "AAAAA",
            "1714036504",
            "1514711492",
            None
        ));
        assert!(!verify_signature(
            &sig,
            "AAAAB",
            "1714036504",
            "1514711492",
            None
        ));
        assert!(!verify_signature(
            &sig[..39],
            "AAAAA",
            "1714036504",
            "1514711492",
            None
        ));
        assert!(!verify_signature(
            "",
            "AAAAA",
            "1714036504",
            "1514711492",
            None
        ));
    }

    #[test]
    fn official_account_sample_encrypt_known_answer() {
        let c = oa();
        assert_eq!(c.encrypt_with_random(OA_MSG1, OA_RANDOM), OA_CIPHER1);
        assert_eq!(c.encrypt_with_random(OA_MSG2, OA_RANDOM), OA_CIPHER2);
        assert_eq!(c.decrypt(OA_CIPHER1).unwrap(), OA_MSG1);
        assert_eq!(c.decrypt(OA_CIPHER2).unwrap(), OA_MSG2);
    }

    #[test]
    fn wecom_url_check_sample() {
        assert!(verify_signature(
            WECOM_URL_SIG,
            WECOM_TOKEN,
            WECOM_URL_TS,
            WECOM_URL_NONCE,
            Some(WECOM_URL_ECHO)
        ));
        let c = MsgCrypt::new(WECOM_KEY, WECOM_CORP).unwrap();
        assert_eq!(c.decrypt(WECOM_URL_ECHO).unwrap(), "1616140317555161061");
        let other = MsgCrypt::new(WECOM_KEY, "wx5823bf96d3bd56c8").unwrap();
        assert_eq!(
            other.decrypt(WECOM_URL_ECHO),
            Err(CryptoError::BadReceiveId)
        );
    }

    #[test]
    fn keys_are_decoded_leniently_and_checked() {
        // Both sample keys end in a character with non-zero trailing bits.
        assert!(STANDARD.decode(format!("{OA_KEY}=")).is_err());
        assert!(MsgCrypt::new(OA_KEY, OA_APPID).is_ok());
        assert!(MsgCrypt::new(WECOM_KEY, WECOM_CORP).is_ok());
        for bad in [
            "",
            "abc",
            &OA_KEY[..42],
            &format!("{OA_KEY}="),
            &format!("{OA_KEY}A"),
        ] {
            assert_eq!(
                MsgCrypt::new(bad, OA_APPID).unwrap_err(),
                CryptoError::BadKey
            );
        }
        let with_bad_char = format!("{}!", &OA_KEY[..42]);
        assert_eq!(
            MsgCrypt::new(&with_bad_char, OA_APPID).unwrap_err(),
            CryptoError::BadKey
        );
        let debug = format!("{:?}", oa());
        assert!(debug.contains("redacted") && !debug.contains("key: ["));
    }

    #[test]
    fn our_ciphertext_decrypts_with_openssl() {
        if !need_openssl("crypto::tests::our_ciphertext_decrypts_with_openssl") {
            return;
        }
        let c = oa();
        let msg = "<xml><Content><![CDATA[举报 fraud]]></Content></xml>";
        let ct = STANDARD
            .decode(c.encrypt_with_random(msg, OA_RANDOM))
            .unwrap();
        let plain = openssl(
            &[
                "enc",
                "-d",
                "-aes-256-cbc",
                "-K",
                &hex::encode(c.key),
                "-iv",
                &hex::encode(c.iv()),
                "-nopad",
            ],
            &ct,
        );
        let mut expected = frame(msg.len() as u32, msg.as_bytes(), OA_APPID.as_bytes());
        expected[..16].copy_from_slice(OA_RANDOM);
        let pad = PAD_BLOCK - expected.len() % PAD_BLOCK;
        let expected = padded(expected, pad as u8, pad);
        assert_eq!(plain, expected);
    }

    #[test]
    fn openssl_ciphertext_decrypts_with_us() {
        if !need_openssl("crypto::tests::openssl_ciphertext_decrypts_with_us") {
            return;
        }
        let c = MsgCrypt::new(WECOM_KEY, WECOM_CORP).unwrap();
        for msg_len in [0usize, 1, 11, 12, 13, 44, 100] {
            let msg = "m".repeat(msg_len);
            let body = frame(msg_len as u32, msg.as_bytes(), WECOM_CORP.as_bytes());
            let pad = PAD_BLOCK - body.len() % PAD_BLOCK;
            let plain = padded(body, pad as u8, pad);
            let ct = openssl(
                &[
                    "enc",
                    "-aes-256-cbc",
                    "-K",
                    &hex::encode(c.key),
                    "-iv",
                    &hex::encode(c.iv()),
                    "-nopad",
                ],
                &plain,
            );
            assert_eq!(c.decrypt(&STANDARD.encode(ct)).unwrap(), msg, "pad {pad}");
        }
    }

    #[test]
    fn valid_pad_values_are_accepted() {
        let c = oa();
        let fixed = HEADER_LEN + OA_APPID.len();
        for pad in [1usize, 16, 17, 30, 32] {
            let msg_len = (0..PAD_BLOCK)
                .find(|m| PAD_BLOCK - (fixed + m) % PAD_BLOCK == pad)
                .unwrap();
            let msg = "x".repeat(msg_len);
            let body = frame(msg_len as u32, msg.as_bytes(), OA_APPID.as_bytes());
            let ct = seal_raw(&c, &padded(body, pad as u8, pad));
            assert_eq!(c.decrypt(&ct).unwrap(), msg, "pad {pad}");
            assert_eq!(c.encrypt_with_random(&msg, OA_RANDOM).len(), ct.len());
        }
    }

    #[test]
    fn invalid_padding_is_rejected() {
        let c = oa();
        // 20 + 6 + 18 = 44 bytes of frame.
        let body = frame(6, b"hello!", OA_APPID.as_bytes());
        // pad 0: fill to 64 bytes with zeros.
        let zero = padded(body.clone(), 0, 20);
        assert_eq!(
            c.decrypt(&seal_raw(&c, &zero)),
            Err(CryptoError::BadPadding)
        );
        // pad 33: 33 bytes of 33, plus 3 more so the total (80) is a whole number of blocks.
        let p33 = padded(body.clone(), 33, 36);
        assert_eq!(c.decrypt(&seal_raw(&c, &p33)), Err(CryptoError::BadPadding));
        // pad 20 with one pad byte off.
        let mut odd = padded(body.clone(), 20, 20);
        odd[50] ^= 1;
        assert_eq!(c.decrypt(&seal_raw(&c, &odd)), Err(CryptoError::BadPadding));
        // pad 32 on a single 16-byte block: longer than the data.
        assert_eq!(
            c.decrypt(&seal_raw(&c, &[32u8; 16])),
            Err(CryptoError::BadPadding)
        );
        // 16-byte-PKCS#7 style padding (4 bytes of 4) is accepted: pad values are 1..=32.
        let short = padded(body, 4, 4);
        assert_eq!(c.decrypt(&seal_raw(&c, &short)).unwrap(), "hello!");
    }

    #[test]
    fn malformed_frames_are_rejected() {
        let c = oa();
        let seal = |body: Vec<u8>| {
            let pad = PAD_BLOCK - body.len() % PAD_BLOCK;
            seal_raw(&c, &padded(body, pad as u8, pad))
        };
        let rid = OA_APPID.as_bytes();
        // Length field one past the end, and far past it.
        assert_eq!(
            c.decrypt(&seal(frame(25, b"hello!", rid))),
            Err(CryptoError::BadLength)
        );
        assert_eq!(
            c.decrypt(&seal(frame(u32::MAX, b"hello!", rid))),
            Err(CryptoError::BadLength)
        );
        // Fewer than 20 bytes once unpadded.
        assert_eq!(
            c.decrypt(&seal(b"short".to_vec())),
            Err(CryptoError::BadLength)
        );
        // Length field too small: the tail is no longer exactly our receive id.
        assert_eq!(
            c.decrypt(&seal(frame(5, b"hello!", rid))),
            Err(CryptoError::BadReceiveId)
        );
        assert_eq!(
            c.decrypt(&seal(frame(6, b"hello!", b"wxb11529c136998cb"))),
            Err(CryptoError::BadReceiveId)
        );
        assert_eq!(
            c.decrypt(&seal(frame(6, b"hello!", b"wxb11529c136998cb6 "))),
            Err(CryptoError::BadReceiveId)
        );
        assert_eq!(
            c.decrypt(&seal(frame(2, &[0xff, 0xfe], rid))),
            Err(CryptoError::BadUtf8)
        );
        let other = MsgCrypt::new(OA_KEY, "wx0000000000000000").unwrap();
        assert_eq!(other.decrypt(OA_CIPHER1), Err(CryptoError::BadReceiveId));
    }

    #[test]
    fn malformed_ciphertexts_are_rejected() {
        let c = oa();
        let long = c.encrypt_with_random(&"a".repeat(200), OA_RANDOM);
        let bytes = STANDARD.decode(&long).unwrap();
        assert_eq!(bytes.len(), 256);
        // Dropping whole blocks leaves a message byte ('a' = 97) where the pad byte was.
        let truncated = STANDARD.encode(&bytes[..192]);
        assert_eq!(c.decrypt(&truncated), Err(CryptoError::BadPadding));
        assert_eq!(
            c.decrypt(&STANDARD.encode(&bytes[..17])),
            Err(CryptoError::BadLength)
        );
        assert_eq!(
            c.decrypt(&STANDARD.encode(&bytes[..255])),
            Err(CryptoError::BadLength)
        );
        assert_eq!(c.decrypt(""), Err(CryptoError::BadLength));
        assert_eq!(c.decrypt("not base64!!"), Err(CryptoError::BadBase64));
        assert_eq!(
            c.decrypt(&long[..long.len() - 3]),
            Err(CryptoError::BadBase64)
        );
        assert_eq!(
            c.decrypt(&format!(" {OA_CIPHER1}")),
            Err(CryptoError::BadBase64)
        );
        // Flipping a bit in the last block garbles the padding.
        let mut flipped = STANDARD.decode(OA_CIPHER1).unwrap();
        flipped[63] ^= 0x80;
        assert!(c.decrypt(&STANDARD.encode(flipped)).is_err());
    }

    #[test]
    fn fresh_randomness_changes_the_ciphertext() {
        let c = oa();
        let (a, b) = (c.encrypt("same"), c.encrypt("same"));
        assert_ne!(a, b);
        assert_eq!(c.decrypt(&a).unwrap(), "same");
        assert_eq!(c.decrypt(&b).unwrap(), "same");
    }

    proptest! {
        #[test]
        fn roundtrip_any_utf8(msg in any::<String>(), rid in "[a-zA-Z0-9_]{0,40}") {
            let c = MsgCrypt::new(WECOM_KEY, &rid).unwrap();
            prop_assert_eq!(c.decrypt(&c.encrypt(&msg)).unwrap(), msg);
        }

        #[test]
        fn decrypt_never_panics_on_strings(s in any::<String>()) {
            let _ = oa().decrypt(&s);
        }

        #[test]
        fn decrypt_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = oa().decrypt(&STANDARD.encode(&bytes));
        }

        #[test]
        fn decrypt_never_panics_on_sealed_garbage(
            blocks in proptest::collection::vec(any::<[u8; 16]>(), 1..12),
            last in 0u8..=40,
        ) {
            let c = oa();
            let mut plain: Vec<u8> = blocks.concat();
            if let Some(b) = plain.last_mut() {
                *b = last;
            }
            let _ = c.decrypt(&seal_raw(&c, &plain));
        }
    }
}
