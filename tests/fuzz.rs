//! Runs the libFuzzer targets in `fuzz/` (the WeChat/WeCom XML parser and message decryption)
//! for a short bounded time, through `fuzz/run.sh` and `cargo fuzz`.
//!
//! The fuzz build instruments its code with a nightly-only sanitizer, so the test needs the
//! nightly toolchain and `cargo-fuzz` (`cargo install cargo-fuzz`). It runs under `CI=true`
//! or when `JUBAO_FUZZ=1`; otherwise it prints one `SKIPPED` line, so a developer's
//! `cargo test` does not pay for a sanitizer build. When it runs, a missing tool is handled
//! as for every test (tests/support/tools.rs): one `SKIPPED` line, or a failure under
//! `CI=true`. `JUBAO_FUZZ_SECONDS` sets the time per target (default 15).

use std::path::Path;
use std::process::Command;

#[path = "support/tools.rs"]
mod tools;

const TARGETS: [&str; 2] = ["xml_parse", "decrypt"];

#[test]
fn fuzz_targets_run_clean_for_a_bounded_time() {
    let test = "fuzz::fuzz_targets_run_clean_for_a_bounded_time";
    let asked = std::env::var("JUBAO_FUZZ").is_ok_and(|v| v == "1");
    if !tools::in_ci() && !asked {
        tools::skipped(&format!(
            "SKIPPED: {test} runs only under CI=true or JUBAO_FUZZ=1 (it needs nightly and cargo-fuzz)"
        ));
        return;
    }
    if !tools::need(test, &[tools::NIGHTLY, tools::CARGO_FUZZ]) {
        return;
    }
    let seconds: u32 = std::env::var("JUBAO_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15);

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cmd = Command::new("bash");
    cmd.arg(root.join("fuzz/run.sh"))
        .args(TARGETS)
        .current_dir(root)
        .env("FUZZ_SECONDS", seconds.to_string())
        .env("FUZZ_REQUIRED", "1");
    // The outer `cargo test` exports its own toolchain and compiler to this process; the
    // nightly build inside must choose its own.
    for var in [
        "RUSTUP_TOOLCHAIN",
        "CARGO",
        "RUSTC",
        "RUSTDOC",
        "RUSTC_WRAPPER",
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET_DIR",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd.output().expect("bash runs fuzz/run.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail = |s: &str| {
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    };
    assert!(
        out.status.success(),
        "fuzzing failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        tail(&stdout),
        tail(&stderr)
    );

    // libFuzzer ends each run with "Done N runs in S second(s)"; every target must have
    // actually run, and run many inputs, for the pass to mean anything.
    let runs: Vec<u64> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("Done "))
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect();
    assert_eq!(
        runs.len(),
        TARGETS.len(),
        "expected one libFuzzer summary per target:\n{}",
        tail(&stderr)
    );
    for (target, n) in TARGETS.iter().zip(&runs) {
        println!("fuzzed {target}: {n} inputs in {seconds} s, no crash");
        assert!(*n >= 1_000, "{target} ran only {n} inputs in {seconds} s");
    }
}
