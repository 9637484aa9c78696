//! Staff API (CONTRACT §6): authentication, cases, identity requests, audit, admin and
//! staff intake. Every handler takes a [`Principal`]; the workflow module decides what the
//! caller may do. Described in `GET /api/v1/openapi.json`.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::AppState;
use crate::audit::{self, Entry, Outcome};
use crate::domain::Channel;
use crate::error::{request_locale, AppError, AppResult};
use crate::intake::parse::{parse_json, to_new_tip, RawReport};
use crate::intake::Submitted;
use crate::notify;
use crate::staff::auth::{self, TokenPair, TotpSetup};
use crate::staff::principal::{Enrolling, Principal};
use crate::staff::{self, Role, StaffUser};
use crate::workflow::{ops, query, reveal};

fn json<T: serde::de::DeserializeOwned>(body: &web::Bytes) -> AppResult<T> {
    parse_json::<T>(body, request_locale()).map(|(v, _)| v)
}

async fn refuse(state: &AppState, p: &Principal, action: &str, err: AppError) -> AppError {
    audit::record_denied(&state.db, &p.actor(), action, None, err.code).await;
    err
}

async fn require(state: &AppState, p: &Principal, roles: &[Role], action: &str) -> AppResult<()> {
    if p.has_any(roles) {
        Ok(())
    } else {
        Err(refuse(state, p, action, crate::workflow::forbidden()).await)
    }
}

// ---- auth ----

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
    responses((status = 200, body = TokenPair), (status = 401), (status = 429)))]
pub async fn login(state: web::Data<AppState>, body: web::Bytes) -> AppResult<HttpResponse> {
    let req: LoginRequest = json(&body)?;
    let pair = auth::login(
        &state.db,
        &state.vault,
        &state.config.staff,
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
        &Entry {
            actor: &p.actor(),
            action: "auth.logout",
            outcome: Outcome::Ok,
            report_id: None,
            detail: serde_json::json!({}),
        },
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

#[utoipa::path(post, path = "/api/v1/auth/totp/confirm", tag = "auth", request_body = TotpConfirm, responses((status = 204)))]
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

#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = PasswordChange, responses((status = 204)))]
pub async fn change_password(
    state: web::Data<AppState>,
    p: Enrolling,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let p = p.0;
    let req: PasswordChange = json(&body)?;
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM staff_users WHERE id = $1")
        .bind(&p.id)
        .fetch_one(&state.db.pool)
        .await?;
    if !staff::verify_password(&hash, &req.current_password) {
        return Err(refuse(
            &state,
            &p,
            "auth.password",
            AppError::invalid("current_password", "error-invalid-credentials"),
        )
        .await);
    }
    staff::check_password(&req.new_password).map_err(|m| AppError::invalid("new_password", m))?;
    let new_hash = staff::hash_password(&req.new_password).map_err(AppError::internal)?;
    let mut tx = state.db.begin().await?;
    audit::lock(&mut tx).await?;
    sqlx::query("UPDATE staff_users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(new_hash)
        .bind(crate::store::ts(chrono::Utc::now()))
        .bind(&p.id)
        .execute(&mut *tx)
        .await?;
    // Other logins end; this one stays.
    sqlx::query("UPDATE staff_sessions SET revoked_at = $1 WHERE user_id = $2 AND id <> $3 AND revoked_at IS NULL")
        .bind(crate::store::ts(chrono::Utc::now()))
        .bind(&p.id)
        .bind(&p.session)
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        &Entry {
            actor: &p.actor(),
            action: "auth.password",
            outcome: Outcome::Ok,
            report_id: None,
            detail: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
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

async fn current_user(state: &AppState, p: &Principal) -> AppResult<StaffUser> {
    staff::by_id(&state.db.pool, &p.id).await?.ok_or_else(|| {
        AppError::new(
            actix_web::http::StatusCode::UNAUTHORIZED,
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
    /// The institution's name as it appears in tips.
    pub institution: String,
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

async fn add_conflict(
    state: &AppState,
    p: &Principal,
    user_id: &str,
    req: &ConflictRequest,
) -> AppResult<()> {
    let key = staff::target_key(&req.institution);
    if key.is_empty() || key.chars().count() > 200 {
        return Err(AppError::invalid("institution", "error-required"));
    }
    let mut tx = state.db.begin().await?;
    audit::lock(&mut tx).await?;
    sqlx::query(
        "INSERT INTO staff_conflicts (user_id, target_key, note, declared_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id, target_key) DO NOTHING",
    )
    .bind(user_id)
    .bind(&key)
    .bind(req.note.clone())
    .bind(crate::store::ts(chrono::Utc::now()))
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &Entry {
            actor: &p.actor(),
            action: "user.conflict",
            outcome: Outcome::Ok,
            report_id: None,
            detail: serde_json::json!({ "user": user_id }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---- cases ----

#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(query::InboxQuery),
    responses((status = 200, body = [query::CaseSummary])))]
pub async fn inbox(
    state: web::Data<AppState>,
    p: Principal,
    q: web::Query<query::InboxQuery>,
) -> AppResult<HttpResponse> {
    match query::inbox(&state.workflow, &p, &q).await {
        Ok(v) => Ok(HttpResponse::Ok().json(v)),
        Err(e) if e.status.as_u16() == 403 => Err(refuse(&state, &p, "case.list", e).await),
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
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
        Err(e) if e.status.as_u16() == 403 => Err(refuse(&state, &p, "case.overdue", e).await),
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

#[derive(Deserialize, utoipa::IntoParams)]
pub struct Variant {
    /// `working` (default: the sanitized copy) or `original` (supervisors, legal).
    pub variant: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/evidence/{evidence_id}", tag = "cases", params(Variant), responses((status = 200)))]
pub async fn evidence(
    state: web::Data<AppState>,
    p: Principal,
    path: web::Path<(String, String)>,
    q: web::Query<Variant>,
) -> AppResult<HttpResponse> {
    let original = q.variant.as_deref() == Some("original");
    let (ctype, bytes) = match query::evidence_file(
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
        Err(e) if e.status.as_u16() == 403 => {
            return Err(refuse(&state, &p, "case.evidence", e).await)
        }
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

// ---- identity requests ----

#[derive(Deserialize, utoipa::IntoParams)]
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

// ---- staff intake ----

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Medium {
    Letter,
    Visit,
    Phone,
}

#[utoipa::path(post, path = "/api/v1/staff/reports", tag = "intake",
    request_body(content = serde_json::Value, description = "CONTRACT §3 report JSON plus `medium`: letter | visit | phone, and `received_on` (YYYY-MM-DD, the day it reached the bureau: required for a letter, today by default; its clocks start then)"),
    responses((status = 201), (status = 403), (status = 422)))]
pub async fn staff_report(
    state: web::Data<AppState>,
    p: Principal,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    require(&state, &p, &[Role::Intake], "report.record").await?;
    let mut value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|_| AppError::bad_request("invalid_json", "error-invalid-json"))?;
    let medium = value
        .as_object_mut()
        .and_then(|o| o.remove("medium"))
        .ok_or_else(|| {
            AppError::invalid("medium", "error-missing-field").with_code("missing_field")
        })?;
    let medium: Medium = serde_json::from_value(medium)
        .map_err(|_| AppError::invalid("medium", "error-wrong-type"))?;
    let received_on = value.as_object_mut().and_then(|o| o.remove("received_on"));
    let received_on = received_on_of(&medium, received_on, state.intake.today())?;
    let bytes = serde_json::to_vec(&value).map_err(AppError::internal)?;
    let (raw, locale) = parse_json::<RawReport>(&bytes, request_locale())?;
    let mut tip = to_new_tip(raw, locale, state.intake.today())?;
    tip.recorded_by = Some(p.id.clone());
    tip.arrived = Some(crate::intake::Arrived::On(received_on));
    let receipt = match state
        .intake
        .submit(Channel::Staff, tip, vec![], None)
        .await?
    {
        Submitted::Created(r) => r,
        Submitted::Replayed { .. } => {
            return Err(AppError::internal(anyhow::anyhow!("unexpected replay")))
        }
    };
    let medium = match medium {
        Medium::Letter => "letter",
        Medium::Visit => "visit",
        Medium::Phone => "phone",
    };
    audit::append_alone(
        &state.db,
        &Entry {
            actor: &p.actor(),
            action: "report.record",
            outcome: Outcome::Ok,
            report_id: Some(&receipt.report_id),
            detail: serde_json::json!({ "medium": medium }),
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(serde_json::json!({
        "case_id": receipt.report_id,
        "tracking_code": receipt.tracking_code,
        "passcode": receipt.passcode,
        "status": receipt.status,
        "received_at": receipt.received_at,
        "received_on": received_on.to_string(),
        "accept_by": receipt.accept_by,
        "accept_by_provisional": receipt.accept_by_provisional,
    })))
}

/// The day a letter, visit or call reached the bureau (CONTRACT §8): required for a letter,
/// today by default for the others; a date, not in the future, not before 2018.
fn received_on_of(
    medium: &Medium,
    value: Option<serde_json::Value>,
    today: chrono::NaiveDate,
) -> AppResult<chrono::NaiveDate> {
    let field = "received_on";
    let text = match value {
        None | Some(serde_json::Value::Null) => {
            if matches!(medium, Medium::Letter) {
                return Err(
                    AppError::invalid(field, "error-received-on-letter").with_code("missing_field")
                );
            }
            return Ok(today);
        }
        Some(serde_json::Value::String(s)) => s,
        Some(_) => return Err(AppError::invalid(field, "error-wrong-type")),
    };
    let day = chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()
        .filter(|_| text.trim().len() == 10)
        .ok_or_else(|| AppError::invalid(field, "error-wrong-type"))?;
    if day > today {
        return Err(AppError::invalid(field, "error-date-future"));
    }
    if day < chrono::NaiveDate::from_ymd_opt(2018, 1, 1).unwrap_or(day) {
        return Err(AppError::invalid(field, "error-received-on-too-early"));
    }
    Ok(day)
}

// ---- audit ----

#[derive(Deserialize, utoipa::IntoParams)]
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
    let v = audit::verify(&state.db, |_, _| {})
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

#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin", request_body = NewUserRequest,
    responses((status = 201, body = StaffUser), (status = 403), (status = 409), (status = 422)))]
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
    let mut tx = state.db.begin().await?;
    audit::lock(&mut tx).await?;
    let user = staff::create(&mut tx, &new).await?;
    audit::append(&mut tx, &Entry { actor: &p.actor(), action: "user.create", outcome: Outcome::Ok, report_id: None, detail: serde_json::json!({ "user": user.id, "roles": user.roles, "region": user.region }) }).await?;
    tx.commit().await?;
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
        &Entry {
            actor: &p.actor(),
            action: "outbox.retry",
            outcome: Outcome::Ok,
            report_id: None,
            detail: serde_json::json!({ "job": *id }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/auth/login", web::post().to(login))
        .route("/auth/refresh", web::post().to(refresh))
        .route("/auth/logout", web::post().to(logout))
        .route("/auth/setup", web::post().to(setup))
        .route("/auth/password", web::post().to(change_password))
        .route("/auth/totp/setup", web::post().to(totp_setup))
        .route("/auth/totp/confirm", web::post().to(totp_confirm))
        .route("/me", web::get().to(me))
        .route("/me/conflicts", web::post().to(declare_conflict))
        .route("/cases", web::get().to(inbox))
        .route("/cases/overdue", web::get().to(overdue))
        .route("/cases/{id}", web::get().to(case_detail))
        .route(
            "/cases/{id}/evidence/{evidence_id}",
            web::get().to(evidence),
        )
        .route("/cases/{id}/transitions", web::post().to(transition))
        .route("/cases/{id}/findings", web::post().to(finding))
        .route("/cases/{id}/party-notice", web::post().to(party_notice))
        .route("/cases/{id}/statement", web::post().to(statement))
        .route(
            "/cases/{id}/collective-decisions",
            web::post().to(collective),
        )
        .route("/cases/{id}/legal-review", web::post().to(legal_review))
        .route("/cases/{id}/major", web::post().to(major))
        .route("/cases/{id}/extensions", web::post().to(request_extension))
        .route(
            "/cases/{id}/extensions/{request_id}/decision",
            web::post().to(decide_extension),
        )
        .route("/cases/{id}/assignment", web::post().to(assign))
        .route("/cases/{id}/messages", web::post().to(message))
        .route(
            "/cases/{id}/identity-requests",
            web::post().to(request_identity),
        )
        .route("/identity-requests", web::get().to(identity_requests))
        .route(
            "/identity-requests/{id}/decision",
            web::post().to(identity_decision),
        )
        .route(
            "/identity-requests/{id}/reveal",
            web::post().to(identity_reveal),
        )
        .route("/staff/reports", web::post().to(staff_report))
        .route("/audit", web::get().to(audit_log))
        .route("/audit/verify", web::get().to(audit_verify))
        .route("/admin/users", web::get().to(users))
        .route("/admin/users", web::post().to(create_user))
        .route("/admin/users/{id}/conflicts", web::post().to(user_conflict))
        .route("/admin/dead-letters", web::get().to(dead_letters))
        .route(
            "/admin/dead-letters/{id}/retry",
            web::post().to(retry_dead_letter),
        )
        .route("/openapi.json", web::get().to(openapi));
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "jubao staff API", description = "Case handling, identity reveal, audit and administration (CONTRACT §6). Every endpoint but login, refresh and setup needs `Authorization: Bearer <access_token>`."),
    paths(login, refresh, logout, totp_setup, totp_confirm, change_password, setup, me, declare_conflict,
        inbox, overdue, case_detail, evidence, transition, finding, party_notice, statement, collective,
        legal_review, major, request_extension, decide_extension, assign, message, request_identity,
        identity_requests, identity_decision, identity_reveal, staff_report, audit_log, audit_verify,
        users, create_user, user_conflict, dead_letters, retry_dead_letter),
    tags((name = "auth"), (name = "cases"), (name = "identity"), (name = "intake"), (name = "audit"), (name = "admin"))
)]
pub struct ApiDoc;

pub async fn openapi() -> HttpResponse {
    use utoipa::OpenApi;
    let mut doc = ApiDoc::openapi();
    doc.merge(super::stats::StatsDoc::openapi());
    doc.merge(super::rewards::RewardsDoc::openapi());
    HttpResponse::Ok().json(doc)
}
