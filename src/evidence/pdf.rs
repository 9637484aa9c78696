//! PDF working copies: the document rewritten without what identifies its author.
//!
//! A PDF carries its author in several places besides the pages themselves:
//! the Info dictionary (Author, Creator, Producer, Title, ...), XMP metadata
//! streams (on the catalog and on any page, image or font), the document IDs
//! in the trailer, page thumbnails, embedded files and file-attachment
//! annotations, digital signatures (the signer's certificate, name, location
//! and contact), the authors of comments and highlights, and camera EXIF
//! inside embedded JPEG pictures. JavaScript and other automatic actions are
//! no metadata, but nothing a case viewer opens should run code either.
//!
//! The file is parsed with `lopdf`, cleaned as a tree of objects, and written
//! anew: earlier revisions of an incrementally updated file, unreferenced
//! objects and object streams are not copied, so what was removed in one
//! revision cannot survive in another. Page content is not touched.

use std::collections::HashSet;

use lopdf::{Dictionary, Document, LoadOptions, Object, ObjectId};

use super::{jpeg, Limits, Unsanitizable};

/// Keys removed from every dictionary, wherever they are.
const STRIPPED_KEYS: &[&[u8]] = &[
    b"Metadata",      // XMP stream
    b"Thumb",         // page thumbnail
    b"PieceInfo",     // private data of the producing application
    b"LastModified",  // page and form modification dates
    b"AA",            // additional (automatic) actions
    b"OpenAction",    // action run when the document opens
    b"JavaScript",    // document-level scripts in the name tree
    b"EmbeddedFiles", // attachments in the name tree
    b"EF",            // the embedded stream of a file specification
    b"AF",            // associated files (PDF 2.0, PDF/A-3)
    b"DSS",           // certificates and revocation data of signatures
];

/// Keys removed from markup annotations (sticky notes, highlights, stamps,
/// ...): the author's name and the dates. (In form fields `/T` is the field
/// name and stays.)
const ANNOTATION_AUTHOR_KEYS: &[&[u8]] = &[b"T", b"M", b"CreationDate"];

/// Annotation types whose `/T` is the name of the person who made them.
const MARKUP_ANNOTATIONS: &[&[u8]] = &[
    b"Text",
    b"FreeText",
    b"Line",
    b"Square",
    b"Circle",
    b"Polygon",
    b"PolyLine",
    b"Highlight",
    b"Underline",
    b"Squiggly",
    b"StrikeOut",
    b"Stamp",
    b"Caret",
    b"Ink",
    b"Popup",
    b"Sound",
    b"Redact",
];

/// Action types that run code or open other files.
const DOOMED_ACTIONS: &[&[u8]] = &[b"JavaScript", b"Launch", b"ImportData", b"SubmitForm"];

/// The sanitized copy of a PDF, or why there cannot be one.
pub(super) fn sanitize(bytes: &[u8], limits: &Limits) -> Result<Vec<u8>, Unsanitizable> {
    let options = LoadOptions {
        max_decompressed_size: Some(decompression_budget(limits)),
        ..LoadOptions::default()
    };
    let mut doc =
        Document::load_mem_with_options(bytes, options).map_err(|_| Unsanitizable::Unreadable)?;
    // lopdf opens files encrypted for an empty user password; their metadata
    // could be read, but rewriting them decrypted is not ours to decide.
    if doc.was_encrypted() || doc.is_encrypted() {
        return Err(Unsanitizable::Encrypted);
    }
    let root = doc
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|_| Unsanitizable::Unreadable)?;
    // A new trailer with only the catalog: no /Info, no /ID, no /Prev.
    doc.trailer = Dictionary::new();
    doc.trailer.set("Root", Object::Reference(root));

    let doomed = doomed_objects(&doc);
    for object in doc.objects.values_mut() {
        clean(object, &doomed);
    }
    for id in &doomed {
        doc.objects.remove(id);
    }
    // Drops everything no longer reachable from the catalog: the Info
    // dictionary, XMP streams, thumbnails, embedded files, old revisions.
    doc.prune_objects();
    if !doc.objects.contains_key(&root) {
        return Err(Unsanitizable::Unreadable);
    }
    strip_jpeg_streams(&mut doc)?;

    let mut out = Vec::with_capacity(bytes.len());
    doc.save_to(&mut out)
        .map_err(|_| Unsanitizable::Unreadable)?;
    Ok(out)
}

/// How far one stream may inflate while the file is parsed.
fn decompression_budget(limits: &Limits) -> usize {
    let four_times = limits.max_file_bytes.saturating_mul(4);
    usize::try_from(four_times)
        .unwrap_or(usize::MAX)
        .min(lopdf::DEFAULT_MAX_DECOMPRESSED_SIZE)
}

/// Indirect objects that go as a whole, together with every reference to them.
fn doomed_objects(doc: &Document) -> HashSet<ObjectId> {
    doc.objects
        .iter()
        .filter(|(_, object)| match object {
            Object::Dictionary(dict) => is_doomed(dict),
            Object::Stream(stream) => is_doomed(&stream.dict),
            _ => false,
        })
        .map(|(id, _)| *id)
        .collect()
}

/// XMP streams, embedded files, signatures, file-attachment annotations, and
/// actions that run code.
fn is_doomed(dict: &Dictionary) -> bool {
    let name = |key: &[u8]| dict.get(key).and_then(Object::as_name).ok();
    let type_is = |t: &[u8]| name(b"Type") == Some(t);
    type_is(b"Metadata")
        || type_is(b"EmbeddedFile")
        || type_is(b"Sig")
        || type_is(b"DocTimeStamp")
        || name(b"Subtype") == Some(b"FileAttachment".as_slice())
        || name(b"S").is_some_and(|s| DOOMED_ACTIONS.contains(&s))
        || dict.has(b"JS")
}

/// Removes, inside one object, the stripped keys and every value that is or
/// refers to a doomed object. Does not follow references: every indirect
/// object is cleaned on its own.
fn clean(object: &mut Object, doomed: &HashSet<ObjectId>) {
    match object {
        Object::Dictionary(dict) => clean_dict(dict, doomed),
        Object::Stream(stream) => clean_dict(&mut stream.dict, doomed),
        Object::Array(items) => {
            items.retain(|item| !goes(item, doomed));
            items.iter_mut().for_each(|item| clean(item, doomed));
        }
        _ => {}
    }
}

fn clean_dict(dict: &mut Dictionary, doomed: &HashSet<ObjectId>) {
    let markup = dict
        .get(b"Subtype")
        .and_then(Object::as_name)
        .is_ok_and(|subtype| MARKUP_ANNOTATIONS.contains(&subtype));
    let gone: Vec<Vec<u8>> = dict
        .iter()
        .filter(|(key, value)| {
            STRIPPED_KEYS.contains(&key.as_slice())
                || (markup && ANNOTATION_AUTHOR_KEYS.contains(&key.as_slice()))
                || goes(value, doomed)
        })
        .map(|(key, _)| key.clone())
        .collect();
    for key in gone {
        dict.remove(&key);
    }
    dict.iter_mut().for_each(|(_, value)| clean(value, doomed));
}

/// A value that is removed where it stands: a reference to a doomed object,
/// or a direct dictionary that would be doomed as an object.
fn goes(value: &Object, doomed: &HashSet<ObjectId>) -> bool {
    match value {
        Object::Reference(id) => doomed.contains(id),
        Object::Dictionary(dict) => is_doomed(dict),
        _ => false,
    }
}

/// Pictures stored as plain JPEG (`/Filter /DCTDecode`) keep the EXIF of the
/// camera that took them, GPS included; their metadata segments are removed
/// losslessly, as for uploaded photos. A picture that cannot be walked holds
/// the whole file sealed rather than passing its EXIF through.
fn strip_jpeg_streams(doc: &mut Document) -> Result<(), Unsanitizable> {
    for object in doc.objects.values_mut() {
        let Object::Stream(stream) = object else {
            continue;
        };
        let only_dct = match stream.dict.get(b"Filter") {
            Ok(Object::Name(filter)) => filter == b"DCTDecode",
            Ok(Object::Array(filters)) => {
                filters.len() == 1 && filters[0].as_name().ok() == Some(b"DCTDecode".as_slice())
            }
            _ => false,
        };
        if !only_dct {
            continue;
        }
        let stripped = jpeg::strip(&stream.content)
            .map_err(|_| Unsanitizable::UnknownLayout)?
            .bytes;
        stream.set_content(stripped);
    }
    Ok(())
}
