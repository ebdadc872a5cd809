//! A broken manifest is reported as `FILE:LINE:COL` with a hint, by `check` and by `up`.

use crate::harness::{Host, guests, run_cli};
use anyhow::{Result, ensure};
use std::path::{Path, PathBuf};

/// A manifest whose line 7 has the unknown field `rout` (a typo of `route`) at column 1.
fn manifest_with_unknown_field(dir: &Path) -> Result<PathBuf> {
    let text = format!(
        "version = 1\n\
         \n\
         [components.hello]\n\
         path = '{}'\n\
         \n\
         [[routes]]\n\
         rout = \"GET /hello/{{name}}\"\n\
         component = \"hello\"\n",
        guests().hello.display()
    );
    let path = dir.join("typo.toml");
    std::fs::write(&path, text)?;
    Ok(path)
}

/// The diagnostic points at the file, line and column, and hints at the fix.
fn points_at_the_typo(stderr: &str, manifest: &Path) -> Result<()> {
    let location = format!("{}:7:1", manifest.display());
    ensure!(
        stderr.contains(&location),
        "no `{location}` in stderr:\n{stderr}"
    );
    ensure!(
        stderr.contains("rout"),
        "the unknown field is not named:\n{stderr}"
    );
    ensure!(stderr.contains("hint"), "no hint:\n{stderr}");
    Ok(())
}

#[test]
fn check_reports_unknown_field_with_file_line_and_column() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let manifest = manifest_with_unknown_field(dir.path())?;
    let output = run_cli(&[&"check", &manifest])?;
    ensure!(
        output.code != Some(0),
        "check accepted the manifest: {output}"
    );
    points_at_the_typo(&output.stderr, &manifest)
}

#[test]
fn up_reports_unknown_field_with_file_line_and_column() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let manifest = manifest_with_unknown_field(dir.path())?;
    let failure = Host::up_expecting_failure(&manifest, &[])?;
    ensure!(failure.code == Some(1), "{failure}");
    points_at_the_typo(&failure.stderr, &manifest)
}

#[test]
fn check_reports_bad_limit_value_with_its_line() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let manifest = dir.path().join("limits.toml");
    std::fs::write(
        &manifest,
        format!(
            "version = 1\n\
             \n\
             [limits]\n\
             timeout = \"soon\"\n\
             \n\
             [components.hello]\n\
             path = '{}'\n",
            guests().hello.display()
        ),
    )?;
    let output = run_cli(&[&"check", &manifest])?;
    ensure!(
        output.code != Some(0),
        "check accepted `timeout = \"soon\"`: {output}"
    );
    let location = format!("{}:4:", manifest.display());
    ensure!(
        output.stderr.contains(&location),
        "no `{location}…` in {output}"
    );
    Ok(())
}

#[test]
fn check_reports_a_missing_component_file() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let manifest = dir.path().join("missing.toml");
    std::fs::write(
        &manifest,
        "version = 1\n\
         \n\
         [components.ghost]\n\
         path = 'no-such-file.wasm'\n\
         \n\
         [[routes]]\n\
         route = \"GET /\"\n\
         component = \"ghost\"\n",
    )?;
    let output = run_cli(&[&"check", &manifest])?;
    ensure!(
        output.code != Some(0),
        "check accepted a missing .wasm: {output}"
    );
    ensure!(
        output.stderr.contains("ghost") && output.stderr.contains("no-such-file.wasm"),
        "the component or its path is not named: {output}"
    );
    Ok(())
}
