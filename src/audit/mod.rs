//! The audit log: every staff action (allowed or refused) and every identity reveal, appended
//! to a keyed chain. Each entry's chain value is an HMAC-SHA256, under a key derived in the
//! vault, of the previous entry's value and the entry's own fields (`chain`), so an edited,
//! removed or reordered row breaks the chain from that row on, and whoever can write the
//! database but has no key cannot re-chain it. Signed anchors of the chain's head
//! (`anchor`), stored daily and exported by `jubao audit anchor`, catch a log cut short.
//! `jubao audit verify [--anchor FILE]` walks it and names the first broken entry.
//!
//! The module gets no master key: the vault hands it an [`AuditKey`] (a MAC and an anchor
//! signer, both derived from the master key, so data-key rotation leaves every chain value
//! verifiable). Entries from before the keyed chain stay as they were, plain SHA-256 chained,
//! and verify as the log's leading part (`chain`).
//!
//! Appending updates the single `audit_head` row first. On PostgreSQL that row lock
//! serializes appenders across instances until their transaction commits; on SQLite the
//! update takes the write lock, so a staff transaction that begins with [`lock`] never has
//! to upgrade a read lock later.

pub mod anchor;
pub mod chain;
pub mod reads;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::store::{self, Db, Tx};
use crate::vault::AuditKey;
pub use anchor::Anchor;
use chain::Row;
pub use chain::{verify, Verification};
pub use reads::{Read, ReadLog};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Denied,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Denied => "denied",
        }
    }
}

/// Who did it. `id` is `None` for the system (sweeps, workers) and unauthenticated callers.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Option<String>,
    pub name: String,
}

impl Actor {
    pub fn system() -> Self {
        Self {
            id: None,
            name: "system".into(),
        }
    }

    pub fn anonymous() -> Self {
        Self {
            id: None,
            name: "anonymous".into(),
        }
    }
}

pub struct Entry<'a> {
    pub actor: &'a Actor,
    pub action: &'a str,
    pub outcome: Outcome,
    pub report_id: Option<&'a str>,
    /// Structured detail; never identity, never secrets.
    pub detail: serde_json::Value,
}

impl<'a> Entry<'a> {
    /// A successful action that concerns no case (a sign-in, an account change).
    pub fn ok(actor: &'a Actor, action: &'a str, detail: serde_json::Value) -> Self {
        Self {
            actor,
            action,
            outcome: Outcome::Ok,
            report_id: None,
            detail,
        }
    }
}

/// Take the audit lock at the start of a staff write transaction (see the module docs).
pub async fn lock(tx: &mut Tx<'_>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Append one entry inside the caller's transaction; it commits or rolls back with it.
pub async fn append(tx: &mut Tx<'_>, key: &AuditKey, e: &Entry<'_>) -> Result<i64, sqlx::Error> {
    let (seq, prev): (i64, Vec<u8>) =
        sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
            .fetch_one(&mut **tx)
            .await?;
    let at = store::ts(Utc::now());
    let detail = e.detail.to_string();
    let row = Row {
        seq,
        at: &at,
        actor_id: e.actor.id.as_deref(),
        actor: &e.actor.name,
        action: e.action,
        outcome: e.outcome.code(),
        report_id: e.report_id,
        detail: &detail,
    };
    let hash = row.keyed(key, &prev);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor_id, actor, action, outcome, report_id, detail, \
         prev_hash, hash, chain_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(seq)
    .bind(&at)
    .bind(row.actor_id.map(str::to_string))
    .bind(row.actor)
    .bind(row.action)
    .bind(row.outcome)
    .bind(row.report_id.map(str::to_string))
    .bind(&detail)
    .bind(&prev)
    .bind(hash.to_vec())
    .bind(chain::KEYED)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(hash.to_vec())
        .execute(&mut **tx)
        .await?;
    Ok(seq)
}

/// Append in a transaction of its own: for refused attempts, whose own transaction (if any)
/// was rolled back so that nothing else changed.
pub async fn append_alone(db: &Db, key: &AuditKey, e: &Entry<'_>) -> Result<i64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let seq = append(&mut tx, key, e).await?;
    tx.commit().await?;
    Ok(seq)
}

/// Record a refused attempt (its own transaction; a failure to record is logged, never
/// hidden behind the refusal itself).
pub async fn record_denied(
    db: &Db,
    key: &AuditKey,
    actor: &Actor,
    action: &str,
    report_id: Option<&str>,
    reason: &str,
) {
    let r = append_alone(
        db,
        key,
        &Entry {
            actor,
            action,
            outcome: Outcome::Denied,
            report_id,
            detail: serde_json::json!({ "error": reason }),
        },
    )
    .await;
    if let Err(e) = r {
        tracing::error!(error = %e, action, "could not audit a refused attempt");
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub outcome: String,
    pub report_id: Option<String>,
    pub detail: serde_json::Value,
    pub hash: String,
}

#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    pub report_id: Option<String>,
    pub before_seq: Option<i64>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub limit: i64,
    /// The reader's view: entries about a case only when the case is in `region_prefix`
    /// (`""` national, `3715` a city with its counties) and its target is not one `user_id`
    /// is recused from. Entries about no case (sign-ins, settings) are all shown. `None`:
    /// everything (the commands).
    pub scope: Option<Scope>,
}

#[derive(Debug, Clone)]
pub struct Scope {
    pub region_prefix: String,
    pub user_id: String,
}

/// Newest first, filtered, keyset-paged by `before_seq`.
pub async fn list(db: &Db, f: &Filter) -> anyhow::Result<Vec<AuditEntry>> {
    let mut sql = String::from(
        "SELECT seq, at, actor, action, outcome, report_id, detail, hash FROM audit_log WHERE 1=1",
    );
    let mut binds: Vec<String> = vec![];
    let mut push = |sql: &mut String, clause: &str, v: String| {
        binds.push(v);
        sql.push_str(&clause.replace('?', &format!("${}", binds.len())));
    };
    if let Some(a) = &f.actor {
        push(&mut sql, " AND actor = ?", a.clone());
    }
    if let Some(a) = &f.action {
        push(&mut sql, " AND action = ?", a.clone());
    }
    if let Some(o) = &f.outcome {
        push(&mut sql, " AND outcome = ?", o.clone());
    }
    if let Some(r) = &f.report_id {
        push(&mut sql, " AND report_id = ?", r.clone());
    }
    if let Some(t) = f.from {
        push(&mut sql, " AND at >= ?", store::ts(t));
    }
    if let Some(t) = f.to {
        push(&mut sql, " AND at < ?", store::ts(t));
    }
    if let Some(s) = &f.scope {
        push(
            &mut sql,
            " AND (report_id IS NULL OR report_id IN (SELECT r.id FROM reports r WHERE \
             r.case_region LIKE ?",
            format!("{}%", s.region_prefix),
        );
        push(
            &mut sql,
            &format!(
                " AND {}))",
                crate::domain::institution::not_recused("r", "?")
            ),
            s.user_id.clone(),
        );
    }
    let before = f.before_seq.unwrap_or(i64::MAX);
    sql.push_str(&format!(
        " AND seq < {before} ORDER BY seq DESC LIMIT {}",
        f.limit.clamp(1, 500)
    ));
    let mut q = sqlx::query_as::<
        _,
        (
            i64,
            String,
            String,
            String,
            String,
            Option<String>,
            String,
            Vec<u8>,
        ),
    >(&sql);
    for b in binds {
        q = q.bind(b);
    }
    let rows = q.fetch_all(&db.pool).await?;
    Ok(rows
        .into_iter()
        .map(
            |(seq, at, actor, action, outcome, report_id, detail, hash)| AuditEntry {
                seq,
                at,
                actor,
                action,
                outcome,
                report_id,
                detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
                hash: hex::encode(hash),
            },
        )
        .collect())
}
