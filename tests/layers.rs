//! The house stays one-way: every `crate::…` path in `src/` names a top-level module in a
//! lower layer than the file's own (the map below is the README's "Layers"), and the
//! top-level modules import one another without a cycle; the workspace crates in `crates/`
//! depend on no part of the service. Reads the source and the manifests; needs nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[path = "support/source.rs"]
mod source;
use source::rust_files;

/// Lowest first; a module may use only modules of lower layers.
const LAYERS: &[&[&str]] = &[
    &["domain", "i18n", "store", "wechat", "test_tools"],
    &[
        "error",
        "config",
        "telemetry",
        "vault",
        "notify",
        "evidence",
    ],
    &["audit"],
    &["deadlines", "staff", "ops"],
    &["intake"],
    &["workflow"],
    &["rewards"],
    &["channels"],
    &["web"],
    &["startup"],
    &["cli"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The top-level modules a source text names through `crate::`: `crate::a::…` and the
/// first segment of each item of `crate::{a, b::c, …}`. Comments are skipped.
fn named_modules(text: &str) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut item = String::new();
            let mut first = true;
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => {
                        first = true;
                        continue;
                    }
                    _ => {}
                }
                if depth == 1 && first {
                    if c.is_alphanumeric() || c == '_' {
                        item.push(c);
                    } else if !item.is_empty() {
                        out.insert(std::mem::take(&mut item));
                        first = false;
                    }
                }
            }
            if !item.is_empty() {
                out.insert(item);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// Which top-level module a file under `src/` belongs to (`None`: `lib.rs`, `main.rs`).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()?
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    let name = first.trim_end_matches(".rs").to_string();
    (name != "lib" && name != "main").then_some(name)
}

fn graph() -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![];
    rust_files(&src, &mut files);
    let mut g: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for f in files {
        let Some(module) = module_of(&src, &f) else {
            continue;
        };
        let text = std::fs::read_to_string(&f).unwrap();
        let entry = g.entry(module.clone()).or_default();
        for used in named_modules(&text) {
            if used != module {
                let shown = f.strip_prefix(&src).unwrap().display().to_string();
                entry.entry(used).or_default().push(shown);
            }
        }
    }
    g
}

#[test]
fn reading_imports_finds_grouped_and_plain_paths() {
    let found = named_modules(
        "use crate::{audit::{self, Actor}, store};\n// crate::web is only a comment\n\
         let x = crate::deadlines::calendar::shanghai_date(t);",
    );
    let want: BTreeSet<String> = ["audit", "deadlines", "store"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(found, want);
}

#[test]
fn every_import_goes_down_the_layers() {
    let g = graph();
    let mut wrong = vec![];
    for (module, uses) in &g {
        let Some(mine) = layer_of(module) else {
            wrong.push(format!(
                "src/{module} is not in the layer map (tests/layers.rs, README)"
            ));
            continue;
        };
        for (used, files) in uses {
            match layer_of(used) {
                Some(theirs) if theirs < mine => {}
                Some(_) => wrong.push(format!(
                    "{module} (layer {mine}) uses {used}, which is not below it: {}",
                    files.join(", ")
                )),
                None => wrong.push(format!("{module} uses {used}, which is not in the map")),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_cycle_between_top_level_modules() {
    let g = graph();
    // Depth-first search for a back edge.
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeMap<String, Vec<String>>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|s| s == n) {
            return Some(stack[i..].to_vec());
        }
        if !done.insert(n.to_string()) {
            return None;
        }
        stack.push(n.to_string());
        for next in g
            .get(n)
            .map(|u| u.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            if let Some(c) = visit(&next, g, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        None
    }
    let mut done = BTreeSet::new();
    for n in g.keys() {
        let mut stack = vec![];
        if let Some(cycle) = visit(n, &g, &mut stack, &mut done) {
            panic!("a cycle between top-level modules: {}", cycle.join(" → "));
        }
    }
}

/// The workspace's own crates (`crates/*`) sit below the whole service: none of them may
/// depend on the `jubao` crate, not even for its tests (Cargo refuses a cycle of normal
/// dependencies, but not a dev-dependency back on the service).
#[test]
fn crates_do_not_depend_on_the_service() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root_real = root.canonicalize().unwrap();
    let mut wrong = vec![];
    let mut seen = 0;
    for e in std::fs::read_dir(root.join("crates")).unwrap() {
        let dir = e.unwrap().path();
        let manifest = dir.join("Cargo.toml");
        if !manifest.is_file() {
            continue;
        }
        seen += 1;
        let text = std::fs::read_to_string(&manifest).unwrap();
        let doc: toml::Table = text.parse().unwrap();
        // `[dependencies]` and the like, also under `[target.'cfg(…)'.…]`.
        let mut tables = vec![&doc];
        if let Some(targets) = doc.get("target").and_then(|t| t.as_table()) {
            tables.extend(targets.values().filter_map(|t| t.as_table()));
        }
        for t in tables {
            for kind in ["dependencies", "dev-dependencies", "build-dependencies"] {
                let Some(deps) = t.get(kind).and_then(|d| d.as_table()) else {
                    continue;
                };
                for (name, spec) in deps {
                    let package = spec.get("package").and_then(|p| p.as_str()).unwrap_or(name);
                    let to_root = spec
                        .get("path")
                        .and_then(|p| p.as_str())
                        .and_then(|p| dir.join(p).canonicalize().ok())
                        .is_some_and(|p| p == root_real);
                    if package == "jubao" || to_root {
                        let shown = manifest.strip_prefix(root).unwrap().display();
                        wrong.push(format!("{shown}: [{kind}] {name}"));
                    }
                }
            }
        }
    }
    assert!(seen >= 2, "crates/wechat and crates/dialog not found");
    assert!(
        wrong.is_empty(),
        "crates depending on the service:\n{}",
        wrong.join("\n")
    );
}
