//! Typical cases (典型案例曝光) for staff: draft from a decided case, legal review, a
//! supervisor's approval that publishes, withdrawal (`workflow::typical`).

use actix_web::{web, HttpResponse};

use super::{json, AppState};
use crate::error::AppResult;
use crate::staff::principal::Principal;
use crate::workflow::typical::{self, DraftRequest, ReviewRequest, StepRequest};

/// A `POST` step that reads `$req` and answers with what `$call` (which may use `state`,
/// `p`, `id` and `req`) returns.
macro_rules! step {
    ($name:ident, $path:literal, $req:ty, |$state:ident, $p:ident, $id:ident, $r:ident| $call:expr) => {
        #[utoipa::path(post, path = $path, tag = "typical-cases", request_body = $req,
            responses((status = 200), (status = 403), (status = 404), (status = 409), (status = 422)))]
        pub async fn $name(
            $state: web::Data<AppState>,
            $p: Principal,
            $id: web::Path<String>,
            body: web::Bytes,
        ) -> AppResult<HttpResponse> {
            let $r: $req = json(&body)?;
            Ok(HttpResponse::Ok().json($call.await?))
        }
    };
}

step!(
    typical_draft,
    "/api/v1/cases/{id}/typical-cases",
    DraftRequest,
    |state, p, id, req| { typical::draft(&state.workflow, &state.vault, &p, &id, req) }
);
step!(
    typical_review,
    "/api/v1/typical-cases/{id}/legal-review",
    ReviewRequest,
    |state, p, id, req| { typical::review(&state.workflow, &state.vault, &p, &id, req) }
);
step!(
    typical_approve,
    "/api/v1/typical-cases/{id}/approve",
    StepRequest,
    |state, p, id, req| { typical::approve(&state.workflow, &state.vault, &p, &id, req) }
);
step!(
    typical_withdraw,
    "/api/v1/typical-cases/{id}/withdraw",
    StepRequest,
    |state, p, id, req| { typical::withdraw(&state.workflow, &p, &id, req) }
);

#[utoipa::path(get, path = "/api/v1/typical-cases", tag = "typical-cases",
    responses((status = 200, body = [typical::TypicalCase])))]
pub async fn typical_list(state: web::Data<AppState>, p: Principal) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(typical::list(&state.workflow, &p).await?))
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(typical_draft, typical_list, typical_review, typical_approve, typical_withdraw),
    components(schemas(typical::TypicalCase, typical::PublicTypicalCase, DraftRequest, ReviewRequest, StepRequest)),
    tags((name = "typical-cases", description = "典型案例: draft, legal review, approval, withdrawal"))
)]
pub struct TypicalDoc;
