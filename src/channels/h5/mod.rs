//! Citizen endpoints (CONTRACT §3): file a tip, look it up, add information.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::upload::{process_files, read_body};
use super::{client_address, AppState};
use crate::domain::Channel;
use crate::error::{request_locale, AppError, AppResult};
use crate::i18n::Locale;
use crate::intake::followup::LookupLimits;
use crate::intake::parse::{parse_json, to_new_tip, RawReport};
use crate::intake::{IdempotencyKey, Submitted};

/// `POST /api/v1/reports` — JSON, or multipart with `report` and `evidence` parts.
pub async fn create(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let fallback = request_locale();
    let body = read_body(&req, payload, &state, &["report"]).await?;
    let (raw, locale) = parse_json::<RawReport>(&body.json, fallback)?;
    let tip = to_new_tip(raw, locale, state.intake.today())?;
    let idem = idempotency_key(&req, "h5", &body.json, &body.files)?;
    let evidence = process_files(body.files, &state, locale).await?;
    match state
        .intake
        .submit(Channel::H5, tip, evidence, idem)
        .await?
    {
        Submitted::Created(receipt) => Ok(HttpResponse::Created().json(receipt)),
        Submitted::Replayed { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            Ok(HttpResponse::build(status).json(body))
        }
    }
}

fn idempotency_key(
    req: &HttpRequest,
    scope: &str,
    json: &[u8],
    files: &[super::upload::UploadedFile],
) -> AppResult<Option<IdempotencyKey>> {
    let Some(v) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = v
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200 && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            AppError::bad_request("invalid_idempotency_key", "error-wrong-type")
                .field("Idempotency-Key")
        })?;
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(json);
    for f in files {
        h.update(Sha256::digest(&f.bytes));
    }
    Ok(Some(IdempotencyKey {
        scope: scope.to_string(),
        key: key.to_string(),
        request: h.finalize().to_vec(),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupRequest {
    pub tracking_code: String,
    pub passcode: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    pub tracking_code: String,
    pub passcode: String,
    #[serde(default)]
    pub body: String,
}

fn limits(state: &AppState) -> LookupLimits {
    let c = &state.config.intake;
    LookupLimits {
        per_code: c.lookup_failures_per_code,
        per_client: c.lookup_failures_per_client,
        window_secs: c.lookup_window_secs,
    }
}

/// The locale to answer a reporter in: what the client asks for, else what they filed in.
fn answer_locale(req: &HttpRequest, filed_in: Locale) -> Locale {
    if req
        .headers()
        .contains_key(actix_web::http::header::ACCEPT_LANGUAGE)
    {
        request_locale()
    } else {
        filed_in
    }
}

/// `POST /api/v1/reports/lookup`.
pub async fn lookup(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let body = read_body(&req, payload, &state, &["lookup"]).await?;
    let (r, _) = parse_json::<LookupRequest>(&body.json, request_locale())?;
    let client = client_address(&req, state.config.server.trust_forwarded_for);
    let who = state
        .intake
        .authenticate(&r.tracking_code, &r.passcode, &client, limits(&state))
        .await?;
    let mut view = state
        .intake
        .view(&who, answer_locale(&req, who.locale))
        .await?;
    view.reward = crate::rewards::flow::reporter_view(&state.db.pool, &who.report_id).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// `POST /api/v1/reports/messages` — JSON, or multipart with a `message` part (the same
/// JSON) and `evidence` parts.
pub async fn add_message(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let body = read_body(&req, payload, &state, &["message", "report"]).await?;
    let (r, _) = parse_json::<MessageRequest>(&body.json, request_locale())?;
    let client = client_address(&req, state.config.server.trust_forwarded_for);
    // Authenticate before spending work on files.
    let who = state
        .intake
        .authenticate(&r.tracking_code, &r.passcode, &client, limits(&state))
        .await?;
    let locale = answer_locale(&req, who.locale);
    let evidence = process_files(body.files, &state, locale).await?;
    state
        .intake
        .add_message(&who, &r.body, evidence, locale)
        .await?;
    let mut view = state.intake.view(&who, locale).await?;
    view.reward = crate::rewards::flow::reporter_view(&state.db.pool, &who.report_id).await?;
    Ok(HttpResponse::Created().json(view))
}
