//! The authenticated staff member behind a request (`Authorization: Bearer …`).

use super::auth::Claims;
use super::{parse_roles, region_covers, Role};
use crate::audit::{self, Actor};
use crate::error::AppError;
use crate::store::{self, Db};
use crate::vault::Vault;

#[derive(Debug, Clone)]
pub struct Principal {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub region: String,
    pub locale: String,
    pub session: String,
    pub mfa: bool,
}

impl Principal {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn has_any(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.has(*r))
    }

    pub fn covers(&self, region: &str) -> bool {
        region_covers(&self.region, region)
    }

    pub fn actor(&self) -> Actor {
        Actor {
            id: Some(self.id.clone()),
            name: self.username.clone(),
        }
    }
}

/// A principal that may still be enrolling its second factor (only the TOTP endpoints take
/// this; everything else takes [`Principal`], which refuses such sessions).
pub struct Enrolling(pub Principal);

/// A principal that may still have to choose its own password: the one thing such a
/// sign-in serves is `POST /auth/password` (CONTRACT §8), which takes this.
pub struct PasswordChanging(pub Principal);

/// What a request's endpoint accepts of a session that is not yet complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Everything done: password chosen, second factor passed where the role needs it.
    Full,
    /// The second factor may still be in enrolment (TOTP set-up, logout, `me`).
    Enrolling,
    /// The password may still be the one an admin chose (the password change itself).
    PasswordChange,
}

use super::StaffError;

type SessionUser = (
    Option<String>,
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
);

/// Check a bearer token (the `Authorization` header's value, if any) against its session:
/// the staff member it names, or a 401 (audited as a refused token, at most once a minute
/// per `client` address: see [`super::limits`]). A session that still has to choose its
/// password or enrol TOTP is a 403 unless `access` allows it.
pub async fn authenticate(
    db: &Db,
    vault: &Vault,
    client: &str,
    authorization: Option<&str>,
    access: Access,
) -> Result<Principal, AppError> {
    let token = authorization
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Err(StaffError::Unauthenticated.into());
    };
    let reject = |reason: String| {
        let db = db.clone();
        async move {
            if !super::limits::token_refusal_to_audit(&db, vault, client).await {
                return;
            }
            audit::record_denied(
                &db,
                vault.audit_key(),
                &Actor::anonymous(),
                "auth.token",
                None,
                &reason,
            )
            .await;
        }
    };
    let claims: Claims = match vault.verify_token(token) {
        Ok(c) => c,
        Err(e) => {
            let expired = matches!(e.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature);
            reject(if expired {
                "expired token".into()
            } else {
                "invalid token".into()
            })
            .await;
            return Err(if expired {
                StaffError::TokenExpired.into()
            } else {
                StaffError::InvalidToken.into()
            });
        }
    };
    let row: Option<SessionUser> = sqlx::query_as(
        "SELECT s.revoked_at, s.expires_at, s.mfa, u.username, u.display_name, u.roles, \
         u.region, u.locale, u.active, u.password_change_required FROM staff_sessions s JOIN staff_users u ON u.id = s.user_id \
         WHERE s.id = $1 AND s.user_id = $2",
    )
    .bind(&claims.sid)
    .bind(&claims.sub)
    .fetch_optional(&db.pool)
    .await?;
    let Some((
        revoked,
        expires_at,
        mfa,
        username,
        display_name,
        roles,
        region,
        locale,
        active,
        must_change_password,
    )) = row
    else {
        reject("unknown session".into()).await;
        return Err(StaffError::InvalidToken.into());
    };
    let now = chrono::Utc::now();
    if revoked.is_some() || active == 0 || store::parse_ts(&expires_at).map_or(true, |t| t <= now) {
        reject("session revoked or expired".into()).await;
        return Err(StaffError::SessionExpired.into());
    }
    let p = Principal {
        id: claims.sub,
        username,
        display_name,
        roles: parse_roles(&roles).unwrap_or_default(),
        region,
        locale,
        session: claims.sid,
        mfa: mfa != 0,
    };
    if must_change_password != 0 && access != Access::PasswordChange {
        return Err(StaffError::PasswordChangeRequired.into());
    }
    if access == Access::Full && !p.mfa && p.roles.iter().any(|r| r.requires_totp()) {
        return Err(StaffError::TotpEnrollmentRequired.into());
    }
    Ok(p)
}
