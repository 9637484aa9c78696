//! The periodic reward sweep: reminders to reporters whose claim window ends soon, and
//! expiry of the shares not claimed in time (the reporter is told). It runs with the
//! deadline sweep, before it.

use chrono::{Duration, NaiveDate};

use super::{reporter_locale, settle, tell, RewardRow, REWARD_COLUMNS};
use crate::audit::{self, Actor, Entry, Outcome};
use crate::i18n;
use crate::store::{self, Tx};
use crate::workflow::Workflow;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RewardSweep {
    /// Rewards whose open shares' reporters were reminded.
    pub reminded: usize,
    /// Shares expired (a reward of one share: the reward).
    pub expired: usize,
}

/// Remind reporters whose claim window ends within `claim_reminder_days`, and expire the
/// notified rewards whose window has passed (the reporter is told). Runs with the deadline
/// sweep, before it, so an expired reward's claim clock is closed rather than escalated.
pub async fn sweep(wf: &Workflow, today: NaiveDate) -> anyhow::Result<RewardSweep> {
    let mut stats = RewardSweep::default();
    let due: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, report_id FROM rewards \
         WHERE status = 'notified' AND claim_by < $1 ORDER BY claim_by LIMIT 500",
    )
    .bind(today.to_string())
    .fetch_all(&wf.db.pool)
    .await?;
    for (id, case_id) in due {
        let now = wf.db.now();
        let mut tx = wf.db.begin().await?;
        audit::lock(&mut tx).await?;
        let r: Option<RewardRow> = sqlx::query_as(&format!(
            "SELECT {REWARD_COLUMNS} FROM rewards WHERE id = $1 AND status = 'notified' \
             AND claim_by < $2"
        ))
        .bind(&id)
        .bind(today.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(r) = r else { continue };
        // Expiry is per share: the shares still open expire; claimed ones go on to payment.
        let open = open_share_tips(&mut tx, &id).await?;
        sqlx::query(
            "UPDATE reward_shares SET status = 'expired', expired_at = $1 \
             WHERE reward_id = $2 AND status = 'notified'",
        )
        .bind(store::ts(now))
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        let status = settle(&mut tx, &r, now)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        for tip in &open {
            tell(&mut tx, wf, tip, "reward_expired", None)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        let detail = serde_json::json!({ "reward_id": id, "shares": open.len(), "status": status });
        sqlx::query(
            "INSERT INTO case_events (report_id, at, actor_id, kind, data) VALUES ($1, $2, NULL, 'reward_expired', $3)",
        )
        .bind(&case_id)
        .bind(store::ts(now))
        .bind(detail.to_string())
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            &wf.audit,
            &Entry {
                actor: &Actor::system(),
                action: "reward.expire",
                outcome: Outcome::Ok,
                report_id: Some(&case_id),
                detail,
            },
        )
        .await?;
        tx.commit().await?;
        stats.expired += open.len();
    }
    let horizon = today + Duration::days(i64::from(wf.config.rewards.claim_reminder_days));
    let remind: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, claim_by FROM rewards WHERE status = 'notified' \
         AND claim_reminded_at IS NULL AND claim_by <= $1 AND claim_by >= $2 LIMIT 500",
    )
    .bind(horizon.to_string())
    .bind(today.to_string())
    .fetch_all(&wf.db.pool)
    .await?;
    for (id, claim_by) in remind {
        let mut tx = wf.db.begin().await?;
        let moved = sqlx::query(
            "UPDATE rewards SET claim_reminded_at = $1 WHERE id = $2 AND claim_reminded_at IS NULL",
        )
        .bind(store::ts(wf.db.now()))
        .bind(&id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved != 1 {
            continue;
        }
        // Only the co-reporters who have not claimed yet are reminded.
        let open = open_share_tips(&mut tx, &id).await?;
        for tip in open {
            let loc = reporter_locale(&mut tx, &tip).await?;
            let note = i18n::t(
                loc,
                "reward-claim-reminder-note",
                &[("claim_by", claim_by.clone())],
            );
            tell(&mut tx, wf, &tip, "reward_claim_reminder", Some(note))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        tx.commit().await?;
        stats.reminded += 1;
    }
    Ok(stats)
}

/// The tips of a reward's shares still open for a claim, in the order recorded.
async fn open_share_tips(tx: &mut Tx<'_>, reward_id: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT report_id FROM reward_shares WHERE reward_id = $1 AND status = 'notified' \
         ORDER BY seq",
    )
    .bind(reward_id)
    .fetch_all(&mut **tx)
    .await
}
