//! How entries are chained, and the walk that checks the chain.
//!
//! An entry's canonical bytes are its `seq` (8 bytes, big-endian) and then each field in
//! order (`at`, `actor_id`, `actor`, `action`, `outcome`, `report_id`, `detail`), a field as
//! `0` when absent or `1 ‖ length (8 bytes, big-endian) ‖ UTF-8`, so no two entries share an
//! encoding. Its chain value, by `chain_version`:
//!
//! * **2, keyed** (every entry written since migration 0009):
//!   `HMAC-SHA256(audit key, prev ‖ "jubao/audit/v2" ‖ canonical)` (the two parts
//!   length-prefixed, [`AuditKey::chain`]). Without the key nobody can make a chain value,
//!   so an entry changed in the database and re-hashed breaks the chain at that entry.
//! * **1, plain** (entries written before): `SHA-256("jubao/audit/v1" ‖ prev ‖ canonical)`.
//!   Kept as they were, so an upgraded database still verifies. They may only lead the
//!   log: a plain entry after a keyed one is refused, and the first keyed entry's MAC covers
//!   the last plain value, so the plain part cannot be changed without breaking it. The plain
//!   part is as weak as it always was (someone who rewrote the whole log as plain entries
//!   would pass this walk): [`Verification::plain_entries`] says how long it is, and an
//!   anchor (`super::anchor`) taken since the upgrade is what pins it.
//!
//! `prev` of entry 1 is 32 zero bytes.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::anchor::Anchor;
use crate::store::Db;
use crate::vault::AuditKey;

/// Entries written before the keyed chain.
pub const PLAIN: i64 = 1;
/// Entries chained with the audit key (written by [`super::append`]).
pub const KEYED: i64 = 2;

pub(super) struct Row<'a> {
    pub seq: i64,
    pub at: &'a str,
    pub actor_id: Option<&'a str>,
    pub actor: &'a str,
    pub action: &'a str,
    pub outcome: &'a str,
    pub report_id: Option<&'a str>,
    pub detail: &'a str,
}

impl Row<'_> {
    fn canonical(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.seq.to_be_bytes());
        for part in [
            Some(self.at),
            self.actor_id,
            Some(self.actor),
            Some(self.action),
            Some(self.outcome),
            self.report_id,
            Some(self.detail),
        ] {
            match part {
                Some(s) => {
                    out.push(1);
                    out.extend_from_slice(&(s.len() as u64).to_be_bytes());
                    out.extend_from_slice(s.as_bytes());
                }
                None => out.push(0),
            }
        }
    }

    /// The keyed chain value (version 2).
    pub fn keyed(&self, key: &AuditKey, prev: &[u8]) -> [u8; 32] {
        key.chain(prev, &self.keyed_message())
    }

    fn keyed_message(&self) -> Vec<u8> {
        let mut m = b"jubao/audit/v2".to_vec();
        self.canonical(&mut m);
        m
    }

    /// The plain chain value (version 1, before the keyed chain).
    fn plain(&self, prev: &[u8]) -> [u8; 32] {
        let mut m = b"jubao/audit/v1".to_vec();
        m.extend_from_slice(prev);
        self.canonical(&mut m);
        Sha256::digest(&m).into()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub entries: i64,
    /// The first entry whose stored chain value, link, sequence or anchor does not check out.
    pub first_broken: Option<i64>,
    pub problem: Option<String>,
    /// How many leading entries predate the keyed chain (plain SHA-256; see the module docs).
    pub plain_entries: i64,
    /// Signed anchors the log was checked against (those stored, and one given).
    pub anchors: i64,
}

type StoredRow = (
    i64,
    String,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    String,
    Vec<u8>,
    Vec<u8>,
    i64,
);

/// Where a walk starts: after entry `seq - 1`, whose chain value is `prev`.
pub(super) struct Start {
    pub seq: i64,
    pub prev: Vec<u8>,
    /// Whether entry `seq - 1` is keyed (then no plain entry may follow).
    pub keyed: bool,
    /// The last entry to check.
    pub end: i64,
}

impl Start {
    pub fn origin() -> Self {
        Self {
            seq: 1,
            prev: vec![0u8; 32],
            keyed: false,
            end: i64::MAX,
        }
    }
}

pub(super) struct Walked {
    /// `(seq, problem)` of the first broken entry.
    pub broken: Option<(i64, String)>,
    pub last_seq: i64,
    pub last_chain: Vec<u8>,
    pub plain: i64,
    pub checked: i64,
}

/// Check entries from `start` to its end (or the end of the log), a page at a time;
/// entries that an anchor covers must still have the anchor's chain value.
pub(super) async fn walk(
    db: &Db,
    key: &AuditKey,
    start: Start,
    anchored: &BTreeMap<i64, (Vec<u8>, String)>,
    mut progress: impl FnMut(i64),
) -> anyhow::Result<Walked> {
    let mut w = Walked {
        broken: None,
        last_seq: start.seq - 1,
        last_chain: start.prev,
        plain: 0,
        checked: 0,
    };
    let mut keyed = start.keyed;
    loop {
        let rows: Vec<StoredRow> = sqlx::query_as(
            "SELECT seq, at, actor_id, actor, action, outcome, report_id, detail, prev_hash, \
             hash, chain_version FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq \
             LIMIT 1000",
        )
        .bind(w.last_seq)
        .bind(start.end)
        .fetch_all(&db.pool)
        .await?;
        if rows.is_empty() {
            return Ok(w);
        }
        for r in rows {
            let (seq, expected) = (r.0, w.last_seq + 1);
            if let Err(problem) = check(key, &r, expected, &w.last_chain, keyed, anchored) {
                w.broken = Some((seq.min(expected), problem));
                return Ok(w);
            }
            keyed = r.10 == KEYED;
            if !keyed {
                w.plain += 1;
            }
            w.last_seq = seq;
            w.last_chain = r.9;
            w.checked += 1;
        }
        progress(w.checked);
    }
}

/// One stored entry against the chain so far.
fn check(
    key: &AuditKey,
    r: &StoredRow,
    expected: i64,
    prev: &[u8],
    after_keyed: bool,
    anchored: &BTreeMap<i64, (Vec<u8>, String)>,
) -> Result<(), String> {
    let (seq, at, actor_id, actor, action, outcome, report_id, detail, prev_hash, hash, version) =
        r;
    if *seq != expected {
        return Err("an entry is missing before this one".into());
    }
    if prev_hash.as_slice() != prev {
        return Err("the link to the previous entry does not match".into());
    }
    let row = Row {
        seq: *seq,
        at,
        actor_id: actor_id.as_deref(),
        actor,
        action,
        outcome,
        report_id: report_id.as_deref(),
        detail,
    };
    let ok = match *version {
        KEYED => key.chain_matches(prev, &row.keyed_message(), hash),
        PLAIN if after_keyed => {
            return Err("the entry is chained without the key, after keyed entries".into())
        }
        PLAIN => row.plain(prev).as_slice() == hash.as_slice(),
        _ => return Err("the entry has an unknown chain version".into()),
    };
    if !ok {
        return Err("the entry's content does not match its chain value".into());
    }
    match anchored.get(seq) {
        Some((chain, at)) if chain != hash => Err(format!(
            "the entry's chain value differs from the one anchored at {at}"
        )),
        _ => Ok(()),
    }
}

/// Walk the whole chain, checked against every stored anchor and `given` (an anchor file);
/// `progress` gets the count checked and the total.
pub async fn verify(
    db: &Db,
    key: &AuditKey,
    given: Option<&Anchor>,
    mut progress: impl FnMut(i64, i64),
) -> anyhow::Result<Verification> {
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(&db.pool)
        .await?;
    let (head_seq, head_hash): (i64, Vec<u8>) =
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&db.pool)
            .await?;
    let mut v = Verification {
        entries: total,
        first_broken: None,
        problem: None,
        plain_entries: 0,
        anchors: 0,
    };
    let mut anchors = super::anchor::stored(db).await?;
    anchors.extend(given.cloned());
    // Anchors first: a forged or altered one says nothing about the log.
    let mut anchored = BTreeMap::new();
    for a in &anchors {
        if let Err(problem) = a.check(key) {
            v.first_broken = Some(a.seq);
            v.problem = Some(problem);
            return Ok(v);
        }
        if a.seq > 0 {
            anchored.insert(a.seq, (a.chain_bytes()?, a.at.clone()));
        }
    }
    v.anchors = anchors.len() as i64;
    let w = walk(db, key, Start::origin(), &anchored, |done| {
        progress(done, total)
    })
    .await?;
    v.plain_entries = w.plain;
    if let Some((seq, problem)) = w.broken {
        v.first_broken = Some(seq);
        v.problem = Some(problem);
        return Ok(v);
    }
    if let Some((seq, (_, at))) = anchored.range(w.last_seq + 1..).next() {
        v.first_broken = Some(w.last_seq + 1);
        v.problem = Some(format!(
            "the log ends at entry {}, but an anchor signed at {at} covers entry {seq} \
             (entries removed)",
            w.last_seq
        ));
        return Ok(v);
    }
    if w.last_seq != head_seq || (w.last_seq > 0 && w.last_chain != head_hash) {
        v.first_broken = Some(w.last_seq + 1);
        v.problem = Some("the chain ends before its recorded head (entries removed)".into());
    }
    Ok(v)
}
