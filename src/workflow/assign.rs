//! Assignment (DOMAIN §6, issue: by the region of the reported institution, to the handler
//! of that region with the fewest open cases, never to a recused person).

use super::{CaseRow, Op};
use crate::error::AppResult;
use crate::staff;
use crate::store::Tx;

/// The handler to give a case to: the most local level of the case's region that has any
/// eligible handler, and there the one with the fewest open cases (ties by username).
pub async fn pick_handler(tx: &mut Tx<'_>, case: &CaseRow) -> Result<Option<String>, sqlx::Error> {
    for region in staff::enclosing_regions(&case.case_region) {
        let row: Option<(String, i64)> = sqlx::query_as(&format!(
            "SELECT u.id, u.open_cases FROM staff_users u JOIN reports r ON r.id = $2 \
             WHERE u.active = 1 AND u.region = $1 \
             AND (',' || u.roles || ',') LIKE '%,handler,%' AND {} \
             ORDER BY u.open_cases, u.username LIMIT 1",
            crate::domain::institution::not_recused("r", "u.id")
        ))
        .bind(&region)
        .bind(&case.id)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some((id, _)) = row {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// Give the case to `user_id`, recording who did it and why.
pub async fn set_assignee(op: &mut Op<'_>, user_id: &str, reason: &str) -> AppResult<()> {
    let before = op.case.assignee_id.clone();
    sqlx::query("UPDATE reports SET assignee_id = $1, version = version + 1 WHERE id = $2")
        .bind(user_id)
        .bind(&op.case.id)
        .execute(&mut *op.tx)
        .await?;
    // Keep the open-case counters that assignment orders by.
    if let Some(old) = &before {
        sqlx::query(
            "UPDATE staff_users SET open_cases = open_cases - 1 WHERE id = $1 AND open_cases > 0",
        )
        .bind(old)
        .execute(&mut *op.tx)
        .await?;
    }
    sqlx::query("UPDATE staff_users SET open_cases = open_cases + 1 WHERE id = $1")
        .bind(user_id)
        .execute(&mut *op.tx)
        .await?;
    op.case.assignee_id = Some(user_id.to_string());
    op.case.version += 1;
    op.event(
        "assignment",
        None,
        None,
        Some(reason),
        serde_json::json!({ "from": before, "to": user_id }),
    )
    .await?;
    Ok(())
}
