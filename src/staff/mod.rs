//! Staff: accounts, roles and regions (DOMAIN §6), passwords (argon2id, [`password`]),
//! sessions and tokens ([`auth`]), the authenticated caller of a request ([`principal`]),
//! and the duties kept apart among admins ([`duties`], [`resets`]).

pub mod auth;
pub mod duties;
mod error;
pub mod limits;
pub mod mail;
pub mod password;
pub mod principal;
pub mod resets;
pub mod totp;

pub use error::StaffError;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::domain::Invalid;
use crate::error::{AppError, AppResult};
use crate::store::{self, is_unique_violation, Tx};

/// Staff roles, DOMAIN §6: operation, management and audit kept apart.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    PartialOrd,
    Ord,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Intake,
    Handler,
    Supervisor,
    Legal,
    Finance,
    Custodian,
    Auditor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Intake,
        Role::Handler,
        Role::Supervisor,
        Role::Legal,
        Role::Finance,
        Role::Custodian,
        Role::Auditor,
        Role::Admin,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::Intake => "intake",
            Role::Handler => "handler",
            Role::Supervisor => "supervisor",
            Role::Legal => "legal",
            Role::Finance => "finance",
            Role::Custodian => "custodian",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Role::ALL
            .into_iter()
            .find(|r| r.code() == s.trim())
            .ok_or("error-unknown-role")
    }

    /// Roles whose holders must use a second factor (DOMAIN §6: they reveal identity, move
    /// money or manage accounts).
    pub fn requires_totp(self) -> bool {
        matches!(self, Role::Custodian | Role::Finance | Role::Admin)
    }

    /// Roles an admin grants only with a second admin's approval (DOMAIN §6: they reveal
    /// identity, move money, review, supervise or read the audit log; and `admin` itself,
    /// or one admin could make a second and approve their own grants through it).
    pub fn needs_second_admin(self) -> bool {
        matches!(
            self,
            Role::Custodian
                | Role::Finance
                | Role::Auditor
                | Role::Legal
                | Role::Supervisor
                | Role::Admin
        )
    }
}

/// Management and operation kept apart (DOMAIN §6): `admin` sees no case content and no
/// identity, so it is held alone — never with intake, handler, supervisor, legal, finance,
/// custodian or auditor.
pub fn check_separation(roles: &[Role]) -> Result<(), StaffError> {
    if roles.contains(&Role::Admin) && roles.iter().any(|r| *r != Role::Admin) {
        return Err(StaffError::AdminCombined);
    }
    Ok(())
}

/// Parse `intake,handler`; no duplicates, at least one.
pub fn parse_roles(s: &str) -> Result<Vec<Role>, Invalid> {
    let mut out = vec![];
    for part in s.split(',').filter(|p| !p.trim().is_empty()) {
        let r = Role::parse(part)?;
        if !out.contains(&r) {
            out.push(r);
        }
    }
    if out.is_empty() {
        return Err("error-unknown-role");
    }
    out.sort();
    Ok(out)
}

pub fn roles_string(roles: &[Role]) -> String {
    roles.iter().map(|r| r.code()).collect::<Vec<_>>().join(",")
}

pub use crate::domain::region::{
    enclosing_regions, parent_region, parse_region, region_covers, region_prefix, target_key,
    NATIONAL,
};

pub const MIN_PASSWORD_CHARS: usize = 10;

pub fn check_password(pw: &str) -> Result<(), Invalid> {
    if pw.chars().count() < MIN_PASSWORD_CHARS || pw.chars().count() > 200 {
        return Err("error-password-weak");
    }
    Ok(())
}

pub fn hash_password(pw: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(pw.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

pub fn verify_password(hash: &str, pw: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| Argon2::default().verify_password(pw.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// Argon2 costs tens of milliseconds of CPU: it runs on blocking threads, at most
/// [`HASHING_AT_ONCE`] at a time on an instance, with at most [`HASHING_QUEUE`] sign-ins
/// waiting; past that a sign-in is refused as busy (503) at once. So a flood of logins
/// never occupies the async workers that answer everything else (the bots' 5 s included).
pub const HASHING_AT_ONCE: usize = 2;
pub const HASHING_QUEUE: usize = 64;

static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(HASHING_AT_ONCE);
static WAITING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(HASHING_QUEUE);

/// [`verify_password`] off the async workers, behind the bounded queue.
pub async fn verify_password_queued(hash: &str, pw: &str) -> crate::error::AppResult<bool> {
    let busy = || AppError::from(StaffError::Busy);
    let _waiting = WAITING.try_acquire().map_err(|_| busy())?;
    let _running = HASHING.acquire().await.map_err(|_| busy())?;
    let (hash, pw) = (hash.to_string(), pw.to_string());
    tokio::task::spawn_blocking(move || verify_password(&hash, &pw))
        .await
        .map_err(crate::error::AppError::internal)
}

/// [`hash_password`] off the async workers, behind the same bounded queue.
pub async fn hash_password_queued(pw: &str) -> crate::error::AppResult<String> {
    let busy = || AppError::from(StaffError::Busy);
    let _waiting = WAITING.try_acquire().map_err(|_| busy())?;
    let _running = HASHING.acquire().await.map_err(|_| busy())?;
    let pw = pw.to_string();
    tokio::task::spawn_blocking(move || hash_password(&pw))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
}

/// A hash to verify against when the user does not exist, so a wrong username costs the
/// same time as a wrong password.
pub fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password("not-a-real-password").unwrap_or_default())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StaffUser {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub roles: Vec<Role>,
    pub region: String,
    pub locale: String,
    pub active: bool,
    pub totp_enabled: bool,
    /// Roles granted by one admin and waiting for a second admin's approval; they give no
    /// access until approved.
    pub pending_roles: Vec<Role>,
    /// The account still signs in with the password an admin chose and must set its own.
    pub password_change_required: bool,
}

pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub roles: Vec<Role>,
    pub region: String,
    pub locale: String,
    pub password: String,
}

pub fn parse_username(s: &str) -> Result<String, Invalid> {
    let s = s.trim();
    if s.is_empty()
        || s.len() > 64
        || !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        return Err("error-username");
    }
    Ok(s.to_lowercase())
}

pub const USER_COLUMNS: &str = "id, username, display_name, email, roles, region, locale, \
    active, totp_enabled, password_change_required";

type UserRow = (
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    i64,
    i64,
    i64,
);

pub fn user_from_row(r: UserRow) -> StaffUser {
    StaffUser {
        id: r.0,
        username: r.1,
        display_name: r.2,
        email: r.3,
        roles: parse_roles(&r.4).unwrap_or_default(),
        region: r.5,
        locale: r.6,
        active: r.7 != 0,
        totp_enabled: r.8 != 0,
        pending_roles: vec![],
        password_change_required: r.9 != 0,
    }
}

/// Create a user who chose their own password, in the caller's transaction: the bootstrap
/// path (`jubao user add`, the setup code). A taken username is a 409; `admin` with another
/// role is refused (see [`check_separation`]). Admins create users with
/// [`duties::create_user`] instead. `password_hash` is `u.password` hashed beforehand
/// ([`hash_password_queued`]: never on an async worker, never under the audit lock).
pub async fn create(tx: &mut Tx<'_>, u: &NewUser, password_hash: &str) -> AppResult<StaffUser> {
    insert(tx, u, false, password_hash).await
}

/// Insert the account; `must_change_password` when someone else chose the password.
pub(crate) async fn insert(
    tx: &mut Tx<'_>,
    u: &NewUser,
    must_change_password: bool,
    password_hash: &str,
) -> AppResult<StaffUser> {
    check_separation(&u.roles)?;
    let id = uuid::Uuid::now_v7().to_string();
    let now = store::ts(Utc::now());
    let hash = password_hash.to_string();
    let r = sqlx::query(
        "INSERT INTO staff_users (id, username, display_name, email, roles, region, locale, \
         password_hash, password_change_required, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(&id)
    .bind(&u.username)
    .bind(&u.display_name)
    .bind(u.email.clone())
    .bind(roles_string(&u.roles))
    .bind(&u.region)
    .bind(&u.locale)
    .bind(hash)
    .bind(i64::from(must_change_password))
    .bind(&now)
    .execute(&mut **tx)
    .await;
    match r {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => return Err(StaffError::UsernameTaken.into()),
        Err(e) => return Err(e.into()),
    }
    Ok(StaffUser {
        id,
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        email: u.email.clone(),
        roles: u.roles.clone(),
        region: u.region.clone(),
        locale: u.locale.clone(),
        active: true,
        totp_enabled: false,
        pending_roles: vec![],
        password_change_required: must_change_password,
    })
}

pub async fn by_id(pool: &sqlx::AnyPool, id: &str) -> Result<Option<StaffUser>, sqlx::Error> {
    let row: Option<UserRow> = sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM staff_users WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let Some(mut user) = row.map(user_from_row) else {
        return Ok(None);
    };
    user.pending_roles = duties::pending_roles(pool, Some(id))
        .await?
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    Ok(Some(user))
}

pub async fn by_username(
    pool: &sqlx::AnyPool,
    username: &str,
) -> Result<Option<StaffUser>, sqlx::Error> {
    let row: Option<UserRow> = sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM staff_users WHERE username = $1"
    ))
    .bind(username)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(user_from_row))
}

pub async fn list(pool: &sqlx::AnyPool) -> Result<Vec<StaffUser>, sqlx::Error> {
    let rows: Vec<UserRow> = sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM staff_users ORDER BY username"
    ))
    .fetch_all(pool)
    .await?;
    let mut users: Vec<StaffUser> = rows.into_iter().map(user_from_row).collect();
    for (user_id, role) in duties::pending_roles(pool, None).await? {
        if let Some(u) = users.iter_mut().find(|u| u.id == user_id) {
            u.pending_roles.push(role);
        }
    }
    Ok(users)
}

/// Active users holding `role` whose region covers `case_region`.
pub async fn with_role_covering(
    pool: &sqlx::AnyPool,
    role: Role,
    case_region: &str,
) -> Result<Vec<StaffUser>, sqlx::Error> {
    let regions = enclosing_regions(case_region);
    let placeholders: Vec<String> = (0..regions.len()).map(|i| format!("${}", i + 1)).collect();
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM staff_users WHERE active = 1 AND region IN ({})",
        placeholders.join(", ")
    );
    let mut q = sqlx::query_as::<_, UserRow>(&sql);
    for r in &regions {
        q = q.bind(r);
    }
    Ok(q.fetch_all(pool)
        .await?
        .into_iter()
        .map(user_from_row)
        .filter(|u| u.roles.contains(&role))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_nest() {
        assert_eq!(region_prefix("370000"), "37");
        assert_eq!(region_prefix("371500"), "3715");
        assert_eq!(region_prefix("371502"), "371502");
        assert_eq!(region_prefix("000000"), "");
        assert!(region_covers("371500", "371502"));
        assert!(region_covers("370000", "371502"));
        assert!(region_covers("000000", "110105"));
        assert!(!region_covers("371502", "371500"));
        assert!(!region_covers("371502", "371503"));
        assert!(!region_covers("371500", "371600"));
        assert_eq!(
            enclosing_regions("371502"),
            vec!["371502", "371500", "370000", "000000"]
        );
        assert_eq!(enclosing_regions("370000"), vec!["370000", "000000"]);
        assert_eq!(parent_region("371502").as_deref(), Some("371500"));
        assert_eq!(parent_region("371500").as_deref(), Some("370000"));
        assert_eq!(parent_region("370000").as_deref(), Some("000000"));
        assert_eq!(parent_region("000000"), None);
    }

    #[test]
    fn roles_and_keys() {
        assert_eq!(
            parse_roles("handler,intake,handler").unwrap(),
            vec![Role::Intake, Role::Handler]
        );
        assert!(parse_roles("root").is_err());
        assert!(parse_roles("").is_err());
        assert_eq!(
            target_key(" 聊城市 人民医院 "),
            target_key("聊城市人民医院")
        );
        assert_eq!(target_key("ＡＢＣ Clinic"), "abcclinic");
        assert!(verify_password(
            &hash_password("correct horse").unwrap(),
            "correct horse"
        ));
        assert!(!verify_password(
            &hash_password("correct horse").unwrap(),
            "wrong horse"
        ));
        assert!(!verify_password("garbage", "x"));
    }
}
