//! Anchors: signed statements of the chain's head, so that a log cut short (its last
//! entries deleted and `audit_head` set back) or rewritten wholesale is caught.
//!
//! An anchor names the head entry (`seq`), its chain value, when it was signed and how many
//! entries the log held up to it, and is signed with the vault's Ed25519 anchor key
//! ([`AuditKey::sign`]); the public key travels in the anchor, so an auditor can check the
//! signature with any Ed25519 tool and no vault. The signed message is [`Anchor::message`]:
//!
//! ```text
//! jubao-audit-anchor/1
//! seq 42
//! chain <64 hex digits>
//! at 2025-01-02T03:04:05.000000Z
//! entries 42
//! public_key <64 hex digits>
//! ```
//!
//! (each line ends with `\n`). The service stores one in `audit_anchors` every
//! [`ANCHOR_EVERY`] (any instance may; a second one is harmless), after checking the entries
//! written since the previous one; `jubao audit anchor --out FILE` stores one and writes it
//! to a file to keep away from the database. `jubao audit verify` checks the log against
//! every stored anchor and `--anchor FILE`: whoever can write the database can delete the
//! stored ones, not the copies kept elsewhere.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use chrono::Utc;
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use super::chain::{self, Start};
use crate::notify::worker::Periodic;
use crate::store::{self, Db};
use crate::vault::AuditKey;

pub const FORMAT: &str = "jubao-audit-anchor/1";

/// How often the service anchors the head (when it has moved).
pub const ANCHOR_EVERY: chrono::Duration = chrono::Duration::hours(24);

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Anchor {
    pub format: String,
    pub seq: i64,
    /// Chain value of entry `seq`, hex.
    pub chain: String,
    /// When it was signed (UTC, RFC 3339).
    pub at: String,
    pub entries: i64,
    /// Ed25519 public key, hex.
    pub public_key: String,
    /// Ed25519 signature of [`Anchor::message`], hex.
    pub signature: String,
}

impl Anchor {
    /// The text that is signed.
    pub fn message(&self) -> String {
        format!(
            "{}\nseq {}\nchain {}\nat {}\nentries {}\npublic_key {}\n",
            self.format, self.seq, self.chain, self.at, self.entries, self.public_key
        )
    }

    pub fn chain_bytes(&self) -> anyhow::Result<Vec<u8>> {
        hex::decode(&self.chain).context("anchor chain value is not hex")
    }

    /// Whether the signature verifies with the public key the anchor carries (what an
    /// auditor without the vault checks).
    pub fn signature_ok(&self) -> bool {
        let (Ok(Ok(public)), Ok(Ok(sig))) = (
            hex::decode(&self.public_key).map(|k| <[u8; 32]>::try_from(k.as_slice())),
            hex::decode(&self.signature).map(|s| <[u8; 64]>::try_from(s.as_slice())),
        ) else {
            return false;
        };
        let Ok(public) = ed25519_dalek::VerifyingKey::from_bytes(&public) else {
            return false;
        };
        let sig = ed25519_dalek::Signature::from_bytes(&sig);
        public
            .verify_strict(self.message().as_bytes(), &sig)
            .is_ok()
    }

    /// Signed, by this vault's anchor key, in a format this version reads.
    pub fn check(&self, key: &AuditKey) -> Result<(), String> {
        let name = format!("the anchor of entry {} (signed at {})", self.seq, self.at);
        if self.format != FORMAT {
            return Err(format!("{name} has an unknown format {:?}", self.format));
        }
        if !self.signature_ok() {
            return Err(format!(
                "{name}: its signature does not verify (it was changed)"
            ));
        }
        if self.public_key != hex::encode(key.public_key()) {
            return Err(format!(
                "{name} was signed by another key, not this vault's"
            ));
        }
        if self.chain_bytes().map_or(true, |c| c.len() != 32) {
            return Err(format!("{name} has a malformed chain value"));
        }
        Ok(())
    }

    fn sign(key: &AuditKey, seq: i64, chain: &[u8], entries: i64) -> Self {
        let mut a = Anchor {
            format: FORMAT.into(),
            seq,
            chain: hex::encode(chain),
            at: store::ts(Utc::now()),
            entries,
            public_key: hex::encode(key.public_key()),
            signature: String::new(),
        };
        a.signature = hex::encode(key.sign(a.message().as_bytes()));
        a
    }

    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not an audit anchor", path.display()))
    }

    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
    }
}

type StoredAnchor = (i64, Vec<u8>, i64, String, Vec<u8>, Vec<u8>);

/// Every anchor in `audit_anchors`, oldest first.
pub async fn stored(db: &Db) -> anyhow::Result<Vec<Anchor>> {
    select(db, "ORDER BY id").await
}

async fn latest(db: &Db) -> anyhow::Result<Option<Anchor>> {
    Ok(select(db, "ORDER BY id DESC LIMIT 1").await?.pop())
}

async fn select(db: &Db, order: &str) -> anyhow::Result<Vec<Anchor>> {
    let rows: Vec<StoredAnchor> = sqlx::query_as(&format!(
        "SELECT seq, chain, entries, at, public_key, signature FROM audit_anchors {order}"
    ))
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(seq, chain, entries, at, public_key, signature)| Anchor {
            format: FORMAT.into(),
            seq,
            chain: hex::encode(chain),
            at,
            entries,
            public_key: hex::encode(public_key),
            signature: hex::encode(signature),
        })
        .collect())
}

async fn store_anchor(db: &Db, a: &Anchor) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO audit_anchors (seq, chain, entries, at, public_key, signature) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(a.seq)
    .bind(a.chain_bytes()?)
    .bind(a.entries)
    .bind(&a.at)
    .bind(hex::decode(&a.public_key)?)
    .bind(hex::decode(&a.signature)?)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// The committed head: `(seq, chain value, entries up to it)`.
async fn head(db: &Db) -> anyhow::Result<(i64, Vec<u8>, i64)> {
    let (seq, chain): (i64, Vec<u8>) =
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&db.pool)
            .await?;
    let entries: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE seq <= $1")
        .bind(seq)
        .fetch_one(&db.pool)
        .await?;
    Ok((seq, chain, entries))
}

/// `jubao audit anchor`: verify the whole log (a broken one is not anchored: the error
/// names the entry), then sign its head and store the anchor.
pub async fn take(db: &Db, key: &AuditKey) -> anyhow::Result<Anchor> {
    let (seq, chain, entries) = head(db).await?;
    let v = chain::verify(db, key, None, |_, _| {}).await?;
    if let Some(broken) = v.first_broken {
        anyhow::bail!(
            "audit log broken at entry {broken}: {}; not anchored",
            v.problem.unwrap_or_default()
        );
    }
    let a = Anchor::sign(key, seq, &chain, entries);
    store_anchor(db, &a).await?;
    Ok(a)
}

/// The daily anchor: when the newest stored anchor is older than [`ANCHOR_EVERY`] and the
/// head has moved past it, check the entries written since it and anchor the head. Returns
/// the new anchor, if one was taken.
pub async fn anchor_if_due(db: &Db, key: &AuditKey) -> anyhow::Result<Option<Anchor>> {
    let last = latest(db).await?;
    let (seq, chain, entries) = head(db).await?;
    let start = match &last {
        None if seq == 0 => return Ok(None),
        None => Start {
            end: seq,
            ..Start::origin()
        },
        Some(a) => {
            a.check(key).map_err(anyhow::Error::msg)?;
            if a.seq > seq {
                anyhow::bail!(
                    "audit log broken at entry {}: the log ends at entry {seq}, but an anchor \
                     signed at {} covers entry {} (entries removed)",
                    seq + 1,
                    a.at,
                    a.seq
                );
            }
            let fresh = store::parse_ts(&a.at)? > Utc::now() - ANCHOR_EVERY;
            if fresh || a.seq == seq {
                return Ok(None);
            }
            let keyed: Option<i64> =
                sqlx::query_scalar("SELECT chain_version FROM audit_log WHERE seq = $1")
                    .bind(a.seq)
                    .fetch_optional(&db.pool)
                    .await?;
            Start {
                seq: a.seq + 1,
                prev: a.chain_bytes()?,
                keyed: keyed == Some(chain::KEYED),
                end: seq,
            }
        }
    };
    // From the last anchor on: the first entry after it must link to the anchored value.
    let from = start.seq;
    let w = chain::walk(db, key, start, &BTreeMap::new(), |_| {}).await?;
    if let Some((broken, problem)) = w.broken {
        anyhow::bail!("audit log broken at entry {broken}: {problem}; not anchored");
    }
    if w.last_seq != seq || w.last_chain != chain {
        anyhow::bail!(
            "audit log broken at entry {}: the chain from entry {from} ends before its \
             recorded head; not anchored",
            w.last_seq + 1
        );
    }
    let a = Anchor::sign(key, seq, &chain, entries);
    store_anchor(db, &a).await?;
    Ok(Some(a))
}

/// The periodic task the outbox worker runs ([`anchor_if_due`]).
pub struct Anchorer {
    pub db: Db,
    pub key: std::sync::Arc<AuditKey>,
}

impl Periodic for Anchorer {
    fn tick(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            if let Some(a) = anchor_if_due(&self.db, &self.key).await? {
                tracing::info!(
                    seq = a.seq,
                    entries = a.entries,
                    "audit chain head anchored"
                );
            }
            Ok(())
        })
    }
}
