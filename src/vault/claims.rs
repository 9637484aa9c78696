//! What a reward claim puts into, or checks against, the vault (DOMAIN §5, §7): the bank
//! account the reward is paid to (sealed into `reporter_identity.bank_account`) and the
//! "last six digits of the ID number" check for in-person claims. Neither value leaves
//! this module in plaintext: callers get a sealed row written, a digest, or a yes/no.

use anyhow::anyhow;

use super::{crypto, Identity, IdentityField, SealedIdentity, Vault};
use crate::store::Tx;

/// A bank account number as the claimant typed it, normalized: digits only (spaces and
/// hyphens dropped), 10–30 of them. `None` when it is not one.
pub fn normalize_bank_account(s: &str) -> Option<String> {
    let digits: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    (digits.len() >= 10 && digits.len() <= 30 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then_some(digits)
}

/// The last six characters of a resident ID number: five digits and a digit or `X`.
pub fn normalize_id_last6(s: &str) -> Option<String> {
    let s = s.trim().to_ascii_uppercase();
    let b = s.as_bytes();
    (b.len() == 6
        && b[..5].iter().all(u8::is_ascii_digit)
        && (b[5].is_ascii_digit() || b[5] == b'X'))
        .then_some(s)
}

impl Vault {
    /// Seal `account` (normalized) as the reporter's bank account on `report_id`, in the
    /// caller's transaction. The whole identity row is re-sealed with the active key so the
    /// row's `key_id` stays true for rotation; a reporter with no row (anonymous) gets one
    /// holding only the account.
    pub async fn store_bank_account(
        &self,
        tx: &mut Tx<'_>,
        report_id: &str,
        account: &str,
    ) -> anyhow::Result<()> {
        let sealer = self
            .case_sealer(tx, report_id, super::CaseKeyKind::Identity)
            .await?;
        let existing = SealedIdentity::load(&mut **tx, report_id).await?;
        let mut identity = match &existing {
            Some(s) => self.open_identity(report_id, s).await?,
            None => Identity::default(),
        };
        identity.set(IdentityField::BankAccount, Some(account.to_string()));
        let sealed = self.seal_identity(&sealer, report_id, &identity);
        if existing.is_none() {
            sealed.insert(tx, report_id).await?;
            return Ok(());
        }
        let mut q = String::from("UPDATE reporter_identity SET key_id = $1");
        for (i, f) in IdentityField::ALL.iter().enumerate() {
            q.push_str(&format!(", {} = ${}", f.column(), i + 2));
        }
        q.push_str(&format!(
            " WHERE report_id = ${}",
            IdentityField::ALL.len() + 2
        ));
        let mut query = sqlx::query(&q).bind(sealed.key_id);
        for f in IdentityField::ALL {
            query = query.bind(sealed.get(f).map(<[u8]>::to_vec));
        }
        query.bind(report_id).execute(&mut **tx).await?;
        Ok(())
    }

    /// Whether a bank account is on file for `report_id` (without opening it).
    pub async fn has_bank_account(
        &self,
        exec: impl sqlx::Executor<'_, Database = sqlx::Any>,
        report_id: &str,
    ) -> anyhow::Result<bool> {
        Ok(SealedIdentity::load(exec, report_id)
            .await?
            .is_some_and(|s| s.get(IdentityField::BankAccount).is_some()))
    }

    /// Keyed digest of the ID characters shown at an in-person identity check, bound to the
    /// claim: the reward share's id (a share backfilled from a reward of before shares keeps
    /// the reward's id, so a digest recorded then still matches).
    pub fn id_check_digest(&self, share_id: &str, last6: &str) -> [u8; 32] {
        self.request_digest(&[b"reward-id-last6", share_id.as_bytes(), last6.as_bytes()])
    }

    /// The claim verifier of a tip: a keyed digest (its own key, derived from the master key
    /// like the blind index, so it survives data-key rotation) of the last six characters
    /// of the reporter's ID number, bound to the tip.
    pub fn claim_verifier_digest(&self, report_id: &str, last6: &str) -> [u8; 32] {
        crypto::keyed_digest(
            &self.claim,
            &[b"claim-verifier", report_id.as_bytes(), last6.as_bytes()],
        )
    }

    /// Does `last6` match the verifier the reporter set at report time? A real-name
    /// reporter's sealed ID number is opened here and compared; otherwise the tip's stored
    /// verifier digest is. `Ok(None)` when the tip has no verifier.
    pub async fn verifier_matches(
        &self,
        conn: &mut sqlx::AnyConnection,
        report_id: &str,
        last6: &str,
    ) -> anyhow::Result<Option<bool>> {
        let sealed = SealedIdentity::load(&mut *conn, report_id).await?;
        if let Some(blob) = sealed.as_ref().and_then(|s| s.get(IdentityField::IdNumber)) {
            let key = self.identity_key(report_id, blob).await?;
            let plain = crypto::open(
                &key,
                &super::identity::aad(report_id, IdentityField::IdNumber),
                blob,
            )
            .map_err(|e| anyhow!("opening id_number: {e}"))?;
            let tail = plain.get(plain.len().saturating_sub(6)..).unwrap_or(&[]);
            let tail = tail.to_ascii_uppercase();
            return Ok(Some(crypto::digest_eq(&tail, last6.as_bytes())));
        }
        let stored: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT digest FROM claim_verifiers WHERE report_id = $1")
                .bind(report_id)
                .fetch_optional(&mut *conn)
                .await?;
        Ok(stored.map(|d| crypto::digest_eq(&d, &self.claim_verifier_digest(report_id, last6))))
    }

    /// The bank account on file for `report_id`, masked: its last four digits only. The
    /// number itself never leaves the vault.
    pub async fn masked_bank_account(
        &self,
        exec: impl sqlx::Executor<'_, Database = sqlx::Any>,
        report_id: &str,
    ) -> anyhow::Result<Option<String>> {
        let Some(sealed) = SealedIdentity::load(exec, report_id).await? else {
            return Ok(None);
        };
        let Some(blob) = sealed.get(IdentityField::BankAccount) else {
            return Ok(None);
        };
        let key = self.identity_key(report_id, blob).await?;
        let plain = crypto::open(
            &key,
            &super::identity::aad(report_id, IdentityField::BankAccount),
            blob,
        )
        .map_err(|e| anyhow!("opening bank_account: {e}"))?;
        Ok(Some(mask_account(&String::from_utf8_lossy(&plain))))
    }
}

/// `**** 6789`: the last four digits, and nothing about the length.
pub fn mask_account(account: &str) -> String {
    let digits: Vec<char> = account.chars().filter(char::is_ascii_digit).collect();
    let tail: String = digits[digits.len().saturating_sub(4)..].iter().collect();
    format!("**** {tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_claim_inputs() {
        assert_eq!(
            normalize_bank_account("6222 0210-0112 3456 789").as_deref(),
            Some("6222021001123456789")
        );
        assert_eq!(normalize_bank_account("12345"), None);
        assert_eq!(normalize_bank_account("62220210011234567x9"), None);
        assert_eq!(normalize_id_last6(" 12345x ").as_deref(), Some("12345X"));
        assert_eq!(normalize_id_last6("1234X5"), None);
        assert_eq!(normalize_id_last6("1234567"), None);
        assert_eq!(mask_account("6222021001123456789"), "**** 6789");
    }
}
