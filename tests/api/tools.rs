//! Programs outside the Rust toolchain: a test that needs one says so in one line and
//! passes when it is missing, except under `CI=true`, where it fails.

pub fn missing(what: &str, tool: &str, install: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{what} needs {tool}, which is missing under CI=true (install: {install})");
    }
    println!("SKIPPED: {what} needs {tool} (install: {install})");
}
