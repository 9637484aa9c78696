//! MP4, MOV, M4A and 3GP working copies (ISO base media files, QuickTime).
//!
//! These files are trees of boxes (`size`, `type`, payload). Phones and
//! cameras put their metadata in a few of them: `udta` (QuickTime `©xyz` GPS
//! position, `©mak`/`©mod` make and model, `©too` encoder, `©ART` author),
//! `meta` (iTunes-style and Apple `keys` metadata, location included), `uuid`
//! boxes (XMP, Sony and GoPro device data), QuickTime previews (`pnot`,
//! `PICT`), and *timed-metadata tracks*: a `trak` whose handler is not video
//! or audio (`meta`, `text`, `tmcd`, `camm`, ...) and whose samples in `mdat`
//! hold per-frame GPS, timecode or camera motion.
//!
//! Nothing is cut out. Every metadata box is overwritten in place by a `free`
//! box of exactly the same size with zeroed content, and the samples of a
//! dropped track are zeroed where they lie, so no box size and no chunk offset
//! (`stco`/`co64`) changes, whether `moov` comes before `mdat` or after it.
//! Players skip `free` boxes. The creation and modification times in `mvhd`,
//! `tkhd` and `mdhd` are zeroed as well.
//!
//! Held sealed ([`Unsanitizable`]): a box tree that does not parse, a
//! compressed movie header (`cmov`), no `moov`, or a dropped track in a
//! fragmented file (its samples are described by `moof` runs, not walked here).

use super::Unsanitizable;

/// Top-level boxes kept as they are; every other top-level box becomes `free`.
const KEPT_TOP_LEVEL: &[&[u8; 4]] = &[
    b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"moof", b"mfra", b"sidx", b"ssix",
    b"styp", b"prft", b"emsg", b"pdin",
];

/// Metadata boxes inside `moov` and `trak`.
const METADATA: &[&[u8; 4]] = &[b"udta", b"meta", b"uuid"];

/// Track handlers whose tracks are kept: everything else is metadata.
const KEPT_HANDLERS: &[&[u8; 4]] = &[b"vide", b"soun"];

/// One box: its type and where its header and payload are in the file.
#[derive(Debug, Clone, Copy)]
pub(super) struct Bx {
    pub kind: [u8; 4],
    pub start: usize,
    /// Where the payload starts (after size, type, largesize and uuid).
    pub body: usize,
    pub end: usize,
}

impl Bx {
    fn payload<'a>(&self, file: &'a [u8]) -> &'a [u8] {
        &file[self.body..self.end]
    }
}

type Result<T> = std::result::Result<T, Unsanitizable>;
const BAD: Unsanitizable = Unsanitizable::Unreadable;

/// The working copy of an ISO base media file.
pub(super) fn sanitize(bytes: &[u8]) -> Result<Vec<u8>> {
    let top = children(bytes, 0, bytes.len())?;
    let mut out = bytes.to_vec();
    let fragmented = top.iter().any(|b| &b.kind == b"moof");
    let mut moov = None;
    for b in &top {
        match &b.kind {
            b"moov" if moov.is_none() => moov = Some(*b),
            kind if KEPT_TOP_LEVEL.contains(&kind) && kind != b"moov" => {}
            _ => make_free(&mut out, b),
        }
    }
    let moov = moov.ok_or(Unsanitizable::UnknownLayout)?;
    for b in children(bytes, moov.body, moov.end)? {
        match &b.kind {
            b"cmov" => return Err(Unsanitizable::UnknownLayout),
            b"mvhd" => zero_times(&mut out, &b)?,
            b"trak" => track(bytes, &mut out, &b, fragmented)?,
            kind if METADATA.contains(&kind) => make_free(&mut out, &b),
            _ => {}
        }
    }
    Ok(out)
}

/// One `trak`: metadata boxes freed, times zeroed; a track that is not
/// video or audio is freed whole and its samples zeroed.
fn track(file: &[u8], out: &mut [u8], trak: &Bx, fragmented: bool) -> Result<()> {
    let boxes = children(file, trak.body, trak.end)?;
    let mdia = find(&boxes, b"mdia").ok_or(BAD)?;
    let media = children(file, mdia.body, mdia.end)?;
    let hdlr = find(&media, b"hdlr").ok_or(BAD)?;
    // FullBox header (4), pre_defined / QuickTime component type (4), handler type.
    let handler: [u8; 4] = hdlr
        .payload(file)
        .get(8..12)
        .and_then(|h| h.try_into().ok())
        .ok_or(BAD)?;
    if !KEPT_HANDLERS.contains(&&handler) {
        if fragmented {
            return Err(Unsanitizable::UnknownLayout);
        }
        zero_samples(file, out, &media)?;
        make_free(out, trak);
        return Ok(());
    }
    for b in &boxes {
        match &b.kind {
            b"tkhd" => zero_times(out, b)?,
            kind if METADATA.contains(&kind) => make_free(out, b),
            _ => {}
        }
    }
    for b in &media {
        match &b.kind {
            b"mdhd" => zero_times(out, b)?,
            kind if METADATA.contains(&kind) => make_free(out, b),
            _ => {}
        }
    }
    Ok(())
}

/// The boxes directly inside `file[from..to]`.
pub(super) fn children(file: &[u8], from: usize, to: usize) -> Result<Vec<Bx>> {
    let mut boxes = Vec::new();
    let mut at = from;
    while at < to {
        let b = one_box(file, at, to)?;
        at = b.end;
        boxes.push(b);
    }
    Ok(boxes)
}

/// The box starting at `at`, which must end by `limit`.
fn one_box(file: &[u8], at: usize, limit: usize) -> Result<Bx> {
    let field = |from: usize, len: usize| file.get(from..from + len).ok_or(BAD);
    let size = u32::from_be_bytes(field(at, 4)?.try_into().map_err(|_| BAD)?);
    let kind: [u8; 4] = field(at + 4, 4)?.try_into().map_err(|_| BAD)?;
    let (mut body, end) = match size {
        0 => (at + 8, limit),
        1 => {
            let large = u64::from_be_bytes(field(at + 8, 8)?.try_into().map_err(|_| BAD)?);
            let len = usize::try_from(large).map_err(|_| BAD)?;
            (at + 16, at.checked_add(len).ok_or(BAD)?)
        }
        n => (at + 8, at + n as usize),
    };
    if &kind == b"uuid" {
        body += 16;
    }
    if body > end || end > limit {
        return Err(BAD);
    }
    Ok(Bx {
        kind,
        start: at,
        body,
        end,
    })
}

fn find<'a>(boxes: &'a [Bx], kind: &[u8; 4]) -> Option<&'a Bx> {
    boxes.iter().find(|b| &b.kind == kind)
}

/// Overwrites a box with a `free` box of the same size and zeroed content,
/// keeping the size field's form (32-bit, 64-bit, or "to the end").
fn make_free(out: &mut [u8], b: &Bx) {
    out[b.start + 4..b.start + 8].copy_from_slice(b"free");
    let first_zero = if out[b.start..b.start + 4] == [0, 0, 0, 1] {
        b.start + 16
    } else {
        b.start + 8
    };
    out[first_zero..b.end].fill(0);
}

/// Zeroes the creation and modification times of `mvhd`, `tkhd` or `mdhd`
/// (32-bit in version 0, 64-bit in version 1, right after version and flags).
fn zero_times(out: &mut [u8], b: &Bx) -> Result<()> {
    let width = match out.get(b.body) {
        Some(0) => 4,
        Some(1) => 8,
        _ => return Err(BAD),
    };
    let times = b.body + 4..b.body + 4 + 2 * width;
    if times.end > b.end {
        return Err(BAD);
    }
    out[times].fill(0);
    Ok(())
}

/// Zeroes the sample data of one track, found from its sample table (chunk
/// offsets, samples per chunk, sample sizes).
fn zero_samples(file: &[u8], out: &mut [u8], media: &[Bx]) -> Result<()> {
    let minf = find(media, b"minf").ok_or(BAD)?;
    let minf = children(file, minf.body, minf.end)?;
    let stbl = find(&minf, b"stbl").ok_or(BAD)?;
    let table = children(file, stbl.body, stbl.end)?;
    let offsets = chunk_offsets(file, &table)?;
    if offsets.is_empty() {
        return Ok(());
    }
    let stsc = find(&table, b"stsc").ok_or(BAD)?;
    let runs: Vec<&[u8]> = entries(file, stsc, 12)?.collect();
    let sizes = SampleSizes::read(file, &table)?;
    let mut sample = 0u64;
    for (index, &offset) in offsets.iter().enumerate() {
        let chunk = index as u64 + 1;
        // The last run whose first chunk is at or before this one.
        let per_chunk = runs
            .iter()
            .take_while(|run| u64::from(be32(run, 0)) <= chunk)
            .last()
            .map_or(0, |run| u64::from(be32(run, 4)));
        let len = sizes.total(sample, per_chunk)?;
        sample = sample.saturating_add(per_chunk);
        let start = usize::try_from(offset).map_err(|_| BAD)?;
        let end = start.checked_add(len).ok_or(BAD)?;
        out.get_mut(start..end).ok_or(BAD)?.fill(0);
    }
    Ok(())
}

fn chunk_offsets(file: &[u8], table: &[Bx]) -> Result<Vec<u64>> {
    if let Some(stco) = find(table, b"stco") {
        return Ok(entries(file, stco, 4)?
            .map(|e| u64::from(be32(e, 0)))
            .collect());
    }
    if let Some(co64) = find(table, b"co64") {
        return Ok(entries(file, co64, 8)?
            .map(|e| u64::from_be_bytes(e.try_into().unwrap_or_default()))
            .collect());
    }
    Err(BAD)
}

/// The entries of a FullBox table (`entry_count` after version and flags).
fn entries<'a>(file: &'a [u8], b: &Bx, width: usize) -> Result<std::slice::ChunksExact<'a, u8>> {
    let payload = b.payload(file);
    let count = payload.get(4..8).map(|c| be32(c, 0)).ok_or(BAD)? as usize;
    let table = payload
        .get(8..8 + count.checked_mul(width).ok_or(BAD)?)
        .ok_or(BAD)?;
    Ok(table.chunks_exact(width))
}

fn be32(bytes: &[u8], at: usize) -> u32 {
    bytes
        .get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u32::from_be_bytes)
}

/// The `stsz` sample sizes of a track.
enum SampleSizes<'a> {
    Constant { size: u64, count: u64 },
    Listed(&'a [u8]),
}

impl<'a> SampleSizes<'a> {
    fn read(file: &'a [u8], table: &[Bx]) -> Result<Self> {
        // `stz2` (compact sizes) is rare enough to hold the file sealed.
        let stsz = find(table, b"stsz").ok_or(Unsanitizable::UnknownLayout)?;
        let payload = stsz.payload(file);
        let size = payload.get(4..8).map(|s| be32(s, 0)).ok_or(BAD)?;
        let count = payload.get(8..12).map(|s| be32(s, 0)).ok_or(BAD)?;
        if size != 0 {
            return Ok(Self::Constant {
                size: u64::from(size),
                count: u64::from(count),
            });
        }
        let listed = payload.get(12..12 + count as usize * 4).ok_or(BAD)?;
        Ok(Self::Listed(listed))
    }

    /// Bytes taken by `n` samples from sample number `first` (0-based).
    fn total(&self, first: u64, n: u64) -> Result<usize> {
        let bytes = match *self {
            Self::Constant { size, count } => {
                size.saturating_mul(n.min(count.saturating_sub(first)))
            }
            Self::Listed(sizes) => {
                let count = sizes.len() as u64 / 4;
                let from = first.min(count) as usize;
                let to = first.saturating_add(n).min(count) as usize;
                sizes[from * 4..to * 4]
                    .chunks_exact(4)
                    .map(|s| u64::from(be32(s, 0)))
                    .sum()
            }
        };
        usize::try_from(bytes).map_err(|_| BAD)
    }
}
