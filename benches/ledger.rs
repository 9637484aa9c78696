//! Lead ledger export at scale (issue 6 target: 1,000,000 cases in under 20 s, peak RSS under
//! 100 MB). Exports every case of the workflow benchmark's database as CSV and as XLSX and
//! prints the time and size of each; run it under `/usr/bin/time -v` for the peak RSS.
//!
//!   cargo bench --bench workflow                      # seeds target/bench-workflow-N.db once
//!   cargo bench --bench ledger                        # 1,000,000 cases
//!   BENCH_CASES=100000 BENCH_FORMAT=xlsx cargo bench --bench ledger
//!
//! `BENCH_DB` names another database (SQLite file or PostgreSQL URL) that holds the cases.

use std::time::Instant;

use jubao::rewards::ledger::{self, Format, Range};
use jubao::store::Db;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return Ok(()); // `cargo test --benches` / `cargo bench -- --list`
    }
    let n: usize = std::env::var("BENCH_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let url = std::env::var("BENCH_DB").unwrap_or_else(|_| {
        format!(
            "sqlite://{}/target/bench-workflow-{n}.db",
            env!("CARGO_MANIFEST_DIR")
        )
    });
    let db = Db::connect(&url, 4).await?;
    db.migrate().await?;
    let cases = ledger::count(&db, Range::default()).await?;
    anyhow::ensure!(
        cases as usize >= n,
        "{cases} cases in {url}: seed them first with `cargo bench --bench workflow`"
    );
    let formats: Vec<Format> = match std::env::var("BENCH_FORMAT").as_deref() {
        Ok("csv") => vec![Format::Csv],
        Ok("xlsx") => vec![Format::Xlsx],
        _ => vec![Format::Csv, Format::Xlsx],
    };
    let dir = std::env::temp_dir();
    for format in formats {
        let path = dir.join(format!(
            "jubao-ledger-bench.{}",
            if format == Format::Csv { "csv" } else { "xlsx" }
        ));
        let file = std::io::BufWriter::with_capacity(1 << 16, std::fs::File::create(&path)?);
        let t = Instant::now();
        let rows = ledger::export(&db, file, format, Range::default(), |_| {}).await?;
        let secs = t.elapsed().as_secs_f64();
        let size = std::fs::metadata(&path)?.len();
        println!(
            "ledger export {:?}: {rows} cases in {secs:.2} s ({:.0} rows/s), {:.1} MB",
            format,
            rows as f64 / secs,
            size as f64 / 1e6
        );
        std::fs::remove_file(&path)?;
    }
    Ok(())
}
