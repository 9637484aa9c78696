//! The yearly reward budgets of the regions: their balance (amount − paid − committed), the
//! budget that covers a case ([`budget_for`], checked by the last approval), and finance's
//! reading and setting of them. Also [`deny_plain`], the audited refusal of a request that
//! concerns no case.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::{self, Entry};
use crate::error::{AppError, AppResult};
use crate::staff::principal::Principal;
use crate::staff::{self, Role};
use crate::store::{self, Tx};
use crate::workflow::{forbidden, Workflow};

/// The budget that covers a case region in a year (the most local one), with its balance.
pub(super) async fn budget_for(
    tx: &mut Tx<'_>,
    year: i32,
    case_region: &str,
) -> Result<Option<Budget>, sqlx::Error> {
    for region in staff::enclosing_regions(case_region) {
        let amount: Option<i64> = sqlx::query_scalar(
            "SELECT amount_fen FROM reward_budgets WHERE year = $1 AND region = $2",
        )
        .bind(i64::from(year))
        .bind(&region)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(amount) = amount {
            return Ok(Some(balance(tx, year, region, amount).await?));
        }
    }
    Ok(None)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Budget {
    pub year: i32,
    pub region: String,
    pub amount_fen: i64,
    /// Paid out of this region's rewards in the year.
    pub paid_fen: i64,
    /// Approved (not yet paid) rewards of the region, by the year of approval.
    pub committed_fen: i64,
    /// amount − paid − committed (may be negative if the budget was lowered).
    pub balance_fen: i64,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetRequest {
    pub year: i64,
    pub region: String,
    pub amount_fen: i64,
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BudgetQuery {
    pub year: Option<i64>,
}

async fn balance(
    exec: &mut sqlx::AnyConnection,
    year: i32,
    region: String,
    amount_fen: i64,
) -> Result<Budget, sqlx::Error> {
    let prefix = format!("{}%", staff::region_prefix(&region));
    let paid: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(SUM(amount_fen) AS BIGINT) FROM reward_payments WHERE year = $1 AND case_region LIKE $2",
    )
    .bind(i64::from(year))
    .bind(&prefix)
    .fetch_one(&mut *exec)
    .await?;
    // Committed: the shares not yet paid or expired of approved rewards (a reward of one
    // share commits its whole amount until paid, as before shares).
    let committed: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(SUM(s.amount_fen) AS BIGINT) FROM reward_shares s \
         JOIN rewards r ON r.id = s.reward_id \
         WHERE r.status IN ('approved', 'notified', 'claimed') \
         AND s.status IN ('pending', 'notified', 'claimed') \
         AND r.case_region LIKE $1 AND SUBSTR(r.approved_at, 1, 4) = $2",
    )
    .bind(&prefix)
    .bind(year.to_string())
    .fetch_one(&mut *exec)
    .await?;
    let paid = paid.unwrap_or(0);
    let committed = committed.unwrap_or(0);
    Ok(Budget {
        year,
        region,
        amount_fen,
        paid_fen: paid,
        committed_fen: committed,
        balance_fen: amount_fen.saturating_sub(paid).saturating_sub(committed),
    })
}

const BUDGET_READERS: [Role; 3] = [Role::Finance, Role::Supervisor, Role::Auditor];

/// `GET /finance/budgets?year=`: the budgets of the caller's region and below.
pub async fn budgets(wf: &Workflow, p: &Principal, year: Option<i64>) -> AppResult<Vec<Budget>> {
    if !p.has_any(&BUDGET_READERS) {
        return Err(deny_plain(wf, p, "finance.budgets", forbidden()).await);
    }
    let rows: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT year, region, amount_fen FROM reward_budgets WHERE ($1 = 0 OR year = $1) \
         ORDER BY year, region",
    )
    .bind(year.unwrap_or(0))
    .fetch_all(&wf.db.pool)
    .await?;
    let mut conn = wf.db.pool.acquire().await?;
    let mut out = vec![];
    for (y, region, amount) in rows {
        if !p.covers(&region) {
            continue;
        }
        let y = i32::try_from(y).unwrap_or_default();
        out.push(balance(&mut conn, y, region, amount).await?);
    }
    Ok(out)
}

/// `POST /finance/budgets`: finance sets a region's budget for a year.
pub async fn set_budget(wf: &Workflow, p: &Principal, req: BudgetRequest) -> AppResult<Budget> {
    if !p.has(Role::Finance) {
        return Err(deny_plain(wf, p, "finance.budget", forbidden()).await);
    }
    let check = || -> AppResult<(i32, String)> {
        if !(2000..=2100).contains(&req.year) {
            return Err(AppError::invalid("year", "error-wrong-type"));
        }
        if req.amount_fen < 0 {
            return Err(AppError::invalid("amount_fen", "error-amount"));
        }
        let region =
            staff::parse_region(&req.region).map_err(|m| AppError::invalid("region", m))?;
        Ok((req.year as i32, region))
    };
    let (year, region) = match check() {
        Ok(v) => v,
        Err(e) => return Err(deny_plain(wf, p, "finance.budget", e).await),
    };
    if !p.covers(&region) {
        return Err(deny_plain(wf, p, "finance.budget", forbidden()).await);
    }
    let mut tx = wf.db.begin().await?;
    audit::lock(&mut tx).await?;
    let now = store::ts(wf.db.now());
    let n = sqlx::query(
        "UPDATE reward_budgets SET amount_fen = $1, set_by = $2, set_at = $3 \
         WHERE year = $4 AND region = $5",
    )
    .bind(req.amount_fen)
    .bind(&p.id)
    .bind(&now)
    .bind(i64::from(year))
    .bind(&region)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        sqlx::query(
            "INSERT INTO reward_budgets (year, region, amount_fen, set_by, set_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(i64::from(year))
        .bind(&region)
        .bind(req.amount_fen)
        .bind(&p.id)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
    }
    audit::append(
        &mut tx,
        &wf.audit,
        &Entry::ok(
            &p.actor(),
            "finance.budget",
            serde_json::json!({ "year": year, "region": region, "amount_fen": req.amount_fen }),
        ),
    )
    .await?;
    let b = balance(&mut tx, year, region, req.amount_fen).await?;
    tx.commit().await?;
    Ok(b)
}

/// Audit a refusal that concerns no case.
pub async fn deny_plain(wf: &Workflow, p: &Principal, action: &str, err: AppError) -> AppError {
    audit::record_denied(&wf.db, &wf.audit, &p.actor(), action, None, err.code).await;
    err
}
