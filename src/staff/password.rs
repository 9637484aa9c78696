//! A staff member changes their own password. For an account an admin created
//! (`password_change_required`) this is the one thing its sign-in may do; the change ends
//! every session of the account, that one included, and the next sign-in is a normal one.
//! Otherwise the caller's other sessions end and this one stays.

use chrono::Utc;

use super::principal::Principal;
use super::{check_password, hash_password_queued, verify_password_queued, StaffError};
use crate::audit::{self, Entry};
use crate::error::{AppError, AppResult};
use crate::store::{self, Db};
use crate::vault::Vault;

pub async fn change_password(
    db: &Db,
    vault: &Vault,
    p: &Principal,
    current: &str,
    new: &str,
) -> AppResult<()> {
    let (hash, required): (String, i64) = sqlx::query_as(
        "SELECT password_hash, password_change_required FROM staff_users WHERE id = $1",
    )
    .bind(&p.id)
    .fetch_one(&db.pool)
    .await?;
    if !verify_password_queued(&hash, current).await? {
        let e = AppError::invalid("current_password", "error-invalid-credentials");
        return Err(super::duties::deny(db, vault, p, "auth.password", e).await);
    }
    check_password(new).map_err(|m| AppError::invalid("new_password", m))?;
    if new == current {
        return Err(StaffError::PasswordUnchanged.into());
    }
    let new_hash = hash_password_queued(new).await?;
    let now = store::ts(Utc::now());
    let first = required != 0;
    let mut tx = db.begin().await?;
    audit::lock(&mut tx).await?;
    sqlx::query(
        "UPDATE staff_users SET password_hash = $1, password_change_required = 0, \
         updated_at = $2 WHERE id = $3",
    )
    .bind(new_hash)
    .bind(&now)
    .bind(&p.id)
    .execute(&mut *tx)
    .await?;
    // The restricted sign-in ends with the rest; a normal one stays.
    let keep = if first { "" } else { p.session.as_str() };
    sqlx::query(
        "UPDATE staff_sessions SET revoked_at = $1 WHERE user_id = $2 AND id <> $3 \
         AND revoked_at IS NULL",
    )
    .bind(&now)
    .bind(&p.id)
    .bind(keep)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        vault.audit_key(),
        &Entry::ok(
            &p.actor(),
            "auth.password",
            serde_json::json!({ "first": first }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
