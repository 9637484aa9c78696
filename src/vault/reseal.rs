//! One batch of re-sealing for each place the vault's data keys seal something
//! ([`Store`]), and the count of what is still sealed under another key than the active
//! one. Each row is written back only if it is unchanged since it was read (its key id,
//! version or bytes), so a concurrent writer never loses data; a row changed meanwhile is
//! picked up by the next batch. Values sealed under a case key (key id 0,
//! [`super::shred`]) are not under a data key and are left alone.

use anyhow::Context;

use super::context::{
    conversation_context, evidence_context, idempotency_context, push_context, token_context,
    totp_context,
};
use super::identity::{aad, IdentityField};
use super::rotate::Store;
use super::{crypto, SealedIdentity, Sealer, Vault};

/// Rows per batch (evidence: files, a few at a time).
const BATCH: i64 = 200;
const EVIDENCE_BATCH: i64 = 4;

/// How many values of `store` are not sealed under `active`.
pub(super) async fn count_not_under(
    vault: &Vault,
    store: Store,
    active: i64,
) -> anyhow::Result<u64> {
    let pool = &vault.db().pool;
    let sql = match store {
        Store::Identities => {
            "SELECT COUNT(*) FROM reporter_identity WHERE key_id <> $1 AND key_id <> 0"
        }
        Store::Evidence => "SELECT COUNT(*) FROM evidence_blobs WHERE key_id <> $1 AND key_id <> 0",
        Store::Idempotency => "SELECT COUNT(*) FROM idempotency WHERE key_id <> $1",
        Store::Conversations => "SELECT COUNT(*) FROM bot_conversations WHERE key_id <> $1",
        Store::Pushes => {
            "SELECT COUNT(*) FROM bot_pushes WHERE reply IS NOT NULL \
             AND (key_id IS NULL OR key_id <> $1)"
        }
        Store::Tokens => "SELECT COUNT(*) FROM bot_tokens WHERE key_id <> $1",
        // No key id column: the key id is read from each secret's header (staff are few).
        Store::TotpSecrets => return Ok(totp_not_under(vault, active).await?.len() as u64),
    };
    let n: i64 = sqlx::query_scalar(sql).bind(active).fetch_one(pool).await?;
    Ok(n as u64)
}

/// Re-seal one batch of `store` under the sealer's key; the number of rows re-sealed (or,
/// for the bots' caches, dropped because they no longer open).
pub(super) async fn batch(vault: &Vault, sealer: &Sealer, store: Store) -> anyhow::Result<u64> {
    match store {
        Store::Identities => identities(vault, sealer).await,
        Store::Evidence => evidence(vault, sealer).await,
        Store::Idempotency => idempotency(vault, sealer).await,
        Store::TotpSecrets => totp_secrets(vault, sealer).await,
        Store::Conversations => conversations(vault, sealer).await,
        Store::Pushes => pushes(vault, sealer).await,
        Store::Tokens => tokens(vault, sealer).await,
    }
}

async fn identities(vault: &Vault, sealer: &Sealer) -> anyhow::Result<u64> {
    let active = sealer.key_id();
    let ids: Vec<(String, i64)> = sqlx::query_as(
        "SELECT report_id, key_id FROM reporter_identity WHERE key_id <> $1 AND key_id <> 0 \
         LIMIT $2",
    )
    .bind(active)
    .bind(BATCH)
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

/// Evidence (originals and working copies), re-sealed bound to their report.
async fn evidence(vault: &Vault, sealer: &Sealer) -> anyhow::Result<u64> {
    let rows: Vec<(String, String, String, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT e.report_id, b.evidence_id, b.variant, b.key_id, b.data \
         FROM evidence_blobs b JOIN evidence e ON e.id = b.evidence_id \
         WHERE b.key_id <> $1 AND b.key_id <> 0 LIMIT $2",
    )
    .bind(sealer.key_id())
    .bind(EVIDENCE_BATCH)
    .fetch_all(&vault.db().pool)
    .await?;
    let mut n = 0;
    for (report_id, evidence_id, variant, old_key, data) in rows {
        let plain = vault
            .open_evidence(&report_id, &evidence_id, &variant, &data)
            .await
            .with_context(|| format!("evidence {evidence_id} ({variant})"))?;
        drop(data);
        let ctx = evidence_context(&report_id, &evidence_id, &variant);
        let res = sqlx::query(
            "UPDATE evidence_blobs SET key_id = $1, data = $2 \
             WHERE evidence_id = $3 AND variant = $4 AND key_id = $5",
        )
        .bind(sealer.key_id())
        .bind(sealer.seal_blob_owned(&ctx, plain))
        .bind(&evidence_id)
        .bind(&variant)
        .bind(old_key)
        .execute(&vault.db().pool)
        .await?;
        n += res.rows_affected();
    }
    Ok(n)
}

async fn idempotency(vault: &Vault, sealer: &Sealer) -> anyhow::Result<u64> {
    let rows: Vec<(String, Vec<u8>, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT scope, key_digest, key_id, response FROM idempotency WHERE key_id <> $1 LIMIT $2",
    )
    .bind(sealer.key_id())
    .bind(BATCH)
    .fetch_all(&vault.db().pool)
    .await?;
    let mut n = 0;
    for (scope, digest, old_key, response) in rows {
        let ctx = idempotency_context(&scope, &digest);
        let plain = vault
            .open_blob(&ctx, &response)
            .await
            .with_context(|| format!("saved response in scope {scope}"))?;
        let res = sqlx::query(
            "UPDATE idempotency SET key_id = $1, response = $2 \
             WHERE scope = $3 AND key_digest = $4 AND key_id = $5",
        )
        .bind(sealer.key_id())
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

/// Staff whose TOTP secret is sealed under another key than `active`, with the secret.
async fn totp_not_under(vault: &Vault, active: i64) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT id, totp_secret FROM staff_users WHERE totp_secret IS NOT NULL ORDER BY id",
    )
    .fetch_all(&vault.db().pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, sealed)| {
            crypto::sealed_key_id(sealed).map_or(true, |k| i64::from(k) != active)
        })
        .collect())
}

async fn totp_secrets(vault: &Vault, sealer: &Sealer) -> anyhow::Result<u64> {
    let mut n = 0;
    for (user_id, old) in totp_not_under(vault, sealer.key_id())
        .await?
        .into_iter()
        .take(200)
    {
        let ctx = totp_context(&user_id);
        let plain = vault
            .open_blob(&ctx, &old)
            .await
            .with_context(|| format!("TOTP secret of staff user {user_id}"))?;
        // Unchanged since read: the user did not enrol again meanwhile.
        let res = sqlx::query(
            "UPDATE staff_users SET totp_secret = $1 WHERE id = $2 AND totp_secret = $3",
        )
        .bind(sealer.seal_blob(&ctx, &plain))
        .bind(&user_id)
        .bind(old)
        .execute(&vault.db().pool)
        .await?;
        n += res.rows_affected();
    }
    Ok(n)
}

/// Bot conversations. One that no longer opens is dropped, as the bot itself drops it
/// (the user hears that the conversation expired).
async fn conversations(vault: &Vault, sealer: &Sealer) -> anyhow::Result<u64> {
    let rows: Vec<(Vec<u8>, Vec<u8>, i64, i64)> = sqlx::query_as(
        "SELECT user_digest, state, key_id, version FROM bot_conversations \
         WHERE key_id <> $1 LIMIT $2",
    )
    .bind(sealer.key_id())
    .bind(BATCH)
    .fetch_all(&vault.db().pool)
    .await?;
    let mut n = 0;
    for (user, state, old_key, version) in rows {
        let ctx = conversation_context(&user);
        let res = match vault.open_blob(&ctx, &state).await {
            Ok(plain) => {
                sqlx::query(
                    "UPDATE bot_conversations SET state = $1, key_id = $2 \
                     WHERE user_digest = $3 AND version = $4 AND key_id = $5",
                )
                .bind(sealer.seal_blob_owned(&ctx, plain))
                .bind(sealer.key_id())
                .bind(&user)
                .bind(version)
                .bind(old_key)
                .execute(&vault.db().pool)
                .await?
            }
            Err(_) => {
                sqlx::query(
                    "DELETE FROM bot_conversations WHERE user_digest = $1 AND version = $2 \
                     AND key_id = $3",
                )
                .bind(&user)
                .bind(version)
                .bind(old_key)
                .execute(&vault.db().pool)
                .await?
            }
        };
        n += res.rows_affected();
    }
    Ok(n)
}

/// Saved replies of bot pushes. One that no longer opens becomes "no reply", as a retried
/// delivery would already treat it.
async fn pushes(vault: &Vault, sealer: &Sealer) -> anyhow::Result<u64> {
    let rows: Vec<(Vec<u8>, Vec<u8>)> = sqlx::query_as(
        "SELECT push_digest, reply FROM bot_pushes WHERE reply IS NOT NULL \
         AND (key_id IS NULL OR key_id <> $1) LIMIT $2",
    )
    .bind(sealer.key_id())
    .bind(BATCH)
    .fetch_all(&vault.db().pool)
    .await?;
    let mut n = 0;
    for (digest, old) in rows {
        let ctx = push_context(&digest);
        let resealed = vault
            .open_blob(&ctx, &old)
            .await
            .ok()
            .map(|plain| sealer.seal_blob(&ctx, &plain));
        let res = sqlx::query(
            "UPDATE bot_pushes SET reply = $1, key_id = $2 WHERE push_digest = $3 AND reply = $4",
        )
        .bind(resealed)
        .bind(sealer.key_id())
        .bind(&digest)
        .bind(old)
        .execute(&vault.db().pool)
        .await?;
        n += res.rows_affected();
    }
    Ok(n)
}

/// Cached platform access tokens. One that no longer opens is dropped (the next message
/// fetches a new one).
async fn tokens(vault: &Vault, sealer: &Sealer) -> anyhow::Result<u64> {
    let rows: Vec<(String, String, Vec<u8>, i64)> = sqlx::query_as(
        "SELECT platform, account, token, key_id FROM bot_tokens WHERE key_id <> $1 LIMIT $2",
    )
    .bind(sealer.key_id())
    .bind(BATCH)
    .fetch_all(&vault.db().pool)
    .await?;
    let mut n = 0;
    for (platform, account, token, old_key) in rows {
        let ctx = token_context(&platform, &account);
        let res =
            match vault.open_blob(&ctx, &token).await {
                Ok(plain) => {
                    sqlx::query(
                        "UPDATE bot_tokens SET token = $1, key_id = $2 \
                     WHERE platform = $3 AND account = $4 AND key_id = $5",
                    )
                    .bind(sealer.seal_blob(&ctx, &plain))
                    .bind(sealer.key_id())
                    .bind(&platform)
                    .bind(&account)
                    .bind(old_key)
                    .execute(&vault.db().pool)
                    .await?
                }
                Err(_) => sqlx::query(
                    "DELETE FROM bot_tokens WHERE platform = $1 AND account = $2 AND key_id = $3",
                )
                .bind(&platform)
                .bind(&account)
                .bind(old_key)
                .execute(&vault.db().pool)
                .await?,
            };
        n += res.rows_affected();
    }
    Ok(n)
}
