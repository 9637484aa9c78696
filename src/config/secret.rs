//! A configured secret (a bot token, an AES key, an app secret, a hotline HMAC key, an
//! SMTP URL with its password): read like a string where it is used, but never printed.
//! `Debug` and serialization show `[redacted]`, so a config dumped to a log or an error
//! carries none of them.

use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Serialize, Serializer};

#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The secret itself, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Deref for Secret {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self(s.to_string())
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_never_printed_or_serialized() {
        let s: Secret = serde_json::from_str("\"hunter2-token\"").unwrap();
        assert_eq!(s.expose(), "hunter2-token");
        assert_eq!(&*s, "hunter2-token");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!serde_json::to_string(&s).unwrap().contains("hunter2"));
        assert!(
            !toml::to_string(&std::collections::BTreeMap::from([("k", s)]))
                .unwrap()
                .contains("hunter2")
        );
    }
}
