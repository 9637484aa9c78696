//! Sign-in, token refresh, sign-out, TOTP, password change, the first admin, the caller's own
//! account and declared conflicts.

#[allow(unused_imports)]
use super::*;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// Six-digit code from the authenticator app, when TOTP is enabled.
    #[serde(default)]
    pub totp: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenPair), (status = 401),
        (status = 429, description = "Too many failed sign-ins from this client address in `[staff] login_window_minutes`; `Retry-After` says when to try again")))]
pub async fn login(
    http: actix_web::HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let req: LoginRequest = json(&body)?;
    let client = crate::channels::body::client_address(&http, &state.config.server);
    let pair = auth::login(
        &state.db,
        &state.vault,
        &state.config.staff,
        &client,
        &req.username,
        &req.password,
        req.totp.as_deref(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(pair))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401)))]
pub async fn refresh(state: web::Data<AppState>, body: web::Bytes) -> AppResult<HttpResponse> {
    let req: RefreshRequest = json(&body)?;
    let pair = auth::refresh(
        &state.db,
        &state.vault,
        &state.config.staff,
        &req.refresh_token,
    )
    .await?;
    Ok(HttpResponse::Ok().json(pair))
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204)))]
pub async fn logout(state: web::Data<AppState>, p: Enrolling) -> AppResult<HttpResponse> {
    let p = p.0;
    let family: Option<String> =
        sqlx::query_scalar("SELECT family FROM staff_sessions WHERE id = $1")
            .bind(&p.session)
            .fetch_optional(&state.db.pool)
            .await?;
    if let Some(f) = family {
        auth::revoke_family(&state.db, &f).await?;
    }
    audit::append_alone(
        &state.db,
        state.vault.audit_key(),
        &Entry::ok(&p.actor(), "auth.logout", serde_json::json!({})),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(post, path = "/api/v1/auth/totp/setup", tag = "auth", responses((status = 200, body = TotpSetup)))]
pub async fn totp_setup(state: web::Data<AppState>, p: Enrolling) -> AppResult<HttpResponse> {
    let user = current_user(&state, &p.0).await?;
    Ok(HttpResponse::Ok().json(auth::totp_setup(&state.db, &state.vault, &user).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpConfirm {
    pub code: String,
}

#[utoipa::path(post, path = "/api/v1/auth/totp/confirm", tag = "auth", request_body = TotpConfirm, responses((status = 204), (status = 409, description = "No TOTP set-up was started (`totp_not_started`)")))]
pub async fn totp_confirm(
    state: web::Data<AppState>,
    p: Enrolling,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let req: TotpConfirm = json(&body)?;
    let user = current_user(&state, &p.0).await?;
    auth::totp_confirm(&state.db, &state.vault, &user, &p.0.session, &req.code).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Change one's own password.
///
/// A sign-in that answered `password_change_required: true` may do only this; the change
/// then ends that sign-in too, and the next is a normal one.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = PasswordChange,
    responses((status = 204), (status = 401), (status = 422)))]
pub async fn change_password(
    state: web::Data<AppState>,
    p: PasswordChanging,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let req: PasswordChange = json(&body)?;
    staff::password::change_password(
        &state.db,
        &state.vault,
        &p.0,
        &req.current_password,
        &req.new_password,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    pub setup_code: String,
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/auth/setup", tag = "auth", request_body = SetupRequest,
    responses((status = 201, body = StaffUser), (status = 401)))]
pub async fn setup(state: web::Data<AppState>, body: web::Bytes) -> AppResult<HttpResponse> {
    let req: SetupRequest = json(&body)?;
    let username =
        staff::parse_username(&req.username).map_err(|m| AppError::invalid("username", m))?;
    staff::check_password(&req.password).map_err(|m| AppError::invalid("password", m))?;
    let user = auth::use_setup_code(
        &state.db,
        &state.vault,
        &req.setup_code,
        staff::NewUser {
            display_name: req.display_name.clone().unwrap_or_else(|| username.clone()),
            username,
            email: req.email.clone(),
            roles: vec![Role::Admin],
            region: staff::NATIONAL.into(),
            locale: request_locale().tag().into(),
            password: req.password.clone(),
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(user))
}

pub(super) async fn current_user(state: &AppState, p: &Principal) -> AppResult<StaffUser> {
    staff::by_id(&state.db.pool, &p.id).await?.ok_or_else(|| {
        AppError::new(
            crate::error::Kind::Unauthorized,
            "invalid_token",
            "error-invalid-token",
        )
    })
}

#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = StaffUser)))]
pub async fn me(state: web::Data<AppState>, p: Enrolling) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(current_user(&state, &p.0).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConflictRequest {
    /// The institution's name as it appears in tips (compared normalized: full-width and
    /// half-width, spaces, punctuation and legal-form suffixes such as 有限公司 do not
    /// matter). Optional when `code` is given.
    #[serde(default)]
    pub institution: Option<String>,
    /// The institution's code: 统一社会信用代码 (18 characters) or 定点医药机构编码
    /// (`H`/`P` and 11 digits). A tip that names the code recuses too, whatever its name.
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/me/conflicts", tag = "auth", request_body = ConflictRequest, responses((status = 204)))]
pub async fn declare_conflict(
    state: web::Data<AppState>,
    p: Principal,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let req: ConflictRequest = json(&body)?;
    add_conflict(&state, &p, &p.id, &req).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub(super) async fn add_conflict(
    state: &AppState,
    p: &Principal,
    user_id: &str,
    req: &ConflictRequest,
) -> AppResult<()> {
    let code = match req.code.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(c) => Some(
            crate::domain::institution::parse_code(c).map_err(|m| AppError::invalid("code", m))?,
        ),
    };
    let name_key = staff::target_key(req.institution.as_deref().unwrap_or_default());
    if name_key.chars().count() > 200 {
        return Err(AppError::invalid("institution", "error-too-long").arg("max", 200));
    }
    let key = match (&code, name_key.is_empty()) {
        (None, true) => return Err(AppError::invalid("institution", "error-required")),
        (Some(c), true) => crate::domain::institution::code_only_key(c),
        (_, false) => name_key,
    };
    let mut tx = state.db.begin().await?;
    audit::lock(&mut tx).await?;
    sqlx::query(
        "INSERT INTO staff_conflicts (user_id, target_key, note, declared_at, target_code) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, target_key) \
         DO UPDATE SET target_code = COALESCE(excluded.target_code, staff_conflicts.target_code)",
    )
    .bind(user_id)
    .bind(&key)
    .bind(req.note.clone())
    .bind(crate::store::ts(chrono::Utc::now()))
    .bind(code.as_deref())
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        state.vault.audit_key(),
        &Entry::ok(
            &p.actor(),
            "user.conflict",
            serde_json::json!({ "user": user_id }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
