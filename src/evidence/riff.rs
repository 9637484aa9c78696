//! WAV working copies: a new RIFF file with only the chunks a player needs.
//!
//! A WAV file is `RIFF`, a size, `WAVE`, then chunks (`id`, little-endian
//! size, data, a pad byte after odd sizes). Recorders put metadata in chunks
//! of their own: `LIST`/`INFO` (artist, software, dates, comments), `bext`
//! (broadcast originator and time), `iXML`, `id3 `/`ID3 `, `_PMX` (XMP),
//! `cart`, and more. Rather than chase that list, only `fmt `, `fact` and
//! `data` are copied and the RIFF size is written anew; WAV has no absolute
//! offsets, so nothing else changes. A `data` chunk whose size runs past the
//! end of the file (a recording that was cut off, or written as a stream with
//! an unknown size) is kept with the bytes that are there and its true size.

use super::Unsanitizable;

const KEPT: &[&[u8; 4]] = &[b"fmt ", b"fact", b"data"];

/// The working copy of a WAV file.
pub(super) fn sanitize(bytes: &[u8]) -> Result<Vec<u8>, Unsanitizable> {
    if bytes.get(..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WAVE") {
        return Err(Unsanitizable::UnknownLayout);
    }
    let mut out = b"RIFF\0\0\0\0WAVE".to_vec();
    let (mut fmt, mut data) = (false, false);
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let id: [u8; 4] = bytes[at..at + 4].try_into().unwrap_or_default();
        let size = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap_or_default());
        let start = at + 8;
        let declared_end = start.saturating_add(size as usize);
        let end = if declared_end > bytes.len() {
            if &id != b"data" {
                return Err(Unsanitizable::Unreadable);
            }
            bytes.len()
        } else {
            declared_end
        };
        if KEPT.contains(&&id) {
            fmt |= &id == b"fmt ";
            data |= &id == b"data";
            let len = u32::try_from(end - start).map_err(|_| Unsanitizable::Unreadable)?;
            out.extend_from_slice(&id);
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&bytes[start..end]);
            if len % 2 == 1 {
                out.push(0);
            }
        }
        at = end + (end - start) % 2;
    }
    if !(fmt && data) {
        return Err(Unsanitizable::Unreadable);
    }
    let riff_size = u32::try_from(out.len() - 8).map_err(|_| Unsanitizable::Unreadable)?;
    out[4..8].copy_from_slice(&riff_size.to_le_bytes());
    Ok(out)
}
