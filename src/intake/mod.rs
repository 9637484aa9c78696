//! Intake: every channel ends here. A [`NewTip`] (already parsed and valid) and its
//! processed evidence become one report, durably, before the receipt is returned.
//!
//! Writes go through a group committer ([`committer`]): concurrent submissions share one
//! transaction and one fsync, each inside its own savepoint so one bad tip never takes the
//! others down. Nothing is acknowledged before the commit returns.

pub mod committer;
mod error;
pub mod followup;
pub mod limits;
pub mod links;
pub mod parse;

pub use error::IntakeError;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::deadlines::calendar::shanghai_date;
use crate::deadlines::period::Period;
use crate::deadlines::rules::RuleSet;
use crate::deadlines::Calendars;
use crate::domain::{tracking, Category, Channel, RegionCode, Relation, TargetKind};
use crate::error::{AppError, AppResult};
use crate::evidence::Processed;
use crate::i18n::Locale;
use crate::store::Db;
use crate::vault::{context::idempotency_context, Identity, Vault};
use committer::{AcceptClock, Committer, Outcome, PreparedEvidence, PreparedTip, SavedResponse};

#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub kind: TargetKind,
    pub region: Option<RegionCode>,
    pub address: Option<String>,
    /// The institution's code, normalized (`domain::institution::parse_code`).
    pub code: Option<String>,
}

/// A valid tip from any channel, before it is stored.
#[derive(Debug, Clone)]
pub struct NewTip {
    pub target: Target,
    pub categories: Vec<Category>,
    pub description: String,
    pub occurred_from: Option<NaiveDate>,
    pub occurred_to: Option<NaiveDate>,
    pub amount_estimate_fen: Option<i64>,
    pub anonymous: bool,
    pub relation: Option<Relation>,
    pub identity: Identity,
    /// The last six characters of the reporter's ID number (normalized), stored only as
    /// the vault's keyed digest: a bank-transfer claim must present them.
    pub claim_verifier: Option<String>,
    pub locale: Locale,
    /// The staff member or call-centre agent who recorded a non-written report.
    pub recorded_by: Option<String>,
    /// When the tip reached the bureau, if before it is stored: its clocks start then.
    pub arrived: Option<Arrived>,
    /// How the reporter wants to be told (`None`: through the channel they came from).
    pub notify_by: Option<NotifyBy>,
    /// The keyed digest of the client address an H5 tip came from ([`Intake::client_digest`]):
    /// only to mark repeated identical tips in triage.
    pub client_digest: Option<Vec<u8>>,
    /// The filing limit of the client address an H5 tip came from, applied by the writer.
    pub quota: Option<limits::FilingQuota>,
}

/// How a reporter chose to be told of news (issue 17 part 4). The status page and the
/// bot's `查询` always show every notice, whatever the choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyBy {
    /// The channel the tip came from (the default).
    Channel,
    Sms,
    Email,
    /// Only on the status page.
    Page,
}

impl NotifyBy {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "channel" => NotifyBy::Channel,
            "sms" => NotifyBy::Sms,
            "email" => NotifyBy::Email,
            "page" => NotifyBy::Page,
            _ => return None,
        })
    }

    pub fn code(self) -> &'static str {
        match self {
            NotifyBy::Channel => "channel",
            NotifyBy::Sms => "sms",
            NotifyBy::Email => "email",
            NotifyBy::Page => "page",
        }
    }
}

/// When a tip recorded later reached the bureau (DOMAIN §4: the clock starts at receipt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrived {
    /// The caller spoke to the hotline agent at this instant.
    At(DateTime<Utc>),
    /// The letter, visit or call reached the bureau on this Asia/Shanghai day.
    On(NaiveDate),
}

/// What the reporter gets back (CONTRACT §3). The passcode appears only here.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Receipt {
    pub tracking_code: String,
    pub passcode: String,
    pub status: String,
    pub received_at: String,
    pub accept_by: String,
    /// `accept_by` was computed across a year whose holiday notice is not loaded yet: it
    /// may move when the notice is published.
    #[serde(default)]
    pub accept_by_provisional: bool,
    /// Internal case id, for the caller's own records (never sent to the reporter).
    #[serde(skip)]
    pub report_id: String,
}

/// A request's idempotency key, in a scope (channel + caller kind).
pub struct IdempotencyKey {
    pub scope: String,
    pub key: String,
    /// Digest of what was asked, so a reused key with a different request is refused.
    pub request: Vec<u8>,
}

/// Channel-specific rows written in the tip's own transaction and savepoint, after its
/// report row (e.g. the hotline's call record and recording job): they commit with the tip
/// or not at all, and a replayed request writes none of them.
pub trait TipExtra: Send + Sync {
    fn write<'a>(
        &'a self,
        ex: &'a mut dyn crate::store::Exec,
        report_id: &'a str,
    ) -> futures_util::future::BoxFuture<'a, Result<(), sqlx::Error>>;
}

pub enum Submitted {
    Created(Receipt),
    /// The same request was already handled: its saved answer.
    Replayed {
        status: u16,
        body: serde_json::Value,
    },
}

pub struct Intake {
    db: Db,
    vault: Arc<Vault>,
    calendar: Calendars,
    rules: Arc<RuleSet>,
    committer: Committer,
    default_region: String,
    remind_before: u32,
    alert_attempts: Option<u32>,
    /// Clients this instance refused for filing too much ([`limits::Refused`]).
    refused: limits::Refused,
}

impl Intake {
    pub fn new(db: Db, vault: Arc<Vault>, calendar: Calendars, rules: Arc<RuleSet>) -> Self {
        let writers = db.backend.intake_writers();
        let committer = Committer::start(db.clone(), writers);
        Self {
            db,
            vault,
            calendar,
            rules,
            committer,
            default_region: crate::domain::region::NATIONAL.to_string(),
            remind_before: 3,
            alert_attempts: None,
            refused: Default::default(),
        }
    }

    /// Staff alerts in chat groups: with robots configured, every new tip queues one
    /// (`notify::robots`), tried `max_attempts` times.
    pub fn with_alerts(mut self, max_attempts: Option<u32>) -> Self {
        self.alert_attempts = max_attempts;
        self
    }

    /// Where tips without a region go, and how early the acceptance reminder goes out.
    pub fn with_case_defaults(mut self, default_region: &str, remind_before: u32) -> Self {
        self.default_region = default_region.to_string();
        self.remind_before = remind_before;
        self
    }

    pub fn calendar(&self) -> &Calendars {
        &self.calendar
    }

    pub fn today(&self) -> NaiveDate {
        shanghai_date(self.db.now())
    }

    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The acceptance clock of a tip: from the day it arrived (never later than now), with
    /// the period of the rule in force that day for the case's region.
    fn accept_clock(&self, tip: &NewTip, region: &str, now: DateTime<Utc>) -> AcceptClock {
        let (started_at, start_on, received_on) = match tip.arrived {
            Some(Arrived::At(t)) => {
                let t = t.min(now);
                (t, shanghai_date(t), None)
            }
            Some(Arrived::On(d)) => {
                let d = d.min(shanghai_date(now));
                (now, d, Some(d))
            }
            None => (now, shanghai_date(now), None),
        };
        let rule = self.rules.select(region, start_on);
        let cal = self.calendar.current();
        let working_days = rule.accept_working_days;
        let due = Period::WorkingDays(working_days).due(&cal, start_on);
        AcceptClock {
            started_at,
            start_on,
            due,
            remind_on: crate::deadlines::clocks::remind_on(
                &cal,
                start_on,
                due.on,
                self.remind_before,
            ),
            working_days,
            remind_before: self.remind_before,
            rule: rule.label(),
            received_on,
        }
    }

    /// Store a tip with its evidence; return the receipt once it is durable.
    #[tracing::instrument(skip_all, fields(channel = %channel))]
    pub async fn submit(
        &self,
        channel: Channel,
        tip: NewTip,
        evidence: Vec<Processed>,
        idem: Option<IdempotencyKey>,
    ) -> AppResult<Submitted> {
        self.submit_with(channel, tip, evidence, idem, None).await
    }

    /// As [`Intake::submit`], also writing `extra` in the tip's transaction.
    pub async fn submit_with(
        &self,
        channel: Channel,
        tip: NewTip,
        evidence: Vec<Processed>,
        idem: Option<IdempotencyKey>,
        extra: Option<Arc<dyn TipExtra>>,
    ) -> AppResult<Submitted> {
        let received_at = self.db.now();
        let case_region = tip
            .target
            .region
            .as_ref()
            .map_or_else(|| self.default_region.clone(), |r| r.as_str().to_string());
        let accept = self.accept_clock(&tip, &case_region, received_at);
        let sealer = self.vault.sealer().await?;
        let report_id = uuid::Uuid::now_v7().to_string();
        let case_keys = self.vault.new_case_keys(&sealer, &report_id)?;
        let sealed_identity =
            self.vault
                .seal_identity(&case_keys.identity, &report_id, &tip.identity);
        let claim_verifier = tip
            .claim_verifier
            .as_deref()
            .map(|v| self.vault.claim_verifier_digest(&report_id, v).to_vec());

        let mut sealed_evidence = Vec::with_capacity(evidence.len());
        for (seq, p) in evidence.into_iter().enumerate() {
            sealed_evidence.push(seal_evidence(
                &case_keys,
                &report_id,
                seq,
                None,
                p,
                received_at,
            ));
        }

        let idem = idem.map(|k| {
            let key_digest = self
                .vault
                .request_digest(&[k.scope.as_bytes(), k.key.as_bytes()]);
            (k.scope, key_digest.to_vec(), k.request)
        });

        // A tracking-code collision (1 in 10^11 per pair) is retried with a new code.
        for _ in 0..3 {
            let receipt = Receipt {
                tracking_code: tracking::new_code(),
                passcode: tracking::new_passcode(),
                status: "received".into(),
                received_at: received_at.to_rfc3339_opts(SecondsFormat::Secs, true),
                accept_by: accept.due.on.format("%Y-%m-%d").to_string(),
                accept_by_provisional: accept.due.provisional,
                report_id: report_id.clone(),
            };
            let saved = idem.as_ref().map(|(scope, digest, request)| {
                let body = serde_json::to_vec(&receipt).expect("receipt serializes");
                SavedResponse {
                    scope: scope.clone(),
                    key_digest: digest.clone(),
                    request_digest: request.clone(),
                    key_id: sealer.key_id(),
                    sealed: sealer.seal_blob(&idempotency_context(scope, digest), &body),
                }
            });
            let prepared = PreparedTip {
                report_id: report_id.clone(),
                channel,
                passcode_hash: self
                    .vault
                    .passcode_hash(&receipt.tracking_code, &receipt.passcode)
                    .to_vec(),
                tracking_code: receipt.tracking_code.clone(),
                tip: tip.clone(),
                identity: sealed_identity.clone(),
                case_keys: case_keys.rows.clone(),
                claim_verifier: claim_verifier.clone(),
                evidence: sealed_evidence.clone(),
                received_at,
                accept: accept.clone(),
                case_region: case_region.clone(),
                idempotency: saved,
                extra: extra.clone(),
                alert_attempts: self.alert_attempts,
            };
            match self.committer.submit(prepared).await? {
                Outcome::Created => {
                    crate::telemetry::metrics().tips_received(channel);
                    tracing::info!(report_id = %report_id, "tip received");
                    return Ok(Submitted::Created(receipt));
                }
                Outcome::Replay {
                    status,
                    sealed,
                    scope,
                    key_digest,
                    request_digest,
                } => {
                    let (_, _, request) = idem.as_ref().expect("replay implies a key");
                    if *request != request_digest {
                        return Err(AppError::from(IntakeError::IdempotencyConflict));
                    }
                    let plain = self
                        .vault
                        .open_blob(&idempotency_context(&scope, &key_digest), &sealed)
                        .await?;
                    let body = serde_json::from_slice(&plain).map_err(AppError::internal)?;
                    return Ok(Submitted::Replayed { status, body });
                }
                Outcome::CodeTaken => continue,
                Outcome::OverQuota { window_secs } => {
                    let quota = tip.quota.as_ref();
                    return Err(self.refused_filing(quota, received_at, window_secs));
                }
            }
        }
        Err(AppError::internal(anyhow::anyhow!(
            "could not allocate a tracking code"
        )))
    }
}

/// Seal one processed file for storage: the original and, unless the file is held sealed
/// (`Processed::held_sealed`), its working copy without metadata.
pub fn seal_evidence(
    keys: &crate::vault::CaseKeys,
    report_id: &str,
    seq: usize,
    message_id: Option<i64>,
    p: Processed,
    at: DateTime<Utc>,
) -> PreparedEvidence {
    let id = uuid::Uuid::now_v7().to_string();
    let size_bytes = p.original.len() as i64;
    let working = p
        .working
        .map(|w| keys.sanitized.seal_evidence(report_id, &id, "working", w));
    // Sealed in place: a 20 MB file is never held twice.
    let original = keys
        .identity
        .seal_evidence(report_id, &id, "original", p.original);
    Arc::new(committer::EvidenceRow {
        id,
        report_id: report_id.to_string(),
        message_id,
        seq: seq as i64,
        kind: format!("{:?}", p.kind).to_lowercase(),
        media_type: p.media_type.to_string(),
        size_bytes,
        sha256: hex::encode(p.original_sha256),
        working_media_type: p.working_media_type.map(str::to_string),
        working_sha256: p.working_sha256.map(hex::encode),
        width: p.width.map(i64::from),
        height: p.height.map(i64::from),
        created_at: at,
        key_id: keys.identity.key_id(),
        working_key_id: keys.sanitized.key_id(),
        original,
        working,
    })
}
