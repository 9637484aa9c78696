//! MP3 and ADTS AAC working copies: the audio frames without the tags around them.
//!
//! Both formats are a plain sequence of audio frames; all metadata sits in
//! tags glued to the front or the back of the stream:
//!
//! * ID3v2 at the start (`ID3`, version, flags, a 28-bit "syncsafe" size,
//!   10 more bytes when the footer flag is set), sometimes more than one, and
//!   appended ID3v2 at the end (found by its `3DI` footer);
//! * ID3v1 in the last 128 bytes (`TAG`), with the 227-byte "enhanced" block
//!   (`TAG+`) before it;
//! * APEv1/v2 (`APETAGEX` footer of 32 bytes, optional header) and Lyrics3v2
//!   (`LYRICSBEGIN` ... size, `LYRICS200`) before ID3v1.
//!
//! These are cut off until none is left. What remains must start with an
//! audio frame sync (after at most some zero padding); anything else there is
//! an unknown layout and the file is held sealed.

use super::Unsanitizable;

/// How much zero padding may sit between the tags and the first frame.
const MAX_PADDING: usize = 64 * 1024;

/// The working copy of an MP3 or ADTS AAC file.
pub(super) fn sanitize(bytes: &[u8]) -> Result<Vec<u8>, Unsanitizable> {
    let mut audio = bytes;
    while let Some(len) = id3v2_at_start(audio)? {
        audio = &audio[len..];
    }
    let padding = audio
        .iter()
        .take(MAX_PADDING)
        .take_while(|&&b| b == 0)
        .count();
    audio = &audio[padding..];
    while let Some(len) = tag_at_end(audio)? {
        audio = &audio[..audio.len() - len];
    }
    // 11 sync bits: MPEG audio frame header or ADTS header.
    match audio {
        [0xFF, b, ..] if b & 0xE0 == 0xE0 => Ok(audio.to_vec()),
        _ => Err(Unsanitizable::UnknownLayout),
    }
}

/// The length of an ID3v2 tag at the start of `audio`, footer included.
fn id3v2_at_start(audio: &[u8]) -> Result<Option<usize>, Unsanitizable> {
    if !audio.starts_with(b"ID3") {
        return Ok(None);
    }
    let header = audio.get(..10).ok_or(Unsanitizable::Unreadable)?;
    let len = id3v2_len(header)?;
    if len > audio.len() {
        return Err(Unsanitizable::Unreadable);
    }
    Ok(Some(len))
}

/// Total length of an ID3v2 tag from its 10-byte header or footer.
fn id3v2_len(header: &[u8]) -> Result<usize, Unsanitizable> {
    let size = &header[6..10];
    if size.iter().any(|b| b & 0x80 != 0) {
        return Err(Unsanitizable::Unreadable);
    }
    let body = size
        .iter()
        .fold(0usize, |acc, &b| (acc << 7) | usize::from(b));
    let footer = if header[5] & 0x10 != 0 { 10 } else { 0 };
    Ok(10 + body + footer)
}

/// The length of the tag that ends `audio`, if one does.
fn tag_at_end(audio: &[u8]) -> Result<Option<usize>, Unsanitizable> {
    let len = audio.len();
    let tail = |n: usize| audio.get(len.checked_sub(n)?..);
    if let Some(v1) = tail(128).filter(|t| t.starts_with(b"TAG")) {
        let enhanced = audio
            .get(..len - v1.len())
            .and_then(|rest| rest.get(rest.len().checked_sub(227)?..))
            .is_some_and(|t| t.starts_with(b"TAG+"));
        return Ok(Some(if enhanced { 128 + 227 } else { 128 }));
    }
    if let Some(footer) = tail(32).filter(|t| t.starts_with(b"APETAGEX")) {
        let size = u32::from_le_bytes(footer[12..16].try_into().unwrap_or_default()) as usize;
        let flags = u32::from_le_bytes(footer[20..24].try_into().unwrap_or_default());
        let header = if flags & 0x8000_0000 != 0 { 32 } else { 0 };
        let total = size.checked_add(header).ok_or(Unsanitizable::Unreadable)?;
        // APEv1 sizes leave out the footer; v2 counts it. Both end here.
        let total = total.max(32);
        return within(total, len).map(Some);
    }
    if let Some(footer) = tail(15).filter(|t| t.ends_with(b"LYRICS200")) {
        let digits = std::str::from_utf8(&footer[..6]).map_err(|_| Unsanitizable::Unreadable)?;
        let size: usize = digits.parse().map_err(|_| Unsanitizable::Unreadable)?;
        return within(size + 15, len).map(Some);
    }
    if let Some(footer) = tail(10).filter(|t| t.starts_with(b"3DI")) {
        return within(id3v2_len(footer)?, len).map(Some);
    }
    Ok(None)
}

fn within(tag: usize, len: usize) -> Result<usize, Unsanitizable> {
    if tag > len {
        return Err(Unsanitizable::Unreadable);
    }
    Ok(tag)
}
