//! Data-key rotation, safe to run while the service runs and safe to interrupt, and the
//! destruction of the keys it retired.
//!
//! `jubao keys rotate`:
//! 1. A new data key becomes active; the old ones become `retiring` (skipped when a previous,
//!    interrupted run already did this: the run resumes).
//! 2. Wait for every instance to notice (they re-check every [`super::ACTIVE_KEY_TTL`]).
//! 3. Re-seal, in small batches, everything still sealed with another key, in every
//!    [`Store`]: identities, evidence (originals and working copies, re-bound to their
//!    report), saved receipts, staff TOTP secrets, and the bots' conversations, saved
//!    replies and access tokens. Each row is updated only if it is unchanged since it was
//!    read, so a concurrent writer never loses data.
//! 4. When nothing is left, the old keys become `retired`. They still open old backups.
//!
//! `jubao keys rotate --retire` then destroys the retired keys ([`retire`]): it refuses while
//! a rotation is unfinished or anything is still sealed under another key than the active
//! one, so it never makes a stored value unreadable.

use std::time::Duration;

use super::{reseal, Vault};

pub use super::context::{evidence_context, idempotency_context};

/// Every place where something is sealed with a data key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Identities,
    Evidence,
    Idempotency,
    TotpSecrets,
    Conversations,
    Pushes,
    Tokens,
}

impl Store {
    pub const ALL: [Store; 7] = [
        Store::Identities,
        Store::Evidence,
        Store::Idempotency,
        Store::TotpSecrets,
        Store::Conversations,
        Store::Pushes,
        Store::Tokens,
    ];

    /// Where it is kept (table, or table and column).
    pub fn name(self) -> &'static str {
        match self {
            Store::Identities => "reporter_identity",
            Store::Evidence => "evidence_blobs",
            Store::Idempotency => "idempotency",
            Store::TotpSecrets => "staff_users.totp_secret",
            Store::Conversations => "bot_conversations",
            Store::Pushes => "bot_pushes.reply",
            Store::Tokens => "bot_tokens",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotateOutcome {
    pub active_key: u32,
    pub resumed: bool,
    pub resealed: u64,
}

/// Values not sealed with the `active` key, per store (only stores with some).
pub async fn pending_by_store(vault: &Vault, active: i64) -> anyhow::Result<Vec<(Store, u64)>> {
    let mut out = vec![];
    for store in Store::ALL {
        let n = reseal::count_not_under(vault, store, active).await?;
        if n > 0 {
            out.push((store, n));
        }
    }
    Ok(out)
}

/// Values not yet sealed with the active key, in all stores.
pub async fn pending(vault: &Vault, active: i64) -> anyhow::Result<u64> {
    Ok(pending_by_store(vault, active)
        .await?
        .iter()
        .map(|(_, n)| n)
        .sum())
}

/// Rotate the data key. `progress(done, total)` is called as rows are re-sealed.
pub async fn rotate(
    vault: &Vault,
    settle: Duration,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> anyhow::Result<RotateOutcome> {
    let db = vault.db();
    let retiring: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM vault_keys WHERE state = 'retiring'")
            .fetch_one(&db.pool)
            .await?;
    let resumed = retiring > 0;
    if !resumed {
        vault.create_active_key().await?;
        // Let every running instance switch to the new key before we sweep.
        tokio::time::sleep(settle).await;
    }
    let sealer = vault.sealer().await?;
    let active = sealer.key_id();
    let total = pending(vault, active).await?;
    let mut done = 0u64;
    progress(done, total);

    loop {
        let mut n = 0u64;
        for store in Store::ALL {
            n += reseal::batch(vault, &sealer, store).await?;
        }
        done += n;
        progress(done, total.max(done));
        if n == 0 {
            break;
        }
    }
    // Anything written with an old key after our sweep started was re-sealed above; only
    // retire the old keys when nothing at all is left.
    if pending(vault, active).await? == 0 {
        sqlx::query("UPDATE vault_keys SET state = 'retired' WHERE state = 'retiring'")
            .execute(&db.pool)
            .await?;
    }
    Ok(RotateOutcome {
        active_key: sealer.key_id() as u32,
        resumed,
        resealed: done,
    })
}

/// Why `--retire` destroyed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetireRefused {
    /// A rotation was started and has not finished.
    #[error(
        "a rotation has not finished (data key {keys} still being replaced): run \
         `jubao keys rotate` until it completes, then `jubao keys rotate --retire`"
    )]
    RotationUnfinished { keys: String },
    /// Values are still sealed under a key other than the active one.
    #[error(
        "{total} sealed values are not under the active data key {active} ({detail}): \
         run `jubao keys rotate` to re-seal them, then `jubao keys rotate --retire`"
    )]
    StillSealed {
        active: u32,
        total: u64,
        detail: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetireOutcome {
    pub active_key: u32,
    /// The data keys destroyed (none: there was no retired key).
    pub destroyed: Vec<u32>,
}

/// Destroy the retired data keys (their wrapped copies are deleted from `vault_keys`), once
/// a rotation has finished and nothing is sealed under any key but the active one.
/// Refusals are [`RetireRefused`] errors; nothing is destroyed then.
pub async fn retire(vault: &Vault) -> anyhow::Result<RetireOutcome> {
    let db = vault.db();
    let keys: Vec<(i64, String)> = sqlx::query_as("SELECT id, state FROM vault_keys ORDER BY id")
        .fetch_all(&db.pool)
        .await?;
    let retiring: Vec<String> = keys
        .iter()
        .filter(|(_, s)| s == "retiring")
        .map(|(id, _)| id.to_string())
        .collect();
    if !retiring.is_empty() {
        return Err(RetireRefused::RotationUnfinished {
            keys: retiring.join(", "),
        }
        .into());
    }
    let sealer = vault.sealer().await?;
    let active = sealer.key_id();
    let left = pending_by_store(vault, active).await?;
    if !left.is_empty() {
        return Err(RetireRefused::StillSealed {
            active: active as u32,
            total: left.iter().map(|(_, n)| n).sum(),
            detail: left
                .iter()
                .map(|(s, n)| format!("{}: {n}", s.name()))
                .collect::<Vec<_>>()
                .join(", "),
        }
        .into());
    }
    let destroyed: Vec<i64> = sqlx::query_scalar(
        "DELETE FROM vault_keys WHERE state = 'retired' AND id <> $1 RETURNING id",
    )
    .bind(active)
    .fetch_all(&db.pool)
    .await?;
    // Forget them here too (other instances drop them when they next reload the ring).
    vault.reload().await?;
    let mut destroyed: Vec<u32> = destroyed.into_iter().map(|id| id as u32).collect();
    destroyed.sort_unstable();
    Ok(RetireOutcome {
        active_key: active as u32,
        destroyed,
    })
}
