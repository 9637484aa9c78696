//! A disk that fills during a backup (docs/OPERATIONS.md): the backup command runs with a
//! file-size limit smaller than the database (`ulimit -f`, the `SIGXFSZ` signal ignored, so
//! a write past it fails as on a full disk). It must fail with a clear error, leave no
//! partial file, and leave the running service and its data untouched.

use std::process::Command;

#[path = "support/cli.rs"]
mod cli;
use cli::{command, file_named, run, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_that_fills_during_a_backup_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/data/jubao.db", dir.path().display());
    let log = dir.path().join("server.log");
    let server = start(dir.path(), &url, &log).await;
    let client = reqwest::Client::new();
    let mut receipts = Vec::new();
    for i in 0..60 {
        receipts.push(file_named(&client, &server.base, i).await);
    }
    let out_dir = dir.path().join("backups");
    std::fs::create_dir_all(&out_dir).unwrap();
    let target = out_dir.join("full.zip");
    // bash's `ulimit -f` counts KiB: 64 KiB, less than the database of 60 tips.
    let inner = command(dir.path(), &url);
    let mut c = Command::new("bash");
    c.arg("-c")
        .arg(r#"trap "" XFSZ; ulimit -f 64; exec "$@""#)
        .arg("bash")
        .arg(cli::BIN)
        .args(["backup", "--out"])
        .arg(&target)
        .current_dir(dir.path())
        .envs(inner.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))));
    let (code, out, err) = run(c);
    assert_ne!(code, 0, "{out}{err}");
    assert!(
        err.contains("snapshot") || err.contains("writing"),
        "the error does not name the step: {err}"
    );
    let left: Vec<_> = std::fs::read_dir(&out_dir).unwrap().flatten().collect();
    assert!(
        left.is_empty(),
        "a failed backup left {:?}",
        left.iter().map(|e| e.file_name()).collect::<Vec<_>>()
    );
    // The service still files and finds tips; a backup without the limit works.
    file_named(&client, &server.base, 99).await;
    for r in &receipts {
        assert_eq!(cli::look_up(&client, &server.base, r).await, 200);
    }
    let mut c = command(dir.path(), &url);
    c.args(["backup", "--out"]).arg(&target);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{out}{err}");
    let mut c = command(dir.path(), &url);
    c.args(["backup", "--verify"]).arg(&target);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{out}{err}");
    drop(server);
}
