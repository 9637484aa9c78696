//! SMS to reporters who left a mobile number and chose to be told by SMS (`[sms]`): one
//! interface, two providers — Tencent Cloud SMS (API 3.0, `SendSms` 2021-01-11, signed with
//! TC3-HMAC-SHA256) and Alibaba Cloud SMS (`SendSms` 2017-05-25, the signed RPC API,
//! HMAC-SHA1). The message is a pre-approved template whose one parameter is a status word:
//! no case content. The phone number is given by the caller, who opens it from the vault
//! for this send only; it is never logged, and failures are fixed codes (`sms_auth_failed`,
//! `sms_rate_limited`, `sms_rejected`, `http_503` …), never the provider's text.

use std::collections::BTreeMap;

use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::worker::JobError;
use super::FailCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Tencent,
    Aliyun,
}

/// `[sms]` as the sender needs it.
#[derive(Clone)]
pub struct SmsSettings {
    pub provider: Provider,
    /// The API's base URL (overridable for tests).
    pub endpoint: String,
    pub key_id: String,
    pub secret: String,
    pub sign_name: String,
    /// Tencent: the SDK app id (`SmsSdkAppId`). Aliyun: unused.
    pub app_id: String,
    /// Tencent: `X-TC-Region` (ap-guangzhou). Aliyun: `RegionId` (cn-hangzhou).
    pub region: String,
    pub template_id_status: String,
    pub template_id_reward: Option<String>,
}

pub struct Sms {
    pub settings: SmsSettings,
    pub http: reqwest::Client,
}

fn hmac256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

/// Tencent Cloud API 3.0's `Authorization` header for a POST of `payload` to `host` with
/// `Content-Type: application/json; charset=utf-8` (signed headers content-type and host).
pub fn tencent_authorization(
    secret_id: &str,
    secret_key: &str,
    service: &str,
    host: &str,
    timestamp: i64,
    payload: &str,
) -> String {
    let date = DateTime::from_timestamp(timestamp, 0)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string();
    let canonical = format!(
        "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:{host}\n\n\
         content-type;host\n{}",
        hex::encode(Sha256::digest(payload.as_bytes()))
    );
    let scope = format!("{date}/{service}/tc3_request");
    let to_sign = format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let k_date = hmac256(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let k_service = hmac256(&k_date, service.as_bytes());
    let k_signing = hmac256(&k_service, b"tc3_request");
    let signature = hex::encode(hmac256(&k_signing, to_sign.as_bytes()));
    format!(
        "TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders=content-type;host, \
         Signature={signature}"
    )
}

/// RFC 3986 unreserved characters stay; everything else is %XX (Aliyun's POP encoding).
const POP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn pop_encode(s: &str) -> String {
    utf8_percent_encode(s, POP).to_string()
}

/// Alibaba Cloud RPC signature over the request's parameters (without `Signature`):
/// base64(HMAC-SHA1(secret + "&", "GET&%2F&" + encode(sorted, encoded `k=v` joined by `&`))).
pub fn aliyun_signature(secret: &str, params: &BTreeMap<String, String>) -> String {
    let query = params
        .iter()
        .map(|(k, v)| format!("{}={}", pop_encode(k), pop_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let to_sign = format!("GET&{}&{}", pop_encode("/"), pop_encode(&query));
    let mut m = Hmac::<sha1::Sha1>::new_from_slice(format!("{secret}&").as_bytes())
        .expect("HMAC takes a key of any length");
    m.update(to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes())
}

impl Sms {
    pub fn client() -> anyhow::Result<reqwest::Client> {
        Ok(reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(15))
            .connect_timeout(std::time::Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()?)
    }

    /// The template for a notice of `kind` (`reward` has its own when configured).
    pub fn template_for(&self, kind: &str) -> &str {
        match (&self.settings.template_id_reward, kind) {
            (Some(t), "reward") if !t.is_empty() => t,
            _ => &self.settings.template_id_status,
        }
    }

    /// Send the `template` with one parameter, the status `word`, to the mainland mobile
    /// `phone` (11 digits).
    pub async fn send(&self, phone: &str, template: &str, word: &str) -> Result<(), JobError> {
        match self.settings.provider {
            Provider::Tencent => self.send_tencent(phone, template, word).await,
            Provider::Aliyun => self.send_aliyun(phone, template, word).await,
        }
    }

    async fn send_tencent(&self, phone: &str, template: &str, word: &str) -> Result<(), JobError> {
        let s = &self.settings;
        let url = reqwest::Url::parse(&s.endpoint)
            .map_err(|_| JobError::permanent("sms_bad_endpoint"))?;
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => return Err(JobError::permanent("sms_bad_endpoint")),
        };
        let payload = json!({
            "PhoneNumberSet": [format!("+86{phone}")],
            "SmsSdkAppId": s.app_id,
            "SignName": s.sign_name,
            "TemplateId": template,
            "TemplateParamSet": [word],
        })
        .to_string();
        let ts = Utc::now().timestamp();
        let auth = tencent_authorization(&s.key_id, &s.secret, "sms", &host, ts, &payload);
        let res = self
            .http
            .post(url)
            .header("Authorization", auth)
            .header("Content-Type", "application/json; charset=utf-8")
            .header("X-TC-Action", "SendSms")
            .header("X-TC-Version", "2021-01-11")
            .header("X-TC-Timestamp", ts.to_string())
            .header("X-TC-Region", &s.region)
            .body(payload)
            .send()
            .await
            .map_err(JobError::retry)?;
        let reply = reply_json(res).await?;
        let r = &reply["Response"];
        if let Some(code) = r["Error"]["Code"].as_str() {
            return Err(tencent_failure(code));
        }
        match r["SendStatusSet"][0]["Code"].as_str() {
            Some(c) if c.eq_ignore_ascii_case("ok") => Ok(()),
            Some(c) => Err(tencent_failure(c)),
            None => Err(JobError::retry("bad_reply")),
        }
    }

    async fn send_aliyun(&self, phone: &str, template: &str, word: &str) -> Result<(), JobError> {
        let s = &self.settings;
        let mut p: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in [
            ("AccessKeyId", s.key_id.clone()),
            ("Action", "SendSms".into()),
            ("Format", "JSON".into()),
            ("PhoneNumbers", phone.to_string()),
            ("RegionId", s.region.clone()),
            ("SignName", s.sign_name.clone()),
            ("SignatureMethod", "HMAC-SHA1".into()),
            ("SignatureNonce", uuid::Uuid::new_v4().to_string()),
            ("SignatureVersion", "1.0".into()),
            ("TemplateCode", template.to_string()),
            ("TemplateParam", json!({ "status": word }).to_string()),
            (
                "Timestamp",
                Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            ),
            ("Version", "2017-05-25".into()),
        ] {
            p.insert(k.to_string(), v);
        }
        let signature = aliyun_signature(&s.secret, &p);
        p.insert("Signature".into(), signature);
        let query = p
            .iter()
            .map(|(k, v)| format!("{}={}", pop_encode(k), pop_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let base = s.endpoint.trim_end_matches('/');
        let res = self
            .http
            .get(format!("{base}/?{query}"))
            .send()
            .await
            .map_err(JobError::retry)?;
        let reply = reply_json(res).await?;
        match reply["Code"].as_str() {
            Some("OK") => Ok(()),
            Some(c) => Err(aliyun_failure(c)),
            None => Err(JobError::retry("bad_reply")),
        }
    }
}

/// The JSON reply; a 5xx (or a body that is not JSON) is retried as `http_{status}`.
async fn reply_json(res: reqwest::Response) -> Result<Value, JobError> {
    let status = res.status();
    let code = FailCode::numbered("http", i64::from(status.as_u16()));
    if status.is_server_error() || status.as_u16() == 429 {
        return Err(JobError::Retry(code));
    }
    // Providers answer their own errors as JSON, also with a 4xx status.
    match res.json::<Value>().await {
        Ok(v) => Ok(v),
        Err(_) if status.is_success() => Err(JobError::retry("bad_reply")),
        Err(_) => Err(JobError::Retry(code)),
    }
}

fn tencent_failure(code: &str) -> JobError {
    if code.starts_with("AuthFailure") {
        JobError::retry("sms_auth_failed")
    } else if code.starts_with("LimitExceeded") || code.starts_with("RequestLimitExceeded") {
        JobError::retry("sms_rate_limited")
    } else if code.starts_with("InternalError") || code.starts_with("FailedOperation.Insufficient")
    {
        JobError::retry("sms_provider_error")
    } else if code.contains("Template") {
        JobError::permanent("sms_bad_template")
    } else if code.contains("Sign") {
        JobError::permanent("sms_bad_sign_name")
    } else {
        JobError::permanent("sms_rejected")
    }
}

fn aliyun_failure(code: &str) -> JobError {
    match code {
        "SignatureDoesNotMatch" | "InvalidAccessKeyId.NotFound" | "Forbidden.RAM" => {
            JobError::retry("sms_auth_failed")
        }
        "isv.BUSINESS_LIMIT_CONTROL" | "Throttling.User" | "Throttling" => {
            JobError::retry("sms_rate_limited")
        }
        "isv.SMS_TEMPLATE_ILLEGAL" | "isv.TEMPLATE_MISSING_PARAMETERS" => {
            JobError::permanent("sms_bad_template")
        }
        "isv.SMS_SIGNATURE_ILLEGAL" => JobError::permanent("sms_bad_sign_name"),
        c if c.starts_with("isv.") => JobError::permanent("sms_rejected"),
        _ => JobError::retry("sms_provider_error"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The steps of Tencent's API 3.0 signature documentation, computed independently in
    /// Python (hashlib/hmac) on these inputs.
    #[test]
    fn tencent_signature_matches_an_independent_computation() {
        let a = tencent_authorization(
            "AKIDtest",
            "keytest",
            "sms",
            "sms.tencentcloudapi.com",
            1_551_113_065,
            "{}",
        );
        assert_eq!(
            a,
            "TC3-HMAC-SHA256 Credential=AKIDtest/2019-02-25/sms/tc3_request, \
             SignedHeaders=content-type;host, \
             Signature=111745fe3cfc523f0e7457814d7c4561cb12081fb4e7d386582a941dedf561cf"
        );
    }

    /// The worked example of Tencent Cloud's "Signature v3" (API 3.0) documentation:
    /// SecretKey `Gu5t9xGARNpq86cd98joQYCN3EXAMPLE`, timestamp 1551113065, a POST of this
    /// payload to `cvm.tencentcloudapi.com` signed over content-type and host. The
    /// documentation gives the payload hash `35e9c5b0…`, the canonical request hash
    /// `5ffe6a04…` and this signature.
    #[test]
    fn tencent_signature_matches_the_published_example() {
        let payload = r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
        assert_eq!(
            hex::encode(Sha256::digest(payload.as_bytes())),
            "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064",
            "the documentation's payload, byte for byte"
        );
        let a = tencent_authorization(
            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            "cvm",
            "cvm.tencentcloudapi.com",
            1_551_113_065,
            payload,
        );
        assert_eq!(
            a,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/\
             tc3_request, SignedHeaders=content-type;host, \
             Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
    }

    /// Alibaba Cloud's published example of the RPC signature (secret `testsecret`).
    #[test]
    fn aliyun_signature_matches_the_published_example() {
        let p: BTreeMap<String, String> = [
            ("AccessKeyId", "testid"),
            ("Action", "DescribeRegions"),
            ("Format", "XML"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("SignatureVersion", "1.0"),
            ("Timestamp", "2016-02-23T12:46:24Z"),
            ("Version", "2014-05-26"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            aliyun_signature("testsecret", &p),
            "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
        );
    }

    #[test]
    fn pop_encoding_is_rfc3986() {
        assert_eq!(pop_encode("a b*~/"), "a%20b%2A~%2F");
        assert_eq!(pop_encode("已受理"), "%E5%B7%B2%E5%8F%97%E7%90%86");
    }
}
