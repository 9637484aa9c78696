//! `POST /bridges/hotline/{source}/tickets`: the body read with a limit, the signature, the answer.

#[allow(unused_imports)]
use super::*;

pub(super) fn invalid_signature() -> AppError {
    AppError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_signature",
        "error-hotline-signature",
    )
}

pub(super) async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    max: usize,
) -> AppResult<Vec<u8>> {
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
