//! Typical cases (典型案例曝光) for staff: draft from a decided case, legal review, a
//! supervisor's approval that publishes, withdrawal (`workflow::typical`).

use actix_web::{web, HttpResponse};

use super::{json, AppState};
use crate::error::AppResult;
use crate::staff::principal::Principal;
use crate::workflow::typical::{self, DraftRequest, ReviewRequest, StepRequest};

#[utoipa::path(post, path = "/api/v1/cases/{id}/typical-cases", tag = "typical-cases",
    request_body = DraftRequest,
    responses((status = 200), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn draft(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let req: DraftRequest = json(&body)?;
    Ok(HttpResponse::Ok().json(typical::draft(&state.workflow, &state.vault, &p, &id, req).await?))
}

#[utoipa::path(get, path = "/api/v1/typical-cases", tag = "typical-cases",
    responses((status = 200, body = [typical::TypicalCase])))]
pub async fn list(state: web::Data<AppState>, p: Principal) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(typical::list(&state.workflow, &p).await?))
}

#[utoipa::path(post, path = "/api/v1/typical-cases/{id}/legal-review", tag = "typical-cases",
    request_body = ReviewRequest,
    responses((status = 200), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn review(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let req: ReviewRequest = json(&body)?;
    Ok(HttpResponse::Ok().json(typical::review(&state.workflow, &state.vault, &p, &id, req).await?))
}

#[utoipa::path(post, path = "/api/v1/typical-cases/{id}/approve", tag = "typical-cases",
    request_body = StepRequest,
    responses((status = 200), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn approve(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let req: StepRequest = json(&body)?;
    Ok(HttpResponse::Ok().json(typical::approve(&state.workflow, &state.vault, &p, &id, req).await?))
}

#[utoipa::path(post, path = "/api/v1/typical-cases/{id}/withdraw", tag = "typical-cases",
    request_body = StepRequest,
    responses((status = 200), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn withdraw(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let req: StepRequest = json(&body)?;
    Ok(HttpResponse::Ok().json(typical::withdraw(&state.workflow, &p, &id, req).await?))
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(draft, list, review, approve, withdraw),
    components(schemas(typical::TypicalCase, typical::PublicTypicalCase, DraftRequest, ReviewRequest, StepRequest)),
    tags((name = "typical-cases", description = "典型案例: draft, legal review, approval, withdrawal"))
)]
pub struct TypicalDoc;
