//! Evidence as staff get it. Whoever may see the case gets the sanitized working copy. The
//! original — which may carry the reporter's name, a device serial, a GPS tag — is opened
//! like an identity (DOMAIN §7): asked for with a reason, approved by custodians
//! (`[identity] approvals_required`), then downloaded by the asker, signed in with a second
//! factor, while the approval lasts (`[identity] approval_hours`); every download audited.

use super::reveal::{self, denied, unusable, IdentityRequestView, RevealRequest};
use super::{forbidden, reason, Action, Op, Workflow, WorkflowError};
use crate::error::{AppError, AppResult};
use crate::staff::principal::Principal;

/// `POST /cases/{id}/evidence/{evidence_id}/original-requests`: ask to open an original.
pub async fn request(
    wf: &Workflow,
    p: &Principal,
    case_id: &str,
    evidence_id: &str,
    req: RevealRequest,
) -> AppResult<IdentityRequestView> {
    let mut op = Op::begin(wf, p, case_id, Action::RequestIdentity).await?;
    let why = match reason("reason", req.reason.as_deref()) {
        Ok(w) => w,
        Err(e) => return Err(op.deny(e).await),
    };
    let known: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM evidence WHERE id = $1 AND report_id = $2")
            .bind(evidence_id)
            .bind(case_id)
            .fetch_one(&mut *op.tx)
            .await?;
    if known == 0 {
        return Err(op.deny(super::record_not_found()).await);
    }
    let view = reveal::insert_pending(&mut op, wf, p, why, Some(evidence_id)).await?;
    op.commit(serde_json::json!({ "request": view.id, "evidence": evidence_id }))
        .await?;
    Ok(view)
}

/// The sanitized working copy of one evidence file of a case the caller may see, or, with
/// `original` naming an approved request of the caller's for this file, its original. A
/// file without a working copy is held sealed: asking for its working copy is refused,
/// never answered with the original.
pub async fn evidence_file(
    wf: &Workflow,
    vault: &crate::vault::Vault,
    p: &Principal,
    case_id: &str,
    evidence_id: &str,
    original: Option<&str>,
) -> AppResult<(String, Vec<u8>)> {
    let mut tx = wf.db.begin().await?;
    let Some(case) = super::load_case(&mut tx, case_id).await? else {
        return Err(super::record_not_found());
    };
    let recused = super::is_recused(&mut tx, &p.id, &case).await?;
    if !super::can_see(p, &case, recused) {
        return Err(forbidden());
    }
    if let Some(rid) = original {
        let refusal = match reveal::load(&mut tx, rid).await {
            Ok((v, by)) if v.evidence_id.as_deref() == Some(evidence_id) => {
                unusable(&mut tx, wf, p, &v, &by).await?
            }
            Ok(_) | Err(_) => Some(AppError::from(WorkflowError::OriginalNeedsRequest)),
        };
        if let Some(e) = refusal {
            drop(tx);
            return Err(denied(wf, p, "evidence.original", Some(case_id), e).await);
        }
    }
    drop(tx);
    let row: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT media_type, working_media_type FROM evidence WHERE id = $1 AND report_id = $2",
    )
    .bind(evidence_id)
    .bind(case_id)
    .fetch_optional(&wf.db.pool)
    .await?;
    let Some((media_type, working_type)) = row else {
        return Err(super::record_not_found());
    };
    let (variant, ctype) = match (original, working_type) {
        (None, Some(w)) => ("working", w),
        (None, None) => return Err(WorkflowError::EvidenceHeldSealed.into()),
        (Some(_), _) => ("original", media_type),
    };
    let sealed: Option<Vec<u8>> = sqlx::query_scalar(
        "SELECT data FROM evidence_blobs WHERE evidence_id = $1 AND variant = $2",
    )
    .bind(evidence_id)
    .bind(variant)
    .fetch_optional(&wf.db.pool)
    .await?;
    // Gone with the retention purge (docs/retention.md).
    let sealed = sealed.ok_or(WorkflowError::EvidencePurged)?;
    let plain = vault
        .open_evidence(case_id, evidence_id, variant, &sealed)
        .await
        .map_err(AppError::internal)?;
    super::query::read(
        wf,
        p,
        "evidence.download",
        case_id,
        serde_json::json!({ "evidence": evidence_id, "variant": variant, "request": original }),
    )
    .await?;
    Ok((ctype, plain))
}
