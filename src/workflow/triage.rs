//! Triage (issue 18): each tip's priority with its explanation, computed by the
//! `related_tips` job right after its links ([`super::related::compute`]) and stored in
//! `tip_triage`; the inbox sorts by it (`sort=priority`) and the case page shows why.
//!
//! The facts come from the tip and its neighbours only as counts and codes
//! ([`rules::Facts`]): the amount estimate, categories, an insider relation, the kinds of
//! its evidence files, the distinct reporters of the other tips on the same target (tips
//! that share a blind-index digest are one reporter; an anonymous tip is one reporter of
//! its own unless it was marked repeated), the target's earlier cases decided substantiated
//! (or partly), and whether an earlier tip from the same client address had the same
//! target and the same description (normalized). When a tip arrives, the open tips on its
//! target are triaged again, since their count of independent reporters changed.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use utoipa::ToSchema;

pub use jubao_rules::triage as rules;

use super::related::similar;
use crate::deadlines::calendar::shanghai_date;
use crate::store::{self, Db, Tx};

/// Tips looked at for a repeat: the client's most recent ones.
const REPEAT_WINDOW: i64 = 20;

/// The weights of `[triage] weights_dir` (built in when empty). Start-up loads them, so a
/// bad file stops the service with the file named.
pub fn weights(dir: &str) -> anyhow::Result<rules::TriagePolicies> {
    Ok(if dir.trim().is_empty() {
        rules::TriagePolicies::built_in()?
    } else {
        rules::TriagePolicies::load_dir(dir)?
    })
}

/// A stored triage, as the case page shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TriageView {
    pub score: i64,
    /// The triage weights used (`id@version`).
    pub policy: String,
    pub repeated: bool,
    /// Each factor with its value, weight and points; the points add up to `score`.
    #[schema(value_type = Vec<Object>)]
    pub factors: Vec<rules::Factor>,
}

/// `$first, …` for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Which tips are one reporter: tips sharing a blind-index digest, transitively.
async fn reporters(
    tx: &mut Tx<'_>,
    ids: &[String],
) -> Result<BTreeMap<String, usize>, sqlx::Error> {
    let mut parent: BTreeMap<String, String> = ids.iter().map(|i| (i.clone(), i.clone())).collect();
    fn root(parent: &BTreeMap<String, String>, mut x: String) -> String {
        while let Some(p) = parent.get(&x).filter(|p| **p != x) {
            x = p.clone();
        }
        x
    }
    for chunk in ids.chunks(200) {
        let sql = format!(
            "SELECT report_id, field, digest FROM identity_index WHERE report_id IN ({}) \
             ORDER BY field, digest",
            placeholders(1, chunk.len())
        );
        let mut q = sqlx::query_as::<_, (String, String, Vec<u8>)>(&sql);
        for id in chunk {
            q = q.bind(id);
        }
        let rows = q.fetch_all(&mut **tx).await?;
        let mut first: BTreeMap<(String, Vec<u8>), String> = BTreeMap::new();
        for (id, field, digest) in rows {
            match first.get(&(field.clone(), digest.clone())) {
                Some(other) => {
                    let (a, b) = (root(&parent, id), root(&parent, other.clone()));
                    if a != b {
                        parent.insert(a, b);
                    }
                }
                None => {
                    first.insert((field, digest), id);
                }
            }
        }
    }
    let roots: Vec<String> = ids.iter().map(|i| root(&parent, i.clone())).collect();
    let numbered: BTreeMap<&String, usize> = roots
        .iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .enumerate()
        .map(|(n, r)| (r, n))
        .collect();
    Ok(ids
        .iter()
        .zip(&roots)
        .map(|(i, r)| (i.clone(), numbered[r]))
        .collect())
}

/// The tips of `ids` that triage marked repeated.
async fn repeated_among(tx: &mut Tx<'_>, ids: &[String]) -> Result<BTreeSet<String>, sqlx::Error> {
    let mut out = BTreeSet::new();
    for chunk in ids.chunks(200) {
        let sql = format!(
            "SELECT report_id FROM tip_triage WHERE repeated = 1 AND report_id IN ({})",
            placeholders(1, chunk.len())
        );
        let mut q = sqlx::query_scalar::<_, String>(&sql);
        for id in chunk {
            q = q.bind(id);
        }
        out.extend(q.fetch_all(&mut **tx).await?);
    }
    Ok(out)
}

/// How many distinct reporters the tips `ids` have: tips sharing a blind-index digest are
/// one; a tip marked repeated is not counted. Never who they are.
pub async fn distinct_reporters(tx: &mut Tx<'_>, ids: &[String]) -> Result<usize, sqlx::Error> {
    let reporter_of = reporters(tx, ids).await?;
    let repeated = repeated_among(tx, ids).await?;
    Ok(ids
        .iter()
        .filter(|i| !repeated.contains(*i))
        .map(|i| reporter_of[i])
        .collect::<BTreeSet<_>>()
        .len())
}

/// Triage `report_id` and the open tips of `group` (the tips on its target), in `tx`. The
/// facts of the whole group are read in a few statements, not a few a tip: the job's time
/// follows the number of round trips to the database (docs/BENCHMARKS.md, "Related tips").
pub async fn triage_group(
    tx: &mut Tx<'_>,
    policies: &rules::TriagePolicies,
    report_id: &str,
    group: &[String],
) -> Result<(), sqlx::Error> {
    let mut all: Vec<String> = group.to_vec();
    all.push(report_id.to_string());
    all.sort();
    all.dedup();
    let reporter_of = reporters(tx, &all).await?;
    let repeated = repeated_among(tx, &all).await?;
    let facts = facts_of(tx, &all).await?;
    // The tip itself, and the open tips on its target.
    let mine: Vec<&Facts> = facts
        .iter()
        .filter(|f| f.id == report_id || f.open)
        .collect();
    let kinds = evidence_kinds(tx, &mine).await?;
    for f in mine {
        let others: BTreeSet<usize> = all
            .iter()
            .filter(|o| **o != f.id && !repeated.contains(*o))
            .filter(|o| reporter_of[*o] != reporter_of[&f.id])
            .map(|o| reporter_of[o])
            .collect();
        // The target's earlier tips decided substantiated (or partly).
        let substantiated = facts
            .iter()
            .filter(|o| o.received_at < f.received_at && o.substantiated)
            .count();
        let evidence = kinds.get(&f.id).cloned().unwrap_or_default();
        one(tx, policies, f, evidence, substantiated, others.len()).await?;
    }
    Ok(())
}

/// What triage reads of one tip.
struct Facts {
    id: String,
    open: bool,
    substantiated: bool,
    amount: Option<i64>,
    relation: Option<String>,
    categories: String,
    region: String,
    received_at: String,
    client: Option<Vec<u8>>,
    key: String,
    description: String,
}

type FactRow = (
    String,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<String>,
    String,
    String,
    String,
    Option<Vec<u8>>,
    String,
    String,
);

/// The facts of the tips `ids` (those that exist).
async fn facts_of(tx: &mut Tx<'_>, ids: &[String]) -> Result<Vec<Facts>, sqlx::Error> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(200) {
        let sql = format!(
            "SELECT id, is_open, decision, amount_estimate_fen, relation, categories, \
             case_region, received_at, client_digest, target_key, description FROM reports \
             WHERE id IN ({})",
            placeholders(1, chunk.len())
        );
        let mut q = sqlx::query_as::<_, FactRow>(&sql);
        for id in chunk {
            q = q.bind(id);
        }
        for r in q.fetch_all(&mut **tx).await? {
            out.push(Facts {
                id: r.0,
                open: r.1 == Some(1),
                substantiated: matches!(r.2.as_deref(), Some("substantiated" | "partly")),
                amount: r.3,
                relation: r.4,
                categories: r.5,
                region: r.6,
                received_at: r.7,
                client: r.8,
                key: r.9,
                description: r.10,
            });
        }
    }
    Ok(out)
}

/// The kinds of the evidence files of each of `tips`.
async fn evidence_kinds(
    tx: &mut Tx<'_>,
    tips: &[&Facts],
) -> Result<BTreeMap<String, Vec<String>>, sqlx::Error> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for chunk in tips.chunks(200) {
        let sql = format!(
            "SELECT report_id, kind FROM evidence WHERE report_id IN ({}) ORDER BY report_id, seq",
            placeholders(1, chunk.len())
        );
        let mut q = sqlx::query_as::<_, (String, String)>(&sql);
        for f in chunk {
            q = q.bind(&f.id);
        }
        for (id, kind) in q.fetch_all(&mut **tx).await? {
            out.entry(id).or_default().push(kind);
        }
    }
    Ok(out)
}

/// Triage one tip, knowing how many other distinct reporters its target has.
async fn one(
    tx: &mut Tx<'_>,
    policies: &rules::TriagePolicies,
    f: &Facts,
    evidence: Vec<String>,
    substantiated: usize,
    independent: usize,
) -> Result<(), sqlx::Error> {
    let Facts {
        id,
        amount,
        relation,
        categories,
        region,
        received_at,
        client,
        key,
        description,
        ..
    } = f;
    let (amount, substantiated) = (*amount, i64::try_from(substantiated).unwrap_or(i64::MAX));
    let repeated = match client {
        None => false,
        Some(c) => {
            let earlier: Vec<(String, String)> = sqlx::query_as(&format!(
                "SELECT target_key, description FROM reports WHERE client_digest = $1 \
                 AND received_at < $2 AND id <> $3 ORDER BY received_at DESC LIMIT {REPEAT_WINDOW}"
            ))
            .bind(c.clone())
            .bind(received_at)
            .bind(id)
            .fetch_all(&mut **tx)
            .await?;
            let mine = similar::normalize(description);
            earlier
                .iter()
                .any(|(k, d)| k == key && similar::normalize(d) == mine)
        }
    };
    let facts = rules::Facts {
        amount_estimate_fen: amount,
        categories: categories.split_whitespace().map(str::to_string).collect(),
        insider: relation.as_deref() == Some("insider"),
        evidence,
        independent_reporters: i64::try_from(independent).unwrap_or(i64::MAX),
        substantiated_before: substantiated,
        repeated,
    };
    let on = store::parse_ts(received_at)
        .map(shanghai_date)
        .unwrap_or_else(|_| chrono::Utc::now().date_naive());
    let Some(policy) = policies.select(region, on) else {
        return Ok(());
    };
    let t = rules::triage(policy, &facts);
    sqlx::query(
        "INSERT INTO tip_triage (report_id, score, policy, factors, repeated, computed_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (report_id) DO UPDATE SET \
         score = excluded.score, policy = excluded.policy, factors = excluded.factors, \
         repeated = excluded.repeated, computed_at = excluded.computed_at",
    )
    .bind(id)
    .bind(t.score)
    .bind(&t.policy)
    .bind(serde_json::to_string(&t.factors).unwrap_or_else(|_| "[]".into()))
    .bind(i64::from(repeated))
    .bind(store::ts(chrono::Utc::now()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The stored triage of a case, if computed yet.
pub async fn load(db: &Db, id: &str) -> Result<Option<TriageView>, sqlx::Error> {
    let row: Option<(i64, String, String, i64)> = sqlx::query_as(
        "SELECT score, policy, factors, repeated FROM tip_triage WHERE report_id = $1",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(|(score, policy, factors, repeated)| TriageView {
        score,
        policy,
        repeated: repeated != 0,
        factors: serde_json::from_str(&factors).unwrap_or_default(),
    }))
}
