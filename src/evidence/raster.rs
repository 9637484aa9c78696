//! Decoding under limits and re-encoding without metadata.

use super::{EvidenceError, Limits};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::error::ImageError;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use std::io::Cursor;

/// Worst-case bytes per decoded pixel (16-bit RGBA).
const MAX_BYTES_PER_PIXEL: u64 = 8;

/// Fixed allowance for a decoder's own tables, windows and row buffers.
const DECODER_OVERHEAD: u64 = 32 * 1024 * 1024;

/// A decoded image and the EXIF orientation its decoder reported.
pub(super) struct Decoded {
    pub image: DynamicImage,
    pub orientation: Orientation,
}

/// Rejects images with more than `limits.max_image_pixels` pixels.
pub(super) fn check_pixels(width: u32, height: u32, limits: &Limits) -> Result<(), EvidenceError> {
    if u64::from(width) * u64::from(height) > limits.max_image_pixels {
        return Err(EvidenceError::ImageTooLarge);
    }
    Ok(())
}

/// Fully decodes `bytes` (the first frame, for animations) with the image
/// crate's own limits switched on as a second line of defence behind
/// [`check_pixels`]: a decoder that meets dimensions or allocations beyond
/// what the header promised stops with a limit error instead of allocating.
///
/// `header_size` is the size read from the header beforehand (already passed
/// through [`check_pixels`]); it sizes the allocation budget for parsing the
/// headers. Once the decoder reports the real size, the budget is set from
/// that: output buffer plus as much again plus a fixed overhead. This is
/// what stops, e.g., a GIF whose 16×16 canvas holds a frame claiming to be
/// 60000×60000.
pub(super) fn decode(
    bytes: &[u8],
    format: ImageFormat,
    header_size: (u32, u32),
    limits: &Limits,
) -> Result<Decoded, EvidenceError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(decoder_limits(limits, header_size));
    let mut decoder = reader.into_decoder().map_err(map_error)?;

    let (width, height) = decoder.dimensions();
    check_pixels(width, height, limits)?;
    let mut remaining = decoder_limits(limits, (width, height));
    remaining
        .reserve(decoder.total_bytes())
        .map_err(map_error)?;
    decoder.set_limits(remaining).map_err(map_error)?;

    // Metadata that cannot be read is simply not applied; it is dropped anyway.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let image = DynamicImage::from_decoder(decoder).map_err(map_error)?;
    Ok(Decoded { image, orientation })
}

/// The image crate's limits matching ours: no side longer than the pixel
/// budget allows, and allocations capped to what an image of `size` needs.
/// The size is clamped to the pixel limit so that this line of defence holds
/// on its own even if a caller skipped [`check_pixels`].
fn decoder_limits(limits: &Limits, (width, height): (u32, u32)) -> image::Limits {
    let max_side = u32::try_from(limits.max_image_pixels).unwrap_or(u32::MAX);
    let pixels = (u64::from(width) * u64::from(height)).min(limits.max_image_pixels);
    let mut image_limits = image::Limits::default();
    image_limits.max_image_width = Some(max_side);
    image_limits.max_image_height = Some(max_side);
    let budget = pixels
        .saturating_mul(MAX_BYTES_PER_PIXEL * 2)
        .saturating_add(DECODER_OVERHEAD);
    image_limits.max_alloc = Some(budget);
    image_limits
}

/// Limit errors mean "too big"; anything else the decoder rejects is
/// unreadable as far as the uploader is concerned.
fn map_error(error: ImageError) -> EvidenceError {
    match error {
        ImageError::Limits(_) => EvidenceError::ImageTooLarge,
        ImageError::Unsupported(_) => EvidenceError::UnsupportedType,
        _ => EvidenceError::Corrupt,
    }
}

/// Encodes as PNG. The image crate writes only IHDR, IDAT and IEND unless
/// told to add a colour profile or EXIF, which we never do.
pub(super) fn encode_png(image: &DynamicImage) -> Result<Vec<u8>, EvidenceError> {
    let mut out = Vec::new();
    image
        .write_with_encoder(PngEncoder::new(&mut out))
        .map_err(map_error)?;
    Ok(out)
}

/// Encodes as baseline JPEG (JFIF header only, no EXIF). JPEG cannot hold
/// alpha or 16-bit samples, so anything but grey or RGB is converted first;
/// JPEG decoders only ever produce those two, so this is a formality.
pub(super) fn encode_jpeg(image: &DynamicImage, quality: u8) -> Result<Vec<u8>, EvidenceError> {
    let mut out = Vec::new();
    let encoder = JpegEncoder::new_with_quality(&mut out, quality);
    match image {
        DynamicImage::ImageLuma8(_) | DynamicImage::ImageRgb8(_) => {
            image.write_with_encoder(encoder)
        }
        _ => DynamicImage::ImageRgb8(image.to_rgb8()).write_with_encoder(encoder),
    }
    .map_err(map_error)?;
    Ok(out)
}
