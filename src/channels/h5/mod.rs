//! The H5 channel (CONTRACT §3): the citizen's API behind the mobile page under `/h5/`
//! (the page itself is a static file the web layer serves). File a tip (JSON or multipart
//! with evidence), look it up with the tracking code and passcode, add information, claim a
//! notified reward. The code-and-passcode check and the reporter's view are
//! [`crate::intake::followup`], which the bot's look-up shares.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::body::client_address;
use super::upload::{open_body, process_files, read_body, read_json, UploadedFile};
use super::State;
use crate::domain::Channel;
use crate::error::{request_locale, AppError, AppResult};
use crate::i18n::Locale;
use crate::intake::followup::{Authenticated, LookupLimits};
use crate::intake::limits::FilingLimits;
use crate::intake::parse::{parse_json, to_new_tip, RawReport};
use crate::intake::{IdempotencyKey, Submitted};
use crate::rewards::flow::{self as reward, reporter_view};

/// The citizen routes in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(create, lookup, add_message, claim, change_passcode),
    tags((name = "citizen", description = "The reporter's API behind the H5 page (CONTRACT §3); no login")))]
pub struct H5Doc;

/// The citizen routes, mounted under `/api/v1`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/reports", web::post().to(create))
        .route("/reports/lookup", web::post().to(lookup))
        .route("/reports/messages", web::post().to(add_message))
        .route("/reports/reward/claim", web::post().to(claim))
        .route("/reports/passcode", web::post().to(change_passcode));
}

/// `POST /api/v1/reports` — JSON, or multipart with `report` and `evidence` parts.
#[utoipa::path(post, path = "/api/v1/reports", tag = "citizen",
    request_body(content = Object, description = "CONTRACT §3 report JSON (`application/json`), or `multipart/form-data` with a `report` part holding it and up to `[evidence] max_files` `evidence` files. Header `Idempotency-Key` (optional) makes a retry answer with the first receipt.",
        content_type = "application/json"),
    responses((status = 201, body = Object, description = "The receipt: tracking code, passcode (shown only here), status, received_at, accept_by"),
        (status = 400, description = "Not JSON, or a broken form"),
        (status = 413, description = "Body, file or file count over the limit"),
        (status = 415, description = "Neither JSON nor multipart, or a file type not accepted"),
        (status = 422, description = "A field failed validation (named in `field`)"),
        (status = 429, description = "Too many tips from this client address in `[intake] filing_window_minutes`; `Retry-After` says when to try again, nothing was stored")))]
pub async fn create(
    req: HttpRequest,
    payload: web::Payload,
    state: State,
) -> AppResult<HttpResponse> {
    let fallback = request_locale();
    let client = client_address(&req, &state.config().server);
    let limits = FilingLimits::of(&state.config().intake);
    let raw_key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    // A client already over the limit is refused before its body is read.
    state
        .intake()
        .admit_filing(&client, "h5", raw_key, limits)
        .await?;
    let body = read_body(&req, payload, &state, &["report"]).await?;
    let (raw, locale) = parse_json::<RawReport>(&body.json, fallback)?;
    let mut tip = to_new_tip(raw, locale, state.intake().today())?;
    tip.client_digest = Some(state.intake().client_digest(&client));
    let idem = idempotency_key(&req, "h5", &body.json, &body.files)?;
    let evidence = process_files(body.files, &state, locale).await?;
    // Counted by the writer as it stores the tip; nothing is stored when refused.
    tip.quota = Some(state.intake().filing_quota(&client, limits));
    match state
        .intake()
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
    files: &[UploadedFile],
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasscodeRequest {
    pub tracking_code: String,
    pub passcode: String,
    pub new_passcode: String,
    #[serde(default)]
    pub locale: Option<String>,
}

/// The reporter behind a tracking code and passcode, under the look-up rate limits.
async fn reporter(
    req: &HttpRequest,
    state: &State,
    code: &str,
    passcode: &str,
) -> AppResult<Authenticated> {
    let client = client_address(req, &state.config().server);
    let limits = LookupLimits::of(&state.config().intake);
    state
        .intake()
        .authenticate(code, passcode, &client, limits)
        .await
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
#[utoipa::path(post, path = "/api/v1/reports/lookup", tag = "citizen",
    request_body(content = Object, description = "`{ tracking_code, passcode }`"),
    responses((status = 200, body = Object, description = "Status, plain-language timeline, messages, reward"),
        (status = 400), (status = 404, description = "Wrong code or passcode (the same answer for both)"),
        (status = 413), (status = 415), (status = 422), (status = 429, description = "Too many failed look-ups")))]
pub async fn lookup(
    req: HttpRequest,
    payload: web::Payload,
    state: State,
) -> AppResult<HttpResponse> {
    let body = read_json(&req, payload, &state).await?;
    let (r, _) = parse_json::<LookupRequest>(&body, request_locale())?;
    let who = reporter(&req, &state, &r.tracking_code, &r.passcode).await?;
    let mut view = state
        .intake()
        .view(&who, answer_locale(&req, who.locale))
        .await?;
    view.reward = reporter_view(state.db(), &who.report_id).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// `POST /api/v1/reports/messages` — JSON, or multipart with a `message` part (the same
/// JSON) and `evidence` parts.
#[utoipa::path(post, path = "/api/v1/reports/messages", tag = "citizen",
    request_body(content = Object, description = "`{ tracking_code, passcode, body }`, or multipart with a `message` part holding it and `evidence` files"),
    responses((status = 201, body = Object, description = "The reporter's view, with the new message"),
        (status = 400), (status = 404), (status = 409, description = "The case is closed"),
        (status = 413), (status = 415), (status = 422), (status = 429)))]
pub async fn add_message(
    req: HttpRequest,
    payload: web::Payload,
    state: State,
) -> AppResult<HttpResponse> {
    // The code and passcode are checked before any file after the JSON part is read.
    let (json, mut rest) = open_body(&req, payload, &state, &["message", "report"]).await?;
    let (r, _) = parse_json::<MessageRequest>(&json, request_locale())?;
    let who = reporter(&req, &state, &r.tracking_code, &r.passcode).await?;
    let locale = answer_locale(&req, who.locale);
    let evidence = process_files(rest.files().await?, &state, locale).await?;
    state
        .intake()
        .add_message(&who, &r.body, evidence, locale)
        .await?;
    let mut view = state.intake().view(&who, locale).await?;
    view.reward = reporter_view(state.db(), &who.report_id).await?;
    Ok(HttpResponse::Created().json(view))
}

/// `POST /api/v1/reports/reward/claim` — the reporter claims a notified reward with the
/// tracking code and passcode (rate-limited like the look-up).
#[utoipa::path(post, path = "/api/v1/reports/reward/claim", tag = "citizen",
    request_body(content = Object, description = "`{ tracking_code, passcode, method, bank_account?, id_last6?, locale? }`"),
    responses((status = 200, body = Object, description = "The claim as recorded"),
        (status = 400), (status = 404), (status = 409, description = "No notified reward to claim, or already claimed"),
        (status = 413), (status = 415), (status = 422), (status = 429)))]
pub async fn claim(
    req: HttpRequest,
    payload: web::Payload,
    state: State,
) -> AppResult<HttpResponse> {
    let body = read_json(&req, payload, &state).await?;
    let (r, locale) = parse_json::<reward::ClaimRequest>(&body, request_locale())?;
    let who = reporter(&req, &state, &r.tracking_code, &r.passcode).await?;
    let locale = r
        .locale
        .as_deref()
        .and_then(Locale::parse)
        .unwrap_or(locale);
    let done = reward::claim(state.workflow(), state.vault(), &who.report_id, &r, locale).await?;
    Ok(HttpResponse::Ok().json(done))
}

/// `POST /api/v1/reports/passcode` — the reporter replaces their passcode with one of their
/// own (the status page offers it, and asks for it when staff or a call centre recorded the
/// tip). The old passcode stops working at once.
#[utoipa::path(post, path = "/api/v1/reports/passcode", tag = "citizen",
    request_body(content = Object, description = "`{ tracking_code, passcode, new_passcode, locale? }`: the current passcode, and the new one (10–64 visible characters; spaces and dashes are dropped)"),
    responses((status = 200, body = Object, description = "`{ \"changed\": true }`"),
        (status = 400), (status = 404, description = "Wrong code or passcode (the same answer for both)"),
        (status = 413), (status = 415), (status = 422, description = "The new passcode is too short, too long or holds characters that are not allowed"),
        (status = 429, description = "Too many failed look-ups")))]
pub async fn change_passcode(
    req: HttpRequest,
    payload: web::Payload,
    state: State,
) -> AppResult<HttpResponse> {
    let body = read_json(&req, payload, &state).await?;
    let (r, locale) = parse_json::<PasscodeRequest>(&body, request_locale())?;
    let who = reporter(&req, &state, &r.tracking_code, &r.passcode).await?;
    let locale = r
        .locale
        .as_deref()
        .and_then(Locale::parse)
        .unwrap_or(locale);
    state
        .intake()
        .change_passcode(&who, &r.new_passcode, locale)
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "changed": true })))
}
