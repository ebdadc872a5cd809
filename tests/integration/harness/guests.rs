//! Builds the guest components (the `components/` workspace) once per test binary.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

/// The built guest components, one `.wasm` per field. See each crate's `//!` for what it is for.
#[derive(Debug)]
pub struct Guests {
    /// Greets `{name}`; serves the demo index page at `/`.
    pub hello: PathBuf,
    /// Answers with its whole input as JSON.
    pub echo: PathBuf,
    /// Panics (a trap), unless the query has `calm`.
    pub trap: PathBuf,
    /// Loops forever, unless the query has `calm`.
    pub spin: PathBuf,
    /// Allocates 1 MiB after 1 MiB forever, unless the query has `calm`.
    pub hog: PathBuf,
    /// A std component that imports `wasi:sockets`: the host must refuse it.
    pub sockets: PathBuf,
    /// Exercises the effects layer: reads, dynamic reads, writes, bad writes, pipelines.
    pub effects_probe: PathBuf,
    /// std, on the WASI stubs: sleeps, probes clocks, poll and random, loops, bombs, recurses.
    pub hostile_std: PathBuf,
    /// no_std: loops, bombs, recurses, bad status and headers, needs forever, bad writes.
    pub hostile_nostd: PathBuf,
    /// Written against `nebula:pure@0.1.0` and kept there: gets, puts, adds, needs.
    pub kv_v01: PathBuf,
    /// wasi:http/proxy: greets the last path segment, logs a line to stdout and to stderr.
    pub http_hello: PathBuf,
    /// wasi:http/proxy: streaming echo with trailers; shows headers, env, files, forbidden headers.
    pub http_echo: PathBuf,
    /// wasi:http/proxy: hashes fetched URLs (`/hash`), forwards to an upstream (`/forward`).
    pub http_fetch: PathBuf,
    /// wasi:http/proxy (WASI 0.2.2 bindings): never responds, traps, spins, sleeps, errors.
    pub http_misbehave: PathBuf,
    /// wasi:http/proxy that imports `wasi:sockets`: the host must refuse it.
    pub http_sockets: PathBuf,
}

/// The repository root (this test is declared by `host/Cargo.toml`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ has a parent folder")
        .to_path_buf()
}

/// The guest crates the tests use, built with `-p` so that another guest of the workspace that
/// is being written does not break these tests. Add a crate here and a field to [`Guests`].
const CRATES: &[&str] = &[
    "hello",
    "echo",
    "trap",
    "spin",
    "hog",
    "sockets",
    "effects-probe",
    // Hostile guests (tests/integration/hostile.rs).
    "hostile-std",
    "hostile-nostd",
    // The frozen 0.1.0 world (tests/integration/worlds.rs).
    "kv-v01",
    // wasi:http/proxy components (tests/integration/proxy.rs).
    "http-hello",
    "http-echo",
    "http-fetch",
    "http-misbehave",
    "http-sockets",
    // Academemes (`manifests/academemes.toml`): the paths its manifest names.
    "academemes-api",
    "academemes-pages",
    "academemes-upload",
    "academemes-assets",
    "academemes-seed",
    "generator",
];

/// Builds the guest components the first time it is called and returns their paths; later
/// calls (from any test thread) wait for that build and get the same paths.
pub fn guests() -> &'static Guests {
    static GUESTS: OnceLock<Guests> = OnceLock::new();
    GUESTS.get_or_init(build)
}

fn build() -> Guests {
    let components = repo_root().join("components");
    let started = Instant::now();
    let mut cargo = Command::new("cargo");
    cargo.args(["build", "--release"]).current_dir(&components);
    for name in CRATES {
        cargo.args(["-p", name]);
    }
    scrub_outer_cargo_env(&mut cargo);
    let output = cargo
        .output()
        .unwrap_or_else(|err| panic!("cannot run cargo in {}: {err}", components.display()));
    assert!(
        output.status.success(),
        "building the guest components failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    println!("built the guest components in {:.1?}", started.elapsed());

    let release = repo_root().join("target/guests/wasm32-wasip2/release");
    // Every crate built, including those only a manifest names (they have no field below).
    for name in CRATES {
        let path = release.join(format!("{}.wasm", name.replace('-', "_")));
        assert!(path.is_file(), "the guest build made no {}", path.display());
    }
    let wasm = |crate_name: &str| {
        debug_assert!(
            CRATES.contains(&crate_name),
            "{crate_name} is not in CRATES"
        );
        let path = release.join(format!("{}.wasm", crate_name.replace('-', "_")));
        assert!(path.is_file(), "the guest build made no {}", path.display());
        path
    };
    Guests {
        hello: wasm("hello"),
        echo: wasm("echo"),
        trap: wasm("trap"),
        spin: wasm("spin"),
        hog: wasm("hog"),
        sockets: wasm("sockets"),
        effects_probe: wasm("effects-probe"),
        hostile_std: wasm("hostile-std"),
        hostile_nostd: wasm("hostile-nostd"),
        kv_v01: wasm("kv-v01"),
        http_hello: wasm("http-hello"),
        http_echo: wasm("http-echo"),
        http_fetch: wasm("http-fetch"),
        http_misbehave: wasm("http-misbehave"),
        http_sockets: wasm("http-sockets"),
    }
}

/// The demo's C handler (`components/hello-c`), built once per test binary by its build script
/// with this host's `componentize`; needs clang, wasi-libc and wit-bindgen (scripts/setup.sh).
pub fn c_guest() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = repo_root().join("components/hello-c");
        let output = Command::new("sh")
            .arg("build.sh")
            .current_dir(&dir)
            .env("NEBULA_HOST", super::HOST_BIN)
            .output()
            .unwrap_or_else(|err| panic!("cannot run build.sh in {}: {err}", dir.display()));
        assert!(
            output.status.success(),
            "building components/hello-c failed ({}); did scripts/setup.sh run?\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let wasm = repo_root().join("target/guests/c/hello_c.wasm");
        assert!(
            wasm.is_file(),
            "components/hello-c made no {}",
            wasm.display()
        );
        wasm
    })
}

/// Removes what the outer `cargo test` put in our environment for its own build: the nested
/// build must see only `components/.cargo/config.toml` (its target and target dir), not the outer
/// target dir, flags, jobserver or package metadata.
pub fn scrub_outer_cargo_env(cargo: &mut Command) {
    const REMOVE: &[&str] = &[
        "CARGO",
        "RUSTFLAGS",
        "RUSTDOCFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "MAKEFLAGS",
        "MFLAGS",
        "OUT_DIR",
    ];
    // User-level settings that do not change what is built or where, kept so that a proxy,
    // registry mirror or terminal setting still applies.
    const KEEP_PREFIXES: &[&str] = &[
        "CARGO_HOME",
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_REGISTRIES_",
        "CARGO_REGISTRY_",
        "CARGO_TERM_",
    ];
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let outer_cargo =
            name.starts_with("CARGO_") && !KEEP_PREFIXES.iter().any(|keep| name.starts_with(keep));
        // Covers CARGO_TARGET_DIR, CARGO_BUILD_TARGET(_DIR), CARGO_ENCODED_RUSTFLAGS,
        // CARGO_MAKEFLAGS, CARGO_CFG_*, CARGO_FEATURE_*, CARGO_PKG_*, CARGO_MANIFEST_DIR,
        // CARGO_PRIMARY_PACKAGE, CARGO_BIN_EXE_*, CARGO_PROFILE_* and the rest.
        if outer_cargo || REMOVE.contains(&name) {
            cargo.env_remove(name);
        }
    }
}
