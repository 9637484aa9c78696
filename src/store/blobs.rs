//! Where sealed evidence bytes live. Today: the `evidence_blobs` table, written in the same
//! transaction as the tip (no orphan files, one backup, replicated with the database).
//! Intake and the console reach blobs only through `put` and `get`, so an S3-compatible
//! store can replace this module without touching them.

use super::Exec;

/// Store sealed bytes for (`evidence_id`, `variant`) sealed with data key `key_id`.
pub async fn put(
    ex: &mut dyn Exec,
    evidence_id: &str,
    variant: &str,
    key_id: i64,
    sealed: &[u8],
) -> Result<(), sqlx::Error> {
    ex.run(
        "INSERT INTO evidence_blobs (evidence_id, variant, key_id, data) VALUES ($1, $2, $3, $4)",
        vec![
            evidence_id.into(),
            variant.into(),
            key_id.into(),
            sealed.into(),
        ],
    )
    .await?;
    Ok(())
}

/// The sealed bytes of (`evidence_id`, `variant`), if stored.
pub async fn get(
    db: &super::Db,
    evidence_id: &str,
    variant: &str,
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar("SELECT data FROM evidence_blobs WHERE evidence_id = $1 AND variant = $2")
        .bind(evidence_id)
        .bind(variant)
        .fetch_optional(&db.pool)
        .await
}
