//! TOTP second factor (RFC 6238: SHA-1, 6 digits, 30 s, one step of clock skew): the secret
//! sealed in the vault per user, enrolment, confirmation, and the single-use check (a code's
//! time step is remembered, so the same code never works twice).

use chrono::{DateTime, Utc};
use totp_rs::{Algorithm, TOTP};

use super::{StaffError, StaffUser};
use rand::RngCore;
use serde::Serialize;

use crate::audit::{self, Actor, Entry};
use crate::error::{AppError, AppResult};
use crate::store::{self, Db};
use crate::vault::context::totp_context;
use crate::vault::Vault;

pub(super) async fn open_totp_secret(
    vault: &Vault,
    user_id: &str,
    sealed: Option<&[u8]>,
) -> AppResult<Vec<u8>> {
    let sealed =
        sealed.ok_or_else(|| AppError::internal(anyhow::anyhow!("totp secret missing")))?;
    vault
        .open_blob(&totp_context(user_id), sealed)
        .await
        .map_err(AppError::internal)
}

fn totp_for(secret: &[u8]) -> Option<TOTP> {
    TOTP::new(Algorithm::SHA1, 6, 1, 30, secret.to_vec()).ok()
}

/// The time step a code is valid for (now, or one step either side), if it is newer than
/// the last one accepted (a code is never accepted twice).
pub fn check_totp(
    secret: &[u8],
    code: &str,
    now: DateTime<Utc>,
    last_step: Option<i64>,
) -> Option<i64> {
    let totp = totp_for(secret)?;
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let t = u64::try_from(now.timestamp()).ok()?;
    for dt in [0i64, -30, 30] {
        let at = t.checked_add_signed(dt)?;
        let step = i64::try_from(at / 30).ok()?;
        if last_step.is_some_and(|l| step <= l) {
            continue;
        }
        if subtle::ConstantTimeEq::ct_eq(totp.generate(at).as_bytes(), code.as_bytes()).into() {
            return Some(step);
        }
    }
    None
}

/// The current code for a secret (tests and the enrolment check).
pub fn totp_now(secret: &[u8], now: DateTime<Utc>) -> Option<String> {
    Some(totp_for(secret)?.generate(u64::try_from(now.timestamp()).ok()?))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TotpSetup {
    /// Base32 secret to type into an authenticator app.
    pub secret: String,
    /// `otpauth://` URI for a QR code.
    pub otpauth_uri: String,
}

/// Start (or restart) enrolment: a new secret, sealed, not yet enabled.
pub async fn totp_setup(db: &Db, vault: &Vault, user: &StaffUser) -> AppResult<TotpSetup> {
    if user.totp_enabled {
        return Err(StaffError::TotpAlreadyEnabled.into());
    }
    let mut secret = vec![0u8; 20];
    rand::thread_rng().fill_bytes(&mut secret);
    let sealer = vault.sealer().await?;
    let sealed = sealer.seal_blob(&totp_context(&user.id), &secret);
    sqlx::query("UPDATE staff_users SET totp_secret = $1, updated_at = $2 WHERE id = $3")
        .bind(sealed)
        .bind(store::ts(Utc::now()))
        .bind(&user.id)
        .execute(&db.pool)
        .await?;
    let totp = totp_for(&secret).ok_or_else(|| AppError::internal(anyhow::anyhow!("totp")))?;
    let b32 = totp.get_secret_base32();
    Ok(TotpSetup {
        otpauth_uri: format!(
            "otpauth://totp/jubao:{}?secret={b32}&issuer=jubao&algorithm=SHA1&digits=6&period=30",
            user.username
        ),
        secret: b32,
    })
}

/// Finish enrolment with a code from the app; the session then counts as second-factor.
pub async fn totp_confirm(
    db: &Db,
    vault: &Vault,
    user: &StaffUser,
    sid: &str,
    code: &str,
) -> AppResult<()> {
    let row: Option<(Option<Vec<u8>>, i64)> =
        sqlx::query_as("SELECT totp_secret, totp_enabled FROM staff_users WHERE id = $1")
            .bind(&user.id)
            .fetch_optional(&db.pool)
            .await?;
    let Some((Some(sealed), 0)) = row else {
        return Err(StaffError::TotpNotStarted.into());
    };
    let secret = open_totp_secret(vault, &user.id, Some(&sealed)).await?;
    let Some(step) = check_totp(&secret, code, Utc::now(), None) else {
        return Err(StaffError::InvalidTotpCode.into());
    };
    let mut tx = db.begin().await?;
    audit::lock(&mut tx).await?;
    sqlx::query(
        "UPDATE staff_users SET totp_enabled = 1, totp_last_step = $1, updated_at = $2 WHERE id = $3",
    )
    .bind(step)
    .bind(store::ts(Utc::now()))
    .bind(&user.id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE staff_sessions SET mfa = 1 WHERE id = $1")
        .bind(sid)
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        vault.audit_key(),
        &Entry::ok(
            &Actor {
                id: Some(user.id.clone()),
                name: user.username.clone(),
            },
            "auth.totp_enabled",
            serde_json::json!({}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totp_rfc6238_sha1_vector() {
        // RFC 6238 appendix B, SHA-1, T = 59 s → 94287082 (8 digits); our 6-digit code is
        // its last six digits.
        let secret = b"12345678901234567890";
        let now = DateTime::from_timestamp(59, 0).unwrap();
        assert_eq!(totp_now(secret, now).unwrap(), "287082");
        assert_eq!(check_totp(secret, "287 082", now, None), Some(1));
        // Not twice.
        assert_eq!(check_totp(secret, "287082", now, Some(1)), None);
        assert_eq!(check_totp(secret, "000000", now, None), None);
    }
}
