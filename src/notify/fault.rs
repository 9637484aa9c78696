//! Why a job failed, as a fixed code (`smtp_rejected_recipient`, `platform_45015`,
//! `http_503`, `database_error` …), never as an error's text.
//!
//! The text of a remote failure is not ours: an SMTP server's rejection echoes the
//! recipient's address, a platform's `errmsg` can echo an openid, a driver's message can
//! quote a value. A job's failure is logged and stored as its last error, and the
//! dead-letter list shows it to an admin, so everything a handler returns is reduced here
//! first: a [`FailCode`] is made only from a fixed string, a fixed prefix and a number, or
//! by classifying an error by its kind, never by copying its message.

use std::borrow::Cow;
use std::fmt;

/// A job failure's code: lower-case ASCII letters, digits and `_`, at most 64 of them;
/// and, where the handler knows it, the configured account it failed on
/// ([`FailCode::on`]), which the dead-letter list names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailCode(Cow<'static, str>, Option<String>);

/// What a code that breaks the rules above becomes (a bug: debug builds panic).
const MALFORMED: &str = "unclassified";

fn well_formed(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl FailCode {
    /// A fixed code. Handlers name their own (`no_hotline_call`, `bot_account_gone`).
    pub fn new(code: &'static str) -> Self {
        debug_assert!(well_formed(code), "not a failure code: {code:?}");
        if well_formed(code) {
            FailCode(Cow::Borrowed(code), None)
        } else {
            FailCode(Cow::Borrowed(MALFORMED), None)
        }
    }

    /// A fixed prefix and a number the remote side answered with: `platform_45015`,
    /// `http_503`, `smtp_permanent_554`.
    pub fn numbered(prefix: &'static str, n: i64) -> Self {
        let prefix = FailCode::new(prefix);
        FailCode(
            Cow::Owned(format!("{}_{}", prefix.0, n.unsigned_abs())),
            None,
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The failure happened on a configured account (`wechat demo`): its name, never a
    /// person's, goes on the job's dead-letter entry.
    pub fn on(mut self, target: String) -> Self {
        self.1 = Some(target);
        self
    }

    pub fn target(&self) -> Option<&str> {
        self.1.as_deref()
    }

    /// An HTTP client failure by its kind (the message, which may name the host or the
    /// URL, is dropped).
    pub fn http(e: &reqwest::Error) -> Self {
        if let Some(status) = e.status() {
            FailCode::numbered("http", i64::from(status.as_u16()))
        } else if e.is_timeout() {
            FailCode::new("network_timeout")
        } else if e.is_connect() {
            FailCode::new("network_unreachable")
        } else if e.is_decode() || e.is_body() {
            FailCode::new("bad_reply")
        } else {
            FailCode::new("network_error")
        }
    }

    /// A database failure by its kind: `database_23505` for a database's own error (its
    /// SQLSTATE, or SQLite's result code), else what went wrong around it.
    pub fn database(e: &sqlx::Error) -> Self {
        match e {
            sqlx::Error::Database(d) => match d.code() {
                Some(c) if c.len() <= 8 && c.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                    FailCode(
                        Cow::Owned(format!("database_{}", c.to_ascii_lowercase())),
                        None,
                    )
                }
                _ => FailCode::new("database_error"),
            },
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
                FailCode::new("database_unavailable")
            }
            sqlx::Error::Io(_) | sqlx::Error::Tls(_) => FailCode::new("database_unavailable"),
            sqlx::Error::RowNotFound => FailCode::new("database_row_missing"),
            _ => FailCode::new("database_error"),
        }
    }
}

impl fmt::Display for FailCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&'static str> for FailCode {
    fn from(code: &'static str) -> Self {
        FailCode::new(code)
    }
}

impl From<sqlx::Error> for FailCode {
    fn from(e: sqlx::Error) -> Self {
        FailCode::database(&e)
    }
}

impl From<reqwest::Error> for FailCode {
    fn from(e: reqwest::Error) -> Self {
        FailCode::http(&e)
    }
}

/// Internal failures (the vault, a decoding step): classified by what they wrap, their
/// text dropped.
impl From<anyhow::Error> for FailCode {
    fn from(e: anyhow::Error) -> Self {
        if let Some(db) = e.chain().find_map(|c| c.downcast_ref::<sqlx::Error>()) {
            return FailCode::database(db);
        }
        FailCode::new("internal_error")
    }
}

impl From<tokio::task::JoinError> for FailCode {
    fn from(_: tokio::task::JoinError) -> Self {
        FailCode::new("internal_error")
    }
}

impl From<serde_json::Error> for FailCode {
    fn from(_: serde_json::Error) -> Self {
        FailCode::new("bad_reply")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_fixed_and_numbers_keep_their_prefix() {
        assert_eq!(
            FailCode::new("smtp_unavailable").as_str(),
            "smtp_unavailable"
        );
        assert_eq!(
            FailCode::numbered("platform", 45015).as_str(),
            "platform_45015"
        );
        assert_eq!(FailCode::numbered("platform", -1).as_str(), "platform_1");
        let db = sqlx::Error::Protocol("value 'a@b.test' is odd".into());
        assert_eq!(FailCode::from(db).as_str(), "database_error");
        let wrapped = anyhow::Error::new(sqlx::Error::PoolTimedOut).context("a@b.test");
        assert_eq!(FailCode::from(wrapped).as_str(), "database_unavailable");
        let other = anyhow::anyhow!("opening email for a@b.test");
        assert_eq!(FailCode::from(other).as_str(), "internal_error");
    }

    #[test]
    #[should_panic(expected = "not a failure code")]
    fn a_sentence_is_not_a_code() {
        let _ = FailCode::new("user a@b.test unknown");
    }
}
