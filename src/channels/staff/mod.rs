//! The staff channel: letters, visits and calls that intake staff record
//! (`POST /api/v1/staff/reports`), with the day each reached the bureau, which starts its
//! clocks. The tip goes through the same intake as every other door; the record of who
//! entered it is an audit entry, not part of the tip.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::State;
use crate::audit::Outcome;
use crate::audit::{self, Entry};
use crate::domain::Channel;
use crate::error::{request_locale, AppError, AppResult};
use crate::intake::parse::{parse_json, to_new_tip, RawReport};
use crate::intake::Submitted;
use crate::staff::principal::Principal;
use crate::staff::Role;
use crate::workflow::require_role;

/// The staff channel's route, mounted under `/api/v1`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/staff/reports", web::post().to(staff_report));
}

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
pub async fn staff_report(state: State, p: Principal, body: web::Bytes) -> AppResult<HttpResponse> {
    require_role(
        state.db(),
        state.vault().audit_key(),
        &p,
        &[Role::Intake],
        "report.record",
    )
    .await?;
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
    let received_on = received_on_of(&medium, received_on, state.intake().today())?;
    let bytes = serde_json::to_vec(&value).map_err(AppError::internal)?;
    let (raw, locale) = parse_json::<RawReport>(&bytes, request_locale())?;
    let mut tip = to_new_tip(raw, locale, state.intake().today())?;
    tip.recorded_by = Some(p.id.clone());
    tip.arrived = Some(crate::intake::Arrived::On(received_on));
    let receipt = match state
        .intake()
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
        state.db(),
        state.vault().audit_key(),
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
pub fn received_on_of(
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
