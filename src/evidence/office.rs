//! DOCX, XLSX and PPTX working copies: the package without its document properties.
//!
//! An Office Open XML file is a ZIP package of XML parts. Word, Excel and
//! PowerPoint keep who wrote a document in `docProps/`: `core.xml` (creator,
//! last modified by, dates, title), `app.xml` (application, company, manager,
//! template), `custom.xml` (any property an organisation adds), and a
//! `thumbnail.*` picture of the first page. The working copy is a new package
//! with every part under `docProps/` left out, the package relationships that
//! pointed at them (`_rels/.rels`) and their content-type overrides
//! (`[Content_Types].xml`) removed, and the remaining parts recompressed with
//! no timestamps or extra fields. JPEG pictures in the package (`word/media/`,
//! ...) lose their EXIF and other metadata segments losslessly, as uploaded
//! photos do. Document content (including the names of comment and
//! tracked-change authors inside it) is not touched.
//!
//! Parts are inflated under a total budget, so a ZIP bomb is held sealed
//! rather than filling memory.

use std::io::{Cursor, Read, Write};

use zip::write::SimpleFileOptions;

use super::{jpeg, Limits, Unsanitizable};

pub(super) const DOCX: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
pub(super) const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub(super) const PPTX: &str =
    "application/vnd.openxmlformats-officedocument.presentationml.presentation";

const CONTENT_TYPES: &str = "[Content_Types].xml";
/// How much of `[Content_Types].xml` detection reads.
const CONTENT_TYPES_READ: u64 = 1024 * 1024;
const PACKAGE_RELS: &str = "_rels/.rels";
const PROPERTIES: &str = "docProps/";

/// The Office type of a ZIP package, told by the content type its
/// `[Content_Types].xml` gives the main part (`word/document.xml`,
/// `xl/workbook.xml` or `ppt/presentation.xml` in files Office writes; the
/// name is not what counts). Macro-enabled documents and templates, other
/// ZIP-based formats and damaged packages are `None`.
pub(super) fn detect(bytes: &[u8]) -> Option<&'static str> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let mut types = String::new();
    archive
        .by_name(CONTENT_TYPES)
        .ok()?
        .take(CONTENT_TYPES_READ)
        .read_to_string(&mut types)
        .ok()?;
    [
        ("wordprocessingml.document.main+xml", DOCX),
        ("spreadsheetml.sheet.main+xml", XLSX),
        ("presentationml.presentation.main+xml", PPTX),
    ]
    .into_iter()
    .find(|(main, _)| types.contains(main))
    .map(|(_, media_type)| media_type)
}

/// The working copy of an Office Open XML package.
pub(super) fn sanitize(bytes: &[u8], limits: &Limits) -> Result<Vec<u8>, Unsanitizable> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| Unsanitizable::Unreadable)?;
    if archive.index_for_name(CONTENT_TYPES).is_none() {
        return Err(Unsanitizable::UnknownLayout);
    }
    let mut budget = inflate_budget(limits);
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    for index in 0..archive.len() {
        let mut part = archive
            .by_index(index)
            .map_err(|_| Unsanitizable::Unreadable)?;
        let name = part.name().to_string();
        if part.is_dir() || is_property_part(&name) {
            continue;
        }
        let mut content = Vec::new();
        let read = (&mut part)
            .take(budget + 1)
            .read_to_end(&mut content)
            .map_err(|_| Unsanitizable::Unreadable)?;
        budget = budget
            .checked_sub(read as u64)
            .ok_or(Unsanitizable::UnknownLayout)?;
        let content = match name.as_str() {
            CONTENT_TYPES => drop_elements(&content, "<Override ", "PartName=")?,
            PACKAGE_RELS => drop_elements(&content, "<Relationship ", "Target=")?,
            // A photo pasted into a document keeps its camera's EXIF (GPS too).
            _ if content.starts_with(&[0xFF, 0xD8]) => {
                jpeg::strip(&content)
                    .map_err(|_| Unsanitizable::UnknownLayout)?
                    .bytes
            }
            _ => content,
        };
        writer
            .start_file(name, options)
            .map_err(|_| Unsanitizable::Unreadable)?;
        writer
            .write_all(&content)
            .map_err(|_| Unsanitizable::Unreadable)?;
    }
    let out = writer.finish().map_err(|_| Unsanitizable::Unreadable)?;
    Ok(out.into_inner())
}

/// Total bytes all parts may inflate to.
fn inflate_budget(limits: &Limits) -> u64 {
    limits
        .max_file_bytes
        .saturating_mul(8)
        .min(512 * 1024 * 1024)
}

/// A part under `docProps/`, however the name is written.
fn is_property_part(name: &str) -> bool {
    name.trim_start_matches('/')
        .get(..PROPERTIES.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(PROPERTIES))
}

/// Removes the empty XML elements starting with `open` (e.g. `<Override `)
/// whose attribute `attr` names a property part.
fn drop_elements(xml: &[u8], open: &str, attr: &str) -> Result<Vec<u8>, Unsanitizable> {
    let xml = std::str::from_utf8(xml).map_err(|_| Unsanitizable::Unreadable)?;
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(at) = rest.find(open) {
        out.push_str(&rest[..at]);
        let element = &rest[at..];
        let len = element.find("/>").ok_or(Unsanitizable::Unreadable)? + 2;
        let (element, after) = element.split_at(len);
        if !attribute(element, attr).is_some_and(is_property_part) {
            out.push_str(element);
        }
        rest = after;
    }
    out.push_str(rest);
    Ok(out.into_bytes())
}

/// The value of `attr` (given with its `=`) in one element.
fn attribute<'a>(element: &'a str, attr: &str) -> Option<&'a str> {
    let at = element.find(attr)? + attr.len();
    let quote = element[at..].chars().next()?;
    let value = &element[at + quote.len_utf8()..];
    Some(&value[..value.find(quote)?])
}
