//! The start-up checks of a `[[hotline]]` source (CONTRACT §2, §5).

use anyhow::{anyhow, bail};
use chrono::{DateTime, Utc};

use super::HotlineSource;

impl HotlineSource {
    /// The end of the overlap in which `previous_secret` still verifies.
    pub fn previous_until(&self) -> Option<DateTime<Utc>> {
        self.previous_secret_until
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t.trim()).ok())
            .map(|t| t.with_timezone(&Utc))
    }

    /// Start-up checks of one `[[hotline]]` table (called from the config validation).
    pub fn check(&self) -> anyhow::Result<()> {
        let s = self;
        if s.source.is_empty()
            || s.source.len() > 32
            || !s
                .source
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            bail!("source must be 1–32 letters, digits, - or _ (it is a URL path segment)");
        }
        if s.secret.is_empty() {
            bail!("secret must not be empty");
        }
        match (&s.previous_secret, &s.previous_secret_until) {
            (Some(p), Some(_)) if p.is_empty() => bail!("previous_secret must not be empty"),
            (Some(_), Some(_)) if self.previous_until().is_none() => {
                bail!("previous_secret_until must be an RFC 3339 time, e.g. 2026-12-01T00:00:00+08:00")
            }
            (Some(_), None) => {
                bail!("previous_secret needs previous_secret_until (end of the overlap)")
            }
            (None, Some(_)) => bail!("previous_secret_until without previous_secret"),
            _ => {}
        }
        if let Some(u) = s.callback_url.as_deref().filter(|u| !u.is_empty()) {
            let url = reqwest::Url::parse(u).map_err(|_| anyhow!("callback_url is not a URL"))?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                bail!("callback_url must be an http(s) URL");
            }
        }
        if s.allow_recording_hosts.iter().any(|h| h.trim().is_empty()) {
            bail!("allow_recording_hosts has an empty entry");
        }
        Ok(())
    }
}
