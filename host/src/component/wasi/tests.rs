//! The linkers provide exactly what the table allows. For every interface of WASI 0.2 (the WIT
//! that wasmtime-wasi-http itself is built from), a probe component that imports it is built
//! with wit-component, and each world's linker must pre-instantiate it exactly when the table
//! allows every import the probe has.

use std::path::PathBuf;

use wasmtime::component::{Component, Linker};
use wit_parser::{ManglingAndAbi, Resolve};

use super::*;

/// wasmtime-wasi-http's `wit` folder (WASI 0.2 with `wasi:http`), found through `cargo metadata`.
fn wasi_wit() -> PathBuf {
    // Only this platform's dependencies: they are the ones downloaded.
    let rustc = std::process::Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("running rustc -vV");
    let rustc = String::from_utf8_lossy(&rustc.stdout);
    let host = rustc
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc names its host");
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--offline"])
        .args(["--filter-platform", host, "--manifest-path"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .output()
        .expect("running cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let manifest = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == "wasmtime-wasi-http")
        .and_then(|p| p["manifest_path"].as_str())
        .expect("wasmtime-wasi-http is a dependency");
    PathBuf::from(manifest).with_file_name("wit")
}

/// A component importing `interface` (with the interfaces it depends on), and its imports.
fn probe(engine: &Engine, resolve: &mut Resolve, n: usize, interface: &str) -> Component {
    let text = format!("package nebula:probe{n};\nworld probe {{ import {interface}; }}\n");
    let package = resolve
        .push_str(format!("probe{n}.wit"), &text)
        .expect("probe WIT");
    let world = resolve
        .select_world(&[package], Some("probe"))
        .expect("world");
    let mut module = wit_component::dummy_module(resolve, world, ManglingAndAbi::Standard32);
    wit_component::embed_component_metadata(
        &mut module,
        resolve,
        world,
        wit_component::StringEncoding::UTF8,
    )
    .expect("embedding the world");
    let wasm = wit_component::ComponentEncoder::default()
        .module(&module)
        .expect("dummy module")
        .validate(true)
        .encode()
        .expect("encoding the probe");
    Component::new(engine, wasm).expect("compiling the probe")
}

/// Whether `linker` pre-instantiates `component` exactly when `allowed` says yes to all its
/// imports; when it refuses, the import it names must be one the table refuses.
fn agrees<T: 'static>(
    engine: &Engine,
    linker: &Linker<T>,
    component: &Component,
    allowed: impl Fn(&str) -> bool,
) -> Result<(), String> {
    let imports: Vec<String> = (component.component_type().imports(engine))
        .map(|(name, _)| name.to_owned())
        .collect();
    let refused: Vec<&String> = imports.iter().filter(|i| !allowed(i)).collect();
    match linker.instantiate_pre(component) {
        Ok(_) if refused.is_empty() => Ok(()),
        Ok(_) => Err(format!("linked although the table refuses {refused:?}")),
        Err(e) => {
            let message = format!("{e:#}");
            if refused.iter().any(|r| message.contains(&format!("`{r}`"))) {
                Ok(())
            } else {
                Err(format!(
                    "not linked although the table allows {imports:?}: {message}"
                ))
            }
        }
    }
}

#[test]
fn each_linker_provides_exactly_what_the_table_allows_its_world() {
    let engine = Engine::default();
    let pure = pure_linker(&engine).expect("pure linker");
    let proxy = proxy_linker(&engine).expect("proxy linker");
    let mut resolve = Resolve::new();
    resolve.push_dir(wasi_wit()).expect("WASI WIT");
    let interfaces: Vec<String> = resolve
        .interfaces
        .iter()
        .filter_map(|(id, _)| resolve.id_of(id))
        .filter(|name| name.starts_with("wasi:"))
        .collect();
    assert!(interfaces.len() > 30, "found only {interfaces:?}");
    let mut problems = Vec::new();
    let mut linked = (0, 0);
    for (n, interface) in interfaces.iter().enumerate() {
        let component = probe(&engine, &mut resolve, n, interface);
        let pure_ok = |i: &str| linkable(i).is_some_and(|e| matches!(e.pure, Pure::Stub(_)));
        let proxy_ok = |i: &str| linkable(i).is_some_and(|e| matches!(e.proxy, Proxy::Linked(..)));
        linked.0 += usize::from(pure_ok(interface));
        linked.1 += usize::from(proxy_ok(interface));
        if let Err(e) = agrees(&engine, &pure, &component, pure_ok) {
            problems.push(format!("pure world, `{interface}`: {e}"));
        }
        if let Err(e) = agrees(&engine, &proxy, &component, proxy_ok) {
            problems.push(format!("proxy world, `{interface}`: {e}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Every entry the table links was probed (none is missing from the WIT).
    let stubs = INTERFACES
        .iter()
        .filter(|i| matches!(i.pure, Pure::Stub(_)));
    let links = INTERFACES
        .iter()
        .filter(|i| matches!(i.proxy, Proxy::Linked(..)));
    assert_eq!(linked, (stubs.count(), links.count()));
}

#[test]
fn an_import_is_linkable_at_any_02_version_only() {
    assert!(linkable("wasi:cli/exit@0.2.0").is_some());
    assert!(linkable("wasi:cli/exit@0.2.12").is_some());
    assert!(linkable("wasi:cli/exit@0.3.0").is_none());
    assert!(linkable("wasi:cli/exit").is_none());
    assert!(linkable("acme:db/query@0.2.0").is_none());
    assert_eq!(unversioned("wasi:io/poll@0.2.4"), "wasi:io/poll");
}
