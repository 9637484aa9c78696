//! Rewards and finance over HTTP (DOMAIN §5): the staff endpoints (described in the
//! OpenAPI document with the rest of the staff API) and the statistics for the console's
//! charts. The reporter's claim is the H5 channel's (`channels::h5::claim`).

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::staff::case_endpoint;
use super::AppState;
use crate::error::{request_locale, AppResult};
use crate::intake::parse::parse_json;
use crate::rewards::flow::{self, Budget, RewardView};
use crate::rewards::policy::Computation;
use crate::rewards::stats;
use crate::staff::principal::Principal;

fn json<T: serde::de::DeserializeOwned>(body: &web::Bytes) -> AppResult<T> {
    parse_json::<T>(body, request_locale()).map(|(v, _)| v)
}

/// Run a read that refuses with 403, auditing the refusal.
async fn audited<T>(
    state: &AppState,
    p: &Principal,
    action: &str,
    r: AppResult<T>,
) -> AppResult<T> {
    match r {
        Err(e) if e.kind == crate::error::Kind::Forbidden => {
            Err(flow::deny_plain(&state.workflow, p, action, e).await)
        }
        r => r,
    }
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/reward/preview", tag = "rewards",
    params(flow::PreviewQuery),
    responses((status = 200, body = Object, description = "The amount and how it was computed"),
        (status = 403), (status = 409), (status = 422)))]
pub async fn preview(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<String>,
    q: web::Query<flow::PreviewQuery>,
) -> AppResult<HttpResponse> {
    let c: Computation = audited(
        &state,
        &p,
        "reward.preview",
        flow::preview(&state.workflow, &p, &id, &q).await,
    )
    .await?;
    Ok(HttpResponse::Ok().json(c))
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/reward", tag = "rewards",
    responses((status = 200, body = RewardView), (status = 403), (status = 404)))]
pub async fn show(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let v = audited(
        &state,
        &p,
        "reward.show",
        flow::show(&state.workflow, &p, &id).await,
    )
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatusFilter {
    /// proposed | returned | approved | notified | claimed | paid | expired | reversed
    pub status: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/rewards", tag = "rewards", params(StatusFilter),
    responses((status = 200, body = [RewardView]), (status = 403)))]
pub async fn list(
    state: web::Data<AppState>,
    p: Principal,
    q: web::Query<StatusFilter>,
) -> AppResult<HttpResponse> {
    let v = audited(
        &state,
        &p,
        "reward.list",
        flow::list(&state.workflow, &p, q.status.as_deref()).await,
    )
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

case_endpoint!(
    "rewards",
    propose,
    "/api/v1/cases/{id}/reward",
    flow::ProposeRequest,
    flow::propose
);
case_endpoint!(
    "rewards",
    approve,
    "/api/v1/cases/{id}/reward/approve",
    flow::NoteRequest,
    flow::approve
);
case_endpoint!(
    "rewards",
    return_proposal,
    "/api/v1/cases/{id}/reward/return",
    flow::NoteRequest,
    flow::return_proposal
);
case_endpoint!(
    "rewards",
    flags,
    "/api/v1/cases/{id}/reward/flags",
    flow::FlagsRequest,
    flow::set_flags
);
case_endpoint!(
    "rewards",
    reversal,
    "/api/v1/cases/{id}/reward/reversal",
    flow::NoteRequest,
    flow::reverse
);

#[utoipa::path(post, path = "/api/v1/cases/{id}/reward/notice", tag = "rewards",
    responses((status = 200), (status = 403), (status = 404), (status = 409)))]
pub async fn notice(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(flow::notify_reporter(&state.workflow, &p, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/reward/payment", tag = "rewards",
    request_body = flow::PaymentRequest,
    responses((status = 200), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn payment(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let req: flow::PaymentRequest = json(&body)?;
    Ok(HttpResponse::Ok()
        .json(flow::record_payment(&state.workflow, &state.vault, &p, &id, req).await?))
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/reward/identity-check", tag = "rewards",
    params(("id" = String, Path, description = "Case id")),
    request_body = flow::IdentityCheckRequest,
    responses((status = 200, description = "`identity_check`: `recorded` (first officer) or `confirmed` (a second, different officer)"),
        (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn identity_check(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let req: flow::IdentityCheckRequest = match json(&body) {
        Ok(r) => r,
        Err(e) => {
            return Err(
                flow::deny_plain(&state.workflow, &p, "case.reward_identity_check", e).await,
            )
        }
    };
    Ok(HttpResponse::Ok()
        .json(flow::identity_check(&state.workflow, &state.vault, &p, &id, req).await?))
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/reward/bank-account", tag = "rewards",
    params(("id" = String, Path, description = "Case id"), flow::ShareQuery),
    responses((status = 200, description = "The account of a transfer claim at the payment step, masked to its last four digits; each opening is audited"),
        (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn bank_account(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<String>,
    q: web::Query<flow::ShareQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok()
        .json(flow::bank_account(&state.workflow, &state.vault, &p, &id, q.tip.as_deref()).await?))
}

#[utoipa::path(get, path = "/api/v1/finance/budgets", tag = "rewards", params(flow::BudgetQuery),
    responses((status = 200, body = [Budget]), (status = 403)))]
pub async fn budgets(
    state: web::Data<AppState>,
    p: Principal,
    q: web::Query<flow::BudgetQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(flow::budgets(&state.workflow, &p, q.year).await?))
}

#[utoipa::path(post, path = "/api/v1/finance/budgets", tag = "rewards",
    request_body = flow::BudgetRequest,
    responses((status = 200, body = Budget), (status = 403), (status = 422)))]
pub async fn set_budget(
    state: web::Data<AppState>,
    p: Principal,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let req: flow::BudgetRequest = match json(&body) {
        Ok(r) => r,
        Err(e) => return Err(flow::deny_plain(&state.workflow, &p, "finance.budget", e).await),
    };
    Ok(HttpResponse::Ok().json(flow::set_budget(&state.workflow, &p, req).await?))
}

macro_rules! stats_endpoint {
    ($name:ident, $path:literal, $body:ty, $func:path) => {
        #[utoipa::path(get, path = $path, tag = "stats", params(stats::StatsQuery),
                    responses((status = 200, body = $body), (status = 403), (status = 422)))]
        pub async fn $name(
            state: web::Data<AppState>,
            p: Principal,
            q: web::Query<stats::StatsQuery>,
        ) -> AppResult<HttpResponse> {
            if !p.has_any(&stats::READERS) {
                return Err(flow::deny_plain(
                    &state.workflow,
                    &p,
                    "stats.read",
                    crate::workflow::forbidden(),
                )
                .await);
            }
            Ok(HttpResponse::Ok().json($func(&state.db, &p, &q).await?))
        }
    };
}

stats_endpoint!(
    stats_tips,
    "/api/v1/stats/tips",
    stats::TipStats,
    stats::tips
);
stats_endpoint!(
    stats_cases,
    "/api/v1/stats/cases",
    stats::CaseStats,
    stats::cases
);
stats_endpoint!(
    stats_deadlines,
    "/api/v1/stats/deadlines",
    [stats::DeadlineStats],
    stats::deadlines
);
stats_endpoint!(
    stats_rewards,
    "/api/v1/stats/rewards",
    [stats::RewardStats],
    stats::rewards
);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/cases/{id}/reward", web::get().to(show))
        .route("/cases/{id}/reward", web::post().to(propose))
        .route("/cases/{id}/reward/preview", web::get().to(preview))
        .route("/cases/{id}/reward/approve", web::post().to(approve))
        .route("/cases/{id}/reward/return", web::post().to(return_proposal))
        .route("/cases/{id}/reward/notice", web::post().to(notice))
        .route("/cases/{id}/reward/payment", web::post().to(payment))
        .route(
            "/cases/{id}/reward/identity-check",
            web::post().to(identity_check),
        )
        .route(
            "/cases/{id}/reward/bank-account",
            web::get().to(bank_account),
        )
        .route("/cases/{id}/reward/reversal", web::post().to(reversal))
        .route("/cases/{id}/reward/flags", web::post().to(flags))
        .route("/rewards", web::get().to(list))
        .route("/finance/budgets", web::get().to(budgets))
        .route("/finance/budgets", web::post().to(set_budget))
        .route("/stats/tips", web::get().to(stats_tips))
        .route("/stats/cases", web::get().to(stats_cases))
        .route("/stats/deadlines", web::get().to(stats_deadlines))
        .route("/stats/rewards", web::get().to(stats_rewards));
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(preview, show, list, propose, approve, return_proposal, flags, reversal, notice,
        payment, identity_check, bank_account, budgets, set_budget, stats_tips, stats_cases, stats_deadlines, stats_rewards),
    tags((name = "rewards", description = "Rewards and finance (DOMAIN §5)"),
        (name = "stats", description = "Figures for the console's charts"))
)]
pub struct RewardsDoc;
