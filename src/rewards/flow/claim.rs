//! The reporter's side: claiming a notified reward (or their share of it), by bank transfer
//! (with the claim verifier set at report time: the last six characters of the ID number)
//! or in person (where two finance officers check the claimant's identity, `identity`).
//! The reporter is already authenticated by tracking code and passcode; refusals are
//! audited.

use serde::{Deserialize, Serialize};

use super::notice::quick_clock;
use super::{
    reward_not_found, settle, tell, PayMethod, RewardRow, ShareRow, REWARD_COLUMNS, SHARE_SELECT,
};
use crate::audit::{self, Actor, Entry, Outcome};
use crate::deadlines::calendar::shanghai_date;
use crate::deadlines::clocks::ClockKind;
use crate::error::{AppError, AppResult};
use crate::i18n::Locale;
use crate::rewards::policies;
use crate::rewards::RewardError;
use crate::store::{self, ratelimit};
use crate::vault::claims::{normalize_bank_account, normalize_id_last6};
use crate::vault::Vault;
use crate::workflow::Workflow;

/// `POST /api/v1/reports/reward/claim` (reporter side, no login).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequest {
    pub tracking_code: String,
    pub passcode: String,
    #[serde(default)]
    pub bank_account: Option<String>,
    #[serde(default)]
    pub id_last6: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ClaimDone {
    pub status: &'static str,
    pub method: &'static str,
    pub amount_fen: i64,
}

async fn deny_claim(wf: &Workflow, report_id: &str, err: AppError) -> AppError {
    audit::record_denied(
        &wf.db,
        &wf.audit,
        &Actor::anonymous(),
        "reward.claim",
        Some(report_id),
        err.code,
    )
    .await;
    err
}

/// The reporter claims a notified reward (already authenticated by tracking code and
/// passcode under the look-up rate limits). A bank account, if given, goes into the vault
/// and the reward is paid by transfer, but only with `id_last6` matching the verifier the
/// reporter set with the tip (a real-name reporter's sealed ID number, or the claim
/// verifier's digest); a tip without one is refused (`no_claim_verifier`) and claims in
/// person. Given digits that do not match are refused and count against the claim limit.
pub async fn claim(
    wf: &Workflow,
    vault: &Vault,
    report_id: &str,
    req: &ClaimRequest,
    locale: Locale,
) -> AppResult<ClaimDone> {
    let now = wf.db.now();
    let today = shanghai_date(now);
    let loc = |e: AppError| e.in_locale(locale);
    let mut tx = wf.db.begin().await?;
    audit::lock(&mut tx).await?;
    // The tip's share (a co-reporter's tip has its own), and its reward.
    let share: Option<ShareRow> = sqlx::query_as(&format!(
        "{SHARE_SELECT} WHERE s.report_id = $1 ORDER BY s.id DESC"
    ))
    .bind(report_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(sh) = share else {
        drop(tx);
        return Err(deny_claim(wf, report_id, loc(reward_not_found())).await);
    };
    let r: RewardRow = sqlx::query_as(&format!(
        "SELECT {REWARD_COLUMNS} FROM rewards WHERE id = $1"
    ))
    .bind(&sh.reward_id)
    .fetch_one(&mut *tx)
    .await?;
    let expired = sh.status == "expired"
        || (sh.status == "notified"
            && r.claim_by
                .as_deref()
                .is_some_and(|c| *c < *today.to_string()));
    let refusal = if r.status == "reversed" {
        Some(reward_not_found())
    } else if expired {
        Some(AppError::from(RewardError::Expired))
    } else if matches!(sh.status.as_str(), "claimed" | "paid") {
        Some(AppError::from(RewardError::AlreadyClaimed))
    } else if sh.status != "notified" {
        Some(reward_not_found())
    } else {
        None
    };
    if let Some(e) = refusal {
        drop(tx);
        return Err(deny_claim(wf, report_id, loc(e)).await);
    }
    let bucket = format!(
        "rc:{}",
        hex::encode(vault.request_digest(&[b"reward-claim", sh.id.as_bytes()]))
    );
    let window = wf.config.intake.lookup_window_secs.secs();
    if ratelimit::current(&wf.db, &bucket, window, now).await?
        >= i64::from(wf.config.rewards.claim_failures_per_reward)
    {
        drop(tx);
        let e = crate::intake::followup::rate_limited(window);
        return Err(deny_claim(wf, report_id, loc(e)).await);
    }
    let checked = (|| -> AppResult<(Option<String>, Option<String>)> {
        let account =
            match req.bank_account.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(s) => Some(normalize_bank_account(s).ok_or_else(|| {
                    AppError::invalid("bank_account", "error-reward-bank-account")
                })?),
            };
        let last6 = match req.id_last6.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(
                normalize_id_last6(s)
                    .ok_or_else(|| AppError::invalid("id_last6", "error-reward-id-last6"))?,
            ),
        };
        Ok((account, last6))
    })();
    let (account, last6) = match checked {
        Ok(v) => v,
        Err(e) => {
            drop(tx);
            return Err(deny_claim(wf, report_id, loc(e)).await);
        }
    };
    // A bank transfer pays whoever names the account: it needs the verifier the reporter
    // set with the tip (the ID number's last six characters), which the passcode alone does
    // not give. Without one the reward can only be claimed in person, where two finance
    // officers check the claimant's identity.
    let verified = match &last6 {
        Some(l) => vault.verifier_matches(&mut tx, report_id, l).await?,
        None => None,
    };
    if verified == Some(false) {
        drop(tx);
        ratelimit::hit(&wf.db, &bucket, window, now).await?;
        let e = AppError::invalid("id_last6", "error-reward-id-mismatch").with_code("id_mismatch");
        return Err(deny_claim(wf, report_id, loc(e)).await);
    }
    let method = if let Some(acct) = &account {
        if last6.is_none() {
            drop(tx);
            let e = AppError::invalid("id_last6", "error-reward-verifier-required")
                .with_code("verifier_required");
            return Err(deny_claim(wf, report_id, loc(e)).await);
        }
        if verified.is_none() {
            drop(tx);
            let e = AppError::from(RewardError::NoVerifier);
            return Err(deny_claim(wf, report_id, loc(e)).await);
        }
        vault
            .store_bank_account(&mut tx, report_id, acct)
            .await
            .map_err(AppError::internal)?;
        PayMethod::BankTransfer
    } else {
        PayMethod::InPerson
    };
    let moved = sqlx::query(
        "UPDATE reward_shares SET status = 'claimed', claimed_at = $1, claim_method = $2 \
         WHERE id = $3 AND status = 'notified'",
    )
    .bind(store::ts(now))
    .bind(method.code())
    .bind(&sh.id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if moved != 1 {
        drop(tx);
        let e = AppError::from(RewardError::AlreadyClaimed);
        return Err(deny_claim(wf, report_id, loc(e)).await);
    }
    // The reward is claimed, and its claim clock met, once no share is still open; a
    // quick reward's payment clock starts then.
    if settle(&mut tx, &r, now).await? == "claimed" {
        if let Some(pol) = policies(&wf.config)
            .ok()
            .and_then(|set| r.policy(&set).cloned())
        {
            quick_clock(&mut tx, wf, &r.report_id, ClockKind::RewardPay, &pol).await?;
        }
    }
    tell(&mut tx, wf, report_id, "reward_claimed", None).await?;
    audit::append(
        &mut tx,
        &wf.audit,
        &Entry {
            actor: &Actor::anonymous(),
            action: "reward.claim",
            outcome: Outcome::Ok,
            report_id: Some(report_id),
            detail: serde_json::json!({ "reward_id": r.id, "method": method }),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(report_id = %report_id, "reward claimed");
    Ok(ClaimDone {
        status: "claimed",
        method: method.code(),
        amount_fen: sh.amount_fen,
    })
}
