//! The reward's clocks and the notice: the notice clock the decision opens when a reward is
//! due ([`open_notice_clock`]), a quick reward's (快奖) own approval and payment clocks
//! ([`quick_clock`]), and the notice to the reporter ([`notify_reporter`]), which starts
//! the claim window.

use super::{
    existing_reward, is_quick, policy_for, reporter_locale, reward_op, shares_of, tell,
    wrong_reward_status, yuan,
};
use crate::deadlines::clocks::{self, ClockKind, NewClock};
use crate::deadlines::period::{Due, Period};
use crate::error::AppResult;
use crate::i18n;
use crate::rewards::policies;
use crate::rewards::policy::Policy;
use crate::staff::principal::Principal;
use crate::staff::Role;
use crate::store::{self, Tx};
use crate::workflow::{forbidden, is_assignee, Op, Workflow};

// ---------------------------------------------------------------------------------------------
// Clocks
// ---------------------------------------------------------------------------------------------

/// Called by the decision (workflow) in its transaction when a reward is due: start the
/// reward-notice clock (the policy's `notice_working_days`, or the quick deadline).
pub async fn open_notice_clock(op: &mut Op<'_>) -> AppResult<()> {
    let wf = op.wf;
    let quick = is_quick(&mut op.tx, &op.case.id).await?;
    // No policy covers the case (a region without one): the national default, 5 working
    // days; the proposal will then say that no policy applies.
    let policy = policy_for(wf, &op.case).ok();
    let (days, rule) = if quick {
        (
            wf.config.rewards.quick_notice_working_days,
            "rewards.quick_notice_working_days".to_string(),
        )
    } else {
        policy.as_ref().map_or((5, "national@1".to_string()), |p| {
            (p.notice_working_days, p.label())
        })
    };
    let case_id = op.case.id.clone();
    open_reward_clock(
        &mut op.tx,
        wf,
        &case_id,
        ClockKind::RewardNotice,
        Period::WorkingDays(days),
        &rule,
    )
    .await?;
    Ok(())
}

/// Open a reward clock of a case from now, with the period its reward policy sets (the
/// policy is the clock's rule).
async fn open_reward_clock(
    tx: &mut Tx<'_>,
    wf: &Workflow,
    case_id: &str,
    kind: ClockKind,
    period: Period,
    rule: &str,
) -> Result<Due, sqlx::Error> {
    let clock = NewClock::new(case_id, kind, wf.db.now(), period, rule);
    clocks::open(tx, &wf.calendar.current(), &clock).await
}

/// A quick reward's (快奖) own clocks for its approval and payment steps.
pub(super) async fn quick_clock(
    tx: &mut Tx<'_>,
    wf: &Workflow,
    case_id: &str,
    kind: ClockKind,
    pol: &Policy,
) -> Result<(), sqlx::Error> {
    if !is_quick(tx, case_id).await? {
        return Ok(());
    }
    let days = if kind == ClockKind::RewardApprove {
        pol.quick_approve_working_days
    } else {
        pol.quick_pay_working_days
    };
    clocks::close(tx, case_id, &[kind], wf.db.now()).await?;
    open_reward_clock(
        tx,
        wf,
        case_id,
        kind,
        Period::WorkingDays(days),
        &pol.label(),
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The notice
// ---------------------------------------------------------------------------------------------

/// `POST /cases/{id}/reward/notice`: tell the reporter (timeline + their channel) and start
/// the claim window. The case's handler or finance.
pub async fn notify_reporter(
    wf: &Workflow,
    p: &Principal,
    case_id: &str,
) -> AppResult<serde_json::Value> {
    reward_op!(wf, p, case_id, "reward_notice", |op| {
        if !(is_assignee(p, &op.case) || p.has(Role::Finance)) {
            return Err(forbidden());
        }
        let r = existing_reward(&mut op.tx, case_id).await?;
        if r.status != "approved" {
            return Err(wrong_reward_status(&r.status));
        }
        let set = policies(&op.wf.config)?;
        let claim_days = r.policy(&set).map_or(60, |pol| pol.claim_days);
        let now = wf.db.now();
        // The window's last day moves off a rest day (Civil Code art. 203).
        let rule = format!("{}@{}", r.policy_id, r.policy_version);
        clocks::close(&mut op.tx, case_id, &[ClockKind::RewardNotice], now).await?;
        let claim_by = open_reward_clock(
            &mut op.tx,
            op.wf,
            case_id,
            ClockKind::RewardClaim,
            Period::Days(claim_days),
            &rule,
        )
        .await?
        .on;
        sqlx::query(
            "UPDATE rewards SET status = 'notified', notified_at = $1, claim_by = $2, \
             version = version + 1 WHERE id = $3",
        )
        .bind(store::ts(now))
        .bind(claim_by.to_string())
        .bind(&r.id)
        .execute(&mut *op.tx)
        .await?;
        let shares = shares_of(&mut op.tx, &r.id).await?;
        sqlx::query(
            "UPDATE reward_shares SET status = 'notified' WHERE reward_id = $1 \
             AND status = 'pending'",
        )
        .bind(&r.id)
        .execute(&mut *op.tx)
        .await?;
        // Each share's reporter is told through their own tip's channel.
        for sh in &shares {
            let loc = reporter_locale(&mut op.tx, &sh.report_id).await?;
            let note = if shares.len() == 1 {
                i18n::t(
                    loc,
                    "reward-notice-note",
                    &[
                        ("amount", yuan(sh.amount_fen)),
                        ("claim_by", claim_by.to_string()),
                    ],
                )
            } else {
                i18n::t(
                    loc,
                    "reward-share-notice-note",
                    &[
                        ("amount", yuan(sh.amount_fen)),
                        ("total", yuan(r.amount_fen)),
                        ("claim_by", claim_by.to_string()),
                    ],
                )
            };
            tell(
                &mut op.tx,
                op.wf,
                &sh.report_id,
                "reward_notified",
                Some(note),
            )
            .await?;
        }
        let data = serde_json::json!({
            "reward_id": r.id,
            "status": "notified",
            "claim_by": claim_by.to_string(),
        });
        op.event("reward_notified", None, None, None, data.clone())
            .await?;
        Ok(data)
    })
}
