//! Reaching staff where they are: `[[robots]]`, the WeCom group robots and DingTalk custom
//! robots that hear about new tips, clocks due soon, overdue escalations and reveal
//! requests in their region (see `notify::robots`).

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use super::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RobotKindConfig {
    Wecom,
    Dingtalk,
}

/// One `[[robots]]` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RobotConfig {
    /// `wecom` (企业微信群机器人) or `dingtalk` (钉钉自定义机器人).
    pub kind: RobotKindConfig,
    /// Names the robot on the dead-letter list; default `{kind}-{region}`. Unique.
    #[serde(default)]
    pub name: String,
    /// The region whose cases it hears about (a city hears its counties; `000000`: all).
    #[serde(default = "national")]
    pub region: String,
    /// The webhook URL (`…/cgi-bin/webhook/send?key=…`, `…/robot/send?access_token=…`).
    /// A secret: it carries the robot's key.
    pub url: Secret,
    /// DingTalk only: the signing secret (`SEC…`) when the robot's security setting is
    /// "加签"; each call then carries `timestamp` and `sign`.
    #[serde(default)]
    pub secret: Option<Secret>,
    /// Language of the alerts: `zh-CN` (default) or `en`.
    #[serde(default = "zh")]
    pub locale: String,
}

fn national() -> String {
    crate::domain::region::NATIONAL.into()
}

fn zh() -> String {
    "zh-CN".into()
}

impl RobotConfig {
    /// The name it goes by: the configured one, else `{kind}-{region}`.
    pub fn label(&self) -> String {
        if self.name.trim().is_empty() {
            let kind = match self.kind {
                RobotKindConfig::Wecom => "wecom",
                RobotKindConfig::Dingtalk => "dingtalk",
            };
            format!("{kind}-{}", self.region)
        } else {
            self.name.trim().to_string()
        }
    }

    fn check(&self) -> anyhow::Result<()> {
        if crate::domain::region::parse_region(&self.region).is_err() {
            bail!("region must be a 6-digit region code or 000000");
        }
        let url =
            reqwest::Url::parse(&self.url).map_err(|_| anyhow::anyhow!("url is not a URL"))?;
        if !matches!(url.scheme(), "https" | "http") {
            bail!("url must be https:// (or http:// for a test double)");
        }
        if self.kind == RobotKindConfig::Wecom && self.secret.is_some() {
            bail!("secret is for DingTalk robots; a WeCom robot's key is in its url");
        }
        if self.secret.as_deref().is_some_and(|s| s.trim().is_empty()) {
            bail!("secret is empty");
        }
        if crate::i18n::Locale::parse(&self.locale).is_none() {
            bail!("locale must be zh-CN or en");
        }
        let label = self.label();
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            bail!("name may hold only letters, digits, '-' and '_'");
        }
        Ok(())
    }
}

/// Each entry valid, names unique.
pub fn check(robots: &[RobotConfig]) -> anyhow::Result<()> {
    let mut seen = std::collections::HashSet::new();
    for r in robots {
        let label = r.label();
        r.check().with_context(|| format!("[[robots]] `{label}`"))?;
        if !seen.insert(label.clone()) {
            bail!("[[robots]] `{label}` appears twice (give each a distinct name)");
        }
    }
    Ok(())
}

/// `[sms]`: text messages to reporters who chose SMS (`docs/notify.md`). Empty `provider`:
/// none (such notices wait, shown to staff).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsConfig {
    /// `tencent` (Tencent Cloud SMS) or `aliyun` (Alibaba Cloud SMS); empty: no SMS.
    pub provider: String,
    /// The API base URL; empty: the provider's (`https://sms.tencentcloudapi.com`,
    /// `https://dysmsapi.aliyuncs.com`). Tests point it at loopback.
    pub endpoint: String,
    /// SecretId (Tencent) or AccessKey ID (Aliyun).
    pub key_id: String,
    /// SecretKey (Tencent) or AccessKey secret (Aliyun).
    pub secret: Secret,
    /// The approved signature (签名), e.g. `某某市医保局`.
    pub sign_name: String,
    /// Tencent only: the SMS application's `SmsSdkAppId`.
    pub app_id: String,
    /// `ap-guangzhou` (Tencent) or `cn-hangzhou` (Aliyun) when empty.
    pub region: String,
    /// The approved template for status notices; its one parameter is the status word.
    pub template_id_status: String,
    /// For reward notices; `template_id_status` when empty.
    pub template_id_reward: String,
}

impl SmsConfig {
    pub fn enabled(&self) -> bool {
        !self.provider.trim().is_empty()
    }

    /// The endpoint to call: the configured one or the provider's.
    pub fn endpoint_or_default(&self) -> String {
        if !self.endpoint.trim().is_empty() {
            return self.endpoint.trim().to_string();
        }
        match self.provider.as_str() {
            "aliyun" => "https://dysmsapi.aliyuncs.com".into(),
            _ => "https://sms.tencentcloudapi.com".into(),
        }
    }

    pub fn region_or_default(&self) -> String {
        if !self.region.trim().is_empty() {
            return self.region.trim().to_string();
        }
        match self.provider.as_str() {
            "aliyun" => "cn-hangzhou".into(),
            _ => "ap-guangzhou".into(),
        }
    }

    pub fn check(&self) -> anyhow::Result<()> {
        match self.provider.as_str() {
            "" => return Ok(()),
            "tencent" | "aliyun" => {}
            _ => bail!("[sms] provider must be tencent or aliyun (or empty for none)"),
        }
        for (key, v) in [
            ("key_id", self.key_id.as_str()),
            ("secret", self.secret.expose()),
            ("sign_name", self.sign_name.as_str()),
            ("template_id_status", self.template_id_status.as_str()),
        ] {
            if v.trim().is_empty() {
                bail!(
                    "[sms] {key} is needed with provider = \"{}\"",
                    self.provider
                );
            }
        }
        if self.provider == "tencent" && self.app_id.trim().is_empty() {
            bail!("[sms] app_id (SmsSdkAppId) is needed with provider = \"tencent\"");
        }
        let url = reqwest::Url::parse(&self.endpoint_or_default())
            .map_err(|_| anyhow::anyhow!("[sms] endpoint is not a URL"))?;
        if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
            bail!("[sms] endpoint must be an https:// URL (http:// for a test double)");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn robots_parse_and_are_checked() {
        let c = Config::from_toml_and_env(
            r#"
[[robots]]
kind = "wecom"
region = "371500"
url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-1"
[[robots]]
kind = "dingtalk"
name = "ops"
url = "https://oapi.dingtalk.com/robot/send?access_token=t-1"
secret = "SECabc"
"#,
            &[],
        )
        .unwrap();
        assert_eq!(c.robots[0].label(), "wecom-371500");
        assert_eq!(c.robots[1].label(), "ops");
        assert_eq!(c.robots[1].region, "000000");
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("k-1") && !shown.contains("SECabc"),
            "{shown}"
        );
        for (bad, says) in [
            ("kind = \"slack\"\nurl = \"https://x\"\n", "kind"),
            ("kind = \"wecom\"\nurl = \"ftp://x\"\n", "url"),
            (
                "kind = \"wecom\"\nurl = \"https://x\"\nsecret = \"s\"\n",
                "secret",
            ),
            (
                "kind = \"wecom\"\nregion = \"12\"\nurl = \"https://x\"\n",
                "region",
            ),
            (
                "kind = \"wecom\"\nurl = \"https://x\"\nname = \"a b\"\n",
                "name",
            ),
            (
                "kind = \"wecom\"\nurl = \"https://x\"\nkey = \"k\"\n",
                "key",
            ),
        ] {
            let err = Config::from_toml_and_env(&format!("[[robots]]\n{bad}"), &[]).unwrap_err();
            assert!(format!("{err:#}").contains(says), "{bad}: {err:#}");
        }
        let sms = Config::from_toml_and_env(
            "[sms]\nprovider = \"aliyun\"\nkey_id = \"k\"\nsign_name = \"s\"\ntemplate_id_status = \"SMS_1\"\n",
            &[("JUBAO_SMS_SECRET".into(), "sms-secret-1".into())],
        )
        .unwrap();
        assert_eq!(
            sms.sms.endpoint_or_default(),
            "https://dysmsapi.aliyuncs.com"
        );
        assert!(!format!("{sms:?}").contains("sms-secret-1"));
        for (bad, says) in [
            ("provider = \"twilio\"\n", "provider"),
            ("provider = \"tencent\"\nkey_id = \"k\"\nsecret = \"s\"\nsign_name = \"n\"\ntemplate_id_status = \"1\"\n", "app_id"),
            ("provider = \"aliyun\"\nkey_id = \"k\"\nsecret = \"s\"\nsign_name = \"n\"\n", "template_id_status"),
        ] {
            let err = Config::from_toml_and_env(&format!("[sms]\n{bad}"), &[]).unwrap_err();
            assert!(format!("{err:#}").contains(says), "{bad}: {err:#}");
        }
        let twice = "[[robots]]\nkind = \"wecom\"\nurl = \"https://x\"\n".repeat(2);
        let err = Config::from_toml_and_env(&twice, &[]).unwrap_err();
        assert!(format!("{err:#}").contains("twice"), "{err:#}");
    }
}
