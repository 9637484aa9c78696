//! Cases: the inbox, the overdue board, a case, its evidence, transitions and the other case
//! operations, and identity requests.

#[allow(unused_imports)]
use super::*;

#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(query::InboxQuery),
    responses((status = 200, body = [query::CaseSummary])))]
pub async fn inbox(
    state: web::Data<AppState>,
    p: Principal,
    q: web::Query<query::InboxQuery>,
) -> AppResult<HttpResponse> {
    match query::inbox(&state.workflow, &p, &q).await {
        Ok(v) => Ok(HttpResponse::Ok().json(v)),
        Err(e) if e.kind == crate::error::Kind::Forbidden => {
            Err(refuse(&state, &p, "case.list", e).await)
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Limit {
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/cases/overdue", tag = "cases", responses((status = 200, body = [query::OverdueItem])))]
pub async fn overdue(
    state: web::Data<AppState>,
    p: Principal,
    q: web::Query<Limit>,
) -> AppResult<HttpResponse> {
    match query::overdue(&state.workflow, &p, q.limit.unwrap_or(200)).await {
        Ok(v) => Ok(HttpResponse::Ok().json(v)),
        Err(e) if e.kind == crate::error::Kind::Forbidden => {
            Err(refuse(&state, &p, "case.overdue", e).await)
        }
        Err(e) => Err(e),
    }
}

/// Notices to reporters that have waited longer than the feedback deadline (nothing could
/// carry them: a chat outside WeChat's 48-hour window with no template, an unfollowed
/// account), in the caller's region.
#[utoipa::path(get, path = "/api/v1/notices/waiting", tag = "cases", responses((status = 200, body = [crate::workflow::notices::WaitingNotice]), (status = 403)))]
pub async fn waiting_notices(state: web::Data<AppState>, p: Principal) -> AppResult<HttpResponse> {
    match crate::workflow::notices::waiting_too_long(&state.workflow, &p).await {
        Ok(v) => Ok(HttpResponse::Ok().json(v)),
        Err(e) if e.kind == crate::error::Kind::Forbidden => {
            Err(refuse(&state, &p, "notice.waiting", e).await)
        }
        Err(e) => Err(e),
    }
}

#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", responses((status = 200, body = query::CaseDetail), (status = 403), (status = 404)))]
pub async fn case_detail(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(query::detail(&state.workflow, &state.vault, &p, &id).await?))
}

/// The tips linked to this one (same target, same reporter, similar facts) that the caller
/// may see, the strongest link first (CONTRACT §8; docs/related.md).
#[utoipa::path(get, path = "/api/v1/cases/{id}/related", tag = "cases",
    responses((status = 200, body = [crate::workflow::related::RelatedTip]), (status = 403), (status = 404)))]
pub async fn related(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(crate::workflow::related::related(&state.workflow, &p, &id).await?))
}

/// Supervisors: the institutions of their region that several distinct reporters named in
/// a period, with counts by channel (issue 18). How many reporters, never who.
#[utoipa::path(get, path = "/api/v1/targets/independent-reporters", tag = "cases",
    params(crate::workflow::targets::TargetsQuery),
    responses((status = 200, body = [crate::workflow::targets::TargetReporters])))]
pub async fn independent_reporters(
    state: web::Data<AppState>,
    p: Principal,
    q: web::Query<crate::workflow::targets::TargetsQuery>,
) -> AppResult<HttpResponse> {
    match crate::workflow::targets::independent(&state.workflow, &p, &q).await {
        Ok(v) => Ok(HttpResponse::Ok().json(v)),
        Err(e) if e.kind == crate::error::Kind::Forbidden => {
            Err(refuse(&state, &p, "targets.independent", e).await)
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Variant {
    /// `working` (default: the sanitized copy) or `original`, which needs `request`.
    pub variant: Option<String>,
    /// With `variant=original`: the caller's approved request for this file's original
    /// (`POST …/evidence/{evidence_id}/original-requests`).
    pub request: Option<String>,
}

/// The working copy (default) or the original of one evidence file. Evidence that is held
/// sealed (no working copy without metadata could be made) has no working copy: 409
/// `evidence_held_sealed`. The original only through an approved request: 403
/// `original_needs_request` without one; 410 `approval_expired` once it has run out.
#[utoipa::path(get, path = "/api/v1/cases/{id}/evidence/{evidence_id}", tag = "cases", params(Variant),
    responses((status = 200), (status = 403), (status = 404), (status = 409), (status = 410)))]
pub async fn evidence(
    state: web::Data<AppState>,
    p: Principal,
    path: web::Path<(String, String)>,
    q: web::Query<Variant>,
) -> AppResult<HttpResponse> {
    let original = match q.variant.as_deref() {
        Some("original") => Some(q.request.as_deref().unwrap_or_default()),
        None | Some("") | Some("working") => None,
        Some(_) => return Err(AppError::invalid("variant", "error-wrong-type")),
    };
    let (ctype, bytes) = match crate::workflow::originals::evidence_file(
        &state.workflow,
        &state.vault,
        &p,
        &path.0,
        &path.1,
        original,
    )
    .await
    {
        Ok(v) => v,
        // (A refused original is audited where it is refused.)
        Err(e) if e.code == "forbidden" => return Err(refuse(&state, &p, "case.evidence", e).await),
        Err(e) => return Err(e),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, ctype))
        .insert_header((header::CONTENT_DISPOSITION, "inline"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(bytes))
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/transitions", tag = "cases", request_body = ops::TransitionRequest,
    responses((status = 200, body = ops::TransitionDone), (status = 403), (status = 409), (status = 422)))]
pub async fn transition(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let req: ops::TransitionRequest = json(&body)?;
    Ok(HttpResponse::Ok().json(ops::transition(&state.workflow, &p, &id, req).await?))
}

/// A `POST /api/v1/cases/{id}/…` endpoint that reads a JSON request of type `$req` and
/// answers with what the operation `$func` returns; `$tag` groups it in the OpenAPI
/// description. The case endpoints here and the reward endpoints (`web::rewards`) use it.
macro_rules! case_endpoint {
    ($tag:literal, $name:ident, $path:literal, $req:ty, $func:path) => {
        #[utoipa::path(post, path = $path, tag = $tag, request_body = $req,
            responses((status = 200), (status = 403), (status = 404), (status = 409), (status = 422)))]
        pub async fn $name(
            state: web::Data<AppState>,
            p: Principal,
            id: web::Path<String>,
            body: web::Bytes,
        ) -> AppResult<HttpResponse> {
            let req: $req = json(&body)?;
            Ok(HttpResponse::Ok().json($func(&state.workflow, &p, &id, req).await?))
        }
    };
}
pub(crate) use case_endpoint;

case_endpoint!(
    "cases",
    finding,
    "/api/v1/cases/{id}/findings",
    ops::FindingRequest,
    ops::record_finding
);
case_endpoint!(
    "cases",
    party_notice,
    "/api/v1/cases/{id}/party-notice",
    ops::NoteRequest,
    ops::party_notice
);
case_endpoint!(
    "cases",
    statement,
    "/api/v1/cases/{id}/statement",
    ops::NoteRequest,
    ops::record_statement
);
case_endpoint!(
    "cases",
    collective,
    "/api/v1/cases/{id}/collective-decisions",
    ops::CollectiveDecisionRequest,
    ops::collective_decision
);
case_endpoint!(
    "cases",
    legal_review,
    "/api/v1/cases/{id}/legal-review",
    ops::LegalReviewRequest,
    ops::legal_review
);
case_endpoint!(
    "cases",
    major,
    "/api/v1/cases/{id}/major",
    ops::NoteRequest,
    ops::mark_major
);
case_endpoint!(
    "cases",
    request_extension,
    "/api/v1/cases/{id}/extensions",
    ops::ExtensionRequest,
    ops::request_extension
);
case_endpoint!(
    "cases",
    assign,
    "/api/v1/cases/{id}/assignment",
    ops::AssignRequest,
    ops::reassign
);
case_endpoint!(
    "cases",
    message,
    "/api/v1/cases/{id}/messages",
    ops::MessageRequest,
    ops::message
);
case_endpoint!(
    "cases",
    request_identity,
    "/api/v1/cases/{id}/identity-requests",
    reveal::RevealRequest,
    reveal::request
);

#[utoipa::path(post, path = "/api/v1/cases/{id}/extensions/{request_id}/decision", tag = "cases",
    request_body = ops::DecisionRequest, responses((status = 200), (status = 403), (status = 409)))]
pub async fn decide_extension(
    state: web::Data<AppState>,
    p: Principal,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let req: ops::DecisionRequest = json(&body)?;
    Ok(HttpResponse::Ok()
        .json(ops::decide_extension(&state.workflow, &p, &path.0, &path.1, req).await?))
}

/// Ask to open an evidence original (it may identify the reporter): decided by custodians
/// like an identity request, listed with them.
#[utoipa::path(post, path = "/api/v1/cases/{id}/evidence/{evidence_id}/original-requests", tag = "identity",
    request_body = reveal::RevealRequest,
    responses((status = 200, body = reveal::IdentityRequestView), (status = 403), (status = 404), (status = 422)))]
pub async fn request_original(
    state: web::Data<AppState>,
    p: Principal,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let req: reveal::RevealRequest = json(&body)?;
    Ok(HttpResponse::Ok().json(
        crate::workflow::originals::request(&state.workflow, &p, &path.0, &path.1, req).await?,
    ))
}

// ---- identity requests ----

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StateFilter {
    pub state: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/identity-requests", tag = "identity", params(StateFilter),
    responses((status = 200, body = [reveal::IdentityRequestView])))]
pub async fn identity_requests(
    state: web::Data<AppState>,
    p: Principal,
    q: web::Query<StateFilter>,
) -> AppResult<HttpResponse> {
    if p.has(Role::Admin) && p.roles.len() == 1 {
        return Err(refuse(&state, &p, "identity.list", crate::workflow::forbidden()).await);
    }
    Ok(HttpResponse::Ok().json(reveal::list(&state.workflow, &p, q.state.as_deref()).await?))
}

#[utoipa::path(post, path = "/api/v1/identity-requests/{id}/decision", tag = "identity", request_body = reveal::RevealDecision,
    responses((status = 200, body = reveal::IdentityRequestView), (status = 403), (status = 409)))]
pub async fn identity_decision(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let req: reveal::RevealDecision = json(&body)?;
    Ok(HttpResponse::Ok().json(reveal::decide(&state.workflow, &p, &id, req).await?))
}

#[utoipa::path(post, path = "/api/v1/identity-requests/{id}/reveal", tag = "identity",
    responses((status = 200, body = reveal::RevealedIdentity), (status = 403), (status = 409), (status = 410)))]
pub async fn identity_reveal(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(reveal::reveal(&state.workflow, &state.vault, &p, &id).await?))
}
