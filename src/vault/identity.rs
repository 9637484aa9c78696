//! Reporter identity: the plaintext form (only ever held briefly), its sealed form, and the
//! `reporter_identity` / `identity_index` rows.

use crate::store::Tx;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentityField {
    Name,
    IdNumber,
    Phone,
    Email,
    Openid,
    CallerNumber,
    BankAccount,
}

impl IdentityField {
    pub const ALL: [IdentityField; 7] = [
        IdentityField::Name,
        IdentityField::IdNumber,
        IdentityField::Phone,
        IdentityField::Email,
        IdentityField::Openid,
        IdentityField::CallerNumber,
        IdentityField::BankAccount,
    ];

    pub fn column(self) -> &'static str {
        match self {
            IdentityField::Name => "name",
            IdentityField::IdNumber => "id_number",
            IdentityField::Phone => "phone",
            IdentityField::Email => "email",
            IdentityField::Openid => "openid",
            IdentityField::CallerNumber => "caller_number",
            IdentityField::BankAccount => "bank_account",
        }
    }

    /// Fields with a blind index for equality search (same phone, same ID).
    pub fn indexed(self) -> bool {
        matches!(
            self,
            IdentityField::IdNumber
                | IdentityField::Phone
                | IdentityField::Openid
                | IdentityField::CallerNumber
        )
    }

    fn idx(self) -> usize {
        self as usize
    }
}

/// Associated data binding a sealed field to its report and field name.
pub fn aad(report_id: &str, field: IdentityField) -> Vec<u8> {
    format!("jubao/identity/v1|{report_id}|{}", field.column()).into_bytes()
}

/// A reporter's identity in plaintext. Its `Debug` never prints a value.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Identity {
    values: [Option<String>; 7],
}

impl Identity {
    pub fn get(&self, f: IdentityField) -> Option<&str> {
        self.values[f.idx()].as_deref()
    }

    pub fn set(&mut self, f: IdentityField, v: Option<String>) {
        self.values[f.idx()] = v;
    }

    pub fn with(mut self, f: IdentityField, v: impl Into<String>) -> Self {
        self.set(f, Some(v.into()));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.values.iter().all(Option::is_none)
    }
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let present: Vec<&str> = IdentityField::ALL
            .iter()
            .filter(|x| self.get(**x).is_some())
            .map(|x| x.column())
            .collect();
        write!(f, "Identity(redacted; fields: {present:?})")
    }
}

/// An identity sealed for one report, ready to store.
#[derive(Clone, Default)]
pub struct SealedIdentity {
    pub key_id: i64,
    pub(super) values: [Option<Vec<u8>>; 7],
    pub index: Vec<(IdentityField, [u8; 32])>,
}

impl SealedIdentity {
    pub fn get(&self, f: IdentityField) -> Option<&[u8]> {
        self.values[f.idx()].as_deref()
    }

    pub fn set(&mut self, f: IdentityField, v: Option<Vec<u8>>) {
        self.values[f.idx()] = v;
    }

    pub fn is_empty(&self) -> bool {
        self.values.iter().all(Option::is_none)
    }

    /// Write the sealed identity and its blind index for `report_id`.
    pub async fn insert(&self, tx: &mut Tx<'_>, report_id: &str) -> sqlx::Result<()> {
        if self.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO reporter_identity \
             (report_id, key_id, name, id_number, phone, email, openid, caller_number, bank_account) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(report_id)
        .bind(self.key_id)
        .bind(self.values[0].clone())
        .bind(self.values[1].clone())
        .bind(self.values[2].clone())
        .bind(self.values[3].clone())
        .bind(self.values[4].clone())
        .bind(self.values[5].clone())
        .bind(self.values[6].clone())
        .execute(&mut **tx)
        .await?;
        if self.index.is_empty() {
            return Ok(());
        }
        // One statement for all of the reporter's index rows.
        let values: Vec<String> = (0..self.index.len())
            .map(|i| format!("(${}, ${}, $1)", 2 * i + 2, 2 * i + 3))
            .collect();
        let sql = format!(
            "INSERT INTO identity_index (field, digest, report_id) VALUES {}",
            values.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(report_id);
        for (field, digest) in &self.index {
            q = q.bind(field.column()).bind(digest.to_vec());
        }
        q.execute(&mut **tx).await?;
        Ok(())
    }

    /// Insert the sealed identities of several reports (with their index rows) in a few
    /// multi-row statements; reports without identity are skipped.
    pub async fn insert_many(
        ex: &mut dyn crate::store::Exec,
        rows: &[(&str, &SealedIdentity)],
    ) -> sqlx::Result<()> {
        let rows: Vec<(&str, &SealedIdentity)> = rows
            .iter()
            .copied()
            .filter(|(_, s)| !s.is_empty())
            .collect();
        crate::store::insert_rows(
            &mut *ex,
            "INSERT INTO reporter_identity \
             (report_id, key_id, name, id_number, phone, email, openid, caller_number, bank_account) VALUES",
            9,
            &rows,
            |v, (id, s)| {
                v.extend([(*id).into(), s.key_id.into()]);
                v.extend(s.values.iter().map(|x| x.as_deref().into()));
            },
        )
        .await?;
        let index: Vec<(&str, &'static str, &[u8])> = rows
            .iter()
            .flat_map(|(id, s)| s.index.iter().map(move |(f, d)| (*id, f.column(), &d[..])))
            .collect();
        crate::store::insert_rows(
            ex,
            "INSERT INTO identity_index (field, digest, report_id) VALUES",
            3,
            &index,
            |v, (id, field, digest)| v.extend([(*field).into(), (*digest).into(), (*id).into()]),
        )
        .await
    }

    /// Load the sealed identity of `report_id`, if the reporter gave one.
    pub async fn load(
        exec: impl sqlx::Executor<'_, Database = sqlx::Any>,
        report_id: &str,
    ) -> sqlx::Result<Option<Self>> {
        type Row = (
            i64,
            Option<Vec<u8>>,
            Option<Vec<u8>>,
            Option<Vec<u8>>,
            Option<Vec<u8>>,
            Option<Vec<u8>>,
            Option<Vec<u8>>,
            Option<Vec<u8>>,
        );
        let row: Option<Row> = sqlx::query_as(
            "SELECT key_id, name, id_number, phone, email, openid, caller_number, bank_account \
             FROM reporter_identity WHERE report_id = $1",
        )
        .bind(report_id)
        .fetch_optional(exec)
        .await?;
        Ok(row.map(|r| SealedIdentity {
            key_id: r.0,
            values: [r.1, r.2, r.3, r.4, r.5, r.6, r.7],
            index: vec![],
        }))
    }

    pub(crate) fn values_mut(&mut self) -> &mut [Option<Vec<u8>>; 7] {
        &mut self.values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_values() {
        let id = Identity::default()
            .with(IdentityField::Name, "张三")
            .with(IdentityField::Phone, "13800138000");
        let s = format!("{id:?}");
        assert!(!s.contains("张三") && !s.contains("13800138000"), "{s}");
        assert!(s.contains("phone"));
    }
}
