//! Tests for WebM and Office working copies: fixtures built element by
//! element and part by part, with the secrets in every metadata place the
//! sanitizers promise to clear.

use std::io::{Cursor, Read, Write};

use super::checks::{self, LATITUDE, LONGITUDE, NAME, PHONE, SERIAL};
use super::*;

fn limits() -> Limits {
    Limits::default()
}

// ---------------------------------------------------------------------------
// WebM
// ---------------------------------------------------------------------------

/// An EBML element with an 8-byte size.
fn el(id: &[u8], payload: &[u8]) -> Vec<u8> {
    let size = (payload.len() as u64 | 1 << 56).to_be_bytes();
    [id, &size, payload].concat()
}

/// An element of unknown size (live recordings).
fn el_open(id: &[u8], payload: &[u8]) -> Vec<u8> {
    [
        id,
        &[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
        payload,
    ]
    .concat()
}

const BLOCK: &[u8] = b"\x81\x00\x00\x80vp8-keyframe-bytes";

fn webm(unknown_sizes: bool) -> Vec<u8> {
    let header = el(
        b"\x1a\x45\xdf\xa3",
        &[
            el(b"\x42\x82", b"webm"),
            el(b"\x42\x87", &[4]),
            el(b"\x42\x85", &[2]),
        ]
        .concat(),
    );
    let info = el(
        b"\x15\x49\xa9\x66",
        &[
            el(b"\x2a\xd7\xb1", &[0x0F, 0x42, 0x40]),
            el(b"\x4d\x80", format!("Chrome {SERIAL}").as_bytes()),
            el(b"\x57\x41", b"Chrome"),
            el(b"\x7b\xa9", format!("{NAME} {PHONE}").as_bytes()),
            el(
                b"\x44\x61",
                &[0x09, 0x8C, 0x4F, 0x2D, 0x00, 0x00, 0x00, 0x00],
            ),
        ]
        .concat(),
    );
    let tracks = el(
        b"\x16\x54\xae\x6b",
        &el(
            b"\xae",
            &[
                el(b"\xd7", &[1]),
                el(b"\x73\xc5", &[1]),
                el(b"\x83", &[1]),
                el(b"\x86", b"V_VP8"),
                el(b"\x53\x6e", format!("cam of {NAME}").as_bytes()),
                el(b"\xe0", &[el(b"\xb0", &[64]), el(b"\xba", &[48])].concat()),
            ]
            .concat(),
        ),
    );
    let cluster_body = [el(b"\xe7", &[0]), el(b"\xa3", BLOCK)].concat();
    let cluster = if unknown_sizes {
        el_open(b"\x1f\x43\xb6\x75", &cluster_body)
    } else {
        el(b"\x1f\x43\xb6\x75", &cluster_body)
    };
    let simple_tag = |name: &str, value: &str| {
        el(
            b"\x67\xc8",
            &[
                el(b"\x45\xa3", name.as_bytes()),
                el(b"\x44\x87", value.as_bytes()),
            ]
            .concat(),
        )
    };
    let tags = el(
        b"\x12\x54\xc3\x67",
        &el(
            b"\x73\x73",
            &[
                simple_tag("LOCATION", &format!("{LATITUDE},{LONGITUDE}")),
                simple_tag("ARTIST", NAME),
            ]
            .concat(),
        ),
    );
    let attachments = el(
        b"\x19\x41\xa4\x69",
        &el(
            b"\x61\xa7",
            &[
                el(b"\x46\x6e", b"owner.txt"),
                el(b"\x46\x60", b"text/plain"),
                el(b"\x46\x5c", PHONE.as_bytes()),
                el(b"\x46\xae", &[1]),
            ]
            .concat(),
        ),
    );
    let body = [info, tracks, cluster, tags, attachments].concat();
    let segment = if unknown_sizes {
        el_open(b"\x18\x53\x80\x67", &body)
    } else {
        el(b"\x18\x53\x80\x67", &body)
    };
    [header, segment].concat()
}

#[test]
fn webm_tags_attachments_and_titles_are_voided_in_place() {
    for unknown_sizes in [false, true] {
        let file = webm(unknown_sizes);
        checks::assert_carries_secrets(&file, checks::SECRETS, "the WebM fixture");
        let processed = process(file.clone(), &limits()).expect("accepted");
        assert_eq!(processed.media_type, "video/webm");
        assert_eq!(processed.held_sealed, None);
        let copy = processed.working.expect("a working copy");
        assert_eq!(copy.len(), file.len(), "nothing moved");
        checks::assert_no_secret_bytes(&copy, "WebM");
        assert!(
            copy.windows(BLOCK.len()).any(|w| w == BLOCK),
            "the frame is kept"
        );
        let Some(before) = checks::exiftool_tags(&file, "before.webm") else {
            continue;
        };
        assert!(before.contains_key("Matroska:Title"), "{before:?}");
        let after = checks::assert_exiftool_clean(&copy, "working.webm").unwrap();
        assert_eq!(
            after.get("Track1:ImageWidth"),
            Some(&serde_json::json!(64)),
            "{after:?}"
        );
        assert!(
            !after.contains_key("Matroska:DateTimeOriginal"),
            "{after:?}"
        );
    }
}

#[test]
fn webm_with_unknown_structure_is_held_sealed() {
    let mut file = webm(false);
    file.truncate(file.len() - 10);
    let processed = process(file, &limits()).unwrap();
    assert_eq!(processed.held_sealed, Some(Unsanitizable::Unreadable));
}

// ---------------------------------------------------------------------------
// Office
// ---------------------------------------------------------------------------

const DOCUMENT_XML: &str = "<?xml version=\"1.0\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body><w:p><w:r><w:t>住院费用清单</w:t></w:r></w:p></w:body></w:document>";

fn docx() -> Vec<u8> {
    let content_types = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
        <Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
        <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
        <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
        <Default Extension=\"jpeg\" ContentType=\"image/jpeg\"/>\
        <Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>\
        <Override PartName=\"/docProps/core.xml\" ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/>\
        <Override PartName=\"/docProps/app.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.extended-properties+xml\"/>\
        <Override PartName=\"/docProps/custom.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.custom-properties+xml\"/>\
        </Types>";
    let rels = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
        <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
        <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/>\
        <Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties\" Target=\"docProps/core.xml\"/>\
        <Relationship Id=\"rId3\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties\" Target=\"docProps/app.xml\"/>\
        <Relationship Id=\"rId4\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties\" Target=\"/docProps/custom.xml\"/>\
        <Relationship Id=\"rId5\" Type=\"http://schemas.openxmlformats.org/package/2006/relationships/metadata/thumbnail\" Target=\"docProps/thumbnail.jpeg\"/>\
        </Relationships>";
    let core = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
        <cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\
        <dc:creator>{NAME}</dc:creator><cp:lastModifiedBy>{PHONE}</cp:lastModifiedBy><dc:title>报告</dc:title></cp:coreProperties>"
    );
    let app = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
        <Properties xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties\">\
        <Application>Microsoft Office Word</Application><Company>Licence {SERIAL}</Company></Properties>"
    );
    let custom = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
        <Properties xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/custom-properties\" xmlns:vt=\"http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes\">\
        <property fmtid=\"{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}\" pid=\"2\" name=\"Where\"><vt:lpwstr>{LATITUDE},{LONGITUDE}</vt:lpwstr></property></Properties>"
    );
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, content) in [
        ("[Content_Types].xml", content_types.as_bytes()),
        ("_rels/.rels", rels.as_bytes()),
        ("word/document.xml", DOCUMENT_XML.as_bytes()),
        ("docProps/core.xml", core.as_bytes()),
        ("docProps/app.xml", app.as_bytes()),
        ("docProps/custom.xml", custom.as_bytes()),
        (
            "docProps/thumbnail.jpeg",
            format!("thumbnail of {NAME}").as_bytes(),
        ),
        ("word/media/image1.jpeg", &photo_with_comment()),
    ] {
        zip.start_file(name, options).unwrap();
        zip.write_all(content).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// A JPEG with a comment segment naming the camera's serial.
fn photo_with_comment() -> Vec<u8> {
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new(&mut plain)
        .encode_image(&image::RgbImage::new(8, 8))
        .unwrap();
    let comment = format!("camera {SERIAL}");
    let len = u16::try_from(comment.len() + 2).unwrap().to_be_bytes();
    [
        &plain[..2],
        &[0xFF, 0xFE],
        &len,
        comment.as_bytes(),
        &plain[2..],
    ]
    .concat()
}

fn parts(file: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(file)).expect("a valid ZIP");
    (0..archive.len())
        .map(|i| {
            let mut part = archive.by_index(i).unwrap();
            let mut bytes = Vec::new();
            part.read_to_end(&mut bytes).unwrap();
            (part.name().to_string(), bytes)
        })
        .collect()
}

#[test]
fn docx_loses_its_document_properties_and_keeps_its_content() {
    let file = docx();
    let processed = process(file.clone(), &limits()).expect("accepted");
    assert_eq!(processed.kind, MediaKind::Document);
    assert_eq!(processed.media_type, super::office::DOCX);
    assert_eq!(processed.held_sealed, None);
    let copy = processed.working.expect("a working copy");
    let names: Vec<String> = parts(&copy).into_iter().map(|(n, _)| n).collect();
    let package = [
        "[Content_Types].xml",
        "_rels/.rels",
        "word/document.xml",
        "word/media/image1.jpeg",
    ];
    assert_eq!(names, package);
    let parts = parts(&copy);
    let text = |i: usize| String::from_utf8(parts[i].1.clone()).unwrap();
    assert_eq!(text(2), DOCUMENT_XML);
    assert!(!text(0).contains("docProps") && text(0).contains("/word/document.xml"));
    assert!(!text(1).contains("docProps") && text(1).contains("word/document.xml"));
    image::load_from_memory(&parts[3].1).expect("the picture still decodes");
    // Inflated parts carry no secret either (the ZIP itself is compressed).
    for (name, bytes) in &parts {
        checks::assert_no_secret_bytes(bytes, name);
    }
    let Some(before) = checks::exiftool_tags(&file, "before.docx") else {
        return;
    };
    assert!(
        before.values().any(|v| v.to_string().contains(NAME)),
        "{before:?}"
    );
    checks::assert_exiftool_clean(&copy, "working.docx");
}

#[test]
fn office_detection_and_plain_zip() {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    zip.start_file("notes.txt", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(b"plain zip").unwrap();
    let plain = zip.finish().unwrap().into_inner();
    assert_eq!(sniff(&plain), None, "a plain ZIP is still refused");
    assert_eq!(
        sniff(&docx()),
        Some((MediaKind::Document, super::office::DOCX))
    );
    // Without its central directory a package cannot be told from any ZIP.
    let mut damaged = docx();
    damaged.truncate(damaged.len() - 30);
    assert_eq!(sniff(&damaged), None);
}

#[test]
fn mutated_webm_and_office_files_never_panic() {
    checks::never_panics(&webm(true), |b| {
        let _ = super::webm::sanitize(b);
    });
    checks::never_panics(&docx(), |b| {
        let _ = super::office::detect(b);
        let _ = super::office::sanitize(b, &limits());
    });
}
