//! Independent reporters on one target (issue 18): for a supervisor, the institutions of
//! their region that tips from several distinct reporters named in a period, with counts by
//! channel. Reporters are told apart by the blind index only ([`super::triage::reporters`]),
//! so the list says how many, never who; an anonymous tip is a reporter of its own unless
//! triage marked it a repeat from the same client address. Recused targets are left out.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{forbidden, Workflow};
use crate::deadlines::calendar::shanghai_date;
use crate::domain::institution::not_recused;
use crate::error::{AppError, AppResult};
use crate::staff::principal::Principal;
use crate::staff::{region_prefix, Role};

/// Tips read per request at most (the most recent of the period).
const MAX_TIPS: i64 = 20_000;

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TargetsQuery {
    /// First day (YYYY-MM-DD, Asia/Shanghai); default 90 days before `to`.
    pub from: Option<String>,
    /// Last day (inclusive); default today.
    pub to: Option<String>,
    /// Fewest distinct reporters a target needs to be listed (default 2, at least 2).
    pub min_reporters: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChannelCount {
    pub channel: String,
    pub tips: i64,
}

/// One institution named by several reporters.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetReporters {
    /// The name as the latest tip wrote it.
    pub target_name: String,
    /// The city (first four digits of the case region, then `00`).
    pub region: String,
    pub tips: i64,
    /// Distinct reporters (by the blind index; never who).
    pub reporters: i64,
    pub by_channel: Vec<ChannelCount>,
    pub first_received_at: String,
    pub last_received_at: String,
}

/// A tip of a group: id, name as written, channel, received at.
type Tip = (String, String, String, String);

fn day(field: &str, s: Option<&str>) -> AppResult<Option<chrono::NaiveDate>> {
    s.filter(|s| !s.is_empty())
        .map(|s| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| AppError::invalid(field, "error-date"))
        })
        .transpose()
}

/// `GET /api/v1/targets/independent-reporters`.
pub async fn independent(
    wf: &Workflow,
    p: &Principal,
    q: &TargetsQuery,
) -> AppResult<Vec<TargetReporters>> {
    if !p.has(Role::Supervisor) {
        return Err(forbidden());
    }
    let today = shanghai_date(wf.db.now());
    let to = day("to", q.to.as_deref())?.unwrap_or(today);
    let from = day("from", q.from.as_deref())?.unwrap_or(to - chrono::Duration::days(90));
    if from > to {
        return Err(AppError::invalid("from", "error-date"));
    }
    let min = q.min_reporters.unwrap_or(2);
    if !(2..=1000).contains(&min) {
        return Err(AppError::invalid("min_reporters", "error-wrong-type"));
    }
    let (lo, hi) = super::query::bounds(region_prefix(&p.region));
    // Asia/Shanghai days as UTC instants: the day starts at 16:00 UTC the day before.
    let start = format!("{}T16:00:00", from - chrono::Duration::days(1));
    let end = format!("{to}T16:00:00");
    let rows: Vec<(String, String, String, String, String, String)> = sqlx::query_as(&format!(
        "SELECT r.id, r.target_key, r.target_name, r.case_region, r.channel, r.received_at \
         FROM reports r WHERE r.case_region >= $1 AND r.case_region <= $2 \
         AND r.received_at >= $3 AND r.received_at < $4 AND r.target_key <> '' AND {} \
         ORDER BY r.received_at DESC LIMIT {MAX_TIPS}",
        not_recused("r", "$5")
    ))
    .bind(lo)
    .bind(hi)
    .bind(start)
    .bind(end)
    .bind(&p.id)
    .fetch_all(&wf.db.pool)
    .await?;
    let mut groups: BTreeMap<(String, String), Vec<Tip>> = BTreeMap::new();
    for (id, key, name, region, channel, at) in rows {
        let city = region.get(..4).unwrap_or(&region).to_string();
        groups
            .entry((city, key))
            .or_default()
            .push((id, name, channel, at));
    }
    let mut tx = wf.db.begin().await?;
    let mut out = vec![];
    for ((city, _), tips) in groups {
        if (tips.len() as i64) < min {
            continue;
        }
        let ids: Vec<String> = tips.iter().map(|t| t.0.clone()).collect();
        let reporters = super::triage::distinct_reporters(&mut tx, &ids).await?;
        if (reporters as i64) < min {
            continue;
        }
        let mut by: BTreeMap<&str, i64> = BTreeMap::new();
        for t in &tips {
            *by.entry(t.2.as_str()).or_default() += 1;
        }
        out.push(TargetReporters {
            target_name: tips[0].1.clone(),
            region: format!("{city}00"),
            tips: tips.len() as i64,
            reporters: reporters as i64,
            by_channel: by
                .into_iter()
                .map(|(channel, tips)| ChannelCount {
                    channel: channel.to_string(),
                    tips,
                })
                .collect(),
            first_received_at: tips[tips.len() - 1].3.clone(),
            last_received_at: tips[0].3.clone(),
        });
    }
    drop(tx);
    out.sort_by(|a, b| {
        b.reporters
            .cmp(&a.reporters)
            .then(b.tips.cmp(&a.tips))
            .then_with(|| a.target_name.cmp(&b.target_name))
    });
    Ok(out)
}
