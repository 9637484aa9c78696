//! Money out and back: finance records the payment of a claimed share, once
//! ([`record_payment`]), and a reward obtained by fraud is reversed by a supervisor and
//! finance together ([`reverse`]).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    existing_reward, own_proposal, reward_op, settle, shares_of, tell, wrong_reward_status, yuan,
    NoteRequest,
};
use crate::deadlines::calendar::shanghai_date;
use crate::deadlines::clocks;
use crate::error::{AppError, AppResult};
use crate::rewards::RewardError;
use crate::staff::principal::Principal;
use crate::staff::{self, Role};
use crate::store;
use crate::vault::Vault;
use crate::workflow::{forbidden, reason, Workflow};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PayMethod {
    BankTransfer,
    InPerson,
}

impl PayMethod {
    pub fn code(self) -> &'static str {
        match self {
            PayMethod::BankTransfer => "bank_transfer",
            PayMethod::InPerson => "in_person",
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    pub method: PayMethod,
    /// Bank transfer reference, or the number of the signed in-person receipt.
    pub reference: String,
    /// Must equal the approved amount (fen).
    pub amount_fen: i64,
    /// YYYY-MM-DD; today when absent.
    #[serde(default)]
    pub paid_on: Option<String>,
    /// The share paid: its `share_id` (or its tip's case id). Needed only when the reward
    /// is shared between co-reporters; `amount_fen` is then that share's amount.
    #[serde(default)]
    pub tip: Option<String>,
}

/// `POST /cases/{id}/reward/payment`: finance records the payment, once.
pub async fn record_payment(
    wf: &Workflow,
    vault: &Vault,
    p: &Principal,
    case_id: &str,
    req: PaymentRequest,
) -> AppResult<serde_json::Value> {
    reward_op!(wf, p, case_id, "reward_payment", |op| {
        if !p.has(Role::Finance) {
            return Err(forbidden());
        }
        if req.amount_fen <= 0 {
            return Err(AppError::invalid("amount_fen", "error-amount"));
        }
        let reference = req.reference.trim().to_string();
        if reference.is_empty() {
            return Err(AppError::invalid("reference", "error-required"));
        }
        if reference.chars().count() > 100 {
            return Err(AppError::invalid("reference", "error-too-long").arg("max", 100));
        }
        let now = wf.db.now();
        let paid_on = match req.paid_on.as_deref().map(str::trim) {
            None | Some("") => shanghai_date(now),
            Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| AppError::invalid("paid_on", "error-date"))?,
        };
        if paid_on > shanghai_date(now) {
            return Err(AppError::invalid("paid_on", "error-date-future"));
        }
        let r = existing_reward(&mut op.tx, case_id).await?;
        if !matches!(r.status.as_str(), "notified" | "claimed" | "paid") {
            return Err(wrong_reward_status(&r.status));
        }
        // The share paid: named by its tip, or the only one.
        let (sh, shared) =
            super::identity::share_named(&mut op.tx, &r.id, req.tip.as_deref()).await?;
        let sh = &sh;
        if sh.status == "paid" {
            return Err(AppError::from(RewardError::AlreadyPaid));
        }
        if sh.status != "claimed" {
            return Err(wrong_reward_status(&sh.status));
        }
        if r.proposed_by == p.id {
            return Err(own_proposal());
        }
        if req.amount_fen != sh.amount_fen {
            return Err(
                AppError::invalid("amount_fen", "error-reward-amount-mismatch")
                    .arg("amount", yuan(sh.amount_fen)),
            );
        }
        match req.method {
            PayMethod::BankTransfer => {
                if !vault.has_bank_account(&mut *op.tx, &sh.report_id).await? {
                    return Err(AppError::from(RewardError::NoBankAccount));
                }
            }
            PayMethod::InPerson => {
                // Two finance officers checked the claimant's identity (identity.rs).
                if !super::identity::identity_confirmed(&mut op.tx, &sh.id).await? {
                    return Err(AppError::from(RewardError::IdentityCheckRequired));
                }
            }
        }
        let inserted = sqlx::query(
            "INSERT INTO reward_payments (share_id, reward_id, method, reference, amount_fen, \
             paid_on, year, case_region, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&sh.id)
        .bind(&r.id)
        .bind(req.method.code())
        .bind(&reference)
        .bind(sh.amount_fen)
        .bind(paid_on.to_string())
        .bind(i64::from(paid_on.year()))
        .bind(&r.case_region)
        .bind(&p.id)
        .bind(store::ts(now))
        .execute(&mut *op.tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(e) if store::is_unique_violation(&e) => {
                return Err(AppError::from(RewardError::AlreadyPaid))
            }
            Err(e) => return Err(e.into()),
        }
        let moved = sqlx::query(
            "UPDATE reward_shares SET status = 'paid', paid_at = $1 \
             WHERE id = $2 AND status = 'claimed'",
        )
        .bind(store::ts(now))
        .bind(&sh.id)
        .execute(&mut *op.tx)
        .await?
        .rows_affected();
        if moved != 1 {
            return Err(AppError::from(RewardError::AlreadyPaid));
        }
        let status = settle(&mut op.tx, &r, now).await?;
        tell(&mut op.tx, op.wf, &sh.report_id, "reward_paid", None).await?;
        // The reference is finance's record, not the reporter's: it stays out of the audit
        // detail beyond its length.
        let mut data = serde_json::json!({
            "reward_id": r.id,
            "status": status,
            "method": req.method,
            "amount_fen": sh.amount_fen,
            "paid_on": paid_on.to_string(),
        });
        let mut event = serde_json::json!({ "method": req.method, "reference": reference, "paid_on": paid_on.to_string() });
        if shared {
            data["share"] = serde_json::json!({ "case_id": sh.report_id, "status": "paid" });
            event["case_id"] = serde_json::json!(sh.report_id);
            event["amount_fen"] = serde_json::json!(sh.amount_fen);
        }
        op.event("reward_paid", None, None, None, event).await?;
        Ok(data)
    })
}

// ---------------------------------------------------------------------------------------------
// Reversal
// ---------------------------------------------------------------------------------------------

/// `POST /cases/{id}/reward/reversal`: a reward obtained by fraud is reversed by two people,
/// a supervisor and finance: the first records the request with the reason, the second (of
/// the other role) confirms. A paid reward stays counted as paid; recovering it is recorded
/// outside (the reversal says so).
pub async fn reverse(
    wf: &Workflow,
    p: &Principal,
    case_id: &str,
    req: NoteRequest,
) -> AppResult<serde_json::Value> {
    reward_op!(wf, p, case_id, "reward_reversal", |op| {
        if !p.has_any(&[Role::Finance, Role::Supervisor]) {
            return Err(forbidden());
        }
        let why = reason("reason", req.reason.as_deref())?;
        let r = existing_reward(&mut op.tx, case_id).await?;
        if !matches!(
            r.status.as_str(),
            "approved" | "notified" | "claimed" | "paid"
        ) {
            return Err(wrong_reward_status(&r.status));
        }
        let now = wf.db.now();
        let Some(requester) = r.reversal_requested_by.clone() else {
            sqlx::query(
                "UPDATE rewards SET reversal_requested_by = $1, reversal_requested_at = $2, \
                 reversal_reason = $3, version = version + 1 WHERE id = $4",
            )
            .bind(&p.id)
            .bind(store::ts(now))
            .bind(&why)
            .bind(&r.id)
            .execute(&mut *op.tx)
            .await?;
            let data = serde_json::json!({ "reward_id": r.id, "reversal": "requested" });
            op.event(
                "reward_reversal_requested",
                None,
                None,
                Some(&why),
                data.clone(),
            )
            .await?;
            return Ok(data);
        };
        if requester == p.id {
            return Err(AppError::from(RewardError::ReversalSecondPerson));
        }
        let first = staff::by_id(&op.wf.db.pool, &requester)
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("requester gone")))?;
        let pair_ok = (first.roles.contains(&Role::Supervisor) && p.has(Role::Finance))
            || (first.roles.contains(&Role::Finance) && p.has(Role::Supervisor));
        if !pair_ok {
            return Err(AppError::from(RewardError::ReversalSecondPerson));
        }
        sqlx::query(
            "UPDATE rewards SET status = 'reversed', reversed_by = $1, reversed_at = $2, \
             version = version + 1 WHERE id = $3",
        )
        .bind(&p.id)
        .bind(store::ts(now))
        .bind(&r.id)
        .execute(&mut *op.tx)
        .await?;
        clocks::close(&mut op.tx, case_id, &clocks::REWARD_KINDS, now).await?;
        // Every co-reporter who was told of the reward is told of its reversal; what was
        // paid (any share) is due back.
        if r.notified_at.is_some() {
            for sh in shares_of(&mut op.tx, &r.id).await? {
                tell(&mut op.tx, op.wf, &sh.report_id, "reward_reversed", None).await?;
            }
        }
        let repaid: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(SUM(amount_fen) AS BIGINT) FROM reward_payments WHERE reward_id = $1",
        )
        .bind(&r.id)
        .fetch_one(&mut *op.tx)
        .await?;
        let data = serde_json::json!({
            "reward_id": r.id,
            "status": "reversed",
            "was": r.status,
            "repayment_due_fen": repaid.unwrap_or(0),
        });
        op.event("reward_reversed", None, None, Some(&why), data.clone())
            .await?;
        Ok(data)
    })
}
