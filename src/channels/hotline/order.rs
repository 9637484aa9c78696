//! The work order: checked and turned into a tip, and the call record written with it.

#[allow(unused_imports)]
use super::*;
use crate::intake::NotifyBy;

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
    /// The last six characters of the caller's ID number, if they want to claim a reward
    /// by bank transfer later (optional; kept only as a keyed digest).
    #[serde(default)]
    pub claim_verifier: Option<String>,
    /// How the caller wants to be told (optional, as `reporter.notify_by` of CONTRACT §3):
    /// `channel` (default: back through the call centre), `sms` (a named caller whose
    /// `caller_number` is a mainland mobile) or `page` (only the status page). See
    /// docs/hotline.md §2 for why this is an optional field of its own.
    #[serde(default)]
    pub notify_by: Option<String>,
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
pub(super) fn token(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic()))
        .then(|| s.to_string())
}

/// A telephone number as the call centre saw it (landline, mobile, with or without +86):
/// separators dropped, 3–20 digits with an optional leading `+`.
pub(super) fn caller_number(s: &str) -> Option<String> {
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
    let notify_by = notify_choice(wo.notify_by.as_deref(), wo.anonymous, &number)
        .map_err(|msg| inv("notify_by", msg))?;
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
            claim_verifier: wo.claim_verifier,
            notify_by: None,
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
    tip.notify_by = notify_by;
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

/// The caller's choice of how to be told. SMS goes to the caller's number, so it needs a
/// named caller (an anonymous caller's number is not kept) whose number is a mainland
/// mobile; email needs an address a work order cannot carry.
fn notify_choice(
    choice: Option<&str>,
    anonymous: bool,
    number: &str,
) -> Result<Option<NotifyBy>, &'static str> {
    let Some(s) = choice.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    match NotifyBy::parse(s).ok_or("error-notify-by")? {
        NotifyBy::Sms if anonymous || crate::domain::MobilePhone::parse(number).is_err() => {
            Err("error-hotline-notify-by-sms")
        }
        NotifyBy::Email => Err("error-hotline-notify-by-email"),
        n => Ok(Some(n)),
    }
}

/// SHA-256 of the body with object keys sorted, so a re-serialized copy of the same work
/// order is still "the same request" (and a changed one is a 409).
pub(super) fn canonical_digest(v: &serde_json::Value) -> Vec<u8> {
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
pub(super) struct CallRecord {
    pub(super) source: String,
    pub(super) call_id: String,
    pub(super) agent_id: String,
    pub(super) received_at: DateTime<Utc>,
    pub(super) recording_url: Option<String>,
    pub(super) max_attempts: u32,
}

impl TipExtra for CallRecord {
    fn write<'a>(
        &'a self,
        ex: &'a mut dyn store::Exec,
        report_id: &'a str,
    ) -> BoxFuture<'a, Result<(), sqlx::Error>> {
        Box::pin(async move {
            let received_at = store::ts(self.received_at);
            let recording = if self.recording_url.is_some() {
                "pending"
            } else {
                "none"
            };
            ex.run(
                "INSERT INTO hotline_calls (source, call_id, report_id, agent_id, received_at, \
                 recording) VALUES ($1, $2, $3, $4, $5, $6)",
                vec![
                    self.source.as_str().into(),
                    self.call_id.as_str().into(),
                    report_id.into(),
                    self.agent_id.as_str().into(),
                    received_at.as_str().into(),
                    recording.into(),
                ],
            )
            .await?;
            // No call_id: the call centre links it to the caller's number, so case staff
            // see it only through a custodian's reveal (workflow::reveal).
            let data = serde_json::json!({
                "source": self.source,
                "agent_id": self.agent_id,
                "received_at": received_at,
                "recording": self.recording_url.is_some(),
            });
            ex.run(
                "INSERT INTO case_events (report_id, at, actor_id, kind, data) \
                 VALUES ($1, $2, NULL, 'hotline_call', $3)",
                vec![
                    report_id.into(),
                    store::ts(Utc::now()).into(),
                    data.to_string().into(),
                ],
            )
            .await?;
            if let Some(url) = &self.recording_url {
                let job = NewJob::of(&RecordingJob {
                    report_id: report_id.to_string(),
                    source: self.source.clone(),
                    url: url.clone(),
                });
                notify::enqueue(ex, &job, self.max_attempts).await?;
            }
            Ok(())
        })
    }
}
