//! Configuration: a TOML file (`JUBAO_CONFIG`, default `config/jubao.toml`) whose every scalar
//! key can be overridden by `JUBAO_<SECTION>_<KEY>`. Unknown keys, in the file or in the
//! environment, stop start-up with the key named.

mod backup;
pub mod bounds;
mod defaults;
mod exposed;
mod hotline;
mod reach;
mod retention;
mod secret;
mod triage;
mod units;

pub use backup::BackupConfig;
pub use reach::{RobotConfig, RobotKindConfig, SmsConfig};
pub use retention::RetentionConfig;
pub use secret::Secret;
pub use triage::TriageConfig;
pub use units::{Hours, LogFormat, Millis, Minutes, Seconds};

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use serde::{Deserialize, Serialize};

/// Environment variables with the `JUBAO_` prefix that are not section overrides.
const NON_OVERRIDE_VARS: &[&str] = &[
    "JUBAO_CONFIG",
    "JUBAO_MASTER_KEY",
    "JUBAO_PASSWORD",
    "JUBAO_TEST_POSTGRES_URL",
];

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub keys: KeysConfig,
    pub smtp: SmtpConfig,
    pub intake: IntakeConfig,
    pub evidence: EvidenceConfig,
    pub calendar: CalendarConfig,
    pub log: LogConfig,
    pub staff: StaffConfig,
    pub workflow: WorkflowConfig,
    pub outbox: OutboxConfig,
    pub rewards: RewardsConfig,
    pub identity: IdentityConfig,
    pub backup: BackupConfig,
    pub triage: TriageConfig,
    /// How long reporter data is kept (issue 19).
    pub retention: RetentionConfig,
    /// Text messages to reporters who chose SMS.
    pub sms: SmsConfig,
    pub wechat: Vec<WechatAccount>,
    pub wecom: Vec<WecomAccount>,
    pub hotline: Vec<HotlineSource>,
    /// Staff alerts in WeCom and DingTalk groups.
    pub robots: Vec<RobotConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address the HTTP server binds, e.g. `127.0.0.1:8080` (port 0 picks a free port).
    pub listen: String,
    /// Public base URL used in logs and links; empty means `http://{listen}`.
    pub public_url: String,
    /// Worker threads for the HTTP server; 0 means one per core.
    pub workers: u32,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// With `trust_forwarded_for`: the addresses of your own proxies. The client is the
    /// right-most `X-Forwarded-For` hop that is not one of them (empty: the peer is the one
    /// proxy, so the client is the right-most hop).
    pub trusted_proxies: Vec<String>,
    /// Seconds to finish in-flight requests on shutdown.
    pub shutdown_timeout_secs: Seconds,
    /// Seconds a client has to send a request's headers (then 408).
    pub header_timeout_secs: Seconds,
    /// Seconds a request body may take, plus one second for every `body_min_bytes_per_sec`
    /// bytes received: a body that trickles more slowly is cut with 408.
    pub body_timeout_secs: Seconds,
    pub body_min_bytes_per_sec: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://path` or `postgres://…`.
    pub url: String,
    /// Maximum pooled connections (readers; SQLite writes go through one writer).
    pub max_connections: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeysConfig {
    /// File holding the base64 master key; created (mode 0600) when missing.
    /// `JUBAO_MASTER_KEY` takes precedence when set.
    pub master_key_file: String,
    /// The shred chain's key file (crypto-shredding, `docs/retention.md`): created with
    /// the chain on a new installation, overwritten daily; every instance has its own copy.
    /// Empty: `shred.key` beside the master key file.
    pub shred_key_file: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    /// e.g. `smtp://127.0.0.1:2525`; empty disables email. A secret: it may carry the password.
    pub url: Secret,
    pub from: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntakeConfig {
    /// Working days for the acceptance decision (DOMAIN §4).
    pub accept_working_days: u32,
    /// Failed look-ups per tracking code before 429, per window.
    pub lookup_failures_per_code: u32,
    /// Failed look-ups per client address before 429, per window.
    pub lookup_failures_per_client: u32,
    /// Rate-limit window in seconds.
    pub lookup_window_secs: Seconds,
    /// Largest JSON body in bytes.
    pub max_json_bytes: u32,
    /// Tips one client address may file through the H5 page per `filing_window_minutes`
    /// (generous: a mobile carrier's NAT puts many reporters behind one address).
    pub filings_per_client: u32,
    pub filing_window_minutes: Minutes,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvidenceConfig {
    pub max_files: u32,
    pub max_file_bytes: u32,
    /// Largest image accepted, in pixels (width × height).
    pub max_image_pixels: u32,
    /// Forms with files being received at once on this instance; past that 429.
    pub max_concurrent_uploads: u32,
    /// Bytes of forms with files held at once on this instance (each counted at its
    /// `Content-Length`, or at the largest allowed form when it declares none); past that
    /// 429. At least one largest form (`max_files` × `max_file_bytes` + the JSON part).
    pub upload_bytes_in_flight: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CalendarConfig {
    /// Folder of `*.toml` holiday files; the built-in 2024–2026 files are used when it is
    /// missing. New years are added by dropping a file here, no rebuild needed.
    pub holidays_dir: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `human` or `json`.
    pub format: LogFormat,
    /// tracing filter, e.g. `info` or `jubao=debug,info`.
    pub filter: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StaffConfig {
    /// Lifetime of an access token (JWT), minutes.
    pub access_token_minutes: Minutes,
    /// Lifetime of a login session (its refresh token), hours.
    pub session_hours: Hours,
    /// Wrong passwords or codes in a row before the account is locked.
    pub max_failed_logins: u32,
    pub lockout_minutes: Minutes,
    /// Failed sign-ins from one client address per `login_window_minutes`, over every
    /// account, before that address gets 429 (besides the per-account lock-out).
    pub failed_logins_per_client: u32,
    pub login_window_minutes: Minutes,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkflowConfig {
    /// Region for tips that name none (a 6-digit code; 000000 = national).
    pub default_region: String,
    /// DOMAIN §4 clocks, in working days.
    pub handle_working_days: u32,
    pub notify_accept_working_days: u32,
    pub defence_working_days: u32,
    pub feedback_working_days: u32,
    /// Reminders go out this many working days before a deadline.
    pub remind_before_working_days: u32,
    /// Extensions, in calendar months from acceptance.
    pub complex_extension_months: u32,
    pub major_extension_months: u32,
    /// Recovered amounts from which a decision needs a collective decision and legal
    /// review (fen; 5,000,000 = 50,000 yuan).
    pub collective_threshold_fen: i64,
    /// Folder of regional deadline rules (one TOML rule each, `deadlines::rules`); the
    /// keys above are the national rule. A missing folder adds none.
    pub rules_dir: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// Idle wait between polls, milliseconds.
    pub poll_ms: Millis,
    /// How long a claimed job is leased to one worker, seconds.
    pub lease_secs: Seconds,
    /// Retry backoff: base × 2^(attempt−1), at most max, seconds.
    pub backoff_base_secs: Seconds,
    pub backoff_max_secs: Seconds,
    /// Attempts before a job is dead-lettered.
    pub max_attempts: u32,
    /// Seconds between deadline sweeps.
    pub sweep_secs: Seconds,
    /// Run the worker in this process (several instances may all run it).
    pub enabled: bool,
}

/// Rewards and finance (DOMAIN §5). The amounts themselves come from the policy files.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RewardsConfig {
    /// Folder of policy files (one TOML policy each); empty: the policies built into the
    /// binary (the same files as `config/rewards/`).
    pub policies_dir: String,
    /// Rewards above this also need a supervisor's approval, when the policy sets no
    /// `approval_threshold_fen` of its own (fen; 1,000,000 = 10,000 yuan).
    pub supervisor_threshold_fen: i64,
    /// Reward notice deadline for a case marked for a quick reward (working days).
    pub quick_notice_working_days: u32,
    /// The reporter is reminded this many days before the claim window ends.
    pub claim_reminder_days: u32,
    /// Failed identity checks on one reward's claim before it is locked for the window.
    pub claim_failures_per_reward: u32,
}

/// Identity reveals (DOMAIN §6, §7).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdentityConfig {
    /// Distinct custodians who must approve a reveal, none of them the requester.
    pub approvals_required: u32,
    /// How long an approval stays good for the one reveal it allows, hours.
    pub approval_hours: Hours,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WechatAccount {
    pub account: String,
    pub appid: String,
    pub token: Secret,
    #[serde(default)]
    pub encoding_aes_key: Option<Secret>,
    #[serde(default)]
    pub appsecret: Option<Secret>,
    #[serde(default = "default_wechat_api")]
    pub api_base: String,
    /// Outside the 48-hour customer-service window: the template for status notices
    /// (`docs/notify.md`: fields `first`, `keyword1` status, `keyword2` date, `remark`).
    #[serde(default)]
    pub template_id_status: Option<String>,
    /// The template for reward notices; `template_id_status` when absent.
    #[serde(default)]
    pub template_id_reward: Option<String>,
    /// `template` (`/cgi-bin/message/template/send`, default) or `subscribe`
    /// (`/cgi-bin/message/subscribe/bizsend`, fields `thing1` status, `time2` date): which
    /// API the template ids above belong to.
    #[serde(default)]
    pub template_api: TemplateApi,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TemplateApi {
    #[default]
    Template,
    Subscribe,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WecomAccount {
    pub account: String,
    pub corp_id: String,
    pub agent_id: i64,
    pub token: Secret,
    pub encoding_aes_key: Secret,
    #[serde(default)]
    pub secret: Option<Secret>,
    #[serde(default = "default_wecom_api")]
    pub api_base: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HotlineSource {
    pub source: String,
    pub secret: Secret,
    #[serde(default)]
    pub callback_url: Option<String>,
    /// Secret rotation: the secret being replaced still verifies work orders until
    /// `previous_secret_until` (RFC 3339), so the call centre can switch at its own pace.
    #[serde(default)]
    pub previous_secret: Option<Secret>,
    #[serde(default)]
    pub previous_secret_until: Option<String>,
    /// Recording hosts (exact host names or IP addresses as written in the URL) that may
    /// be on a private, loopback or link-local network; every other host must be public.
    #[serde(default)]
    pub allow_recording_hosts: Vec<String>,
}

fn default_wechat_api() -> String {
    "https://api.weixin.qq.com".into()
}
fn default_wecom_api() -> String {
    "https://qyapi.weixin.qq.com".into()
}

impl Config {
    /// Load from `JUBAO_CONFIG` (or `config/jubao.toml`; a missing default file means all
    /// defaults) and apply environment overrides.
    pub fn load() -> anyhow::Result<Self> {
        let explicit = std::env::var("JUBAO_CONFIG").ok();
        let path = PathBuf::from(
            explicit
                .clone()
                .unwrap_or_else(|| "config/jubao.toml".into()),
        );
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit.is_none() => {
                String::new()
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::from_toml_and_env(&text, &env).with_context(|| format!("in {}", path.display()))
    }

    /// Parse `text` and apply the `JUBAO_*` pairs in `env`.
    pub fn from_toml_and_env(text: &str, env: &[(String, String)]) -> anyhow::Result<Self> {
        let mut value: toml::Table = toml::from_str(text).map_err(|e| anyhow!("{e}"))?;
        // Start from the defaults so every known scalar has a type to coerce overrides to.
        let defaults = toml::Table::try_from(Config::default())?;
        for (name, raw) in env {
            let Some(rest) = name.strip_prefix("JUBAO_") else {
                continue;
            };
            if NON_OVERRIDE_VARS.contains(&name.as_str()) {
                continue;
            }
            let rest = rest.to_ascii_lowercase();
            let (section, key) = defaults
                .iter()
                .filter(|(_, v)| v.is_table())
                .find_map(|(s, _)| {
                    rest.strip_prefix(s.as_str())
                        .and_then(|k| k.strip_prefix('_'))
                        .map(|k| (s.clone(), k.to_string()))
                })
                .ok_or_else(|| anyhow!("unknown configuration variable {name}"))?;
            let known = defaults[&section].as_table().and_then(|t| t.get(&key));
            let Some(known) = known else {
                bail!("unknown configuration variable {name} (no key `{key}` in [{section}])");
            };
            let typed = coerce(known, raw).with_context(|| format!("in {name}"))?;
            value
                .entry(section)
                .or_insert_with(|| toml::Value::Table(Default::default()))
                .as_table_mut()
                .ok_or_else(|| anyhow!("[{name}] is not a table"))?
                .insert(key, typed);
        }
        let cfg: Config = toml::Value::Table(value)
            .try_into()
            .map_err(|e: toml::de::Error| anyhow!("{e}"))?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if !(self.database.url.starts_with("sqlite:") || self.database.url.starts_with("postgres"))
        {
            bail!("[database] url must start with sqlite:// or postgres://");
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.filter) {
            bail!(
                "[log] filter `{}` is not a log filter: {e}",
                self.log.filter
            );
        }
        let mut seen = std::collections::HashSet::new();
        for a in &self.wechat {
            if !seen.insert(("wechat", a.account.clone())) {
                bail!("[[wechat]] account `{}` appears twice", a.account);
            }
        }
        for a in &self.wecom {
            if !seen.insert(("wecom", a.account.clone())) {
                bail!("[[wecom]] account `{}` appears twice", a.account);
            }
        }
        for h in &self.hotline {
            if !seen.insert(("hotline", h.source.clone())) {
                bail!("[[hotline]] source `{}` appears twice", h.source);
            }
            h.check()
                .with_context(|| format!("[[hotline]] source `{}`", h.source))?;
        }
        reach::check(&self.robots)?;
        self.sms.check()?;
        if crate::domain::region::parse_region(&self.workflow.default_region).is_err() {
            bail!("[workflow] default_region must be a 6-digit region code or 000000");
        }
        if self.backup.enabled() && !self.database.url.starts_with("sqlite:") {
            bail!(
                "[backup] folder is for the embedded database; back up PostgreSQL with \
                 pg_dump (docs/OPERATIONS.md)"
            );
        }
        bounds::check(self)?;
        exposed::check(self)
    }

    pub fn master_key_path(&self) -> &Path {
        Path::new(&self.keys.master_key_file)
    }

    pub fn public_url(&self) -> String {
        if self.server.public_url.is_empty() {
            format!("http://{}", self.server.listen)
        } else {
            self.server.public_url.trim_end_matches('/').to_string()
        }
    }
}

fn coerce(known: &toml::Value, raw: &str) -> anyhow::Result<toml::Value> {
    Ok(match known {
        toml::Value::Integer(_) => toml::Value::Integer(
            raw.trim()
                .parse()
                .map_err(|_| anyhow!("expected an integer"))?,
        ),
        toml::Value::Boolean(_) => toml::Value::Boolean(match raw.trim() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            _ => bail!("expected true or false"),
        }),
        toml::Value::Float(_) => toml::Value::Float(
            raw.trim()
                .parse()
                .map_err(|_| anyhow!("expected a number"))?,
        ),
        // A list of strings (`[server] trusted_proxies`): comma-separated.
        toml::Value::Array(_) => toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_string()))
                .collect(),
        ),
        _ => toml::Value::String(raw.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_from_the_environment_is_comma_separated() {
        let c = Config::from_toml_and_env(
            "",
            &env(&[("JUBAO_SERVER_TRUSTED_PROXIES", "10.0.0.1, 10.0.0.2")]),
        )
        .unwrap();
        assert_eq!(c.server.trusted_proxies, vec!["10.0.0.1", "10.0.0.2"]);
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    /// The shipped file's demo secrets never show in a printed or serialized config.
    #[test]
    fn secrets_are_never_printed() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/jubao.toml"))
                .unwrap();
        let c = Config::from_toml_and_env(
            &text,
            &env(&[("JUBAO_SMTP_URL", "smtps://u:pw-s3cret@mail.example")]),
        )
        .unwrap();
        assert_eq!(c.wechat[0].token.expose(), "demo-token-change-me");
        let shown = format!("{c:?}{}", serde_json::to_string(&c).unwrap());
        for secret in [
            "demo-token-change-me",
            "demo-appsecret-change-me",
            "demo-secret-change-me",
            "demo-hotline-secret-change-me",
            "pw-s3cret",
            c.wechat[0].encoding_aes_key.as_deref().unwrap_or("-"),
        ] {
            assert!(!shown.contains(secret), "{secret} printed");
        }
    }

    #[test]
    fn defaults_without_file() {
        let c = Config::from_toml_and_env("", &[]).unwrap();
        assert_eq!(c.server.listen, "127.0.0.1:8080");
        assert_eq!(c.database.url, "sqlite://data/jubao.db");
    }

    #[test]
    fn env_overrides_with_underscored_keys_and_types() {
        let c = Config::from_toml_and_env(
            "[server]\nlisten = \"0.0.0.0:1\"\n",
            &env(&[
                ("JUBAO_SERVER_LISTEN", "127.0.0.1:9999"),
                ("JUBAO_KEYS_MASTER_KEY_FILE", "/tmp/k"),
                ("JUBAO_EVIDENCE_MAX_FILES", "3"),
                ("JUBAO_SERVER_TRUST_FORWARDED_FOR", "true"),
                ("JUBAO_MASTER_KEY", "ignored-here"),
                ("PATH", "/bin"),
            ]),
        )
        .unwrap();
        assert_eq!(c.server.listen, "127.0.0.1:9999");
        assert_eq!(c.keys.master_key_file, "/tmp/k");
        assert_eq!(c.evidence.max_files, 3);
        assert!(c.server.trust_forwarded_for);
    }

    #[test]
    fn unknown_file_key_is_named() {
        let err = Config::from_toml_and_env("[server]\nlistne = \"x\"\n", &[]).unwrap_err();
        assert!(format!("{err:#}").contains("listne"), "{err:#}");
    }

    #[test]
    fn unknown_env_key_is_named() {
        let err = Config::from_toml_and_env("", &env(&[("JUBAO_SERVER_LISTNE", "x")])).unwrap_err();
        assert!(
            format!("{err:#}").contains("JUBAO_SERVER_LISTNE"),
            "{err:#}"
        );
        let err = Config::from_toml_and_env("", &env(&[("JUBAO_NOPE_X", "x")])).unwrap_err();
        assert!(format!("{err:#}").contains("JUBAO_NOPE_X"), "{err:#}");
    }

    /// A negative span or count, or a format that is not one of the two, stops loading and
    /// names the key.
    #[test]
    fn typed_values_are_checked_at_load() {
        for (text, key) in [
            ("[outbox]\nlease_secs = -5\n", "outbox.lease_secs"),
            ("[evidence]\nmax_files = -1\n", "evidence.max_files"),
            ("[log]\nformat = \"xml\"\n", "log.format"),
            ("[log]\nfilter = \"jubao=loud\"\n", "[log] filter"),
        ] {
            let err = Config::from_toml_and_env(text, &[]).unwrap_err();
            assert!(format!("{err:#}").contains(key), "{text}: {err:#}");
        }
        let c = Config::from_toml_and_env(
            "[log]\nformat = \"json\"\n",
            &env(&[("JUBAO_STAFF_SESSION_HOURS", "8")]),
        )
        .unwrap();
        assert_eq!(c.log.format, LogFormat::Json);
        assert_eq!(
            c.staff.session_hours.std(),
            std::time::Duration::from_secs(8 * 3600)
        );
    }

    #[test]
    fn bad_env_type_is_an_error() {
        let err = Config::from_toml_and_env("", &env(&[("JUBAO_EVIDENCE_MAX_FILES", "many")]))
            .unwrap_err();
        assert!(format!("{err:#}").contains("JUBAO_EVIDENCE_MAX_FILES"));
    }

    #[test]
    fn bot_accounts_parse() {
        let c = Config::from_toml_and_env(
            r#"
[[wechat]]
account = "demo"
appid = "wx1"
token = "t"
[[hotline]]
source = "12393"
secret = "s"
"#,
            &[],
        )
        .unwrap();
        assert_eq!(c.wechat[0].api_base, "https://api.weixin.qq.com");
        assert_eq!(c.hotline[0].source, "12393");
        assert!(c.hotline[0].allow_recording_hosts.is_empty());
    }

    #[test]
    fn hotline_rotation_keys() {
        let base = "[[hotline]]\nsource = \"12393\"\nsecret = \"new\"\n";
        let c = Config::from_toml_and_env(
            &format!("{base}previous_secret = \"old\"\nprevious_secret_until = \"2026-12-01T00:00:00+08:00\"\nallow_recording_hosts = [\"rec.example\"]\n"),
            &[],
        )
        .unwrap();
        assert_eq!(c.hotline[0].previous_secret.as_deref(), Some("old"));
        for bad in [
            "previous_secret = \"old\"\n",
            "previous_secret = \"old\"\nprevious_secret_until = \"soon\"\n",
            "previous_secrets = \"old\"\n",
        ] {
            assert!(
                Config::from_toml_and_env(&format!("{base}{bad}"), &[]).is_err(),
                "{bad}"
            );
        }
        let err = Config::from_toml_and_env("[[hotline]]\nsource = \"x\"\nsecret = \"\"\n", &[])
            .unwrap_err();
        assert!(format!("{err:#}").contains("secret"), "{err:#}");
    }
}
