//! Ogg Opus, Vorbis and Speex working copies: the comment header emptied in place.
//!
//! An Ogg file is a sequence of pages (`OggS`, flags, granule position, stream
//! serial, page number, CRC, a segment table, data) that carry the packets of
//! one or more logical streams. In all three codecs the only metadata is the
//! second packet of each stream, the *comment header*: a vendor string and
//! `TAG=value` comments (artist, title, location, the recording app, cover
//! art).
//!
//! That packet is rewritten with the same length: an empty vendor string,
//! zero comments, and zero padding after them (which RFC 7845 allows for Opus;
//! Vorbis and Speex readers stop after the comment list, Vorbis at its framing
//! bit). Since no packet changes length, no segment table, page or granule
//! position moves; only the CRCs of the pages that hold the comment header
//! are computed again. A stream of any other codec (Theora video, FLAC,
//! Skeleton, ...) holds the file sealed.

use std::collections::HashMap;
use std::ops::Range;

use super::Unsanitizable;

const BAD: Unsanitizable = Unsanitizable::Unreadable;

#[derive(Clone, Copy)]
enum Codec {
    Opus,
    Vorbis,
    Speex,
}

impl Codec {
    /// From the first bytes of a stream's first packet.
    fn from_id_header(first: &[u8]) -> Option<Self> {
        if first.starts_with(b"OpusHead") {
            Some(Self::Opus)
        } else if first.starts_with(b"\x01vorbis") {
            Some(Self::Vorbis)
        } else if first.starts_with(b"Speex   ") {
            Some(Self::Speex)
        } else {
            None
        }
    }

    /// An empty comment header of exactly `len` bytes, after checking that
    /// the old one starts as it should.
    fn empty_comments(self, old: &[u8]) -> Result<Vec<u8>, Unsanitizable> {
        let (magic, framing): (&[u8], &[u8]) = match self {
            Self::Opus => (b"OpusTags", b""),
            Self::Vorbis => (b"\x03vorbis", b"\x01"),
            Self::Speex => (b"", b""),
        };
        if !old.starts_with(magic) {
            return Err(BAD);
        }
        // magic, vendor length 0, comment count 0, framing bit.
        let mut new = [magic, &[0; 8], framing].concat();
        if new.len() > old.len() {
            return Err(BAD);
        }
        new.resize(old.len(), 0);
        Ok(new)
    }
}

/// Per logical stream: its codec and where its comment header lies.
struct Stream {
    codec: Option<Codec>,
    /// Packets completed so far.
    packets: usize,
    /// Byte ranges of the comment header (packet 1) in the file.
    comments: Vec<Range<usize>>,
    /// Pages those ranges are on (their start offsets).
    pages: Vec<usize>,
}

/// The working copy of an Ogg file.
pub(super) fn sanitize(bytes: &[u8]) -> Result<Vec<u8>, Unsanitizable> {
    let mut streams: HashMap<u32, Stream> = HashMap::new();
    let mut at = 0;
    while at < bytes.len() {
        let page = Page::read(bytes, at)?;
        let stream = streams.entry(page.serial).or_insert(Stream {
            codec: None,
            packets: 0,
            comments: Vec::new(),
            pages: Vec::new(),
        });
        let mut offset = page.data;
        for &lacing in page.lacing {
            let segment = offset..offset + usize::from(lacing);
            offset = segment.end;
            match stream.packets {
                0 if stream.codec.is_none() => {
                    let codec = Codec::from_id_header(&bytes[segment.clone()]);
                    stream.codec = Some(codec.ok_or(Unsanitizable::UnknownLayout)?);
                }
                1 => {
                    stream.comments.push(segment);
                    if stream.pages.last() != Some(&at) {
                        stream.pages.push(at);
                    }
                }
                _ => {}
            }
            if lacing < 255 {
                stream.packets += 1;
            }
        }
        at = page.end;
    }
    let mut out = bytes.to_vec();
    for stream in streams.values() {
        let codec = stream.codec.ok_or(BAD)?;
        if stream.packets < 2 {
            return Err(BAD);
        }
        let old: Vec<u8> = stream
            .comments
            .iter()
            .flat_map(|r| bytes[r.clone()].iter().copied())
            .collect();
        let mut new = codec.empty_comments(&old)?.into_iter();
        for range in &stream.comments {
            for byte in &mut out[range.clone()] {
                *byte = new.next().unwrap_or(0);
            }
        }
        for &page in &stream.pages {
            let end = Page::read(&out, page)?.end;
            reseal_crc(&mut out[page..end]);
        }
    }
    Ok(out)
}

/// One page's header fields that matter here.
struct Page<'a> {
    serial: u32,
    lacing: &'a [u8],
    /// Where the page's data starts and the page ends.
    data: usize,
    end: usize,
}

impl<'a> Page<'a> {
    fn read(bytes: &'a [u8], at: usize) -> Result<Self, Unsanitizable> {
        let header = bytes.get(at..at + 27).ok_or(BAD)?;
        if &header[..4] != b"OggS" || header[4] != 0 {
            return Err(BAD);
        }
        let serial = u32::from_le_bytes(header[14..18].try_into().map_err(|_| BAD)?);
        let count = usize::from(header[26]);
        let lacing = bytes.get(at + 27..at + 27 + count).ok_or(BAD)?;
        let data = at + 27 + count;
        let end = data + lacing.iter().map(|&l| usize::from(l)).sum::<usize>();
        if end > bytes.len() {
            return Err(BAD);
        }
        Ok(Page {
            serial,
            lacing,
            data,
            end,
        })
    }
}

/// Recomputes a page's CRC (bytes 22..26) over the page with that field zeroed.
fn reseal_crc(page: &mut [u8]) {
    page[22..26].fill(0);
    let crc = crc32(page);
    page[22..26].copy_from_slice(&crc.to_le_bytes());
}

/// Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, initial value and
/// final XOR both zero.
pub(super) fn crc32(data: &[u8]) -> u32 {
    data.iter().fold(0u32, |crc, &byte| {
        let mut crc = crc ^ (u32::from(byte) << 24);
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
        crc
    })
}
