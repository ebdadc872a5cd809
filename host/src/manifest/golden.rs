//! Golden files: `host/tests/manifest_golden/err/NAME.toml` must fail with exactly the text in
//! `NAME.err`; `ok/NAME.toml` must load. A changed `.err` is a change to what users see, so it
//! shows up in review. `NEBULA_BLESS=1 cargo test -p nebula-host --lib manifest` rewrites them.

use std::fs;
use std::path::{Path, PathBuf};

use super::Manifest;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/manifest_golden")
}

/// The `.toml` files of a golden folder, sorted.
fn manifests(kind: &str) -> Vec<PathBuf> {
    let dir = golden_dir().join(kind);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("readable folder entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

/// Parses with the path as users would type it from `host/`, so `.err` files do not depend on
/// where the repository is checked out.
fn parse(file: &Path) -> Result<Manifest, super::ManifestError> {
    let text =
        fs::read_to_string(file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    let shown = file
        .strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .expect("golden files live under the crate");
    Manifest::parse(shown, &text)
}

#[test]
fn invalid_manifests_fail_with_the_blessed_diagnostics() {
    let bless = std::env::var_os("NEBULA_BLESS").is_some_and(|v| v == "1");
    let mut failures = Vec::new();
    let files = manifests("err");
    assert!(!files.is_empty(), "no golden manifests found");
    for file in files {
        let actual = match parse(&file) {
            Ok(_) => {
                failures.push(format!(
                    "{}: expected errors, but it is valid",
                    file.display()
                ));
                continue;
            }
            Err(err) => format!("{err}\n"),
        };
        let expected_file = file.with_extension("err");
        if bless {
            fs::write(&expected_file, &actual)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", expected_file.display()));
            continue;
        }
        match fs::read_to_string(&expected_file) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => failures.push(format!(
                "{} differs\n--- expected\n{expected}--- actual\n{actual}",
                expected_file.display()
            )),
            Err(_) => failures.push(format!(
                "{} is missing; actual:\n{actual}",
                expected_file.display()
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n\nrerun with NEBULA_BLESS=1 to accept the new output",
        failures.join("\n\n")
    );
}

#[test]
fn valid_manifests_load() {
    for file in manifests("ok") {
        if let Err(err) = parse(&file) {
            panic!("{} should be valid:\n{err}", file.display());
        }
    }
}
