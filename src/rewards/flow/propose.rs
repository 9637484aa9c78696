//! Before and at the proposal: the preview of the amount (nothing stored), the quick (快奖)
//! and heavy (重奖) flags a supervisor sets, and the proposal by the case's handler, with
//! the checks of its co-reporters and the split of the reward into shares.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::notice::quick_clock;
use super::{
    compute_error, decision, due_decision, input_of, is_decided, needs_supervisor, policy_for,
    read_case, reward_of_case, reward_op, shown, wrong_case_status, wrong_reward_status,
};
use crate::deadlines::clocks::ClockKind;
use crate::domain::{tracking, Status};
use crate::error::{AppError, AppResult};
use crate::rewards::policy::{self, Computation, Grade};
use crate::rewards::share;
use crate::rewards::RewardError;
use crate::staff::principal::Principal;
use crate::staff::Role;
use crate::store;
use crate::workflow::{forbidden, is_assignee, reason, Workflow};

/// Reporters who may not be rewarded (DOMAIN §5 "Not eligible").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExcludedKind {
    /// Staff of a medical-insurance department or agency.
    MedicalInsuranceStaff,
    /// Staff of a supervisory body.
    SupervisoryBodyStaff,
    /// Others with a statutory duty to supervise or report.
    StatutoryDuty,
    /// Not a natural person (an organization).
    NotNaturalPerson,
    /// The reporter declined the reward.
    Declined,
}

/// `POST /api/v1/cases/{id}/reward`: what the handler states when proposing.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposeRequest {
    /// Evidence grade (`A`, `B`, `C`), for policies that rate by grade.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub grade: Option<Grade>,
    /// For a tip that was true but caused no loss: the amount the decision set (fen).
    #[serde(default)]
    pub no_loss_amount_fen: Option<i64>,
    /// Set when this case's reporter belongs to an excluded kind.
    #[serde(default)]
    pub excluded_kind: Option<ExcludedKind>,
    /// The facts were already known to the bureau: no reward.
    #[serde(default)]
    pub facts_already_known: bool,
    /// Tips merged into this case whose reporters are excluded (their ids).
    #[serde(default)]
    pub excluded_merged: Vec<String>,
    /// Co-reporters (a joint report: several tips on the same facts merged into this case)
    /// and the weights the decision records. The reward is split between their tips by
    /// weight (largest remainder, see docs/rewards.md). The list must include the first
    /// valid reporter. Absent or empty: the whole reward goes to the first valid reporter.
    #[serde(default)]
    pub co_reporters: Vec<CoReporter>,
    pub reason: Option<String>,
}

/// One co-reporter recorded by the decision.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoReporter {
    /// The tip: this case's id or tracking code, or that of a tip merged into it.
    pub tip: String,
    /// The recorded weight, a whole number from 1 to 10,000; the share is
    /// weight ÷ (sum of the weights) of the reward.
    pub weight: i64,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PreviewQuery {
    /// `A`, `B` or `C`.
    pub grade: Option<String>,
    pub no_loss_amount_fen: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagsRequest {
    /// 快奖: the reward steps get their own, shorter deadlines.
    #[serde(default)]
    pub quick: Option<bool>,
    /// 重奖: the policy's multiplier applies (still under the cap).
    #[serde(default)]
    pub heavy: Option<bool>,
    pub reason: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Co-reporters
// ---------------------------------------------------------------------------------------------

/// A tip that may be rewarded: the case, or a tip merged into it.
#[derive(Debug, Clone)]
struct Candidate {
    id: String,
    tracking_code: String,
    /// Its reporter is not excluded.
    valid: bool,
}

/// Checks the co-reporters of a proposal against the tips of the case and returns their
/// tip ids and weights in the order recorded. Each must name the case or a tip merged into
/// it (by id or tracking code), at most once, whose reporter is not excluded, with a weight
/// from 1 to [`share::MAX_WEIGHT`]; at most [`share::MAX_CO_REPORTERS`] of them, and the
/// first valid reporter (`first`) among them, so that co-reporters share the reward DOMAIN §5
/// gives the first valid reporter rather than take it from them.
fn resolve_co_reporters(
    list: &[CoReporter],
    candidates: &[Candidate],
    first: &str,
) -> AppResult<Vec<(String, u32)>> {
    if list.len() > share::MAX_CO_REPORTERS {
        return Err(
            AppError::invalid("co_reporters", "error-reward-co-reporters-too-many")
                .arg("max", share::MAX_CO_REPORTERS),
        );
    }
    let mut out: Vec<(String, u32)> = Vec::with_capacity(list.len());
    for c in list {
        let tip = c.tip.trim();
        let code = tracking::normalize_code(tip);
        let Some(found) = candidates
            .iter()
            .find(|k| k.id == tip || code.as_deref() == Some(k.tracking_code.as_str()))
        else {
            return Err(
                AppError::invalid("co_reporters.tip", "error-reward-co-reporter-unknown")
                    .arg("tip", shown(tip)),
            );
        };
        if out.iter().any(|(id, _)| *id == found.id) {
            return Err(AppError::invalid(
                "co_reporters.tip",
                "error-reward-co-reporter-duplicate",
            )
            .arg("tip", shown(tip)));
        }
        if !found.valid {
            return Err(
                AppError::invalid("co_reporters.tip", "error-reward-co-reporter-excluded")
                    .arg("tip", shown(tip)),
            );
        }
        let weight = u32::try_from(c.weight)
            .ok()
            .filter(|w| (1..=share::MAX_WEIGHT).contains(w))
            .ok_or_else(|| {
                AppError::invalid("co_reporters.weight", "error-reward-co-reporter-weight")
                    .arg("max", share::MAX_WEIGHT)
            })?;
        out.push((found.id.clone(), weight));
    }
    if !out.is_empty() && !out.iter().any(|(id, _)| id == first) {
        // Named by its case id: the tracking code is the reporter's, not for staff screens.
        return Err(
            AppError::invalid("co_reporters", "error-reward-co-reporters-first")
                .arg("tip", first.to_string()),
        );
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------------------------

/// `GET /cases/{id}/reward/preview`: the amount and its explanation, nothing stored.
pub async fn preview(
    wf: &Workflow,
    p: &Principal,
    case_id: &str,
    q: &PreviewQuery,
) -> AppResult<Computation> {
    let (mut tx, case) = read_case(wf, p, case_id).await?;
    let grade = match q.grade.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("A") | Some("a") => Some(Grade::A),
        Some("B") | Some("b") => Some(Grade::B),
        Some("C") | Some("c") => Some(Grade::C),
        Some(_) => return Err(AppError::invalid("grade", "error-wrong-type")),
    };
    let d = decision(&mut tx, case_id).await?;
    drop(tx);
    if !is_decided(&case) {
        return Err(wrong_case_status(&case));
    }
    due_decision(&d)?;
    let pol = policy_for(wf, &case)?;
    policy::compute(&pol, &input_of(&d, grade, q.no_loss_amount_fen)).map_err(compute_error)
}

/// `POST /cases/{id}/reward/flags`: a supervisor marks a case for a quick and/or heavy
/// reward, before the reward is approved.
pub async fn set_flags(
    wf: &Workflow,
    p: &Principal,
    case_id: &str,
    req: FlagsRequest,
) -> AppResult<serde_json::Value> {
    reward_op!(wf, p, case_id, "reward_flags", |op| {
        if !p.has(Role::Supervisor) {
            return Err(forbidden());
        }
        let why = reason("reason", req.reason.as_deref())?;
        if !matches!(
            op.case.status,
            Status::Accepted | Status::Checking | Status::Decided | Status::Closed
        ) {
            return Err(wrong_case_status(&op.case));
        }
        if let Some(r) = reward_of_case(&mut op.tx, case_id).await? {
            if r.status != "returned" {
                return Err(wrong_reward_status(&r.status));
            }
        }
        let d = decision(&mut op.tx, case_id).await?;
        let quick = req.quick.unwrap_or(d.reward_quick != 0);
        let heavy = req.heavy.unwrap_or(d.reward_heavy != 0);
        sqlx::query("UPDATE reports SET reward_quick = $1, reward_heavy = $2 WHERE id = $3")
            .bind(i64::from(quick))
            .bind(i64::from(heavy))
            .bind(case_id)
            .execute(&mut *op.tx)
            .await?;
        let data = serde_json::json!({ "quick": quick, "heavy": heavy });
        op.event("reward_flags", None, None, Some(&why), data.clone())
            .await?;
        Ok(data)
    })
}

/// `POST /cases/{id}/reward`: the case's handler proposes the reward computed by the
/// policy in force on the receipt date. A returned proposal may be proposed again.
pub async fn propose(
    wf: &Workflow,
    p: &Principal,
    case_id: &str,
    req: ProposeRequest,
) -> AppResult<serde_json::Value> {
    reward_op!(wf, p, case_id, "reward_propose", |op| {
        if !is_assignee(p, &op.case) {
            return Err(forbidden());
        }
        if !is_decided(&op.case) {
            return Err(wrong_case_status(&op.case));
        }
        let why = reason("reason", req.reason.as_deref())?;
        if req.no_loss_amount_fen.is_some_and(|a| a < 0) {
            return Err(AppError::invalid("no_loss_amount_fen", "error-amount"));
        }
        let d = decision(&mut op.tx, case_id).await?;
        due_decision(&d)?;
        if req.facts_already_known {
            return Err(AppError::from(RewardError::FactsKnown));
        }
        let existing = reward_of_case(&mut op.tx, case_id).await?;
        if let Some(r) = &existing {
            if r.status != "returned" {
                return Err(wrong_reward_status(&r.status));
            }
        }
        // First valid reporter among the tips merged on the same facts (the case keeps
        // priority: tips are merged only into an earlier one).
        let merged: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT received_at, id, tracking_code FROM reports WHERE merged_into = $1 \
             ORDER BY id",
        )
        .bind(case_id)
        .fetch_all(&mut *op.tx)
        .await?;
        for id in &req.excluded_merged {
            if !merged.iter().any(|(_, m, _)| m == id) {
                return Err(AppError::invalid("excluded_merged", "error-wrong-type"));
            }
        }
        let case_code: String =
            sqlx::query_scalar("SELECT tracking_code FROM reports WHERE id = $1")
                .bind(case_id)
                .fetch_one(&mut *op.tx)
                .await?;
        let mut candidates = vec![(
            op.case.received_at.clone(),
            req.excluded_kind.is_none(),
            op.case.id.clone(),
        )];
        let mut tips = vec![Candidate {
            id: op.case.id.clone(),
            tracking_code: case_code,
            valid: req.excluded_kind.is_none(),
        }];
        for (at, id, code) in merged {
            let valid = !req.excluded_merged.contains(&id);
            tips.push(Candidate {
                id: id.clone(),
                tracking_code: code,
                valid,
            });
            candidates.push((at, valid, id));
        }
        let Some(beneficiary) = share::first_valid(&candidates).cloned() else {
            return Err(AppError::from(RewardError::Excluded));
        };
        let co = resolve_co_reporters(&req.co_reporters, &tips, &beneficiary)?;
        let pol = policy_for(op.wf, &op.case)?;
        let pol = &pol;
        let input = input_of(&d, req.grade, req.no_loss_amount_fen);
        let c = policy::compute(pol, &input).map_err(compute_error)?;
        // Who gets what: the co-reporters by weight, or the first valid reporter alone.
        let weights = if co.is_empty() {
            vec![(beneficiary.clone(), 1)]
        } else {
            co.clone()
        };
        let sharing = share::explain(c.amount_fen, &weights).map_err(AppError::internal)?;
        if !co.is_empty() && sharing.lines.iter().any(|l| l.amount_fen < 1) {
            return Err(AppError::invalid(
                "co_reporters.weight",
                "error-reward-co-reporter-zero-share",
            ));
        }
        let needs_sup = needs_supervisor(op.wf, pol, c.amount_fen);
        let now = store::ts(wf.db.now());
        let mut stated = serde_json::json!({
            "input": input,
            "excluded_kind": req.excluded_kind,
            "excluded_merged": req.excluded_merged,
            "quick": d.reward_quick != 0,
        });
        let computation = if co.is_empty() {
            serde_json::to_string(&c).map_err(AppError::internal)?
        } else {
            stated["co_reporters"] = serde_json::json!(co
                .iter()
                .map(|(id, w)| serde_json::json!({ "case_id": id, "weight": w }))
                .collect::<Vec<_>>());
            // The explanation gains how the total was split, with the rule.
            let mut v = serde_json::to_value(&c).map_err(AppError::internal)?;
            v["sharing"] = serde_json::to_value(&sharing).map_err(AppError::internal)?;
            v.to_string()
        };
        let reward_id = match &existing {
            Some(r) => {
                sqlx::query(
                    "UPDATE rewards SET beneficiary_report_id = $1, policy_id = $2, \
                     policy_version = $3, input = $4, computation = $5, amount_fen = $6, \
                     status = 'proposed', needs_supervisor = $7, proposed_by = $8, proposed_at = $9, \
                     finance_approved_by = NULL, finance_approved_at = NULL, \
                     supervisor_approved_by = NULL, supervisor_approved_at = NULL, \
                     version = version + 1 WHERE id = $10 AND version = $11",
                )
                .bind(&beneficiary)
                .bind(&pol.id)
                .bind(i64::from(pol.version))
                .bind(stated.to_string())
                .bind(&computation)
                .bind(c.amount_fen)
                .bind(i64::from(needs_sup))
                .bind(&p.id)
                .bind(&now)
                .bind(&r.id)
                .bind(r.version)
                .execute(&mut *op.tx)
                .await?;
                // A returned reward was never notified: its shares are simply replaced.
                sqlx::query("DELETE FROM reward_shares WHERE reward_id = $1")
                    .bind(&r.id)
                    .execute(&mut *op.tx)
                    .await?;
                r.id.clone()
            }
            None => {
                let id = uuid::Uuid::now_v7().to_string();
                sqlx::query(
                    "INSERT INTO rewards (id, report_id, beneficiary_report_id, case_region, \
                     policy_id, policy_version, input, computation, amount_fen, status, \
                     needs_supervisor, proposed_by, proposed_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'proposed', $10, $11, $12)",
                )
                .bind(&id)
                .bind(case_id)
                .bind(&beneficiary)
                .bind(&op.case.case_region)
                .bind(&pol.id)
                .bind(i64::from(pol.version))
                .bind(stated.to_string())
                .bind(&computation)
                .bind(c.amount_fen)
                .bind(i64::from(needs_sup))
                .bind(&p.id)
                .bind(&now)
                .execute(&mut *op.tx)
                .await?;
                id
            }
        };
        for (seq, line) in sharing.lines.iter().enumerate() {
            sqlx::query(
                "INSERT INTO reward_shares (id, reward_id, report_id, seq, weight, amount_fen, \
                 status) VALUES ($1, $2, $3, $4, $5, $6, 'pending')",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(&reward_id)
            .bind(&line.key)
            .bind(i64::try_from(seq).unwrap_or(i64::MAX))
            .bind(i64::from(line.weight))
            .bind(line.amount_fen)
            .execute(&mut *op.tx)
            .await?;
        }
        let mut data = serde_json::json!({
            "reward_id": reward_id,
            "amount_fen": c.amount_fen,
            "policy_id": pol.id,
            "policy_version": pol.version,
            "needs_supervisor": needs_sup,
            "beneficiary_is_case": beneficiary == op.case.id,
        });
        if !co.is_empty() {
            data["shares"] = serde_json::json!(sharing
                .lines
                .iter()
                .map(|l| serde_json::json!({
                    "case_id": l.key, "weight": l.weight, "amount_fen": l.amount_fen,
                }))
                .collect::<Vec<_>>());
            data["remainder_rule"] = serde_json::json!(share::REMAINDER_RULE);
        }
        quick_clock(&mut op.tx, op.wf, case_id, ClockKind::RewardApprove, pol).await?;
        op.event("reward_proposed", None, None, Some(&why), data.clone())
            .await?;
        Ok(data)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tips() -> Vec<Candidate> {
        ["case", "m1", "m2"]
            .iter()
            .map(|id| Candidate {
                id: (*id).to_string(),
                tracking_code: tracking::new_code(),
                valid: *id != "m2",
            })
            .collect()
    }

    fn co(list: &[(&str, i64)]) -> Vec<CoReporter> {
        list.iter()
            .map(|(tip, weight)| CoReporter {
                tip: (*tip).to_string(),
                weight: *weight,
            })
            .collect()
    }

    #[test]
    fn co_reporters_by_id_or_tracking_code() {
        let t = tips();
        // The tracking code as people type it, with spaces.
        let spaced = format!("{} {}", &t[1].tracking_code[..4], &t[1].tracking_code[4..]);
        let got = resolve_co_reporters(&co(&[("case", 2), (&spaced, 1)]), &t, "case").unwrap();
        assert_eq!(got, [("case".to_string(), 2), ("m1".to_string(), 1)]);
        assert_eq!(resolve_co_reporters(&[], &t, "case").unwrap(), []);
    }

    #[test]
    fn co_reporters_refused() {
        let t = tips();
        let code1 = t[1].tracking_code.clone();
        let cases: Vec<(Vec<CoReporter>, &str, &str)> = vec![
            (
                co(&[("case", 1), ("elsewhere", 1)]),
                "co_reporters.tip",
                "error-reward-co-reporter-unknown",
            ),
            (
                co(&[("case", 1), ("m1", 1), (&code1, 1)]),
                "co_reporters.tip",
                "error-reward-co-reporter-duplicate",
            ),
            (
                co(&[("case", 1), ("m2", 1)]),
                "co_reporters.tip",
                "error-reward-co-reporter-excluded",
            ),
            (
                co(&[("case", 1), ("m1", 0)]),
                "co_reporters.weight",
                "error-reward-co-reporter-weight",
            ),
            (
                co(&[("case", -3)]),
                "co_reporters.weight",
                "error-reward-co-reporter-weight",
            ),
            (
                co(&[("case", 10_001)]),
                "co_reporters.weight",
                "error-reward-co-reporter-weight",
            ),
            (
                co(&[("m1", 1)]),
                "co_reporters",
                "error-reward-co-reporters-first",
            ),
            (
                co(&vec![("case", 1); share::MAX_CO_REPORTERS + 1]),
                "co_reporters",
                "error-reward-co-reporters-too-many",
            ),
        ];
        for (list, field, msg) in cases {
            let e = resolve_co_reporters(&list, &t, "case").unwrap_err();
            assert_eq!(e.kind, crate::error::Kind::Invalid, "{msg}");
            assert_eq!(e.field.as_deref(), Some(field), "{msg}");
            assert_eq!(e.msg_id, msg);
        }
    }
}
