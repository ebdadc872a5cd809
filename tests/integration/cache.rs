//! The compile cache: a second start loads components from it; a damaged entry is noticed,
//! recompiled, and serving goes on.

use crate::harness::{Host, Manifest, Written, guests};
use anyhow::{Context, Result, ensure};
use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The log line of a cache miss, and of a hit.
const COMPILED: [&str; 2] = ["component `hello`: compiled in", "cached"];
const LOADED: [&str; 1] = ["component `hello`: loaded from cache"];

fn hello_manifest() -> Result<Written> {
    Manifest::new()
        .component("hello", &guests().hello)
        .route("GET /hello/{name}", "hello")
        .write_temp()
}

/// Starts a host on `cache_dir`, checks it greets, waits for a stderr line with all of
/// `expected` (the component may be compiled lazily, on the first request), and stops the host;
/// returns its stderr.
fn serve_once(manifest: &Path, cache_dir: &Path, expected: &[&str]) -> Result<String> {
    let host = Host::up_with_cache(manifest, &[], cache_dir)?;
    let response = host.get("/hello/cache")?;
    ensure!(
        response.status == 200 && response.text() == "Hello, cache!\n",
        "status {} ({}); stderr:\n{}",
        response.status,
        response.text(),
        host.log()
    );
    host.wait_for_log_line(expected)?;
    Ok(host.log())
}

/// The `.cwasm` files directly in the cache folder.
fn cache_entries(cache_dir: &Path) -> Result<Vec<PathBuf>> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(cache_dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "cwasm") {
            entries.push(path);
        }
    }
    Ok(entries)
}

/// A way to damage a cache file.
type Damage = fn(&Path) -> Result<()>;

/// Flips 64 bytes in the middle of the file.
fn flip_bytes(path: &Path) -> Result<()> {
    let mut file = OpenOptions::new().read(true).write(true).open(path)?;
    let len = file.metadata()?.len();
    let at = len / 2;
    let mut bytes = vec![0u8; 64.min(len - at) as usize];
    file.seek(SeekFrom::Start(at))?;
    file.read_exact(&mut bytes)?;
    for byte in &mut bytes {
        *byte ^= 0xff;
    }
    file.seek(SeekFrom::Start(at))?;
    file.write_all(&bytes)?;
    Ok(())
}

/// Cuts the file to half its length.
fn truncate(path: &Path) -> Result<()> {
    let file = OpenOptions::new().write(true).open(path)?;
    let len = file.metadata()?.len();
    file.set_len(len / 2)?;
    Ok(())
}

#[test]
fn second_start_loads_components_from_the_cache() -> Result<()> {
    let cache = tempfile::tempdir()?;
    let written = hello_manifest()?;
    let manifest = &written.path;

    serve_once(manifest, cache.path(), &COMPILED)?;
    ensure!(
        !cache_entries(cache.path())?.is_empty(),
        "no .cwasm file in the cache folder"
    );
    let second = serve_once(manifest, cache.path(), &LOADED)?;
    ensure!(
        !second.contains(COMPILED[0]),
        "second start compiled `hello` again:\n{second}"
    );
    Ok(())
}

#[test]
fn damaged_cache_entry_is_recompiled() -> Result<()> {
    let cache = tempfile::tempdir()?;
    let written = hello_manifest()?;
    let manifest = &written.path;
    serve_once(manifest, cache.path(), &COMPILED)?;

    let damages: [(&str, Damage); 2] = [("flipped bytes", flip_bytes), ("truncated", truncate)];
    for (damage, apply) in damages {
        let entries = cache_entries(cache.path())?;
        ensure!(!entries.is_empty(), "no .cwasm file in the cache folder");
        for entry in &entries {
            apply(entry).with_context(|| format!("cannot damage {}", entry.display()))?;
        }
        serve_once(manifest, cache.path(), &["damaged", "recompiling"])
            .with_context(|| format!("serving with a cache entry damaged by {damage}"))?;
    }

    // The recompiled entry is good again.
    serve_once(manifest, cache.path(), &LOADED)?;
    Ok(())
}
