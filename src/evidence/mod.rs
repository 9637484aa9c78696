//! Evidence files: sniffed by magic bytes, images sanitized. (Interface placeholder; the
//! full module replaces this file.)

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Image,
    Pdf,
    Audio,
    Video,
}

pub struct Limits {
    pub max_file_bytes: u64,
    pub max_image_pixels: u64,
}

pub struct Processed {
    pub kind: MediaKind,
    pub media_type: &'static str,
    pub original: Vec<u8>,
    pub original_sha256: [u8; 32],
    pub working: Option<Vec<u8>>,
    pub working_media_type: Option<&'static str>,
    pub working_sha256: Option<[u8; 32]>,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("file too large")]
    TooLarge,
    #[error("unsupported type")]
    UnsupportedType,
    #[error("corrupt")]
    Corrupt,
    #[error("image too large")]
    ImageTooLarge,
}

pub fn process(bytes: Vec<u8>, limits: &Limits) -> Result<Processed, EvidenceError> {
    use sha2::Digest;
    if bytes.is_empty() || bytes.len() as u64 > limits.max_file_bytes {
        return Err(EvidenceError::TooLarge);
    }
    let (kind, media_type) = match infer::get(&bytes).map(|t| t.mime_type()) {
        Some("application/pdf") => (MediaKind::Pdf, "application/pdf"),
        _ => return Err(EvidenceError::UnsupportedType),
    };
    Ok(Processed {
        kind,
        media_type,
        original_sha256: sha2::Sha256::digest(&bytes).into(),
        original: bytes,
        working: None,
        working_media_type: None,
        working_sha256: None,
        width: None,
        height: None,
    })
}
