//! Signed safe-mode WeChat pushes for the HTTP load run of the bot (issue 20;
//! `benches/load.sh`, `benches/wrk/pushes.lua`): writes N requests, one a line, as
//! `path<TAB>body`, for the account `bench` of `benches/load.sh` (its token and
//! EncodingAESKey below). 200 users each alternate 举报 (start a report) and 取消 (cancel),
//! so every push changes a conversation; every push has its own `MsgId`, so none is a
//! retried delivery that the server would answer from its record.
//!
//!   cargo run --release --example pushgen -- 200000 > pushes.txt

use jubao::wechat::crypto::{signature, MsgCrypt};

/// The bench account's secrets (also in `benches/load.sh`): made up for the bench.
const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
const TOKEN: &str = "bench-token";
const APPID: &str = "wx5823bf96d3bd56c7";
const USERS: u64 = 200;

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let crypt = MsgCrypt::new(KEY, APPID).expect("the bench key is valid");
    let ts = chrono::Utc::now().timestamp().to_string();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for i in 0..n {
        let user = format!("oLoad{:04}", i % USERS);
        let text = if (i / USERS) % 2 == 0 {
            "举报"
        } else {
            "取消"
        };
        let xml = format!(
            "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>\
             <FromUserName><![CDATA[{user}]]></FromUserName><CreateTime>{ts}</CreateTime>\
             <MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content>\
             <MsgId>{}</MsgId></xml>",
            1_000_000_000 + i
        );
        let enc = crypt.encrypt(&xml);
        let nonce = (100_000_000 + i).to_string();
        let sig = signature(TOKEN, &ts, &nonce, Some(&enc));
        let body = format!(
            "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><Encrypt><![CDATA[{enc}]]></Encrypt></xml>"
        );
        use std::io::Write;
        writeln!(
            out,
            "/bots/wechat/bench?signature=x&timestamp={ts}&nonce={nonce}&openid={user}\
             &encrypt_type=aes&msg_signature={sig}\t{body}"
        )
        .expect("stdout");
    }
}
