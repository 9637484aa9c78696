//! Image dimensions read straight from the file header.
//!
//! This runs before any decoder is constructed, so an image that merely
//! *claims* to be enormous (a decompression bomb) is turned away after
//! looking at a few dozen bytes, with nothing allocated. JPEG dimensions come
//! from the marker walk in [`super::jpeg`] instead.

use super::EvidenceError;
use image::ImageFormat;

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Width and height as declared by the header of a PNG, GIF or WebP file.
pub(super) fn dimensions(bytes: &[u8], format: ImageFormat) -> Result<(u32, u32), EvidenceError> {
    match format {
        ImageFormat::Png => png_dimensions(bytes),
        ImageFormat::Gif => gif_dimensions(bytes),
        ImageFormat::WebP => webp_dimensions(bytes),
        _ => Err(EvidenceError::UnsupportedType),
    }
}

/// PNG: the signature is followed by the IHDR chunk, whose first 8 data
/// bytes are the big-endian width and height.
fn png_dimensions(bytes: &[u8]) -> Result<(u32, u32), EvidenceError> {
    let head = bytes.get(..24).ok_or(EvidenceError::Corrupt)?;
    if !head.starts_with(PNG_SIGNATURE) || &head[12..16] != b"IHDR" {
        return Err(EvidenceError::Corrupt);
    }
    Ok((be_u32(&head[16..20]), be_u32(&head[20..24])))
}

/// GIF: the logical screen descriptor after the 6-byte signature holds the
/// little-endian canvas width and height. (A frame that claims to be larger
/// than the canvas is caught by the decoder's allocation budget.)
fn gif_dimensions(bytes: &[u8]) -> Result<(u32, u32), EvidenceError> {
    let head = bytes.get(..10).ok_or(EvidenceError::Corrupt)?;
    if !(head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a")) {
        return Err(EvidenceError::Corrupt);
    }
    let width = u16::from_le_bytes([head[6], head[7]]);
    let height = u16::from_le_bytes([head[8], head[9]]);
    Ok((u32::from(width), u32::from(height)))
}

/// WebP: a RIFF container whose first chunk is one of
/// * `VP8X` (extended): 24-bit canvas width−1 and height−1 at offset 24;
/// * `VP8L` (lossless): signature 0x2F, then 14-bit width−1 and height−1;
/// * `VP8 ` (lossy): key-frame start code, then 14-bit width and height.
fn webp_dimensions(bytes: &[u8]) -> Result<(u32, u32), EvidenceError> {
    let head = bytes.get(..30).ok_or(EvidenceError::Corrupt)?;
    if &head[..4] != b"RIFF" || &head[8..12] != b"WEBP" {
        return Err(EvidenceError::Corrupt);
    }
    match &head[12..16] {
        b"VP8X" => Ok((1 + le_u24(&head[24..27]), 1 + le_u24(&head[27..30]))),
        b"VP8L" if head[20] == 0x2F => {
            let bits = u32::from_le_bytes([head[21], head[22], head[23], head[24]]);
            Ok((1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)))
        }
        b"VP8 " if head[23..26] == [0x9D, 0x01, 0x2A] => {
            let width = u16::from_le_bytes([head[26], head[27]]) & 0x3FFF;
            let height = u16::from_le_bytes([head[28], head[29]]) & 0x3FFF;
            Ok((u32::from(width), u32::from(height)))
        }
        _ => Err(EvidenceError::Corrupt),
    }
}

/// Big-endian u32 from exactly four bytes (callers slice them).
fn be_u32(b: &[u8]) -> u32 {
    b.iter().fold(0, |acc, &byte| (acc << 8) | u32::from(byte))
}

/// Little-endian 24-bit value from exactly three bytes.
fn le_u24(b: &[u8]) -> u32 {
    b.iter()
        .rev()
        .fold(0, |acc, &byte| (acc << 8) | u32::from(byte))
}
