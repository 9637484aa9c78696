//! Image fixtures and inspection helpers for the evidence tests (tests.rs,
//! sniff_tests.rs). Everything is generated here, byte by byte where the image
//! crate cannot write it (EXIF, PNG text chunks, GIF comments), so nothing
//! depends on downloads or binary files.

use super::*;
use image::codecs::gif::GifEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, ExtendedColorType, Frame, Rgb, RgbImage, RgbaImage};
use std::io::Cursor;

// ---------------------------------------------------------------------------
// Fixture builders
// ---------------------------------------------------------------------------

pub(super) const GPS_SERIAL: &str = "SN-CAMERA-0042-SECRET";
pub(super) const XMP_SECRET: &str = "SECRET-XMP-OWNER-Zhang-San";
pub(super) const IPTC_SECRET: &str = "SECRET-IPTC-BYLINE";
pub(super) const COMMENT_SECRET: &str = "SECRET-JPEG-COMMENT";
pub(super) const TRAILER_SECRET: &str = "SECRET-AFTER-EOI";

pub(super) fn limits() -> Limits {
    Limits::default()
}

/// A picture with smooth gradients and some texture, so JPEG encoding
/// produces realistic entropy-coded data.
pub(super) fn photo_like(width: u32, height: u32) -> RgbImage {
    let mut rng = XorShift(0x5EED_1234);
    RgbImage::from_fn(width, height, |x, y| {
        let noise = (rng.next() % 16) as u8;
        Rgb([
            ((x * 255 / width.max(1)) as u8).wrapping_add(noise),
            ((y * 255 / height.max(1)) as u8).wrapping_add(noise / 2),
            (((x + y) % 64) * 4) as u8,
        ])
    })
}

pub(super) fn jpeg_bytes(image: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(image)
        .expect("encode fixture JPEG");
    out
}

pub(super) fn png_bytes(image: &RgbaImage) -> Vec<u8> {
    let mut out = Vec::new();
    image
        .write_with_encoder(PngEncoder::new(&mut out))
        .expect("encode fixture PNG");
    out
}

/// One TIFF IFD entry; `data` is already little-endian encoded.
pub(super) struct Entry {
    tag: u16,
    kind: u16,
    count: u32,
    data: Vec<u8>,
}

pub(super) fn ascii(tag: u16, text: &str) -> Entry {
    let mut data = text.as_bytes().to_vec();
    data.push(0);
    Entry {
        tag,
        kind: 2,
        count: data.len() as u32,
        data,
    }
}

pub(super) fn short(tag: u16, value: u16) -> Entry {
    Entry {
        tag,
        kind: 3,
        count: 1,
        data: value.to_le_bytes().to_vec(),
    }
}

pub(super) fn long(tag: u16, value: u32) -> Entry {
    Entry {
        tag,
        kind: 4,
        count: 1,
        data: value.to_le_bytes().to_vec(),
    }
}

pub(super) fn byte_array(tag: u16, values: &[u8]) -> Entry {
    Entry {
        tag,
        kind: 1,
        count: values.len() as u32,
        data: values.to_vec(),
    }
}

pub(super) fn rationals(tag: u16, values: &[(u32, u32)]) -> Entry {
    let data = values
        .iter()
        .flat_map(|(n, d)| n.to_le_bytes().into_iter().chain(d.to_le_bytes()))
        .collect();
    Entry {
        tag,
        kind: 5,
        count: values.len() as u32,
        data,
    }
}

/// Size of an IFD including its out-of-line values.
pub(super) fn ifd_len(entries: &[Entry]) -> usize {
    let out_of_line: usize = entries
        .iter()
        .filter(|e| e.data.len() > 4)
        .map(|e| e.data.len() + e.data.len() % 2)
        .sum();
    2 + 12 * entries.len() + 4 + out_of_line
}

/// Appends an IFD at the current end of `tiff`, values > 4 bytes right after it.
pub(super) fn write_ifd(tiff: &mut Vec<u8>, entries: &[Entry]) {
    let mut out_of_line = Vec::new();
    let data_start = tiff.len() + 2 + 12 * entries.len() + 4;
    tiff.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for entry in entries {
        tiff.extend_from_slice(&entry.tag.to_le_bytes());
        tiff.extend_from_slice(&entry.kind.to_le_bytes());
        tiff.extend_from_slice(&entry.count.to_le_bytes());
        if entry.data.len() <= 4 {
            let mut inline = entry.data.clone();
            inline.resize(4, 0);
            tiff.extend_from_slice(&inline);
        } else {
            let offset = (data_start + out_of_line.len()) as u32;
            tiff.extend_from_slice(&offset.to_le_bytes());
            out_of_line.extend_from_slice(&entry.data);
            if entry.data.len() % 2 == 1 {
                out_of_line.push(0);
            }
        }
    }
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(&out_of_line);
}

/// A little-endian TIFF/EXIF block with camera make/model, an optional
/// orientation, a body serial number and a full GPS position.
pub(super) fn exif_tiff(orientation: Option<u16>) -> Vec<u8> {
    let exif_ifd = vec![
        ascii(0x9003, "2024:05:01 10:00:00"),
        ascii(0xA431, GPS_SERIAL), // BodySerialNumber
    ];
    let gps_ifd = vec![
        byte_array(0x0000, &[2, 3, 0, 0]),
        ascii(0x0001, "N"),
        rationals(0x0002, &[(39, 1), (54, 1), (2712, 100)]),
        ascii(0x0003, "E"),
        rationals(0x0004, &[(116, 1), (23, 1), (4512, 100)]),
    ];
    let mut ifd0 = vec![ascii(0x010F, "TestCam"), ascii(0x0110, "Model X1")];
    if let Some(value) = orientation {
        ifd0.push(short(0x0112, value));
    }
    // Pointer values are fixed below, once the IFD sizes are known.
    ifd0.push(long(0x8769, 0));
    ifd0.push(long(0x8825, 0));
    let exif_offset = 8 + ifd_len(&ifd0);
    let gps_offset = exif_offset + ifd_len(&exif_ifd);
    let pointers = ifd0.len() - 2;
    ifd0[pointers] = long(0x8769, exif_offset as u32);
    ifd0[pointers + 1] = long(0x8825, gps_offset as u32);

    let mut tiff = b"II*\0".to_vec();
    tiff.extend_from_slice(&8u32.to_le_bytes());
    write_ifd(&mut tiff, &ifd0);
    write_ifd(&mut tiff, &exif_ifd);
    write_ifd(&mut tiff, &gps_ifd);
    tiff
}

pub(super) fn jpeg_segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut segment = vec![0xFF, marker];
    segment.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    segment.extend_from_slice(payload);
    segment
}

pub(super) fn exif_app1(tiff: &[u8]) -> Vec<u8> {
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(tiff);
    jpeg_segment(0xE1, &payload)
}

/// Inserts whole segments right after SOI.
pub(super) fn insert_after_soi(jpeg: &[u8], segments: &[Vec<u8>]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    segments.iter().for_each(|s| out.extend_from_slice(s));
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Photoshop image-resource block holding one IPTC By-line (2:80) record.
pub(super) fn photoshop_iptc(byline: &str) -> Vec<u8> {
    let mut iptc = vec![0x1C, 0x02, 0x50];
    iptc.extend_from_slice(&(byline.len() as u16).to_be_bytes());
    iptc.extend_from_slice(byline.as_bytes());
    let mut block = b"Photoshop 3.0\08BIM\x04\x04\0\0".to_vec(); // IPTC resource, empty name
    block.extend_from_slice(&(iptc.len() as u32).to_be_bytes());
    block.extend_from_slice(&iptc);
    if iptc.len() % 2 == 1 {
        block.push(0);
    }
    block
}

/// Minimal XMP packet naming the photographer.
pub(super) fn xmp_packet(creator: &str) -> Vec<u8> {
    format!(
        "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\
         <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\
         <rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\
         <dc:creator><rdf:Seq><rdf:li>{creator}</rdf:li></rdf:Seq></dc:creator>\
         </rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    .into_bytes()
}

/// APP2 ICC_PROFILE payload: a 156-byte profile with one copyright tag,
/// just well-formed enough for exiftool to list it.
pub(super) fn icc_app2_payload() -> Vec<u8> {
    let mut profile = vec![0u8; 128];
    profile[..4].copy_from_slice(&156u32.to_be_bytes());
    profile[4..24].copy_from_slice(b"lcms\x02\x10\0\0mntrRGB XYZ ");
    profile[36..40].copy_from_slice(b"acsp");
    profile.extend_from_slice(&1u32.to_be_bytes()); // tag count
    profile.extend_from_slice(b"cprt\0\0\0\x90\0\0\0\x0c"); // offset 144, size 12
    profile.extend_from_slice(b"text\0\0\0\0ICC\0");
    [b"ICC_PROFILE\0\x01\x01".as_slice(), &profile].concat()
}

/// A JPEG carrying every kind of metadata we promise to remove: EXIF with
/// GPS and a camera serial, XMP, Photoshop/IPTC, an ICC profile, a comment,
/// and data appended after EOI.
pub(super) fn jpeg_with_everything(image: &RgbImage, orientation: Option<u16>) -> Vec<u8> {
    let mut jpeg = insert_after_soi(
        &jpeg_bytes(image, 90),
        &[
            exif_app1(&exif_tiff(orientation)),
            jpeg_segment(0xE1, &xmp_packet(XMP_SECRET)),
            jpeg_segment(0xE2, &icc_app2_payload()),
            jpeg_segment(0xED, &photoshop_iptc(IPTC_SECRET)),
            jpeg_segment(0xFE, COMMENT_SECRET.as_bytes()),
        ],
    );
    jpeg.extend_from_slice(TRAILER_SECRET.as_bytes());
    jpeg
}

pub(super) fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                0xEDB8_8320 ^ (crc >> 1)
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

pub(super) fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(data);
    chunk.extend_from_slice(&crc32(&chunk[4..]).to_be_bytes());
    chunk
}

/// zlib stream with one uncompressed deflate block, so a zTXt payload stays
/// readable in the file bytes (and a leak would be visible to `contains`).
pub(super) fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    let len = data.len() as u16;
    let mut out = vec![0x78, 0x01, 0x01];
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

/// Inserts chunks right after IHDR (signature 8 bytes + IHDR 25 bytes).
pub(super) fn insert_after_ihdr(png: &[u8], chunks: &[Vec<u8>]) -> Vec<u8> {
    let mut out = png[..33].to_vec();
    chunks.iter().for_each(|c| out.extend_from_slice(c));
    out.extend_from_slice(&png[33..]);
    out
}

/// PNG from raw IHDR fields plus the given IDAT payload.
pub(super) fn png_from_parts(width: u32, height: u32, idat: &[u8]) -> Vec<u8> {
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]); // 8-bit RGBA
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(png_chunk(b"IHDR", &ihdr));
    png.extend(png_chunk(b"IDAT", idat));
    png.extend(png_chunk(b"IEND", &[]));
    png
}

pub(super) fn gif_bytes(frames: Vec<RgbaImage>) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut out);
        encoder
            .encode_frames(frames.into_iter().map(Frame::new))
            .expect("encode fixture GIF");
    }
    out
}

/// GIF extension block: introducer, label, data sub-blocks, terminator.
pub(super) fn gif_extension(label: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut block = vec![0x21, label];
    for part in parts {
        block.push(part.len() as u8);
        block.extend_from_slice(part);
    }
    block.push(0);
    block
}

/// Extended WebP (VP8X) with a lossless image and an EXIF chunk.
pub(super) fn webp_with_exif(image: &RgbImage, tiff: &[u8]) -> Vec<u8> {
    let mut simple = Vec::new();
    WebPEncoder::new_lossless(&mut simple)
        .encode(
            image.as_raw(),
            image.width(),
            image.height(),
            ExtendedColorType::Rgb8,
        )
        .expect("encode fixture WebP");
    let mut vp8x = vec![0x08, 0, 0, 0]; // flags: EXIF present
    vp8x.extend_from_slice(&(image.width() - 1).to_le_bytes()[..3]);
    vp8x.extend_from_slice(&(image.height() - 1).to_le_bytes()[..3]);

    let mut body = b"WEBP".to_vec();
    body.extend(riff_chunk(b"VP8X", &vp8x));
    body.extend_from_slice(&simple[12..]); // the VP8L chunk as encoded
    body.extend(riff_chunk(b"EXIF", tiff));
    let mut file = b"RIFF".to_vec();
    file.extend_from_slice(&(body.len() as u32).to_le_bytes());
    file.extend(body);
    file
}

pub(super) fn riff_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = kind.to_vec();
    chunk.extend_from_slice(&(data.len() as u32).to_le_bytes());
    chunk.extend_from_slice(data);
    if data.len() % 2 == 1 {
        chunk.push(0);
    }
    chunk
}

/// Small deterministic PRNG so the fuzz loop and noise are reproducible.
pub(super) struct XorShift(pub(super) u64);

impl XorShift {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

// ---------------------------------------------------------------------------
// Inspection helpers
// ---------------------------------------------------------------------------

pub(super) fn decode(bytes: &[u8]) -> DynamicImage {
    image::load_from_memory(bytes).expect("decodable image")
}

pub(super) fn assert_same_pixels(a: &DynamicImage, b: &DynamicImage) {
    assert_eq!(
        (a.width(), a.height()),
        (b.width(), b.height()),
        "dimensions"
    );
    assert_eq!(a.color(), b.color(), "colour type");
    assert!(a.as_bytes() == b.as_bytes(), "pixel data differs");
}

/// The kamadak-exif reader must find no EXIF at all in `bytes`.
pub(super) fn assert_no_exif(bytes: &[u8]) {
    let result = exif::Reader::new().read_from_container(&mut Cursor::new(bytes));
    assert!(
        matches!(result, Err(exif::Error::NotFound(_))),
        "expected no EXIF, got {:?}",
        result.map(|e| e.fields().map(|f| f.tag.to_string()).collect::<Vec<_>>())
    );
}

pub(super) fn assert_absent(haystack: &[u8], needle: &str) {
    assert!(
        !haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes()),
        "{needle:?} leaked into the working copy"
    );
}

/// Markers of all segments before the first SOS, plus SOS itself.
pub(super) fn jpeg_header_markers(jpeg: &[u8]) -> Vec<u8> {
    let mut markers = Vec::new();
    let mut pos = 2;
    while pos + 4 <= jpeg.len() {
        let marker = jpeg[pos + 1];
        markers.push(marker);
        if marker == 0xDA {
            break;
        }
        pos += 2 + usize::from(u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]));
    }
    markers
}

pub(super) fn png_chunk_types(png: &[u8]) -> Vec<String> {
    let mut types = Vec::new();
    let mut pos = 8;
    while pos + 8 <= png.len() {
        let len = u32::from_be_bytes([png[pos], png[pos + 1], png[pos + 2], png[pos + 3]]) as usize;
        types.push(String::from_utf8_lossy(&png[pos + 4..pos + 8]).into_owned());
        pos += 12 + len;
    }
    types
}

/// Metadata exiftool reports for `bytes`, or `None` when exiftool is not installed (the
/// caller then leaves out that part of the check; see tests/support/tools.rs).
pub(super) fn exiftool_metadata(bytes: &[u8], name: &str) -> Option<String> {
    let part =
        "the exiftool check in evidence::tests::jpeg_gps_exif_and_serial_are_removed_losslessly";
    if !crate::test_tools::need(part, &[crate::test_tools::EXIFTOOL]) {
        return None;
    }
    let path = std::env::temp_dir().join(format!("jubao-evidence-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).expect("write temp file");
    let output = std::process::Command::new("exiftool")
        .args([
            "-a",
            "-s",
            "-G1",
            "-EXIF:all",
            "-GPS:all",
            "-XMP:all",
            "-IPTC:all",
        ])
        .args([
            "-Photoshop:all",
            "-ICC_Profile:all",
            "-Comment",
            "-MakerNotes:all",
        ])
        .arg(&path)
        .output();
    let _ = std::fs::remove_file(&path);
    let out = output.expect("run exiftool");
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}
