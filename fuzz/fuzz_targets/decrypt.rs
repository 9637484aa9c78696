//! Feeds arbitrary input to message decryption: it must return an error or a message, never
//! panic, and anything we encrypt must decrypt back.
#![no_main]

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use jubao_wechat::crypto::MsgCrypt;
use libfuzzer_sys::fuzz_target;

// Tencent's published sample key and app id.
const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APPID: &str = "wxb11529c136998cb6";

fuzz_target!(|data: &[u8]| {
    let crypt = MsgCrypt::new(KEY, APPID).expect("the sample key is valid");
    // As a base64 string (mostly exercises the base64 and length checks)...
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crypt.decrypt(text);
        let sealed = crypt.encrypt(text);
        assert_eq!(crypt.decrypt(&sealed).as_deref(), Ok(text));
    }
    // ...and as raw ciphertext (exercises padding and framing on random plaintexts).
    let _ = crypt.decrypt(&STANDARD.encode(data));
});
