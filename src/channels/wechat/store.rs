//! The bot tables (migration 0003): push de-duplication with the saved reply, conversation
//! state, and the platform access-token cache. Every value that came from a user is sealed by
//! the vault under a context naming its row (`vault::context`, which rotation re-seals);
//! rows are found by keyed digests only.

use std::time::Duration;

use crate::store::{self, Db, Exec};
use crate::vault::context::{conversation_context, push_context, token_context};
use crate::vault::{Sealer, Vault};
use chrono::{DateTime, Utc};
use dialog::Conversation;

/// How long a push row is kept (the platform retries within about 15 s).
pub const PUSH_KEEP_HOURS: i64 = 24;
/// A `pending` push older than this is taken over by the next delivery (its owner died).
pub const PUSH_STALE_SECS: i64 = 30;
/// Expired conversations are kept this long so the user still gets the "expired" note.
pub const CONVERSATION_PURGE_HOURS: i64 = 24;

/// Who handles a push.
pub enum Claim {
    /// This request inserted the row: process the push, then [`save_reply`].
    Owner,
    /// Another delivery handled it: its saved reply (`None`: it sent no reply).
    Done(Option<String>),
    /// Another delivery is still working on it.
    Busy,
}

/// Try to become the one handler of a push; never blocks.
pub async fn claim_push(db: &Db, vault: &Vault, digest: &[u8]) -> anyhow::Result<Claim> {
    let now = Utc::now();
    let select = || {
        sqlx::query_as::<_, (String, Option<Vec<u8>>, String)>(
            "SELECT state, reply, updated_at FROM bot_pushes WHERE push_digest = $1",
        )
        .bind(digest)
        .fetch_optional(&db.pool)
    };
    // Read first: waiting deliveries poll this, and a read does not take SQLite's write lock.
    let mut row = select().await?;
    if row.is_none() {
        let mut conn = db.pool.acquire().await?;
        if insert_claim(&mut *conn, digest).await? {
            return Ok(Claim::Owner);
        }
        row = select().await?;
    }
    match row {
        // Deleted between our insert and select (its owner failed): let the caller retry.
        None => Ok(Claim::Busy),
        Some((state, reply, _)) if state == "done" => match reply {
            None => Ok(Claim::Done(None)),
            Some(sealed) => {
                let plain = vault.open_blob(&push_context(digest), &sealed).await;
                // A reply sealed with a retired key is gone: answer with no reply.
                Ok(Claim::Done(
                    plain.ok().and_then(|p| String::from_utf8(p).ok()),
                ))
            }
        },
        Some((_, _, updated_at)) => {
            let stale = store::parse_ts(&updated_at)
                .map(|t| (now - t).num_seconds() > PUSH_STALE_SECS)
                .unwrap_or(true);
            if stale {
                let taken = sqlx::query(
                    "UPDATE bot_pushes SET updated_at = $1 WHERE push_digest = $2 \
                     AND state = 'pending' AND updated_at = $3",
                )
                .bind(store::ts(now))
                .bind(digest)
                .bind(&updated_at)
                .execute(&db.pool)
                .await?
                .rows_affected();
                if taken == 1 {
                    return Ok(Claim::Owner);
                }
            }
            Ok(Claim::Busy)
        }
    }
}

/// Claim a push inside the caller's transaction: `true` when this request inserted the row.
/// A concurrent delivery's insert waits for this transaction (PostgreSQL: on the key;
/// SQLite: on the write lock) and then sees the row, so exactly one of them processes it.
pub async fn insert_claim(ex: &mut dyn Exec, digest: &[u8]) -> anyhow::Result<bool> {
    let now = store::ts(Utc::now());
    let n = ex
        .run(
            "INSERT INTO bot_pushes (push_digest, state, created_at, updated_at) \
             VALUES ($1, 'pending', $2, $3) ON CONFLICT (push_digest) DO NOTHING",
            vec![digest.into(), now.as_str().into(), now.as_str().into()],
        )
        .await?;
    Ok(n == 1)
}

/// Wait (polling) until the push is done or `max` has passed.
pub async fn wait_for_push(
    db: &Db,
    vault: &Vault,
    digest: &[u8],
    max: Duration,
) -> anyhow::Result<Claim> {
    let started = tokio::time::Instant::now();
    loop {
        match claim_push(db, vault, digest).await? {
            Claim::Busy if started.elapsed() < max => {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            other => return Ok(other),
        }
    }
}

/// Record the reply of a push this request owns.
pub async fn save_reply(
    ex: &mut dyn Exec,
    sealer: &Sealer,
    digest: &[u8],
    reply: Option<&str>,
) -> anyhow::Result<()> {
    let sealed = reply.map(|r| sealer.seal_blob(&push_context(digest), r.as_bytes()));
    ex.run(
        "UPDATE bot_pushes SET state = 'done', reply = $1, key_id = $2, updated_at = $3 \
         WHERE push_digest = $4",
        vec![
            sealed.as_deref().into(),
            sealer.key_id().into(),
            store::ts(Utc::now()).into(),
            digest.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Give up ownership after a failure, so a retried delivery processes the push again.
pub async fn release_push(db: &Db, digest: &[u8]) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM bot_pushes WHERE push_digest = $1 AND state = 'pending'")
        .bind(digest)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// A stored conversation and the version it was read at (0: no row).
pub struct Loaded {
    pub state: Option<Conversation>,
    pub version: i64,
    pub exists: bool,
}

pub async fn load_conversation(
    ex: &mut dyn Exec,
    vault: &Vault,
    user: &[u8],
) -> anyhow::Result<Loaded> {
    let mut rows = ex
        .fetch_rows(
            "SELECT state, version FROM bot_conversations WHERE user_digest = $1",
            vec![user.into()],
        )
        .await?;
    let row = rows.first_mut().map(|r| {
        (
            r[0].take_blob().unwrap_or_default(),
            r[1].int().unwrap_or(0),
        )
    });
    let Some((sealed, version)) = row else {
        return Ok(Loaded {
            state: None,
            version: 0,
            exists: false,
        });
    };
    // A state that cannot be opened (retired key) or read (an older format) is dropped,
    // as if the conversation had expired.
    let state = match vault.open_blob(&conversation_context(user), &sealed).await {
        Ok(plain) => serde_json::from_slice::<Conversation>(&plain).ok(),
        Err(_) => None,
    };
    Ok(Loaded {
        state,
        version,
        exists: true,
    })
}

/// Store the new state (or delete the row for `None`) if nobody changed it since `loaded`.
/// Returns `false` on a concurrent change: the caller steps again from the fresh state.
pub async fn save_conversation(
    ex: &mut dyn Exec,
    sealer: &Sealer,
    user: &[u8],
    loaded: &Loaded,
    state: Option<&Conversation>,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let Some(state) = state else {
        if !loaded.exists {
            return Ok(true);
        }
        let n = ex
            .run(
                "DELETE FROM bot_conversations WHERE user_digest = $1 AND version = $2",
                vec![user.into(), loaded.version.into()],
            )
            .await?;
        return Ok(n == 1);
    };
    let json = serde_json::to_vec(state)?;
    let sealed = sealer.seal_blob_owned(&conversation_context(user), json);
    let expires = now + chrono::Duration::seconds(dialog::EXPIRY_SECS);
    let n = if loaded.exists {
        ex.run(
            "UPDATE bot_conversations SET state = $1, key_id = $2, version = version + 1, \
             updated_at = $3, expires_at = $4 WHERE user_digest = $5 AND version = $6",
            vec![
                sealed.as_slice().into(),
                sealer.key_id().into(),
                store::ts(now).into(),
                store::ts(expires).into(),
                user.into(),
                loaded.version.into(),
            ],
        )
        .await?
    } else {
        ex.run(
            "INSERT INTO bot_conversations (user_digest, state, key_id, version, updated_at, \
             expires_at) VALUES ($1, $2, $3, 1, $4, $5) ON CONFLICT (user_digest) DO NOTHING",
            vec![
                user.into(),
                sealed.as_slice().into(),
                sealer.key_id().into(),
                store::ts(now).into(),
                store::ts(expires).into(),
            ],
        )
        .await?
    };
    Ok(n == 1)
}

/// Forget a user's conversation (they unfollowed).
pub async fn delete_conversation(ex: &mut dyn Exec, user: &[u8]) -> anyhow::Result<()> {
    ex.run(
        "DELETE FROM bot_conversations WHERE user_digest = $1",
        vec![user.into()],
    )
    .await?;
    Ok(())
}

/// A cached access token still valid for at least `margin`.
pub async fn cached_token(
    db: &Db,
    vault: &Vault,
    platform: &str,
    account: &str,
    margin: chrono::Duration,
) -> anyhow::Result<Option<String>> {
    let row: Option<(Vec<u8>, String)> = sqlx::query_as(
        "SELECT token, expires_at FROM bot_tokens WHERE platform = $1 AND account = $2",
    )
    .bind(platform)
    .bind(account)
    .fetch_optional(&db.pool)
    .await?;
    let Some((sealed, expires_at)) = row else {
        return Ok(None);
    };
    if store::parse_ts(&expires_at)? <= Utc::now() + margin {
        return Ok(None);
    }
    match vault
        .open_blob(&token_context(platform, account), &sealed)
        .await
    {
        Ok(p) => Ok(String::from_utf8(p).ok()),
        Err(_) => Ok(None),
    }
}

pub async fn store_token(
    db: &Db,
    sealer: &Sealer,
    platform: &str,
    account: &str,
    token: &str,
    expires_at: DateTime<Utc>,
) -> anyhow::Result<()> {
    let sealed = sealer.seal_blob(&token_context(platform, account), token.as_bytes());
    sqlx::query(
        "INSERT INTO bot_tokens (platform, account, token, key_id, expires_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (platform, account) DO UPDATE SET \
         token = excluded.token, key_id = excluded.key_id, expires_at = excluded.expires_at",
    )
    .bind(platform)
    .bind(account)
    .bind(sealed)
    .bind(sealer.key_id())
    .bind(store::ts(expires_at))
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// The platform said the token is no longer valid.
pub async fn forget_token(db: &Db, platform: &str, account: &str) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM bot_tokens WHERE platform = $1 AND account = $2")
        .bind(platform)
        .bind(account)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Delete old push rows and long-expired conversations.
pub async fn purge(db: &Db) -> anyhow::Result<()> {
    let now = Utc::now();
    sqlx::query("DELETE FROM bot_pushes WHERE created_at < $1")
        .bind(store::ts(now - chrono::Duration::hours(PUSH_KEEP_HOURS)))
        .execute(&db.pool)
        .await?;
    sqlx::query("DELETE FROM bot_conversations WHERE expires_at < $1")
        .bind(store::ts(
            now - chrono::Duration::hours(CONVERSATION_PURGE_HOURS),
        ))
        .execute(&db.pool)
        .await?;
    Ok(())
}
