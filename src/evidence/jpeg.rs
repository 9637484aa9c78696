//! Lossless JPEG metadata stripping by walking the marker segments.
//!
//! A JPEG file is a sequence of marker segments: `FF xx`, a big-endian
//! length, a payload. After each SOS segment comes entropy-coded data that
//! runs up to the next real marker. Metadata lives in APPn and COM segments,
//! and some phones append extra data (a second picture, a video) after EOI.
//! Copying only the segments a decoder needs, and nothing after EOI, removes
//! all of it while leaving the compressed picture bit-for-bit unchanged.

use super::EvidenceError;

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const DQT: u8 = 0xDB;
const DNL: u8 = 0xDC;
const DRI: u8 = 0xDD;
const DHP: u8 = 0xDE;
const EXP: u8 = 0xDF;
const DHT: u8 = 0xC4;
const DAC: u8 = 0xCC;
const APP0: u8 = 0xE0;
const APP1: u8 = 0xE1;
const APP14: u8 = 0xEE;
const COM: u8 = 0xFE;
const TEM: u8 = 0x01;

/// Length of the APP14 "Adobe" payload that decoders read (identifier,
/// version, two flag words, colour transform). Anything beyond is dropped.
const ADOBE_PAYLOAD_LEN: usize = 12;

/// Result of [`strip`].
pub(super) struct Stripped<'a> {
    /// The metadata-free JPEG.
    pub bytes: Vec<u8>,
    /// From the frame header (SOFn).
    pub width: u32,
    pub height: u32,
    /// TIFF payload of the first EXIF APP1 segment of the *input*, kept only
    /// so the caller can read the orientation before it is gone.
    pub exif: Option<&'a [u8]>,
}

/// What to do with one marker segment.
enum Action {
    Keep,
    Drop,
    /// Write this payload instead of the original one.
    Replace(Vec<u8>),
}

/// Copies the decoder-relevant segments of `input` into a new JPEG.
///
/// Fails with [`EvidenceError::Corrupt`] when the structure is broken or the
/// file ends before EOI (a truncated upload), and with
/// [`EvidenceError::UnsupportedType`] for markers of JPEG variants we do not
/// handle (JPEG-LS, reserved markers), rather than guessing about them.
pub(super) fn strip(input: &[u8]) -> Result<Stripped<'_>, EvidenceError> {
    if input.get(..2) != Some(&[0xFF, SOI]) {
        return Err(EvidenceError::Corrupt);
    }
    let mut out = Vec::with_capacity(input.len());
    out.extend_from_slice(&[0xFF, SOI]);
    let mut pos = 2;
    let mut frame: Option<(u32, u32)> = None;
    let mut exif = None;
    let mut seen_scan = false;
    loop {
        let marker = read_marker(input, &mut pos)?;
        match marker {
            EOI => {
                let (width, height) = frame.ok_or(EvidenceError::Corrupt)?;
                if !seen_scan {
                    return Err(EvidenceError::Corrupt);
                }
                out.extend_from_slice(&[0xFF, EOI]);
                return Ok(Stripped {
                    bytes: out,
                    width,
                    height,
                    exif,
                });
            }
            TEM => continue,
            SOI | 0xD0..=0xD7 => return Err(EvidenceError::Corrupt),
            _ => {}
        }
        let payload = read_segment(input, &mut pos)?;
        if is_start_of_frame(marker) {
            if frame.is_some() {
                return Err(EvidenceError::Corrupt);
            }
            frame = Some(frame_dimensions(payload)?);
        }
        if marker == APP1 && exif.is_none() {
            exif = payload.strip_prefix(b"Exif\0\0");
        }
        match action(marker, payload)? {
            Action::Keep => write_segment(&mut out, marker, payload)?,
            Action::Replace(new_payload) => write_segment(&mut out, marker, &new_payload)?,
            Action::Drop => {}
        }
        if marker == SOS {
            if frame.is_none() {
                return Err(EvidenceError::Corrupt);
            }
            let end = entropy_data_end(input, pos)?;
            out.extend_from_slice(&input[pos..end]);
            pos = end;
            seen_scan = true;
        }
    }
}

/// Reads the marker at `pos` (skipping `FF` fill bytes) and moves past it.
fn read_marker(input: &[u8], pos: &mut usize) -> Result<u8, EvidenceError> {
    if input.get(*pos) != Some(&0xFF) {
        return Err(EvidenceError::Corrupt);
    }
    while input.get(*pos) == Some(&0xFF) {
        *pos += 1;
    }
    let marker = *input.get(*pos).ok_or(EvidenceError::Corrupt)?;
    *pos += 1;
    Ok(marker)
}

/// Returns the payload of the segment whose length field is at `pos` and
/// moves past it.
fn read_segment<'a>(input: &'a [u8], pos: &mut usize) -> Result<&'a [u8], EvidenceError> {
    let length_bytes = input.get(*pos..*pos + 2).ok_or(EvidenceError::Corrupt)?;
    let length = usize::from(u16::from_be_bytes([length_bytes[0], length_bytes[1]]));
    if length < 2 {
        return Err(EvidenceError::Corrupt);
    }
    let payload = input
        .get(*pos + 2..*pos + length)
        .ok_or(EvidenceError::Corrupt)?;
    *pos += length;
    Ok(payload)
}

/// Appends `FF marker`, the length field and `payload` to `out`.
fn write_segment(out: &mut Vec<u8>, marker: u8, payload: &[u8]) -> Result<(), EvidenceError> {
    let length = u16::try_from(payload.len() + 2).map_err(|_| EvidenceError::Corrupt)?;
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(payload);
    Ok(())
}

/// Decides whether a segment survives into the working copy.
///
/// Kept: everything a decoder needs to reproduce the pixels (tables, frame
/// and scan headers, restart interval, arithmetic-coding conditioning,
/// hierarchical-mode markers), plus the JFIF and Adobe segments because they
/// tell the decoder which colour space the components are in. Dropped: every
/// other APPn (EXIF, XMP, ICC, MPF, Photoshop/IPTC, vendor data) and COM.
fn action(marker: u8, payload: &[u8]) -> Result<Action, EvidenceError> {
    Ok(match marker {
        DQT | DHT | DAC | SOS | DNL | DRI | DHP | EXP => Action::Keep,
        m if is_start_of_frame(m) => Action::Keep,
        APP0 => jfif_without_thumbnail(payload).map_or(Action::Drop, Action::Replace),
        APP14 => adobe_colour_info(payload).map_or(Action::Drop, Action::Replace),
        0xE0..=0xEF | COM => Action::Drop,
        // JPG, JPGn (JPEG-LS and extensions) and reserved markers.
        _ => return Err(EvidenceError::UnsupportedType),
    })
}

/// SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range.
fn is_start_of_frame(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xCF) && !matches!(marker, DHT | 0xC8 | DAC)
}

/// Width and height from a SOFn payload: precision (1 byte), height (2),
/// width (2), component count (1), then 3 bytes per component.
fn frame_dimensions(payload: &[u8]) -> Result<(u32, u32), EvidenceError> {
    let header = payload.get(..6).ok_or(EvidenceError::Corrupt)?;
    let height = u32::from(u16::from_be_bytes([header[1], header[2]]));
    let width = u32::from(u16::from_be_bytes([header[3], header[4]]));
    let components = usize::from(header[5]);
    // Height 0 means "defined later by DNL", which decoders rarely support.
    if width == 0 || height == 0 || components == 0 || payload.len() < 6 + 3 * components {
        return Err(EvidenceError::Corrupt);
    }
    Ok((width, height))
}

/// Rewrites a JFIF APP0 payload with its thumbnail removed: the embedded
/// thumbnail could show the picture as it was before the sender cropped it.
/// Returns `None` for non-JFIF APP0 segments (JFXX thumbnails, AVI1, ...).
fn jfif_without_thumbnail(payload: &[u8]) -> Option<Vec<u8>> {
    // "JFIF\0", version (2), density units (1), X and Y density (2 + 2).
    let fixed = payload.get(..12).filter(|p| p.starts_with(b"JFIF\0"))?;
    let mut rewritten = fixed.to_vec();
    rewritten.extend_from_slice(&[0, 0]); // thumbnail width and height
    Some(rewritten)
}

/// Keeps only the colour-transform fields of an APP14 "Adobe" payload.
fn adobe_colour_info(payload: &[u8]) -> Option<Vec<u8>> {
    payload
        .get(..ADOBE_PAYLOAD_LEN)
        .filter(|p| p.starts_with(b"Adobe"))
        .map(<[u8]>::to_vec)
}

/// Finds where the entropy-coded data starting at `start` ends, i.e. the
/// position of the next marker that is neither a stuffed `FF 00` nor a
/// restart marker. Running off the end means the upload was truncated.
fn entropy_data_end(input: &[u8], start: usize) -> Result<usize, EvidenceError> {
    let mut pos = start;
    loop {
        let rest = input.get(pos..).ok_or(EvidenceError::Corrupt)?;
        let ff = pos + find_ff(rest).ok_or(EvidenceError::Corrupt)?;
        match input.get(ff + 1) {
            None => return Err(EvidenceError::Corrupt),
            Some(0x00 | 0xD0..=0xD7) => pos = ff + 2,
            Some(0xFF) => pos = ff + 1,
            Some(_) => return Ok(ff),
        }
    }
}

/// Index of the first `FF` byte. Entropy-coded data is nearly all of a
/// photo's bytes, so this tests eight bytes at a time: in `!word` an `FF`
/// byte becomes zero, and `(v - 0x01…) & !v & 0x80…` is non-zero exactly
/// when `v` has a zero byte.
fn find_ff(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut offset = 0;
    for chunk in bytes.chunks_exact(8) {
        let Ok(word) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let inverted = !u64::from_ne_bytes(word);
        if inverted.wrapping_sub(ONES) & !inverted & HIGHS != 0 {
            break;
        }
        offset += 8;
    }
    let tail = bytes.get(offset..)?;
    tail.iter().position(|&b| b == 0xFF).map(|i| offset + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0xFF, marker];
        out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    /// A progressive-style layout the image crate cannot write: several
    /// scans with tables between them, restart markers and stuffed bytes in
    /// the entropy data, fill bytes before a marker, metadata in between and
    /// junk after EOI. Only the structure matters here, not decodability.
    #[test]
    fn keeps_every_scan_and_table_and_nothing_else() {
        let dqt = segment(DQT, &[0; 65]);
        let sof2 = segment(0xC2, &[8, 0, 16, 0, 24, 1, 1, 0x11, 0]);
        let dht = segment(DHT, &[0; 17]);
        let dri = segment(DRI, &[0, 4]);
        let sos = segment(SOS, &[1, 1, 0, 0, 63, 0]);
        let scan1 = [0x12, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD0, 0x78, 0xFF];
        let scan2 = [0xAB, 0xFF, 0x00, 0xCD];
        let exif = segment(APP1, b"Exif\0\0II*\0\x08\0\0\0\0\0");

        let input = [
            &[0xFF, SOI][..],
            &exif,
            &segment(0xE2, b"ICC_PROFILE\0"),
            &dqt,
            &sof2,
            &dht,
            &dri,
            &segment(COM, b"comment"),
            &sos,
            &scan1,
            &dht,
            &segment(0xEC, b"Ducky"),
            &sos,
            &scan2,
            &[0xFF, EOI],
            b"appended video",
        ]
        .concat();
        let expected = [
            &[0xFF, SOI][..],
            &dqt,
            &sof2,
            &dht,
            &dri,
            &sos,
            &scan1,
            &dht,
            &sos,
            &scan2,
            &[0xFF, EOI],
        ]
        .concat();

        let stripped = strip(&input).expect("well-formed structure");
        assert_eq!(stripped.bytes, expected);
        assert_eq!((stripped.width, stripped.height), (24, 16));
        assert_eq!(stripped.exif, Some(&b"II*\0\x08\0\0\0\0\0"[..]));
    }

    #[test]
    fn structural_damage_is_corrupt() {
        let sof0 = segment(0xC0, &[8, 0, 16, 0, 16, 1, 1, 0x11, 0]);
        let sos = segment(SOS, &[1, 1, 0, 0, 63, 0]);
        let cases: Vec<Vec<u8>> = vec![
            vec![],
            vec![0xFF, SOI],
            // Scan before the frame header.
            [&[0xFF, SOI][..], &sos, &[1, 2, 0xFF, EOI]].concat(),
            // No scan at all.
            [&[0xFF, SOI][..], &sof0, &[0xFF, EOI]].concat(),
            // Segment length running past the end.
            [&[0xFF, SOI][..], &[0xFF, 0xE1, 0x40, 0x00, 1, 2, 3]].concat(),
            // Segment length below 2.
            [&[0xFF, SOI][..], &[0xFF, 0xE1, 0x00, 0x01]].concat(),
            // Garbage where a marker should be.
            [&[0xFF, SOI][..], &sof0, &[0x00, 0x11]].concat(),
            // Zero-height frame.
            [
                &[0xFF, SOI][..],
                &segment(0xC0, &[8, 0, 0, 0, 16, 1, 1, 0x11, 0]),
            ]
            .concat(),
            // Two frame headers.
            [&[0xFF, SOI][..], &sof0, &sof0, &sos, &[1, 0xFF, EOI]].concat(),
            // Entropy data that never reaches EOI.
            [&[0xFF, SOI][..], &sof0, &sos, &[1, 2, 3, 0xFF, 0x00]].concat(),
        ];
        for (i, case) in cases.iter().enumerate() {
            assert!(
                matches!(strip(case), Err(EvidenceError::Corrupt)),
                "case {i} should be corrupt"
            );
        }
    }

    #[test]
    fn jpeg_ls_is_unsupported_not_guessed_at() {
        let sof55 = segment(0xF7, &[8, 0, 16, 0, 16, 1, 1, 0x11, 0]);
        let input = [&[0xFF, SOI][..], &sof55, &[0xFF, EOI]].concat();
        assert!(matches!(strip(&input), Err(EvidenceError::UnsupportedType)));
    }

    #[test]
    fn finds_the_first_ff_at_every_position() {
        for len in 0..40 {
            for at in 0..len {
                let mut bytes = vec![0xFEu8; len];
                bytes[at] = 0xFF;
                if at + 3 < len {
                    bytes[at + 3] = 0xFF;
                }
                assert_eq!(find_ff(&bytes), Some(at), "len {len}, at {at}");
            }
            assert_eq!(find_ff(&vec![0x7F; len]), None);
        }
    }
}
