//! The master key kept by several custodians: split into `n` shares of which any `k`
//! rebuild it and fewer reveal nothing (Shamir's secret sharing over GF(256), the `sharks`
//! crate). Each share is one line of text to write on paper:
//!
//! ```text
//! jubao-share v1 k=3 n=5 x=2 key=1a2b3c4d data=02f3-a1b2-…-9c check=7e41
//! ```
//!
//! - `k`, `n`: the threshold and the number of shares made; `x`: this share's number;
//! - `key`: the first 4 bytes of a digest derived from the key (the same on every share of
//!   one key, and nothing about the key can be learnt from it), so shares of two keys are not
//!   mixed and the rebuilt key is known to be the right one;
//! - `data`: the share itself (its `x`, then one byte per key byte), hex in groups of four;
//! - `check`: the first 2 bytes of SHA-256 of the fields before it, so a miscopied character
//!   is caught on that share, before anything is combined.

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::crypto::{SecretKey, KEY_LEN};

const PREFIX: &str = "jubao-share";
const VERSION: &str = "v1";

/// Why shares could not be made or combined. Never holds a share's data.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EscrowError {
    #[error("the threshold must be at least 2 and at most the number of shares (at most 255): got {threshold} of {count}")]
    Parameters { count: usize, threshold: usize },
    #[error("share {line}: not a jubao share line ({what})")]
    Malformed { line: usize, what: &'static str },
    #[error("share {line}: its check does not match: a character was miscopied")]
    Miscopied { line: usize },
    #[error(
        "share {line}: it belongs to another split (threshold, count or key differ from share 1)"
    )]
    Mixed { line: usize },
    #[error("share {line}: share number {x} is given twice")]
    Duplicate { line: usize, x: u8 },
    #[error("{need} shares are needed, {got} given")]
    TooFew { need: usize, got: usize },
    #[error(
        "the shares do not rebuild the key (its check differs): one of them is not of this key"
    )]
    WrongKey,
}

/// The key's check value printed on its shares: 4 bytes of a purpose-derived sub-key.
pub fn key_check(key: &SecretKey) -> [u8; 4] {
    let d = key.derive("escrow-key-check");
    let mut out = [0u8; 4];
    out.copy_from_slice(&d.as_bytes()[..4]);
    out
}

/// Split `key` into `count` share lines, any `threshold` of which rebuild it.
pub fn split(key: &SecretKey, count: usize, threshold: usize) -> Result<Vec<String>, EscrowError> {
    if threshold < 2 || threshold > count || count > 255 {
        return Err(EscrowError::Parameters { count, threshold });
    }
    let check = hex(&key_check(key));
    let dealer = sharks::Sharks(threshold as u8).dealer(key.as_bytes());
    Ok(dealer
        .take(count)
        .map(|share| {
            let bytes = Zeroizing::new(Vec::<u8>::from(&share));
            format_line(threshold, count, bytes[0], &check, &bytes)
        })
        .collect())
}

fn format_line(k: usize, n: usize, x: u8, key: &str, data: &[u8]) -> String {
    let grouped = grouped_hex(data);
    let head = format!("{PREFIX} {VERSION} k={k} n={n} x={x} key={key} data={grouped}");
    let check = hex(&Sha256::digest(canonical(k, n, x, key, &hex(data)).as_bytes())[..2]);
    format!("{head} check={check}")
}

/// What the check covers: the fields without the grouping of the data.
fn canonical(k: usize, n: usize, x: u8, key: &str, data_hex: &str) -> String {
    format!("{VERSION}|{k}|{n}|{x}|{key}|{data_hex}")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|v| format!("{v:02x}")).collect()
}

fn grouped_hex(b: &[u8]) -> String {
    let h = hex(b);
    let groups: Vec<&str> = h
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    groups.join("-")
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// One share line, read and checked on its own.
#[derive(Debug)]
struct Parsed {
    k: usize,
    n: usize,
    x: u8,
    key: String,
    data: Zeroizing<Vec<u8>>,
}

fn parse_line(line_no: usize, text: &str) -> Result<Parsed, EscrowError> {
    let bad = |what| EscrowError::Malformed {
        line: line_no,
        what,
    };
    let mut words = text.split_whitespace();
    if words.next() != Some(PREFIX) {
        return Err(bad("it does not start with jubao-share"));
    }
    if words.next() != Some(VERSION) {
        return Err(bad("unknown version"));
    }
    let mut field = |name: &str, what| {
        words
            .next()
            .and_then(|w| w.strip_prefix(name))
            .and_then(|w| w.strip_prefix('='))
            .map(str::to_ascii_lowercase)
            .ok_or_else(|| bad(what))
    };
    let k: usize = field("k", "no k=")?
        .parse()
        .map_err(|_| bad("k= is not a number"))?;
    let n: usize = field("n", "no n=")?
        .parse()
        .map_err(|_| bad("n= is not a number"))?;
    let x: u8 = field("x", "no x=")?
        .parse()
        .map_err(|_| bad("x= is not a number"))?;
    let key = field("key", "no key=")?;
    let data_hex = field("data", "no data=")?.replace('-', "");
    let check = field("check", "no check=")?;
    if words.next().is_some() {
        return Err(bad("text after check="));
    }
    let data = Zeroizing::new(unhex(&data_hex).ok_or_else(|| bad("data= is not hex"))?);
    if key.len() != 8 || unhex(&key).is_none() {
        return Err(bad("key= is not 8 hex digits"));
    }
    let want = hex(&Sha256::digest(canonical(k, n, x, &key, &data_hex).as_bytes())[..2]);
    if check != want {
        return Err(EscrowError::Miscopied { line: line_no });
    }
    if data.len() != KEY_LEN + 1 || data[0] != x || x == 0 || k < 2 || k > n {
        return Err(bad("its numbers do not fit together"));
    }
    Ok(Parsed { k, n, x, key, data })
}

/// Rebuild the key from share lines (blank lines are skipped); shares are numbered from 1 in
/// the order given, for the errors.
pub fn combine<S: AsRef<str>>(lines: &[S]) -> Result<SecretKey, EscrowError> {
    let mut shares: Vec<Parsed> = Vec::new();
    let texts = lines
        .iter()
        .map(AsRef::as_ref)
        .filter(|l| !l.trim().is_empty());
    for (i, text) in texts.enumerate() {
        let p = parse_line(i + 1, text)?;
        if let Some(first) = shares.first() {
            if (p.k, p.n, &p.key) != (first.k, first.n, &first.key) {
                return Err(EscrowError::Mixed { line: i + 1 });
            }
        }
        if shares.iter().any(|s| s.x == p.x) {
            return Err(EscrowError::Duplicate {
                line: i + 1,
                x: p.x,
            });
        }
        shares.push(p);
    }
    let need = shares.first().map_or(2, |s| s.k);
    if shares.len() < need {
        return Err(EscrowError::TooFew {
            need,
            got: shares.len(),
        });
    }
    let parsed: Vec<sharks::Share> = shares
        .iter()
        .map(|s| sharks::Share::try_from(s.data.as_slice()))
        .collect::<Result<_, _>>()
        .map_err(|_| EscrowError::WrongKey)?;
    let secret = Zeroizing::new(
        sharks::Sharks(need as u8)
            .recover(parsed.iter())
            .map_err(|_| EscrowError::WrongKey)?,
    );
    let key = SecretKey::from_slice(&secret).ok_or(EscrowError::WrongKey)?;
    if hex(&key_check(&key)) != shares[0].key {
        return Err(EscrowError::WrongKey);
    }
    Ok(key)
}

#[cfg(test)]
#[path = "escrow_tests.rs"]
mod tests;
