//! Statistics for the console dashboard: `GET /api/v1/stats/overview`. Aggregates in SQL
//! (counts only, never case content), scoped to the caller's region; for auditors,
//! supervisors and finance (DOMAIN §6). Months are the UTC calendar months of `received_at`
//! (and of `closed_at` for clocks), the last twelve including the current one.

use actix_web::{web, HttpResponse};
use chrono::{Datelike, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use crate::audit::{self, Entry, Outcome};
use crate::error::AppResult;
use crate::staff::principal::Principal;
use crate::staff::{region_prefix, Role};

/// Who may read the dashboard.
pub const STATS_READERS: [Role; 3] = [Role::Auditor, Role::Supervisor, Role::Finance];

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
    /// The months covered, oldest first (`YYYY-MM`).
    pub months: Vec<String>,
    /// Tips received per month and channel.
    pub tips_by_channel: Vec<MonthCount>,
    /// Tips received per month and category (a tip with two categories counts in both).
    pub tips_by_category: Vec<MonthCount>,
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

type Triple = (String, String, i64);

#[utoipa::path(get, path = "/api/v1/stats/overview", tag = "stats",
    responses((status = 200, body = Overview), (status = 403)))]
pub async fn overview(state: web::Data<AppState>, p: Principal) -> AppResult<HttpResponse> {
    if !p.has_any(&STATS_READERS) {
        let _ = audit::append_alone(
            &state.db,
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
    let pool = &state.db.pool;
    let today = crate::deadlines::calendar::shanghai_date(Utc::now());
    let months = months(today);
    let since = format!("{}-01", months[0]);
    let (lo, hi) = bounds(&p.region);
    let tips_by_channel: Vec<Triple> = sqlx::query_as(
        "SELECT substr(received_at, 1, 7) AS m, channel, COUNT(*) FROM reports \
         WHERE case_region >= $1 AND case_region <= $2 AND received_at >= $3 \
         GROUP BY substr(received_at, 1, 7), channel",
    )
    .bind(&lo)
    .bind(&hi)
    .bind(&since)
    .fetch_all(pool)
    .await?;
    let tips_by_category: Vec<Triple> = sqlx::query_as(
        "SELECT substr(r.received_at, 1, 7) AS m, k.category, COUNT(*) FROM reports r \
         JOIN report_categories k ON k.report_id = r.id \
         WHERE r.case_region >= $1 AND r.case_region <= $2 AND r.received_at >= $3 \
         GROUP BY substr(r.received_at, 1, 7), k.category",
    )
    .bind(&lo)
    .bind(&hi)
    .bind(&since)
    .fetch_all(pool)
    .await?;
    let cases_by_status: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, COUNT(*) FROM reports WHERE case_region >= $1 AND case_region <= $2 \
         GROUP BY status",
    )
    .bind(&lo)
    .bind(&hi)
    .fetch_all(pool)
    .await?;
    let deadlines: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT substr(c.closed_at, 1, 7) AS m, c.kind, c.outcome, COUNT(*) FROM clocks c \
         JOIN reports r ON r.id = c.report_id \
         WHERE c.closed_at >= $3 AND c.outcome IS NOT NULL \
         AND r.case_region >= $1 AND r.case_region <= $2 \
         GROUP BY substr(c.closed_at, 1, 7), c.kind, c.outcome",
    )
    .bind(&lo)
    .bind(&hi)
    .bind(&since)
    .fetch_all(pool)
    .await?;
    let overdue_open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM clocks c JOIN reports r ON r.id = c.report_id \
         WHERE c.closed_at IS NULL AND c.due_on < $3 \
         AND r.case_region >= $1 AND r.case_region <= $2",
    )
    .bind(&lo)
    .bind(&hi)
    .bind(today.to_string())
    .fetch_one(pool)
    .await?;
    let triple = |v: Vec<Triple>| -> Vec<MonthCount> {
        v.into_iter()
            .map(|(month, key, count)| MonthCount { month, key, count })
            .collect()
    };
    let mut by_month: std::collections::BTreeMap<(String, String), i64> = Default::default();
    let mut by_kind: std::collections::BTreeMap<String, i64> = Default::default();
    for (m, kind, outcome, n) in deadlines {
        *by_month.entry((m, outcome.clone())).or_default() += n;
        *by_kind.entry(format!("{kind}:{outcome}")).or_default() += n;
    }
    Ok(HttpResponse::Ok().json(Overview {
        region: p.region.clone(),
        months,
        tips_by_channel: triple(tips_by_channel),
        tips_by_category: triple(tips_by_category),
        cases_by_status: cases_by_status
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
        overdue_open,
    }))
}

// ---- configured channels, secrets masked (admin) ----

/// A configured secret, shown only as whether it is set and its last two characters.
fn mask(s: Option<&str>) -> Option<String> {
    let s = s?.trim();
    if s.is_empty() {
        return None;
    }
    let n = s.chars().count();
    let tail: String = if n >= 12 {
        s.chars().skip(n - 2).collect()
    } else {
        String::new()
    };
    Some(format!("••••••{tail}"))
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
    tags((name = "stats"))
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
        assert_eq!(mask(Some("short")).unwrap(), "••••••");
        let m = mask(Some("abcdefghijklmnopqrstuvwxyz")).unwrap();
        assert!(m.ends_with("yz") && !m.contains("abc"));
    }
}
