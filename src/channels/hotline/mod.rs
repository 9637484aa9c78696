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
//! * **Recording:** fetched by an outbox job ([`RecordingJob`]) through a client that
//!   resolves the host itself and refuses non-public addresses unless the host is listed in
//!   the source's `allow_recording_hosts`; no redirects, no proxy, size and time limits.
//! * **Feedback:** [`CallbackSender`] is the `hotline` feedback sender: a signed POST of
//!   `{call_id, status, text, at}` to the source's `callback_url`, retried by the outbox.

mod address;
mod callback;
mod http;
mod order;
mod recording;
mod signature;
#[cfg(test)]
mod tests;

pub use address::*;
pub use callback::*;
pub use http::*;
pub use order::*;
pub use recording::*;
pub use signature::*;

/// The bridge in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(http::tickets),
    tags((name = "hotline", description = "The 12393 / 12345 call-centre bridge (CONTRACT §5)")))]
pub struct HotlineDoc;

/// The bridge's route (CONTRACT §5).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/bridges/hotline/{source}/tickets",
        web::post().to(http::tickets),
    );
}

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::future::BoxFuture;
use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{Config, HotlineSource};
use crate::domain::{bounded_text, Channel};
use crate::error::{request_locale, AppError, AppResult};
use crate::evidence::{self, Limits};
use crate::i18n::Locale;
use crate::intake::parse::{parse_json, to_new_tip, RawReport, RawReporter, RawTarget};
use crate::intake::{IdempotencyKey, NewTip, Submitted, TipExtra};
use crate::notify::worker::JobError;
use crate::notify::{self, Claimed, FailCode, NewJob};
use crate::store::{self, Db, Tx};
use crate::vault::{Identity, IdentityField, Vault};
use crate::workflow::feedback::{Delivery, Notice, Sender};

/// Outbox job kind that fetches a call's recording.
/// How far the signed timestamp may be from our clock, either way.
pub const MAX_SKEW_SECS: i64 = 300;
/// Whole-request limit for a recording download (below the outbox lease of 60 s).
const RECORDING_TIMEOUT: Duration = Duration::from_secs(45);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const CALLBACK_TIMEOUT: Duration = Duration::from_secs(10);

type HmacSha256 = Hmac<Sha256>;
