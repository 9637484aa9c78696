//! Bot callbacks (CONTRACT §4): `GET|POST /bots/wechat/{account}` and
//! `GET|POST /bots/wecom/{account}`. The protocol (signatures, crypto, XML) lives in
//! [`crate::wechat`]; the conversation in [`crate::channels::wechat`].
//!
//! Order of checks: unknown account → 404; missing or wrong signature → 401 before the body
//! is decrypted or parsed (in safe mode `msg_signature` always, over the `Encrypt` text);
//! an undecryptable or unparseable body → 400. Nothing is stored for a refused request.
//! The query string carries the user's openid and is never logged.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use rand::Rng;

use super::AppState;
use crate::channels::wechat::{Account, Platform, MAX_BODY_BYTES};
use crate::error::{AppError, AppResult};
use crate::intake::Intake;
use crate::wechat::crypto::{signature, verify_signature, MsgCrypt};
use crate::wechat::xml::{encrypted_envelope, parse_envelope, reply_text, Inbound};

impl AsRef<Intake> for AppState {
    fn as_ref(&self) -> &Intake {
        &self.intake
    }
}

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

fn account<'a>(
    state: &'a AppState,
    platform: Platform,
    req: &HttpRequest,
) -> AppResult<&'a Account> {
    let name = req.match_info().query("account");
    state
        .bots
        .account(platform, name)
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "not_found", "error-route-not-found"))
}

fn unauthorized() -> AppError {
    AppError::new(
        StatusCode::UNAUTHORIZED,
        "bad_signature",
        "error-bot-signature",
    )
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

async fn read_body(mut payload: web::Payload) -> AppResult<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| bad_message())?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(AppError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "error-payload-too-large",
            )
            .arg("max", crate::error::human_bytes(MAX_BODY_BYTES as u64)));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `GET /bots/wechat/{account}`: the server-URL check; echo `echostr` when signed.
async fn wechat_check(req: HttpRequest, state: web::Data<AppState>) -> AppResult<HttpResponse> {
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
async fn wecom_check(req: HttpRequest, state: web::Data<AppState>) -> AppResult<HttpResponse> {
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
async fn wechat_push(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let a = account(&state, Platform::Wechat, &req)?;
    let q = query(&req)?;
    let safe = param(&q, "encrypt_type").eq_ignore_ascii_case("aes");
    let body = read_body(payload).await?;
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
async fn wecom_push(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let a = account(&state, Platform::Wecom, &req)?;
    let q = query(&req)?;
    let body = read_body(payload).await?;
    let crypt = a.crypt.as_ref().ok_or_else(bad_message)?;
    let xml = open_envelope(a, crypt, &q, &body)?;
    respond(&state, a, Some(crypt), &xml).await
}

async fn respond(
    state: &web::Data<AppState>,
    a: &Account,
    crypt: Option<&MsgCrypt>,
    xml: &[u8],
) -> AppResult<HttpResponse> {
    let m = Inbound::parse(xml, MAX_BODY_BYTES).map_err(|_| bad_message())?;
    let (to, from) = (m.from_user.clone(), m.to_user.clone());
    let host: Arc<AppState> = state.clone().into_inner();
    let reply = state.bots.handle(host, a, m).await;
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
