//! HTTP: routes, the request middleware, static pages, health and metrics.

mod deadline;
mod error;
mod extract;
pub mod openapi;
pub mod public;
pub mod rewards;
pub mod staff;
pub mod stats;

use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use rust_embed::RustEmbed;
use tokio::sync::Semaphore;

use crate::channels::{self, Doors};
use crate::config::Config;
use crate::error::{AppError, REQUEST_LOCALE};
use crate::i18n::Locale;
use crate::intake::Intake;
use crate::store::Db;
use crate::vault::Vault;

pub use deadline::body_deadline;

/// Everything a request handler may use. Cheap to clone; holds no per-user state.
pub struct AppState {
    pub config: Config,
    pub db: Db,
    pub vault: Arc<Vault>,
    pub intake: Intake,
    pub workflow: crate::workflow::Workflow,
    pub mailer: Arc<crate::notify::email::Mailer>,
    /// Image decoding is CPU- and memory-heavy: at most one per core at a time.
    pub decode_permits: Semaphore,
    /// The WeChat / WeCom bots (CONTRACT §4).
    pub bots: Arc<crate::channels::wechat::Bots>,
    /// Dashboard figures (see `stats`).
    pub stats: stats::StatsCache,
    /// Public figures, computed at most every few minutes (see `public`).
    pub public: public::PublicCache,
    /// Forms with files in flight (`[evidence] max_concurrent_uploads`, `upload_bytes_in_flight`).
    pub uploads: channels::gate::UploadGate,
}

impl Doors for AppState {
    fn config(&self) -> &Config {
        &self.config
    }
    fn db(&self) -> &Db {
        &self.db
    }
    fn vault(&self) -> &Arc<Vault> {
        &self.vault
    }
    fn intake(&self) -> &Intake {
        &self.intake
    }
    fn workflow(&self) -> &crate::workflow::Workflow {
        &self.workflow
    }
    fn decode_permits(&self) -> &Semaphore {
        &self.decode_permits
    }
    fn bots(&self) -> &Arc<crate::channels::wechat::Bots> {
        &self.bots
    }
    fn uploads(&self) -> &channels::gate::UploadGate {
        &self.uploads
    }
}

impl AppState {
    /// The same state as the channels see it: `web::Data<dyn Doors>`.
    pub fn doors(self: &Arc<Self>) -> channels::State {
        let doors: Arc<dyn Doors> = self.clone();
        web::Data::from(doors)
    }
}

pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' blob: data:; connect-src 'self'; font-src 'self'; object-src 'none'; \
    base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

#[derive(RustEmbed)]
#[folder = "static/"]
struct StaticFiles;

pub fn routes(cfg: &mut web::ServiceConfig) {
    error::extractor_errors(cfg);
    cfg.route("/", web::get().to(|| async { redirect("/h5/") }))
        .route("/h5", web::get().to(|| async { redirect("/h5/") }))
        .route("/h5/{tail:.*}", web::get().to(h5))
        .route(
            "/console",
            web::get().to(|| async { redirect("/console/") }),
        )
        .route("/console/{tail:.*}", web::get().to(console))
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics))
        .configure(channels::hotline::routes)
        .service(
            web::scope("/api/v1")
                .configure(channels::h5::routes)
                .configure(channels::staff::routes)
                .configure(stats::routes)
                .configure(public::routes)
                .configure(rewards::routes)
                .configure(staff::routes),
        )
        .configure(channels::wechat::routes)
        .default_service(web::to(not_found));
}

fn redirect(to: &'static str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, to))
        .finish()
}

async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::new(
        crate::error::Kind::NotFound,
        "not_found",
        "error-route-not-found",
    ))
}

async fn h5(req: HttpRequest) -> HttpResponse {
    let tail = req.match_info().query("tail");
    let path = if tail.is_empty() || tail.ends_with('/') {
        format!("h5/{tail}index.html")
    } else {
        format!("h5/{tail}")
    };
    serve_embedded(&req, &path)
}

/// The staff console (CONTRACT §6): a static single-page app under `static/console/`.
async fn console(req: HttpRequest) -> HttpResponse {
    let tail = req.match_info().query("tail");
    let path = if tail.is_empty() || tail.ends_with('/') {
        format!("console/{tail}index.html")
    } else {
        format!("console/{tail}")
    };
    serve_embedded(&req, &path)
}

/// Serve a file embedded from `static/`, with an ETag so phones revalidate cheaply.
pub fn serve_embedded(req: &HttpRequest, path: &str) -> HttpResponse {
    if path.contains("..") {
        return not_found_page();
    }
    let Some(file) = StaticFiles::get(path) else {
        return not_found_page();
    };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    if req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == etag)
    {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish();
    }
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type(path)))
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(file.data.into_owned())
}

fn not_found_page() -> HttpResponse {
    AppError::new(
        crate::error::Kind::NotFound,
        "not_found",
        "error-route-not-found",
    )
    .error_response_owned()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.db.ready().await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({ "status": "ready" })),
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "not ready");
            HttpResponse::ServiceUnavailable().json(serde_json::json!({ "status": "not ready" }))
        }
    }
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let mut body = crate::telemetry::metrics().render();
    // The calendar figures are read at scrape time: the provisional count is shared state
    // (the same on every instance), the years are this instance's calendar.
    let provisional = crate::deadlines::published::provisional_open(&state.db)
        .await
        .ok();
    let years: Vec<i32> = state.workflow.calendar.current().years().collect();
    body.push_str(&crate::telemetry::calendar_metrics(provisional, &years));
    let (forms, bytes) = state.uploads.in_flight();
    body.push_str(&crate::telemetry::upload_metrics(forms, bytes));
    // Read at scrape time from the shared database; left out when it cannot be read.
    if let Ok(g) = crate::ops::metrics::gauges(&state.db).await {
        body.push_str(&crate::telemetry::gauges(&g));
    }
    let backup = &state.config.backup;
    if backup.enabled() {
        let last = crate::ops::schedule::last_success(std::path::Path::new(backup.folder.trim()));
        body.push_str(&crate::telemetry::backup_metrics(
            last,
            crate::ops::schedule::failures(),
        ));
    }
    HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        ))
        .body(body)
}

/// Refuse, before routing, any address whose path or query string holds an encoded NUL
/// (`%00`): nobody sends one on purpose, and it must never reach a query (PostgreSQL
/// refuses NUL in text, which would be a 500). The answer is the CONTRACT §7 400.
pub async fn refuse_nul(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<impl MessageBody>>, actix_web::Error> {
    let uri = req.uri();
    let has_nul = |s: &str| {
        s.as_bytes()
            .windows(3)
            .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
    };
    if has_nul(uri.path()) || uri.query().is_some_and(has_nul) {
        let locale = Locale::from_accept_language(
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        );
        let res = AppError::bad_request("invalid_path", "error-invalid-path")
            .in_locale(locale)
            .error_response_owned();
        return Ok(req.into_response(res).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// The request middleware: the caller's locale for errors, security headers, one log line
/// (method, path without query string, status, time) and metrics by route pattern.
pub async fn middleware(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let locale = Locale::from_accept_language(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let method = req.method().clone();
    let path = req.path().to_string();
    let started = Instant::now();
    let mut res = REQUEST_LOCALE.scope(locale, next.call(req)).await?;
    let status = res.status();
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    let elapsed = started.elapsed();
    let m = crate::telemetry::metrics();
    m.http_requests
        .with_label_values(&[method.as_str(), &route, status.as_str()])
        .inc();
    m.http_duration
        .with_label_values(&[&route])
        .observe(elapsed.as_secs_f64());
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    if path.starts_with("/api/") {
        // Receipts carry a passcode: never cache API answers anywhere.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if path != "/metrics" && path != "/healthz" && path != "/readyz" {
        tracing::info!(
            method = %method,
            path = %path,
            status = status.as_u16(),
            ms = elapsed.as_secs_f64() * 1000.0,
            "request"
        );
    }
    Ok(res)
}

impl AppError {
    /// Render outside the `Responder` path (static handlers that return a response).
    pub fn error_response_owned(self) -> HttpResponse {
        actix_web::ResponseError::error_response(&self)
    }
}
