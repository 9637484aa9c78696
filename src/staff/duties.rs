//! Duties kept apart among admins (DOMAIN §6). An admin creates users and changes their
//! roles, but: `admin` is held alone ([`super::check_separation`]); custodian, finance,
//! auditor, legal and supervisor ([`Role::needs_second_admin`]) are only *asked for* — the
//! role waits, pending and giving no access, in `staff_role_grants` until a different admin
//! approves or refuses it; and a user an admin creates must choose their own password at
//! first sign-in (`password_change_required`, [`super::password`]). Every step is audited,
//! refusals included. Resetting a TOTP takes two admins too: [`super::resets`].

use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::principal::Principal;
use super::{check_separation, parse_roles, roles_string, NewUser, Role, StaffError, StaffUser};
use crate::audit::{self, Entry};
use crate::error::{AppError, AppResult};
use crate::store::{self, Db, Tx};
use crate::vault::Vault;

/// The longest reason a request or a decision may carry.
pub const MAX_REASON_CHARS: usize = 1000;

/// The second admin's answer to a request another admin made.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecondAdminDecision {
    pub approve: bool,
    /// Required when refusing.
    #[serde(default)]
    pub reason: Option<String>,
}

impl SecondAdminDecision {
    /// The reason, trimmed: required to refuse, at most 1000 characters.
    pub fn checked_reason(&self) -> AppResult<Option<String>> {
        let reason = self
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        match reason {
            None if !self.approve => Err(AppError::invalid("reason", "error-required")),
            Some(r) if r.chars().count() > MAX_REASON_CHARS => {
                Err(AppError::invalid("reason", "error-too-long").arg("max", MAX_REASON_CHARS))
            }
            r => Ok(r.map(str::to_string)),
        }
    }
}

/// A role asked for by one admin, decided by another.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoleGrant {
    pub id: i64,
    pub user_id: String,
    pub username: String,
    pub role: Role,
    /// `pending`, `approved`, `refused` or `withdrawn` (the roles were changed again
    /// before anyone decided).
    pub status: String,
    /// The admin who asked (id and username).
    pub requested_by: String,
    pub requested_by_name: String,
    pub requested_at: String,
    pub decided_by: Option<String>,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<String>,
    pub decision_reason: Option<String>,
}

type GrantRow = (
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

const GRANT_SELECT: &str = "SELECT g.id, g.user_id, u.username, g.role, g.status, \
    g.requested_by, r.username, g.requested_at, g.decided_by, d.username, g.decided_at, \
    g.decision_reason FROM staff_role_grants g JOIN staff_users u ON u.id = g.user_id \
    JOIN staff_users r ON r.id = g.requested_by LEFT JOIN staff_users d ON d.id = g.decided_by";

fn grant_from_row(r: GrantRow) -> Option<RoleGrant> {
    Some(RoleGrant {
        id: r.0,
        user_id: r.1,
        username: r.2,
        role: Role::parse(&r.3).ok()?,
        status: r.4,
        requested_by: r.5,
        requested_by_name: r.6,
        requested_at: r.7,
        decided_by: r.8,
        decided_by_name: r.9,
        decided_at: r.10,
        decision_reason: r.11,
    })
}

/// The statuses a list may ask for (`all`: every one).
pub fn parse_status(s: Option<&str>) -> AppResult<Option<&'static str>> {
    match s.map(str::trim).unwrap_or("pending") {
        "" | "pending" => Ok(Some("pending")),
        "approved" => Ok(Some("approved")),
        "refused" => Ok(Some("refused")),
        "withdrawn" => Ok(Some("withdrawn")),
        "all" => Ok(None),
        _ => Err(AppError::invalid("status", "error-invalid-query")),
    }
}

/// Role grants with `status` (`None`: all), newest first, at most 200.
pub async fn list_grants(db: &Db, status: Option<&str>) -> AppResult<Vec<RoleGrant>> {
    let rows: Vec<GrantRow> = match status {
        Some(s) => {
            sqlx::query_as(&format!(
                "{GRANT_SELECT} WHERE g.status = $1 ORDER BY g.id DESC LIMIT 200"
            ))
            .bind(s)
            .fetch_all(&db.pool)
            .await?
        }
        None => {
            sqlx::query_as(&format!("{GRANT_SELECT} ORDER BY g.id DESC LIMIT 200"))
                .fetch_all(&db.pool)
                .await?
        }
    };
    Ok(rows.into_iter().filter_map(grant_from_row).collect())
}

async fn grant_by_id(tx: &mut Tx<'_>, id: i64) -> AppResult<Option<RoleGrant>> {
    let row: Option<GrantRow> = sqlx::query_as(&format!("{GRANT_SELECT} WHERE g.id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.and_then(grant_from_row))
}

/// (user id, role) of every pending grant, of one user or of all.
pub async fn pending_roles(
    pool: &sqlx::AnyPool,
    user_id: Option<&str>,
) -> Result<Vec<(String, Role)>, sqlx::Error> {
    let rows: Vec<(String, String)> = match user_id {
        Some(u) => {
            sqlx::query_as(
                "SELECT user_id, role FROM staff_role_grants WHERE status = 'pending' \
                 AND user_id = $1 ORDER BY role",
            )
            .bind(u)
            .fetch_all(pool)
            .await?
        }
        None => {
            sqlx::query_as(
                "SELECT user_id, role FROM staff_role_grants WHERE status = 'pending' \
                 ORDER BY role",
            )
            .fetch_all(pool)
            .await?
        }
    };
    Ok(rows
        .into_iter()
        .filter_map(|(u, r)| Some((u, Role::parse(&r).ok()?)))
        .collect())
}

/// Record a refusal (its own transaction) and hand it back.
pub(super) async fn deny(
    db: &Db,
    vault: &Vault,
    p: &Principal,
    action: &str,
    e: AppError,
) -> AppError {
    audit::record_denied(db, vault.audit_key(), &p.actor(), action, None, e.code).await;
    e
}

/// Ask for `role` for `user_id` (pending), audited, in the caller's transaction.
async fn ask(
    tx: &mut Tx<'_>,
    vault: &Vault,
    p: &Principal,
    user_id: &str,
    role: Role,
) -> AppResult<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO staff_role_grants (user_id, role, status, requested_by, requested_at) \
         VALUES ($1, $2, 'pending', $3, $4) RETURNING id",
    )
    .bind(user_id)
    .bind(role.code())
    .bind(&p.id)
    .bind(store::ts(Utc::now()))
    .fetch_one(&mut **tx)
    .await?;
    audit::append(
        tx,
        vault.audit_key(),
        &Entry::ok(
            &p.actor(),
            "role.request",
            serde_json::json!({ "grant": id, "user": user_id, "role": role }),
        ),
    )
    .await?;
    Ok(id)
}

/// An admin creates a user: the roles that need a second admin are asked for, the others
/// given; the password is the admin's choice, so the user must change it at first sign-in.
/// `admin` with another role is refused (audited) and nothing is written.
pub async fn create_user(
    db: &Db,
    vault: &Vault,
    p: &Principal,
    mut new: NewUser,
) -> AppResult<StaffUser> {
    if let Err(e) = check_separation(&new.roles) {
        return Err(deny(db, vault, p, "user.create", e.into()).await);
    }
    let (later, now): (Vec<Role>, Vec<Role>) =
        new.roles.iter().partition(|r| r.needs_second_admin());
    new.roles = now;
    let hash = super::hash_password_queued(&new.password).await?;
    let mut tx = db.begin().await?;
    audit::lock(&mut tx).await?;
    let mut user = super::insert(&mut tx, &new, true, &hash).await?;
    audit::append(
        &mut tx,
        vault.audit_key(),
        &Entry::ok(
            &p.actor(),
            "user.create",
            serde_json::json!({
                "user": user.id, "roles": user.roles, "pending_roles": later,
                "region": user.region,
            }),
        ),
    )
    .await?;
    for role in &later {
        ask(&mut tx, vault, p, &user.id, *role).await?;
    }
    tx.commit().await?;
    user.pending_roles = later;
    Ok(user)
}

/// An admin sets another user's roles to `roles`: roles left out are taken away at once
/// (and pending grants of them withdrawn); new roles that need a second admin are asked
/// for; the others are given. `admin` with another role, or one's own roles, is refused
/// (audited) and nothing changes.
pub async fn set_roles(
    db: &Db,
    vault: &Vault,
    p: &Principal,
    user_id: &str,
    roles: &[Role],
) -> AppResult<StaffUser> {
    const ACTION: &str = "user.roles";
    if user_id == p.id {
        return Err(deny(db, vault, p, ACTION, StaffError::OwnAccount.into()).await);
    }
    if let Err(e) = check_separation(roles) {
        return Err(deny(db, vault, p, ACTION, e.into()).await);
    }
    let mut tx = db.begin().await?;
    audit::lock(&mut tx).await?;
    let current: Option<String> = sqlx::query_scalar("SELECT roles FROM staff_users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(current) = current else {
        return Err(StaffError::NotFound.into());
    };
    let current = parse_roles(&current).unwrap_or_default();
    let pending: Vec<Role> = sqlx::query_scalar::<_, String>(
        "SELECT role FROM staff_role_grants WHERE user_id = $1 AND status = 'pending'",
    )
    .bind(user_id)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .filter_map(|r| Role::parse(r).ok())
    .collect();
    let mut next: Vec<Role> = roles
        .iter()
        .copied()
        .filter(|r| current.contains(r) || !r.needs_second_admin())
        .collect();
    next.sort();
    let ask_for: Vec<Role> = roles
        .iter()
        .copied()
        .filter(|r| r.needs_second_admin() && !current.contains(r) && !pending.contains(r))
        .collect();
    let withdraw: Vec<Role> = pending
        .iter()
        .copied()
        .filter(|r| !roles.contains(r))
        .collect();
    if next == current && ask_for.is_empty() && withdraw.is_empty() {
        drop(tx);
        return super::by_id(&db.pool, user_id)
            .await?
            .ok_or_else(|| StaffError::NotFound.into());
    }
    let now = store::ts(Utc::now());
    sqlx::query("UPDATE staff_users SET roles = $1, updated_at = $2 WHERE id = $3")
        .bind(roles_string(&next))
        .bind(&now)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    for role in &withdraw {
        sqlx::query(
            "UPDATE staff_role_grants SET status = 'withdrawn', decided_by = $1, decided_at = $2 \
             WHERE user_id = $3 AND role = $4 AND status = 'pending'",
        )
        .bind(&p.id)
        .bind(&now)
        .bind(user_id)
        .bind(role.code())
        .execute(&mut *tx)
        .await?;
    }
    audit::append(
        &mut tx,
        vault.audit_key(),
        &Entry::ok(
            &p.actor(),
            ACTION,
            serde_json::json!({
                "user": user_id, "from": current, "to": next, "asked_for": ask_for,
                "withdrawn": withdraw,
            }),
        ),
    )
    .await?;
    for role in &ask_for {
        ask(&mut tx, vault, p, user_id, *role).await?;
    }
    tx.commit().await?;
    super::by_id(&db.pool, user_id)
        .await?
        .ok_or_else(|| StaffError::NotFound.into())
}

/// A second admin approves or refuses a pending grant. The admin who asked, or the user it
/// concerns, cannot decide it (403, audited); a decided one is a 409. Approval gives the
/// role at once.
/// The two-person rule of every admin request (a role grant, a TOTP reset): neither the
/// admin who asked nor the user it concerns decides it.
pub(super) fn is_second_admin(p: &Principal, requested_by: &str, user_id: &str) -> bool {
    requested_by != p.id && user_id != p.id
}

pub async fn decide_grant(
    db: &Db,
    vault: &Vault,
    p: &Principal,
    id: i64,
    d: &SecondAdminDecision,
) -> AppResult<RoleGrant> {
    const ACTION: &str = "role.decide";
    let reason = d.checked_reason()?;
    let mut tx = db.begin().await?;
    audit::lock(&mut tx).await?;
    let Some(grant) = grant_by_id(&mut tx, id).await? else {
        return Err(StaffError::NotFound.into());
    };
    if !is_second_admin(p, &grant.requested_by, &grant.user_id) {
        drop(tx);
        return Err(deny(db, vault, p, ACTION, StaffError::OwnRequest.into()).await);
    }
    if grant.status != "pending" {
        return Err(StaffError::NotPending.into());
    }
    let now = store::ts(Utc::now());
    if d.approve {
        let current: String = sqlx::query_scalar("SELECT roles FROM staff_users WHERE id = $1")
            .bind(&grant.user_id)
            .fetch_one(&mut *tx)
            .await?;
        let mut next = parse_roles(&current).unwrap_or_default();
        if !next.contains(&grant.role) {
            next.push(grant.role);
        }
        next.sort();
        if let Err(e) = check_separation(&next) {
            drop(tx);
            return Err(deny(db, vault, p, ACTION, e.into()).await);
        }
        sqlx::query("UPDATE staff_users SET roles = $1, updated_at = $2 WHERE id = $3")
            .bind(roles_string(&next))
            .bind(&now)
            .bind(&grant.user_id)
            .execute(&mut *tx)
            .await?;
    }
    let status = if d.approve { "approved" } else { "refused" };
    let changed = sqlx::query(
        "UPDATE staff_role_grants SET status = $1, decided_by = $2, decided_at = $3, \
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
    audit::append(
        &mut tx,
        vault.audit_key(),
        &Entry::ok(
            &p.actor(),
            if d.approve {
                "role.approve"
            } else {
                "role.refuse"
            },
            serde_json::json!({ "grant": id, "user": grant.user_id, "role": grant.role }),
        ),
    )
    .await?;
    let decided = grant_by_id(&mut tx, id).await?;
    tx.commit().await?;
    decided.ok_or_else(|| StaffError::NotFound.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_is_held_alone() {
        assert!(check_separation(&[Role::Admin]).is_ok());
        assert!(check_separation(&[Role::Handler, Role::Custodian]).is_ok());
        for r in Role::ALL.into_iter().filter(|r| *r != Role::Admin) {
            assert_eq!(
                check_separation(&[r, Role::Admin]),
                Err(StaffError::AdminCombined),
                "{r:?}"
            );
        }
    }

    #[test]
    fn which_roles_wait_for_a_second_admin() {
        let waiting: Vec<&str> = Role::ALL
            .into_iter()
            .filter(|r| r.needs_second_admin())
            .map(Role::code)
            .collect();
        assert_eq!(
            waiting,
            [
                "supervisor",
                "legal",
                "finance",
                "custodian",
                "auditor",
                "admin"
            ]
        );
    }

    #[test]
    fn refusing_takes_a_reason() {
        let d = |approve, reason: Option<&str>| SecondAdminDecision {
            approve,
            reason: reason.map(str::to_string),
        };
        assert!(d(false, None).checked_reason().is_err());
        assert!(d(false, Some("  ")).checked_reason().is_err());
        assert_eq!(
            d(false, Some(" 岗位不符 "))
                .checked_reason()
                .unwrap()
                .as_deref(),
            Some("岗位不符")
        );
        assert_eq!(d(true, None).checked_reason().unwrap(), None);
    }
}
