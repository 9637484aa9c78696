//! Retention on a case (issue 19): where it stands, and legal holds (supervisors).

use actix_web::{web, HttpResponse};

use super::cases::case_endpoint;
use super::{json, AppState};
use crate::error::AppResult;
use crate::staff::principal::Principal;
use crate::workflow::retention::{self, holds};

/// The case's retention: when it ended, its purge days under the policy in force, what was
/// purged, its legal holds.
#[utoipa::path(get, path = "/api/v1/cases/{id}/retention", tag = "cases",
    responses((status = 200, body = retention::Standing), (status = 401), (status = 403), (status = 404)))]
pub async fn case_retention(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(retention::standing_for(&state.workflow, &p, &id).await?))
}

case_endpoint!(
    "cases",
    place_hold,
    "/api/v1/cases/{id}/legal-hold",
    holds::HoldRequest,
    holds::place
);
case_endpoint!(
    "cases",
    lift_hold,
    "/api/v1/cases/{id}/legal-hold/lift",
    holds::HoldRequest,
    holds::lift
);

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(case_retention, place_hold, lift_hold),
    components(schemas(
        retention::Standing,
        retention::Purged,
        holds::Hold,
        holds::HoldRequest
    ))
)]
pub struct RetentionDoc;
