//! The HTTP stack alone, for comparison (issue 20; `benches/load.sh`, docs/BENCHMARKS.md):
//! an actix-web app with the same number of workers as `jubao serve` that parses the body
//! of `POST /api/v1/reports` into the same shape of typed request (target, categories,
//! description, reporter) and answers 201 with a small JSON receipt. Nothing else: no
//! validation, no sealing, no database. What jubao does on top of this is its own cost.
//!
//!   cargo run --release --example bare_intake -- 127.0.0.1:8090

use actix_web::{web, App, HttpResponse, HttpServer};
use serde::Deserialize;

#[derive(Deserialize)]
#[allow(dead_code)] // parsed, as jubao parses it, and dropped
struct Target {
    name: String,
    kind: Option<String>,
    region_code: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Reporter {
    anonymous: bool,
    name: Option<String>,
    id_number: Option<String>,
    phone: Option<String>,
    relation: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Tip {
    target: Target,
    categories: Vec<String>,
    description: String,
    reporter: Reporter,
    locale: Option<String>,
}

async fn report(tip: web::Json<Tip>) -> HttpResponse {
    let receipt = serde_json::json!({
        "id": "00000000-0000-0000-0000-000000000000",
        "tracking_code": "JB0000000000",
        "categories": tip.categories.len(),
    });
    HttpResponse::Created().json(receipt)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let listen = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8090".into());
    HttpServer::new(|| {
        App::new()
            .app_data(web::JsonConfig::default().limit(64 * 1024))
            .route("/api/v1/reports", web::post().to(report))
    })
    .bind(listen)?
    .run()
    .await
}
