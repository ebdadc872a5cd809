//! The on-disk compile cache: compiled components keyed by the wasm's hash and the engine's
//! settings, so a second start does not run Cranelift again.
//!
//! An entry is two files: `KEY.cwasm`, wasmtime's serialized component byte for byte, and
//! `KEY.sum`, `MAGIC` then the BLAKE3 hash of the `.cwasm`. The hash is checked before wasmtime
//! sees the bytes: a damaged or foreign file is recompiled, never trusted.
//!
//! A verified entry is mapped, not read: its machine code and its memory images stay pages of
//! the file (shared with the page cache, only the touched ones resident, given back under
//! memory pressure) instead of a private copy on the heap. A freshly compiled component is
//! stored and then mapped from its entry the same way. Entries are replaced by renaming a new
//! file over them, never written in place, so a mapped entry never changes under the host.

use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::time::Instant;

use wasmtime::Engine;
use wasmtime::component::Component;

const MAGIC: &[u8; 16] = b"nebula-cwasm-v2\n";
/// Part of every key: entries of another layout are never looked at.
const LAYOUT: &str = "cwasm and sum, v2";

/// How a component came to be loaded, for the log.
#[derive(Debug)]
pub enum CacheOutcome {
    /// Found in the cache and verified.
    Hit,
    /// Compiled now, and stored (or the cache is disabled).
    Compiled { millis: u128, stored: bool },
    /// An entry existed but failed verification; compiled again and replaced.
    Damaged { reason: Damage, millis: u128 },
    /// Not in the cache: compiled quickly by the baseline compiler, while the optimizing
    /// compiler works in the background (see `tier`).
    Baseline { millis: u128 },
}

/// What was wrong with a cache entry that was not used.
#[derive(Debug, thiserror::Error)]
pub enum Damage {
    #[error("unreadable")]
    Unreadable(#[source] std::io::Error),
    #[error("not a nebula cache entry")]
    NotAnEntry,
    #[error("truncated")]
    Truncated,
    #[error("checksum mismatch")]
    Checksum,
    #[error("rejected by wasmtime")]
    Rejected(#[source] super::Source),
}

/// A folder of compiled components; `None` disables caching.
#[derive(Debug, Clone)]
pub struct CompileCache {
    dir: Option<PathBuf>,
}

impl CompileCache {
    pub fn new(dir: Option<PathBuf>) -> Self {
        CompileCache { dir }
    }

    /// The default folder: `$NEBULA_CACHE_DIR`, else `$XDG_CACHE_HOME/nebula`, else
    /// `~/.cache/nebula`.
    pub fn default_dir() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("NEBULA_CACHE_DIR") {
            return Some(dir.into());
        }
        if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
            return Some(Path::new(&dir).join("nebula"));
        }
        std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache/nebula"))
    }

    /// The entry's path for these wasm bytes under this engine's settings.
    fn entry(&self, engine: &Engine, digest: &[u8; 32]) -> Option<PathBuf> {
        let mut hasher = Blake3Hasher(blake3::Hasher::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        hasher.0.update(LAYOUT.as_bytes());
        hasher.0.update(digest);
        let key = hasher.0.finalize().to_hex();
        self.dir
            .as_ref()
            .map(|d| d.join(format!("{}.cwasm", &key[..32])))
    }

    /// Loads the compiled component from the cache, or compiles and stores it.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        wasm: &[u8],
        digest: &[u8; 32],
    ) -> wasmtime::Result<(Component, CacheOutcome)> {
        match self.lookup(engine, digest) {
            Lookup::Hit(component) => Ok((component, CacheOutcome::Hit)),
            Lookup::Miss => self.compile(engine, wasm, digest, None),
            Lookup::Damaged(reason) => self.compile(engine, wasm, digest, Some(reason)),
        }
    }

    /// Whether there is an entry for these wasm bytes under this engine's settings, whole or
    /// not (one file-system check; [`CompileCache::lookup`] verifies it).
    pub fn holds(&self, engine: &Engine, digest: &[u8; 32]) -> bool {
        self.entry(engine, digest)
            .is_some_and(|path| path.with_extension("sum").exists())
    }

    /// The verified entry for these wasm bytes under this engine's settings, if there is one.
    pub fn lookup(&self, engine: &Engine, digest: &[u8; 32]) -> Lookup {
        let Some(path) = self.entry(engine, digest) else {
            return Lookup::Miss;
        };
        let sum = match std::fs::read(path.with_extension("sum")) {
            Ok(sum) => sum,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Lookup::Miss,
            Err(e) => return Lookup::Damaged(Damage::Unreadable(e)),
        };
        match File::open(&path) {
            Ok(file) => match verified(engine, &sum, file) {
                Ok(component) => Lookup::Hit(component),
                Err(reason) => Lookup::Damaged(reason),
            },
            Err(e) => Lookup::Damaged(Damage::Unreadable(e)),
        }
    }

    /// Compiles with `engine` and stores the result; `damaged` says why an entry was not used.
    pub fn compile(
        &self,
        engine: &Engine,
        wasm: &[u8],
        digest: &[u8; 32],
        damaged: Option<Damage>,
    ) -> wasmtime::Result<(Component, CacheOutcome)> {
        let start = Instant::now();
        let component = Component::new(engine, wasm)?;
        let millis = start.elapsed().as_millis();
        let stored = match self.entry(engine, digest) {
            Some(path) => store(&path, &component)
                .inspect_err(|e| {
                    tracing::warn!("compile cache entry `{}` not written: {e}", path.display())
                })
                .is_ok(),
            None => false,
        };
        // Serve the stored entry, mapped, and let the compiled copy on the heap go.
        let component = match stored.then(|| self.lookup(engine, digest)) {
            Some(Lookup::Hit(mapped)) => mapped,
            _ => component,
        };
        let outcome = match damaged {
            Some(reason) => CacheOutcome::Damaged { reason, millis },
            None => CacheOutcome::Compiled { millis, stored },
        };
        Ok((component, outcome))
    }
}

/// What the cache holds for a component.
pub enum Lookup {
    Hit(Component),
    Miss,
    /// An entry exists but failed verification; it must be compiled again.
    Damaged(Damage),
}

impl std::fmt::Debug for Lookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Lookup::Hit(_) => f.write_str("Hit"),
            Lookup::Miss => f.write_str("Miss"),
            Lookup::Damaged(reason) => f.debug_tuple("Damaged").field(reason).finish(),
        }
    }
}

/// Checks the `.cwasm` file against its sum, then maps that same file (wasmtime checks its own
/// header and engine settings).
fn verified(engine: &Engine, sum: &[u8], mut file: File) -> Result<Component, Damage> {
    let hash = sum
        .strip_prefix(MAGIC.as_slice())
        .ok_or(Damage::NotAnEntry)?;
    if hash.len() != 32 {
        return Err(Damage::Truncated);
    }
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(&file).map_err(Damage::Unreadable)?;
    if hasher.finalize().as_bytes() != hash {
        return Err(Damage::Checksum);
    }
    // The file that was hashed, by its descriptor: a rename over the path since then is not
    // what gets mapped.
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let same_file = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
        if same_file.exists() {
            // SAFETY: as for `deserialize` below; the file is the one whose hash matched, and
            // entries are replaced by rename, never modified in place, so the mapping holds
            // those bytes.
            #[expect(
                unsafe_code,
                reason = "loading verified precompiled code is wasmtime's unsafe API"
            )]
            let component = unsafe { Component::deserialize_file(engine, &same_file) };
            return component.map_err(|e| Damage::Rejected(e.into()));
        }
    }
    // No /proc: read the verified file into memory.
    let mut payload = Vec::new();
    file.rewind().map_err(Damage::Unreadable)?;
    file.read_to_end(&mut payload).map_err(Damage::Unreadable)?;
    if blake3::hash(&payload).as_bytes() != hash {
        return Err(Damage::Checksum);
    }
    // SAFETY: `Component::deserialize` requires bytes produced by `Component::serialize` of a
    // compatible engine. The payload is exactly what `store` wrote (its BLAKE3 hash matches), and
    // wasmtime itself rejects output of another version or configuration.
    #[expect(
        unsafe_code,
        reason = "loading verified precompiled code is wasmtime's unsafe API"
    )]
    let component = unsafe { Component::deserialize(engine, &payload) };
    component.map_err(|e| Damage::Rejected(e.into()))
}

/// Writes an entry, the `.cwasm` first and its sum last; a failure only costs a compilation
/// at the next start.
fn store(path: &Path, component: &Component) -> std::io::Result<()> {
    let payload = component.serialize().map_err(std::io::Error::other)?;
    let dir = path.parent().expect("a cache entry is in the cache folder");
    std::fs::create_dir_all(dir)?;
    let mut sum = Vec::with_capacity(MAGIC.len() + 32);
    sum.extend_from_slice(MAGIC);
    sum.extend_from_slice(blake3::hash(&payload).as_bytes());
    replace(path, &payload)?;
    replace(&path.with_extension("sum"), &sum)
}

/// Writes a file whole, then renames it over `path`: a concurrent start never reads half of
/// it, and a host that mapped the old file keeps the old bytes.
fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!(
        "{}.tmp{}",
        path.extension().and_then(|e| e.to_str()).unwrap_or(""),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// Feeds `Hash` implementations into BLAKE3, for a key that is stable across processes.
struct Blake3Hasher(blake3::Hasher);

impl Hasher for Blake3Hasher {
    fn finish(&self) -> u64 {
        let bytes = self.0.finalize();
        u64::from_le_bytes(bytes.as_bytes()[..8].try_into().expect("8 bytes"))
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}
