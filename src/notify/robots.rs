//! Staff alerts in chat groups: WeCom group robots and DingTalk custom robots
//! (`[[robots]]`). An event (a new tip in a region, a clock due soon, an overdue
//! escalation, a reveal request waiting for a custodian) is written once, in the transaction
//! of the change, as one `staff_alert` job; its handler fans it out into one `robot_post` job
//! per robot whose region covers the case, each with a de-duplication key made of the robot
//! and the event. So however many instances run, and however often a fan-out is retried,
//! each robot is told once; each post is leased by one worker and retried with backoff.
//!
//! An alert carries no case content: the kind of event, a short case reference (the last
//! eight characters of the case id), the region, a count (working days left or late,
//! approvals given) and a console link. Robot URLs hold the robot's key: they are never
//! logged, and failures are fixed codes (`robot_93000`, `http_503`, `network_timeout`).

use base64::Engine;
use futures_util::future::BoxFuture;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Sha256;

use super::worker::JobError;
use super::{Claimed, FailCode, Job, NewJob, Run};
use crate::domain::region::region_covers;
use crate::i18n::{self, Locale};
use crate::store::Db;

/// Which platform a robot is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RobotKind {
    Wecom,
    Dingtalk,
}

/// A configured robot (from `[[robots]]`; see `config::RobotConfig`).
#[derive(Clone)]
pub struct Robot {
    /// Names the robot on the dead-letter list and in its jobs' keys.
    pub name: String,
    pub kind: RobotKind,
    /// The region whose cases it hears about (`000000`: all).
    pub region: String,
    /// The webhook URL, with its key (`key=` / `access_token=`): never logged.
    pub url: String,
    /// DingTalk's signing secret (`SEC…`), when the robot signs.
    pub secret: Option<String>,
    pub locale: Locale,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    NewTip,
    ClockDue,
    Overdue,
    RevealWaiting,
}

impl AlertKind {
    fn message(self) -> &'static str {
        match self {
            AlertKind::NewTip => "robot-new-tip",
            AlertKind::ClockDue => "robot-clock-due",
            AlertKind::Overdue => "robot-overdue",
            AlertKind::RevealWaiting => "robot-reveal-waiting",
        }
    }
}

/// The `staff_alert` job: one event, fanned out to the robots.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StaffAlert {
    /// What makes the event unique (`tip:{case}`, `clock:{id}:soon`, `clock:{id}:escalated`,
    /// `reveal:{id}`).
    pub event: String,
    pub kind: AlertKind,
    pub region: String,
    pub case_id: String,
    /// The clock's kind code, for clock alerts.
    #[serde(default)]
    pub clock: Option<String>,
    /// The clock's due date (`YYYY-MM-DD`), for clock alerts.
    #[serde(default)]
    pub due: Option<String>,
    /// Working days left (due soon) or late (overdue); tips of the region that day (new
    /// tip); approvals given (reveal).
    #[serde(default)]
    pub count: i64,
    /// Approvals needed (reveal); tips of the region waiting for acceptance (new tip).
    #[serde(default)]
    pub of: i64,
}

impl Job for StaffAlert {
    const KIND: &'static str = "staff_alert";
    fn dedupe_key(&self) -> Option<String> {
        Some(format!("alert:{}", self.event))
    }
}

/// The `robot_post` job: one alert to one robot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RobotPost {
    pub robot: String,
    pub alert: StaffAlert,
}

impl Job for RobotPost {
    const KIND: &'static str = "robot_post";
    fn dedupe_key(&self) -> Option<String> {
        Some(format!("robot:{}:{}", self.robot, self.alert.event))
    }
    fn target(&self) -> Option<String> {
        Some(format!("robot {}", self.robot))
    }
}

/// The last eight characters of a case id: enough for staff to find it, nothing more.
pub fn short_ref(case_id: &str) -> String {
    let n = case_id.chars().count();
    case_id.chars().skip(n.saturating_sub(8)).collect()
}

/// Queue an alert in the caller's transaction (once per `event`).
pub async fn alert(
    ex: &mut dyn crate::store::Exec,
    a: &StaffAlert,
    max_attempts: u32,
) -> Result<(), sqlx::Error> {
    super::enqueue(ex, &NewJob::of(a), max_attempts).await
}

/// DingTalk's signature: base64 of HMAC-SHA256 keyed with the secret over
/// `"{timestamp}\n{secret}"` (the timestamp in milliseconds). The caller URL-encodes it.
pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(format!("{timestamp_ms}\n{secret}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Both handlers, with the configured robots.
pub struct Robots {
    pub db: Db,
    pub robots: Vec<Robot>,
    pub http: reqwest::Client,
    /// `[server] public_url`, for the console link.
    pub public_url: String,
    pub max_attempts: u32,
}

#[derive(Deserialize)]
struct Reply {
    #[serde(default)]
    errcode: i64,
}

impl Robots {
    pub fn client() -> anyhow::Result<reqwest::Client> {
        Ok(reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(15))
            .connect_timeout(std::time::Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()?)
    }

    async fn fan_out(&self, a: StaffAlert) -> Result<(), JobError> {
        let mut tx = self.db.begin().await.map_err(JobError::retry)?;
        for r in self
            .robots
            .iter()
            .filter(|r| region_covers(&r.region, &a.region))
        {
            let post = RobotPost {
                robot: r.name.clone(),
                alert: a.clone(),
            };
            super::enqueue(&mut tx, &NewJob::of(&post), self.max_attempts)
                .await
                .map_err(JobError::retry)?;
        }
        tx.commit().await.map_err(JobError::retry)
    }

    fn text(&self, r: &Robot, a: &StaffAlert) -> String {
        let link = match a.kind {
            AlertKind::RevealWaiting => format!("{}/console/#/identity", self.public_url),
            _ => format!("{}/console/#/cases/{}", self.public_url, a.case_id),
        };
        i18n::t(
            r.locale,
            a.kind.message(),
            &[
                ("case", short_ref(&a.case_id)),
                ("region", a.region.clone()),
                ("clock", a.clock.clone().unwrap_or_default()),
                ("due", a.due.clone().unwrap_or_default()),
                ("count", a.count.to_string()),
                ("of", a.of.to_string()),
                ("link", link),
            ],
        )
    }

    async fn post(&self, p: RobotPost) -> Result<(), JobError> {
        let r = self
            .robots
            .iter()
            .find(|r| r.name == p.robot)
            .ok_or_else(|| JobError::permanent("robot_gone"))?;
        let text = self.text(r, &p.alert);
        let body = json!({ "msgtype": "text", "text": { "content": text } });
        let mut req = self.http.post(&r.url).json(&body);
        if let (RobotKind::Dingtalk, Some(secret)) = (r.kind, r.secret.as_deref()) {
            let ts = chrono::Utc::now().timestamp_millis();
            req = req.query(&[
                ("timestamp", ts.to_string()),
                ("sign", dingtalk_sign(secret, ts)),
            ]);
        }
        let res = req.send().await.map_err(JobError::retry)?;
        let status = res.status();
        if !status.is_success() {
            let code = FailCode::numbered("http", i64::from(status.as_u16()));
            // A robot that is gone answers 404; a 4xx will not change on retry.
            return Err(if status.is_client_error() && status.as_u16() != 429 {
                JobError::Permanent(code)
            } else {
                JobError::Retry(code)
            });
        }
        let reply: Reply = res.json().await.map_err(JobError::retry)?;
        match reply.errcode {
            0 => Ok(()),
            // Too many messages (WeCom 45009, DingTalk 410100), or busy (-1): later.
            c @ (45009 | 410100 | -1) => Err(JobError::Retry(FailCode::numbered("robot", c))),
            // A revoked or mistyped robot (WeCom 93000, DingTalk 300001), a failed
            // signature or keyword check (DingTalk 310000): an admin must fix it.
            c => Err(JobError::Permanent(FailCode::numbered("robot", c))),
        }
    }
}

impl Run<StaffAlert> for Robots {
    fn run<'a>(&'a self, job: StaffAlert, _: &'a Claimed) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(self.fan_out(job))
    }
}

impl Run<RobotPost> for Robots {
    fn run<'a>(&'a self, job: RobotPost, _: &'a Claimed) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(self.post(job))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A vector computed with Python: base64(hmac.new(b"SECtest", b"1700000000000\nSECtest",
    /// sha256).digest()).
    #[test]
    fn dingtalk_signature_is_base64_of_hmac_sha256() {
        let s = dingtalk_sign("SECtest", 1_700_000_000_000);
        assert_eq!(s, "aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g=");
    }

    /// DingTalk publishes no fixed vector, only its signing code (custom robot, 加签:
    /// Python `hmac.new(secret, f"{timestamp}\n{secret}", sha256)`, base64, then
    /// `urllib.parse.quote_plus`). This is that code's output for its own example secret
    /// `this is secret` at timestamp 1577262236757 (before the URL encoding, which the
    /// HTTP client does and `tests/support/robot_sink.py` checks on the wire).
    #[test]
    fn dingtalk_signature_matches_dingtalk_s_documented_code() {
        let s = dingtalk_sign("this is secret", 1_577_262_236_757);
        assert_eq!(s, "hmPWwU+7lVdm3ZZz0r9tSfx0L4Q26jWOZr9+Gs6EZQM=");
    }

    #[test]
    fn short_ref_is_the_tail() {
        assert_eq!(
            short_ref("0190aabb-ccdd-7eee-8fff-0123456789ab"),
            "456789ab"
        );
        assert_eq!(short_ref("abc"), "abc");
    }
}
