//! Tests for MP4/MOV/M4A working copies. The fixtures are small but complete
//! box trees built here: a video track whose one sample sits in `mdat`, a
//! timed-metadata track with a GPS sample, QuickTime user data (`©xyz`,
//! `©mak`, `©mod`, `©ART`), an iTunes-style `meta`, and an XMP `uuid` box.

use super::bmff::children;
use super::checks::{self, LATITUDE, LONGITUDE, NAME, PHONE, SERIAL};
use super::*;

/// The one video sample; must survive byte for byte.
const FRAME: &[u8] = b"\x00\x00\x00\x10video-frame-bytes-0123456789abcdef";

fn bx(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let size = u32::try_from(8 + payload.len()).unwrap();
    [&size.to_be_bytes()[..], kind, payload].concat()
}

fn full(kind: &[u8; 4], version: u8, flags: u32, payload: &[u8]) -> Vec<u8> {
    let head = (u32::from(version) << 24 | flags).to_be_bytes();
    bx(kind, &[&head[..], payload].concat())
}

/// Creation and modification time (2023-11-14 in seconds since 1904) for
/// `mvhd`, `tkhd` and `mdhd`.
const TIMES: [u8; 8] = [0xE1, 0x5F, 0x3A, 0x10, 0xE1, 0x5F, 0x3A, 0x10];

fn matrix() -> Vec<u8> {
    [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect()
}

fn mvhd() -> Vec<u8> {
    let mut p = TIMES.to_vec();
    p.extend_from_slice(&1000u32.to_be_bytes()); // timescale
    p.extend_from_slice(&1000u32.to_be_bytes()); // duration
    p.extend_from_slice(&0x0001_0000u32.to_be_bytes()); // rate
    p.extend_from_slice(&0x0100u16.to_be_bytes()); // volume
    p.extend_from_slice(&[0; 10]);
    p.extend_from_slice(&matrix());
    p.extend_from_slice(&[0; 24]);
    p.extend_from_slice(&3u32.to_be_bytes()); // next track ID
    full(b"mvhd", 0, 0, &p)
}

/// One track with one sample of `len` bytes at `offset`.
fn trak(id: u32, handler: &[u8; 4], offset: u32, len: u32, udta: &[u8]) -> Vec<u8> {
    let mut tkhd = TIMES.to_vec();
    tkhd.extend_from_slice(&id.to_be_bytes());
    tkhd.extend_from_slice(&[0; 4]);
    tkhd.extend_from_slice(&1000u32.to_be_bytes());
    tkhd.extend_from_slice(&[0; 16]);
    tkhd.extend_from_slice(&matrix());
    tkhd.extend_from_slice(&(64u32 << 16).to_be_bytes());
    tkhd.extend_from_slice(&(48u32 << 16).to_be_bytes());
    let mut mdhd = TIMES.to_vec();
    mdhd.extend_from_slice(&1000u32.to_be_bytes());
    mdhd.extend_from_slice(&1000u32.to_be_bytes());
    mdhd.extend_from_slice(&[0x55, 0xC4, 0, 0]); // language "und"
    let hdlr = full(
        b"hdlr",
        0,
        0,
        &[&[0; 4][..], handler, &[0; 12], b"Handler\0"].concat(),
    );
    let header = if handler == b"vide" {
        full(b"vmhd", 0, 1, &[0; 8])
    } else {
        full(b"nmhd", 0, 0, &[])
    };
    let dinf = bx(
        b"dinf",
        &full(
            b"dref",
            0,
            0,
            &[&1u32.to_be_bytes()[..], &full(b"url ", 0, 1, &[])].concat(),
        ),
    );
    let u32s =
        |values: &[u32]| -> Vec<u8> { values.iter().flat_map(|v| v.to_be_bytes()).collect() };
    let stbl = bx(
        b"stbl",
        &[
            full(b"stsd", 0, 0, &[u32s(&[1]), sample_entry(handler)].concat()),
            full(b"stts", 0, 0, &u32s(&[1, 1, 1000])),
            full(b"stsc", 0, 0, &u32s(&[1, 1, 1, 1])),
            full(b"stsz", 0, 0, &u32s(&[0, 1, len])),
            full(b"stco", 0, 0, &u32s(&[1, offset])),
        ]
        .concat(),
    );
    let minf = bx(b"minf", &[header, dinf, stbl].concat());
    let mdia = bx(b"mdia", &[full(b"mdhd", 0, 0, &mdhd), hdlr, minf].concat());
    bx(
        b"trak",
        &[full(b"tkhd", 0, 3, &tkhd), mdia, udta.to_vec()].concat(),
    )
}

/// One sample description using data reference 1 (the file itself).
fn sample_entry(handler: &[u8; 4]) -> Vec<u8> {
    let reference = [0, 0, 0, 0, 0, 0, 0, 1];
    if handler != b"vide" {
        return bx(b"mebx", &reference);
    }
    let mut visual = reference.to_vec();
    visual.extend_from_slice(&[0; 16]);
    visual.extend_from_slice(&64u16.to_be_bytes());
    visual.extend_from_slice(&48u16.to_be_bytes());
    visual.extend_from_slice(&0x0048_0000u32.to_be_bytes());
    visual.extend_from_slice(&0x0048_0000u32.to_be_bytes());
    visual.extend_from_slice(&[0; 4]);
    visual.extend_from_slice(&1u16.to_be_bytes());
    visual.extend_from_slice(&[0; 32]);
    visual.extend_from_slice(&0x18u16.to_be_bytes());
    visual.extend_from_slice(&0xFFFFu16.to_be_bytes());
    bx(b"mp4v", &visual)
}

/// A QuickTime user-data text atom: length, language, text.
fn qt_text(kind: &[u8; 4], text: &str) -> Vec<u8> {
    let len = u16::try_from(text.len()).unwrap();
    bx(
        kind,
        &[&len.to_be_bytes()[..], &[0x15, 0xC7], text.as_bytes()].concat(),
    )
}

fn user_data() -> Vec<u8> {
    let ilst = bx(
        b"ilst",
        &bx(
            b"\xa9ART",
            &bx(
                b"data",
                &[&[0, 0, 0, 1, 0, 0, 0, 0][..], NAME.as_bytes()].concat(),
            ),
        ),
    );
    let meta = full(
        b"meta",
        0,
        0,
        &[
            full(
                b"hdlr",
                0,
                0,
                &[&[0; 4][..], b"mdir", b"appl", &[0; 9]].concat(),
            ),
            ilst,
        ]
        .concat(),
    );
    bx(
        b"udta",
        &[
            qt_text(b"\xa9xyz", &format!("+{LATITUDE}+{LONGITUDE}/")),
            qt_text(b"\xa9mak", "Apple"),
            qt_text(b"\xa9mod", &format!("iPhone {SERIAL}")),
            qt_text(b"\xa9too", "Camera 17.1"),
            meta,
        ]
        .concat(),
    )
}

fn xmp_uuid() -> Vec<u8> {
    let uuid = b"\xbe\x7a\xcf\xcb\x97\xa9\x42\xe8\x9c\x71\x99\x94\x91\xe3\xaf\xac";
    let xmp = format!(
        "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>\
         <rdf:Description rdf:about='' xmlns:dc='http://purl.org/dc/elements/1.1/'>\
         <dc:creator><rdf:Seq><rdf:li>{NAME} {PHONE}</rdf:li></rdf:Seq></dc:creator>\
         </rdf:Description></rdf:RDF></x:xmpmeta>"
    );
    bx(b"uuid", &[&uuid[..], xmp.as_bytes()].concat())
}

const GPS_SAMPLE: &str = "$GPRMC,31.2304,N,121.4737,E";

/// ftyp, moov, mdat (or mdat before moov), with a timed-metadata track when
/// `gps_track`. Returns the file and the offset of the video frame.
fn mp4(moov_first: bool, gps_track: bool) -> (Vec<u8>, usize) {
    let ftyp = bx(b"ftyp", b"isom\0\0\x02\0isomiso2mp41");
    let gps: &[u8] = if gps_track {
        GPS_SAMPLE.as_bytes()
    } else {
        b""
    };
    let mdat_payload = [FRAME, gps].concat();
    let build_moov = |frame_at: u32| {
        let mut moov = mvhd();
        moov.extend(trak(
            1,
            b"vide",
            frame_at,
            FRAME.len() as u32,
            &bx(b"udta", &qt_text(b"\xa9nam", NAME)),
        ));
        if gps_track {
            let gps_at = frame_at + FRAME.len() as u32;
            moov.extend(trak(2, b"meta", gps_at, GPS_SAMPLE.len() as u32, &[]));
        }
        moov.extend(user_data());
        bx(b"moov", &moov)
    };
    let moov_len = build_moov(0).len();
    let frame_at = if moov_first {
        ftyp.len() + moov_len + 8
    } else {
        ftyp.len() + 8
    };
    let moov = build_moov(frame_at as u32);
    let mdat = bx(b"mdat", &mdat_payload);
    let file = if moov_first {
        [ftyp, moov, mdat, xmp_uuid()].concat()
    } else {
        [ftyp, mdat, moov, xmp_uuid()].concat()
    };
    (file, frame_at)
}

fn kinds(file: &[u8], from: usize, to: usize) -> Vec<[u8; 4]> {
    children(file, from, to)
        .expect("the box tree parses")
        .iter()
        .map(|b| b.kind)
        .collect()
}

fn sanitized(file: &[u8]) -> Vec<u8> {
    let processed = process(file.to_vec(), &Limits::default()).expect("accepted");
    assert_eq!(processed.media_type, "video/mp4");
    assert_eq!(processed.held_sealed, None);
    assert_eq!(processed.original, file);
    processed.working.expect("a working copy")
}

fn check_tree(working: &[u8], original: &[u8], frame_at: usize) {
    assert_eq!(working.len(), original.len(), "nothing moved");
    let top = children(working, 0, working.len()).unwrap();
    let names: Vec<_> = top.iter().map(|b| b.kind).collect();
    assert!(names.contains(b"ftyp") && names.contains(b"mdat") && names.contains(b"moov"));
    assert!(!names.contains(b"uuid"));
    let moov = top.iter().find(|b| &b.kind == b"moov").unwrap();
    let inside = kinds(working, moov.body, moov.end);
    assert!(
        !inside.contains(b"udta") && !inside.contains(b"meta"),
        "{inside:?}"
    );
    assert_eq!(
        inside.iter().filter(|k| *k == b"trak").count(),
        1,
        "only the video track"
    );
    // The video frame is exactly where chunk offset says, untouched.
    assert_eq!(&working[frame_at..frame_at + FRAME.len()], FRAME);
    for b in &top {
        if &b.kind == b"free" {
            assert!(working[b.body..b.end].iter().all(|&x| x == 0));
        }
    }
}

#[test]
fn mp4_metadata_boxes_become_free_and_offsets_hold() {
    for moov_first in [true, false] {
        let (file, frame_at) = mp4(moov_first, true);
        checks::assert_carries_secrets(&file, checks::SECRETS, "the MP4 fixture");
        let working = sanitized(&file);
        checks::assert_no_secret_bytes(&working, "MP4");
        check_tree(&working, &file, frame_at);
        // Outside the GPS sample, mdat is byte for byte the same.
        let gps_at = frame_at + FRAME.len();
        assert_eq!(working[..gps_at].len(), file[..gps_at].len());
        assert!(working[gps_at..gps_at + GPS_SAMPLE.len()]
            .iter()
            .all(|&b| b == 0));
        let Some(before) = checks::exiftool_tags(&file, "before.mp4") else {
            continue;
        };
        assert!(
            before.keys().any(|k| k.ends_with(":GPSCoordinates")),
            "{before:?}"
        );
        assert!(before.keys().any(|k| k.starts_with("XMP")), "{before:?}");
        let after = checks::assert_exiftool_clean(&working, "working.mp4").unwrap();
        for (key, value) in &after {
            if key.ends_with("CreateDate") || key.ends_with("ModifyDate") {
                assert_eq!(value, "0000:00:00 00:00:00", "{key}");
            }
        }
    }
}

#[test]
fn mp4_without_metadata_track_keeps_mdat_byte_for_byte() {
    let (file, _) = mp4(true, false);
    let working = sanitized(&file);
    let mdat = |f: &[u8]| {
        let top = children(f, 0, f.len()).unwrap();
        let b = top.into_iter().find(|b| &b.kind == b"mdat").unwrap();
        f[b.start..b.end].to_vec()
    };
    assert_eq!(mdat(&working), mdat(&file));
}

/// exiftool writes QuickTime, Keys, ItemList and XMP tags into the fixture
/// itself (moving mdat and fixing the chunk offsets as it does so).
#[test]
fn mp4_tagged_by_exiftool_comes_out_clean() {
    let (file, _) = mp4(true, false);
    let Some(tagged) = checks::exiftool_write(
        &file,
        "tagged.mp4",
        &[
            &format!("-Keys:Author={NAME}"),
            &format!("-ItemList:Artist={NAME}"),
            &format!("-UserData:Comment=tel {PHONE}"),
            &format!("-Keys:GPSCoordinates={LATITUDE}, {LONGITUDE}"),
            &format!("-XMP-dc:Creator={NAME}"),
            &format!("-UserData:Model={SERIAL}"),
        ],
    ) else {
        return;
    };
    checks::assert_carries_secrets(&tagged, &[NAME, PHONE, SERIAL], "the exiftool-tagged MP4");
    let working = sanitized(&tagged);
    checks::assert_no_secret_bytes(&working, "tagged MP4");
    checks::assert_exiftool_clean(&working, "working.mp4");
    // The frame moved with exiftool's rewrite; it is still in the copy.
    assert!(working.windows(FRAME.len()).any(|w| w == FRAME));
}

#[test]
fn m4a_and_quicktime_without_ftyp_are_sanitized_too() {
    let (file, _) = mp4(true, false);
    let mut m4a = file.clone();
    m4a[8..12].copy_from_slice(b"M4A ");
    let processed = process(m4a, &Limits::default()).unwrap();
    assert_eq!(processed.media_type, "audio/mp4");
    checks::assert_no_secret_bytes(processed.working.as_ref().unwrap(), "M4A");
    // An old QuickTime file: moov first, no ftyp.
    let ftyp_len = u32::from_be_bytes(file[..4].try_into().unwrap()) as usize;
    let mov = file[ftyp_len..].to_vec();
    let top = kinds(&mov, 0, mov.len());
    assert_eq!(top[0], *b"moov");
    let working = super::bmff::sanitize(&mov).expect("sanitized");
    checks::assert_no_secret_bytes(&working, "MOV");
}

#[test]
fn unsanitizable_mp4_layouts_are_held_sealed() {
    let (file, _) = mp4(true, true);
    // Truncated inside moov.
    let truncated = file[..200].to_vec();
    let held = process(truncated, &Limits::default()).unwrap();
    assert_eq!(held.held_sealed, Some(Unsanitizable::Unreadable));
    assert!(held.working.is_none());
    // A compressed movie header cannot be looked into.
    let cmov = [
        bx(b"ftyp", b"qt  \0\0\0\0qt  "),
        bx(b"moov", &bx(b"cmov", b"zlib...")),
    ]
    .concat();
    let held = process(cmov, &Limits::default()).unwrap();
    assert_eq!(held.held_sealed, Some(Unsanitizable::UnknownLayout));
    // A metadata track in a fragmented file: its samples are in moof runs.
    let fragmented = [file, bx(b"moof", &[0; 8])].concat();
    let held = process(fragmented, &Limits::default()).unwrap();
    assert_eq!(held.held_sealed, Some(Unsanitizable::UnknownLayout));
}

#[test]
fn mutated_mp4s_never_panic() {
    let (file, _) = mp4(true, true);
    checks::never_panics(&file, |b| {
        let _ = super::bmff::sanitize(b);
    });
}
