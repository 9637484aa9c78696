//! Reading request bodies under limits: a JSON body, or a multipart form with one JSON part
//! and up to N `evidence` files. Every limit breach is a clear 4xx naming the field.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;

use crate::error::{human_bytes, AppError, AppResult, Kind};
use crate::evidence::{self, EvidenceError, Processed};
use crate::i18n::Locale;

use super::body::{declared_length, read_limited, too_large, ReadError};
use super::gate::UploadPermit;
use super::State;

pub struct UploadedFile {
    /// A display name for error messages only (never logged, never stored).
    pub label: String,
    pub bytes: Vec<u8>,
}

pub struct Body {
    pub json: Vec<u8>,
    pub files: Vec<UploadedFile>,
    /// The form's share of the instance's upload bound, held while the body is.
    _upload: Option<UploadPermit>,
}

/// The request's media type without parameters, lower-cased (`application/json`).
fn media_type(req: &HttpRequest) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Read a JSON body only (`application/json`, at most `[intake] max_json_bytes`): for the
/// endpoints that never take files (look-up, claim), so nobody can make them buffer a form.
pub async fn read_json(
    req: &HttpRequest,
    payload: web::Payload,
    state: &State,
) -> AppResult<Vec<u8>> {
    let essence = media_type(req);
    if essence != "application/json" {
        return Err(AppError::new(
            Kind::UnsupportedMedia,
            "unsupported_media_type",
            "error-json-only",
        ));
    }
    let max = u64::from(state.config().intake.max_json_bytes);
    super::body::read_request(req, payload, max, || {
        AppError::bad_request("invalid_json", "error-invalid-json")
    })
    .await
}

/// Read a JSON body, or a multipart form whose JSON part is named one of `json_parts`.
pub async fn read_body(
    req: &HttpRequest,
    payload: web::Payload,
    state: &State,
    json_parts: &'static [&'static str],
) -> AppResult<Body> {
    let (json, mut rest) = open_form(req, payload, state, json_parts, false).await?;
    let files = rest.files().await?;
    Ok(Body {
        json,
        files,
        _upload: rest.upload,
    })
}

/// Read the JSON of a body (the whole body, or a form's JSON part, which must come before
/// any file), leaving the form's files unread: a caller can check the JSON (authenticate a
/// reporter) before spending anything on files. Keep the [`Rest`] until the files are
/// done with: it holds the form's share of the upload bound.
pub async fn open_body(
    req: &HttpRequest,
    payload: web::Payload,
    state: &State,
    json_parts: &'static [&'static str],
) -> AppResult<(Vec<u8>, Rest)> {
    open_form(req, payload, state, json_parts, true).await
}

/// [`open_body`]; `json_first`: a file part before the JSON part is refused (400) instead
/// of read.
async fn open_form(
    req: &HttpRequest,
    payload: web::Payload,
    state: &State,
    json_parts: &'static [&'static str],
    json_first: bool,
) -> AppResult<(Vec<u8>, Rest)> {
    // In range: the configuration's bounds are checked at start-up.
    let max_json = u64::from(state.config().intake.max_json_bytes);
    let max_files = state.config().evidence.max_files as usize;
    let max_file = u64::from(state.config().evidence.max_file_bytes);
    let max_total = crate::config::bounds::largest_form(state.config());
    let declared = declared_length(req);
    if declared.is_some_and(|len| len > max_total) {
        return Err(too_large(max_total));
    }
    let essence = media_type(req);
    match essence.as_str() {
        "application/json" => {
            let json = read_limited(payload, max_json).await.map_err(|e| match e {
                ReadError::TooLarge => too_large(max_json),
                ReadError::Broken => AppError::bad_request("invalid_json", "error-invalid-json"),
            })?;
            Ok((
                json,
                Rest {
                    form: None,
                    upload: None,
                },
            ))
        }
        "multipart/form-data" => {
            // Admitted before its first byte is read, or refused at once (429).
            let upload = state.uploads().admit(declared.unwrap_or(max_total))?;
            let mut form = Form {
                form: Multipart::new(req.headers(), payload),
                json_parts,
                max_json,
                max_files,
                max_file,
                files: vec![],
                json_seen: false,
                json_first,
            };
            let json = form.until_json().await?;
            Ok((
                json,
                Rest {
                    form: Some(form),
                    upload: Some(upload),
                },
            ))
        }
        _ => Err(AppError::new(
            Kind::UnsupportedMedia,
            "unsupported_media_type",
            "error-unsupported-media-type",
        )),
    }
}

/// The unread rest of a body: for a form, its remaining parts, and its share of the upload
/// bound (given back when this is dropped).
pub struct Rest {
    form: Option<Form>,
    upload: Option<UploadPermit>,
}

impl Rest {
    /// Every file of the body (those before the JSON part and those after).
    pub async fn files(&mut self) -> AppResult<Vec<UploadedFile>> {
        match self.form.take() {
            None => Ok(vec![]),
            Some(form) => form.rest().await,
        }
    }
}

pub struct Form {
    form: Multipart,
    json_parts: &'static [&'static str],
    max_json: u64,
    max_files: usize,
    max_file: u64,
    files: Vec<UploadedFile>,
    json_seen: bool,
    /// Refuse a file before the JSON part (see [`open_body`]).
    json_first: bool,
}

fn broken() -> AppError {
    AppError::bad_request("invalid_multipart", "error-multipart")
}

impl Form {
    /// Read parts until the JSON part; returns it.
    async fn until_json(&mut self) -> AppResult<Vec<u8>> {
        while let Some(json) = self.next_part().await? {
            if let Some(json) = json {
                return Ok(json);
            }
        }
        Err(
            AppError::invalid(self.json_parts[0], "error-missing-report-part")
                .with_code("missing_field"),
        )
    }

    /// Read the remaining parts (files only).
    async fn rest(mut self) -> AppResult<Vec<UploadedFile>> {
        while self.next_part().await?.is_some() {}
        Ok(self.files)
    }

    /// One part: `Some(Some(json))` for the JSON part, `Some(None)` for a file (kept),
    /// `None` at the end.
    async fn next_part(&mut self) -> AppResult<Option<Option<Vec<u8>>>> {
        let Some(field) = self.form.next().await else {
            return Ok(None);
        };
        let field = field.map_err(|_| broken())?;
        let name = field.name().unwrap_or_default().to_string();
        if self.json_parts.contains(&name.as_str()) {
            if self.json_seen {
                return Err(broken().field(name));
            }
            self.json_seen = true;
            let max_json = self.max_json;
            let json = read_limited(field, max_json).await.map_err(|e| match e {
                ReadError::TooLarge => too_large(max_json).field(name.clone()),
                ReadError::Broken => broken(),
            })?;
            return Ok(Some(Some(json)));
        }
        if name != "evidence" {
            return Err(AppError::invalid(name.clone(), "error-unknown-field")
                .with_code("unknown_field")
                .arg("field", name));
        }
        if self.json_first && !self.json_seen {
            return Err(
                AppError::bad_request("json_part_first", "error-json-part-first")
                    .field(self.json_parts[0]),
            );
        }
        if self.files.len() >= self.max_files {
            return Err(
                AppError::new(Kind::TooLarge, "too_many_files", "error-too-many-files")
                    .field("evidence")
                    .arg("max", self.max_files),
            );
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
            .unwrap_or_else(|| format!("#{}", self.files.len() + 1));
        let max_file = self.max_file;
        let bytes = read_limited(field, max_file).await.map_err(|e| match e {
            ReadError::TooLarge => {
                AppError::new(Kind::TooLarge, "file_too_large", "error-file-too-large")
                    .field("evidence")
                    .arg("name", label.clone())
                    .arg("max", human_bytes(max_file))
            }
            ReadError::Broken => broken(),
        })?;
        self.files.push(UploadedFile { label, bytes });
        Ok(Some(None))
    }
}

/// Sniff, check and sanitize uploaded files on blocking threads (at most one image decode
/// per core at a time). The first bad file fails the whole request: nothing is stored.
pub async fn process_files(
    files: Vec<UploadedFile>,
    state: &State,
    locale: Locale,
) -> AppResult<Vec<Processed>> {
    let limits = evidence_limits(state.config());
    let max_file_bytes = limits.max_file_bytes;
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let _permit = state
            .decode_permits()
            .acquire()
            .await
            .map_err(|e| AppError::unavailable(anyhow::anyhow!("{e}")))?;
        let label = f.label;
        let limits = limits.clone();
        let res = tokio::task::spawn_blocking(move || evidence::process(f.bytes, &limits))
            .await
            .map_err(AppError::internal)?;
        let p = res.map_err(|e| evidence_error(e, &label, max_file_bytes).in_locale(locale))?;
        out.push(p);
    }
    Ok(out)
}

/// The evidence limits of the configuration (every channel checks files against these).
pub fn evidence_limits(config: &crate::config::Config) -> evidence::Limits {
    evidence::Limits {
        max_file_bytes: u64::from(config.evidence.max_file_bytes),
        max_image_pixels: u64::from(config.evidence.max_image_pixels),
    }
}

fn evidence_error(e: EvidenceError, label: &str, max: u64) -> AppError {
    let (status, code, msg) = match e {
        EvidenceError::TooLarge => (Kind::TooLarge, "file_too_large", "error-file-too-large"),
        EvidenceError::UnsupportedType => (
            Kind::UnsupportedMedia,
            "unsupported_file_type",
            "error-file-type",
        ),
        EvidenceError::Corrupt => (Kind::Invalid, "corrupt_file", "error-file-corrupt"),
        EvidenceError::ImageTooLarge => (Kind::Invalid, "image_too_large", "error-image-too-large"),
    };
    AppError::new(status, code, msg)
        .field("evidence")
        .arg("name", label)
        .arg("max", human_bytes(max))
}
