//! Feeds arbitrary bytes to the callback XML parsers: they must return, never panic, and a
//! reply built from any text must parse back to the same text.
#![no_main]

use jubao_wechat::xml::{parse_envelope, reply_text, Inbound, MsgKind};
use libfuzzer_sys::fuzz_target;

const MAX_BYTES: usize = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = Inbound::parse(data, MAX_BYTES) {
        let _ = msg.kind();
    }
    let _ = parse_envelope(data, MAX_BYTES);

    if let Ok(text) = std::str::from_utf8(data) {
        let reply = reply_text("openid", "gh_account", 0, text);
        let parsed = Inbound::parse(reply.as_bytes(), usize::MAX).expect("our reply must parse");
        if let MsgKind::Text { content } = parsed.kind() {
            // cdata() drops characters XML cannot carry; everything else must survive.
            assert!(content.len() <= text.len());
        } else {
            panic!("a text reply parsed as another kind");
        }
    }
});
