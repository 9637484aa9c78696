//! Login, tokens, refresh, logout, lock-out and the first-admin setup code (TOTP itself is
//! [`super::totp`]).
//!
//! An access token is a short-lived HS256 JWT naming the user and the session; every
//! request also checks the session row, so logout, a replayed refresh token or a disabled
//! account take effect at once on every instance and survive restarts. Refresh tokens are
//! random, stored only as keyed digests, and single-use: using one twice revokes the whole
//! login (its family).

use chrono::Utc;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::totp::open_totp_secret;
pub use super::totp::{check_totp, totp_confirm, totp_now, totp_setup, TotpSetup};
use super::{dummy_hash, limits, verify_password_queued, Role, StaffError, StaffUser};
use crate::audit::{self, Actor, Entry, Outcome};
use crate::config::StaffConfig;
use crate::error::{AppError, AppResult};
use crate::store::{self, Db};
use crate::vault::Vault;

pub const ISSUER: &str = "jubao";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
    /// The session still has to enrol a second factor: only TOTP set-up is allowed.
    #[serde(default)]
    pub enrol: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_token: String,
    /// True when the account must set up TOTP before doing anything else.
    pub totp_enrollment_required: bool,
    /// True when the account still has the password an admin chose: this token then serves
    /// only `POST /api/v1/auth/password` (CONTRACT §8); sign in again after the change.
    pub password_change_required: bool,
}

fn random_token(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

fn refresh_digest(vault: &Vault, token: &str) -> Vec<u8> {
    vault
        .request_digest(&[b"staff-refresh", token.as_bytes()])
        .to_vec()
}

async fn deny(db: &Db, vault: &Vault, actor: &Actor, action: &str, reason: &str) {
    audit::record_denied(db, vault.audit_key(), actor, action, None, reason).await;
}

type Credentials = (
    String,
    String,
    Option<Vec<u8>>,
    Option<i64>,
    i64,
    i64,
    Option<String>,
    i64,
    String,
    i64,
);

/// Check username, password and (when enrolled) the TOTP code; open a session. `client`
/// is the caller's address: after `[staff] failed_logins_per_client` failures from it in a
/// window it is refused (429) before any name is looked up or password hashed.
pub async fn login(
    db: &Db,
    vault: &Vault,
    cfg: &StaffConfig,
    client: &str,
    username: &str,
    password: &str,
    totp: Option<&str>,
) -> AppResult<TokenPair> {
    if limits::login_refused(db, vault, cfg, client).await? {
        let reason = "too many failed sign-ins from this client";
        deny(db, vault, &Actor::anonymous(), "auth.login", reason).await;
        return Err(limits::login_rate_limited(cfg));
    }
    let r = check_and_open(db, vault, cfg, username, password, totp).await;
    if let Err(e) = &r {
        // A wrong name, password or code (not a missing code after the right password).
        if matches!(e.code, "invalid_credentials" | "invalid_totp") {
            limits::count_failed_login(db, vault, cfg, client).await?;
        }
    }
    r
}

async fn check_and_open(
    db: &Db,
    vault: &Vault,
    cfg: &StaffConfig,
    username: &str,
    password: &str,
    totp: Option<&str>,
) -> AppResult<TokenPair> {
    let username = username.trim().to_lowercase();
    let row: Option<Credentials> = sqlx::query_as(
        "SELECT id, password_hash, totp_secret, totp_last_step, totp_enabled, failed_logins, \
         locked_until, active, roles, password_change_required FROM staff_users \
         WHERE username = $1",
    )
    .bind(&username)
    .fetch_optional(&db.pool)
    .await?;
    let Some((
        id,
        hash,
        totp_secret,
        last_step,
        totp_enabled,
        _failed,
        locked_until,
        active,
        roles,
        must_change_password,
    )) = row
    else {
        let _ = verify_password_queued(dummy_hash(), password).await?;
        deny(db, vault, &Actor::anonymous(), "auth.login", "unknown user").await;
        return Err(StaffError::InvalidCredentials.into());
    };
    let actor = Actor {
        id: Some(id.clone()),
        name: username.clone(),
    };
    let now = Utc::now();
    if let Some(until) = locked_until
        .as_deref()
        .and_then(|s| store::parse_ts(s).ok())
    {
        if until > now {
            // The same work and the same answer as a wrong password: the reply must not
            // tell a guesser that the name exists (the audit log says why).
            let _ = verify_password_queued(dummy_hash(), password).await?;
            deny(db, vault, &actor, "auth.login", "account locked").await;
            return Err(StaffError::InvalidCredentials.into());
        }
    }
    if active == 0 {
        let _ = verify_password_queued(dummy_hash(), password).await?;
        deny(db, vault, &actor, "auth.login", "account disabled").await;
        return Err(StaffError::InvalidCredentials.into());
    }
    if !verify_password_queued(&hash, password).await? {
        record_failure(db, cfg, &id).await?;
        deny(db, vault, &actor, "auth.login", "wrong password").await;
        return Err(StaffError::InvalidCredentials.into());
    }
    let mut mfa = false;
    if totp_enabled != 0 {
        let Some(code) = totp.map(str::trim).filter(|c| !c.is_empty()) else {
            return Err(StaffError::TotpRequired.into());
        };
        let secret = open_totp_secret(vault, &id, totp_secret.as_deref()).await?;
        match check_totp(&secret, code, now, last_step) {
            Some(step) => {
                sqlx::query("UPDATE staff_users SET totp_last_step = $1 WHERE id = $2")
                    .bind(step)
                    .bind(&id)
                    .execute(&db.pool)
                    .await?;
                mfa = true;
            }
            None => {
                record_failure(db, cfg, &id).await?;
                deny(db, vault, &actor, "auth.login", "wrong totp code").await;
                return Err(StaffError::InvalidTotp.into());
            }
        }
    }
    let roles = super::parse_roles(&roles).unwrap_or_default();
    let password_change = must_change_password != 0;
    // A sign-in that must first choose its password does nothing else, TOTP set-up included.
    let enrol = !password_change && !mfa && roles.iter().any(|r| r.requires_totp());
    sqlx::query("UPDATE staff_users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
        .bind(&id)
        .execute(&db.pool)
        .await?;
    let family = uuid::Uuid::now_v7().to_string();
    let s = Session {
        family: &family,
        mfa,
        enrol,
        password_change,
        ends: None,
    };
    let pair = open_session(db, vault, cfg, &actor, &id, s).await?;
    Ok(pair)
}

/// Count a failed sign-in in one statement (so parallel guesses each count: no stale read),
/// and lock the account for `lockout_minutes` at the `max_failed_logins`-th.
async fn record_failure(db: &Db, cfg: &StaffConfig, id: &str) -> AppResult<()> {
    let until = store::ts(Utc::now() + cfg.lockout_minutes.chrono());
    sqlx::query(
        "UPDATE staff_users SET \
         locked_until = CASE WHEN failed_logins + 1 >= $1 THEN $2 ELSE locked_until END, \
         failed_logins = CASE WHEN failed_logins + 1 >= $1 THEN 0 ELSE failed_logins + 1 END \
         WHERE id = $3",
    )
    .bind(i64::from(cfg.max_failed_logins))
    .bind(until)
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// What a new session carries over: its login family, whether TOTP was checked, whether the
/// user must still enrol TOTP or choose their password, and when it ends (`None`: a new login, `session_hours` from
/// now; a refresh passes the login's end).
struct Session<'a> {
    family: &'a str,
    mfa: bool,
    enrol: bool,
    password_change: bool,
    ends: Option<chrono::DateTime<Utc>>,
}

async fn open_session(
    db: &Db,
    vault: &Vault,
    cfg: &StaffConfig,
    actor: &Actor,
    user_id: &str,
    session: Session<'_>,
) -> AppResult<TokenPair> {
    let Session {
        family,
        mfa,
        enrol,
        password_change,
        ends,
    } = session;
    let now = Utc::now();
    let sid = uuid::Uuid::now_v7().to_string();
    let refresh = random_token(32);
    let mut tx = db.begin().await?;
    audit::lock(&mut tx).await?;
    sqlx::query(
        "INSERT INTO staff_sessions (id, user_id, family, refresh_digest, mfa, created_at, \
         expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&sid)
    .bind(user_id)
    .bind(family)
    .bind(refresh_digest(vault, &refresh))
    .bind(i64::from(mfa))
    .bind(store::ts(now))
    .bind(store::ts(
        ends.unwrap_or_else(|| now + cfg.session_hours.chrono()),
    ))
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        vault.audit_key(),
        &Entry {
            actor,
            action: "auth.session",
            outcome: Outcome::Ok,
            report_id: None,
            detail: serde_json::json!({ "session": sid, "mfa": mfa }),
        },
    )
    .await?;
    tx.commit().await?;
    let ttl = cfg.access_token_minutes.secs();
    let claims = Claims {
        iss: ISSUER.into(),
        sub: user_id.to_string(),
        sid,
        iat: now.timestamp(),
        exp: now.timestamp() + ttl,
        enrol,
    };
    Ok(TokenPair {
        access_token: vault.sign_token(&claims).map_err(AppError::internal)?,
        token_type: "Bearer",
        expires_in: ttl,
        refresh_token: refresh,
        totp_enrollment_required: enrol,
        password_change_required: password_change,
    })
}

type SessionRow = (
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    String,
);

/// Exchange a refresh token for a new pair. A token used twice revokes its whole family.
pub async fn refresh(
    db: &Db,
    vault: &Vault,
    cfg: &StaffConfig,
    token: &str,
) -> AppResult<TokenPair> {
    let digest = refresh_digest(vault, token.trim());
    let row: Option<SessionRow> = sqlx::query_as(
        "SELECT s.id, s.user_id, s.family, s.mfa, s.expires_at, s.rotated_at, s.revoked_at, \
         u.username FROM staff_sessions s JOIN staff_users u ON u.id = s.user_id \
         WHERE s.refresh_digest = $1",
    )
    .bind(&digest)
    .fetch_optional(&db.pool)
    .await?;
    let Some((sid, user_id, family, mfa, expires_at, rotated, revoked, username)) = row else {
        deny(
            db,
            vault,
            &Actor::anonymous(),
            "auth.refresh",
            "unknown refresh token",
        )
        .await;
        return Err(StaffError::InvalidToken.into());
    };
    let actor = Actor {
        id: Some(user_id.clone()),
        name: username,
    };
    let now = Utc::now();
    // Mark it used; exactly one caller can do so.
    let used = sqlx::query(
        "UPDATE staff_sessions SET rotated_at = $1 WHERE id = $2 AND rotated_at IS NULL \
         AND revoked_at IS NULL",
    )
    .bind(store::ts(now))
    .bind(&sid)
    .execute(&db.pool)
    .await?
    .rows_affected()
        == 1;
    if !used || rotated.is_some() || revoked.is_some() {
        revoke_family(db, &family).await?;
        deny(
            db,
            vault,
            &actor,
            "auth.refresh",
            "refresh token replayed; login revoked",
        )
        .await;
        return Err(StaffError::InvalidToken.into());
    }
    let ends = match store::parse_ts(&expires_at) {
        Ok(t) if t > now => t,
        _ => {
            deny(db, vault, &actor, "auth.refresh", "session expired").await;
            return Err(StaffError::SessionExpired.into());
        }
    };
    let active: Option<(i64, String, i64)> = sqlx::query_as(
        "SELECT active, roles, password_change_required FROM staff_users WHERE id = $1",
    )
    .bind(&user_id)
    .fetch_optional(&db.pool)
    .await?;
    let Some((1, roles, must_change_password)) = active else {
        return Err(StaffError::InvalidToken.into());
    };
    let roles = super::parse_roles(&roles).unwrap_or_default();
    let password_change = must_change_password != 0;
    let enrol = !password_change && mfa == 0 && roles.iter().any(|r| r.requires_totp());
    // The new session ends when the sign-in's did: refreshing never extends a login past
    // `session_hours` from the password (an absolute lifetime).
    let s = Session {
        family: &family,
        mfa: mfa != 0,
        enrol,
        password_change,
        ends: Some(ends),
    };
    open_session(db, vault, cfg, &actor, &user_id, s).await
}

pub async fn revoke_family(db: &Db, family: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE staff_sessions SET revoked_at = $1 WHERE family = $2 AND revoked_at IS NULL",
    )
    .bind(store::ts(Utc::now()))
    .bind(family)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Revoke every session of a user (password change, account disabled).
pub async fn revoke_user(tx: &mut store::Tx<'_>, user_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE staff_sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
    )
    .bind(store::ts(Utc::now()))
    .bind(user_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

// ---- First admin ----

/// On a database with no admin and no setup code yet, create a one-time setup code and
/// return it (to be printed once). Several instances starting together: one wins.
pub async fn ensure_setup_code(db: &Db, vault: &Vault) -> anyhow::Result<Option<String>> {
    let admins: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM staff_users WHERE roles LIKE '%admin%' AND active = 1",
    )
    .fetch_one(&db.pool)
    .await?;
    if admins > 0 {
        return Ok(None);
    }
    let mut raw = [0u8; 10];
    rand::thread_rng().fill_bytes(&mut raw);
    // Crockford-style base32 without look-alikes, grouped for reading aloud.
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let chars: String = raw
        .iter()
        .flat_map(|b| [b % 31, (b / 31) % 31])
        .take(16)
        .map(|i| ALPHABET[i as usize] as char)
        .collect();
    let code = format!(
        "{}-{}-{}-{}",
        &chars[0..4],
        &chars[4..8],
        &chars[8..12],
        &chars[12..16]
    );
    let inserted = sqlx::query(
        "INSERT INTO setup_codes (id, code_digest, created_at) VALUES (1, $1, $2) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(
        vault
            .request_digest(&[b"setup-code", code.as_bytes()])
            .to_vec(),
    )
    .bind(store::ts(Utc::now()))
    .execute(&db.pool)
    .await?
    .rows_affected();
    Ok((inserted == 1).then_some(code))
}

/// Use the setup code to create the first admin (national region). Single use.
pub async fn use_setup_code(
    db: &Db,
    vault: &Vault,
    code: &str,
    new_user: super::NewUser,
) -> AppResult<StaffUser> {
    let code = code.trim().to_uppercase();
    let digest = vault
        .request_digest(&[b"setup-code", code.as_bytes()])
        .to_vec();
    let hash = super::hash_password_queued(&new_user.password).await?;
    let mut tx = db.begin().await?;
    audit::lock(&mut tx).await?;
    let used = sqlx::query(
        "UPDATE setup_codes SET used_at = $1 WHERE id = 1 AND used_at IS NULL AND code_digest = $2",
    )
    .bind(store::ts(Utc::now()))
    .bind(&digest)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if used != 1 {
        drop(tx);
        deny(
            db,
            vault,
            &Actor::anonymous(),
            "auth.setup",
            "wrong or used setup code",
        )
        .await;
        return Err(StaffError::InvalidSetupCode.into());
    }
    let user = super::create(&mut tx, &new_user, &hash).await?;
    audit::append(
        &mut tx,
        vault.audit_key(),
        &Entry::ok(
            &Actor {
                id: Some(user.id.clone()),
                name: user.username.clone(),
            },
            "user.create",
            serde_json::json!({ "user": user.id, "roles": [Role::Admin], "via": "setup code" }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}
