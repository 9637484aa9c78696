//! Staff API (CONTRACT §6): authentication, cases, identity requests, audit, admin and
//! staff intake. Every handler takes a [`Principal`]; the workflow module decides what the
//! caller may do. Described in `GET /api/v1/openapi.json`.

mod account;
mod admin;
mod cases;
mod duties;
mod retention;
mod typical;

pub use account::*;
pub use admin::*;
pub use cases::*;
pub use duties::*;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::AppState;
use crate::audit::{self, Entry};
use crate::error::{request_locale, AppError, AppResult};
use crate::intake::parse::parse_json;
use crate::notify;
use crate::staff::auth::{self, TokenPair, TotpSetup};
use crate::staff::principal::{Enrolling, PasswordChanging, Principal};
use crate::staff::{self, Role, StaffUser};
use crate::workflow::{ops, query, reveal};

fn json<T: serde::de::DeserializeOwned>(body: &web::Bytes) -> AppResult<T> {
    parse_json::<T>(body, request_locale()).map(|(v, _)| v)
}

async fn refuse(state: &AppState, p: &Principal, action: &str, err: AppError) -> AppError {
    audit::record_denied(
        &state.db,
        state.vault.audit_key(),
        &p.actor(),
        action,
        None,
        err.code,
    )
    .await;
    err
}

async fn require(state: &AppState, p: &Principal, roles: &[Role], action: &str) -> AppResult<()> {
    crate::workflow::require_role(&state.db, state.vault.audit_key(), p, roles, action).await
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
        .route("/notices/waiting", web::get().to(waiting_notices))
        .route("/cases/{id}", web::get().to(case_detail))
        .route("/cases/{id}/related", web::get().to(related))
        .route(
            "/targets/independent-reporters",
            web::get().to(independent_reporters),
        )
        .route(
            "/cases/{id}/evidence/{evidence_id}",
            web::get().to(evidence),
        )
        .route(
            "/cases/{id}/evidence/{evidence_id}/original-requests",
            web::post().to(request_original),
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
        .route(
            "/cases/{id}/retention",
            web::get().to(retention::case_retention),
        )
        .route(
            "/cases/{id}/legal-hold",
            web::post().to(retention::place_hold),
        )
        .route(
            "/cases/{id}/legal-hold/lift",
            web::post().to(retention::lift_hold),
        )
        .route(
            "/cases/{id}/typical-cases",
            web::post().to(typical::typical_draft),
        )
        .route("/typical-cases", web::get().to(typical::typical_list))
        .route(
            "/typical-cases/{id}/legal-review",
            web::post().to(typical::typical_review),
        )
        .route(
            "/typical-cases/{id}/approve",
            web::post().to(typical::typical_approve),
        )
        .route(
            "/typical-cases/{id}/withdraw",
            web::post().to(typical::typical_withdraw),
        )
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
        .route("/audit", web::get().to(audit_log))
        .route("/audit/verify", web::get().to(audit_verify))
        .route("/admin/users", web::get().to(users))
        .route("/admin/users", web::post().to(create_user))
        .route("/admin/users/{id}/conflicts", web::post().to(user_conflict))
        .route("/admin/users/{id}/roles", web::post().to(set_user_roles))
        .route(
            "/admin/users/{id}/totp-reset",
            web::post().to(request_totp_reset),
        )
        .route("/admin/role-grants", web::get().to(role_grants))
        .route(
            "/admin/role-grants/{id}/decision",
            web::post().to(role_grant_decision),
        )
        .route("/admin/totp-resets", web::get().to(totp_resets))
        .route(
            "/admin/totp-resets/{id}/decision",
            web::post().to(totp_reset_decision),
        )
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
        inbox, overdue, waiting_notices, case_detail, related, independent_reporters, evidence, request_original, transition, finding, party_notice, statement, collective,
        legal_review, major, request_extension, decide_extension, assign, message, request_identity,
        identity_requests, identity_decision, identity_reveal, crate::channels::staff::staff_report, audit_log, audit_verify,
        users, create_user, user_conflict, set_user_roles, role_grants, role_grant_decision,
        request_totp_reset, totp_resets, totp_reset_decision, dead_letters, retry_dead_letter),
    tags((name = "auth"), (name = "cases"), (name = "identity"), (name = "intake"), (name = "audit"), (name = "admin"))
)]
pub struct ApiDoc;

pub async fn openapi() -> HttpResponse {
    use utoipa::OpenApi;
    let mut doc = ApiDoc::openapi();
    doc.merge(super::stats::StatsDoc::openapi());
    doc.merge(super::public::PublicDoc::openapi());
    doc.merge(retention::RetentionDoc::openapi());
    doc.merge(typical::TypicalDoc::openapi());
    doc.merge(super::rewards::RewardsDoc::openapi());
    doc.merge(crate::channels::h5::H5Doc::openapi());
    doc.merge(crate::channels::wechat::BotsDoc::openapi());
    doc.merge(crate::channels::hotline::HotlineDoc::openapi());
    HttpResponse::Ok().json(super::openapi::complete_document(doc))
}
