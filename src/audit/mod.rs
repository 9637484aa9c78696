//! The audit log: every staff action (allowed or refused) and every identity reveal, appended
//! to a hash chain. Each entry's hash covers the previous entry's hash and the entry's own
//! fields, so an edited, removed or reordered row breaks the chain from that row on;
//! `jubao audit verify` walks it and names the first broken entry.
//!
//! Appending updates the single `audit_head` row first. On PostgreSQL that row lock
//! serializes appenders across instances until their transaction commits; on SQLite the
//! update takes the write lock, so a staff transaction that begins with [`lock`] never has
//! to upgrade a read lock later.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::store::{self, Db, Tx};

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

/// Take the audit lock at the start of a staff write transaction (see the module docs).
pub async fn lock(tx: &mut Tx<'_>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Append one entry inside the caller's transaction; it commits or rolls back with it.
pub async fn append(tx: &mut Tx<'_>, e: &Entry<'_>) -> Result<i64, sqlx::Error> {
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
    let hash = row.hash(&prev);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor_id, actor, action, outcome, report_id, detail, \
         prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
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
pub async fn append_alone(db: &Db, e: &Entry<'_>) -> Result<i64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let seq = append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(seq)
}

/// Record a refused attempt (its own transaction; a failure to record is logged, never
/// hidden behind the refusal itself).
pub async fn record_denied(
    db: &Db,
    actor: &Actor,
    action: &str,
    report_id: Option<&str>,
    reason: &str,
) {
    let r = append_alone(
        db,
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

struct Row<'a> {
    seq: i64,
    at: &'a str,
    actor_id: Option<&'a str>,
    actor: &'a str,
    action: &'a str,
    outcome: &'a str,
    report_id: Option<&'a str>,
    detail: &'a str,
}

impl Row<'_> {
    /// SHA-256 over the previous hash and every field, each length-prefixed so that no two
    /// different entries share an encoding.
    fn hash(&self, prev: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"jubao/audit/v1");
        h.update(prev);
        h.update(self.seq.to_be_bytes());
        for part in [
            Some(self.at),
            self.actor_id,
            Some(self.actor),
            Some(self.action),
            Some(self.outcome),
            self.report_id,
            Some(self.detail),
        ] {
            match part {
                Some(s) => {
                    h.update([1u8]);
                    h.update((s.len() as u64).to_be_bytes());
                    h.update(s.as_bytes());
                }
                None => h.update([0u8]),
            }
        }
        h.finalize().into()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub entries: i64,
    /// The first entry whose stored hash, link or sequence does not check out.
    pub first_broken: Option<i64>,
    pub problem: Option<String>,
}

type StoredRow = (
    i64,
    String,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    String,
    Vec<u8>,
    Vec<u8>,
);

/// Walk the whole chain in order, a page at a time. `progress` gets the count checked.
pub async fn verify(db: &Db, mut progress: impl FnMut(i64, i64)) -> anyhow::Result<Verification> {
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(&db.pool)
        .await?;
    let (head_seq, head_hash): (i64, Vec<u8>) =
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&db.pool)
            .await?;
    let mut prev = vec![0u8; 32];
    let mut expected_seq = 1i64;
    let mut checked = 0i64;
    loop {
        let rows: Vec<StoredRow> = sqlx::query_as(
            "SELECT seq, at, actor_id, actor, action, outcome, report_id, detail, prev_hash, hash \
             FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT 1000",
        )
        .bind(expected_seq)
        .fetch_all(&db.pool)
        .await?;
        if rows.is_empty() {
            break;
        }
        for (seq, at, actor_id, actor, action, outcome, report_id, detail, prev_hash, hash) in rows
        {
            let broken = |problem: &str| Verification {
                entries: total,
                first_broken: Some(seq.min(expected_seq)),
                problem: Some(problem.to_string()),
            };
            if seq != expected_seq {
                return Ok(broken("an entry is missing before this one"));
            }
            if prev_hash != prev {
                return Ok(broken("the link to the previous entry does not match"));
            }
            let row = Row {
                seq,
                at: &at,
                actor_id: actor_id.as_deref(),
                actor: &actor,
                action: &action,
                outcome: &outcome,
                report_id: report_id.as_deref(),
                detail: &detail,
            };
            let computed = row.hash(&prev);
            if computed.as_slice() != hash.as_slice() {
                return Ok(broken("the entry's content does not match its hash"));
            }
            prev = hash;
            expected_seq += 1;
            checked += 1;
        }
        progress(checked, total);
    }
    if checked != head_seq || (checked > 0 && prev != head_hash) {
        return Ok(Verification {
            entries: total,
            first_broken: Some(expected_seq),
            problem: Some("the chain ends before its recorded head (entries removed)".into()),
        });
    }
    Ok(Verification {
        entries: total,
        first_broken: None,
        problem: None,
    })
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
