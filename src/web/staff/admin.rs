//! The audit log (auditors) and administration: users, conflicts, dead letters (the
//! second-admin approvals are [`super::duties`]).

#[allow(unused_imports)]
use super::*;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    pub report_id: Option<String>,
    pub before_seq: Option<i64>,
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery), responses((status = 200, body = [audit::AuditEntry])))]
pub async fn audit_log(
    state: web::Data<AppState>,
    p: Principal,
    q: web::Query<AuditQuery>,
) -> AppResult<HttpResponse> {
    require(&state, &p, &[Role::Auditor], "audit.read").await?;
    let f = audit::Filter {
        actor: q.actor.clone().filter(|s| !s.is_empty()),
        action: q.action.clone().filter(|s| !s.is_empty()),
        outcome: q.outcome.clone().filter(|s| !s.is_empty()),
        report_id: q.report_id.clone().filter(|s| !s.is_empty()),
        before_seq: q.before_seq,
        from: None,
        to: None,
        limit: q.limit.unwrap_or(100),
        scope: Some(audit::Scope {
            region_prefix: crate::staff::region_prefix(&p.region).to_string(),
            user_id: p.id.clone(),
        }),
    };
    Ok(HttpResponse::Ok().json(
        audit::list(&state.db, &f)
            .await
            .map_err(AppError::internal)?,
    ))
}

#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", responses((status = 200, body = Object)))]
pub async fn audit_verify(state: web::Data<AppState>, p: Principal) -> AppResult<HttpResponse> {
    require(&state, &p, &[Role::Auditor], "audit.verify").await?;
    let v = audit::verify(&state.db, state.vault.audit_key(), None, |_, _| {})
        .await
        .map_err(AppError::internal)?;
    Ok(HttpResponse::Ok().json(v))
}

// ---- admin ----

#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", responses((status = 200, body = [StaffUser])))]
pub async fn users(state: web::Data<AppState>, p: Principal) -> AppResult<HttpResponse> {
    require(&state, &p, &[Role::Admin], "user.list").await?;
    Ok(HttpResponse::Ok().json(staff::list(&state.db.pool).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    pub username: String,
    pub password: String,
    /// Comma-separated or a list of role codes.
    pub roles: Vec<String>,
    pub region: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
}

/// Create a user.
///
/// `admin` cannot be combined with another role (422, field `roles`). Supervisor, legal,
/// finance, custodian and auditor are not given but asked for: they appear in
/// `pending_roles` until a second admin approves them (`/admin/role-grants`). The user
/// must replace the password chosen here at first sign-in.
#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin", request_body = NewUserRequest,
    responses((status = 201, body = StaffUser), (status = 401), (status = 403), (status = 409), (status = 422)))]
pub async fn create_user(
    state: web::Data<AppState>,
    p: Principal,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    require(&state, &p, &[Role::Admin], "user.create").await?;
    let req: NewUserRequest = json(&body)?;
    let new = staff::NewUser {
        username: staff::parse_username(&req.username)
            .map_err(|m| AppError::invalid("username", m))?,
        roles: staff::parse_roles(&req.roles.join(","))
            .map_err(|m| AppError::invalid("roles", m))?,
        region: staff::parse_region(&req.region).map_err(|m| AppError::invalid("region", m))?,
        display_name: req
            .display_name
            .clone()
            .unwrap_or_else(|| req.username.clone()),
        email: req.email.clone().filter(|e| !e.trim().is_empty()),
        locale: req
            .locale
            .clone()
            .and_then(|l| crate::i18n::Locale::parse(&l))
            .unwrap_or_default()
            .tag()
            .into(),
        password: req.password.clone(),
    };
    staff::check_password(&new.password).map_err(|m| AppError::invalid("password", m))?;
    let user = staff::duties::create_user(&state.db, &state.vault, &p, new).await?;
    Ok(HttpResponse::Created().json(user))
}

#[utoipa::path(post, path = "/api/v1/admin/users/{id}/conflicts", tag = "admin", request_body = ConflictRequest, responses((status = 204)))]
pub async fn user_conflict(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    require(&state, &p, &[Role::Admin], "user.conflict").await?;
    let req: ConflictRequest = json(&body)?;
    if staff::by_id(&state.db.pool, &id).await?.is_none() {
        return Err(crate::workflow::record_not_found());
    }
    add_conflict(&state, &p, &id, &req).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/api/v1/admin/dead-letters", tag = "admin", responses((status = 200, body = [notify::DeadJob])))]
pub async fn dead_letters(state: web::Data<AppState>, p: Principal) -> AppResult<HttpResponse> {
    require(&state, &p, &[Role::Admin], "outbox.list").await?;
    Ok(HttpResponse::Ok().json(notify::dead_letters(&state.db, 200).await?))
}

#[utoipa::path(post, path = "/api/v1/admin/dead-letters/{id}/retry", tag = "admin", responses((status = 204), (status = 404)))]
pub async fn retry_dead_letter(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    require(&state, &p, &[Role::Admin], "outbox.retry").await?;
    let mut tx = state.db.begin().await?;
    audit::lock(&mut tx).await?;
    if !notify::retry_dead(&mut tx, *id).await? {
        return Err(crate::workflow::record_not_found());
    }
    audit::append(
        &mut tx,
        state.vault.audit_key(),
        &Entry::ok(
            &p.actor(),
            "outbox.retry",
            serde_json::json!({ "job": *id }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
