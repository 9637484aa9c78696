//! Stored institution keys follow the one normalizer (`domain::institution::target_key`):
//! when its rule changes, the keys of every tip and every declared conflict are computed
//! again, once, at start-up ([`rekey_institutions`]), so a conflict declared after the
//! change still recuses from a tip filed before it. The rule's version is recorded in
//! `normalizations`.

use crate::domain::institution::target_key;
use crate::store::Db;

/// The version of the institution-name rule: 1 folded width, spaces and case; 2 also drops
/// punctuation and legal-form suffixes (有限公司 …).
pub const INSTITUTION_KEY_VERSION: i64 = 2;

const NAME: &str = "institution_key";
const BATCH: i64 = 1000;

/// Re-key tips and conflicts stored under an older rule. Idempotent (two instances starting
/// at once compute the same keys); returns how many rows changed.
pub async fn rekey_institutions(db: &Db) -> anyhow::Result<u64> {
    let version: Option<i64> =
        sqlx::query_scalar("SELECT version FROM normalizations WHERE name = $1")
            .bind(NAME)
            .fetch_optional(&db.pool)
            .await?;
    if version.unwrap_or(1) >= INSTITUTION_KEY_VERSION {
        return Ok(0);
    }
    let mut changed = 0u64;
    let mut after = String::new();
    loop {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT id, target_name, target_key FROM reports WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(&after)
        .bind(BATCH)
        .fetch_all(&db.pool)
        .await?;
        let Some(last) = rows.last().map(|r| r.0.clone()) else {
            break;
        };
        let mut tx = db.begin().await?;
        for (id, name, key) in &rows {
            let new = target_key(name);
            if &new != key {
                sqlx::query("UPDATE reports SET target_key = $1 WHERE id = $2")
                    .bind(&new)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                changed += 1;
            }
        }
        tx.commit().await?;
        after = last;
    }
    // A conflict keeps only its old key, which the new rule maps as it maps the name (the
    // old rule's steps are a part of the new one's). Two old keys may become one.
    let conflicts: Vec<(String, String)> =
        sqlx::query_as("SELECT user_id, target_key FROM staff_conflicts")
            .fetch_all(&db.pool)
            .await?;
    let mut tx = db.begin().await?;
    for (user, key) in conflicts {
        if key.starts_with("#code:") {
            continue;
        }
        let new = target_key(&key);
        if new == key || new.is_empty() {
            continue;
        }
        sqlx::query(
            "INSERT INTO staff_conflicts (user_id, target_key, note, declared_at, target_code) \
             SELECT user_id, $1, note, declared_at, target_code FROM staff_conflicts \
             WHERE user_id = $2 AND target_key = $3 ON CONFLICT (user_id, target_key) DO NOTHING",
        )
        .bind(&new)
        .bind(&user)
        .bind(&key)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM staff_conflicts WHERE user_id = $1 AND target_key = $2")
            .bind(&user)
            .bind(&key)
            .execute(&mut *tx)
            .await?;
        changed += 1;
    }
    sqlx::query(
        "INSERT INTO normalizations (name, version) VALUES ($1, $2) \
         ON CONFLICT (name) DO UPDATE SET version = excluded.version",
    )
    .bind(NAME)
    .bind(INSTITUTION_KEY_VERSION)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(changed)
}
