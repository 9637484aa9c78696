//! Statistics for the console dashboard: `GET /api/v1/stats/overview`. Aggregates in SQL
//! (counts only, never case content), scoped to the caller's region; for auditors,
//! supervisors and finance (DOMAIN §6). Months are Asia/Shanghai calendar months of
//! `received_at` (and of `closed_at` for clocks), the last twelve including the current one.

use actix_web::{web, HttpResponse};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use crate::audit::{self, Entry, Outcome};
use crate::domain::institution::not_recused;
use crate::error::AppResult;
use crate::staff::principal::Principal;
use crate::staff::{region_prefix, Role};

/// One count in a group.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MonthCount {
    /// `YYYY-MM`.
    pub month: String,
    /// The channel, category or clock outcome counted.
    pub key: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyCount {
    pub key: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Overview {
    /// The region the figures cover (the caller's).
    pub region: String,
    /// When the figures were computed (RFC 3339); large databases are summarized every few
    /// minutes, small ones on every request.
    pub as_of: String,
    /// The months covered, oldest first (`YYYY-MM`).
    pub months: Vec<String>,
    /// Tips received per month and channel.
    pub tips_by_channel: Vec<MonthCount>,
    /// Tips received per month and category (a tip with two categories counts in both).
    pub tips_by_category: Vec<MonthCount>,
    /// Tips received in the twelve months by the county (case region) they belong to.
    pub tips_by_region: Vec<KeyCount>,
    /// Every case of the region by current status.
    pub cases_by_status: Vec<KeyCount>,
    /// Clocks closed per month by outcome (`met` or `missed`).
    pub deadlines_by_month: Vec<MonthCount>,
    /// Clocks closed in the period by kind and outcome, e.g. `handle:met`.
    pub deadlines_by_kind: Vec<KeyCount>,
    /// Open clocks already past their due date.
    pub overdue_open: i64,
}

fn first_of_month(d: NaiveDate, back: u32) -> NaiveDate {
    let total = d.year() * 12 + d.month0() as i32 - back as i32;
    NaiveDate::from_ymd_opt(total.div_euclid(12), total.rem_euclid(12) as u32 + 1, 1).unwrap_or(d)
}

/// The last twelve months, oldest first.
pub fn months(today: NaiveDate) -> Vec<String> {
    (0..12)
        .rev()
        .map(|b| first_of_month(today, b).format("%Y-%m").to_string())
        .collect()
}

fn bounds(region: &str) -> (String, String) {
    let p = region_prefix(region);
    (format!("{p:0<6}"), format!("{p:9<6}"))
}

/// The figures of every county (case region) at one moment, from one pass of aggregate
/// queries; a caller's view is the sum over the counties their region covers.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub as_of: String,
    pub months: Vec<String>,
    tips: Vec<(String, String, String, i64)>,
    cats: Vec<(String, String, String, i64)>,
    status: Vec<(String, String, i64)>,
    clocks: Vec<(String, String, String, String, i64)>,
    overdue: Vec<(String, i64)>,
    took: Duration,
}

/// Aggregates at 1,000,000 cases take seconds; a dashboard may show figures a few minutes
/// old. When the last computation was quick (a small database) every request computes
/// afresh; otherwise the snapshot is served and refreshed in the background once it is
/// older than [`REFRESH_AFTER`].
#[derive(Default)]
pub struct StatsCache {
    current: std::sync::RwLock<Option<Arc<Snapshot>>>,
    refreshing: Arc<tokio::sync::Mutex<()>>,
}

pub const REFRESH_AFTER: Duration = Duration::from_secs(300);
const LIVE_BELOW: Duration = Duration::from_millis(150);

impl StatsCache {
    fn get(&self) -> Option<Arc<Snapshot>> {
        self.current.read().ok().and_then(|g| g.clone())
    }

    fn put(&self, snap: Arc<Snapshot>) {
        if let Ok(mut g) = self.current.write() {
            *g = Some(snap);
        }
    }
}

/// The figures, over every case or (`reader`) over the cases a reader is not recused from.
async fn compute(db: &crate::store::Db, reader: Option<&str>) -> AppResult<Snapshot> {
    let started = Instant::now();
    let pool = &db.pool;
    let now = Utc::now();
    let today = crate::deadlines::calendar::shanghai_date(now);
    let months = months(today);
    // Asia/Shanghai months: from the first instant of the oldest month shown.
    let since = crate::deadlines::day_start_utc(first_of_month(today, 11));
    // `AND` not recused, with the reader bound as `$2`; nothing for the shared snapshot.
    let unrecused = match reader {
        Some(_) => format!(" AND {}", not_recused("r", "$2")),
        None => String::new(),
    };
    let f = unrecused.as_str();
    let month = db.backend.shanghai_month("r.received_at");
    let closed = db.backend.shanghai_month("c.closed_at");
    let tips_sql = format!(
        "SELECT r.case_region, {month}, r.channel, COUNT(*) FROM reports r \
         WHERE r.received_at >= $1{f} GROUP BY r.case_region, {month}, r.channel"
    );
    let cats_sql = format!(
        "SELECT r.case_region, {month}, k.category, COUNT(*) FROM reports r \
         JOIN report_categories k ON k.report_id = r.id WHERE r.received_at >= $1{f} \
         GROUP BY r.case_region, {month}, k.category"
    );
    // `$1` is bound for every query; here it only makes the reader `$2`.
    let status_sql = format!(
        "SELECT r.case_region, r.status, COUNT(*) FROM reports r WHERE CAST($1 AS TEXT) IS NOT NULL{f} \
         GROUP BY r.case_region, r.status"
    );
    let clocks_sql = format!(
        "SELECT r.case_region, {closed}, c.kind, c.outcome, COUNT(*) FROM clocks c \
         JOIN reports r ON r.id = c.report_id WHERE c.closed_at >= $1 AND c.outcome IS NOT NULL{f} \
         GROUP BY r.case_region, {closed}, c.kind, c.outcome"
    );
    let overdue_sql = format!(
        "SELECT r.case_region, COUNT(*) FROM clocks c JOIN reports r ON r.id = c.report_id \
         WHERE c.closed_at IS NULL AND c.due_on < $1{f} GROUP BY r.case_region"
    );
    macro_rules! rows {
        ($sql:expr, $first:expr) => {{
            let mut q = sqlx::query_as($sql.as_str()).bind($first);
            if let Some(u) = reader {
                q = q.bind(u);
            }
            q.fetch_all(pool).await?
        }};
    }
    let tips = rows!(tips_sql, &since);
    let cats = rows!(cats_sql, &since);
    let status = rows!(status_sql, &since);
    let clocks = rows!(clocks_sql, &since);
    let overdue = rows!(overdue_sql, today.to_string());
    Ok(Snapshot {
        as_of: crate::store::ts(now),
        months,
        tips,
        cats,
        status,
        clocks,
        overdue,
        took: started.elapsed(),
    })
}

/// The current snapshot: fresh when computing is cheap or there is none yet, otherwise the
/// cached one (with a background refresh when it is old).
pub async fn snapshot(state: &web::Data<AppState>) -> AppResult<Arc<Snapshot>> {
    let cache = &state.stats;
    let cached = cache.get();
    if let Some(s) = &cached {
        let age = crate::store::parse_ts(&s.as_of)
            .ok()
            .and_then(|t| (Utc::now() - t).to_std().ok())
            .unwrap_or_default();
        if s.took >= LIVE_BELOW {
            if age >= REFRESH_AFTER {
                // One background refresh at a time; this request gets the cached figures.
                if let Ok(guard) = cache.refreshing.clone().try_lock_owned() {
                    let state = state.clone();
                    tokio::spawn(async move {
                        let _guard = guard;
                        match compute(&state.db, None).await {
                            Ok(s) => state.stats.put(Arc::new(s)),
                            Err(e) => tracing::warn!(error = %e.code, "statistics refresh failed"),
                        }
                    });
                }
            }
            return Ok(s.clone());
        }
    }
    let _guard = cache.refreshing.lock().await;
    // Someone else may have computed one while this request waited for the lock.
    if let Some(s) = cache.get() {
        let seen = cached.as_ref().is_some_and(|c| Arc::ptr_eq(c, &s));
        if !seen && s.took >= LIVE_BELOW {
            return Ok(s);
        }
    }
    let fresh = Arc::new(compute(&state.db, None).await?);
    cache.put(fresh.clone());
    Ok(fresh)
}

/// Compute the first snapshot in the background at start-up, so the first dashboard of a
/// large database does not wait for it.
pub fn warm(state: web::Data<AppState>) {
    tokio::spawn(async move {
        if let Err(e) = snapshot(&state).await {
            tracing::warn!(error = %e.code, "statistics warm-up failed");
        }
    });
}

fn sum_months(rows: &[(String, String, String, i64)], lo: &str, hi: &str) -> Vec<MonthCount> {
    let mut m: BTreeMap<(String, String), i64> = BTreeMap::new();
    for (region, month, key, n) in rows {
        if region.as_str() >= lo && region.as_str() <= hi {
            *m.entry((month.clone(), key.clone())).or_default() += n;
        }
    }
    m.into_iter()
        .map(|((month, key), count)| MonthCount { month, key, count })
        .collect()
}

/// The caller's view of a snapshot.
pub fn view(s: &Snapshot, region: &str) -> Overview {
    let (lo, hi) = bounds(region);
    let inside = |r: &str| r >= lo.as_str() && r <= hi.as_str();
    let mut status: BTreeMap<String, i64> = BTreeMap::new();
    for (r, k, n) in &s.status {
        if inside(r) {
            *status.entry(k.clone()).or_default() += n;
        }
    }
    let mut by_region: BTreeMap<String, i64> = BTreeMap::new();
    for (r, _, _, n) in &s.tips {
        if inside(r) {
            *by_region.entry(r.clone()).or_default() += n;
        }
    }
    let mut by_month: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut by_kind: BTreeMap<String, i64> = BTreeMap::new();
    for (r, m, kind, outcome, n) in &s.clocks {
        if inside(r) {
            *by_month.entry((m.clone(), outcome.clone())).or_default() += n;
            *by_kind.entry(format!("{kind}:{outcome}")).or_default() += n;
        }
    }
    Overview {
        region: region.to_string(),
        as_of: s.as_of.clone(),
        months: s.months.clone(),
        tips_by_channel: sum_months(&s.tips, &lo, &hi),
        tips_by_category: sum_months(&s.cats, &lo, &hi),
        tips_by_region: by_region
            .into_iter()
            .map(|(key, count)| KeyCount { key, count })
            .collect(),
        cases_by_status: status
            .into_iter()
            .map(|(key, count)| KeyCount { key, count })
            .collect(),
        deadlines_by_month: by_month
            .into_iter()
            .map(|((month, key), count)| MonthCount { month, key, count })
            .collect(),
        deadlines_by_kind: by_kind
            .into_iter()
            .map(|(key, count)| KeyCount { key, count })
            .collect(),
        overdue_open: s
            .overdue
            .iter()
            .filter(|(r, _)| inside(r))
            .map(|(_, n)| n)
            .sum(),
    }
}

#[utoipa::path(get, path = "/api/v1/stats/overview", tag = "stats",
    responses((status = 200, body = Overview), (status = 403)))]
pub async fn overview(state: web::Data<AppState>, p: Principal) -> AppResult<HttpResponse> {
    if !p.has_any(&crate::rewards::stats::READERS) {
        let _ = audit::append_alone(
            &state.db,
            state.vault.audit_key(),
            &Entry {
                actor: &p.actor(),
                action: "stats.read",
                outcome: Outcome::Denied,
                report_id: None,
                detail: serde_json::json!({ "error": "forbidden" }),
            },
        )
        .await;
        return Err(crate::workflow::forbidden());
    }
    // The shared snapshot counts every case; a reader who declared a conflict gets figures
    // computed for them, without the cases they are recused from (as the statistics API).
    let conflicts: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM staff_conflicts WHERE user_id = $1")
            .bind(&p.id)
            .fetch_one(&state.db.pool)
            .await?;
    let snap = if conflicts > 0 {
        Arc::new(compute(&state.db, Some(&p.id)).await?)
    } else {
        snapshot(&state).await?
    };
    Ok(HttpResponse::Ok().json(view(&snap, &p.region)))
}

// ---- configured channels, secrets masked (admin) ----

/// A configured secret, shown only as whether it is set: never any of its characters.
fn mask(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|_| "••••••".to_string())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChannelConfig {
    /// `wechat`, `wecom` or `hotline`.
    pub kind: String,
    /// The account or source name (path segment).
    pub name: String,
    /// Public identifiers (appid, corp_id and agent_id, callback URL).
    pub public: serde_json::Value,
    /// Secrets, masked: `null` when not set.
    pub secrets: serde_json::Value,
    /// Where the endpoint listens.
    pub endpoint: String,
}

#[utoipa::path(get, path = "/api/v1/admin/config", tag = "admin",
    responses((status = 200, body = [ChannelConfig]), (status = 403)))]
pub async fn admin_config(state: web::Data<AppState>, p: Principal) -> AppResult<HttpResponse> {
    if !p.has(Role::Admin) {
        let _ = audit::append_alone(
            &state.db,
            state.vault.audit_key(),
            &Entry {
                actor: &p.actor(),
                action: "config.read",
                outcome: Outcome::Denied,
                report_id: None,
                detail: serde_json::json!({ "error": "forbidden" }),
            },
        )
        .await;
        return Err(crate::workflow::forbidden());
    }
    let c = &state.config;
    let mut out = vec![];
    for w in &c.wechat {
        out.push(ChannelConfig {
            kind: "wechat".into(),
            name: w.account.clone(),
            public: serde_json::json!({ "appid": w.appid, "api_base": w.api_base,
                "safe_mode": w.encoding_aes_key.is_some() }),
            secrets: serde_json::json!({ "token": mask(Some(&w.token)),
                "encoding_aes_key": mask(w.encoding_aes_key.as_deref()),
                "appsecret": mask(w.appsecret.as_deref()) }),
            endpoint: format!("/bots/wechat/{}", w.account),
        });
    }
    for w in &c.wecom {
        out.push(ChannelConfig {
            kind: "wecom".into(),
            name: w.account.clone(),
            public: serde_json::json!({ "corp_id": w.corp_id, "agent_id": w.agent_id,
                "api_base": w.api_base }),
            secrets: serde_json::json!({ "token": mask(Some(&w.token)),
                "encoding_aes_key": mask(Some(&w.encoding_aes_key)),
                "secret": mask(w.secret.as_deref()) }),
            endpoint: format!("/bots/wecom/{}", w.account),
        });
    }
    for h in &c.hotline {
        out.push(ChannelConfig {
            kind: "hotline".into(),
            name: h.source.clone(),
            public: serde_json::json!({ "callback_url": h.callback_url,
                "previous_secret_until": h.previous_secret_until,
                "allow_recording_hosts": h.allow_recording_hosts }),
            secrets: serde_json::json!({ "secret": mask(Some(&h.secret)),
                "previous_secret": mask(h.previous_secret.as_deref()) }),
            endpoint: format!("/bridges/hotline/{}/tickets", h.source),
        });
    }
    Ok(HttpResponse::Ok().json(out))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/stats/overview", web::get().to(overview))
        .route("/admin/config", web::get().to(admin_config));
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(overview, admin_config),
    components(schemas(Overview, MonthCount, KeyCount, ChannelConfig)),
    tags((name = "stats", description = "Figures for the console's charts"))
)]
pub struct StatsDoc;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_months_across_a_year_end() {
        let m = months(NaiveDate::from_ymd_opt(2026, 2, 14).unwrap());
        assert_eq!(m.len(), 12);
        assert_eq!(m[0], "2025-03");
        assert_eq!(m[11], "2026-02");
    }

    #[test]
    fn secrets_are_masked() {
        assert_eq!(mask(None), None);
        assert_eq!(mask(Some("  ")), None);
        let m = mask(Some("abcdefghijklmnopqrstuvwxyz")).unwrap();
        assert!(!m.chars().any(|c| c.is_ascii_alphanumeric()));
    }
}
