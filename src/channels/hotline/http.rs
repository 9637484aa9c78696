//! `POST /bridges/hotline/{source}/tickets`: the body read with a limit, the signature, the answer.

#[allow(unused_imports)]
use super::*;
use crate::error::Kind;

pub(super) fn invalid_signature() -> AppError {
    AppError::new(
        Kind::Unauthorized,
        "invalid_signature",
        "error-hotline-signature",
    )
}

/// The answer for the agent (CONTRACT §5), with the acceptance date to read to the caller
/// and, when that date is provisional, a sentence saying so in plain words.
pub(super) fn answer(
    status: StatusCode,
    body: &serde_json::Value,
    duplicate: bool,
) -> HttpResponse {
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

/// `POST /bridges/hotline/{source}/tickets` (CONTRACT §5).
#[utoipa::path(post, path = "/bridges/hotline/{source}/tickets", tag = "hotline",
    params(("source" = String, Path, description = "The call centre, as configured in `[[hotline]] source`"),
        ("X-Jubao-Timestamp" = String, Header, description = "Unix seconds"),
        ("X-Jubao-Signature" = String, Header, description = "Lower-case hex HMAC-SHA256 of `{timestamp}.{raw body}` with the source's secret")),
    request_body(content = Object, description = "The work order (CONTRACT §5; optional `claim_verifier` and `notify_by`, docs/hotline.md §2)"),
    responses((status = 201, body = Object, description = "`{ tracking_code, passcode, duplicate: false, accept_by, … }`"),
        (status = 200, body = Object, description = "The same call again: the first receipt, `duplicate: true`"),
        (status = 400), (status = 401, description = "Wrong signature or timestamp more than 300 s away"),
        (status = 404, description = "Unknown source"), (status = 413), (status = 422)))]
pub async fn tickets(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: crate::channels::State,
) -> AppResult<HttpResponse> {
    let (config, intake) = (state.config(), state.intake());
    let name = path.into_inner();
    let Some(source) = config.hotline.iter().find(|h| h.source == name) else {
        return Err(AppError::new(
            Kind::NotFound,
            "unknown_source",
            "error-hotline-unknown-source",
        ));
    };
    let max = u64::from(config.intake.max_json_bytes);
    let body = crate::channels::body::read_request(&req, payload, max, || {
        AppError::bad_request("invalid_json", "error-invalid-json")
    })
    .await?;
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
