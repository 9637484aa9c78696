//! Bot callbacks (CONTRACT §4): `GET|POST /bots/wechat/{account}` and
//! `GET|POST /bots/wecom/{account}`. The protocol (signatures, crypto, XML) lives in
//! [`crate::wechat`]; the conversation in [`super::Bots`].
//!
//! Order of checks: unknown account → 404; missing or wrong signature → 401 before the body
//! is decrypted or parsed (in safe mode `msg_signature` always, over the `Encrypt` text);
//! an undecryptable or unparseable body → 400. Nothing is stored for a refused request.
//! The query string carries the user's openid and is never logged.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use rand::Rng;

use super::{Account, Platform, MAX_BODY_BYTES};
use crate::channels::State;
use crate::error::{AppError, AppResult, Kind};
use crate::wechat::crypto::{signature, verify_signature, MsgCrypt};
use crate::wechat::xml::{encrypted_envelope, parse_envelope, reply_text, Inbound};

/// The bot callbacks in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(wechat_check, wechat_push, wecom_check, wecom_push),
    tags((name = "bots", description = "WeChat Official Account and WeCom callbacks (CONTRACT §4)")))]
pub struct BotsDoc;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/bots/wechat/{account}", web::get().to(wechat_check))
        .route("/bots/wechat/{account}", web::post().to(wechat_push))
        .route("/bots/wecom/{account}", web::get().to(wecom_check))
        .route("/bots/wecom/{account}", web::post().to(wecom_push));
}

type Query = HashMap<String, String>;

fn query(req: &HttpRequest) -> AppResult<Query> {
    web::Query::<Query>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|_| AppError::bad_request("bad_query", "error-bot-bad-message"))
}

fn param<'a>(q: &'a Query, name: &str) -> &'a str {
    q.get(name).map(String::as_str).unwrap_or("")
}

fn account<'a>(state: &'a State, platform: Platform, req: &HttpRequest) -> AppResult<&'a Account> {
    let name = req.match_info().query("account");
    state
        .bots()
        .account(platform, name)
        .ok_or_else(|| AppError::new(Kind::NotFound, "not_found", "error-route-not-found"))
}

fn unauthorized() -> AppError {
    AppError::new(Kind::Unauthorized, "bad_signature", "error-bot-signature")
}

fn bad_message() -> AppError {
    AppError::bad_request("bad_message", "error-bot-bad-message")
}

fn text(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

async fn read_body(req: &HttpRequest, payload: web::Payload) -> AppResult<Vec<u8>> {
    crate::channels::body::read_request(req, payload, MAX_BODY_BYTES as u64, bad_message).await
}

/// How far a plaintext push's `timestamp` may be from now.
pub const MAX_SKEW_SECS: i64 = 300;

/// A plaintext push is signed over `timestamp` and `nonce` only (not the body), so a
/// captured URL could be replayed with any body: refuse one whose timestamp is more than
/// [`MAX_SKEW_SECS`] away, and one whose timestamp and nonce were seen before, on any
/// instance (a shared counter keyed by a digest of account, timestamp and nonce).
async fn fresh_once(state: &State, a: &Account, q: &Query) -> AppResult<()> {
    let now = chrono::Utc::now();
    let ts = param(q, "timestamp")
        .parse::<i64>()
        .ok()
        .filter(|t| (t - now.timestamp()).abs() <= MAX_SKEW_SECS)
        .ok_or_else(unauthorized)?;
    let at = chrono::DateTime::from_timestamp(ts, 0).ok_or_else(unauthorized)?;
    let bucket = format!(
        "wn:{}",
        hex::encode(state.vault().request_digest(&[
            b"bot-nonce",
            a.name.as_bytes(),
            param(q, "timestamp").as_bytes(),
            param(q, "nonce").as_bytes(),
        ]))
    );
    // The window is counted from the push's own timestamp, so a replay lands in it.
    let seen = crate::store::ratelimit::hit(state.db(), &bucket, 3600, at).await?;
    if seen > 1 {
        tracing::warn!(account = %a.name, "plaintext push replayed: refused");
        return Err(unauthorized());
    }
    Ok(())
}

/// `GET /bots/wechat/{account}`: the server-URL check; echo `echostr` when signed.
#[utoipa::path(get, path = "/bots/wechat/{account}", tag = "bots",
    params(("account" = String, Path, description = "The account name of `[[wechat]] account`"),
        ("timestamp" = Option<String>, Query), ("nonce" = Option<String>, Query),
        ("signature" = Option<String>, Query), ("echostr" = Option<String>, Query)),
    responses((status = 200, body = String, content_type = "text/plain", description = "`echostr`, when signed"), (status = 400), (status = 401, description = "Bad signature"), (status = 404, description = "Unknown account")))]
async fn wechat_check(req: HttpRequest, state: State) -> AppResult<HttpResponse> {
    let a = account(&state, Platform::Wechat, &req)?;
    let q = query(&req)?;
    let (sig, ts, nonce) = (
        param(&q, "signature"),
        param(&q, "timestamp"),
        param(&q, "nonce"),
    );
    if sig.is_empty() || !verify_signature(sig, &a.token, ts, nonce, None) {
        return Err(unauthorized());
    }
    Ok(text(param(&q, "echostr").to_string()))
}

/// `GET /bots/wecom/{account}`: verify over the encrypted `echostr`, answer its plaintext.
#[utoipa::path(get, path = "/bots/wecom/{account}", tag = "bots",
    params(("account" = String, Path, description = "The account name of `[[wecom]] account`"),
        ("timestamp" = Option<String>, Query), ("nonce" = Option<String>, Query),
        ("msg_signature" = Option<String>, Query), ("echostr" = Option<String>, Query)),
    responses((status = 200, body = String, content_type = "text/plain", description = "The decrypted `echostr`"), (status = 400), (status = 401), (status = 404)))]
async fn wecom_check(req: HttpRequest, state: State) -> AppResult<HttpResponse> {
    let a = account(&state, Platform::Wecom, &req)?;
    let q = query(&req)?;
    let (sig, ts, nonce, echo) = (
        param(&q, "msg_signature"),
        param(&q, "timestamp"),
        param(&q, "nonce"),
        param(&q, "echostr"),
    );
    if sig.is_empty() || echo.is_empty() || !verify_signature(sig, &a.token, ts, nonce, Some(echo))
    {
        return Err(unauthorized());
    }
    let crypt = a.crypt.as_ref().ok_or_else(bad_message)?;
    let plain = crypt.decrypt(echo).map_err(|_| bad_message())?;
    Ok(text(plain))
}

/// Decrypt the `Encrypt` of an envelope after checking `msg_signature` over it.
fn open_envelope(a: &Account, crypt: &MsgCrypt, q: &Query, body: &[u8]) -> AppResult<Vec<u8>> {
    let sig = param(q, "msg_signature");
    if sig.is_empty() {
        return Err(unauthorized());
    }
    let env = parse_envelope(body, MAX_BODY_BYTES).map_err(|_| bad_message())?;
    if !verify_signature(
        sig,
        &a.token,
        param(q, "timestamp"),
        param(q, "nonce"),
        Some(&env.encrypt),
    ) {
        return Err(unauthorized());
    }
    crypt
        .decrypt(&env.encrypt)
        .map(String::into_bytes)
        .map_err(|_| bad_message())
}

/// `POST /bots/wechat/{account}`: a push, plaintext or safe mode.
#[utoipa::path(post, path = "/bots/wechat/{account}", tag = "bots",
    params(("account" = String, Path, description = "The account name of `[[wechat]] account`"),
        ("timestamp" = Option<String>, Query), ("nonce" = Option<String>, Query),
        ("signature" = Option<String>, Query), ("msg_signature" = Option<String>, Query), ("encrypt_type" = Option<String>, Query), ("openid" = Option<String>, Query)),
    request_body(content = String, content_type = "application/xml", description = "The platform's XML push"),
    responses((status = 200, body = String, content_type = "application/xml", description = "The reply (or `success`), within 5 s"), (status = 400), (status = 401), (status = 404), (status = 413)))]
async fn wechat_push(
    req: HttpRequest,
    payload: web::Payload,
    state: State,
) -> AppResult<HttpResponse> {
    let a = account(&state, Platform::Wechat, &req)?;
    let q = query(&req)?;
    let safe = param(&q, "encrypt_type").eq_ignore_ascii_case("aes");
    let body = read_body(&req, payload).await?;
    let (xml, crypt) = match (&a.crypt, safe) {
        (Some(crypt), true) => (open_envelope(a, crypt, &q, &body)?, Some(crypt)),
        (None, false) => {
            let sig = param(&q, "signature");
            if sig.is_empty()
                || !verify_signature(
                    sig,
                    &a.token,
                    param(&q, "timestamp"),
                    param(&q, "nonce"),
                    None,
                )
            {
                return Err(unauthorized());
            }
            fresh_once(&state, a, &q).await?;
            (body, None)
        }
        // An account with an EncodingAESKey takes only encrypted pushes: the plain
        // `signature` does not cover the body, so a plaintext push could be forged by
        // replaying any signed URL.
        (Some(_), false) => {
            return Err(AppError::bad_request(
                "safe_mode_required",
                "error-bot-mode",
            ))
        }
        (None, true) => return Err(bad_message()),
    };
    respond(&state, a, crypt, &xml).await
}

/// `POST /bots/wecom/{account}`: an encrypted push.
#[utoipa::path(post, path = "/bots/wecom/{account}", tag = "bots",
    params(("account" = String, Path, description = "The account name of `[[wecom]] account`"),
        ("timestamp" = Option<String>, Query), ("nonce" = Option<String>, Query),
        ("msg_signature" = Option<String>, Query)),
    request_body(content = String, content_type = "application/xml", description = "The platform's XML push"),
    responses((status = 200, body = String, content_type = "application/xml", description = "The encrypted reply (or `success`), within 5 s"), (status = 400), (status = 401), (status = 404), (status = 413)))]
async fn wecom_push(
    req: HttpRequest,
    payload: web::Payload,
    state: State,
) -> AppResult<HttpResponse> {
    let a = account(&state, Platform::Wecom, &req)?;
    let q = query(&req)?;
    let body = read_body(&req, payload).await?;
    let crypt = a.crypt.as_ref().ok_or_else(bad_message)?;
    let xml = open_envelope(a, crypt, &q, &body)?;
    respond(&state, a, Some(crypt), &xml).await
}

async fn respond(
    state: &State,
    a: &Account,
    crypt: Option<&MsgCrypt>,
    xml: &[u8],
) -> AppResult<HttpResponse> {
    let m = Inbound::parse(xml, MAX_BODY_BYTES).map_err(|_| bad_message())?;
    let (to, from) = (m.from_user.clone(), m.to_user.clone());
    let reply = state.bots().handle(state.clone().into_inner(), a, m).await;
    let Some(reply) = reply.filter(|r| !r.is_empty()) else {
        return Ok(text("success".into()));
    };
    let now = chrono::Utc::now().timestamp();
    let xml = reply_text(&to, &from, now, &reply);
    let body = match crypt {
        None => xml,
        Some(crypt) => {
            let ts = now.to_string();
            let nonce = rand::thread_rng()
                .gen_range(100_000_000u64..10_000_000_000)
                .to_string();
            let enc = crypt.encrypt(&xml);
            let sig = signature(&a.token, &ts, &nonce, Some(&enc));
            encrypted_envelope(&enc, &sig, &ts, &nonce)
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/xml; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}
