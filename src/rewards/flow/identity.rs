//! The payment step's two safeguards for the reporter (DOMAIN §5, issue 15 item 7):
//!
//! - an in-person claim is paid only after two distinct finance officers recorded the
//!   claimant's identity check ([`identity_check`]): the first records the last six
//!   characters of the ID document shown (kept as a keyed digest bound to the share), the
//!   second confirms with the same characters; both are audited. When the tip has a claim
//!   verifier (the sealed ID number of a real-name reporter, or the verifier an anonymous
//!   reporter set), the document must match it;
//! - finance sees the bank account of a transfer claim only here, at the payment step,
//!   masked to its last four digits, and each opening is audited ([`bank_account`]).

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{begin, existing_reward, reward_op, shares_of, shown, wrong_reward_status, ShareRow};
use crate::error::{AppError, AppResult};
use crate::rewards::RewardError;
use crate::staff::principal::Principal;
use crate::staff::Role;
use crate::store::{self, Tx};
use crate::vault::claims::normalize_id_last6;
use crate::vault::Vault;
use crate::workflow::{forbidden, Workflow};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityCheckRequest {
    /// The last six characters of the ID number on the document the claimant shows.
    pub id_last6: String,
    /// The share checked (its `share_id` or its tip's case id), when the reward is shared.
    #[serde(default)]
    pub tip: Option<String>,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShareQuery {
    /// The share (its `share_id` or its tip's case id), when the reward is shared.
    pub tip: Option<String>,
}

/// The share a payment-step request names: by its tip, or the only one.
pub(super) async fn share_named(
    tx: &mut Tx<'_>,
    reward_id: &str,
    tip: Option<&str>,
) -> AppResult<(ShareRow, bool)> {
    let mut shares = shares_of(tx, reward_id).await?;
    let shared = shares.len() > 1;
    let i = match tip.map(str::trim) {
        Some(tip) if !tip.is_empty() => {
            shares.iter().position(|sh| sh.is_tip(tip)).ok_or_else(|| {
                AppError::invalid("tip", "error-reward-share-unknown").arg("tip", shown(tip))
            })?
        }
        _ if !shared && !shares.is_empty() => 0,
        _ if !shared => return Err(AppError::internal(anyhow::anyhow!("reward without shares"))),
        _ => return Err(AppError::invalid("tip", "error-reward-share-required")),
    };
    Ok((shares.swap_remove(i), shared))
}

fn id_mismatch() -> AppError {
    AppError::invalid("id_last6", "error-reward-id-mismatch").with_code("id_mismatch")
}

/// `POST /cases/{id}/reward/identity-check`: a finance officer records (first) or confirms
/// (second, a different officer) the identity check of an in-person claim.
pub async fn identity_check(
    wf: &Workflow,
    vault: &Vault,
    p: &Principal,
    case_id: &str,
    req: IdentityCheckRequest,
) -> AppResult<serde_json::Value> {
    reward_op!(wf, p, case_id, "reward_identity_check", |op| {
        if !p.has(Role::Finance) {
            return Err(forbidden());
        }
        let last6 = normalize_id_last6(&req.id_last6)
            .ok_or_else(|| AppError::invalid("id_last6", "error-reward-id-last6"))?;
        let r = existing_reward(&mut op.tx, case_id).await?;
        let (sh, shared) = share_named(&mut op.tx, &r.id, req.tip.as_deref()).await?;
        if sh.status != "claimed" || sh.claim_method.as_deref() != Some("in_person") {
            return Err(wrong_reward_status(&sh.status));
        }
        if vault
            .verifier_matches(&mut op.tx, &sh.report_id, &last6)
            .await?
            == Some(false)
        {
            return Err(id_mismatch());
        }
        let digest = vault.id_check_digest(&sh.id, &last6);
        let first: Option<(Vec<u8>, String, Option<String>)> = sqlx::query_as(
            "SELECT digest, checked_by, confirmed_by FROM reward_identity_checks \
             WHERE share_id = $1",
        )
        .bind(&sh.id)
        .fetch_optional(&mut *op.tx)
        .await?;
        let now = store::ts(wf.db.now());
        let step = match first {
            None => {
                sqlx::query(
                    "INSERT INTO reward_identity_checks (share_id, digest, checked_by, \
                     checked_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(&sh.id)
                .bind(digest.to_vec())
                .bind(&p.id)
                .bind(&now)
                .execute(&mut *op.tx)
                .await?;
                "recorded"
            }
            Some((_, _, Some(_))) => return Err(AppError::from(RewardError::IdentityChecked)),
            Some((_, by, None)) if by == p.id => {
                return Err(AppError::from(RewardError::SecondOfficer))
            }
            Some((d, _, None)) => {
                if !crate::vault::crypto::digest_eq(&d, &digest) {
                    return Err(id_mismatch());
                }
                sqlx::query(
                    "UPDATE reward_identity_checks SET confirmed_by = $1, confirmed_at = $2 \
                     WHERE share_id = $3 AND confirmed_by IS NULL",
                )
                .bind(&p.id)
                .bind(&now)
                .bind(&sh.id)
                .execute(&mut *op.tx)
                .await?;
                "confirmed"
            }
        };
        let mut data = serde_json::json!({ "reward_id": r.id, "identity_check": step });
        if shared {
            data["share_id"] = serde_json::json!(sh.id);
        }
        op.event("reward_identity_check", None, None, None, data.clone())
            .await?;
        Ok(data)
    })
}

/// Whether two finance officers confirmed the identity check of share `share_id`.
pub(super) async fn identity_confirmed(tx: &mut Tx<'_>, share_id: &str) -> AppResult<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM reward_identity_checks WHERE share_id = $1 \
         AND confirmed_by IS NOT NULL AND confirmed_by <> checked_by",
    )
    .bind(share_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(n > 0)
}

/// `GET /cases/{id}/reward/bank-account`: finance, at the payment step (a transfer claim not
/// yet paid), sees the account masked to its last four digits. Each opening is audited
/// (`case.reward_bank_account`, without the digits).
pub async fn bank_account(
    wf: &Workflow,
    vault: &Vault,
    p: &Principal,
    case_id: &str,
    tip: Option<&str>,
) -> AppResult<serde_json::Value> {
    let mut op = begin(wf, p, case_id, "reward_bank_account").await?;
    let r: AppResult<(serde_json::Value, serde_json::Value)> = async {
        if !p.has(Role::Finance) {
            return Err(forbidden());
        }
        let r = existing_reward(&mut op.tx, case_id).await?;
        let (sh, _) = share_named(&mut op.tx, &r.id, tip).await?;
        if sh.status != "claimed" || sh.claim_method.as_deref() != Some("bank_transfer") {
            return Err(wrong_reward_status(&sh.status));
        }
        let masked = vault
            .masked_bank_account(&mut *op.tx, &sh.report_id)
            .await
            .map_err(AppError::internal)?
            .ok_or_else(|| AppError::from(RewardError::NoBankAccount))?;
        let audit = serde_json::json!({ "reward_id": r.id, "share_id": sh.id });
        let shown = serde_json::json!({
            "reward_id": r.id,
            "share_id": sh.id,
            "amount_fen": sh.amount_fen,
            "bank_account": masked,
        });
        Ok((shown, audit))
    }
    .await;
    match r {
        Ok((shown, audit)) => {
            op.commit(audit).await?;
            Ok(shown)
        }
        Err(e) => Err(op.deny(e).await),
    }
}
