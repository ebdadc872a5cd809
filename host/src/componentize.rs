//! The WIT side of components, through the `wit-component` crate: turning a core module that
//! carries `nebula:pure` type metadata into a pure component (`nebula-host componentize`, how
//! the C handler is made), and printing a component's WIT world (`nebula-host inspect`).
//!
//! This module reads and writes bytes only: it never loads, compiles or runs a component, and
//! it judges nothing about purity beyond "imports nothing" (the component module does that when
//! the result is loaded).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use wit_component::{ComponentEncoder, DecodedWasm, WitPrinter};

/// Why a core module cannot become a pure component.
#[derive(Debug, thiserror::Error)]
pub enum ComponentizeError {
    #[error(
        "this is already a component, not a core module; inspect it with `nebula-host inspect`"
    )]
    AlreadyComponent,
    #[error("not a WebAssembly module: {0}")]
    NotWasm(String),
    #[error(
        "the module carries no component type metadata (no `component-type` custom section)\n  = hint: link in the object that wit-bindgen generates beside the bindings (for C: `handler_component_type.o`), built from the `nebula:pure/handler` world"
    )]
    NoTypeMetadata,
    #[error(
        "the module is typed for world `{found}`, not `nebula:pure/handler`\n  = hint: generate the bindings with `--world nebula:pure/handler` from Nebula's wit/ folder"
    )]
    WrongWorld { found: String },
    #[error(
        "the module imports {} function{} the pure world does not have:\n{}\n  = hint: a pure handler imports nothing; for C, build a reactor (`-mexec-model=reactor`) and call no stdio, time, random or file functions of wasi-libc (malloc, string and math functions are fine)",
        .imports.len(),
        if .imports.len() == 1 { "" } else { "s" },
        .imports.iter().map(|i| format!("  - `{i}`")).collect::<Vec<_>>().join("\n")
    )]
    Imports { imports: Vec<String> },
    #[error("wit-component could not encode the component: {0}")]
    Encode(String),
}

/// `nebula-host componentize CORE [-o OUT]`: writes the component (default: CORE with
/// `.component.wasm`).
pub fn run(core: &Path, output: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(core).with_context(|| format!("reading `{}`", core.display()))?;
    let component =
        componentize(&bytes).with_context(|| format!("componentizing `{}`", core.display()))?;
    let output = output.unwrap_or_else(|| core.with_extension("component.wasm"));
    std::fs::write(&output, &component)
        .with_context(|| format!("writing `{}`", output.display()))?;
    println!(
        "componentized {} -> {} ({} bytes); check it with `nebula-host inspect {}`",
        core.display(),
        output.display(),
        component.len(),
        output.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// For `inspect`: the component's WIT world indented under `world:`, or a line saying why it
/// cannot be decoded (inspect prints the rest regardless).
pub fn print_world(path: &Path) {
    let world = std::fs::read(path)
        .map_err(anyhow::Error::from)
        .and_then(|bytes| world_wit(&bytes));
    match world {
        Ok(text) => {
            println!("world:");
            for line in text.lines() {
                match line.is_empty() {
                    true => println!(),
                    false => println!("  {line}"),
                }
            }
        }
        Err(e) => println!("world:     (cannot decode: {e:#})"),
    }
}

/// A component made from `core`, a core module whose `component-type` custom section names the
/// `nebula:pure/handler` world; the module may import nothing.
pub fn componentize(core: &[u8]) -> Result<Vec<u8>, ComponentizeError> {
    let (imports, has_metadata) = scan(core)?;
    if !has_metadata {
        return Err(ComponentizeError::NoTypeMetadata);
    }
    let (_, bindgen) = wit_component::metadata::decode(core)
        .map_err(|e| ComponentizeError::NotWasm(format!("{e:#}")))?;
    // wit-component merges every `component-type` section into one world of its own, so the
    // handler world is recognised by what it holds: the `nebula:pure` package and `handle`.
    let resolve = &bindgen.resolve;
    let world = &resolve.worlds[bindgen.world];
    let pure = resolve
        .packages
        .iter()
        .any(|(_, p)| p.name.namespace == "nebula" && p.name.name == "pure");
    let handle = world
        .exports
        .keys()
        .any(|key| resolve.name_world_key(key) == "handle");
    if !(pure && handle) {
        let mut packages: Vec<String> = resolve
            .packages
            .iter()
            .map(|(_, p)| p.name.to_string())
            .collect();
        packages.sort();
        return Err(ComponentizeError::WrongWorld {
            found: packages.join(", "),
        });
    }
    if !imports.is_empty() {
        return Err(ComponentizeError::Imports { imports });
    }
    ComponentEncoder::default()
        .validate(true)
        .module(core)
        .and_then(|mut encoder| encoder.encode())
        .map_err(|e| ComponentizeError::Encode(format!("{e:#}")))
}

/// `module/name` of every function, memory, table or global the core module imports, and
/// whether it carries a `component-type` custom section (wit-bindgen's type metadata).
fn scan(core: &[u8]) -> Result<(Vec<String>, bool), ComponentizeError> {
    let mut imports = Vec::new();
    let mut metadata = false;
    for payload in wasmparser::Parser::new(0).parse_all(core) {
        match payload.map_err(|e| ComponentizeError::NotWasm(e.to_string()))? {
            wasmparser::Payload::Version {
                encoding: wasmparser::Encoding::Component,
                ..
            } => return Err(ComponentizeError::AlreadyComponent),
            wasmparser::Payload::ImportSection(section) => {
                for import in section.into_imports() {
                    let import = import.map_err(|e| ComponentizeError::NotWasm(e.to_string()))?;
                    imports.push(format!("{}/{}", import.module, import.name));
                }
            }
            wasmparser::Payload::CustomSection(section) => {
                metadata |= section.name().starts_with("component-type");
            }
            _ => {}
        }
    }
    Ok((imports, metadata))
}

/// The component's WIT world as `wit-component` decodes it from the binary, e.g.
///
/// ```text
/// package root:component;
///
/// world root {
///   import nebula:pure/types@0.1.0;
///   ...
///   export handle: func(input: input) -> outcome;
/// }
/// ```
pub fn world_wit(component: &[u8]) -> anyhow::Result<String> {
    let DecodedWasm::Component(resolve, world) = wit_component::decode(component)? else {
        anyhow::bail!("this is a WIT package, not a component");
    };
    let package = resolve.worlds[world]
        .package
        .ok_or_else(|| anyhow::anyhow!("the component's world belongs to no package"))?;
    let mut printer = WitPrinter::default();
    printer.emit_docs(false);
    printer.print(&resolve, package, &[])?;
    Ok(printer.output.to_string())
}
