//! Tests for files that are broken, foreign or not images: what is refused,
//! what is accepted as sent, and that the content, never a name, decides the type.

use super::image_fixtures::*;
use super::*;
use image::{Rgba, RgbaImage};

// ---------------------------------------------------------------------------
// (5) Broken, foreign and non-image files
// ---------------------------------------------------------------------------

#[test]
fn truncated_jpeg_is_corrupt() {
    let jpeg = jpeg_with_everything(&photo_like(128, 128), None);
    let eoi = jpeg.len() - TRAILER_SECRET.len();
    for cut in [eoi / 2, eoi - 2, 300, 3] {
        let result = process(jpeg[..cut].to_vec(), &limits());
        assert_eq!(result.err(), Some(EvidenceError::Corrupt), "cut at {cut}");
    }
}

#[test]
fn truncated_png_is_corrupt() {
    let png = png_bytes(&RgbaImage::from_fn(64, 64, |x, y| {
        Rgba([x as u8, y as u8, 7, 255])
    }));
    for cut in [png.len() / 2, 30, 12] {
        let result = process(png[..cut].to_vec(), &limits());
        assert_eq!(result.err(), Some(EvidenceError::Corrupt), "cut at {cut}");
    }
}

#[test]
fn random_bytes_are_unsupported() {
    let mut rng = XorShift(42);
    for _ in 0..50 {
        let mut bytes: Vec<u8> = (0..1000).map(|_| rng.next() as u8).collect();
        bytes[0] = 0x00; // keep clear of the few one-byte-led magic numbers
        assert_eq!(
            process(bytes, &limits()).err(),
            Some(EvidenceError::UnsupportedType)
        );
    }
    let text = b"Hospital X billed 40 fake dialysis sessions".to_vec();
    assert_eq!(
        process(text, &limits()).err(),
        Some(EvidenceError::UnsupportedType)
    );
}

#[test]
fn pdf_original_is_stored_as_sent() {
    // There is no file-name input at all: this could have been uploaded as
    // "photo.jpg" and would be treated exactly the same.
    let pdf =
        b"%PDF-1.4\n1 0 obj <</Type/Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n".to_vec();
    let processed = process(pdf.clone(), &limits()).expect("accepted");
    assert_eq!(processed.kind, MediaKind::Pdf);
    assert_eq!(processed.media_type, "application/pdf");
    assert_eq!(processed.original, pdf);
    assert_eq!(processed.original_sha256, sha256(&pdf));
    assert_working_copy_or_held_sealed(&processed);
    assert!(processed.width.is_none() && processed.height.is_none());
}

/// Either there is a working copy of the original's type, with its hash, or
/// the file is held sealed with none of those (pdf_tests.rs and the other
/// `*_tests.rs` check what the working copies contain).
fn assert_working_copy_or_held_sealed(processed: &Processed) {
    match (&processed.working, processed.held_sealed) {
        (Some(working), None) => {
            assert_eq!(processed.working_sha256, Some(sha256(working)));
            assert_eq!(processed.working_media_type, Some(processed.media_type));
        }
        (None, Some(_)) => {
            assert!(processed.working_media_type.is_none() && processed.working_sha256.is_none());
        }
        _ => panic!("a working copy or held sealed, never both or neither: {processed:?}"),
    }
}

#[test]
fn content_decides_type_not_extension_or_claims() {
    // A PNG whose first bytes were replaced by a PDF header is a PDF to us;
    // a JPEG stays a JPEG whatever it was called.
    let mut disguised = png_bytes(&RgbaImage::new(4, 4));
    disguised.splice(..4, b"%PDF".iter().copied());
    assert_eq!(sniff(&disguised), Some((MediaKind::Pdf, "application/pdf")));
    let jpeg = jpeg_bytes(&photo_like(8, 8), 80);
    assert_eq!(sniff(&jpeg), Some((MediaKind::Image, "image/jpeg")));
}

#[test]
fn empty_and_oversized_files_are_too_large() {
    assert_eq!(
        process(Vec::new(), &limits()).err(),
        Some(EvidenceError::TooLarge)
    );
    let small = Limits {
        max_file_bytes: 10,
        ..limits()
    };
    let pdf = b"%PDF-1.4 and then some".to_vec();
    assert_eq!(process(pdf, &small).err(), Some(EvidenceError::TooLarge));
    let exactly = b"%PDF-1.4\n%".to_vec();
    assert!(process(exactly, &small).is_ok());
}

#[test]
fn audio_and_video_are_sniffed_and_their_originals_stored_as_sent() {
    let ftyp = |brand: &[u8]| [b"\0\0\0\x18ftyp".as_slice(), brand, b"\0\0\0\0isommp42"].concat();
    let mut ogg_opus = b"OggS\0\x02".to_vec();
    ogg_opus.resize(28, 0);
    ogg_opus.extend_from_slice(b"OpusHead\x01\x02");
    let cases: Vec<(Vec<u8>, MediaKind, &str)> = vec![
        (
            b"#!AMR\n\x3c\x48\x77\x44\x32\x11\x22\x33".to_vec(),
            MediaKind::Audio,
            "audio/amr",
        ),
        (
            b"#!AMR-WB\n\x04\x10\x20".to_vec(),
            MediaKind::Audio,
            "audio/amr-wb",
        ),
        (
            b"\x02#!SILK_V3\x0c\x00".to_vec(),
            MediaKind::Audio,
            "audio/silk",
        ),
        (
            b"#!SILK_V3\x0c\x00".to_vec(),
            MediaKind::Audio,
            "audio/silk",
        ),
        (
            b"ID3\x04\0\0\0\0\0\0".to_vec(),
            MediaKind::Audio,
            "audio/mpeg",
        ),
        (
            b"\xff\xfb\x90\x64\0\0".to_vec(),
            MediaKind::Audio,
            "audio/mpeg",
        ),
        (
            b"\xff\xf3\x84\xc4\0\0".to_vec(),
            MediaKind::Audio,
            "audio/mpeg",
        ),
        (
            b"\xff\xf1\x50\x80\0\0".to_vec(),
            MediaKind::Audio,
            "audio/aac",
        ),
        (ftyp(b"M4A "), MediaKind::Audio, "audio/mp4"),
        (
            b"RIFF\x24\0\0\0WAVEfmt ".to_vec(),
            MediaKind::Audio,
            "audio/wav",
        ),
        (ogg_opus, MediaKind::Audio, "audio/ogg"),
        (ftyp(b"isom"), MediaKind::Video, "video/mp4"),
        (ftyp(b"mp42"), MediaKind::Video, "video/mp4"),
        (ftyp(b"qt  "), MediaKind::Video, "video/quicktime"),
        (ftyp(b"3gp4"), MediaKind::Video, "video/3gpp"),
        (ftyp(b"3g2a"), MediaKind::Video, "video/3gpp2"),
        (
            b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm".to_vec(),
            MediaKind::Video,
            "video/webm",
        ),
    ];
    for (bytes, kind, media_type) in cases {
        assert_eq!(sniff(&bytes), Some((kind, media_type)), "{media_type}");
        let processed = process(bytes.clone(), &limits()).expect(media_type);
        assert_eq!(processed.original, bytes);
        assert_working_copy_or_held_sealed(&processed);
    }
    for refused in [
        ftyp(b"heic"),
        ftyp(b"mif1"),
        ftyp(b"avif"),
        b"PK\x03\x04zipzip".to_vec(),
    ] {
        assert_eq!(sniff(&refused), None);
    }
}
