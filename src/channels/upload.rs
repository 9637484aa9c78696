//! Reading request bodies under limits: a JSON body, or a multipart form with one JSON part
//! and up to N `evidence` files. Every limit breach is a clear 4xx naming the field.

use actix_multipart::Multipart;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;

use crate::error::{human_bytes, AppError, AppResult};
use crate::evidence::{self, EvidenceError, Processed};
use crate::i18n::Locale;

use super::AppState;

pub struct UploadedFile {
    /// A display name for error messages only (never logged, never stored).
    pub label: String,
    pub bytes: Vec<u8>,
}

pub struct Body {
    pub json: Vec<u8>,
    pub files: Vec<UploadedFile>,
}

fn too_large(max: u64) -> AppError {
    AppError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "error-payload-too-large",
    )
    .arg("max", human_bytes(max))
}

/// Read a JSON body, or a multipart form whose JSON part is named one of `json_parts`.
pub async fn read_body(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    json_parts: &[&str],
) -> AppResult<Body> {
    let max_json = state.config.intake.max_json_bytes.max(1) as u64;
    let max_files = state.config.evidence.max_files.max(0) as usize;
    let max_file = state.config.evidence.max_file_bytes.max(1) as u64;
    let max_total = max_json + max_files as u64 * max_file + 64 * 1024;
    if let Some(len) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if len > max_total {
            return Err(too_large(max_total));
        }
    }
    let essence = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match essence.as_str() {
        "application/json" => {
            let json = read_limited(payload, max_json).await.map_err(|e| match e {
                ReadError::TooLarge => too_large(max_json),
                ReadError::Broken => AppError::bad_request("invalid_json", "error-invalid-json"),
            })?;
            Ok(Body {
                json,
                files: vec![],
            })
        }
        "multipart/form-data" => {
            read_multipart(req, payload, json_parts, max_json, max_files, max_file).await
        }
        _ => Err(AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "error-unsupported-media-type",
        )),
    }
}

enum ReadError {
    TooLarge,
    Broken,
}

async fn read_limited<S, E>(mut stream: S, max: u64) -> Result<Vec<u8>, ReadError>
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
{
    let mut buf = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| ReadError::Broken)?;
        if (buf.len() + chunk.len()) as u64 > max {
            return Err(ReadError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

async fn read_multipart(
    req: &HttpRequest,
    payload: web::Payload,
    json_parts: &[&str],
    max_json: u64,
    max_files: usize,
    max_file: u64,
) -> AppResult<Body> {
    let broken = || AppError::bad_request("invalid_multipart", "error-multipart");
    let mut form = Multipart::new(req.headers(), payload);
    let mut json: Option<Vec<u8>> = None;
    let mut files = Vec::new();
    while let Some(field) = form.next().await {
        let field = field.map_err(|_| broken())?;
        let name = field.name().unwrap_or_default().to_string();
        if json_parts.contains(&name.as_str()) {
            if json.is_some() {
                return Err(broken().field(name));
            }
            json = Some(read_limited(field, max_json).await.map_err(|e| match e {
                ReadError::TooLarge => too_large(max_json).field(name.clone()),
                ReadError::Broken => broken(),
            })?);
        } else if name == "evidence" {
            if files.len() >= max_files {
                return Err(AppError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_many_files",
                    "error-too-many-files",
                )
                .field("evidence")
                .arg("max", max_files));
            }
            let label = field
                .content_disposition()
                .and_then(|cd| cd.get_filename().map(str::to_string))
                .map(|n| {
                    n.chars()
                        .filter(|c| !c.is_control())
                        .take(60)
                        .collect::<String>()
                })
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| format!("#{}", files.len() + 1));
            let bytes = read_limited(field, max_file).await.map_err(|e| match e {
                ReadError::TooLarge => AppError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "file_too_large",
                    "error-file-too-large",
                )
                .field("evidence")
                .arg("name", label.clone())
                .arg("max", human_bytes(max_file)),
                ReadError::Broken => broken(),
            })?;
            files.push(UploadedFile { label, bytes });
        } else {
            return Err(AppError::invalid(name.clone(), "error-unknown-field")
                .with_code("unknown_field")
                .arg("field", name));
        }
    }
    let json = json.ok_or_else(|| {
        AppError::invalid(json_parts[0], "error-missing-report-part").with_code("missing_field")
    })?;
    Ok(Body { json, files })
}

/// Sniff, check and sanitize uploaded files on blocking threads (at most one image decode
/// per core at a time). The first bad file fails the whole request: nothing is stored.
pub async fn process_files(
    files: Vec<UploadedFile>,
    state: &AppState,
    locale: Locale,
) -> AppResult<Vec<Processed>> {
    let max_file_bytes = state.config.evidence.max_file_bytes.max(1) as u64;
    let max_image_pixels = state.config.evidence.max_image_pixels.max(1) as u64;
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let _permit = state
            .decode_permits
            .acquire()
            .await
            .map_err(|e| AppError::unavailable(anyhow::anyhow!("{e}")))?;
        let label = f.label;
        let limits = evidence::Limits {
            max_file_bytes,
            max_image_pixels,
        };
        let res = tokio::task::spawn_blocking(move || evidence::process(f.bytes, &limits))
            .await
            .map_err(AppError::internal)?;
        let p = res.map_err(|e| evidence_error(e, &label, max_file_bytes).in_locale(locale))?;
        out.push(p);
    }
    Ok(out)
}

fn evidence_error(e: EvidenceError, label: &str, max: u64) -> AppError {
    let (status, code, msg) = match e {
        EvidenceError::TooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "file_too_large",
            "error-file-too-large",
        ),
        EvidenceError::UnsupportedType => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file_type",
            "error-file-type",
        ),
        EvidenceError::Corrupt => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "corrupt_file",
            "error-file-corrupt",
        ),
        EvidenceError::ImageTooLarge => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "image_too_large",
            "error-image-too-large",
        ),
    };
    AppError::new(status, code, msg)
        .field("evidence")
        .arg("name", label)
        .arg("max", human_bytes(max))
}
