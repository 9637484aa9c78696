//! The XML of WeChat Official Account and WeCom callbacks: parsing inbound pushes and
//! building passive replies (CONTRACT §4, shared/WECHAT.md).
//!
//! A push is a flat document: a root `<xml>` whose children are the fields, each holding text
//! or a CDATA section (`<Content><![CDATA[…]]></Content>`, `<CreateTime>1348831860</CreateTime>`).
//! The parser here is a streaming quick-xml reader with a deliberately small surface, because
//! the body of a plaintext-mode push arrives before anything about it can be trusted:
//!
//! * bodies longer than the caller's `max_bytes` are refused before any parsing;
//! * any `<!DOCTYPE …>` is an error, so no internal or external DTD, entity declaration or
//!   "billion laughs" expansion can exist; only the five predefined entities (`&lt;` …) and
//!   numeric character references are understood, any other `&name;` is an error;
//! * elements may nest at most [`MAX_DEPTH`] deep; only the root's direct children are
//!   fields (deeper elements, as in some WeCom events, are skipped, and their text is not
//!   part of any field); attributes are ignored;
//! * a field that appears twice is an error (not last-wins): a message whose meaning depends on
//!   which copy a parser keeps is refused instead;
//! * the root must be named `xml`, and nothing but whitespace, comments or processing
//!   instructions may follow it.
//!
//! Error values never contain message text, so they can be logged.

use std::borrow::Cow;

use quick_xml::events::Event as XmlEvent;
use quick_xml::Reader;

/// Deepest element nesting accepted (the root counts as 1).
pub const MAX_DEPTH: usize = 4;

/// Why a body could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("body is not UTF-8")]
    NotUtf8,
    #[error("DTDs are not accepted")]
    Dtd,
    #[error("elements nest deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("malformed XML near byte {position}")]
    Syntax { position: u64 },
    #[error("the root element must be <xml>")]
    BadRoot,
    #[error("no root element")]
    Empty,
    #[error("content after the root element")]
    TrailingContent,
    #[error("character data directly inside the root element")]
    StrayText,
    #[error("field <{0}> appears more than once")]
    DuplicateField(String),
    #[error("required field <{0}> is missing")]
    MissingField(&'static str),
    #[error("field <{0}> is not a valid number")]
    BadNumber(&'static str),
}

/// The first-level fields of a document, in order, as (name, text) pairs.
fn parse_fields(body: &[u8], max_bytes: usize) -> Result<Vec<(String, String)>, XmlError> {
    if body.len() > max_bytes {
        return Err(XmlError::TooLarge { limit: max_bytes });
    }
    let text = std::str::from_utf8(body).map_err(|_| XmlError::NotUtf8)?;
    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.trim_text(false);
    config.expand_empty_elements = false;
    config.check_end_names = true;
    config.check_comments = true;

    let mut fields: Vec<(String, String)> = Vec::new();
    // Nesting depth of the current position: 0 outside the root, 1 inside it, 2 inside a
    // field.
    let mut depth = 0usize;
    let mut seen_root = false;
    let mut root_closed = false;
    loop {
        let event = reader.read_event().map_err(|_| XmlError::Syntax {
            position: reader.error_position(),
        })?;
        let syntax = || XmlError::Syntax {
            position: reader.buffer_position(),
        };
        match event {
            XmlEvent::DocType(_) => return Err(XmlError::Dtd),
            XmlEvent::Start(ref e) | XmlEvent::Empty(ref e) => {
                let is_empty = matches!(event, XmlEvent::Empty(_));
                if root_closed {
                    return Err(XmlError::TrailingContent);
                }
                if depth == 0 {
                    if e.name().as_ref() != b"xml" {
                        return Err(XmlError::BadRoot);
                    }
                    seen_root = true;
                    root_closed = is_empty;
                } else if depth == 1 {
                    let name = std::str::from_utf8(e.name().as_ref())
                        .map_err(|_| syntax())?
                        .to_owned();
                    if fields.iter().any(|(n, _)| *n == name) {
                        return Err(XmlError::DuplicateField(name));
                    }
                    fields.push((name, String::new()));
                }
                if !is_empty {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(XmlError::TooDeep);
                    }
                }
            }
            XmlEvent::End(_) => {
                depth = depth.checked_sub(1).ok_or_else(syntax)?;
                if depth == 0 {
                    root_closed = true;
                }
            }
            XmlEvent::Text(ref t) => {
                let value = t.unescape().map_err(|_| syntax())?;
                append_text(&mut fields, depth, root_closed, value)?;
            }
            XmlEvent::CData(ref c) => {
                let value = c.decode().map_err(|_| syntax())?;
                append_text(&mut fields, depth, root_closed, value)?;
            }
            XmlEvent::Comment(_) | XmlEvent::Decl(_) | XmlEvent::PI(_) => {}
            XmlEvent::Eof => break,
        }
    }
    if !seen_root {
        return Err(XmlError::Empty);
    }
    if !root_closed {
        return Err(XmlError::Syntax {
            position: reader.buffer_position(),
        });
    }
    Ok(fields)
}

/// Adds character data to the field being read; whitespace between elements is ignored and
/// any other character data outside a field is refused.
fn append_text(
    fields: &mut [(String, String)],
    depth: usize,
    root_closed: bool,
    value: Cow<'_, str>,
) -> Result<(), XmlError> {
    match (depth, fields.last_mut()) {
        (2, Some((_, text))) => {
            text.push_str(&value);
            Ok(())
        }
        _ if value.trim().is_empty() => Ok(()),
        _ if root_closed => Err(XmlError::TrailingContent),
        // Text before the root or between fields is malformed for this protocol; text inside
        // nested elements is simply not a field.
        (0, _) => Err(XmlError::BadRoot),
        (1, _) => Err(XmlError::StrayText),
        _ => Ok(()),
    }
}

fn take(fields: &mut Vec<(String, String)>, name: &str) -> Option<String> {
    let at = fields.iter().position(|(n, _)| n == name)?;
    Some(fields.swap_remove(at).1)
}

/// The outer body of an encrypted push: `<xml><ToUserName/><Encrypt/></xml>` for an Official
/// Account in safe mode, plus `<AgentID/>` for WeCom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub to_user: Option<String>,
    pub agent_id: Option<String>,
    pub encrypt: String,
}

/// Parses the outer envelope of an encrypted push. Only `Encrypt` is required.
pub fn parse_envelope(body: &[u8], max_bytes: usize) -> Result<Envelope, XmlError> {
    let mut fields = parse_fields(body, max_bytes)?;
    Ok(Envelope {
        encrypt: take(&mut fields, "Encrypt").ok_or(XmlError::MissingField("Encrypt"))?,
        to_user: take(&mut fields, "ToUserName"),
        agent_id: take(&mut fields, "AgentID"),
    })
}

/// A message or event pushed by the platform (decrypted first in safe mode). `to_user` is the
/// account (Official Account id, or corp id for WeCom) and `from_user` the sender's openid
/// (WeCom: member user id). Unknown fields are dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inbound {
    pub to_user: String,
    pub from_user: String,
    pub create_time: i64,
    pub msg_type: String,
    /// Present on messages, absent on events: de-duplicate retries by it, and events by
    /// `from_user` + `create_time`.
    pub msg_id: Option<String>,
    /// WeCom only: the app the message was sent to.
    pub agent_id: Option<String>,
    pub content: Option<String>,
    pub pic_url: Option<String>,
    pub media_id: Option<String>,
    /// Voice codec, `amr` or `speex`.
    pub format: Option<String>,
    /// Voice: the platform's speech recognition text, when enabled.
    pub recognition: Option<String>,
    pub location_x: Option<String>,
    pub location_y: Option<String>,
    pub scale: Option<String>,
    pub label: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub url: Option<String>,
    pub event: Option<String>,
    pub event_key: Option<String>,
    pub ticket: Option<String>,
    /// Set when a compatibility-mode push carries an encrypted copy as well.
    pub encrypt: Option<String>,
}

/// What an [`Inbound`] is, with the fields that matter for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MsgKind<'a> {
    Text {
        content: &'a str,
    },
    Image {
        media_id: Option<&'a str>,
        pic_url: Option<&'a str>,
    },
    Voice {
        media_id: Option<&'a str>,
        format: Option<&'a str>,
        recognition: Option<&'a str>,
    },
    Location {
        x: Option<&'a str>,
        y: Option<&'a str>,
        label: Option<&'a str>,
    },
    Link {
        title: Option<&'a str>,
        url: Option<&'a str>,
    },
    Event(Event<'a>),
    /// Any other `MsgType` (video, shortvideo, file, …), by name.
    Unknown(&'a str),
}

/// The events the bot reacts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'a> {
    /// A new follower. `scene` is the QR-code scene (the `EventKey` without its `qrscene_`
    /// prefix) when the user followed by scanning a parametric QR code.
    Subscribe {
        scene: Option<&'a str>,
    },
    Unsubscribe,
    /// A menu click; `key` is the menu item's key.
    Click {
        key: &'a str,
    },
    /// Any other event, by name.
    Other(&'a str),
}

impl Inbound {
    /// Parses a plaintext push (or a decrypted safe-mode message). `ToUserName`,
    /// `FromUserName`, `CreateTime` and `MsgType` are required.
    pub fn parse(body: &[u8], max_bytes: usize) -> Result<Self, XmlError> {
        let mut f = parse_fields(body, max_bytes)?;
        let mut required =
            |name: &'static str| take(&mut f, name).ok_or(XmlError::MissingField(name));
        let to_user = required("ToUserName")?;
        let from_user = required("FromUserName")?;
        let create_time = required("CreateTime")?
            .trim()
            .parse::<i64>()
            .map_err(|_| XmlError::BadNumber("CreateTime"))?;
        let msg_type = required("MsgType")?;
        let mut opt = |name: &str| take(&mut f, name);
        Ok(Self {
            to_user,
            from_user,
            create_time,
            msg_type,
            msg_id: opt("MsgId"),
            agent_id: opt("AgentID"),
            content: opt("Content"),
            pic_url: opt("PicUrl"),
            media_id: opt("MediaId"),
            format: opt("Format"),
            recognition: opt("Recognition"),
            location_x: opt("Location_X"),
            location_y: opt("Location_Y"),
            scale: opt("Scale"),
            label: opt("Label"),
            title: opt("Title"),
            description: opt("Description"),
            url: opt("Url"),
            event: opt("Event"),
            event_key: opt("EventKey"),
            ticket: opt("Ticket"),
            encrypt: opt("Encrypt"),
        })
    }

    /// Classifies the message. Type and event names are matched ignoring ASCII case (the
    /// Official Account sends `CLICK`, WeCom `click`).
    pub fn kind(&self) -> MsgKind<'_> {
        let t = self.msg_type.as_str();
        let is = |name: &str| t.eq_ignore_ascii_case(name);
        if is("text") {
            MsgKind::Text {
                content: self.content.as_deref().unwrap_or(""),
            }
        } else if is("image") {
            MsgKind::Image {
                media_id: self.media_id.as_deref(),
                pic_url: self.pic_url.as_deref(),
            }
        } else if is("voice") {
            MsgKind::Voice {
                media_id: self.media_id.as_deref(),
                format: self.format.as_deref(),
                recognition: self.recognition.as_deref().filter(|r| !r.is_empty()),
            }
        } else if is("location") {
            MsgKind::Location {
                x: self.location_x.as_deref(),
                y: self.location_y.as_deref(),
                label: self.label.as_deref(),
            }
        } else if is("link") {
            MsgKind::Link {
                title: self.title.as_deref(),
                url: self.url.as_deref(),
            }
        } else if is("event") {
            MsgKind::Event(self.event_kind())
        } else {
            MsgKind::Unknown(t)
        }
    }

    fn event_kind(&self) -> Event<'_> {
        let name = self.event.as_deref().unwrap_or("");
        let key = self.event_key.as_deref().unwrap_or("");
        if name.eq_ignore_ascii_case("subscribe") {
            let scene = key.strip_prefix("qrscene_").filter(|s| !s.is_empty());
            Event::Subscribe { scene }
        } else if name.eq_ignore_ascii_case("unsubscribe") {
            Event::Unsubscribe
        } else if name.eq_ignore_ascii_case("click") {
            Event::Click { key }
        } else {
            Event::Other(name)
        }
    }
}

/// Whether XML 1.0 allows the character at all (even inside CDATA).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Wraps text in a CDATA section. A `]]>` inside would end the section early, so it is split
/// across two sections (`]]` ends the first, `>` starts the second); characters XML 1.0 does not
/// allow anywhere (most C0 controls, U+FFFE, U+FFFF) are dropped, since one of them makes the
/// whole reply invalid and WeChat would then tell the user the account cannot provide service.
pub fn cdata(s: &str) -> String {
    let clean: Cow<'_, str> = if s.chars().all(is_xml_char) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.chars().filter(|&c| is_xml_char(c)).collect())
    };
    format!("<![CDATA[{}]]>", clean.replace("]]>", "]]]]><![CDATA[>"))
}

/// A passive text reply: `to_user` is the sender's openid (the push's `FromUserName`) and
/// `from_user` the account id (the push's `ToUserName`).
pub fn reply_text(to_user: &str, from_user: &str, create_time: i64, content: &str) -> String {
    format!(
        "<xml><ToUserName>{}</ToUserName><FromUserName>{}</FromUserName>\
         <CreateTime>{create_time}</CreateTime><MsgType><![CDATA[text]]></MsgType>\
         <Content>{}</Content></xml>",
        cdata(to_user),
        cdata(from_user),
        cdata(content),
    )
}

/// The body of an encrypted reply (safe mode, and always for WeCom). `msg_signature` is
/// [`super::crypto::signature`] over the token, this `timestamp` and `nonce`, and
/// `encrypt_b64`.
pub fn encrypted_envelope(
    encrypt_b64: &str,
    msg_signature: &str,
    timestamp: &str,
    nonce: &str,
) -> String {
    format!(
        "<xml><Encrypt>{}</Encrypt><MsgSignature>{}</MsgSignature>\
         <TimeStamp>{}</TimeStamp><Nonce>{}</Nonce></xml>",
        cdata(encrypt_b64),
        cdata(msg_signature),
        quick_xml::escape::escape(timestamp),
        cdata(nonce),
    )
}

#[cfg(test)]
mod tests {
    use super::super::crypto::{signature, verify_signature, MsgCrypt};
    use super::*;
    use proptest::prelude::*;

    const MAX: usize = 64 * 1024;

    fn parse(body: &str) -> Result<Inbound, XmlError> {
        Inbound::parse(body.as_bytes(), MAX)
    }

    fn push(inner: &str) -> String {
        format!(
            "<xml>\n  <ToUserName><![CDATA[gh_0123456789ab]]></ToUserName>\n  \
             <FromUserName><![CDATA[oXyZ-openid_0001]]></FromUserName>\n  \
             <CreateTime>1714036504</CreateTime>\n{inner}\n</xml>"
        )
    }

    #[test]
    fn text_message() {
        let m = parse(&push(
            "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[举报 某医院 <虚开> & 套保]]></Content>\
             <MsgId>24602857712345678</MsgId>",
        ))
        .unwrap();
        assert_eq!(m.to_user, "gh_0123456789ab");
        assert_eq!(m.from_user, "oXyZ-openid_0001");
        assert_eq!(m.create_time, 1714036504);
        assert_eq!(m.msg_id.as_deref(), Some("24602857712345678"));
        assert_eq!(m.agent_id, None);
        assert_eq!(
            m.kind(),
            MsgKind::Text {
                content: "举报 某医院 <虚开> & 套保"
            }
        );
    }

    #[test]
    fn image_voice_location_link() {
        let img = parse(&push(
            "<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://mmbiz.qpic.cn/x/0]]></PicUrl>\
             <MediaId><![CDATA[media_img_1]]></MediaId><MsgId>1</MsgId>",
        ))
        .unwrap();
        assert_eq!(
            img.kind(),
            MsgKind::Image {
                media_id: Some("media_img_1"),
                pic_url: Some("http://mmbiz.qpic.cn/x/0")
            }
        );
        let voice = parse(&push(
            "<MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[media_v]]></MediaId>\
             <Format><![CDATA[amr]]></Format><Recognition><![CDATA[我要举报]]></Recognition><MsgId>2</MsgId>",
        ))
        .unwrap();
        assert_eq!(
            voice.kind(),
            MsgKind::Voice {
                media_id: Some("media_v"),
                format: Some("amr"),
                recognition: Some("我要举报")
            }
        );
        let loc = parse(&push(
            "<MsgType><![CDATA[location]]></MsgType><Location_X>23.134521</Location_X>\
             <Location_Y>113.358803</Location_Y><Scale>20</Scale>\
             <Label><![CDATA[广州市天河区某医院]]></Label><MsgId>3</MsgId>",
        ))
        .unwrap();
        assert_eq!(loc.scale.as_deref(), Some("20"));
        assert_eq!(
            loc.kind(),
            MsgKind::Location {
                x: Some("23.134521"),
                y: Some("113.358803"),
                label: Some("广州市天河区某医院")
            }
        );
        let link = parse(&push(
            "<MsgType><![CDATA[link]]></MsgType><Title><![CDATA[公告]]></Title>\
             <Description><![CDATA[说明]]></Description><Url><![CDATA[https://example.org/a?b=1&c=2]]></Url><MsgId>4</MsgId>",
        ))
        .unwrap();
        assert_eq!(link.description.as_deref(), Some("说明"));
        assert_eq!(
            link.kind(),
            MsgKind::Link {
                title: Some("公告"),
                url: Some("https://example.org/a?b=1&c=2")
            }
        );
        let video = parse(&push("<MsgType><![CDATA[video]]></MsgType>")).unwrap();
        assert_eq!(video.kind(), MsgKind::Unknown("video"));
    }

    #[test]
    fn events() {
        let qr = parse(&push(
            "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>\
             <EventKey><![CDATA[qrscene_123123]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket>",
        ))
        .unwrap();
        assert_eq!(qr.msg_id, None);
        assert_eq!(qr.ticket.as_deref(), Some("TICKET"));
        assert_eq!(
            qr.kind(),
            MsgKind::Event(Event::Subscribe {
                scene: Some("123123")
            })
        );
        let plain = parse(&push(
            "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[]]></EventKey>",
        ))
        .unwrap();
        assert_eq!(
            plain.kind(),
            MsgKind::Event(Event::Subscribe { scene: None })
        );
        let unsub = parse(&push(
            "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[unsubscribe]]></Event>",
        ))
        .unwrap();
        assert_eq!(unsub.kind(), MsgKind::Event(Event::Unsubscribe));
        let click = parse(&push(
            "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[REPORT]]></EventKey>",
        ))
        .unwrap();
        assert_eq!(click.kind(), MsgKind::Event(Event::Click { key: "REPORT" }));
        let view = parse(&push(
            "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[VIEW]]></Event><EventKey><![CDATA[https://x]]></EventKey>",
        ))
        .unwrap();
        assert_eq!(view.kind(), MsgKind::Event(Event::Other("VIEW")));
    }

    #[test]
    fn wecom_messages_carry_agent_id() {
        let text = parse(
            "<xml><ToUserName><![CDATA[ww1234567890abcdef]]></ToUserName><FromUserName><![CDATA[ZhangSan]]></FromUserName>\
             <CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[help]]></Content>\
             <MsgId>1234567890123456</MsgId><AgentID>1000002</AgentID></xml>",
        )
        .unwrap();
        assert_eq!(text.agent_id.as_deref(), Some("1000002"));
        assert_eq!(text.kind(), MsgKind::Text { content: "help" });
        // WeCom spells the menu event in lower case.
        let click = parse(
            "<xml><ToUserName><![CDATA[ww1234567890abcdef]]></ToUserName><FromUserName><![CDATA[ZhangSan]]></FromUserName>\
             <CreateTime>1348831860</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[click]]></Event>\
             <EventKey><![CDATA[QUERY]]></EventKey><AgentID>1</AgentID></xml>",
        )
        .unwrap();
        assert_eq!(click.kind(), MsgKind::Event(Event::Click { key: "QUERY" }));
        let env = parse_envelope(
            b"<xml><ToUserName><![CDATA[ww1234567890abcdef]]></ToUserName><AgentID><![CDATA[1000002]]></AgentID>\
              <Encrypt><![CDATA[abc+/=]]></Encrypt></xml>",
            MAX,
        )
        .unwrap();
        assert_eq!(
            env,
            Envelope {
                to_user: Some("ww1234567890abcdef".into()),
                agent_id: Some("1000002".into()),
                encrypt: "abc+/=".into()
            }
        );
        assert_eq!(
            parse_envelope(b"<xml><ToUserName>x</ToUserName></xml>", MAX),
            Err(XmlError::MissingField("Encrypt"))
        );
    }

    #[test]
    fn wecom_documented_push_decrypts_and_parses() {
        // WeCom's callback documentation ("加解密方案说明") and its C# `Sample.cs`: a push with
        // its msg_signature, timestamp, nonce and Encrypt, and the plaintext it decrypts to.
        let body = "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>";
        let env = parse_envelope(body.as_bytes(), MAX).unwrap();
        assert_eq!(env.agent_id.as_deref(), Some("218"));
        assert!(verify_signature(
            "477715d11cdb4164915debcba66cb864d751f3e6",
            "QDG6eK",
            "1409659813",
            "1372623149",
            Some(&env.encrypt)
        ));
        let c = MsgCrypt::new(
            "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
            "wx5823bf96d3bd56c7",
        )
        .unwrap();
        let plain = c.decrypt(&env.encrypt).unwrap();
        let m = Inbound::parse(plain.as_bytes(), MAX).unwrap();
        assert_eq!(m.to_user, "wx5823bf96d3bd56c7");
        assert_eq!(m.from_user, "mycreate");
        assert_eq!(m.create_time, 1409659813);
        assert_eq!(m.kind(), MsgKind::Text { content: "hello" });
        assert_eq!(m.msg_id.as_deref(), Some("4561255354251345929"));
        assert_eq!(m.agent_id.as_deref(), Some("218"));
    }

    #[test]
    fn dtds_and_unknown_entities_are_rejected() {
        let bomb = r#"<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&d;</Content></xml>"#;
        assert_eq!(parse(bomb), Err(XmlError::Dtd));
        let xxe = r#"<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><Encrypt>&xxe;</Encrypt></xml>"#;
        assert_eq!(parse_envelope(xxe.as_bytes(), MAX), Err(XmlError::Dtd));
        let undeclared = push("<MsgType>text</MsgType><Content>&xxe;</Content>");
        assert!(matches!(parse(&undeclared), Err(XmlError::Syntax { .. })));
        // The five predefined entities and character references are fine.
        let ok = parse(&push(
            "<MsgType>text</MsgType><Content>&lt;a&gt; &amp; &quot;&apos; &#20013;&#x6587;</Content>",
        ))
        .unwrap();
        assert_eq!(ok.content.as_deref(), Some("<a> & \"' 中文"));
    }

    #[test]
    fn size_and_depth_limits() {
        let body = push("<MsgType>text</MsgType><Content>x</Content>");
        assert!(Inbound::parse(body.as_bytes(), body.len()).is_ok());
        assert_eq!(
            Inbound::parse(body.as_bytes(), body.len() - 1),
            Err(XmlError::TooLarge {
                limit: body.len() - 1
            })
        );
        // Depth 4 (root, field, two nested levels) is accepted and the nested text ignored.
        let nested = push(
            "<MsgType>event</MsgType><Event>scancode_push</Event>\
             <ScanCodeInfo><Inner><Leaf>x</Leaf></Inner></ScanCodeInfo>",
        );
        assert_eq!(
            parse(&nested).unwrap().kind(),
            MsgKind::Event(Event::Other("scancode_push"))
        );
        let deep = push("<MsgType>x</MsgType><A><B><C><D>x</D></C></B></A>");
        assert_eq!(parse(&deep), Err(XmlError::TooDeep));
        let very_deep = format!("<xml>{}", "<a>".repeat(100_000));
        assert_eq!(
            Inbound::parse(very_deep.as_bytes(), usize::MAX),
            Err(XmlError::TooDeep)
        );
    }

    #[test]
    fn structural_errors() {
        let dup = push("<MsgType>text</MsgType><Content>a</Content><Content>b</Content>");
        assert_eq!(parse(&dup), Err(XmlError::DuplicateField("Content".into())));
        assert_eq!(parse(""), Err(XmlError::Empty));
        assert_eq!(parse("  <!-- c -->  "), Err(XmlError::Empty));
        assert_eq!(parse("<root><a>1</a></root>"), Err(XmlError::BadRoot));
        assert_eq!(parse("junk<xml></xml>"), Err(XmlError::BadRoot));
        assert_eq!(parse("<xml>stray<A>1</A></xml>"), Err(XmlError::StrayText));
        assert_eq!(
            parse("<xml></xml><xml></xml>"),
            Err(XmlError::TrailingContent)
        );
        assert_eq!(parse("<xml></xml>tail"), Err(XmlError::TrailingContent));
        assert!(matches!(
            parse("<xml><A>1</A>"),
            Err(XmlError::Syntax { .. })
        ));
        assert!(matches!(
            parse("<xml><A>1</B></xml>"),
            Err(XmlError::Syntax { .. })
        ));
        assert!(matches!(
            parse("<xml><A>1</A></xml></xml>"),
            Err(XmlError::Syntax { .. })
        ));
        assert_eq!(
            Inbound::parse(b"<xml>\xff</xml>", MAX),
            Err(XmlError::NotUtf8)
        );
        assert_eq!(
            parse("<xml><ToUserName>a</ToUserName></xml>"),
            Err(XmlError::MissingField("FromUserName"))
        );
        let bad_time = "<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName>\
                        <CreateTime>soon</CreateTime><MsgType>text</MsgType></xml>";
        assert_eq!(parse(bad_time), Err(XmlError::BadNumber("CreateTime")));
        // Declarations, comments, attributes, empty elements and mixed text/CDATA.
        let mixed = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><!-- push --><xml a=\"1\">\
                     <ToUserName/><FromUserName>b</FromUserName><CreateTime> 7 </CreateTime>\
                     <MsgType>text</MsgType><Content>a<![CDATA[<b>]]>c<!-- x -->d</Content></xml>\n";
        let m = parse(mixed).unwrap();
        assert_eq!((m.to_user.as_str(), m.create_time), ("", 7));
        assert_eq!(m.content.as_deref(), Some("a<b>cd"));
    }

    #[test]
    fn cdata_splits_terminators() {
        assert_eq!(cdata("a]]>b"), "<![CDATA[a]]]]><![CDATA[>b]]>");
        assert_eq!(cdata("bell\u{7}\u{0}!"), "<![CDATA[bell!]]>");
        for tip in [
            "]]>",
            "a]]>b]]]>c",
            "<![CDATA[x]]>",
            "]]]]><![CDATA[>",
            "plain 举报",
        ] {
            let xml = reply_text("oUser", "gh_acct", 1714036504, tip);
            let m = parse(&xml).unwrap();
            assert_eq!(m.to_user, "oUser");
            assert_eq!(m.from_user, "gh_acct");
            assert_eq!(m.create_time, 1714036504);
            assert_eq!(m.kind(), MsgKind::Text { content: tip });
        }
    }

    #[test]
    fn encrypted_reply_roundtrip() {
        let c = MsgCrypt::new(
            "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            "wxb11529c136998cb6",
        )
        .unwrap();
        let reply = reply_text("oUser", "gh_acct", 1714036504, "已收到 ]]> 谢谢");
        let enc = c.encrypt(&reply);
        let sig = signature("pamtest", "1714036504", "nonce1", Some(&enc));
        let body = encrypted_envelope(&enc, &sig, "1714036504", "nonce1");
        assert!(body.starts_with("<xml><Encrypt><![CDATA["));
        assert!(body.contains("<TimeStamp>1714036504</TimeStamp>"));
        let env = parse_envelope(body.as_bytes(), MAX).unwrap();
        assert_eq!(env.encrypt, enc);
        assert!(verify_signature(
            &sig,
            "pamtest",
            "1714036504",
            "nonce1",
            Some(&env.encrypt)
        ));
        let back = Inbound::parse(c.decrypt(&env.encrypt).unwrap().as_bytes(), MAX).unwrap();
        assert_eq!(
            back.kind(),
            MsgKind::Text {
                content: "已收到 ]]> 谢谢"
            }
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = Inbound::parse(s.as_bytes(), MAX);
            let _ = parse_envelope(s.as_bytes(), MAX);
        }

        #[test]
        fn parse_never_panics_inside_root(s in "[<>/!?\\[\\]a-zA-Z&#;x0-9 =\"'-]{0,80}") {
            let _ = parse(&format!("<xml>{s}</xml>"));
            let _ = parse(&push(&s));
        }

        #[test]
        fn parse_never_panics_on_bytes(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Inbound::parse(&b, MAX);
        }

        #[test]
        fn reply_text_roundtrips_any_content(s in any::<String>()) {
            let m = parse(&reply_text("u", "a", 1, &s)).unwrap();
            let expected: String = s.chars().filter(|&c| is_xml_char(c)).collect();
            prop_assert_eq!(m.content.as_deref(), Some(expected.as_str()));
        }
    }
}
