//! Tests for PDF working copies. The fixtures are built with lopdf and carry
//! the reporter's name, phone, a GPS position and a scanner serial in every
//! place a PDF can hide them; exiftool, an independent reader, then checks
//! the working copies, and adds metadata of its own as an incremental update.

use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};
use lopdf::{dictionary, text_string, Document, Object, Stream, StringFormat};

use super::checks::{self, LATITUDE, LONGITUDE, NAME, PHONE, SERIAL};
use super::*;

fn limits() -> Limits {
    Limits::default()
}

/// A baseline JPEG carrying an XMP APP1 segment and a comment with secrets,
/// as a scanning app would leave in the picture of a page.
fn jpeg_with_metadata() -> (Vec<u8>, RgbImage) {
    let picture = RgbImage::from_fn(32, 24, |x, y| Rgb([x as u8 * 8, y as u8 * 10, 90]));
    let mut plain = Vec::new();
    JpegEncoder::new_with_quality(&mut plain, 90)
        .encode_image(&picture)
        .expect("encode");
    let segment = |marker: u8, payload: &[u8]| {
        let len = u16::try_from(payload.len() + 2).expect("short");
        [&[0xFF, marker][..], &len.to_be_bytes(), payload].concat()
    };
    let xmp = [
        b"http://ns.adobe.com/xap/1.0/\0".as_slice(),
        format!("<x:xmpmeta><rdf:RDF><dc:creator>{NAME}</dc:creator><exif:GPSLatitude>{LATITUDE}</exif:GPSLatitude></rdf:RDF></x:xmpmeta>").as_bytes(),
    ]
    .concat();
    let comment = format!("scanner {SERIAL} at {LONGITUDE}");
    let with = [
        &plain[..2],
        &segment(0xE1, &xmp),
        &segment(0xFE, comment.as_bytes()),
        &plain[2..],
    ]
    .concat();
    (with, picture)
}

fn xmp_packet() -> Vec<u8> {
    format!(
        "<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?>\
         <x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>\
         <rdf:Description rdf:about='' xmlns:dc='http://purl.org/dc/elements/1.1/' xmlns:pdf='http://ns.adobe.com/pdf/1.3/'>\
         <dc:creator><rdf:Seq><rdf:li>{NAME}</rdf:li></rdf:Seq></dc:creator>\
         <dc:description><rdf:Alt><rdf:li xml:lang='x-default'>tel {PHONE}</rdf:li></rdf:Alt></dc:description>\
         <pdf:Producer>Scan {SERIAL}</pdf:Producer>\
         </rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end='w'?>"
    )
    .into_bytes()
}

/// The page's content stream, compared before and after.
const CONTENT: &[u8] = b"BT /F1 18 Tf 72 720 Td (Invoice 2026-0042: dialysis x40) Tj ET\nq 64 0 0 48 72 600 cm /Im1 Do Q";

/// A one-page PDF with an Info dictionary, XMP on the catalog and the page,
/// document IDs, a page thumbnail, an OpenAction script, a JavaScript name
/// tree, page actions, an embedded file, a file-attachment annotation, a
/// signature, and a JPEG picture with its own metadata.
fn pdf_with_everything() -> Vec<u8> {
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let (jpeg, _) = jpeg_with_metadata();
    let picture = doc.add_object(Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => 32, "Height" => 24,
            "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8, "Filter" => "DCTDecode",
        },
        jpeg,
    ));
    let content = doc.add_object(Stream::new(dictionary! {}, CONTENT.to_vec()));
    let xmp = |doc: &mut Document| {
        doc.add_object(
            Stream::new(
                dictionary! { "Type" => "Metadata", "Subtype" => "XML" },
                xmp_packet(),
            )
            .with_compression(false),
        )
    };
    let catalog_xmp = xmp(&mut doc);
    let page_xmp = xmp(&mut doc);
    let thumbnail = doc.add_object(Stream::new(
        dictionary! { "Width" => 2, "Height" => 1, "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8 },
        format!("{SERIAL}{LATITUDE}").into_bytes(),
    ));
    let script = doc.add_object(dictionary! {
        "S" => "JavaScript",
        "JS" => Object::string_literal(format!("app.alert('{PHONE}')")),
    });
    let attachment = doc.add_object(
        Stream::new(
            dictionary! { "Type" => "EmbeddedFile" },
            format!("姓名 {NAME} 电话 {PHONE}").into_bytes(),
        )
        .with_compression(false),
    );
    let filespec = doc.add_object(dictionary! {
        "Type" => "Filespec", "F" => Object::string_literal("note.txt"),
        "EF" => dictionary! { "F" => attachment },
    });
    let annotation = doc.add_object(dictionary! {
        "Type" => "Annot", "Subtype" => "FileAttachment", "Rect" => vec![10.into(), 10.into(), 30.into(), 30.into()],
        "FS" => filespec, "Contents" => text_string(NAME),
    });
    let link = doc.add_object(dictionary! {
        "Type" => "Annot", "Subtype" => "Link", "Rect" => vec![40.into(), 40.into(), 90.into(), 60.into()],
        "A" => dictionary! { "S" => "URI", "URI" => Object::string_literal("https://example.org/bill") },
    });
    let note = doc.add_object(dictionary! {
        "Type" => "Annot", "Subtype" => "Text", "Rect" => vec![100.into(), 100.into(), 120.into(), 120.into()],
        "T" => text_string(NAME), "M" => Object::string_literal("D:20240301093000+08'00'"),
        "Contents" => Object::string_literal("see line 3"),
    });
    let signature = doc.add_object(dictionary! {
        "Type" => "Sig", "Filter" => "Adobe.PPKLite", "Name" => text_string(NAME),
        "ContactInfo" => Object::string_literal(PHONE), "Contents" => Object::String(vec![0; 16], StringFormat::Hexadecimal),
    });
    let field = doc.add_object(
        dictionary! { "FT" => "Sig", "T" => Object::string_literal("sig"), "V" => signature },
    );
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => font }, "XObject" => dictionary! { "Im1" => picture } },
        "Thumb" => thumbnail, "Metadata" => page_xmp,
        "AA" => dictionary! { "O" => script }, "Annots" => vec![annotation.into(), link.into(), note.into()],
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 },
        ),
    );
    let catalog = doc.add_object(dictionary! {
        "Type" => "Catalog", "Pages" => pages_id, "Metadata" => catalog_xmp, "OpenAction" => script,
        "Names" => dictionary! {
            "EmbeddedFiles" => dictionary! { "Names" => vec![Object::string_literal("note.txt"), filespec.into()] },
            "JavaScript" => dictionary! { "Names" => vec![Object::string_literal("init"), script.into()] },
        },
        "AcroForm" => dictionary! { "Fields" => vec![field.into()] },
    });
    let info = doc.add_object(dictionary! {
        "Author" => text_string(NAME),
        "Title" => text_string(&format!("{NAME} {PHONE}")),
        "Creator" => Object::string_literal(format!("Scanner {SERIAL}")),
        "Producer" => Object::string_literal("PhoneScan 3.1"),
        "Keywords" => Object::string_literal(format!("{LATITUDE},{LONGITUDE}")),
    });
    doc.trailer.set("Root", catalog);
    doc.trailer.set("Info", info);
    let id = Object::String(PHONE.as_bytes().to_vec(), StringFormat::Hexadecimal);
    doc.trailer.set("ID", vec![id.clone(), id]);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("save fixture");
    out
}

/// Everything a case viewer may rely on survived: one page with the same
/// content, the picture with the same pixels, the link.
fn assert_still_the_same_document(working: &[u8]) {
    let doc = Document::load_mem(working).expect("lopdf reloads the working copy");
    let pages = doc.get_pages();
    assert_eq!(pages.len(), 1);
    let page = *pages.values().next().unwrap();
    assert_eq!(doc.get_page_content(page).trim_ascii_end(), CONTENT);
    let page_dict = doc.get_dictionary(page).unwrap();
    let annots = page_dict.get(b"Annots").and_then(Object::as_array).unwrap();
    assert_eq!(
        annots.len(),
        2,
        "the link and the note stay, the attachment goes"
    );
    let note = doc
        .get_dictionary(annots[1].as_reference().unwrap())
        .unwrap();
    assert!(
        note.has(b"Contents") && !note.has(b"T") && !note.has(b"M"),
        "no author"
    );
    let images = doc.get_page_images(page).expect("images");
    assert_eq!(images.len(), 1);
    let decoded = image::load_from_memory(images[0].content).expect("the picture decodes");
    let (_, picture) = jpeg_with_metadata();
    let original = image::load_from_memory(&{
        let mut plain = Vec::new();
        JpegEncoder::new_with_quality(&mut plain, 90)
            .encode_image(&picture)
            .unwrap();
        plain
    })
    .unwrap();
    assert_eq!(decoded.to_rgb8(), original.to_rgb8(), "same pixels");
}

fn assert_no_metadata_objects(working: &[u8]) {
    let doc = Document::load_mem(working).unwrap();
    assert!(!doc.trailer.has(b"Info") && !doc.trailer.has(b"ID"));
    let catalog = doc.catalog().unwrap();
    for key in [b"Metadata".as_slice(), b"OpenAction", b"AA"] {
        assert!(!catalog.has(key), "{}", String::from_utf8_lossy(key));
    }
    for (id, object) in &doc.objects {
        let dict = match object {
            Object::Dictionary(d) => d,
            Object::Stream(s) => &s.dict,
            _ => continue,
        };
        for key in [
            b"Metadata".as_slice(),
            b"Thumb",
            b"JS",
            b"EF",
            b"EmbeddedFiles",
            b"JavaScript",
        ] {
            assert!(
                !dict.has(key),
                "object {id:?} still has /{}",
                String::from_utf8_lossy(key)
            );
        }
        let name = |k: &[u8]| dict.get(k).and_then(Object::as_name).ok();
        assert_ne!(name(b"Subtype"), Some(b"FileAttachment".as_slice()));
        assert_ne!(name(b"Type"), Some(b"Sig".as_slice()));
        assert_ne!(name(b"S"), Some(b"JavaScript".as_slice()));
    }
    for js in [b"JavaScript".as_slice(), b"/JS"] {
        assert!(
            !working.windows(js.len()).any(|w| w == js),
            "no script left"
        );
    }
}

#[test]
fn pdf_working_copy_has_no_metadata_and_the_same_page() {
    let pdf = pdf_with_everything();
    checks::assert_carries_secrets(&pdf, checks::SECRETS, "the PDF fixture");
    let processed = process(pdf.clone(), &limits()).expect("accepted");
    assert_eq!(
        (processed.kind, processed.media_type),
        (MediaKind::Pdf, "application/pdf")
    );
    assert_eq!(
        processed.original, pdf,
        "the original is kept byte for byte"
    );
    assert_eq!(processed.held_sealed, None);
    assert_eq!(processed.working_media_type, Some("application/pdf"));
    let working = processed.working.expect("a working copy");
    assert_eq!(processed.working_sha256, Some(sha256(&working)));
    checks::assert_no_secret_bytes(&working, "PDF");
    assert_no_metadata_objects(&working);
    assert_still_the_same_document(&working);
    let Some(before) = checks::exiftool_tags(&pdf, "before.pdf") else {
        return;
    };
    // The fixture is real to exiftool too: it reads the Info dictionary and the XMP.
    assert!(before.contains_key("PDF:Author"), "{before:?}");
    assert!(
        before.keys().any(|k| k.starts_with("XMP-dc:")),
        "{before:?}"
    );
    let caught = std::panic::catch_unwind(|| checks::assert_exiftool_clean(&pdf, "original.pdf"));
    assert!(
        caught.is_err(),
        "the exiftool check does fail on the original"
    );
    let after = checks::assert_exiftool_clean(&working, "working.pdf").unwrap();
    assert_eq!(
        after.get("PDF:PageCount"),
        Some(&serde_json::json!(1)),
        "{after:?}"
    );
}

/// exiftool writes its metadata as an incremental update: a second Info
/// dictionary and a new XMP stream appended after the first revision. The old
/// revision's objects must not survive in the working copy either.
#[test]
fn pdf_incremental_updates_leave_nothing_behind() {
    let tagged = checks::exiftool_write(
        &pdf_with_everything(),
        "tagged.pdf",
        &[
            &format!("-PDF:Author={NAME}"),
            &format!("-XMP-dc:Creator={NAME}"),
            &format!("-XMP-dc:Rights=tel {PHONE}"),
            &format!("-XMP-exif:GPSLatitude={LATITUDE}"),
            &format!("-XMP-tiff:Model={SERIAL}"),
        ],
    );
    let Some(tagged) = tagged else {
        return;
    };
    let processed = process(tagged, &limits()).expect("accepted");
    let working = processed.working.expect("a working copy");
    checks::assert_no_secret_bytes(&working, "updated PDF");
    assert_no_metadata_objects(&working);
    checks::assert_exiftool_clean(&working, "working.pdf");
    assert_still_the_same_document(&working);
}

#[test]
fn encrypted_pdf_is_held_sealed() {
    let mut doc = Document::load_mem(&pdf_with_everything()).unwrap();
    let state = lopdf::EncryptionState::try_from(lopdf::EncryptionVersion::V2 {
        document: &doc,
        owner_password: "owner",
        user_password: "reporter",
        key_length: 128,
        permissions: lopdf::Permissions::all(),
    })
    .expect("encryption state");
    doc.encrypt(&state).expect("encrypt");
    let mut encrypted = Vec::new();
    doc.save_to(&mut encrypted).unwrap();
    let processed = process(encrypted.clone(), &limits()).expect("still accepted");
    assert_eq!(processed.original, encrypted);
    assert_eq!(processed.held_sealed, Some(Unsanitizable::Encrypted));
    assert!(processed.working.is_none() && processed.working_media_type.is_none());
    assert!(processed.working_sha256.is_none());
}

#[test]
fn unreadable_pdf_is_held_sealed_not_refused() {
    let mut broken = pdf_with_everything();
    broken.truncate(40);
    let processed = process(broken.clone(), &limits()).expect("still accepted");
    assert_eq!(processed.kind, MediaKind::Pdf);
    assert_eq!(processed.original, broken);
    assert_eq!(processed.held_sealed, Some(Unsanitizable::Unreadable));
    assert!(processed.working.is_none());
}

/// Objects inside compressed object streams, with a cross-reference stream
/// for a trailer (how most current producers write PDFs): the Info
/// dictionary and the XMP are found there too.
#[test]
fn pdf_with_object_streams_comes_out_clean() {
    let mut doc = Document::load_mem(&pdf_with_everything()).unwrap();
    let mut modern = Vec::new();
    doc.save_modern(&mut modern).expect("object streams");
    assert!(
        modern.windows(7).any(|w| w == b"/ObjStm"),
        "the fixture uses object streams"
    );
    let processed = process(modern, &limits()).expect("accepted");
    let working = processed.working.expect("a working copy");
    checks::assert_no_secret_bytes(&working, "PDF with object streams");
    assert_no_metadata_objects(&working);
    assert_still_the_same_document(&working);
    checks::assert_exiftool_clean(&working, "working.pdf");
}

#[test]
fn mutated_pdfs_never_panic() {
    checks::never_panics(&pdf_with_everything(), |b| {
        let _ = super::pdf::sanitize(b, &limits());
    });
}
