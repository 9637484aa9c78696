//! The working copy of everything that is not an image: picks the sanitizer for
//! the sniffed type and guards it against panics.

use super::{bmff, office, ogg, pdf, riff, tags, webm, Limits, Unsanitizable};

/// The metadata-free copy of a non-image file of type `media_type` (as
/// [`super::sniff`] named it), in the same format as the original.
///
/// Sanitizers parse attacker-controlled data; one that panics must not take
/// the upload handler's thread down with it, and a file it could not finish
/// is held sealed ([`Unsanitizable::Unreadable`]). (This only helps while the
/// build uses `panic = "unwind"`, the default.)
pub(super) fn copy(
    bytes: &[u8],
    media_type: &str,
    limits: &Limits,
) -> Result<Vec<u8>, Unsanitizable> {
    std::panic::catch_unwind(|| dispatch(bytes, media_type, limits))
        .unwrap_or(Err(Unsanitizable::Unreadable))
}

fn dispatch(bytes: &[u8], media_type: &str, limits: &Limits) -> Result<Vec<u8>, Unsanitizable> {
    match media_type {
        "application/pdf" => pdf::sanitize(bytes, limits),
        "video/mp4" | "video/quicktime" | "video/3gpp" | "video/3gpp2" | "audio/mp4" => {
            bmff::sanitize(bytes)
        }
        "audio/mpeg" | "audio/aac" => tags::sanitize(bytes),
        "audio/wav" => riff::sanitize(bytes),
        "audio/ogg" => ogg::sanitize(bytes),
        "video/webm" => webm::sanitize(bytes),
        office::DOCX | office::XLSX | office::PPTX => office::sanitize(bytes, limits),
        // A magic line followed by codec frames: there is no container that
        // could carry a name, a place or a device, so the copy is the original.
        "audio/amr" | "audio/amr-wb" | "audio/silk" => Ok(bytes.to_vec()),
        // A type sniff accepts but nothing here knows: never serve it unsanitized.
        _ => Err(Unsanitizable::UnknownLayout),
    }
}
