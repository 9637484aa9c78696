//! A case's two data keys ([`shred`](super::shred)) as the vault hands them out: new ones
//! at intake, the stored ones for what is added to a case later, and their destruction.

use anyhow::anyhow;
use chrono::Utc;

use super::shred::{CaseKeyKind, CaseKeyRow, CASE_KEY_ID};
use super::{Sealer, SecretKey, Shredder, Vault};
use crate::store::{self, Tx};

/// The sealers for a new case and the key rows to store with it. Without a shred chain
/// both sealers are the data key's and there are no rows.
#[derive(Clone)]
pub struct CaseKeys {
    pub identity: Sealer,
    pub sanitized: Sealer,
    pub rows: Vec<CaseKeyRow>,
}

impl CaseKeys {
    /// Store the key rows (in the transaction that stores what they seal).
    pub async fn insert(rows: &[CaseKeyRow], ex: &mut dyn store::Exec) -> sqlx::Result<()> {
        let now = store::ts(Utc::now());
        crate::store::insert_rows(
            ex,
            "INSERT INTO case_keys (report_id, kind, epoch, wrapped, created_at) VALUES",
            5,
            rows,
            |v, r| {
                v.extend([
                    r.report_id.as_str().into(),
                    r.kind.as_str().into(),
                    r.epoch.as_str().into(),
                    r.wrapped.as_slice().into(),
                    now.clone().into(),
                ])
            },
        )
        .await
    }
}

fn case_sealer(key: SecretKey) -> Sealer {
    Sealer {
        key_id: CASE_KEY_ID,
        key,
    }
}

impl Vault {
    /// The shred chain, when this vault has one.
    pub fn shredder(&self) -> Option<&Shredder> {
        self.shred.as_ref()
    }

    /// Two new keys for a new case `report_id` (`data`: the active data key, used when
    /// there is no shred chain).
    pub fn new_case_keys(&self, data: &Sealer, report_id: &str) -> anyhow::Result<CaseKeys> {
        let Some(shred) = &self.shred else {
            return Ok(CaseKeys {
                identity: data.clone(),
                sanitized: data.clone(),
                rows: vec![],
            });
        };
        let epoch = shred.new_epoch(jubao_rules::calendar::shanghai_date(self.db.now()));
        let identity = SecretKey::generate();
        let sanitized = SecretKey::generate();
        let rows = vec![
            shred.wrap(report_id, CaseKeyKind::Identity, epoch, &identity)?,
            shred.wrap(report_id, CaseKeyKind::Sanitized, epoch, &sanitized)?,
        ];
        Ok(CaseKeys {
            identity: case_sealer(identity),
            sanitized: case_sealer(sanitized),
            rows,
        })
    }

    /// The key that opens `blob`, an identity field of `report_id`: the case's identity key,
    /// or (for a value sealed before case keys) the data key it names.
    pub(super) async fn identity_key(
        &self,
        report_id: &str,
        blob: &[u8],
    ) -> anyhow::Result<SecretKey> {
        if super::crypto::sealed_key_id(blob)? == CASE_KEY_ID {
            self.case_key(report_id, CaseKeyKind::Identity).await
        } else {
            self.key_for(blob).await
        }
    }

    /// The stored key `kind` of `report_id`, opened.
    pub(super) async fn case_key(
        &self,
        report_id: &str,
        kind: CaseKeyKind,
    ) -> anyhow::Result<SecretKey> {
        let shred = self.shred.as_ref().ok_or_else(|| {
            anyhow!("this value is sealed under a case key: open the vault with the shred key file")
        })?;
        let row: Option<(String, Option<Vec<u8>>)> = sqlx::query_as(
            "SELECT epoch, wrapped FROM case_keys WHERE report_id = $1 AND kind = $2",
        )
        .bind(report_id)
        .bind(kind.as_str())
        .fetch_optional(&self.db.pool)
        .await?;
        let (epoch, wrapped) =
            row.ok_or_else(|| anyhow!("the case has no {} key", kind.as_str()))?;
        shred
            .unwrap(&self.db, report_id, kind, &epoch, wrapped.as_deref())
            .await
    }

    /// The sealer for something added to `report_id` later (a message's evidence, a
    /// recording, a bank account): its case key, made now (in `tx`) for a case of before
    /// case keys; the data key when there is no shred chain. A shredded key is not
    /// replaced: nothing new is sealed for a purged case.
    pub async fn case_sealer(
        &self,
        tx: &mut Tx<'_>,
        report_id: &str,
        kind: CaseKeyKind,
    ) -> anyhow::Result<Sealer> {
        if self.shred.is_none() {
            return self.sealer().await;
        }
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT COUNT(*) FROM case_keys WHERE report_id = $1 AND kind = $2")
                .bind(report_id)
                .bind(kind.as_str())
                .fetch_optional(&mut **tx)
                .await?;
        if exists.unwrap_or(0) > 0 {
            return Ok(case_sealer(self.case_key(report_id, kind).await?));
        }
        let data = self.sealer().await?;
        let keys = self.new_case_keys(&data, report_id)?;
        let rows: Vec<CaseKeyRow> = keys
            .rows
            .iter()
            .filter(|r| r.kind == kind)
            .cloned()
            .collect();
        CaseKeys::insert(&rows, tx).await?;
        Ok(match kind {
            CaseKeyKind::Identity => keys.identity,
            CaseKeyKind::Sanitized => keys.sanitized,
        })
    }

    /// Both sealers of `report_id` for evidence added later ([`Vault::case_sealer`] for
    /// each, in a transaction of their own).
    pub async fn case_keys_for(&self, report_id: &str) -> anyhow::Result<CaseKeys> {
        let mut tx = self.db.begin().await?;
        let identity = self
            .case_sealer(&mut tx, report_id, CaseKeyKind::Identity)
            .await?;
        let sanitized = self
            .case_sealer(&mut tx, report_id, CaseKeyKind::Sanitized)
            .await?;
        tx.commit().await?;
        Ok(CaseKeys {
            identity,
            sanitized,
            rows: vec![],
        })
    }

    /// Destroy the key `kind` of `report_id` (in the purge's transaction): what it sealed
    /// no longer opens, here or in any backup once the chain has passed its epoch.
    pub async fn shred_case_key(
        &self,
        tx: &mut Tx<'_>,
        report_id: &str,
        kind: CaseKeyKind,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE case_keys SET wrapped = NULL, shredded_at = $1 \
             WHERE report_id = $2 AND kind = $3",
        )
        .bind(store::ts(self.db.now()))
        .bind(report_id)
        .bind(kind.as_str())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Re-wrap the key `kind` of `report_id` for `epoch`, if it is still as read (`old`).
    pub async fn rewrap_case_key(
        &self,
        report_id: &str,
        kind: CaseKeyKind,
        old_epoch: &str,
        epoch: chrono::NaiveDate,
    ) -> anyhow::Result<bool> {
        let shred = self
            .shred
            .as_ref()
            .ok_or_else(|| anyhow!("no shred chain"))?;
        let key = self.case_key(report_id, kind).await?;
        let row = shred.wrap(report_id, kind, epoch, &key)?;
        let n = sqlx::query(
            "UPDATE case_keys SET epoch = $1, wrapped = $2 \
             WHERE report_id = $3 AND kind = $4 AND epoch = $5 AND wrapped IS NOT NULL",
        )
        .bind(&row.epoch)
        .bind(&row.wrapped)
        .bind(report_id)
        .bind(kind.as_str())
        .bind(old_epoch)
        .execute(&self.db.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }
}
