//! A loopback fake written in Python (`tests/support/*_sink.py`): started on a free port,
//! it checks what it receives with its own implementation of the platform's rules and
//! appends one JSON line per request to a file the test reads. Without python3 the test
//! is skipped (one SKIPPED line), or fails under `CI=true` (tests/support/tools.rs).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::tools;

pub(crate) struct PySink {
    child: Child,
    record: PathBuf,
    pub(crate) base: String,
    _dir: tempfile::TempDir,
}

impl Drop for PySink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl PySink {
    /// Run `tests/support/{script}` with `--port-file`, `--record` and `args`.
    pub(crate) async fn start(what: &str, script: &str, args: &[&str]) -> Option<PySink> {
        if !tools::need(what, &[tools::PYTHON3]) {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port_file = dir.path().join("port");
        let record = dir.path().join("calls.jsonl");
        let child = Command::new("python3")
            .arg(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/support")
                    .join(script),
            )
            .arg("--port-file")
            .arg(&port_file)
            .arg("--record")
            .arg(&record)
            .args(args)
            .stdin(Stdio::null())
            .spawn()
            .expect("python3 runs");
        let port = wait_file(&port_file).await;
        Some(PySink {
            child,
            record,
            base: format!("http://127.0.0.1:{}", port.trim()),
            _dir: dir,
        })
    }

    pub(crate) fn calls(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.record)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Wait for at least `n` recorded requests (20 s at most).
    pub(crate) async fn wait_calls(&self, n: usize) -> Vec<Value> {
        for _ in 0..400 {
            let c = self.calls();
            if c.len() >= n {
                return c;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {n} calls, got {:?}", self.calls());
    }
}

async fn wait_file(p: &Path) -> String {
    for _ in 0..200 {
        if let Ok(s) = std::fs::read_to_string(p) {
            if !s.is_empty() {
                return s;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the Python sink did not start");
}
