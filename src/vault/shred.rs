//! Crypto-shredding (issue 19, DOMAIN §8): per-case data keys that a purge destroys so that
//! old backups forget the case too.
//!
//! Each case has two data keys (`case_keys`): `identity` seals its identity fields and
//! evidence originals, `sanitized` its working copies. A case key is wrapped under a *day
//! key* of a one-way chain: `value(d + 1) = HMAC(value(d), "next")`. Every instance keeps
//! the chain value of one day, the chain's *epoch*, in its shred key file (`[keys]
//! shred_key_file`), never in the database; from it the day keys of that day and every
//! later day can be computed, and those of earlier days cannot. A case key wrapped for day
//! `e` (its `epoch`) opens until the chain moves past `e`.
//!
//! The retention run (`jubao retention run`, daily) moves the chain to today, after it has
//! purged every case whose key would otherwise stop opening and re-wrapped the keys of the
//! others for a later day; then each instance overwrites its key file with today's value.
//! A backup copy of the database holds the case keys as they were wrapped then: once the
//! chain has moved past their epoch, the current key file cannot open them, so a case
//! purged since is gone from the backup too. New keys are wrapped for today plus
//! `[retention] key_horizon_days`, so a backup forgets a purged case at most that many
//! days after the later of the purge and the backup.
//!
//! The day key also mixes in a key derived from the master key, so the shred key file
//! alone opens nothing.

use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::Instant;

use anyhow::{anyhow, bail, Context};
use base64::Engine;
use chrono::{Days, NaiveDate};

use super::crypto::{self, SecretKey};
use super::ACTIVE_KEY_TTL;
use crate::store::Db;

/// The key id written in values sealed under a case key (data keys start at 1).
pub const CASE_KEY_ID: u32 = 0;

/// How far ahead a day key may be computed (40 years of HMAC steps: a few milliseconds).
const MAX_AHEAD_DAYS: i64 = 40 * 366;

const FILE_TAG: &str = "jubao-shred-v1";

/// Which of a case's two keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseKeyKind {
    /// Identity fields, chat and call identifiers' sealed forms, evidence originals.
    Identity,
    /// Sanitized evidence (working copies).
    Sanitized,
}

impl CaseKeyKind {
    pub const ALL: [CaseKeyKind; 2] = [CaseKeyKind::Identity, CaseKeyKind::Sanitized];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseKeyKind::Identity => "identity",
            CaseKeyKind::Sanitized => "sanitized",
        }
    }

    /// The key an evidence variant is sealed under.
    pub fn for_variant(variant: &str) -> Self {
        if variant == "working" {
            CaseKeyKind::Sanitized
        } else {
            CaseKeyKind::Identity
        }
    }
}

/// A new case key's row, written in the transaction that stores what it seals.
#[derive(Clone)]
pub struct CaseKeyRow {
    pub report_id: String,
    pub kind: CaseKeyKind,
    pub epoch: String,
    pub wrapped: Vec<u8>,
}

/// Why a case key does not open.
#[derive(Debug, thiserror::Error)]
pub enum ShredError {
    #[error("the case's {0} key was destroyed by a purge")]
    Shredded(&'static str),
    #[error("the case's {0} key is wrapped for a day the shred chain has passed")]
    Passed(&'static str),
}

struct Chain {
    day: NaiveDate,
    value: SecretKey,
    checked: Instant,
    /// The day key last derived (every new case wraps for the same day, today plus the
    /// horizon: deriving it walks the chain that many steps). Never one the chain passed.
    recent: Option<(NaiveDate, SecretKey)>,
}

impl Chain {
    /// The chain now stands at `day`: a remembered day key it passed is forgotten.
    fn move_to(&mut self, day: NaiveDate, value: SecretKey) {
        self.day = day;
        self.value = value;
        self.checked = Instant::now();
        if self.recent.as_ref().is_some_and(|(d, _)| *d < day) {
            self.recent = None;
        }
    }
}

fn next(value: &SecretKey) -> SecretKey {
    SecretKey::from_slice(&crypto::keyed_digest(value, &[b"jubao/shred/next/v1"]))
        .expect("32 bytes")
}

fn check_value(value: &SecretKey) -> Vec<u8> {
    crypto::keyed_digest(value, &[b"jubao/shred/check/v1"]).to_vec()
}

fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn parse_day(s: &str) -> anyhow::Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").with_context(|| format!("bad shred epoch {s:?}"))
}

/// The chain value of `to`, from the value of `from` (not before it).
fn forward(from: NaiveDate, value: &SecretKey, to: NaiveDate) -> anyhow::Result<SecretKey> {
    let steps = (to - from).num_days();
    if steps < 0 {
        bail!("the shred chain cannot go back from {from} to {to}");
    }
    if steps > MAX_AHEAD_DAYS {
        bail!("{to} is too far ahead of the shred chain ({from})");
    }
    let mut v = value.clone();
    for _ in 0..steps {
        v = next(&v);
    }
    Ok(v)
}

fn case_key_aad(report_id: &str, kind: CaseKeyKind, epoch: &str) -> Vec<u8> {
    format!("jubao/case-key/v1|{report_id}|{}|{epoch}", kind.as_str()).into_bytes()
}

/// The shred chain of one instance: its key file and the chain value it holds.
pub struct Shredder {
    path: PathBuf,
    wrap: SecretKey,
    horizon_days: u32,
    chain: RwLock<Chain>,
}

fn read_file(path: &Path) -> anyhow::Result<Option<(NaiveDate, SecretKey)>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let mut parts = text.split_whitespace();
    let (Some(FILE_TAG), Some(day), Some(b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        bail!("{} is not a shred key file", path.display());
    };
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| anyhow!("{} is not a shred key file", path.display()))?;
    let value = SecretKey::from_slice(&raw)
        .ok_or_else(|| anyhow!("{} is not a shred key file", path.display()))?;
    Ok(Some((parse_day(day)?, value)))
}

/// Replace the key file with the value of `day` (written beside it, then renamed over it,
/// so the old value is not left in the file).
fn write_file(path: &Path, day: NaiveDate, value: &SecretKey) -> anyhow::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("next");
    let _ = std::fs::remove_file(&tmp);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    let b64 = base64::engine::general_purpose::STANDARD.encode(value.as_bytes());
    writeln!(f, "{FILE_TAG} {} {b64}", day_text(day))?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

impl Shredder {
    /// Open the chain of `path` against the database: create both on a new installation,
    /// refuse a key file that does not belong to this database, move a file that is behind
    /// the database forward, and move the database forward to a file that is ahead of it
    /// (a restored backup: what the chain has passed since stays unreadable).
    pub async fn open(
        db: &Db,
        master: &SecretKey,
        path: &Path,
        horizon_days: u32,
    ) -> anyhow::Result<Self> {
        let today = jubao_rules::calendar::shanghai_date(db.now());
        let row = Self::state(db).await?;
        let file = read_file(path)?;
        let (day, value) = match (row, file) {
            (None, file) => {
                let (day, value) = match file {
                    Some(f) => f,
                    None => {
                        let v = SecretKey::generate();
                        write_file(path, today, &v)?;
                        (today, v)
                    }
                };
                sqlx::query(
                    "INSERT INTO shred_state (id, epoch, check_value) VALUES (1, $1, $2) \
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(day_text(day))
                .bind(check_value(&value))
                .execute(&db.pool)
                .await?;
                let (epoch, check) = Self::state(db)
                    .await?
                    .ok_or_else(|| anyhow!("shred_state missing"))?;
                if epoch != day || check != check_value(&value) {
                    bail!(
                        "{} does not belong to this database (another instance created its \
                         shred chain): copy that instance's file here",
                        path.display()
                    );
                }
                (day, value)
            }
            (Some((epoch, _)), None) => bail!(
                "{} is missing: this database's case keys are wrapped by the shred chain \
                 started on another instance (day {epoch}); copy its shred key file here",
                path.display()
            ),
            (Some((epoch, check)), Some((day, value))) if day <= epoch => {
                let at = forward(day, &value, epoch)?;
                if check_value(&at) != check {
                    bail!(
                        "{} does not belong to this database (its chain does not reach the \
                         database's day {epoch})",
                        path.display()
                    );
                }
                if day < epoch {
                    write_file(path, epoch, &at)?;
                }
                (epoch, at)
            }
            (Some((epoch, _)), Some((day, value))) => {
                tracing::warn!(
                    database = %epoch, file = %day,
                    "the shred key file is ahead of the database (a restored backup?): \
                     what the chain has passed stays unreadable"
                );
                sqlx::query("UPDATE shred_state SET epoch = $1, check_value = $2 WHERE id = 1")
                    .bind(day_text(day))
                    .bind(check_value(&value))
                    .execute(&db.pool)
                    .await?;
                (day, value)
            }
        };
        Ok(Self {
            path: path.to_path_buf(),
            wrap: master.derive("case-key-wrap"),
            horizon_days,
            chain: RwLock::new(Chain {
                day,
                value,
                checked: Instant::now(),
                recent: None,
            }),
        })
    }

    async fn state(db: &Db) -> anyhow::Result<Option<(NaiveDate, Vec<u8>)>> {
        let row: Option<(String, Vec<u8>)> =
            sqlx::query_as("SELECT epoch, check_value FROM shred_state WHERE id = 1")
                .fetch_optional(&db.pool)
                .await?;
        row.map(|(e, c)| Ok((parse_day(&e)?, c))).transpose()
    }

    /// The chain's day as this instance holds it.
    pub fn epoch(&self) -> anyhow::Result<NaiveDate> {
        Ok(self.read()?.day)
    }

    pub fn horizon_days(&self) -> u32 {
        self.horizon_days
    }

    fn read(&self) -> anyhow::Result<std::sync::RwLockReadGuard<'_, Chain>> {
        self.chain
            .read()
            .map_err(|_| anyhow!("shred chain lock poisoned"))
    }

    /// Follow the database when another instance moved the chain (checked every
    /// [`ACTIVE_KEY_TTL`]).
    async fn follow(&self, db: &Db) -> anyhow::Result<()> {
        if self.read()?.checked.elapsed() <= ACTIVE_KEY_TTL {
            return Ok(());
        }
        let Some((epoch, check)) = Self::state(db).await? else {
            return Ok(());
        };
        let mut chain = self
            .chain
            .write()
            .map_err(|_| anyhow!("shred chain lock poisoned"))?;
        chain.checked = Instant::now();
        if epoch > chain.day {
            let at = forward(chain.day, &chain.value, epoch)?;
            if check_value(&at) != check {
                bail!("the database's shred chain does not follow this instance's key file");
            }
            write_file(&self.path, epoch, &at)?;
            chain.move_to(epoch, at);
        }
        Ok(())
    }

    fn day_key(&self, epoch: NaiveDate) -> anyhow::Result<Option<SecretKey>> {
        let v = {
            let chain = self.read()?;
            if epoch < chain.day {
                return Ok(None);
            }
            if let Some((d, k)) = &chain.recent {
                if *d == epoch {
                    return Ok(Some(k.clone()));
                }
            }
            forward(chain.day, &chain.value, epoch)?
        };
        let k = crypto::keyed_digest(&self.wrap, &[v.as_bytes(), day_text(epoch).as_bytes()]);
        let key = SecretKey::from_slice(&k).expect("32 bytes");
        let mut chain = self
            .chain
            .write()
            .map_err(|_| anyhow!("shred chain lock poisoned"))?;
        // Remembered only if the chain has not moved past it meanwhile.
        if chain.day <= epoch {
            chain.recent = Some((epoch, key.clone()));
        }
        Ok(Some(key))
    }

    /// Wrap `key` of `report_id` for `epoch`.
    pub fn wrap(
        &self,
        report_id: &str,
        kind: CaseKeyKind,
        epoch: NaiveDate,
        key: &SecretKey,
    ) -> anyhow::Result<CaseKeyRow> {
        let day_key = self.day_key(epoch)?.ok_or_else(|| {
            anyhow!("cannot wrap a case key for {epoch}: the chain has passed it")
        })?;
        let e = day_text(epoch);
        Ok(CaseKeyRow {
            report_id: report_id.to_string(),
            kind,
            wrapped: crypto::seal(
                &day_key,
                0,
                &case_key_aad(report_id, kind, &e),
                key.as_bytes(),
            ),
            epoch: e,
        })
    }

    /// The epoch of a new case key created on `today`.
    pub fn new_epoch(&self, today: NaiveDate) -> NaiveDate {
        today + Days::new(u64::from(self.horizon_days))
    }

    /// Open a wrapped case key (`wrapped` is `None` once shredded).
    pub async fn unwrap(
        &self,
        db: &Db,
        report_id: &str,
        kind: CaseKeyKind,
        epoch: &str,
        wrapped: Option<&[u8]>,
    ) -> anyhow::Result<SecretKey> {
        let wrapped = wrapped.ok_or(ShredError::Shredded(kind.as_str()))?;
        self.follow(db).await?;
        let day_key = self
            .day_key(parse_day(epoch)?)?
            .ok_or(ShredError::Passed(kind.as_str()))?;
        let raw = crypto::open(&day_key, &case_key_aad(report_id, kind, epoch), wrapped)
            .map_err(|e| anyhow!("opening the case's {} key: {e}", kind.as_str()))?;
        SecretKey::from_slice(&raw).ok_or_else(|| anyhow!("case key size"))
    }

    /// Move the chain to `to`: refused while a live case key is wrapped for an earlier day
    /// (it would stop opening). The database first, then this instance's key file; the
    /// others follow within [`ACTIVE_KEY_TTL`] of their next use.
    pub async fn advance(&self, db: &Db, to: NaiveDate) -> anyhow::Result<bool> {
        self.follow(db).await?;
        let (from, at) = {
            let chain = self.read()?;
            if to <= chain.day {
                return Ok(false);
            }
            (chain.day, forward(chain.day, &chain.value, to)?)
        };
        let left: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM case_keys WHERE wrapped IS NOT NULL AND epoch < $1",
        )
        .bind(day_text(to))
        .fetch_one(&db.pool)
        .await?;
        if left > 0 {
            bail!("{left} live case keys are wrapped for a day before {to}: not moving the chain");
        }
        let moved = sqlx::query(
            "UPDATE shred_state SET epoch = $1, check_value = $2 WHERE id = 1 AND epoch = $3",
        )
        .bind(day_text(to))
        .bind(check_value(&at))
        .bind(day_text(from))
        .execute(&db.pool)
        .await?
        .rows_affected();
        if moved == 0 {
            // Another instance moved it: follow at once.
            self.chain
                .write()
                .map_err(|_| anyhow!("shred chain lock poisoned"))?
                .checked = Instant::now() - ACTIVE_KEY_TTL * 2;
            self.follow(db).await?;
            return Ok(false);
        }
        write_file(&self.path, to, &at)?;
        let mut chain = self
            .chain
            .write()
            .map_err(|_| anyhow!("shred chain lock poisoned"))?;
        chain.move_to(to, at);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_goes_forward_only() {
        let v = SecretKey::generate();
        let d = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let d2 = d + Days::new(2);
        let at2 = forward(d, &v, d2).unwrap();
        assert_eq!(at2.as_bytes(), next(&next(&v)).as_bytes());
        assert!(forward(d2, &at2, d).is_err());
        assert_ne!(at2.as_bytes(), v.as_bytes());
    }

    #[test]
    fn the_file_round_trips_and_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shred.key");
        let v = SecretKey::generate();
        let d = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        write_file(&path, d, &v).unwrap();
        let w = next(&v);
        write_file(&path, d + Days::new(1), &w).unwrap();
        let (day, got) = read_file(&path).unwrap().unwrap();
        assert_eq!(day, d + Days::new(1));
        assert_eq!(got.as_bytes(), w.as_bytes());
        let text = std::fs::read_to_string(&path).unwrap();
        let old = base64::engine::general_purpose::STANDARD.encode(v.as_bytes());
        assert!(!text.contains(&old));
    }

    /// The remembered day key is the one the chain derives, and is forgotten once the
    /// chain passes its day.
    #[test]
    fn the_remembered_day_key_is_the_chains_and_goes_when_passed() {
        let v = SecretKey::generate();
        let d = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let s = Shredder {
            path: PathBuf::from("unused"),
            wrap: SecretKey::generate(),
            horizon_days: 30,
            chain: RwLock::new(Chain {
                day: d,
                value: v.clone(),
                checked: Instant::now(),
                recent: None,
            }),
        };
        let e = d + Days::new(30);
        let walked = forward(d, &v, e).unwrap();
        let want = crypto::keyed_digest(&s.wrap, &[walked.as_bytes(), day_text(e).as_bytes()]);
        assert_eq!(s.day_key(e).unwrap().unwrap().as_bytes(), &want);
        assert!(s.read().unwrap().recent.is_some());
        assert_eq!(s.day_key(e).unwrap().unwrap().as_bytes(), &want);
        let later = e + Days::new(1);
        s.chain
            .write()
            .unwrap()
            .move_to(later, forward(d, &v, later).unwrap());
        assert!(s.read().unwrap().recent.is_none());
        assert!(s.day_key(e).unwrap().is_none());
    }
}
