//! File type detection from magic bytes.
//!
//! The `infer` crate recognises most formats. Three families are handled
//! here first because `infer` either misses them or cannot tell them apart
//! well enough for us:
//!
//! * ISO base media files (`ftyp` box): MP4, MOV, 3GP and M4A share one
//!   container, and HEIC photos use it too. The major brand decides.
//! * Chat-app voice formats with fixed text magic: AMR-WB and SILK (WeChat
//!   voice messages are SILK v3, sometimes behind a 0x02 byte).
//! * MP3 files without an ID3 tag, which `infer` only recognises for one of
//!   the possible frame headers.
//!
//! ZIP files are opened: an Office Open XML document (DOCX, XLSX, PPTX) is
//! one whose `[Content_Types].xml` declares the main part of Word, Excel or
//! PowerPoint ([`office::detect`]; `infer` guesses from the order of the first
//! entries, which depends on the program that wrote the file). Any other ZIP
//! is refused.

use super::{office, MediaKind};

type Sniffed = (MediaKind, &'static str);

/// Decides the type of an evidence file from its first bytes.
///
/// Returns `None` for anything that is not accepted as evidence; that
/// includes formats `infer` knows but we do not take (HEIC, TIFF, plain ZIP,
/// OpenDocument, legacy .doc, Matroska, executables, ...).
pub fn sniff(bytes: &[u8]) -> Option<(MediaKind, &'static str)> {
    if let Some(brand) = iso_major_brand(bytes) {
        return classify_iso_brand(brand);
    }
    if let Some(found) = voice_magic(bytes) {
        return Some(found);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return office::detect(bytes).map(|media_type| (MediaKind::Document, media_type));
    }
    if let Some(found) = infer::get(bytes) {
        return classify_infer(found.mime_type());
    }
    is_mpeg_audio_frame(bytes).then_some((MediaKind::Audio, "audio/mpeg"))
}

/// The major brand of an ISO base media file: bytes 8..12 after an `ftyp`
/// box type at 4..8.
fn iso_major_brand(bytes: &[u8]) -> Option<&[u8]> {
    (bytes.get(4..8)? == b"ftyp").then_some(bytes.get(8..12)?)
}

/// Maps an ISO major brand to an accepted type; unknown brands (HEIC/AVIF
/// images, camera raw, ...) are refused rather than guessed at.
fn classify_iso_brand(brand: &[u8]) -> Option<Sniffed> {
    let video_mp4 = Some((MediaKind::Video, "video/mp4"));
    match brand {
        b"M4A " | b"M4B " | b"M4P " => Some((MediaKind::Audio, "audio/mp4")),
        b"qt  " => Some((MediaKind::Video, "video/quicktime")),
        b"isom" | b"mp41" | b"mp42" | b"mp71" | b"avc1" | b"M4V " | b"M4VH" | b"M4VP" | b"dash"
        | b"mmp4" | b"MSNV" | b"F4V " | b"F4P " | b"XAVC" => video_mp4,
        [b'i', b's', b'o', b'2'..=b'9'] => video_mp4,
        [b'N', b'D', _, _] => video_mp4,
        [b'3', b'g', b'2', _] => Some((MediaKind::Video, "video/3gpp2")),
        [b'3', b'g', _, _] => Some((MediaKind::Video, "video/3gpp")),
        _ => None,
    }
}

/// AMR-WB and SILK voice recordings, recognised by their text headers.
fn voice_magic(bytes: &[u8]) -> Option<Sniffed> {
    if bytes.starts_with(b"#!AMR-WB\n") {
        return Some((MediaKind::Audio, "audio/amr-wb"));
    }
    let silk = bytes.strip_prefix(b"\x02").unwrap_or(bytes);
    if silk.starts_with(b"#!SILK_V3") {
        return Some((MediaKind::Audio, "audio/silk"));
    }
    None
}

/// Maps the types `infer` reports to the accepted ones, normalising a few
/// non-standard MIME names. Everything else is refused.
fn classify_infer(mime: &str) -> Option<Sniffed> {
    Some(match mime {
        "image/jpeg" => (MediaKind::Image, "image/jpeg"),
        "image/png" => (MediaKind::Image, "image/png"),
        "image/webp" => (MediaKind::Image, "image/webp"),
        "image/gif" => (MediaKind::Image, "image/gif"),
        "application/pdf" => (MediaKind::Pdf, "application/pdf"),
        "audio/amr" => (MediaKind::Audio, "audio/amr"),
        "audio/mpeg" => (MediaKind::Audio, "audio/mpeg"),
        "audio/aac" => (MediaKind::Audio, "audio/aac"),
        "audio/m4a" => (MediaKind::Audio, "audio/mp4"),
        "audio/x-wav" => (MediaKind::Audio, "audio/wav"),
        // Ogg Opus, Vorbis and Speex all travel as audio/ogg.
        "audio/ogg" | "audio/opus" => (MediaKind::Audio, "audio/ogg"),
        "video/mp4" | "video/x-m4v" => (MediaKind::Video, "video/mp4"),
        // QuickTime files from older cameras start without an ftyp box.
        "video/quicktime" => (MediaKind::Video, "video/quicktime"),
        "video/webm" => (MediaKind::Video, "video/webm"),
        _ => return None,
    })
}

/// An MPEG-1/2/2.5 Layer III frame header: 11 sync bits, a valid version,
/// layer III, and bitrate and sample-rate indexes that are not reserved.
fn is_mpeg_audio_frame(bytes: &[u8]) -> bool {
    let Some(&[b0, b1, b2, _]) = bytes.get(..4) else {
        return false;
    };
    let version = (b1 >> 3) & 0b11;
    let layer = (b1 >> 1) & 0b11;
    let bitrate = b2 >> 4;
    let sample_rate = (b2 >> 2) & 0b11;
    b0 == 0xFF
        && b1 & 0xE0 == 0xE0
        && version != 0b01
        && layer == 0b01
        && bitrate != 0
        && bitrate != 0xF
        && sample_rate != 0b11
}
