//! Evidence files attached to a tip: type detection and the sanitized working copy.
//!
//! Citizens attach photos, screenshots, PDFs, Office documents, voice messages and
//! videos. Three things matter for every file:
//!
//! * **What it is** is decided from its first bytes only ([`sniff`]). There is
//!   deliberately no file-name parameter anywhere in this module, so a renamed
//!   file can never change how it is treated.
//! * **The original is kept byte for byte** ([`Processed::original`] and its
//!   SHA-256), because it may be needed as evidence later.
//! * **Case viewers see only a working copy without metadata.** Metadata can
//!   identify the whistle-blower (an author name or phone number in a PDF, GPS
//!   position and device serials in a photo or video, the owner of an Office
//!   licence, thumbnails of an uncropped picture), so every type gets a
//!   [`Processed::working`] copy that carries none, or, when that cannot be
//!   made, is **held sealed** ([`Processed::held_sealed`]): kept as the
//!   original only, and refused to anyone asking for the working copy.
//!
//! Images (this file, [`jpeg`], [`raster`]):
//!
//! * JPEG without rotation: metadata segments are removed losslessly
//!   ([`jpeg::strip`]), so the working copy decodes to exactly the same pixels.
//! * JPEG with an EXIF orientation other than "upright": decoded, rotated so
//!   it displays upright, re-encoded as JPEG at quality [`JPEG_QUALITY`].
//! * PNG, WebP and GIF: decoded, orientation applied, re-encoded as **PNG**.
//!   PNG is lossless, so pixels are preserved exactly, and every viewer
//!   supports it. WebP goes to PNG rather than to lossless WebP because the
//!   image crate's WebP encoder compresses poorly and PNG is universally
//!   viewable; GIF goes to PNG because only the **first frame** is kept
//!   (evidence screenshots are stills; an animation's later frames are not
//!   reviewed here — the original still holds them).
//!
//! Every image is fully decoded once under strict limits before it is
//! accepted, so decompression bombs and broken files are rejected early.
//! The dimensions are read from the file header first and checked against
//! [`Limits::max_image_pixels`] before any pixel buffer is allocated. An image
//! that cannot be decoded is refused, not held sealed.
//!
//! Everything else keeps its format; [`working`] picks the sanitizer:
//!
//! * PDF ([`pdf`]): rewritten without the Info dictionary, XMP, document IDs,
//!   page thumbnails, JavaScript and other automatic actions, and attachments;
//!   EXIF in embedded JPEG pictures is stripped too. Encrypted or unreadable
//!   PDFs are held sealed.
//! * MP4, MOV, M4A, 3GP ([`bmff`]): metadata boxes (`udta`, `meta`, `uuid`,
//!   previews, timed-metadata tracks) are overwritten in place by `free` boxes
//!   of the same size, so no sample offset moves; creation times are zeroed.
//! * MP3 and AAC ([`tags`]): ID3v2, ID3v1, APE and Lyrics3 tags are cut off.
//! * WAV ([`riff`]): only the `fmt `, `fact` and `data` chunks are kept.
//! * Ogg Opus, Vorbis and Speex ([`ogg`]): the comment header is emptied in place.
//! * WebM ([`webm`]): tags, attachments and titles become EBML `Void` elements.
//! * DOCX, XLSX, PPTX ([`office`]): the `docProps/` parts (core, app and custom
//!   properties, thumbnail) and the relationships to them are dropped.
//! * AMR, AMR-WB and SILK voice messages have no place for metadata at all (a
//!   magic line followed by codec frames), so their working copy is the
//!   original.

mod bmff;
mod header;
mod jpeg;
mod office;
mod ogg;
mod pdf;
mod raster;
mod riff;
mod sniff;
mod tags;
mod webm;
mod working;

#[cfg(test)]
mod audio_tests;
#[cfg(test)]
mod bmff_tests;
#[cfg(test)]
mod checks;
#[cfg(test)]
mod container_tests;
#[cfg(test)]
mod image_fixtures;
#[cfg(test)]
mod pdf_tests;
#[cfg(test)]
mod sniff_tests;
#[cfg(test)]
mod tests;

use image::metadata::Orientation;
use sha2::{Digest, Sha256};
use std::fmt;

pub use sniff::sniff;

/// JPEG quality used when a rotated JPEG has to be re-encoded. High enough
/// that re-encoding artefacts do not obscure details in the evidence.
pub const JPEG_QUALITY: u8 = 90;

/// Size limits applied to every uploaded evidence file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted file, in bytes.
    pub max_file_bytes: u64,
    /// Largest accepted image, as width × height.
    pub max_image_pixels: u64,
}

impl Default for Limits {
    /// 64 MiB per file; 50 megapixels, which covers current 48 MP phone cameras.
    fn default() -> Self {
        Limits {
            max_file_bytes: 64 * 1024 * 1024,
            max_image_pixels: 50_000_000,
        }
    }
}

/// Broad family of an accepted evidence file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Image,
    Pdf,
    Audio,
    Video,
    /// An Office Open XML document (DOCX, XLSX, PPTX).
    Document,
}

/// An accepted evidence file: the untouched original plus a sanitized working
/// copy, or the reason there is none.
#[derive(Clone)]
pub struct Processed {
    pub kind: MediaKind,
    /// Sniffed from magic bytes, e.g. "image/jpeg", "application/pdf", "audio/amr".
    pub media_type: &'static str,
    /// Exactly the bytes received.
    pub original: Vec<u8>,
    pub original_sha256: [u8; 32],
    /// The metadata-free copy case viewers get (for images also upright);
    /// `None` exactly when the file is [held sealed](Self::held_sealed).
    pub working: Option<Vec<u8>>,
    /// The working copy's type: "image/jpeg" or "image/png" for images, the
    /// original's type for everything else.
    pub working_media_type: Option<&'static str>,
    pub working_sha256: Option<[u8; 32]>,
    /// Why no working copy could be made, when none could: the file is then
    /// *held sealed*, kept only as the original, which case viewers may not
    /// download.
    pub held_sealed: Option<Unsanitizable>,
    /// Width of the working copy.
    pub width: Option<u32>,
    /// Height of the working copy.
    pub height: Option<u32>,
}

/// Hand-written so logging a `Processed` prints sizes and hashes, not
/// megabytes of file content.
impl fmt::Debug for Processed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Processed")
            .field("kind", &self.kind)
            .field("media_type", &self.media_type)
            .field("original_len", &self.original.len())
            .field("original_sha256", &Hex(&self.original_sha256))
            .field("working_len", &self.working.as_ref().map(Vec::len))
            .field("working_media_type", &self.working_media_type)
            .field(
                "working_sha256",
                &self.working_sha256.as_ref().map(|h| Hex(h)),
            )
            .field("held_sealed", &self.held_sealed)
            .field("width", &self.width)
            .field("height", &self.height)
            .finish()
    }
}

/// Lower-case hex rendering for [`Processed`]'s `Debug` output.
struct Hex<'a>(&'a [u8]);

impl fmt::Debug for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// Why an evidence file was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    #[error("the file is empty or larger than the allowed size")]
    TooLarge,
    #[error("this type of file is not accepted as evidence")]
    UnsupportedType,
    #[error("the file is damaged or incomplete and cannot be read")]
    Corrupt,
    #[error("the image has more pixels than allowed")]
    ImageTooLarge,
}

/// Why a file that was accepted has no working copy and is held sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unsanitizable {
    /// An encrypted PDF: its metadata cannot be rewritten without its password.
    #[error("the file is encrypted")]
    Encrypted,
    /// The sanitizer could not parse the file (damaged, truncated, or a
    /// variant it does not know), so it cannot tell what metadata it carries.
    #[error("the file's structure could not be read")]
    Unreadable,
    /// The structure was read, but holds something that cannot be removed
    /// safely (a compressed movie header, metadata in movie fragments, a codec
    /// whose tags are not understood).
    #[error("the file's layout is not one the sanitizer handles")]
    UnknownLayout,
}

/// Checks, hashes and sanitizes one uploaded evidence file.
///
/// CPU-bound; the caller runs it on a blocking thread.
pub fn process(bytes: Vec<u8>, limits: &Limits) -> Result<Processed, EvidenceError> {
    check_file_size(&bytes, limits)?;
    let (kind, media_type) = sniff(&bytes).ok_or(EvidenceError::UnsupportedType)?;
    let original_sha256 = sha256(&bytes);
    if kind == MediaKind::Image {
        let image = sanitize_guarded(&bytes, media_type, limits)?;
        return Ok(Processed {
            kind,
            media_type,
            original: bytes,
            original_sha256,
            working_sha256: Some(sha256(&image.bytes)),
            working: Some(image.bytes),
            working_media_type: Some(image.media_type),
            held_sealed: None,
            width: Some(image.width),
            height: Some(image.height),
        });
    }
    let (working, held_sealed) = match working::copy(&bytes, media_type, limits) {
        Ok(copy) => (Some(copy), None),
        Err(why) => (None, Some(why)),
    };
    Ok(Processed {
        kind,
        media_type,
        original: bytes,
        original_sha256,
        working_sha256: working.as_deref().map(sha256),
        working_media_type: working.as_ref().map(|_| media_type),
        working,
        held_sealed,
        width: None,
        height: None,
    })
}

/// Rejects empty files (nothing to keep as evidence) and oversized ones.
fn check_file_size(bytes: &[u8], limits: &Limits) -> Result<(), EvidenceError> {
    let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if len == 0 || len > limits.max_file_bytes {
        return Err(EvidenceError::TooLarge);
    }
    Ok(())
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// A sanitized image working copy.
struct Sanitized {
    bytes: Vec<u8>,
    media_type: &'static str,
    width: u32,
    height: u32,
}

/// Runs the image pipeline with a panic guard.
///
/// Image decoders parse attacker-controlled data; they are meant never to
/// panic, but one that does must not take the upload handler's thread down
/// with it. A caught panic is reported as [`EvidenceError::Corrupt`]. (This
/// only helps while the build uses `panic = "unwind"`, the default.)
fn sanitize_guarded(
    bytes: &[u8],
    media_type: &'static str,
    limits: &Limits,
) -> Result<Sanitized, EvidenceError> {
    std::panic::catch_unwind(|| sanitize_image(bytes, media_type, limits))
        .unwrap_or(Err(EvidenceError::Corrupt))
}

/// Produces the metadata-free, upright working copy of an image.
fn sanitize_image(
    bytes: &[u8],
    media_type: &'static str,
    limits: &Limits,
) -> Result<Sanitized, EvidenceError> {
    match media_type {
        "image/jpeg" => sanitize_jpeg(bytes, limits),
        "image/png" => reencode_as_png(bytes, image::ImageFormat::Png, limits),
        "image/webp" => reencode_as_png(bytes, image::ImageFormat::WebP, limits),
        "image/gif" => reencode_as_png(bytes, image::ImageFormat::Gif, limits),
        _ => Err(EvidenceError::UnsupportedType),
    }
}

/// JPEG: strip metadata losslessly; only re-encode when the picture has to
/// be rotated, because a lossless rotation would need a DCT-level rewrite.
fn sanitize_jpeg(bytes: &[u8], limits: &Limits) -> Result<Sanitized, EvidenceError> {
    let stripped = jpeg::strip(bytes)?;
    raster::check_pixels(stripped.width, stripped.height, limits)?;
    let orientation = stripped
        .exif
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms);
    // Decoding the stripped copy validates exactly the bytes we will serve.
    let size = (stripped.width, stripped.height);
    let decoded = raster::decode(&stripped.bytes, image::ImageFormat::Jpeg, size, limits)?;
    if orientation == Orientation::NoTransforms {
        return Ok(Sanitized {
            width: decoded.image.width(),
            height: decoded.image.height(),
            bytes: stripped.bytes,
            media_type: "image/jpeg",
        });
    }
    drop(stripped.bytes); // free it before the encoder allocates
    let mut upright = decoded.image;
    upright.apply_orientation(orientation);
    Ok(Sanitized {
        bytes: raster::encode_jpeg(&upright, JPEG_QUALITY)?,
        media_type: "image/jpeg",
        width: upright.width(),
        height: upright.height(),
    })
}

/// PNG, WebP, GIF: decode (first frame), apply orientation, write a fresh PNG
/// that contains nothing but pixels.
fn reencode_as_png(
    bytes: &[u8],
    format: image::ImageFormat,
    limits: &Limits,
) -> Result<Sanitized, EvidenceError> {
    let (width, height) = header::dimensions(bytes, format)?;
    raster::check_pixels(width, height, limits)?;
    let decoded = raster::decode(bytes, format, (width, height), limits)?;
    let mut upright = decoded.image;
    upright.apply_orientation(decoded.orientation);
    Ok(Sanitized {
        bytes: raster::encode_png(&upright)?,
        media_type: "image/png",
        width: upright.width(),
        height: upright.height(),
    })
}
