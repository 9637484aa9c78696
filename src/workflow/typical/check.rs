//! The check a typical case's text passes before each step (issue 19): nothing in it may
//! name the reporter or link the case to them. Compared after one normalization of both
//! sides ([`fold`]): full-width forms, Chinese numerals, case, spaces and punctuation do not
//! hide a match.
//!
//! - the case's sealed identity, opened in the vault for the check only: name, ID number,
//!   phone, email, chat id, caller number, bank account;
//! - every phone number and ID number in the text, through the blind index: one that is any
//!   reporter's is refused without opening anything;
//! - tracking codes (the case's, and any 12 digits that are one), the hotline call id;
//! - the names of staff (display names; usernames of four characters or more).

use crate::domain::{MobilePhone, ResidentId};
use crate::error::AppError;
use crate::store::Tx;
use crate::vault::{IdentityField, SealedIdentity, Vault};
use crate::workflow::WorkflowError;

/// One normalized form: full-width ASCII as ASCII, Chinese numerals as digits, upper case,
/// only letters and digits kept.
pub fn fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '〇' | '零' => '0',
            '一' | '壹' => '1',
            '二' | '贰' | '两' => '2',
            '三' | '叁' => '3',
            '四' | '肆' => '4',
            '五' | '伍' => '5',
            '六' | '陆' => '6',
            '七' | '柒' => '7',
            '八' | '捌' => '8',
            '九' | '玖' => '9',
            _ => c,
        })
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

/// What a text named, for the refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    Reporter,
    TrackingCode,
    CallId,
    StaffName,
}

impl From<Found> for WorkflowError {
    fn from(f: Found) -> Self {
        match f {
            Found::Reporter => WorkflowError::TextNamesReporter,
            Found::TrackingCode => WorkflowError::TextNamesTrackingCode,
            Found::CallId => WorkflowError::TextNamesCallId,
            Found::StaffName => WorkflowError::TextNamesStaff,
        }
    }
}

/// Digit runs of `folded` of exactly `n` characters at every position (windows), and the
/// 18-character ID-number shapes (17 digits and a digit or X).
fn windows(folded: &str, n: usize) -> Vec<String> {
    let b: Vec<char> = folded.chars().collect();
    (0..b.len().saturating_sub(n - 1))
        .map(|i| b[i..i + n].iter().collect::<String>())
        .filter(|w: &String| {
            let digits = w.chars().take(n - 1).all(|c| c.is_ascii_digit());
            let last = w
                .chars()
                .last()
                .is_some_and(|c| c.is_ascii_digit() || (n == 18 && c == 'X'));
            digits && last
        })
        .collect()
}

/// The secrets of one case, folded: what [`check`] looks for besides the blind index.
pub(crate) struct Needles(Vec<(Found, String)>);

impl Needles {
    pub async fn load(tx: &mut Tx<'_>, vault: &Vault, report_id: &str) -> anyhow::Result<Self> {
        let mut out = vec![];
        if let Some(sealed) = SealedIdentity::load(&mut **tx, report_id).await? {
            let id = vault.open_identity(report_id, &sealed).await?;
            for f in IdentityField::ALL {
                if let Some(v) = id.get(f) {
                    out.push((Found::Reporter, fold(v)));
                    if f == IdentityField::Email {
                        if let Some((local, _)) = v.split_once('@') {
                            out.push((Found::Reporter, fold(local)));
                        }
                    }
                }
            }
        }
        let code: Option<String> =
            sqlx::query_scalar("SELECT tracking_code FROM reports WHERE id = $1")
                .bind(report_id)
                .fetch_optional(&mut **tx)
                .await?;
        out.extend(code.map(|c| (Found::TrackingCode, fold(&c))));
        let calls: Vec<String> =
            sqlx::query_scalar("SELECT call_id FROM hotline_calls WHERE report_id = $1")
                .bind(report_id)
                .fetch_all(&mut **tx)
                .await?;
        out.extend(calls.iter().map(|c| (Found::CallId, fold(c))));
        let staff: Vec<(String, String)> =
            sqlx::query_as("SELECT username, display_name FROM staff_users")
                .fetch_all(&mut **tx)
                .await?;
        for (user, name) in staff {
            out.push((Found::StaffName, fold(&name)));
            if user.chars().count() >= 4 {
                out.push((Found::StaffName, fold(&user)));
            }
        }
        // A one-character "name" would match everything.
        out.retain(|(_, n)| n.chars().count() >= 2);
        Ok(Self(out))
    }
}

/// Check each `(field, text)`: the first field that names anything is refused with that
/// field named (422) and what it named; nothing is said of the value.
pub(crate) async fn check(
    tx: &mut Tx<'_>,
    vault: &Vault,
    needles: &Needles,
    fields: &[(&str, &str)],
) -> Result<(), AppError> {
    for (field, text) in fields {
        let folded = fold(text);
        let refuse = |f: Found| AppError::from(WorkflowError::from(f)).field(*field);
        if let Some((found, _)) = needles.0.iter().find(|(_, n)| folded.contains(n.as_str())) {
            return Err(refuse(*found));
        }
        for w in windows(&folded, 11) {
            if let Ok(m) = MobilePhone::parse(&w) {
                if indexed(tx, vault, IdentityField::Phone, m.as_str()).await? {
                    return Err(refuse(Found::Reporter));
                }
            }
        }
        for w in windows(&folded, 18) {
            if let Ok(id) = ResidentId::parse(&w) {
                if indexed(tx, vault, IdentityField::IdNumber, id.as_str()).await? {
                    return Err(refuse(Found::Reporter));
                }
            }
        }
        for w in windows(&folded, 12) {
            let n: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM reports WHERE tracking_code = $1")
                    .bind(&w)
                    .fetch_one(&mut **tx)
                    .await?;
            if n > 0 {
                return Err(refuse(Found::TrackingCode));
            }
        }
    }
    Ok(())
}

async fn indexed(
    tx: &mut Tx<'_>,
    vault: &Vault,
    field: IdentityField,
    value: &str,
) -> Result<bool, sqlx::Error> {
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM identity_index WHERE field = $1 AND digest = $2")
            .bind(field.column())
            .bind(vault.blind_index(field, value).to_vec())
            .fetch_one(&mut **tx)
            .await?;
    Ok(n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_fold_to_one() {
        assert_eq!(fold("李 秀·英"), fold("李秀英"));
        assert_eq!(fold("１３９-1234 5678"), "13912345678");
        assert_eq!(fold("一三九一二三四五六七八"), "13912345678");
        assert_eq!(fold("a.B@x"), "ABX");
    }

    #[test]
    fn digit_windows() {
        assert_eq!(windows("X13912345678Y", 11), vec!["13912345678"]);
        assert_eq!(windows("37150219800101123X", 18).len(), 1);
        assert!(windows("12", 11).is_empty());
    }
}
