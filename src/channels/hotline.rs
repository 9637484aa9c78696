//! Hotline bridge (CONTRACT §5): call-centre work orders from the 12393 / 12345 hotlines
//! become tips, recordings are fetched in the background, and status feedback goes back to
//! the call centre. The integrator's view is `docs/hotline.md`.
//!
//! * **In:** `POST /bridges/hotline/{source}/tickets`, signed with HMAC-SHA256 over
//!   `"{timestamp}.{raw body}"` with the source's secret (or, until its overlap ends, the
//!   previous one), within ±[`MAX_SKEW_SECS`]. Every refusal is a 4xx and stores nothing;
//!   a signature refusal says only "invalid signature".
//! * **Once per call:** the `call_id` is the intake idempotency key in scope
//!   `hotline:{source}`, so a retried or duplicated work order (also two copies at once on
//!   two instances) is answered from the saved receipt and never makes a second case.
//! * **Identity:** a named caller's name and number go into the vault (the number as
//!   `caller_number`, not as a mobile phone). An anonymous caller's number is not stored:
//!   the call centre keeps it against its `call_id`, and feedback goes back by `call_id`.
//! * **Recording:** fetched by an outbox job ([`RECORDING_KIND`]) through a client that
//!   resolves the host itself and refuses non-public addresses unless the host is listed in
//!   the source's `allow_recording_hosts`; no redirects, no proxy, size and time limits.
//! * **Feedback:** [`CallbackSender`] is the `hotline` feedback sender: a signed POST of
//!   `{call_id, status, text, at}` to the source's `callback_url`, retried by the outbox.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::future::BoxFuture;
use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::config::{Config, HotlineSource};
use crate::domain::{bounded_text, Channel};
use crate::error::{human_bytes, request_locale, AppError, AppResult};
use crate::evidence::{self, Limits};
use crate::i18n::Locale;
use crate::intake::parse::{parse_json, to_new_tip, RawReport, RawReporter, RawTarget};
use crate::intake::{IdempotencyKey, Intake, NewTip, Submitted, TipExtra};
use crate::notify::worker::{Handler, JobError};
use crate::notify::{self, Claimed, NewJob};
use crate::store::{self, Db, Tx};
use crate::vault::{Identity, IdentityField, Vault};
use crate::workflow::feedback::{Notice, Sender};

/// Outbox job kind that fetches a call's recording.
pub const RECORDING_KIND: &str = "hotline_recording";
/// How far the signed timestamp may be from our clock, either way.
pub const MAX_SKEW_SECS: i64 = 300;
/// Whole-request limit for a recording download (below the outbox lease of 60 s).
const RECORDING_TIMEOUT: Duration = Duration::from_secs(45);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const CALLBACK_TIMEOUT: Duration = Duration::from_secs(10);

type HmacSha256 = Hmac<Sha256>;

// ---------------------------------------------------------------------------------------
// Signatures

fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> HmacSha256 {
    let mut m = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    m.update(timestamp.as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// Lower-case hex HMAC-SHA256(secret, "{timestamp}.{body}") — for our callbacks (and tests).
pub fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
}

/// The end of the previous secret's overlap, if one is configured.
/// Whether a work order's headers sign `body` for source `s` at `now`: the timestamp is
/// unix seconds within ±[`MAX_SKEW_SECS`], and the signature is the HMAC under the current
/// secret or, before `previous_secret_until`, the previous one. Compared in constant time;
/// both secrets are always tried, so timing does not tell which one matched.
pub fn verify(
    s: &HotlineSource,
    now: DateTime<Utc>,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
) -> bool {
    let (Some(ts), Some(sig)) = (timestamp, signature) else {
        return false;
    };
    if ts.is_empty() || ts.len() > 12 || !ts.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let Ok(t) = ts.parse::<i64>() else {
        return false;
    };
    if (now.timestamp() - t).abs() > MAX_SKEW_SECS {
        return false;
    }
    let Ok(given) = hex::decode(sig.trim()) else {
        return false;
    };
    if given.len() != 32 {
        return false;
    }
    let mut ok = mac(s.secret.as_bytes(), ts, body)
        .verify_slice(&given)
        .is_ok();
    if let (Some(prev), Some(until)) = (s.previous_secret.as_deref(), s.previous_until()) {
        let prev_ok = mac(prev.as_bytes(), ts, body).verify_slice(&given).is_ok();
        ok |= prev_ok && now < until;
    }
    ok
}

// ---------------------------------------------------------------------------------------
// Addresses a recording may be fetched from

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_unspecified()
        || o[0] == 0 // 0.0.0.0/8 "this network"
        || ip.is_loopback() // 127.0.0.0/8
        || ip.is_private() // 10/8, 172.16/12, 192.168/16
        || ip.is_link_local() // 169.254/16 (cloud metadata lives here)
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // 100.64/10 carrier-grade NAT
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // 192.0.0/24 IETF protocol assignments
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // 198.18/15 benchmarking
        || ip.is_documentation()
        || ip.is_multicast() // 224/4
        || o[0] >= 240 // 240/4 reserved, and broadcast
}

/// Whether `ip` is not a public unicast address: private, loopback, link-local, CGNAT,
/// multicast, unspecified, reserved — for IPv6 also unique-local, site-local, and IPv4
/// addresses embedded in IPv6 (mapped, compatible, NAT64, 6to4) by their IPv4 rules.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| {
                Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)
            };
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            if s[..6] == [0; 6] {
                // ::/96 IPv4-compatible (also :: and ::1)
                return true;
            }
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return forbidden_v4(embedded(s[6], s[7]));
            }
            if s[0] == 0x2002 {
                return forbidden_v4(embedded(s[1], s[2]));
            }
            v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast() // ff00::/8
                || (s[0] & 0xfe00) == 0xfc00 // fc00::/7 unique local
                || (s[0] & 0xffc0) == 0xfe80 // fe80::/10 link-local
                || (s[0] & 0xffc0) == 0xfec0 // fec0::/10 site-local (deprecated)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // 100::/64 discard
        }
    }
}

/// The address of a URL host written as an IP literal (`[…]` for IPv6). The URL parser has
/// already turned other IPv4 spellings (`2130706433`, `0x7f.1`) into dotted form.
fn literal_ip(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

fn host_allowed(allow: &[String], host: &str) -> bool {
    let bare = |h: &str| {
        h.trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase()
    };
    let host = bare(host);
    allow.iter().any(|a| bare(a) == host)
}

/// Intake-time check of `recording_url`: an http(s) URL without credentials whose host, if
/// written as an IP address, is public or allowed. Host names are resolved and checked when
/// the recording is fetched.
fn check_recording_url(u: &str, source: &HotlineSource) -> Result<String, ()> {
    if u.len() > 2048 {
        return Err(());
    }
    let url = reqwest::Url::parse(u).map_err(|_| ())?;
    if !matches!(url.scheme(), "http" | "https")
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(());
    }
    let host = url.host_str().ok_or(())?;
    if let Some(ip) = literal_ip(host) {
        if is_forbidden(ip) && !host_allowed(&source.allow_recording_hosts, host) {
            return Err(());
        }
    }
    Ok(url.to_string())
}

// ---------------------------------------------------------------------------------------
// The work order

/// The JSON body of CONTRACT §5.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkOrder {
    pub call_id: String,
    pub received_at: String,
    pub caller_number: String,
    #[serde(default)]
    pub caller_name: Option<String>,
    pub anonymous: bool,
    pub target: RawTarget,
    pub categories: Vec<String>,
    pub description: String,
    pub agent_id: String,
    #[serde(default)]
    pub recording_url: Option<String>,
}

/// A checked work order, ready for intake.
pub struct Order {
    pub tip: NewTip,
    pub call_id: String,
    pub agent_id: String,
    pub received_at: DateTime<Utc>,
    pub recording_url: Option<String>,
}

/// An opaque id from the call centre: 1–128 visible ASCII characters.
fn token(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic()))
        .then(|| s.to_string())
}

/// A telephone number as the call centre saw it (landline, mobile, with or without +86):
/// separators dropped, 3–20 digits with an optional leading `+`.
fn caller_number(s: &str) -> Option<String> {
    let n: String = s
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    let digits = n.strip_prefix('+').unwrap_or(&n);
    ((3..=20).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())).then_some(n)
}

/// Check a work order and turn it into a tip. The report fields go through the same
/// [`to_new_tip`] as the H5 form, so they are checked and named the same way.
pub fn to_order(
    wo: WorkOrder,
    source: &HotlineSource,
    locale: Locale,
    today: chrono::NaiveDate,
) -> AppResult<Order> {
    let inv = |field: &str, msg: &'static str| AppError::invalid(field, msg).in_locale(locale);
    let call_id = token(&wo.call_id).ok_or_else(|| inv("call_id", "error-hotline-token"))?;
    let received_at = DateTime::parse_from_rfc3339(wo.received_at.trim())
        .map_err(|_| inv("received_at", "error-hotline-received-at"))?
        .with_timezone(&Utc);
    // Not in the future (beyond the signature's 300 s of clock skew), not before 2018.
    let earliest = DateTime::parse_from_rfc3339("2018-01-01T00:00:00+08:00")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default();
    if received_at > Utc::now() + chrono::Duration::seconds(300) || received_at < earliest {
        return Err(inv("received_at", "error-hotline-received-at-range"));
    }
    let number = caller_number(&wo.caller_number)
        .ok_or_else(|| inv("caller_number", "error-hotline-caller-number"))?;
    let name = wo
        .caller_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let name = match (wo.anonymous, name) {
        (true, Some(_)) => return Err(inv("caller_name", "error-anonymous-with-identity")),
        (true, None) => None,
        (false, None) => return Err(inv("caller_name", "error-named-needs-name")),
        (false, Some(n)) => Some(bounded_text(n, 1, 50).map_err(|(msg, n)| {
            let e = inv("caller_name", msg);
            match msg {
                "error-too-long" => e.arg("max", n),
                "error-too-short" => e.arg("min", n),
                _ => e,
            }
        })?),
    };
    let raw = RawReport {
        target: wo.target,
        categories: wo.categories,
        description: wo.description,
        occurred_from: None,
        occurred_to: None,
        amount_estimate_fen: None,
        // Identity is handled here, not by the H5 rules (which want a mobile or email).
        reporter: RawReporter {
            anonymous: true,
            name: None,
            id_number: None,
            phone: None,
            email: None,
            relation: None,
        },
        locale: None,
    };
    let mut tip = to_new_tip(raw, locale, today)?;
    let agent_id = token(&wo.agent_id).ok_or_else(|| inv("agent_id", "error-hotline-token"))?;
    let recording_url = match wo.recording_url.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(u) => Some(
            check_recording_url(u, source)
                .map_err(|()| inv("recording_url", "error-hotline-recording-url"))?,
        ),
    };
    tip.anonymous = wo.anonymous;
    if let Some(name) = name {
        tip.identity = Identity::default()
            .with(IdentityField::Name, name)
            .with(IdentityField::CallerNumber, number);
    }
    // DOMAIN §1: a non-written report names who recorded it.
    tip.recorded_by = Some(format!("hotline:{}:{agent_id}", source.source));
    // DOMAIN §4: the acceptance clock starts when the caller spoke to the agent.
    tip.arrived = Some(crate::intake::Arrived::At(received_at));
    Ok(Order {
        tip,
        call_id,
        agent_id,
        received_at,
        recording_url,
    })
}

/// SHA-256 of the body with object keys sorted, so a re-serialized copy of the same work
/// order is still "the same request" (and a changed one is a 409).
fn canonical_digest(v: &serde_json::Value) -> Vec<u8> {
    fn walk(v: &serde_json::Value, h: &mut Sha256) {
        match v {
            serde_json::Value::Object(m) => {
                let mut entries: Vec<_> = m.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                h.update(b"{");
                for (k, v) in entries {
                    h.update(serde_json::to_string(k).unwrap_or_default().as_bytes());
                    h.update(b":");
                    walk(v, h);
                    h.update(b",");
                }
                h.update(b"}");
            }
            serde_json::Value::Array(a) => {
                h.update(b"[");
                for v in a {
                    walk(v, h);
                    h.update(b",");
                }
                h.update(b"]");
            }
            other => h.update(other.to_string().as_bytes()),
        }
    }
    let mut h = Sha256::new();
    walk(v, &mut h);
    h.finalize().to_vec()
}

/// The call record, the staff-side case event and the recording job, written in the tip's
/// own transaction.
struct CallRecord {
    source: String,
    call_id: String,
    agent_id: String,
    received_at: DateTime<Utc>,
    recording_url: Option<String>,
    max_attempts: i64,
}

impl TipExtra for CallRecord {
    fn write<'a, 'c>(
        &'a self,
        tx: &'a mut Tx<'c>,
        report_id: &'a str,
    ) -> BoxFuture<'a, Result<(), sqlx::Error>> {
        Box::pin(async move {
            let received_at = store::ts(self.received_at);
            sqlx::query(
                "INSERT INTO hotline_calls (source, call_id, report_id, agent_id, received_at, \
                 recording) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&self.source)
            .bind(&self.call_id)
            .bind(report_id)
            .bind(&self.agent_id)
            .bind(&received_at)
            .bind(if self.recording_url.is_some() {
                "pending"
            } else {
                "none"
            })
            .execute(&mut **tx)
            .await?;
            let data = serde_json::json!({
                "source": self.source,
                "call_id": self.call_id,
                "agent_id": self.agent_id,
                "received_at": received_at,
                "recording": self.recording_url.is_some(),
            });
            sqlx::query(
                "INSERT INTO case_events (report_id, at, actor_id, kind, data) \
                 VALUES ($1, $2, NULL, 'hotline_call', $3)",
            )
            .bind(report_id)
            .bind(store::ts(Utc::now()))
            .bind(data.to_string())
            .execute(&mut **tx)
            .await?;
            if let Some(url) = &self.recording_url {
                let job = NewJob::new(
                    RECORDING_KIND,
                    serde_json::json!({ "report_id": report_id, "source": self.source, "url": url }),
                )
                .dedupe(format!("{RECORDING_KIND}:{report_id}"));
                notify::enqueue(tx, &job, self.max_attempts).await?;
            }
            Ok(())
        })
    }
}

fn invalid_signature() -> AppError {
    AppError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_signature",
        "error-hotline-signature",
    )
}

async fn read_body(req: &HttpRequest, mut payload: web::Payload, max: usize) -> AppResult<Vec<u8>> {
    let too_large = || {
        AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "error-payload-too-large",
        )
        .arg("max", human_bytes(max as u64))
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let mut buf = Vec::with_capacity(declared.map_or(4096, |n| n as usize));
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| AppError::bad_request("invalid_json", "error-invalid-json"))?;
        if buf.len() + chunk.len() > max {
            return Err(too_large());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

/// The answer for the agent (CONTRACT §5), with the acceptance date to read to the caller
/// and, when that date is provisional, a sentence saying so in plain words.
fn answer(status: StatusCode, body: &serde_json::Value, duplicate: bool) -> HttpResponse {
    let field = |k: &str| body.get(k).and_then(|v| v.as_str()).unwrap_or_default();
    let provisional = body
        .get("accept_by_provisional")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    let note =
        provisional.then(|| crate::i18n::t(Locale::ZhCn, "hotline-accept-by-provisional", &[]));
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({
            "tracking_code": field("tracking_code"),
            "passcode": field("passcode"),
            "duplicate": duplicate,
            "accept_by": field("accept_by"),
            "accept_by_provisional": provisional,
            "accept_by_note": note,
        }))
}

/// `POST /bridges/hotline/{source}/tickets` (CONTRACT §5); `web` routes it here with the
/// configuration and the intake.
pub async fn tickets(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    config: &Config,
    intake: &Intake,
) -> AppResult<HttpResponse> {
    let name = path.into_inner();
    let Some(source) = config.hotline.iter().find(|h| h.source == name) else {
        return Err(AppError::new(
            StatusCode::NOT_FOUND,
            "unknown_source",
            "error-hotline-unknown-source",
        ));
    };
    let max = usize::try_from(config.intake.max_json_bytes.max(1)).unwrap_or(usize::MAX);
    let body = read_body(&req, payload, max).await?;
    let header = |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok());
    if !verify(
        source,
        Utc::now(),
        header("x-jubao-timestamp"),
        header("x-jubao-signature"),
        &body,
    ) {
        tracing::warn!(source = %source.source, "hotline work order refused: invalid signature");
        return Err(invalid_signature());
    }
    let locale = request_locale();
    let (wo, _) = parse_json::<WorkOrder>(&body, locale)?;
    // parse_json accepted it, so it is a JSON value.
    let value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|_| AppError::bad_request("invalid_json", "error-invalid-json"))?;
    let order = to_order(wo, source, locale, intake.today())?;
    let idem = IdempotencyKey {
        scope: format!("hotline:{}", source.source),
        key: order.call_id.clone(),
        request: canonical_digest(&value),
    };
    let extra = Arc::new(CallRecord {
        source: source.source.clone(),
        call_id: order.call_id,
        agent_id: order.agent_id,
        received_at: order.received_at,
        recording_url: order.recording_url,
        max_attempts: config.outbox.max_attempts,
    });
    match intake
        .submit_with(Channel::Hotline, order.tip, vec![], Some(idem), Some(extra))
        .await?
    {
        Submitted::Created(r) => Ok(answer(
            StatusCode::CREATED,
            &serde_json::to_value(&r).map_err(AppError::internal)?,
            false,
        )),
        Submitted::Replayed { body, .. } => Ok(answer(StatusCode::OK, &body, true)),
    }
}

// ---------------------------------------------------------------------------------------
// Recording fetch (outbox job)

/// Fetches a call's recording and stores it as sealed evidence.
pub struct RecordingHandler {
    db: Db,
    vault: Arc<Vault>,
    sources: Vec<HotlineSource>,
    limits: Limits,
}

#[derive(Deserialize)]
struct RecordingJob {
    report_id: String,
    source: String,
    url: String,
}

enum FetchError {
    /// The address is not allowed: never retried.
    Refused(&'static str),
    Permanent(String),
    Retry(String),
}

impl RecordingHandler {
    pub fn new(db: Db, vault: Arc<Vault>, config: &Config) -> Self {
        Self {
            db,
            vault,
            sources: config.hotline.clone(),
            limits: Limits {
                max_file_bytes: u64::try_from(config.evidence.max_file_bytes.max(1))
                    .unwrap_or(u64::MAX),
                max_image_pixels: u64::try_from(config.evidence.max_image_pixels.max(1))
                    .unwrap_or(u64::MAX),
            },
        }
    }

    async fn run_job(&self, job: &Claimed) -> Result<(), JobError> {
        let p: RecordingJob =
            serde_json::from_value(job.payload.clone()).map_err(JobError::permanent)?;
        let state: Option<String> =
            sqlx::query_scalar("SELECT recording FROM hotline_calls WHERE report_id = $1")
                .bind(&p.report_id)
                .fetch_optional(&self.db.pool)
                .await
                .map_err(JobError::retry)?;
        match state.as_deref() {
            None => return Err(JobError::permanent("no hotline call for this report")),
            Some("stored") => return Ok(()),
            _ => {}
        }
        let allow = self
            .sources
            .iter()
            .find(|s| s.source == p.source)
            .map(|s| s.allow_recording_hosts.as_slice())
            .unwrap_or_default();
        let bytes = match fetch(&p.url, allow, self.limits.max_file_bytes).await {
            Ok(b) => b,
            Err(FetchError::Refused(why)) => {
                tracing::warn!(report_id = %p.report_id, reason = why, "hotline recording refused");
                self.record(&p.report_id, "refused", why).await?;
                return Err(JobError::Permanent(format!("recording refused: {why}")));
            }
            Err(FetchError::Permanent(why)) => {
                self.record(&p.report_id, "failed", &why).await?;
                return Err(JobError::Permanent(why));
            }
            Err(FetchError::Retry(why)) => {
                if job.attempts >= job.max_attempts {
                    self.record(&p.report_id, "failed", &why).await?;
                }
                return Err(JobError::Retry(why));
            }
        };
        let limits = self.limits.clone();
        let processed = tokio::task::spawn_blocking(move || evidence::process(bytes, &limits))
            .await
            .map_err(JobError::retry)?;
        let processed = match processed {
            Ok(p) => p,
            Err(e) => {
                let why = format!("recording not accepted as evidence: {e}");
                self.record(&p.report_id, "failed", &why).await?;
                return Err(JobError::Permanent(why));
            }
        };
        let sealer = self.vault.sealer().await.map_err(JobError::retry)?;
        self.store(&p.report_id, &sealer, processed)
            .await
            .map_err(JobError::retry)
    }

    async fn store(
        &self,
        report_id: &str,
        sealer: &crate::vault::Sealer,
        processed: evidence::Processed,
    ) -> Result<(), sqlx::Error> {
        // Evidence numbers are for display order only (not unique), so reading the next one
        // outside the transaction is harmless.
        let next: Option<i64> =
            sqlx::query_scalar("SELECT MAX(seq) + 1 FROM evidence WHERE report_id = $1")
                .bind(report_id)
                .fetch_one(&self.db.pool)
                .await?;
        let sha256 = hex::encode(processed.original_sha256);
        let size = processed.original.len();
        let media_type = processed.media_type;
        let row = crate::intake::seal_evidence(
            sealer,
            report_id,
            usize::try_from(next.unwrap_or(0)).unwrap_or(0),
            None,
            processed,
            Utc::now(),
        );
        let mut tx = self.db.begin().await?;
        // Write first (SQLite takes the write lock here), and store the recording once only.
        let claimed = sqlx::query(
            "UPDATE hotline_calls SET recording = 'stored', recording_evidence_id = $1 \
             WHERE report_id = $2 AND recording <> 'stored'",
        )
        .bind(&row.id)
        .bind(report_id)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(());
        }
        crate::intake::committer::insert_evidence(&mut tx, &row).await?;
        let data = serde_json::json!({
            "outcome": "stored", "evidence_id": row.id, "sha256": sha256,
            "size_bytes": size, "media_type": media_type,
        });
        insert_event(&mut tx, report_id, &data).await?;
        tx.commit().await?;
        tracing::info!(report_id = %report_id, evidence_id = %row.id, "hotline recording stored");
        Ok(())
    }

    /// Note on the case (staff side) that the recording could not be taken, and why.
    async fn record(&self, report_id: &str, outcome: &str, why: &str) -> Result<(), JobError> {
        let run = async {
            let mut tx = self.db.begin().await?;
            sqlx::query(
                "UPDATE hotline_calls SET recording = $1 WHERE report_id = $2 AND recording <> 'stored'",
            )
            .bind(outcome)
            .bind(report_id)
            .execute(&mut *tx)
            .await?;
            let data = serde_json::json!({ "outcome": outcome, "reason": why });
            insert_event(&mut tx, report_id, &data).await?;
            tx.commit().await
        };
        run.await.map_err(JobError::retry)
    }
}

async fn insert_event(
    tx: &mut Tx<'_>,
    report_id: &str,
    data: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO case_events (report_id, at, actor_id, kind, data) \
         VALUES ($1, $2, NULL, 'hotline_recording', $3)",
    )
    .bind(report_id)
    .bind(store::ts(Utc::now()))
    .bind(data.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Handler for RecordingHandler {
    fn run<'a>(&'a self, job: &'a Claimed) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(self.run_job(job))
    }
}

/// Download `url` under the address rules: the host is resolved here and every address
/// checked, and the client connects only to those addresses (no second lookup to rebind);
/// no proxy, no redirects, at most `max` bytes within [`RECORDING_TIMEOUT`]. Errors never
/// carry the URL (its query string may hold a token).
async fn fetch(url: &str, allow: &[String], max: u64) -> Result<Vec<u8>, FetchError> {
    let u = reqwest::Url::parse(url).map_err(|_| FetchError::Refused("not a URL"))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(FetchError::Refused("not an http(s) URL"));
    }
    let host = u
        .host_str()
        .ok_or(FetchError::Refused("no host"))?
        .to_string();
    let port = u
        .port_or_known_default()
        .ok_or(FetchError::Refused("no port"))?;
    let allowed = host_allowed(allow, &host);
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(RECORDING_TIMEOUT);
    if let Some(ip) = literal_ip(&host) {
        if !allowed && is_forbidden(ip) {
            return Err(FetchError::Refused("address not allowed"));
        }
    } else {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|_| FetchError::Retry("the recording host does not resolve".into()))?
            .collect();
        if addrs.is_empty() {
            return Err(FetchError::Retry(
                "the recording host does not resolve".into(),
            ));
        }
        if !allowed && addrs.iter().any(|a| is_forbidden(a.ip())) {
            return Err(FetchError::Refused("address not allowed"));
        }
        // Connect only to the addresses just checked (no second lookup to rebind).
        builder = builder.resolve_to_addrs(&host, &addrs);
    }
    let client = builder
        .build()
        .map_err(|e| FetchError::Retry(format!("http client: {e}")))?;
    let resp = client
        .get(u)
        .send()
        .await
        .map_err(|e| FetchError::Retry(format!("recording download: {}", e.without_url())))?;
    let status = resp.status();
    if status.is_redirection() {
        return Err(FetchError::Permanent(format!(
            "the recording URL redirects ({}); redirects are not followed",
            status.as_u16()
        )));
    }
    if !status.is_success() {
        let msg = format!("the recording server answered {}", status.as_u16());
        return Err(
            if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
                FetchError::Retry(msg)
            } else {
                FetchError::Permanent(msg)
            },
        );
    }
    let too_large =
        || FetchError::Permanent(format!("the recording is larger than {}", human_bytes(max)));
    if resp.content_length().is_some_and(|n| n > max) {
        return Err(too_large());
    }
    let mut buf = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk
            .map_err(|e| FetchError::Retry(format!("recording download: {}", e.without_url())))?;
        if (buf.len() + chunk.len()) as u64 > max {
            return Err(too_large());
        }
        buf.extend_from_slice(&chunk);
    }
    if buf.is_empty() {
        return Err(FetchError::Permanent("the recording is empty".into()));
    }
    Ok(buf)
}

// ---------------------------------------------------------------------------------------
// Feedback to the call centre

/// The `hotline` feedback sender: a signed POST to the source's `callback_url`.
pub struct CallbackSender {
    db: Db,
    sources: Vec<HotlineSource>,
    client: reqwest::Client,
}

impl CallbackSender {
    pub fn new(db: Db, config: &Config) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(CALLBACK_TIMEOUT)
            .build()?;
        Ok(Self {
            db,
            sources: config.hotline.clone(),
            client,
        })
    }

    async fn send_one(&self, n: &Notice) -> Result<(), JobError> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT source, call_id FROM hotline_calls WHERE report_id = $1")
                .bind(&n.report_id)
                .fetch_optional(&self.db.pool)
                .await
                .map_err(JobError::retry)?;
        let Some((source, call_id)) = row else {
            return Err(JobError::permanent("no hotline call for this report"));
        };
        let Some(src) = self.sources.iter().find(|s| s.source == source) else {
            return Err(JobError::permanent(format!(
                "hotline source {source} is no longer configured"
            )));
        };
        let Some(url) = src.callback_url.as_deref().filter(|u| !u.is_empty()) else {
            return Err(JobError::permanent(format!(
                "hotline source {source} has no callback_url"
            )));
        };
        let now = Utc::now();
        let body = serde_json::to_vec(&serde_json::json!({
            "call_id": call_id,
            "status": n.status,
            "text": n.text,
            "at": now.to_rfc3339_opts(SecondsFormat::Secs, true),
        }))
        .map_err(JobError::permanent)?;
        let ts = now.timestamp().to_string();
        let signature = sign(src.secret.as_bytes(), &ts, &body);
        let resp = self
            .client
            .post(url)
            .header(header::CONTENT_TYPE.as_str(), "application/json")
            .header("X-Jubao-Timestamp", ts)
            .header("X-Jubao-Signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|e| JobError::Retry(format!("hotline callback: {}", e.without_url())))?;
        if !resp.status().is_success() {
            return Err(JobError::Retry(format!(
                "hotline callback answered {}",
                resp.status().as_u16()
            )));
        }
        tracing::info!(report_id = %n.report_id, source = %source, "hotline callback delivered");
        Ok(())
    }
}

impl Sender for CallbackSender {
    fn send<'a>(&'a self, notice: &'a Notice) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(self.send_one(notice))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> HotlineSource {
        HotlineSource {
            source: "12393".into(),
            secret: "new-secret".into(),
            callback_url: None,
            previous_secret: Some("old-secret".into()),
            previous_secret_until: Some("2026-12-01T00:00:00Z".into()),
            allow_recording_hosts: vec!["rec.internal".into(), "10.1.2.3".into()],
        }
    }

    #[test]
    fn signature_window_and_rotation() {
        let s = source();
        let now: DateTime<Utc> = "2026-11-30T00:00:00Z".parse().unwrap();
        let t = now.timestamp().to_string();
        let body = br#"{"a":1}"#;
        let good = sign(b"new-secret", &t, body);
        assert!(verify(&s, now, Some(&t), Some(&good), body));
        assert!(verify(&s, now, Some(&t), Some(&good.to_uppercase()), body));
        assert!(!verify(&s, now, Some(&t), Some(&good), b"{\"a\":2}"));
        assert!(!verify(&s, now, None, Some(&good), body));
        assert!(!verify(&s, now, Some(&t), None, body));
        assert!(!verify(&s, now, Some(&t), Some("zz"), body));
        assert!(!verify(&s, now, Some(&format!(" {t}")), Some(&good), body));
        for skew in [-301, 301] {
            let t2 = (now.timestamp() + skew).to_string();
            let sig = sign(b"new-secret", &t2, body);
            assert!(!verify(&s, now, Some(&t2), Some(&sig), body), "{skew}");
        }
        let t3 = (now.timestamp() - 299).to_string();
        assert!(verify(
            &s,
            now,
            Some(&t3),
            Some(&sign(b"new-secret", &t3, body)),
            body
        ));
        let old = sign(b"old-secret", &t, body);
        assert!(verify(&s, now, Some(&t), Some(&old), body));
        let later: DateTime<Utc> = "2026-12-01T00:00:01Z".parse().unwrap();
        let tl = later.timestamp().to_string();
        assert!(!verify(
            &s,
            later,
            Some(&tl),
            Some(&sign(b"old-secret", &tl, body)),
            body
        ));
        assert!(verify(
            &s,
            later,
            Some(&tl),
            Some(&sign(b"new-secret", &tl, body)),
            body
        ));
    }

    /// The worked example of docs/hotline.md (its value was computed with `openssl dgst`).
    #[test]
    fn documented_example() {
        let body = r#"{"call_id":"12393-20261123-000042","received_at":"2026-11-23T09:30:00+08:00","caller_number":"0635-8888 1234","caller_name":"张三","anonymous":false,"target":{"name":"某某县中医院","kind":"hospital","region_code":"371502"},"categories":["split_or_bed_hospitalization"],"description":"来电反映：该院组织老人挂床住院，用医保卡结算。","agent_id":"A-007","recording_url":null}"#;
        assert_eq!(body.len(), 403);
        assert_eq!(
            sign(b"example-secret-do-not-use", "1795397400", body.as_bytes()),
            "0e0e293ea56af748ba4e4b819a5882d832ab17ca936ec5cb9bee040beb4366f2"
        );
        let callback = r#"{"call_id":"12393-20261123-000042","status":"accepted","text":"您的举报已受理，正在安排核查。","at":"2026-11-24T02:00:00Z"}"#;
        assert_eq!(
            sign(
                b"example-secret-do-not-use",
                "1795485600",
                callback.as_bytes()
            ),
            "f22a175d8097f1954df1973f1f27c0a6fe5fd062481c9836d4106deda0b4a2d7"
        );
        // And the documented body is a valid work order.
        let (wo, _) = parse_json::<WorkOrder>(body.as_bytes(), Locale::ZhCn).unwrap();
        let order = to_order(wo, &source(), Locale::ZhCn, "2026-11-23".parse().unwrap()).unwrap();
        assert_eq!(
            order.tip.recorded_by.as_deref(),
            Some("hotline:12393:A-007")
        );
    }

    #[test]
    fn forbidden_addresses() {
        for a in [
            "0.0.0.0",
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "::",
            "::1",
            "fe80::1",
            "fc00::1",
            "fd12::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "fec0::1",
            "2001:db8::1",
        ] {
            assert!(is_forbidden(a.parse().unwrap()), "{a}");
        }
        for a in [
            "1.1.1.1",
            "8.8.8.8",
            "100.128.0.1",
            "172.32.0.1",
            "2400:3200::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(!is_forbidden(a.parse().unwrap()), "{a}");
        }
    }

    #[test]
    fn recording_urls_at_intake() {
        let s = source();
        assert!(check_recording_url("https://rec.example.com/a.mp3?token=x", &s).is_ok());
        assert!(check_recording_url("http://10.1.2.3:8080/a.mp3", &s).is_ok());
        // Host names are checked when fetched; literal addresses now.
        assert!(check_recording_url("http://localhost/a.mp3", &s).is_ok());
        for bad in [
            "http://127.0.0.1/a.mp3",
            "http://[::1]/a",
            "http://169.254.169.254/latest",
            "ftp://rec.example.com/a.mp3",
            "file:///etc/passwd",
            "https://user:pw@rec.example.com/a",
            "not a url",
        ] {
            assert!(check_recording_url(bad, &s).is_err(), "{bad}");
        }
    }

    #[test]
    fn caller_numbers_and_tokens() {
        assert_eq!(
            caller_number("010-1234 5678").as_deref(),
            Some("01012345678")
        );
        assert_eq!(
            caller_number("+86 138 0013 8000").as_deref(),
            Some("+8613800138000")
        );
        assert!(caller_number("12").is_none());
        assert!(caller_number("call me").is_none());
        assert!(token("").is_none());
        assert!(token("a b").is_none());
        assert_eq!(token(" C-1 ").as_deref(), Some("C-1"));
    }

    #[test]
    fn canonical_digest_ignores_key_order_only() {
        let a: serde_json::Value =
            serde_json::from_str(r#"{"a":1,"b":[1,{"x":2,"y":3}]}"#).unwrap();
        let b: serde_json::Value =
            serde_json::from_str(r#"{ "b":[1,{"y":3,"x":2}], "a":1 }"#).unwrap();
        let c: serde_json::Value =
            serde_json::from_str(r#"{"a":1,"b":[{"x":2,"y":3},1]}"#).unwrap();
        assert_eq!(canonical_digest(&a), canonical_digest(&b));
        assert_ne!(canonical_digest(&a), canonical_digest(&c));
    }
}
