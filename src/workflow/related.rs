//! Related tips (issue 18): for each new tip, the earlier and later tips that share its
//! target, its reporter or its facts, stored as links with their reasons and score, and
//! shown to the staff who may see both cases.
//!
//! * **When:** the `related_tips` outbox job ([`RelatedJob`]) that intake queues with the
//!   tip; [`RelatedHandler`] runs [`compute`]. A failure is retried with backoff and logged
//!   with the tip id only; the tip itself was stored before the job ran.
//! * **Candidates** (each an indexed lookup, at most [`MAX_CANDIDATES`] of each kind, the
//!   most recent first; [`MAX_TEXT_CANDIDATES`] by text, those sharing the most buckets):
//!   the same normalized institution name in the same city (the first four digits of the
//!   case region) or the same institution code anywhere; the same
//!   blind-index digest of phone, ID number, caller number or WeChat openid (the relation
//!   is stored, never the identity); a shared MinHash bucket of the description, each
//!   bucket read newest first and at most [`BUCKET_CAP`] deep
//!   ([`similar::buckets`]).
//! * **Links:** [`similar::link`] decides from what the pair shares; a link is stored once
//!   per pair, from the later tip to the earlier, so the job of whichever tip runs second
//!   finds the pair whatever order the jobs ran in.
//! * **Reading:** [`related`] lists the linked tips the caller may see (region, recusal,
//!   role, as for the inbox); the others are left out without a trace.

pub use jubao_rules::similar;

use std::collections::{BTreeMap, BTreeSet};

use futures_util::future::BoxFuture;
use serde::Serialize;
use utoipa::ToSchema;

use super::{can_see, is_recused, load_case, Workflow, REGION_READERS};
use crate::domain::institution::not_recused;
use crate::error::AppResult;
pub use crate::intake::links::RelatedJob;
use crate::notify::worker::JobError;
use crate::notify::{self, Claimed, FailCode};
use crate::staff::principal::Principal;
use crate::staff::region_prefix;
use crate::store::{self, Db};

/// Candidates of each kind compared per tip, the most recent first.
pub const MAX_CANDIDATES: i64 = 200;

/// Candidates by text compared per tip: those sharing the most buckets with it. Fewer than
/// the other kinds, since each is loaded and compared (docs/BENCHMARKS.md).
pub const MAX_TEXT_CANDIDATES: i64 = 100;

/// A job waits while the intake or bots writer wrote a batch of several in this many ms…
const BUSY_MS: i64 = 250;
/// …looking again after this long…
const WAIT_STEP: std::time::Duration = std::time::Duration::from_millis(100);
/// …and at most this long, so links are never put off for good.
const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs the `related_tips` job: the links, then the triage ([`super::triage`]).
pub struct RelatedHandler {
    pub db: Db,
    pub triage: std::sync::Arc<super::triage::rules::TriagePolicies>,
}

impl notify::Run<RelatedJob> for RelatedHandler {
    fn run<'a>(&'a self, job: RelatedJob, _: &'a Claimed) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            // The links are for the handler and can wait out a burst of tips or pushes;
            // the receipts cannot (docs/BENCHMARKS.md, "Related tips").
            let mut waited = std::time::Duration::ZERO;
            while self.db.busy_within(BUSY_MS) && waited < MAX_WAIT {
                tokio::time::sleep(WAIT_STEP).await;
                waited += WAIT_STEP;
            }
            compute(&self.db, &self.triage, &job.report_id)
                .await
                .map(|_| ())
                .map_err(|e| {
                    let code = FailCode::database(&e);
                    tracing::warn!(report_id = %job.report_id, error = %code,
                    "related tips not computed; the job will retry");
                    JobError::retry(code)
                })
        })
    }
}

/// A tip as the comparison needs it.
struct Tip {
    id: String,
    received_at: String,
    region: String,
    key: String,
    code: Option<String>,
    period: similar::Period,
    categories: BTreeSet<String>,
    shingles: Vec<u64>,
    /// Enough text for a signature ([`similar::MIN_SHINGLES`]).
    comparable: bool,
    description: String,
}

type TipRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    String,
);

fn date(s: Option<&str>) -> Option<chrono::NaiveDate> {
    s.and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

impl Tip {
    fn from_row(r: TipRow) -> Tip {
        let shingles = similar::shingles(&r.5);
        Tip {
            comparable: shingles.len() >= similar::MIN_SHINGLES,
            shingles,
            period: (date(r.6.as_deref()), date(r.7.as_deref())),
            categories: r.8.split_whitespace().map(str::to_string).collect(),
            id: r.0,
            received_at: r.1,
            region: r.2,
            key: r.3,
            code: r.4,
            description: r.5,
        }
    }

    /// The city a case belongs to: the region's first four digits.
    fn city(&self) -> &str {
        self.region.get(..4).unwrap_or(&self.region)
    }
}

/// The newest tips taken from one text bucket. A bucket shared by more tips than this is
/// text that many tips have in common (a set phrase, a stop word): its oldest members are
/// not candidates through it, so one common phrase cannot make every tip a candidate and
/// the lookup's cost stays bounded (`BUCKET_CAP × BANDS` index rows) at any number of tips.
pub const BUCKET_CAP: usize = 50;

/// The candidate query for `similar_text`: the tips sharing the most of `$2 …` (`bands`
/// buckets) with tip `$1`, each bucket read newest first and at most [`BUCKET_CAP`] deep.
/// One text per band count, made once.
fn similar_text_sql(bands: usize) -> &'static str {
    static SQL: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let all = SQL.get_or_init(|| {
        (0..=similar::BANDS)
            .map(|n| {
                let parts: Vec<String> = (0..n)
                    .map(|k| {
                        format!(
                            "SELECT report_id FROM (SELECT report_id FROM text_buckets \
                             WHERE bucket = ${} AND report_id <> $1 \
                             ORDER BY report_id DESC LIMIT {BUCKET_CAP}) b{k}",
                            k + 2
                        )
                    })
                    .collect();
                format!(
                    "SELECT report_id FROM ({}) c GROUP BY report_id \
                     ORDER BY COUNT(*) DESC, report_id DESC LIMIT {MAX_TEXT_CANDIDATES}",
                    parts.join(" UNION ALL ")
                )
            })
            .collect()
    });
    &all[bands.min(similar::BANDS)]
}

/// `$first, $first+1, …` for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn load_tips(db: &Db, ids: &[String]) -> Result<Vec<Tip>, sqlx::Error> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(200) {
        let sql = format!(
            "SELECT id, received_at, case_region, target_key, target_code, description, \
             occurred_from, occurred_to, categories FROM reports WHERE id IN ({})",
            placeholders(1, chunk.len())
        );
        let mut q = sqlx::query_as::<_, TipRow>(&sql);
        for id in chunk {
            q = q.bind(id);
        }
        out.extend(q.fetch_all(&db.pool).await?.into_iter().map(Tip::from_row));
    }
    Ok(out)
}

async fn ids(db: &Db, sql: &str, binds: &[Option<&str>]) -> Result<Vec<String>, sqlx::Error> {
    let mut q = sqlx::query_scalar::<_, String>(sql);
    for b in binds {
        q = q.bind(b.map(str::to_string));
    }
    q.fetch_all(&db.pool).await
}

/// Find and store the links of `report_id` (and its text buckets), then triage it and the
/// open tips on its target. Returns the number of links written; a tip that no longer
/// exists has none.
pub async fn compute(
    db: &Db,
    triage: &super::triage::rules::TriagePolicies,
    report_id: &str,
) -> Result<usize, sqlx::Error> {
    match find(db, report_id).await? {
        Some(found) => store_found(db, triage, &found).await,
        None => Ok(0),
    }
}

/// What [`find`] found for a tip, to be stored by [`store_found`].
pub struct Found {
    report_id: String,
    buckets: Vec<i64>,
    /// (later, earlier) → the link and the text similarity in ‰.
    links: BTreeMap<(String, String), (similar::Link, u32)>,
    /// The tips on the same target (for triage).
    group: Vec<String>,
}

/// Find the related tips of `report_id`: the candidate lookups and the comparison, reads
/// only (`None`: no such tip).
pub async fn find(db: &Db, report_id: &str) -> Result<Option<Found>, sqlx::Error> {
    let Some(tip) = load_tips(db, &[report_id.to_string()]).await?.pop() else {
        return Ok(None);
    };
    let buckets = if tip.comparable {
        similar::text_buckets(&tip.description)
    } else {
        vec![]
    };
    let (lo, hi) = (format!("{}00", tip.city()), format!("{}99", tip.city()));
    // The code's branch only for a tip that names a code: most do not.
    let by_code = if tip.code.is_some() {
        " UNION SELECT id, received_at FROM reports WHERE target_code = $5 AND id <> $4"
    } else {
        ""
    };
    let same_target = ids(
        db,
        &format!(
            "SELECT id FROM (SELECT id, received_at FROM reports WHERE target_key = $1 \
             AND target_key <> '' AND case_region >= $2 AND case_region <= $3 AND id <> $4\
             {by_code}) t ORDER BY received_at DESC LIMIT {MAX_CANDIDATES}"
        ),
        &[
            Some(tip.key.as_str()),
            Some(lo.as_str()),
            Some(hi.as_str()),
            Some(report_id),
            tip.code.as_deref(),
        ][..if tip.code.is_some() { 5 } else { 4 }],
    )
    .await?;
    let same_reporter: BTreeSet<String> = ids(
        db,
        &format!(
            "SELECT DISTINCT o.report_id FROM identity_index m JOIN identity_index o \
             ON o.field = m.field AND o.digest = m.digest \
             WHERE m.report_id = $1 AND o.report_id <> $2 LIMIT {MAX_CANDIDATES}"
        ),
        &[Some(report_id), Some(report_id)],
    )
    .await?
    .into_iter()
    .collect();
    let similar_text = if buckets.is_empty() {
        vec![]
    } else {
        let mut q =
            sqlx::query_scalar::<_, String>(similar_text_sql(buckets.len())).bind(report_id);
        for b in &buckets {
            q = q.bind(*b);
        }
        q.fetch_all(&db.pool).await?
    };
    let same_target: BTreeSet<String> = same_target.into_iter().collect();
    let candidates: Vec<String> = same_target
        .iter()
        .chain(&same_reporter)
        .chain(&similar_text)
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut links: BTreeMap<(String, String), (similar::Link, u32)> = BTreeMap::new();
    let mut group = vec![];
    for other in load_tips(db, &candidates).await? {
        let text = if tip.comparable && other.comparable {
            similar::jaccard_permille(&tip.shingles, &other.shingles)
        } else {
            0
        };
        let shared = similar::Shared {
            target: (tip.code.is_some() && tip.code == other.code)
                || (!tip.key.is_empty() && tip.key == other.key && tip.city() == other.city()),
            reporter: same_reporter.contains(&other.id),
            text_permille: text,
            period: similar::periods_overlap(tip.period, other.period),
            categories: !tip.categories.is_disjoint(&other.categories),
        };
        if shared.target {
            group.push(other.id.clone());
        }
        if let Some(link) = similar::link(&shared) {
            let pair = if (&other.received_at, &other.id) < (&tip.received_at, &tip.id) {
                (tip.id.clone(), other.id.clone())
            } else {
                (other.id.clone(), tip.id.clone())
            };
            links.insert(pair, (link, text));
        }
    }
    Ok(Some(Found {
        report_id: report_id.to_string(),
        buckets,
        links,
        group,
    }))
}

/// Store what [`find`] found, then triage the tip and the open tips on its target, in one
/// transaction. Returns the number of links written.
pub async fn store_found(
    db: &Db,
    triage: &super::triage::rules::TriagePolicies,
    found: &Found,
) -> Result<usize, sqlx::Error> {
    let Found {
        report_id,
        buckets,
        links,
        group,
    } = found;
    let report_id = report_id.as_str();
    let now = store::ts(db.now());
    let _turn = db.write_turn().await;
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM text_buckets WHERE report_id = $1")
        .bind(report_id)
        .execute(&mut *tx)
        .await?;
    let rows: Vec<(i64, &str)> = buckets.iter().map(|b| (*b, report_id)).collect();
    store::insert_rows(
        &mut tx,
        "INSERT INTO text_buckets (bucket, report_id) VALUES",
        2,
        &rows,
        |v, (b, id)| v.extend([(*b).into(), (*id).into()]),
    )
    .await?;
    for ((later, earlier), (link, text)) in links {
        sqlx::query(
            "INSERT INTO related_links (report_id, related_id, reasons, score, text_permille, \
             computed_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (report_id, related_id) DO UPDATE SET reasons = excluded.reasons, \
             score = excluded.score, text_permille = excluded.text_permille, \
             computed_at = excluded.computed_at",
        )
        .bind(later)
        .bind(earlier)
        .bind(link.reasons.join(" "))
        .bind(i64::from(link.score))
        .bind(i64::from(*text))
        .bind(&now)
        .execute(&mut *tx)
        .await?;
    }
    super::triage::triage_group(&mut tx, triage, report_id, group).await?;
    tx.commit().await?;
    Ok(links.len())
}

/// `GET /api/v1/cases/{id}/related`: one linked tip (CONTRACT §8).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RelatedTip {
    pub id: String,
    pub received_at: String,
    pub status: String,
    /// `same_target`, `same_reporter`, `similar_text`, `overlapping_period`,
    /// `shared_categories` (docs/related.md).
    pub reasons: Vec<String>,
    /// 0–100: how strongly the two tips belong together.
    pub score: i64,
}

/// The tips linked to case `id` that the caller may see, the strongest link first. The
/// caller must be able to see the case itself (else 403, audited, or 404).
pub async fn related(wf: &Workflow, p: &Principal, id: &str) -> AppResult<Vec<RelatedTip>> {
    let mut tx = wf.db.begin().await?;
    let Some(case) = load_case(&mut tx, id).await? else {
        return Err(super::case_not_found());
    };
    let recused = is_recused(&mut tx, &p.id, &case).await?;
    drop(tx);
    if !can_see(p, &case, recused) {
        let err = super::forbidden();
        crate::audit::record_denied(
            &wf.db,
            &wf.audit,
            &p.actor(),
            "case.related",
            Some(id),
            err.code,
        )
        .await;
        return Err(err);
    }
    let (lo, hi) = super::query::bounds(region_prefix(&p.region));
    let mut sql = format!(
        "SELECT r.id, r.received_at, r.status, l.reasons, l.score FROM (\
         SELECT related_id AS other, reasons, score FROM related_links WHERE report_id = $1 \
         UNION ALL SELECT report_id AS other, reasons, score FROM related_links \
         WHERE related_id = $2) l JOIN reports r ON r.id = l.other \
         WHERE r.case_region >= $3 AND r.case_region <= $4 AND {}",
        not_recused("r", "$5")
    );
    let handler_only = !p.has_any(&REGION_READERS);
    if handler_only {
        sql.push_str(" AND r.assignee_id = $6");
    }
    sql.push_str(" ORDER BY l.score DESC, r.received_at, r.id LIMIT 200");
    let mut q = sqlx::query_as::<_, (String, String, String, String, i64)>(&sql)
        .bind(id)
        .bind(id)
        .bind(lo)
        .bind(hi)
        .bind(&p.id);
    if handler_only {
        q = q.bind(&p.id);
    }
    Ok(q.fetch_all(&wf.db.pool)
        .await?
        .into_iter()
        .map(|(id, received_at, status, reasons, score)| RelatedTip {
            id,
            received_at,
            status,
            reasons: reasons.split_whitespace().map(str::to_string).collect(),
            score,
        })
        .collect())
}
