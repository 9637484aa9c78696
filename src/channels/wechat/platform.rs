//! Talking to the platforms' HTTP APIs: access tokens (cached in the database, shared by
//! every instance, refreshed before they expire), media download and customer-service
//! messages. Only outbox jobs call these, never a callback request.
//!
//! URLs carry the access token in their query string, and a platform's `errmsg` can echo the
//! openid a message was for: failures are reported as fixed codes only (`platform_45015`,
//! `http_503`, `network_timeout`; see `notify::FailCode`), and nothing here logs a URL.

use std::time::Duration;

use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use super::store;
use super::{Account, Bots, Platform};
use crate::i18n;
use crate::notify::worker::JobError;
use crate::notify::FailCode;
use crate::workflow::feedback::Notice;

/// Refresh a token this long before the platform says it expires.
const TOKEN_MARGIN_SECS: i64 = 300;
/// Largest media file fetched (the platforms' own limits are 10 MB for images, 2 MB voice).
pub const MAX_MEDIA_BYTES: usize = 20 * 1024 * 1024;

/// The HTTP client for platform APIs.
pub fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

fn net(e: reqwest::Error) -> JobError {
    JobError::Retry(FailCode::http(&e))
}

/// A platform's `errcode` as the job's failure code.
fn platform(errcode: i64) -> FailCode {
    FailCode::numbered("platform", errcode)
}

#[derive(Deserialize)]
struct ApiReply {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<i64>,
}

/// Error codes meaning "get a new access token and try again".
fn token_invalid(code: i64) -> bool {
    matches!(code, 40001 | 40014 | 42001 | 41001)
}

impl Bots {
    /// A valid access token for `account`, from the shared cache or fresh from the platform.
    pub async fn access_token(&self, a: &Account) -> Result<String, JobError> {
        let p = a.platform.code();
        let margin = chrono::Duration::seconds(TOKEN_MARGIN_SECS);
        if let Some(t) = store::cached_token(&self.db, &self.vault, p, &a.name, margin)
            .await
            .map_err(JobError::retry)?
        {
            return Ok(t);
        }
        let secret = a
            .secret
            .as_deref()
            .ok_or_else(|| JobError::permanent("bot_no_app_secret"))?;
        let url = match a.platform {
            Platform::Wechat => format!("{}/cgi-bin/token", a.api_base),
            Platform::Wecom => format!("{}/cgi-bin/gettoken", a.api_base),
        };
        let query: Vec<(&str, &str)> = match a.platform {
            Platform::Wechat => vec![
                ("grant_type", "client_credential"),
                ("appid", &a.receive_id),
                ("secret", secret),
            ],
            Platform::Wecom => vec![("corpid", &a.receive_id), ("corpsecret", secret)],
        };
        let r: ApiReply = self
            .http
            .get(url)
            .query(&query)
            .send()
            .await
            .map_err(net)?
            .json()
            .await
            .map_err(net)?;
        let Some(token) = r.access_token.filter(|t| !t.is_empty() && r.errcode == 0) else {
            return Err(JobError::Retry(if r.errcode == 0 {
                FailCode::new("platform_no_token")
            } else {
                platform(r.errcode)
            }));
        };
        let expires = Utc::now() + chrono::Duration::seconds(r.expires_in.unwrap_or(7200));
        let sealer = self.vault.sealer().await.map_err(JobError::retry)?;
        store::store_token(&self.db, &sealer, p, &a.name, &token, expires)
            .await
            .map_err(JobError::retry)?;
        Ok(token)
    }

    async fn token_rejected(&self, a: &Account) {
        if let Err(e) = store::forget_token(&self.db, a.platform.code(), &a.name).await {
            tracing::warn!(error = %format!("{e:#}"), "could not drop a rejected token");
        }
    }

    /// Download a temporary media file (image or voice) by its media id.
    pub async fn fetch_media(&self, a: &Account, media_id: &str) -> Result<Vec<u8>, JobError> {
        let token = self.access_token(a).await?;
        let res = self
            .http
            .get(format!("{}/cgi-bin/media/get", a.api_base))
            .query(&[("access_token", token.as_str()), ("media_id", media_id)])
            .send()
            .await
            .map_err(net)?;
        if !res.status().is_success() {
            return Err(JobError::Retry(FailCode::numbered(
                "http",
                i64::from(res.status().as_u16()),
            )));
        }
        let is_json = res
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("json") || v.starts_with("text/plain"));
        if res
            .content_length()
            .is_some_and(|n| n > MAX_MEDIA_BYTES as u64)
        {
            return Err(JobError::permanent("media_too_large"));
        }
        let mut res = res;
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(net)? {
            if body.len() + chunk.len() > MAX_MEDIA_BYTES {
                return Err(JobError::permanent("media_too_large"));
            }
            body.extend_from_slice(&chunk);
        }
        if is_json {
            let r: ApiReply = serde_json::from_slice(&body).map_err(JobError::retry)?;
            if token_invalid(r.errcode) {
                self.token_rejected(a).await;
                return Err(JobError::Retry(platform(r.errcode)));
            }
            // 40007: invalid media id (expired after three days, or never existed).
            return Err(JobError::Permanent(platform(r.errcode)));
        }
        Ok(body)
    }

    /// Send a customer-service text message to a user (WeChat: within 48 hours of their
    /// last message; WeCom: an app message to the member).
    pub async fn send_text(&self, a: &Account, user: &str, text: &str) -> Result<(), JobError> {
        let (path, body) = match a.platform {
            Platform::Wechat => (
                "/cgi-bin/message/custom/send",
                json!({ "touser": user, "msgtype": "text", "text": { "content": text } }),
            ),
            Platform::Wecom => (
                "/cgi-bin/message/send",
                json!({ "touser": user, "msgtype": "text", "agentid": a.agent_id,
                        "text": { "content": text } }),
            ),
        };
        match self.post_message(a, path, &body).await? {
            0 => Ok(()),
            // 45015: the user has not written in the last 48 hours; 43004: unfollowed.
            c @ (45015 | 43004 | 40003) => Err(JobError::Permanent(platform(c))),
            c => Err(JobError::Retry(platform(c))),
        }
    }

    /// Outside the 48-hour window: the account's template message (or subscription
    /// message) for a notice, carrying a status word, a date and a link to the H5 status
    /// page, nothing of the case. `Ok(None)`: the account has no template for it.
    /// `Ok(Some(via))`: sent. A wrong template id is a permanent failure naming the account.
    pub async fn send_template(
        &self,
        a: &Account,
        user: &str,
        n: &Notice,
    ) -> Result<TemplateOutcome, JobError> {
        let Some(template) = a.templates.for_kind(&n.kind) else {
            return Ok(TemplateOutcome::NotConfigured);
        };
        let word = crate::workflow::feedback::status_word(n.locale, &n.status);
        let link = format!("{}/h5/#status", self.public_url);
        let (path, body, via) = if a.templates.subscribe {
            (
                "/cgi-bin/message/subscribe/bizsend",
                json!({ "touser": user, "template_id": template, "page": link,
                        "data": { "thing1": { "value": word }, "time2": { "value": n.on } } }),
                "wechat_subscribe",
            )
        } else {
            (
                "/cgi-bin/message/template/send",
                json!({ "touser": user, "template_id": template, "url": link, "data": {
                    "first": { "value": i18n::t(n.locale, "wx-notice-title", &[]) },
                    "keyword1": { "value": word },
                    "keyword2": { "value": n.on },
                    "remark": { "value": i18n::t(n.locale, "wx-notice-remark", &[]) } } }),
                "wechat_template",
            )
        };
        match self.post_message(a, path, &body).await? {
            0 => Ok(TemplateOutcome::Sent(via)),
            43004 => Ok(TemplateOutcome::Refused("unfollowed")),
            // Subscription messages: the user has not (or no longer) subscribed.
            43101 => Ok(TemplateOutcome::Refused("not_subscribed")),
            // 40037 invalid template id; 40036 / 47003 bad template fields: fix the config.
            c @ (40037 | 40036 | 47003 | 40003) => Err(JobError::Permanent(
                platform(c).on(format!("wechat {}", a.name)),
            )),
            c => Err(JobError::Retry(platform(c))),
        }
    }

    /// POST a message to a platform API with the account's token; the platform's
    /// `errcode` (token errors already handled: the token is dropped and it is retried).
    async fn post_message(
        &self,
        a: &Account,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<i64, JobError> {
        let token = self.access_token(a).await?;
        let res = self
            .http
            .post(format!("{}{path}", a.api_base))
            .query(&[("access_token", token.as_str())])
            .json(body)
            .send()
            .await
            .map_err(net)?;
        if !res.status().is_success() {
            return Err(JobError::Retry(FailCode::numbered(
                "http",
                i64::from(res.status().as_u16()),
            )));
        }
        let r: ApiReply = res.json().await.map_err(net)?;
        if token_invalid(r.errcode) {
            self.token_rejected(a).await;
            return Err(JobError::Retry(platform(r.errcode)));
        }
        Ok(r.errcode)
    }
}

/// What came of a template message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateOutcome {
    Sent(&'static str),
    /// The account has no template for this kind of notice.
    NotConfigured,
    /// The platform will not deliver to this user (`unfollowed`, `not_subscribed`).
    Refused(&'static str),
}
