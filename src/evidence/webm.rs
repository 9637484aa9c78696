//! WebM working copies: metadata elements overwritten in place.
//!
//! WebM is Matroska, a tree of EBML elements (a variable-length ID, a
//! variable-length size, content). Browsers recording with MediaRecorder,
//! phones and editors put metadata in `Tags` (free-form `TagName`/`TagString`
//! pairs), `Attachments` (cover pictures, any file), `Chapters` (titles), and
//! in `Info` (`Title`, `DateUTC`, `MuxingApp`, `WritingApp`) and track `Name`s.
//!
//! As with MP4 `free` boxes, nothing moves: whole elements become `Void`
//! elements (ID `0xEC`) of the same length with zeroed content, and the
//! string elements that the format requires (`MuxingApp`, `WritingApp`) or
//! that sit among track fields (`Name`) keep their place but have their text
//! zeroed, which Matroska reads as an empty string. `SeekHead` entries that
//! pointed at `Tags` now point at a `Void`, which players skip.
//!
//! Live recordings often leave the `Segment` and its `Cluster`s with an
//! unknown size; such a cluster ends at the first element that cannot be in
//! a cluster. Any other element of unknown size holds the file sealed.

use super::Unsanitizable;

const BAD: Unsanitizable = Unsanitizable::Unreadable;

const EBML: u32 = 0x1A45_DFA3;
const SEGMENT: u32 = 0x1853_8067;
const CLUSTER: u32 = 0x1F43_B675;
const INFO: u32 = 0x1549_A966;
const TRACKS: u32 = 0x1654_AE6B;
const TRACK_ENTRY: u32 = 0xAE;
const VOID: u32 = 0xEC;
const CRC32: u32 = 0xBF;

/// Segment children that go whole.
const VOIDED: &[u32] = &[
    0x1254_C367, // Tags
    0x1941_A469, // Attachments
    0x1043_A770, // Chapters
];
/// Info children that go whole: Title, DateUTC.
const VOIDED_IN_INFO: &[u32] = &[0x7BA9, 0x4461];
/// Strings emptied in place: MuxingApp, WritingApp (Info), Name (TrackEntry).
const EMPTIED: &[u32] = &[0x4D80, 0x5741, 0x536E];
/// What may follow inside a cluster of unknown size: Timestamp, SimpleBlock,
/// BlockGroup, Position, PrevSize, SilentTracks, EncryptedBlock, Void, CRC-32.
const IN_CLUSTER: &[u32] = &[0xE7, 0xA3, 0xA0, 0xA7, 0xAB, 0x5854, 0xAF, VOID, CRC32];

/// One element: its ID, where it starts, where its content starts and ends
/// (`None`: unknown size).
struct Element {
    id: u32,
    start: usize,
    body: usize,
    end: Option<usize>,
}

/// The working copy of a WebM file.
pub(super) fn sanitize(bytes: &[u8]) -> Result<Vec<u8>, Unsanitizable> {
    let mut out = bytes.to_vec();
    let mut at = 0;
    let mut segments = 0;
    while at < bytes.len() {
        let e = element(bytes, at, bytes.len())?;
        let end = match e.id {
            EBML | VOID => e.end.ok_or(BAD)?,
            SEGMENT => {
                segments += 1;
                let end = e.end.unwrap_or(bytes.len());
                segment(bytes, &mut out, e.body, end)?;
                end
            }
            _ => return Err(Unsanitizable::UnknownLayout),
        };
        at = end;
    }
    if segments == 0 {
        return Err(BAD);
    }
    Ok(out)
}

fn segment(bytes: &[u8], out: &mut [u8], from: usize, to: usize) -> Result<(), Unsanitizable> {
    let mut at = from;
    while at < to {
        let e = element(bytes, at, to)?;
        if e.id == CLUSTER && e.end.is_none() {
            at = unknown_size_cluster_end(bytes, e.body, to)?;
            continue;
        }
        let end = e.end.ok_or(Unsanitizable::UnknownLayout)?;
        match e.id {
            id if VOIDED.contains(&id) => make_void(out, e.start, end),
            INFO => {
                for child in elements(bytes, e.body, end)? {
                    let child_end = child.end.ok_or(BAD)?;
                    if VOIDED_IN_INFO.contains(&child.id) {
                        make_void(out, child.start, child_end);
                    } else if EMPTIED.contains(&child.id) {
                        out[child.body..child_end].fill(0);
                    }
                }
            }
            TRACKS => {
                for entry in elements(bytes, e.body, end)? {
                    if entry.id != TRACK_ENTRY {
                        continue;
                    }
                    for field in elements(bytes, entry.body, entry.end.ok_or(BAD)?)? {
                        if EMPTIED.contains(&field.id) {
                            out[field.body..field.end.ok_or(BAD)?].fill(0);
                        }
                    }
                }
            }
            _ => {}
        }
        at = end;
    }
    Ok(())
}

/// Where a cluster of unknown size ends: at the first element that is not a
/// cluster child, or at the end of the segment.
fn unknown_size_cluster_end(bytes: &[u8], from: usize, to: usize) -> Result<usize, Unsanitizable> {
    let mut at = from;
    while at < to {
        let e = element(bytes, at, to)?;
        if !IN_CLUSTER.contains(&e.id) {
            return Ok(at);
        }
        at = e.end.ok_or(Unsanitizable::UnknownLayout)?;
    }
    Ok(to)
}

/// The elements directly inside `bytes[from..to]`, all of known size.
fn elements(bytes: &[u8], from: usize, to: usize) -> Result<Vec<Element>, Unsanitizable> {
    let mut found = Vec::new();
    let mut at = from;
    while at < to {
        let e = element(bytes, at, to)?;
        at = e.end.ok_or(Unsanitizable::UnknownLayout)?;
        found.push(e);
    }
    Ok(found)
}

/// The element header at `at`; its content must end by `limit`.
fn element(bytes: &[u8], at: usize, limit: usize) -> Result<Element, Unsanitizable> {
    let (id_len, id) = vint(bytes, at, 4, true)?;
    let (size_len, size) = vint(bytes, at + id_len, 8, false)?;
    let body = at + id_len + size_len;
    let unknown = size == (1u64 << (7 * size_len)) - 1;
    let end = if unknown {
        None
    } else {
        let end = usize::try_from(size)
            .ok()
            .and_then(|s| body.checked_add(s))
            .ok_or(BAD)?;
        Some(end)
    };
    if body > limit || end.is_some_and(|e| e > limit) {
        return Err(BAD);
    }
    Ok(Element {
        id: u32::try_from(id).map_err(|_| BAD)?,
        start: at,
        body,
        end,
    })
}

/// An EBML variable-length integer of at most `max` bytes: its length and
/// value, with the length marker kept (element IDs) or removed (sizes).
fn vint(
    bytes: &[u8],
    at: usize,
    max: usize,
    keep_marker: bool,
) -> Result<(usize, u64), Unsanitizable> {
    let first = *bytes.get(at).ok_or(BAD)?;
    let len = first.leading_zeros() as usize + 1;
    if len > max {
        return Err(BAD);
    }
    let raw = bytes.get(at..at + len).ok_or(BAD)?;
    let mut value = raw.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b));
    if !keep_marker {
        value &= (1u64 << (7 * len)) - 1;
    }
    Ok((len, value))
}

/// Overwrites `out[start..end]` with a `Void` element of the same length.
fn make_void(out: &mut [u8], start: usize, end: usize) {
    let total = end - start;
    out[start..end].fill(0);
    out[start] = 0xEC;
    if total >= 9 {
        // An 8-byte size: marker byte 0x01, then the content length.
        let content = (total - 9) as u64;
        out[start + 1..start + 9].copy_from_slice(&(content | (1u64 << 56)).to_be_bytes());
    } else {
        // Every voided element has at least a 1-byte ID and a 1-byte size.
        out[start + 1] = 0x80 | (total - 2) as u8;
    }
}
