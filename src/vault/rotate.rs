//! Data-key rotation, safe to run while the service runs and safe to interrupt.
//!
//! 1. A new data key becomes active; the old ones become `retiring` (skipped when a previous,
//!    interrupted run already did this: the run resumes).
//! 2. Wait for every instance to notice (they re-check every [`super::ACTIVE_KEY_TTL`]).
//! 3. Re-seal, in small batches, every row still sealed with another key: identities,
//!    evidence blobs, saved receipts. Each row is updated only if its key id is unchanged,
//!    so a concurrent writer never loses data.
//! 4. When nothing is left, the old keys become `retired`.

use std::time::Duration;

use anyhow::Context;

use super::identity::{aad, IdentityField};
use super::{crypto, SealedIdentity, Vault};

/// Sealing context of an evidence blob (shared by the evidence store and rotation).
pub fn evidence_context(evidence_id: &str, variant: &str) -> String {
    format!("evidence|{evidence_id}|{variant}")
}

/// Sealing context of a saved idempotent response.
pub fn idempotency_context(scope: &str, key_digest: &[u8]) -> String {
    format!("idempotency|{scope}|{}", hex::encode(key_digest))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotateOutcome {
    pub active_key: u32,
    pub resumed: bool,
    pub resealed: u64,
}

/// Rows not yet sealed with the active key.
pub async fn pending(vault: &Vault, active: i64) -> anyhow::Result<u64> {
    let mut total = 0i64;
    for table in ["reporter_identity", "evidence_blobs", "idempotency"] {
        let n: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE key_id <> $1"))
                .bind(active)
                .fetch_one(&vault.db().pool)
                .await?;
        total += n;
    }
    Ok(total as u64)
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
        n += reseal_identities(vault, &sealer, active).await?;
        n += reseal_blobs(vault, &sealer, active).await?;
        n += reseal_idempotency(vault, &sealer, active).await?;
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

async fn reseal_identities(
    vault: &Vault,
    sealer: &super::Sealer,
    active: i64,
) -> anyhow::Result<u64> {
    let ids: Vec<(String, i64)> = sqlx::query_as(
        "SELECT report_id, key_id FROM reporter_identity WHERE key_id <> $1 LIMIT 200",
    )
    .bind(active)
    .fetch_all(&vault.db().pool)
    .await?;
    let mut n = 0;
    for (report_id, old_key) in ids {
        let Some(mut sealed) = SealedIdentity::load(&vault.db().pool, &report_id).await? else {
            continue;
        };
        for field in IdentityField::ALL {
            let Some(blob) = sealed.get(field) else {
                continue;
            };
            let key_id = crypto::sealed_key_id(blob)?;
            let plain = vault
                .open_with(key_id, &aad(&report_id, field), blob)
                .with_context(|| format!("report {report_id} field {}", field.column()))?;
            sealed.set(field, Some(sealer.seal(&aad(&report_id, field), &plain)));
        }
        let v = sealed.values_mut();
        let res = sqlx::query(
            "UPDATE reporter_identity SET key_id = $1, name = $2, id_number = $3, phone = $4, \
             email = $5, openid = $6, caller_number = $7, bank_account = $8 \
             WHERE report_id = $9 AND key_id = $10",
        )
        .bind(active)
        .bind(v[0].take())
        .bind(v[1].take())
        .bind(v[2].take())
        .bind(v[3].take())
        .bind(v[4].take())
        .bind(v[5].take())
        .bind(v[6].take())
        .bind(&report_id)
        .bind(old_key)
        .execute(&vault.db().pool)
        .await?;
        n += res.rows_affected();
    }
    Ok(n)
}

async fn reseal_blobs(vault: &Vault, sealer: &super::Sealer, active: i64) -> anyhow::Result<u64> {
    // Evidence can be large: a few at a time.
    let rows: Vec<(String, String, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT evidence_id, variant, key_id, data FROM evidence_blobs WHERE key_id <> $1 LIMIT 4",
    )
    .bind(active)
    .fetch_all(&vault.db().pool)
    .await?;
    let mut n = 0;
    for (evidence_id, variant, old_key, data) in rows {
        let ctx = evidence_context(&evidence_id, &variant);
        let plain = vault.open_blob(&ctx, &data).await?;
        let res = sqlx::query(
            "UPDATE evidence_blobs SET key_id = $1, data = $2 \
             WHERE evidence_id = $3 AND variant = $4 AND key_id = $5",
        )
        .bind(active)
        .bind(sealer.seal_blob(&ctx, &plain))
        .bind(&evidence_id)
        .bind(&variant)
        .bind(old_key)
        .execute(&vault.db().pool)
        .await?;
        n += res.rows_affected();
    }
    Ok(n)
}

async fn reseal_idempotency(
    vault: &Vault,
    sealer: &super::Sealer,
    active: i64,
) -> anyhow::Result<u64> {
    let rows: Vec<(String, Vec<u8>, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT scope, key_digest, key_id, response FROM idempotency WHERE key_id <> $1 LIMIT 200",
    )
    .bind(active)
    .fetch_all(&vault.db().pool)
    .await?;
    let mut n = 0;
    for (scope, digest, old_key, response) in rows {
        let ctx = idempotency_context(&scope, &digest);
        let plain = vault.open_blob(&ctx, &response).await?;
        let res = sqlx::query(
            "UPDATE idempotency SET key_id = $1, response = $2 \
             WHERE scope = $3 AND key_digest = $4 AND key_id = $5",
        )
        .bind(active)
        .bind(sealer.seal_blob(&ctx, &plain))
        .bind(&scope)
        .bind(digest)
        .bind(old_key)
        .execute(&vault.db().pool)
        .await?;
        n += res.rows_affected();
    }
    Ok(n)
}
