//! Resetting another user's TOTP takes two admins (DOMAIN §6): one asks, with a reason; a
//! different admin, not the user concerned, approves or refuses. Approval clears the second
//! factor and ends the user's sessions, so they enrol again at their next sign-in. Every
//! step is audited, refusals included.

use chrono::Utc;
use serde::Serialize;

use super::duties::{deny, SecondAdminDecision, MAX_REASON_CHARS};
use super::principal::Principal;
use super::StaffError;
use crate::audit::{self, Entry};
use crate::error::{AppError, AppResult};
use crate::store::{self, is_unique_violation, Db, Tx};
use crate::vault::Vault;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TotpReset {
    pub id: i64,
    pub user_id: String,
    pub username: String,
    /// Why the asking admin wants the reset.
    pub reason: String,
    /// `pending`, `approved` or `refused`.
    pub status: String,
    pub requested_by: String,
    pub requested_by_name: String,
    pub requested_at: String,
    pub decided_by: Option<String>,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<String>,
    pub decision_reason: Option<String>,
}

type ResetRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

const RESET_SELECT: &str = "SELECT t.id, t.user_id, u.username, t.reason, t.status, \
    t.requested_by, r.username, t.requested_at, t.decided_by, d.username, t.decided_at, \
    t.decision_reason FROM staff_totp_resets t JOIN staff_users u ON u.id = t.user_id \
    JOIN staff_users r ON r.id = t.requested_by LEFT JOIN staff_users d ON d.id = t.decided_by";

fn reset_from_row(r: ResetRow) -> TotpReset {
    TotpReset {
        id: r.0,
        user_id: r.1,
        username: r.2,
        reason: r.3,
        status: r.4,
        requested_by: r.5,
        requested_by_name: r.6,
        requested_at: r.7,
        decided_by: r.8,
        decided_by_name: r.9,
        decided_at: r.10,
        decision_reason: r.11,
    }
}

async fn reset_by_id(tx: &mut Tx<'_>, id: i64) -> AppResult<Option<TotpReset>> {
    let row: Option<ResetRow> = sqlx::query_as(&format!("{RESET_SELECT} WHERE t.id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.map(reset_from_row))
}

/// Reset requests with `status` (`None`: all), newest first, at most 200.
pub async fn list(db: &Db, status: Option<&str>) -> AppResult<Vec<TotpReset>> {
    let rows: Vec<ResetRow> = match status {
        Some(s) => {
            sqlx::query_as(&format!(
                "{RESET_SELECT} WHERE t.status = $1 ORDER BY t.id DESC LIMIT 200"
            ))
            .bind(s)
            .fetch_all(&db.pool)
            .await?
        }
        None => {
            sqlx::query_as(&format!("{RESET_SELECT} ORDER BY t.id DESC LIMIT 200"))
                .fetch_all(&db.pool)
                .await?
        }
    };
    Ok(rows.into_iter().map(reset_from_row).collect())
}

/// One admin asks to reset another user's TOTP. The user must have one (409), and may have
/// only one reset waiting (409); one's own is refused (403, audited).
pub async fn request(
    db: &Db,
    vault: &Vault,
    p: &Principal,
    user_id: &str,
    reason: &str,
) -> AppResult<TotpReset> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid("reason", "error-required"));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(AppError::invalid("reason", "error-too-long").arg("max", MAX_REASON_CHARS));
    }
    if user_id == p.id {
        let e = StaffError::OwnAccount.into();
        return Err(deny(db, vault, p, "totp_reset.request", e).await);
    }
    let mut tx = db.begin().await?;
    audit::lock(&mut tx).await?;
    let enabled: Option<i64> =
        sqlx::query_scalar("SELECT totp_enabled FROM staff_users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
    match enabled {
        None => return Err(StaffError::NotFound.into()),
        Some(0) => return Err(StaffError::TotpNotEnabled.into()),
        Some(_) => {}
    }
    let inserted: Result<i64, sqlx::Error> = sqlx::query_scalar(
        "INSERT INTO staff_totp_resets (user_id, reason, status, requested_by, requested_at) \
         VALUES ($1, $2, 'pending', $3, $4) RETURNING id",
    )
    .bind(user_id)
    .bind(reason)
    .bind(&p.id)
    .bind(store::ts(Utc::now()))
    .fetch_one(&mut *tx)
    .await;
    let id = match inserted {
        Ok(id) => id,
        Err(e) if is_unique_violation(&e) => return Err(StaffError::TotpResetPending.into()),
        Err(e) => return Err(e.into()),
    };
    audit::append(
        &mut tx,
        vault.audit_key(),
        &Entry::ok(
            &p.actor(),
            "totp_reset.request",
            serde_json::json!({ "reset": id, "user": user_id }),
        ),
    )
    .await?;
    let made = reset_by_id(&mut tx, id).await?;
    tx.commit().await?;
    made.ok_or_else(|| StaffError::NotFound.into())
}

/// A second admin approves or refuses. The admin who asked, or the user concerned, cannot
/// decide it (403, audited); a decided one is a 409. Approval clears the user's TOTP and
/// ends their sessions.
pub async fn decide(
    db: &Db,
    vault: &Vault,
    p: &Principal,
    id: i64,
    d: &SecondAdminDecision,
) -> AppResult<TotpReset> {
    let reason = d.checked_reason()?;
    let mut tx = db.begin().await?;
    audit::lock(&mut tx).await?;
    let Some(reset) = reset_by_id(&mut tx, id).await? else {
        return Err(StaffError::NotFound.into());
    };
    if !super::duties::is_second_admin(p, &reset.requested_by, &reset.user_id) {
        drop(tx);
        let e = StaffError::OwnRequest.into();
        return Err(deny(db, vault, p, "totp_reset.decide", e).await);
    }
    let now = store::ts(Utc::now());
    let status = if d.approve { "approved" } else { "refused" };
    let changed = sqlx::query(
        "UPDATE staff_totp_resets SET status = $1, decided_by = $2, decided_at = $3, \
         decision_reason = $4 WHERE id = $5 AND status = 'pending'",
    )
    .bind(status)
    .bind(&p.id)
    .bind(&now)
    .bind(reason)
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed != 1 {
        return Err(StaffError::NotPending.into());
    }
    if d.approve {
        sqlx::query(
            "UPDATE staff_users SET totp_secret = NULL, totp_enabled = 0, totp_last_step = NULL, \
             updated_at = $1 WHERE id = $2",
        )
        .bind(&now)
        .bind(&reset.user_id)
        .execute(&mut *tx)
        .await?;
        super::auth::revoke_user(&mut tx, &reset.user_id).await?;
    }
    audit::append(
        &mut tx,
        vault.audit_key(),
        &Entry::ok(
            &p.actor(),
            if d.approve {
                "totp_reset.approve"
            } else {
                "totp_reset.refuse"
            },
            serde_json::json!({ "reset": id, "user": reset.user_id }),
        ),
    )
    .await?;
    let decided = reset_by_id(&mut tx, id).await?;
    tx.commit().await?;
    decided.ok_or_else(|| StaffError::NotFound.into())
}
