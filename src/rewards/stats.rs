//! The ledger's figures by month and region, for the console's charts (`GET
//! /api/v1/stats/...`): tips by channel and category over time, cases by status and region,
//! deadlines met and missed, rewards paid. Counts and sums only: no case content and no
//! identity. Scoped to the caller's region. Months are Asia/Shanghai calendar months
//! (`YYYY-MM`): of the receipt time (tips, cases), the due date (deadlines) or the payment
//! date.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::deadlines::day_start_utc;
use crate::error::{AppError, AppResult};
use crate::staff::principal::Principal;
use crate::staff::{self, Role};
use crate::store::Db;

pub const READERS: [Role; 3] = [Role::Auditor, Role::Supervisor, Role::Finance];

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// First day, YYYY-MM-DD (Asia/Shanghai); default: no lower bound.
    pub from: Option<String>,
    /// Last day, YYYY-MM-DD (inclusive); default: no upper bound.
    pub to: Option<String>,
}

struct Bounds {
    prefix: String,
    /// The reader: cases whose target they are recused from are not counted (DOMAIN §6).
    user: String,
    lo_ts: String,
    hi_ts: String,
    lo_day: String,
    hi_day: String,
}

/// `AND` the case (`alias` is the reports table's alias, with its dot) is not one whose
/// target the reader declared a conflict with; `$n` binds the reader's id.
fn not_recused(alias: &str, n: usize) -> String {
    let r = alias.trim_end_matches('.');
    let r = if r.is_empty() { "reports" } else { r };
    format!(
        " AND {}",
        crate::domain::institution::not_recused(r, &format!("${n}"))
    )
}

fn bounds(p: &Principal, q: &StatsQuery) -> AppResult<Bounds> {
    let date = |field: &str, s: &Option<String>| -> AppResult<Option<NaiveDate>> {
        match s.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| AppError::invalid(field, "error-date")),
        }
    };
    let from = date("from", &q.from)?;
    let to = date("to", &q.to)?;
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            return Err(AppError::invalid("to", "error-date-order"));
        }
    }
    Ok(Bounds {
        prefix: format!("{}%", staff::region_prefix(&p.region)),
        user: p.id.clone(),
        lo_ts: from.map(day_start_utc).unwrap_or_default(),
        hi_ts: to
            .and_then(|d| d.succ_opt())
            .map(day_start_utc)
            .unwrap_or_else(|| "9999".into()),
        lo_day: from.map(|d| d.to_string()).unwrap_or_default(),
        hi_day: to.map(|d| d.to_string()).unwrap_or_else(|| "9999".into()),
    })
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MonthCount {
    pub month: String,
    pub key: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TipStats {
    /// Tips by month and channel.
    pub by_channel: Vec<MonthCount>,
    /// Tips by month and category (a tip with several categories counts in each).
    pub by_category: Vec<MonthCount>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegionCount {
    pub region: String,
    pub status: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseStats {
    pub by_status: Vec<MonthCount>,
    pub by_region: Vec<RegionCount>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeadlineStats {
    /// Month of the due date.
    pub month: String,
    pub clock: String,
    pub met: i64,
    pub missed: i64,
    /// Still open and past due.
    pub overdue: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RewardStats {
    /// Month of payment.
    pub month: String,
    pub region: String,
    /// Payments recorded (a reward shared between co-reporters: one per share paid).
    pub paid: i64,
    pub amount_fen: i64,
}

fn month_counts(rows: Vec<(String, String, i64)>) -> Vec<MonthCount> {
    rows.into_iter()
        .map(|(month, key, count)| MonthCount { month, key, count })
        .collect()
}

pub async fn tips(db: &Db, p: &Principal, q: &StatsQuery) -> AppResult<TipStats> {
    let b = bounds(p, q)?;
    let month = db.backend.shanghai_month("received_at");
    let by_channel: Vec<(String, String, i64)> = sqlx::query_as(&format!(
        "SELECT {month} AS m, channel, COUNT(*) FROM reports \
         WHERE case_region LIKE $1 AND received_at >= $2 AND received_at < $3 {} \
         GROUP BY {month}, channel ORDER BY m, channel",
        not_recused("", 4)
    ))
    .bind(&b.prefix)
    .bind(&b.lo_ts)
    .bind(&b.hi_ts)
    .bind(&b.user)
    .fetch_all(&db.pool)
    .await?;
    let month = db.backend.shanghai_month("r.received_at");
    let by_category: Vec<(String, String, i64)> = sqlx::query_as(&format!(
        "SELECT {month} AS m, c.category, COUNT(*) FROM reports r \
         JOIN report_categories c ON c.report_id = r.id \
         WHERE r.case_region LIKE $1 AND r.received_at >= $2 AND r.received_at < $3 {} \
         GROUP BY {month}, c.category ORDER BY m, c.category",
        not_recused("r.", 4)
    ))
    .bind(&b.prefix)
    .bind(&b.lo_ts)
    .bind(&b.hi_ts)
    .bind(&b.user)
    .fetch_all(&db.pool)
    .await?;
    Ok(TipStats {
        by_channel: month_counts(by_channel),
        by_category: month_counts(by_category),
    })
}

pub async fn cases(db: &Db, p: &Principal, q: &StatsQuery) -> AppResult<CaseStats> {
    let b = bounds(p, q)?;
    let month = db.backend.shanghai_month("received_at");
    let by_status: Vec<(String, String, i64)> = sqlx::query_as(&format!(
        "SELECT {month} AS m, status, COUNT(*) FROM reports \
         WHERE case_region LIKE $1 AND received_at >= $2 AND received_at < $3 {} \
         GROUP BY {month}, status ORDER BY m, status",
        not_recused("", 4)
    ))
    .bind(&b.prefix)
    .bind(&b.lo_ts)
    .bind(&b.hi_ts)
    .bind(&b.user)
    .fetch_all(&db.pool)
    .await?;
    let by_region: Vec<(String, String, i64)> = sqlx::query_as(&format!(
        "SELECT case_region, status, COUNT(*) FROM reports \
         WHERE case_region LIKE $1 AND received_at >= $2 AND received_at < $3 {} \
         GROUP BY case_region, status ORDER BY case_region, status",
        not_recused("", 4)
    ))
    .bind(&b.prefix)
    .bind(&b.lo_ts)
    .bind(&b.hi_ts)
    .bind(&b.user)
    .fetch_all(&db.pool)
    .await?;
    Ok(CaseStats {
        by_status: month_counts(by_status),
        by_region: by_region
            .into_iter()
            .map(|(region, status, count)| RegionCount {
                region,
                status,
                count,
            })
            .collect(),
    })
}

pub async fn deadlines(db: &Db, p: &Principal, q: &StatsQuery) -> AppResult<Vec<DeadlineStats>> {
    let b = bounds(p, q)?;
    let today = crate::deadlines::calendar::shanghai_date(db.now()).to_string();
    let rows: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(&format!(
        "SELECT SUBSTR(c.due_on, 1, 7) AS m, c.kind, \
         SUM(CASE WHEN c.outcome = 'met' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN c.outcome = 'missed' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN c.closed_at IS NULL AND c.due_on < $4 THEN 1 ELSE 0 END) \
         FROM clocks c JOIN reports r ON r.id = c.report_id \
         WHERE r.case_region LIKE $1 AND c.due_on >= $2 AND c.due_on <= $3 {} \
         GROUP BY SUBSTR(c.due_on, 1, 7), c.kind ORDER BY m, c.kind",
        not_recused("r.", 5)
    ))
    .bind(&b.prefix)
    .bind(&b.lo_day)
    .bind(&b.hi_day)
    .bind(today)
    .bind(&b.user)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(month, clock, met, missed, overdue)| DeadlineStats {
            month,
            clock,
            met,
            missed,
            overdue,
        })
        .collect())
}

pub async fn rewards(db: &Db, p: &Principal, q: &StatsQuery) -> AppResult<Vec<RewardStats>> {
    let b = bounds(p, q)?;
    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(&format!(
        "SELECT SUBSTR(paid_on, 1, 7) AS m, case_region, COUNT(*), CAST(SUM(amount_fen) AS BIGINT) \
         FROM reward_payments WHERE case_region LIKE $1 AND paid_on >= $2 AND paid_on <= $3 \
         AND share_id NOT IN (SELECT s.id FROM reward_shares s JOIN reports r ON r.id = s.report_id \
         JOIN staff_conflicts sc ON sc.user_id = $4 AND {}) \
         GROUP BY SUBSTR(paid_on, 1, 7), case_region ORDER BY m, case_region",
        crate::domain::institution::conflict_match("sc", "r")
    ))
    .bind(&b.prefix)
    .bind(&b.lo_day)
    .bind(&b.hi_day)
    .bind(&b.user)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(month, region, paid, amount_fen)| RewardStats {
            month,
            region,
            paid,
            amount_fen,
        })
        .collect())
}
