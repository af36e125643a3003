//! Tidy tests: rules about the source tree that hold for every crate, checked as ordinary
//! tests so that `cargo xtask ci` enforces them.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Every `.rs` file of ours: under `crates/`, `xtask/`, `benches/` and `examples/`.
fn rust_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["crates", "xtask", "benches", "examples"] {
        collect(&root().join(dir), &mut files);
    }
    assert!(
        files.len() > 10,
        "found only {} Rust files: is the walk broken?",
        files.len()
    );
    files
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|name| name == "target") {
                continue;
            }
            collect(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn every_module_starts_with_a_doc_line() {
    let offenders: Vec<String> = rust_files()
        .into_iter()
        .filter(|path| {
            let text = fs::read_to_string(path).unwrap();
            let first = text
                .lines()
                .find(|line| !line.trim().is_empty())
                .unwrap_or_default();
            !first.starts_with("//!")
        })
        .map(|path| relative(&path))
        .collect();
    assert!(
        offenders.is_empty(),
        "modules without a leading `//!` line: {offenders:#?}"
    );
}

#[test]
fn no_ignored_tests() {
    // Built in two pieces so that this file does not match itself.
    let needle = format!("#[{}", "ignore");
    let offenders: Vec<String> = rust_files()
        .into_iter()
        .filter(|path| fs::read_to_string(path).unwrap().contains(&needle))
        .map(|path| relative(&path))
        .collect();
    assert!(
        offenders.is_empty(),
        "a test either runs and can fail, or it is not there: {offenders:#?}"
    );
}

/// The manifests of `crates/*`, parsed, by package name.
fn crate_manifests() -> BTreeMap<String, toml::Table> {
    let mut manifests = BTreeMap::new();
    for entry in fs::read_dir(root().join("crates")).unwrap() {
        let path = entry.unwrap().path().join("Cargo.toml");
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        let manifest: toml::Table = text.parse().unwrap();
        let name = manifest["package"]["name"].as_str().unwrap().to_owned();
        manifests.insert(name, manifest);
    }
    assert!(manifests.contains_key("switchyard-core"));
    manifests
}

/// Which of our crates each crate may depend on, read from the table under "Dependency
/// rules" in docs/ARCHITECTURE.md: rows of the form
/// `| \`switchyard-x\` | \`switchyard-y\`, \`switchyard-z\` |`.
fn allowed_dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let text = fs::read_to_string(root().join("docs/ARCHITECTURE.md")).unwrap();
    let section = text
        .split("### Dependency rules")
        .nth(1)
        .expect("ARCHITECTURE.md has a `### Dependency rules` section");
    let mut allowed = BTreeMap::new();
    for line in section.lines().take_while(|line| !line.starts_with("##")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 4 {
            continue;
        }
        let names = |cell: &str| -> BTreeSet<String> {
            cell.split('`')
                .skip(1)
                .step_by(2)
                .filter(|name| name.starts_with("switchyard"))
                .map(String::from)
                .collect()
        };
        let Some(krate) = names(cells[1]).into_iter().next() else {
            continue;
        };
        allowed.insert(krate, names(cells[2]));
    }
    allowed
}

#[test]
fn crates_depend_only_on_what_architecture_md_allows() {
    let allowed = allowed_dependencies();
    let manifests = crate_manifests();
    let documented: BTreeSet<&String> = allowed.keys().collect();
    let existing: BTreeSet<&String> = manifests.keys().collect();
    assert_eq!(
        documented, existing,
        "docs/ARCHITECTURE.md's dependency rules must list exactly the crates that exist"
    );

    for (name, manifest) in &manifests {
        for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
            let Some(deps) = manifest.get(section).and_then(toml::Value::as_table) else {
                continue;
            };
            for dep in deps.keys().filter(|dep| dep.starts_with("switchyard")) {
                assert!(
                    allowed[name].contains(dep),
                    "{name} depends on {dep} in [{section}], which docs/ARCHITECTURE.md does not allow"
                );
            }
        }
    }
}

#[test]
fn every_crate_uses_the_workspace_lints() {
    let mut manifests: Vec<(String, toml::Table)> = crate_manifests().into_iter().collect();
    for dir in ["xtask", "benches"] {
        let text = fs::read_to_string(root().join(dir).join("Cargo.toml")).unwrap();
        manifests.push((dir.to_owned(), text.parse().unwrap()));
    }
    for (name, manifest) in manifests {
        let workspace = manifest
            .get("lints")
            .and_then(|lints| lints.get("workspace"))
            .and_then(toml::Value::as_bool);
        assert_eq!(
            workspace,
            Some(true),
            "{name} must set `[lints] workspace = true`"
        );
    }
}
