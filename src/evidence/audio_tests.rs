//! Tests for MP3, AAC, WAV, Ogg and voice-message working copies. exiftool
//! cannot write tags into these formats, so every tag is built here byte by
//! byte: ID3v2.3 frames in UTF-16 and UTF-8, ID3v1, APEv2, RIFF `LIST/INFO`,
//! `bext` and `iXML` chunks, Opus and Vorbis comment headers.

use super::checks::{self, LATITUDE, LONGITUDE, NAME, PHONE, SERIAL};
use super::*;

fn limits() -> Limits {
    Limits::default()
}

fn working(bytes: &[u8], media_type: &str) -> Vec<u8> {
    let processed = process(bytes.to_vec(), &limits()).expect("accepted");
    assert_eq!(processed.media_type, media_type);
    assert_eq!(processed.original, bytes);
    assert_eq!(processed.held_sealed, None, "{media_type}");
    assert_eq!(processed.working_media_type, Some(processed.media_type));
    processed.working.expect("a working copy")
}

// ---------------------------------------------------------------------------
// MP3 and AAC
// ---------------------------------------------------------------------------

/// Five MPEG-1 Layer III frames, 128 kbit/s at 44.1 kHz (417 bytes each).
fn mp3_frames() -> Vec<u8> {
    (0..5u8)
        .flat_map(|i| {
            let mut frame = vec![i; 417];
            frame[..4].copy_from_slice(&[0xFF, 0xFB, 0x90, 0x64]);
            frame
        })
        .collect()
}

fn syncsafe(n: usize) -> [u8; 4] {
    let n = u32::try_from(n).unwrap();
    [
        (n >> 21) as u8 & 0x7F,
        (n >> 14) as u8 & 0x7F,
        (n >> 7) as u8 & 0x7F,
        n as u8 & 0x7F,
    ]
}

fn id3_frame(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let len = u32::try_from(body.len()).unwrap().to_be_bytes();
    [&id[..], &len, &[0, 0], body].concat()
}

/// ID3v2.3 with the artist in UTF-16, a comment, a GPS text frame and the
/// recorder's serial.
fn id3v2() -> Vec<u8> {
    let utf16: Vec<u8> = [0xFFFEu16]
        .into_iter()
        .chain(NAME.encode_utf16())
        .flat_map(u16::to_le_bytes)
        .collect();
    let frames = [
        id3_frame(b"TPE1", &[&[1u8][..], &utf16].concat()),
        id3_frame(b"COMM", format!("\0eng\0tel {PHONE}").as_bytes()),
        id3_frame(b"TXXX", format!("\0GPS\0{LATITUDE},{LONGITUDE}").as_bytes()),
        id3_frame(b"TSSE", format!("\0Recorder {SERIAL}").as_bytes()),
    ]
    .concat();
    let mut tag = b"ID3\x03\0\0".to_vec();
    tag.extend_from_slice(&syncsafe(frames.len() + 64));
    tag.extend_from_slice(&frames);
    tag.extend_from_slice(&[0; 64]); // padding
    tag
}

fn id3v1() -> Vec<u8> {
    let field = |text: &str, len: usize| {
        let mut f = text.as_bytes().to_vec();
        f.resize(len, 0);
        f
    };
    [
        b"TAG".to_vec(),
        field(PHONE, 30),
        field(SERIAL, 30),
        field("album", 30),
        field("2024", 4),
        field(LATITUDE, 30),
        vec![12],
    ]
    .concat()
}

fn ape_tag() -> Vec<u8> {
    let item = |key: &str, value: &str| {
        let len = u32::try_from(value.len()).unwrap().to_le_bytes();
        [&len[..], &[0; 4], key.as_bytes(), b"\0", value.as_bytes()].concat()
    };
    let items = [item("Artist", NAME), item("Comment", PHONE)].concat();
    let size = u32::try_from(items.len() + 32).unwrap().to_le_bytes();
    let footer = [
        b"APETAGEX".as_slice(),
        &2000u32.to_le_bytes(),
        &size,
        &2u32.to_le_bytes(),
        &[0; 4],
        &[0; 8],
    ]
    .concat();
    [items, footer].concat()
}

#[test]
fn mp3_loses_id3v2_ape_and_id3v1_and_keeps_its_frames() {
    let frames = mp3_frames();
    let mp3 = [id3v2(), frames.clone(), ape_tag(), id3v1()].concat();
    checks::assert_carries_secrets(&mp3, checks::SECRETS, "the MP3 fixture");
    let copy = working(&mp3, "audio/mpeg");
    assert_eq!(copy, frames, "exactly the audio frames");
    checks::assert_no_secret_bytes(&copy, "MP3");
    if let Some(before) = checks::exiftool_tags(&mp3, "before.mp3") {
        assert!(before.keys().any(|k| k.starts_with("ID3v2")), "{before:?}");
        assert!(before.keys().any(|k| k.starts_with("ID3v1")), "{before:?}");
        let after = checks::assert_exiftool_clean(&copy, "working.mp3").unwrap();
        assert!(
            after.contains_key("MPEG:AudioBitrate"),
            "still MPEG audio: {after:?}"
        );
    }
}

#[test]
fn adts_aac_loses_trailing_tags() {
    let mut frame = vec![0u8; 64];
    frame[..7].copy_from_slice(&[0xFF, 0xF1, 0x50, 0x80, 0x08, 0x1F, 0xFC]);
    let aac = [frame.clone(), frame.clone(), ape_tag(), id3v1()].concat();
    let copy = working(&aac, "audio/aac");
    assert_eq!(copy, [frame.clone(), frame].concat());
    checks::assert_no_secret_bytes(&copy, "AAC");
}

#[test]
fn mp3_whose_tag_hides_something_else_is_held_sealed() {
    // After the tag comes no audio frame but, say, a ZIP.
    let odd = [id3v2(), b"PK\x03\x04 not audio".to_vec()].concat();
    let processed = process(odd, &limits()).unwrap();
    assert_eq!(processed.held_sealed, Some(Unsanitizable::UnknownLayout));
    // A tag that claims more bytes than the file has.
    let mut lying = id3v2();
    lying[6..10].copy_from_slice(&syncsafe(1 << 20));
    let processed = process(lying, &limits()).unwrap();
    assert_eq!(processed.held_sealed, Some(Unsanitizable::Unreadable));
}

// ---------------------------------------------------------------------------
// WAV
// ---------------------------------------------------------------------------

fn chunk(id: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let len = u32::try_from(data.len()).unwrap().to_le_bytes();
    let pad = if data.len() % 2 == 1 { &[0u8][..] } else { &[] };
    [&id[..], &len, data, pad].concat()
}

fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
    let body = [b"WAVE".to_vec(), chunks.concat()].concat();
    let len = u32::try_from(body.len()).unwrap().to_le_bytes();
    [b"RIFF".as_slice(), &len, &body].concat()
}

fn fmt_pcm() -> Vec<u8> {
    // PCM, mono, 8 kHz, 16 bit.
    let mut f = Vec::new();
    f.extend_from_slice(&1u16.to_le_bytes());
    f.extend_from_slice(&1u16.to_le_bytes());
    f.extend_from_slice(&8000u32.to_le_bytes());
    f.extend_from_slice(&16000u32.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&16u16.to_le_bytes());
    chunk(b"fmt ", &f)
}

#[test]
fn wav_keeps_only_format_and_samples() {
    let samples: Vec<u8> = (0..2000u32).map(|i| (i % 251) as u8).collect();
    let info = [
        b"INFO".to_vec(),
        chunk(b"IART", format!("{NAME}\0").as_bytes()),
        chunk(b"ICMT", format!("tel {PHONE}\0").as_bytes()),
    ]
    .concat();
    let mut bext = format!("Recorder {SERIAL}").into_bytes();
    bext.resize(602, 0);
    let ixml = format!("<BWFXML><LOCATION>{LATITUDE},{LONGITUDE}</LOCATION></BWFXML>");
    let wav = riff(&[
        fmt_pcm(),
        chunk(b"LIST", &info),
        chunk(b"bext", &bext),
        chunk(b"iXML", ixml.as_bytes()),
        chunk(b"data", &samples),
        chunk(b"id3 ", &id3v2()),
    ]);
    checks::assert_carries_secrets(&wav, checks::SECRETS, "the WAV fixture");
    let copy = working(&wav, "audio/wav");
    assert_eq!(copy, riff(&[fmt_pcm(), chunk(b"data", &samples)]));
    checks::assert_no_secret_bytes(&copy, "WAV");
    if let Some(before) = checks::exiftool_tags(&wav, "before.wav") {
        assert!(before.contains_key("RIFF:Artist"), "{before:?}");
        let after = checks::assert_exiftool_clean(&copy, "working.wav").unwrap();
        assert_eq!(after.get("RIFF:SampleRate"), Some(&serde_json::json!(8000)));
    }
}

#[test]
fn wav_cut_off_in_its_data_keeps_what_is_there() {
    let samples = vec![7u8; 1000];
    let mut wav = riff(&[
        fmt_pcm(),
        chunk(b"LIST", b"INFOIART\x04\0\0\0abc\0"),
        chunk(b"data", &samples),
    ]);
    wav.truncate(wav.len() - 400);
    let copy = working(&wav, "audio/wav");
    assert_eq!(copy, riff(&[fmt_pcm(), chunk(b"data", &samples[..600])]));
}

// ---------------------------------------------------------------------------
// Ogg
// ---------------------------------------------------------------------------

fn ogg_page(serial: u32, sequence: u32, flags: u8, granule: u64, packets: &[&[u8]]) -> Vec<u8> {
    ogg_page_open(serial, sequence, flags, granule, packets, false)
}

/// A page whose last packet continues on the next page when `open` (its
/// length must then be a multiple of 255: no terminating lacing value).
fn ogg_page_open(
    serial: u32,
    sequence: u32,
    flags: u8,
    granule: u64,
    packets: &[&[u8]],
    open: bool,
) -> Vec<u8> {
    let mut lacing = Vec::new();
    for (i, packet) in packets.iter().enumerate() {
        lacing.extend(std::iter::repeat_n(255u8, packet.len() / 255));
        if !(open && i == packets.len() - 1) {
            lacing.push((packet.len() % 255) as u8);
        }
    }
    let mut page = b"OggS\0".to_vec();
    page.push(flags);
    page.extend_from_slice(&granule.to_le_bytes());
    page.extend_from_slice(&serial.to_le_bytes());
    page.extend_from_slice(&sequence.to_le_bytes());
    page.extend_from_slice(&[0; 4]);
    page.push(u8::try_from(lacing.len()).unwrap());
    page.extend_from_slice(&lacing);
    packets.iter().for_each(|p| page.extend_from_slice(p));
    let crc = super::ogg::crc32(&page);
    page[22..26].copy_from_slice(&crc.to_le_bytes());
    page
}

fn vorbis_comments(vendor: &str, comments: &[String]) -> Vec<u8> {
    let mut out = (vendor.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(vendor.as_bytes());
    out.extend_from_slice(&(comments.len() as u32).to_le_bytes());
    for c in comments {
        out.extend_from_slice(&(c.len() as u32).to_le_bytes());
        out.extend_from_slice(c.as_bytes());
    }
    out
}

fn secret_comments() -> Vec<String> {
    vec![
        format!("ARTIST={NAME}"),
        format!("COMMENT=tel {PHONE}"),
        format!("LOCATION={LATITUDE},{LONGITUDE}"),
        // Long enough that the comment header runs over two pages.
        format!("DEVICE={SERIAL}{}", "x".repeat(300)),
    ]
}

fn opus_file() -> (Vec<u8>, Vec<u8>) {
    let head: &[u8] = b"OpusHead\x01\x01\x38\x01\x80\xbb\0\0\0\0\0";
    let tags = [
        b"OpusTags".as_slice(),
        &vorbis_comments("libopus 1.4", &secret_comments()),
    ]
    .concat();
    let audio = vec![0xF8u8, 0xFF, 0xFE];
    let file = [
        ogg_page(7, 0, 2, 0, &[head]),
        ogg_page_open(7, 1, 0, 0, &[&tags[..255]], true),
        ogg_page(7, 2, 1, 0, &[&tags[255..]]),
        ogg_page(7, 3, 4, 960, &[&audio[..]]),
    ]
    .concat();
    (file, audio)
}

/// Every page's CRC is right and its header is where it was.
fn assert_pages_valid(copy: &[u8], original: &[u8]) {
    assert_eq!(copy.len(), original.len());
    let mut at = 0;
    while at < copy.len() {
        assert_eq!(&copy[at..at + 4], b"OggS");
        let segments = usize::from(copy[at + 26]);
        let len = 27
            + segments
            + copy[at + 27..at + 27 + segments]
                .iter()
                .map(|&l| usize::from(l))
                .sum::<usize>();
        let mut page = copy[at..at + len].to_vec();
        let stored = u32::from_le_bytes(page[22..26].try_into().unwrap());
        page[22..26].fill(0);
        assert_eq!(super::ogg::crc32(&page), stored, "CRC of the page at {at}");
        assert_eq!(copy[at..at + 22], original[at..at + 22]);
        at += len;
    }
}

#[test]
fn opus_comment_header_is_emptied_in_place() {
    let (file, audio) = opus_file();
    checks::assert_carries_secrets(&file, checks::SECRETS, "the Opus fixture");
    let copy = working(&file, "audio/ogg");
    checks::assert_no_secret_bytes(&copy, "Opus");
    assert_pages_valid(&copy, &file);
    assert!(copy.ends_with(&audio), "the audio packet is untouched");
    if let Some(before) = checks::exiftool_tags(&file, "before.opus") {
        assert!(before.keys().any(|k| k.ends_with(":Artist")), "{before:?}");
        checks::assert_exiftool_clean(&copy, "working.opus");
    }
}

#[test]
fn vorbis_comment_header_is_emptied_and_setup_header_kept() {
    let mut ident =
        b"\x01vorbis\0\0\0\0\x01\x44\xac\0\0\0\0\0\0\0\xee\x02\0\0\0\0\0\xb8\x01".to_vec();
    ident.resize(30, 0);
    let comments = [
        b"\x03vorbis".as_slice(),
        &vorbis_comments("Xiph.Org libVorbis I 20200704", &secret_comments()),
        b"\x01",
    ]
    .concat();
    let setup = b"\x05vorbis-setup-header-bytes".to_vec();
    let file = [
        ogg_page(3, 0, 2, 0, &[&ident[..]]),
        ogg_page(3, 1, 0, 0, &[&comments[..], &setup[..]]),
        ogg_page(3, 2, 4, 128, &[b"audio".as_slice()]),
    ]
    .concat();
    let copy = working(&file, "audio/ogg");
    checks::assert_no_secret_bytes(&copy, "Vorbis");
    assert_pages_valid(&copy, &file);
    assert!(copy.windows(setup.len()).any(|w| w == setup.as_slice()));
    // The emptied header: magic, empty vendor, no comments, framing bit.
    let at = copy.windows(7).position(|w| w == b"\x03vorbis").unwrap();
    assert_eq!(&copy[at..at + 16], b"\x03vorbis\0\0\0\0\0\0\0\0\x01");
}

#[test]
fn ogg_with_another_codec_is_held_sealed() {
    let theora = ogg_page(5, 0, 2, 0, &[b"\x80theora\x03\x02\x01".as_slice()]);
    let processed = process(theora, &limits()).unwrap();
    assert_eq!(processed.held_sealed, Some(Unsanitizable::UnknownLayout));
}

// ---------------------------------------------------------------------------
// Voice messages
// ---------------------------------------------------------------------------

#[test]
fn voice_formats_without_a_metadata_container_are_their_own_working_copy() {
    for (bytes, media_type) in [
        (
            b"#!AMR\n\x3c\x48\x77\x44\x32\x11\x22\x33".to_vec(),
            "audio/amr",
        ),
        (b"#!AMR-WB\n\x04\x10\x20".to_vec(), "audio/amr-wb"),
        (b"\x02#!SILK_V3\x0c\x00".to_vec(), "audio/silk"),
    ] {
        assert_eq!(working(&bytes, media_type), bytes);
    }
}

#[test]
fn mutated_audio_never_panics() {
    let mp3 = [id3v2(), mp3_frames(), ape_tag(), id3v1()].concat();
    checks::never_panics(&mp3, |b| {
        let _ = super::tags::sanitize(b);
    });
    let wav = riff(&[
        fmt_pcm(),
        chunk(b"LIST", b"INFOIART\x04\0\0\0abc\0"),
        chunk(b"data", &[1; 64]),
    ]);
    checks::never_panics(&wav, |b| {
        let _ = super::riff::sanitize(b);
    });
    checks::never_panics(&opus_file().0, |b| {
        let _ = super::ogg::sanitize(b);
    });
}
