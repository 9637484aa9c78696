//! Admin duties that take two admins (DOMAIN §6): changing a user's roles (the sensitive
//! ones wait for a second admin), deciding pending role grants, and resetting another
//! user's TOTP. The rules are [`crate::staff::duties`] and [`crate::staff::resets`]; this is
//! their HTTP side.

#[allow(unused_imports)]
use super::*;
use crate::staff::duties::{RoleGrant, SecondAdminDecision};
use crate::staff::resets::{self, TotpReset};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolesRequest {
    /// The user's roles from now on. Those left out are taken away at once; new ones that
    /// need a second admin wait in `pending_roles`.
    pub roles: Vec<String>,
}

/// Set another user's roles.
///
/// `admin` cannot be combined with another role (422, field `roles`); one's own roles
/// cannot be changed (403). Supervisor, legal, finance, custodian and auditor are asked
/// for, not given, until a second admin approves.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/roles", tag = "admin", request_body = RolesRequest,
    params(("id" = String, Path, description = "The user's id")),
    responses((status = 200, body = StaffUser), (status = 401), (status = 403), (status = 404), (status = 422)))]
pub async fn set_user_roles(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    require(&state, &p, &[Role::Admin], "user.roles").await?;
    let req: RolesRequest = json(&body)?;
    let roles =
        staff::parse_roles(&req.roles.join(",")).map_err(|m| AppError::invalid("roles", m))?;
    let user = staff::duties::set_roles(&state.db, &state.vault, &p, &id, &roles).await?;
    Ok(HttpResponse::Ok().json(user))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApprovalQuery {
    /// `pending` (the default), `approved`, `refused`, `withdrawn` or `all`.
    pub status: Option<String>,
}

/// Role grants, newest first (pending ones unless `status` says otherwise).
#[utoipa::path(get, path = "/api/v1/admin/role-grants", tag = "admin", params(ApprovalQuery),
    responses((status = 200, body = [RoleGrant]), (status = 401), (status = 403), (status = 422)))]
pub async fn role_grants(
    state: web::Data<AppState>,
    p: Principal,
    q: web::Query<ApprovalQuery>,
) -> AppResult<HttpResponse> {
    require(&state, &p, &[Role::Admin], "role.list").await?;
    let status = staff::duties::parse_status(q.status.as_deref())?;
    Ok(HttpResponse::Ok().json(staff::duties::list_grants(&state.db, status).await?))
}

/// Approve or refuse a pending role grant.
///
/// Only an admin other than the one who asked (403 `own_request` otherwise); refusing
/// takes a reason (422); a grant already decided is a 409.
#[utoipa::path(post, path = "/api/v1/admin/role-grants/{id}/decision", tag = "admin", request_body = SecondAdminDecision,
    params(("id" = i64, Path, description = "The grant's id")),
    responses((status = 200, body = RoleGrant), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn role_grant_decision(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    require(&state, &p, &[Role::Admin], "role.decide").await?;
    let d: SecondAdminDecision = json(&body)?;
    let grant = staff::duties::decide_grant(&state.db, &state.vault, &p, *id, &d).await?;
    Ok(HttpResponse::Ok().json(grant))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpResetRequest {
    /// Why the user's authenticator must be reset (lost phone, …).
    pub reason: String,
}

/// Ask to reset another user's TOTP; a second admin decides.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/totp-reset", tag = "admin", request_body = TotpResetRequest,
    params(("id" = String, Path, description = "The user's id")),
    responses((status = 201, body = TotpReset), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn request_totp_reset(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    require(&state, &p, &[Role::Admin], "totp_reset.request").await?;
    let req: TotpResetRequest = json(&body)?;
    let reset = resets::request(&state.db, &state.vault, &p, &id, &req.reason).await?;
    Ok(HttpResponse::Created().json(reset))
}

/// TOTP reset requests, newest first (pending ones unless `status` says otherwise).
#[utoipa::path(get, path = "/api/v1/admin/totp-resets", tag = "admin", params(ApprovalQuery),
    responses((status = 200, body = [TotpReset]), (status = 401), (status = 403), (status = 422)))]
pub async fn totp_resets(
    state: web::Data<AppState>,
    p: Principal,
    q: web::Query<ApprovalQuery>,
) -> AppResult<HttpResponse> {
    require(&state, &p, &[Role::Admin], "totp_reset.list").await?;
    let status = staff::duties::parse_status(q.status.as_deref())?;
    Ok(HttpResponse::Ok().json(resets::list(&state.db, status).await?))
}

/// Approve or refuse a TOTP reset.
///
/// Only an admin other than the one who asked and the user concerned (403 `own_request`);
/// refusing takes a reason (422). Approval clears the user's TOTP and ends their sessions.
#[utoipa::path(post, path = "/api/v1/admin/totp-resets/{id}/decision", tag = "admin", request_body = SecondAdminDecision,
    params(("id" = i64, Path, description = "The reset request's id")),
    responses((status = 200, body = TotpReset), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn totp_reset_decision(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    require(&state, &p, &[Role::Admin], "totp_reset.decide").await?;
    let d: SecondAdminDecision = json(&body)?;
    let reset = resets::decide(&state.db, &state.vault, &p, *id, &d).await?;
    Ok(HttpResponse::Ok().json(reset))
}
