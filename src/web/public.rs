//! Public figures, no login (CONTRACT §8, issue 19): `GET /api/v1/public/stats`. Counts by
//! province or city and Asia/Shanghai month over the last twelve months, with every count
//! under [`MIN_PUBLISHED`] withheld (`null`): a small count in a small place can point at a
//! person. Zero is withheld like the rest, so a `null` says only "fewer than 5". No totals
//! are published (a total and its published cells would give a withheld cell away).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use crate::error::{AppError, AppResult};

/// The smallest count published.
pub const MIN_PUBLISHED: i64 = 5;
/// How long computed figures are served before they are computed again.
const FRESH_FOR: Duration = Duration::from_secs(300);

fn bad_query(field: &str) -> AppError {
    AppError::bad_request("invalid_query", "error-invalid-query").field(field)
}

/// Refuse (400, the field named) a query parameter not in `known`.
fn only_keys(q: &BTreeMap<String, String>, known: &[&str]) -> AppResult<()> {
    match q.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(bad_query(k)),
        None => Ok(()),
    }
}

/// A count as published: `None` when under [`MIN_PUBLISHED`].
pub fn published(n: i64) -> Option<i64> {
    (n >= MIN_PUBLISHED).then_some(n)
}

/// One region's month. `null`: fewer than 5 (zero included).
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct Cell {
    /// The province (`370000`) or city (`371500`) code.
    pub region: String,
    /// `YYYY-MM` (Asia/Shanghai).
    pub month: String,
    /// Tips received.
    pub received: Option<i64>,
    /// Tips accepted for handling.
    pub accepted: Option<i64>,
    /// Cases closed with every deadline met.
    pub closed_on_time: Option<i64>,
    /// Reward payments made.
    pub rewards_paid: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicStats {
    /// `province` or `city`.
    pub level: String,
    /// The months covered, oldest first.
    pub months: Vec<String>,
    /// Counts under this are withheld (`null`).
    pub min_published: i64,
    /// Every month of each region with at least one published count, by region then month.
    pub cells: Vec<Cell>,
    pub as_of: String,
}

/// Computed figures per level, served for [`FRESH_FOR`] (a public endpoint must not run
/// the aggregates on every request).
#[derive(Default)]
pub struct PublicCache(Mutex<BTreeMap<String, (Instant, PublicStats)>>);

type Raw = BTreeMap<(String, String), [i64; 4]>;

async fn compute(db: &crate::store::Db, digits: usize) -> AppResult<(Vec<String>, Raw)> {
    let today = crate::deadlines::calendar::shanghai_date(db.now());
    let months = super::stats::months(today);
    let since = crate::deadlines::day_start_utc(
        chrono::NaiveDate::parse_from_str(&format!("{}-01", months[0]), "%Y-%m-%d")
            .map_err(AppError::internal)?,
    );
    let region = format!("SUBSTR(r.case_region, 1, {digits})");
    let received = db.backend.shanghai_month("r.received_at");
    let at = db.backend.shanghai_month("e.at");
    let queries = [
        format!(
            "SELECT {region}, {received}, COUNT(*) FROM reports r WHERE r.received_at >= $1 \
             GROUP BY {region}, {received}"
        ),
        format!(
            "SELECT {region}, {at}, COUNT(DISTINCT r.id) FROM case_events e \
             JOIN reports r ON r.id = e.report_id WHERE e.at >= $1 AND e.to_status = 'accepted' \
             GROUP BY {region}, {at}"
        ),
        format!(
            "SELECT {region}, {at}, COUNT(DISTINCT r.id) FROM case_events e \
             JOIN reports r ON r.id = e.report_id WHERE e.at >= $1 AND e.to_status = 'closed' \
             AND NOT EXISTS (SELECT 1 FROM clocks c WHERE c.report_id = r.id \
             AND c.outcome = 'missed') GROUP BY {region}, {at}"
        ),
        format!(
            "SELECT SUBSTR(r.case_region, 1, {digits}), SUBSTR(r.paid_on, 1, 7), COUNT(*) \
             FROM reward_payments r WHERE r.paid_on >= $1 \
             GROUP BY SUBSTR(r.case_region, 1, {digits}), SUBSTR(r.paid_on, 1, 7)"
        ),
    ];
    let mut raw: Raw = BTreeMap::new();
    for (i, sql) in queries.iter().enumerate() {
        let from = if i == 3 {
            format!("{}-01", months[0])
        } else {
            since.clone()
        };
        let rows: Vec<(String, String, i64)> =
            sqlx::query_as(sql).bind(from).fetch_all(&db.pool).await?;
        for (r, m, n) in rows {
            let code = format!("{r:0<6}");
            raw.entry((code, m)).or_default()[i] += n;
        }
    }
    Ok((months, raw))
}

/// The published cells of `raw`: every month of each region with a published count.
pub fn cells(months: &[String], raw: &Raw) -> Vec<Cell> {
    let regions: std::collections::BTreeSet<&String> = raw
        .iter()
        .filter(|(_, v)| v.iter().any(|n| published(*n).is_some()))
        .map(|((r, _), _)| r)
        .collect();
    let mut out = vec![];
    for r in regions {
        for m in months {
            let v = raw
                .get(&(r.clone(), m.clone()))
                .copied()
                .unwrap_or_default();
            out.push(Cell {
                region: r.clone(),
                month: m.clone(),
                received: published(v[0]),
                accepted: published(v[1]),
                closed_on_time: published(v[2]),
                rewards_paid: published(v[3]),
            });
        }
    }
    out
}

#[utoipa::path(get, path = "/api/v1/public/stats", tag = "public",
    params(("level" = Option<String>, Query, description = "`province` (default) or `city`")),
    responses((status = 200, body = PublicStats), (status = 400)))]
pub async fn public_stats(
    state: web::Data<AppState>,
    q: web::Query<BTreeMap<String, String>>,
) -> AppResult<HttpResponse> {
    let bad =
        |field: &str| AppError::bad_request("invalid_query", "error-invalid-query").field(field);
    if let Some(k) = q.keys().find(|k| k.as_str() != "level") {
        return Err(bad(k));
    }
    let (level, digits) = match q.get("level").map(String::as_str) {
        None | Some("province") => ("province", 2),
        Some("city") => ("city", 4),
        Some(_) => return Err(bad("level")),
    };
    let cached = state.public.0.lock().ok().and_then(|c| {
        c.get(level)
            .filter(|(t, _)| t.elapsed() < FRESH_FOR)
            .cloned()
    });
    if let Some((_, s)) = cached {
        return Ok(HttpResponse::Ok().json(s));
    }
    let (months, raw) = compute(&state.db, digits).await?;
    let out = PublicStats {
        level: level.to_string(),
        cells: cells(&months, &raw),
        months,
        min_published: MIN_PUBLISHED,
        as_of: crate::store::ts(state.db.now()),
    };
    if let Ok(mut c) = state.public.0.lock() {
        c.insert(level.to_string(), (Instant::now(), out.clone()));
    }
    Ok(HttpResponse::Ok().json(out))
}

/// The published typical cases (典型案例), newest first: no case id, no names.
#[utoipa::path(get, path = "/api/v1/public/typical-cases", tag = "public",
    responses((status = 200, body = [crate::workflow::typical::PublicTypicalCase])))]
pub async fn public_typical_cases(
    state: web::Data<AppState>,
    q: web::Query<BTreeMap<String, String>>,
) -> AppResult<HttpResponse> {
    only_keys(&q, &[])?;
    Ok(HttpResponse::Ok().json(crate::workflow::typical::published(&state.db).await?))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/public/stats", web::get().to(public_stats))
        .route("/public/typical-cases", web::get().to(public_typical_cases));
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(public_stats, public_typical_cases),
    components(schemas(PublicStats, Cell)),
    tags((name = "public", description = "Published figures and typical cases, no login"))
)]
pub struct PublicDoc;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_under_five_are_withheld() {
        assert_eq!(published(0), None);
        assert_eq!(published(4), None);
        assert_eq!(published(5), Some(5));
    }

    #[test]
    fn a_region_with_nothing_published_is_left_out() {
        let months = vec!["2026-01".to_string(), "2026-02".to_string()];
        let mut raw: Raw = BTreeMap::new();
        raw.insert(("370000".into(), "2026-01".into()), [6, 4, 0, 0]);
        raw.insert(("110000".into(), "2026-02".into()), [4, 4, 4, 4]);
        let c = cells(&months, &raw);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].region, "370000");
        assert_eq!((c[0].received, c[0].accepted), (Some(6), None));
        assert_eq!(c[1].received, None);
    }
}
