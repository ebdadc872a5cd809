//! Large components missing from the compile cache are compiled after the host starts listening.
//!
//! With an empty cache, even the baseline compiler needs over a second for a language runtime's
//! component (CPython's is 19 MB of wasm, SpiderMonkey's 12 MB), and a start used to wait for all
//! of them before serving anything. Now such a component is *judged* before the host listens
//! and *compiled* after:
//!
//! * judged from its import and export names, read straight from the wasm's component sections
//!   (no compile), by the same policy as a compiled component: an impure one is still refused at
//!   start, every offending import named;
//! * compiled by one background thread (`slot::load_in_background`) at a lower priority, one component at a time, in the
//!   manifest's order, on baseline code first as any other miss (see `tier`);
//! * a request that needs it before then waits for that compile as it would have waited for the
//!   host to start: its deadline starts once the component is ready (`handler::first_loads`).
//!
//! Only pure components at least [`LATER_BYTES`] long qualify, and only when tiered (`check` and
//! `NEBULA_TIERS=optimized` compile everything before answering, so `check` still proves every
//! component compiles). A component whose names cannot be read is compiled at start, so a
//! broken file is reported there.

use wasmparser::{Chunk, ComponentExternalKind, ComponentTypeRef, Encoding, Parser, Payload};

/// Wasm at least this long is compiled after the host listens (when it is pure and not cached).
/// The Rust components of Academemes are under 1 MB and take milliseconds on baseline code.
pub const LATER_BYTES: usize = 4 << 20;

/// A component judged pure at start, to be compiled later.
#[derive(Debug)]
pub struct Later {
    /// BLAKE3 of its wasm, the identity its slot keeps.
    pub digest: [u8; 32],
}

/// The names of a component's own imports and exports (not those of the modules and components
/// nested in it), or `None` if `wasm` is not a component this parser can read.
pub fn names(wasm: &[u8]) -> Option<(Vec<String>, Vec<String>)> {
    let (mut imports, mut exports) = (Vec::new(), Vec::new());
    let mut parser = Parser::new(0);
    let mut offset = 0;
    loop {
        let Chunk::Parsed { consumed, payload } = parser.parse(wasm.get(offset..)?, true).ok()?
        else {
            return None;
        };
        offset += consumed;
        match payload {
            Payload::Version {
                encoding: Encoding::Component,
                ..
            } => {}
            Payload::Version { .. } => return None,
            Payload::ComponentImportSection(section) => {
                for import in section {
                    let import = import.ok()?;
                    // Imported types give the guest nothing to call; wasmtime lists none.
                    if !matches!(import.ty, ComponentTypeRef::Type(_)) {
                        imports.push(import.name.name.to_owned());
                    }
                }
            }
            Payload::ComponentExportSection(section) => {
                for export in section {
                    let export = export.ok()?;
                    if export.kind != ComponentExternalKind::Type {
                        exports.push(export.name.name.to_owned());
                    }
                }
            }
            // A nested module or component: skipped whole, the parser goes on after it.
            Payload::ModuleSection {
                unchecked_range, ..
            }
            | Payload::ComponentSection {
                unchecked_range, ..
            } => offset += unchecked_range.len(),
            Payload::End(_) => return Some((imports, exports)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::slot::{Slot, Sweeper};
    use super::super::{
        CompileCache, ComponentError, EngineSettings, FuelChecks, Runtime, Start, Tiers,
    };
    use super::*;

    fn guest(name: &str) -> Vec<u8> {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../target/guests/wasm32-wasip2/release")
            .join(format!("{name}.wasm"));
        std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "`{}`: {e}; build the guests first: cd components && cargo build --release",
                path.display()
            )
        })
    }

    #[test]
    fn the_names_read_from_the_wasm_are_those_of_the_compiled_component() {
        let settings = EngineSettings::default();
        let runtime = Runtime::new(&settings, CompileCache::new(None)).unwrap();
        for name in ["hello", "sockets", "hostile_std", "http_hello", "kv_v01"] {
            let wasm = guest(name);
            let component = wasmtime::component::Component::new(&runtime.engine, &wasm).unwrap();
            let (mut imports, mut exports) = runtime.names(&component);
            let (mut read_imports, mut read_exports) = names(&wasm).expect("a component");
            for list in [
                &mut imports,
                &mut exports,
                &mut read_imports,
                &mut read_exports,
            ] {
                list.sort();
            }
            assert_eq!((read_imports, read_exports), (imports, exports), "{name}");
        }
    }

    fn runtime(tiers: Tiers, cache: &std::path::Path) -> Runtime {
        let settings = EngineSettings {
            tiers,
            ..EngineSettings::default()
        };
        Runtime::new(&settings, CompileCache::new(Some(cache.to_owned()))).expect("runtime")
    }

    fn path(name: &str) -> std::path::PathBuf {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../target/guests/wasm32-wasip2/release")
            .join(format!("{name}.wasm"))
    }

    /// Whether `load_at_start` left the component for later, with every size qualifying.
    fn left_for_later(runtime: &Runtime, name: &str) -> bool {
        let start = runtime
            .load_at_start(name, &path(name), FuelChecks::Without, 0)
            .expect("loads");
        matches!(start, Start::Later(_))
    }

    #[test]
    fn only_pure_components_missing_from_the_cache_are_left_for_later() {
        let cache = tempfile::tempdir().unwrap();
        let tiered = runtime(Tiers::Tiered, cache.path());
        assert!(left_for_later(&tiered, "hello"));
        // Impure, or a `wasi:http` component: loaded now, so that the refusal or the proxy's
        // preparation happens at start.
        assert!(!left_for_later(&tiered, "sockets"));
        assert!(!left_for_later(&tiered, "http_hello"));
        // Once the cache holds it, it is mapped at start like any other.
        runtime(Tiers::Optimized, cache.path())
            .load("hello", &path("hello"), FuelChecks::Without)
            .expect("compiles into the cache");
        assert!(!left_for_later(&tiered, "hello"));
        // Without tiering everything compiles before the host answers (what `check` does).
        let empty = tempfile::tempdir().unwrap();
        assert!(!left_for_later(
            &runtime(Tiers::Optimized, empty.path()),
            "echo"
        ));
        // Below the size, a miss compiles on baseline code at once.
        let start = tiered
            .load_at_start("echo", &path("echo"), FuelChecks::Without, LATER_BYTES)
            .expect("loads");
        assert!(matches!(start, Start::Now(_)), "{start:?}");
    }

    #[tokio::test]
    async fn a_component_left_for_later_is_loaded_by_its_first_request_or_the_thread_whichever_comes_first()
     {
        let cache = tempfile::tempdir().unwrap();
        let runtime = runtime(Tiers::Tiered, cache.path());
        let sweeper = Sweeper::new();
        let digest = |name: &str| *blake3::hash(&std::fs::read(path(name)).unwrap()).as_bytes();
        // The request comes first: it loads the component itself.
        let asked = Slot::later("hello", path("hello"), digest("hello"), &sweeper);
        assert!(!asked.is_loaded());
        let loaded = asked.get(&runtime).await.expect("loads on request");
        assert!(loaded.verdict.is_pure());
        assert_eq!(asked.loads.load(std::sync::atomic::Ordering::Relaxed), 1);
        // The thread comes first: the request finds it loaded.
        let background = Slot::later("echo", path("echo"), digest("echo"), &sweeper);
        let done = {
            let (runtime, slot) = (runtime.clone(), background.clone());
            std::thread::spawn(move || slot.load_later(&runtime))
        };
        done.join().unwrap();
        assert!(background.is_loaded());
        background.get(&runtime).await.expect("already loaded");
        assert_eq!(
            background.loads.load(std::sync::atomic::Ordering::Relaxed),
            1
        );
        // A file that changed since the start is not served as the component judged then.
        let changed = Slot::later("echo", path("echo"), digest("hello"), &sweeper);
        let err = changed.get(&runtime).await.expect_err("another file");
        assert!(matches!(err, ComponentError::Changed { .. }), "{err}");
    }

    #[test]
    fn bytes_that_are_not_a_component_have_no_names() {
        assert_eq!(names(b"not wasm at all"), None);
        assert_eq!(names(&wat_module()), None);
        let hello = guest("hello");
        assert_eq!(names(&hello[..hello.len() / 2]), None, "a truncated file");
    }

    /// The smallest core module: a module is not a component.
    fn wat_module() -> Vec<u8> {
        b"\0asm\x01\0\0\0".to_vec()
    }
}
