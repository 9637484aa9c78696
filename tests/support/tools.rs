//! The one rule for tests that need a program from outside the Rust toolchain (python3,
//! openssl, exiftool, pg_dump, node, Chromium, nightly and cargo-fuzz).
//!
//! A test asks [`need`] before it uses one. When everything is there, it runs. When
//! something is missing, outside CI it prints exactly one line
//!
//! ```text
//! SKIPPED: <what test> needs <tool> (install: <command>)
//! ```
//!
//! and the test returns early and passes; under `CI=true` the test fails instead, so that CI
//! never passes without having run it.
//!
//! Every test binary includes this file (`#[path = "../support/tools.rs"] mod tools;`, and
//! the crates' unit tests through their `lib.rs`), so there is one copy of the rule.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// A program (or installed file) a test needs, and how to get it on Debian.
#[derive(Clone, Copy, Debug)]
pub struct Tool {
    /// What the SKIPPED line calls it.
    pub name: &'static str,
    find: Find,
    /// The command that installs it.
    pub install: &'static str,
}

#[derive(Clone, Copy, Debug)]
enum Find {
    /// An executable of this name in a `PATH` directory.
    Program(&'static str),
    /// The file named by this variable when it is set, else the program on `PATH`.
    VarOrProgram(&'static str, &'static str),
    /// A file under the package's directory (`CARGO_MANIFEST_DIR`).
    File(&'static str),
    /// A command that must run and exit 0.
    Runs(&'static str, &'static [&'static str]),
}

pub const PYTHON3: Tool = Tool {
    name: "python3",
    find: Find::Program("python3"),
    install: "apt-get install -y python3",
};
pub const OPENSSL: Tool = Tool {
    name: "openssl",
    find: Find::Program("openssl"),
    install: "apt-get install -y openssl",
};
pub const EXIFTOOL: Tool = Tool {
    name: "exiftool",
    find: Find::Program("exiftool"),
    install: "apt-get install -y libimage-exiftool-perl",
};
pub const PG_DUMP: Tool = Tool {
    name: "pg_dump",
    find: Find::Program("pg_dump"),
    install: "apt-get install -y postgresql-client",
};
pub const NGINX: Tool = Tool {
    name: "nginx",
    find: Find::VarOrProgram("NGINX", "nginx"),
    install: "apt-get install -y nginx",
};
/// `systemd-analyze`, which checks the shipped unit (`tests/nginx.rs`).
pub const SYSTEMD_ANALYZE: Tool = Tool {
    name: "systemd-analyze",
    find: Find::Program("systemd-analyze"),
    install: "apt-get install -y systemd",
};
/// `promtool`, Prometheus' rule checker (`tests/alerts.rs`).
pub const PROMTOOL: Tool = Tool {
    name: "promtool",
    find: Find::Program("promtool"),
    install: "apt-get install -y prometheus",
};
pub const NODE: Tool = Tool {
    name: "node",
    find: Find::Program("node"),
    install: "apt-get install -y nodejs npm",
};
/// `$CHROMIUM` when set, else `chromium` on `PATH`.
pub const CHROMIUM: Tool = Tool {
    name: "chromium",
    find: Find::VarOrProgram("CHROMIUM", "chromium"),
    install: "apt-get install -y chromium",
};
pub const PLAYWRIGHT: Tool = Tool {
    name: "playwright-core",
    find: Find::File("node_modules/playwright-core/package.json"),
    install: "npm ci",
};
/// The `chinesecalendar` Python package: the independent holiday calendar of the deadline
/// tests (`tests/support/workdays.py`).
pub const CHINESECALENDAR: Tool = Tool {
    name: "the Python package chinesecalendar",
    find: Find::Runs("python3", &["-c", "import chinese_calendar"]),
    install: "pip install chinesecalendar==1.11.0",
};
/// The `openapi-spec-validator` Python package: checks the OpenAPI document as a client
/// generator reads it (`tests/api/openapi.rs`).
pub const OPENAPI_SPEC_VALIDATOR: Tool = Tool {
    name: "the Python package openapi-spec-validator",
    find: Find::Runs("python3", &["-c", "import openapi_spec_validator"]),
    install: "pip install openapi-spec-validator==0.9.0",
};
pub const NIGHTLY: Tool = Tool {
    name: "the nightly toolchain",
    find: Find::Runs("cargo", &["+nightly", "--version"]),
    install: "rustup toolchain install nightly",
};
pub const CARGO_FUZZ: Tool = Tool {
    name: "cargo-fuzz",
    find: Find::Program("cargo-fuzz"),
    install: "cargo install --locked cargo-fuzz",
};

const APT: &str = "apt-get install -y ";

impl Tool {
    /// Where the tool is, if it is there (for a command: the command's name).
    pub fn path(&self) -> Option<PathBuf> {
        match self.find {
            Find::Program(p) => on_path(p),
            Find::VarOrProgram(var, p) => match std::env::var_os(var) {
                Some(v) if !v.is_empty() => Some(PathBuf::from(v)).filter(|f| f.is_file()),
                _ => on_path(p),
            },
            Find::File(f) => {
                Some(Path::new(env!("CARGO_MANIFEST_DIR")).join(f)).filter(|f| f.is_file())
            }
            Find::Runs(program, args) => Command::new(program)
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .ok()
                .filter(|s| s.success())
                .map(|_| PathBuf::from(program)),
        }
    }
}

/// An executable file named `program` in one of the `PATH` directories.
fn on_path(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(program))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Whether this is a CI run (`CI=true`), where a missing tool fails the test.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Whether `test` (what the SKIPPED line names: a test, a group of tests or a part of one)
/// can run with `tools`. If one is missing: under `CI=true` this panics; otherwise it prints
/// the SKIPPED line and returns false, and the caller returns early (or leaves out the part).
pub fn need(test: &str, tools: &[Tool]) -> bool {
    let missing: Vec<&Tool> = tools.iter().filter(|t| t.path().is_none()).collect();
    if missing.is_empty() {
        return true;
    }
    let names = match missing.split_last() {
        Some((last, [])) => last.name.to_string(),
        Some((last, rest)) => {
            let rest: Vec<&str> = rest.iter().map(|t| t.name).collect();
            format!("{} and {}", rest.join(", "), last.name)
        }
        None => unreachable!(),
    };
    let install = install_commands(&missing);
    if in_ci() {
        panic!("{test} needs {names}, and under CI=true it must run (install: {install})");
    }
    skipped(&format!(
        "SKIPPED: {test} needs {names} (install: {install})"
    ));
    false
}

/// The install commands for `tools`, Debian packages in one `apt-get install`.
fn install_commands(tools: &[&Tool]) -> String {
    let packages: Vec<&str> = tools
        .iter()
        .filter_map(|t| t.install.strip_prefix(APT))
        .collect();
    let mut commands = Vec::new();
    if !packages.is_empty() {
        commands.push(format!("{APT}{}", packages.join(" ")));
    }
    commands.extend(
        tools
            .iter()
            .filter(|t| !t.install.starts_with(APT))
            .map(|t| t.install.to_string()),
    );
    commands.join(" && ")
}

/// Print `line` once per test binary, to the real standard error (past the test harness's
/// capture, so it shows in every run and not only when a test fails).
pub fn skipped(line: &str) {
    static SAID: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let mut said = SAID.lock().unwrap_or_else(|e| e.into_inner());
    if said.insert(line.to_string()) {
        let _ = writeln!(std::io::stderr(), "{line}");
    }
}
