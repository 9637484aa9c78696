//! A real SMTP server on loopback for the email tests, in the test process on tokio: the
//! server under test sends to it with lettre over plain `smtp://`, exactly as it would to a
//! mail relay. It is an independent peer (none of the server's code): the SMTP dialogue is
//! RFC 5321's, and messages are decoded by the `mail-parser` crate.
//!
//! It speaks EHLO/HELO, MAIL FROM, RCPT TO, DATA (with dot-unstuffing), RSET, NOOP and
//! QUIT; commands out of order get 503, unknown ones 502. Every message accepted is kept in
//! memory, decoded, as `{to, from, subject, text, html}`. Started with
//! [`SmtpSink::start_rejecting`], it answers every RCPT TO with a permanent 550 whose text
//! quotes the address back, as real relays do ("550 5.1.1 <a@b>: Recipient address
//! rejected"), and counts the refusals.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mail_parser::{MessageParser, MimeHeaders};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// Longest command or message line accepted (RFC 5321 asks for 512 and 1000; lettre stays
/// well inside).
const MAX_LINE: usize = 64 * 1024;

type Received = Arc<Mutex<Vec<Value>>>;

/// How the sink answers RCPT TO.
#[derive(Clone)]
struct Policy {
    reject_recipients: bool,
    rejected: Arc<AtomicUsize>,
}

pub struct SmtpSink {
    pub port: u16,
    received: Received,
    rejected: Arc<AtomicUsize>,
    server: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    /// Listen on a free loopback port. Needs a tokio runtime (the tests' own).
    pub fn start() -> SmtpSink {
        Self::start_on(None)
    }

    /// Listen on `port` (or a free one); it accepts as soon as this returns.
    pub fn start_on(port: Option<u16>) -> SmtpSink {
        Self::listen(port, false)
    }

    /// A relay that knows no mailbox: every RCPT TO gets "550 5.1.1 <address>: Recipient
    /// address rejected: User unknown", the address quoted back.
    pub fn start_rejecting() -> SmtpSink {
        Self::listen(None, true)
    }

    /// How many recipients were refused so far.
    pub fn rejected(&self) -> usize {
        self.rejected.load(Ordering::SeqCst)
    }

    fn listen(port: Option<u16>, reject_recipients: bool) -> SmtpSink {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port.unwrap_or(0)))
            .expect("bind the SMTP sink on loopback");
        listener.set_nonblocking(true).unwrap();
        let listener = TcpListener::from_std(listener).unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Received::default();
        let policy = Policy {
            reject_recipients,
            rejected: Arc::default(),
        };
        let rejected = policy.rejected.clone();
        let server = tokio::spawn(serve(listener, received.clone(), policy));
        SmtpSink {
            port,
            received,
            rejected,
            server,
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, in order of arrival: `{to, from, subject, text,
    /// html}`, decoded (`to` is the envelope's recipients, `from` its sender).
    pub fn messages(&self) -> Vec<Value> {
        self.received.lock().unwrap().clone()
    }

    /// Wait until at least `n` messages arrived (the outbox sends in the background).
    pub async fn wait_for(&self, n: usize) -> Vec<Value> {
        for _ in 0..200 {
            let m = self.messages();
            if m.len() >= n {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {n} emails, got {}", self.messages().len());
    }
}

impl Drop for SmtpSink {
    /// Stops listening; open sessions end with it (their tasks belong to the server's).
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(listener: TcpListener, received: Received, policy: Policy) {
    let mut sessions = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        sessions.spawn(session(stream, received.clone(), policy.clone()));
        // Reap finished sessions so the set does not grow.
        while sessions.try_join_next().is_some() {}
    }
}

/// The envelope of the mail transaction under way.
#[derive(Default)]
struct Envelope {
    from: Option<String>,
    to: Vec<String>,
}

async fn session(stream: TcpStream, received: Received, policy: Policy) {
    // A dropped or misbehaving client only ends its own session.
    let _ = converse(stream, received, policy).await;
}

async fn converse(stream: TcpStream, received: Received, policy: Policy) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    write
        .write_all(b"220 127.0.0.1 ESMTP test sink ready\r\n")
        .await?;
    let mut greeted = false;
    let mut env = Envelope::default();
    loop {
        let Some(line) = read_line(&mut read).await? else {
            return Ok(());
        };
        let line = String::from_utf8_lossy(&line);
        let (verb, arg) = match line.split_once(' ') {
            Some((v, a)) => (v.to_ascii_uppercase(), a.trim()),
            None => (line.to_ascii_uppercase(), ""),
        };
        let refusal;
        let reply: &str = match verb.as_str() {
            "EHLO" | "HELO" if arg.is_empty() => "501 Syntax: EHLO hostname",
            "EHLO" => {
                greeted = true;
                env = Envelope::default();
                "250-127.0.0.1 greets you\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 HELP"
            }
            "HELO" => {
                greeted = true;
                env = Envelope::default();
                "250 127.0.0.1"
            }
            "MAIL" if !greeted => "503 Send EHLO or HELO first",
            "MAIL" if env.from.is_some() => "503 Nested MAIL command",
            "MAIL" => match path_after(arg, "FROM:") {
                Some(from) => {
                    env.from = Some(from);
                    "250 OK"
                }
                None => "501 Syntax: MAIL FROM:<address>",
            },
            "RCPT" if env.from.is_none() => "503 Need MAIL before RCPT",
            "RCPT" => match path_after(arg, "TO:").filter(|to| !to.is_empty()) {
                Some(to) if policy.reject_recipients => {
                    policy.rejected.fetch_add(1, Ordering::SeqCst);
                    refusal = format!(
                        "550 5.1.1 <{to}>: Recipient address rejected: User unknown in \
                         virtual mailbox table (mailbox {to} does not exist)"
                    );
                    &refusal
                }
                Some(to) => {
                    env.to.push(to);
                    "250 OK"
                }
                None => "501 Syntax: RCPT TO:<address>",
            },
            "DATA" if env.to.is_empty() => "503 Need RCPT before DATA",
            "DATA" => {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let Some(raw) = read_data(&mut read).await? else {
                    return Ok(());
                };
                let env = std::mem::take(&mut env);
                received.lock().unwrap().push(decode(&env, &raw));
                "250 OK: queued"
            }
            "RSET" => {
                env = Envelope::default();
                "250 OK"
            }
            "NOOP" => "250 OK",
            "QUIT" => {
                write.write_all(b"221 Bye\r\n").await?;
                return Ok(());
            }
            "" => "500 Syntax error, command unrecognized",
            _ => "502 Command not implemented",
        };
        write.write_all(reply.as_bytes()).await?;
        write.write_all(b"\r\n").await?;
    }
}

/// One line without its line ending (CRLF, or a bare LF); `None` at the end of the stream.
async fn read_line(read: &mut BufReader<OwnedReadHalf>) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let n = (&mut *read)
        .take(MAX_LINE as u64)
        .read_until(b'\n', &mut line)
        .await?;
    if n == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "line too long or cut off",
        ));
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(Some(line))
}

/// The message after DATA, up to the line holding a single dot, with the leading dot that
/// the client added to every line starting with one taken off again (RFC 5321 §4.5.2).
async fn read_data(read: &mut BufReader<OwnedReadHalf>) -> std::io::Result<Option<Vec<u8>>> {
    let mut raw = Vec::new();
    loop {
        let Some(line) = read_line(read).await? else {
            return Ok(None);
        };
        if line == b"." {
            return Ok(Some(raw));
        }
        let line = line.strip_prefix(b".").unwrap_or(&line);
        raw.extend_from_slice(line);
        raw.extend_from_slice(b"\r\n");
    }
}

/// The address in `FROM:<a@b> PARAMS` (or `TO:`), without its angle brackets; `<>` is the
/// null sender, "".
fn path_after(arg: &str, keyword: &str) -> Option<String> {
    let head = arg.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = arg[keyword.len()..].trim_start();
    let inner = rest.strip_prefix('<')?;
    let end = inner.find('>')?;
    Some(inner[..end].to_string())
}

/// The message as the tests read it: envelope, decoded subject, and the text of its
/// `text/plain` and `text/html` parts (null when it has none).
fn decode(env: &Envelope, raw: &[u8]) -> Value {
    let msg = MessageParser::default().parse(raw);
    let part = |subtype: &str| -> Option<String> {
        msg.as_ref()?.parts.iter().find_map(|p| {
            let ct = p.content_type()?;
            let is = ct.ctype().eq_ignore_ascii_case("text")
                && ct
                    .subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case(subtype));
            is.then(|| p.text_contents().map(str::to_string)).flatten()
        })
    };
    json!({
        "to": env.to,
        "from": env.from,
        "subject": msg.as_ref().and_then(|m| m.subject()),
        "text": part("plain"),
        "html": part("html"),
    })
}

#[cfg(test)]
mod tests {
    //! The sink against a hand-driven client (the email tests drive it with lettre).

    use super::*;

    struct Client {
        read: BufReader<OwnedReadHalf>,
        write: OwnedWriteHalf,
    }

    impl Client {
        async fn connect(port: u16) -> Client {
            let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            let (read, write) = stream.into_split();
            let mut c = Client {
                read: BufReader::new(read),
                write,
            };
            c.expect("220").await;
            c
        }

        /// Read one reply (multi-line: "250-…" lines, then the last "250 …"); it must have
        /// the status `code`.
        async fn expect(&mut self, code: &str) {
            loop {
                let line = read_line(&mut self.read).await.unwrap().expect("a reply");
                let line = String::from_utf8(line).unwrap();
                assert!(line.starts_with(code), "expected {code}, got {line:?}");
                if line.as_bytes().get(3) != Some(&b'-') {
                    return;
                }
            }
        }

        async fn say(&mut self, line: &str, code: &str) {
            self.write.write_all(line.as_bytes()).await.unwrap();
            self.write.write_all(b"\r\n").await.unwrap();
            self.expect(code).await;
        }
    }

    #[tokio::test]
    async fn speaks_smtp_and_unstuffs_dots() {
        let sink = SmtpSink::start();
        let mut c = Client::connect(sink.port).await;
        c.say("MAIL FROM:<a@x.test>", "503").await;
        c.say("HELO client.test", "250").await;
        c.say("RCPT TO:<b@x.test>", "503").await;
        c.say("MAIL FROM:<a@x.test>", "250").await;
        c.say("DATA", "503").await;
        c.say("RCPT TO:<dropped@x.test>", "250").await;
        // RSET drops the envelope so far.
        c.say("RSET", "250").await;
        c.say("RCPT TO:<b@x.test>", "503").await;
        c.say("NOOP", "250").await;
        c.say("VRFY b", "502").await;
        c.say("EHLO client.test", "250").await;
        c.say("mail from:<> BODY=8BITMIME", "250").await;
        c.say("RCPT TO:b@x.test", "501").await;
        c.say("RCPT TO:<b@x.test>", "250").await;
        c.say("RCPT TO:<c@x.test>", "250").await;
        c.say("DATA", "354").await;
        // The body's lines ".leading dot" and "." arrive dot-stuffed.
        c.say(
            "Subject: =?utf-8?b?5Li+5oql?=\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             \r\n\
             ..leading dot\r\n\
             ..\r\n\
             end\r\n\
             .",
            "250",
        )
        .await;
        c.say("QUIT", "221").await;
        assert!(read_line(&mut c.read).await.unwrap().is_none(), "closed");

        let m = sink.messages();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0]["to"], json!(["b@x.test", "c@x.test"]));
        assert_eq!(m[0]["from"], "");
        assert_eq!(m[0]["subject"], "举报");
        assert_eq!(m[0]["text"], ".leading dot\r\n.\r\nend\r\n");
        assert_eq!(m[0]["html"], Value::Null);
    }

    #[tokio::test]
    async fn rejecting_sink_quotes_the_address_back() {
        let sink = SmtpSink::start_rejecting();
        let mut c = Client::connect(sink.port).await;
        c.say("EHLO client.test", "250").await;
        c.say("MAIL FROM:<a@x.test>", "250").await;
        c.write
            .write_all(b"RCPT TO:<nobody@x.test>\r\n")
            .await
            .unwrap();
        let line = read_line(&mut c.read).await.unwrap().unwrap();
        let line = String::from_utf8(line).unwrap();
        assert!(line.starts_with("550 5.1.1 <nobody@x.test>: "), "{line}");
        c.say("DATA", "503").await;
        c.say("QUIT", "221").await;
        assert_eq!(sink.rejected(), 1);
        assert!(sink.messages().is_empty());
    }
}
