//! The one table of WASI interfaces the host knows: for each, whether a pure component may
//! import it (and the deterministic stub that answers it), whether a `wasi:http/proxy`
//! component may (how it is linked, and what it gives the guest), and what to say when it is
//! refused. The import policies (purity.rs, proxy/policy.rs), both linkers and `inspect` read
//! it; no other file lists interfaces. An interface missing from the table is refused to both.
//!
//! Each entry's link function is a plain `fn`, so one world's answer to an interface (e.g. the
//! pure world's clocks) can be swapped for another implementation without touching the rest.

use wasmtime::Engine;
use wasmtime::component::{HasData, Linker, ResourceTable};
use wasmtime_wasi::WasiView;
use wasmtime_wasi::cli::{WasiCli, WasiCliView};
use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::{cli, clocks, filesystem, random};
use wasmtime_wasi::random::WasiRandom;
use wasmtime_wasi_http::{WasiHttp, WasiHttpView};
use wasmtime_wasi_io::bindings::wasi::io;

use super::proxy::state::ProxyState;
use super::stubs::PureState;
use super::virtual_wasi;

/// Adds one interface to a linker.
pub type Link<T> = fn(&mut Linker<T>) -> wasmtime::Result<()>;

/// What a pure component gets for an interface.
#[derive(Clone, Copy)]
pub enum Pure {
    /// Answered deterministically (no environment, virtual clocks, keyed random, ...).
    Stub(Link<PureState>),
    /// Refused at load, with what usually removes the import.
    Refused(&'static str),
}

/// What a `wasi:http/proxy` component gets for an interface.
#[derive(Clone, Copy)]
pub enum Proxy {
    /// Linked, giving the guest what the text says (for `inspect`).
    Linked(Link<ProxyState>, &'static str),
    /// Refused at load, with what usually removes the import.
    Refused(&'static str),
}

/// One WASI interface, without version: the host links any 0.2.x version of it.
#[derive(Clone, Copy)]
pub struct Interface {
    pub name: &'static str,
    pub pure: Pure,
    pub proxy: Proxy,
}

impl std::fmt::Debug for Interface {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interface")
            .field("name", &self.name)
            .field("pure", &matches!(self.pure, Pure::Stub(_)))
            .field("proxy", &matches!(self.proxy, Proxy::Linked(..)))
            .finish()
    }
}

/// How a pure handler gets along without sockets (shared by every `wasi:sockets` interface).
const SOCKETS_PURE: &str = concat!(
    "networking is never given to a pure handler: declare the data it needs as reads ",
    "in the manifest. componentize-py links wasi:sockets into every component unless ",
    "built with `--stub-wasi`; Rust's std::net needs it: build `no_std` with ",
    "nebula-guest (or target wasm32-unknown-unknown)"
);
const SOCKETS_PROXY: &str = "raw sockets are never given to a wasi:http component; make \
     requests with `wasi:http/outgoing-handler` to the hosts in the component's \
     `allowed_outbound_hosts`";
/// What removes `wasi:http` from a would-be pure handler (also for imports of
/// `wasi:http/incoming-handler`, which no world links).
pub const HTTP_PURE: &str = concat!(
    "wasi:http is for wasi:http/proxy components, not pure handlers. ComponentizeJS ",
    "leaves wasi:http/types (with wasi:io/poll and streams) for its fetch-event glue: ",
    "add 'fetch-event' to `disableFeatures`; componentize-py: `--stub-wasi`; Rust: ",
    "export `handle` of the `nebula:pure/handler` world with nebula-guest"
);
const OUTGOING_PURE: &str = concat!(
    "outbound HTTP is never given to a pure handler: fetch data in the host's effects ",
    "layer instead. ComponentizeJS links it for fetch(): add 'http' to ",
    "`disableFeatures`; componentize-py: `--stub-wasi`"
);

/// An interface both worlds get, each its own way.
const fn both(
    name: &'static str,
    pure: Link<PureState>,
    proxy: Link<ProxyState>,
    gives: &'static str,
) -> Interface {
    Interface {
        name,
        pure: Pure::Stub(pure),
        proxy: Proxy::Linked(proxy, gives),
    }
}

/// A `wasi:sockets` interface: never linked.
const fn sockets(name: &'static str) -> Interface {
    Interface {
        name,
        pure: Pure::Refused(SOCKETS_PURE),
        proxy: Proxy::Refused(SOCKETS_PROXY),
    }
}

/// Every interface the host links for some world, and those refused with a hint of their own.
pub const INTERFACES: &[Interface] = &[
    both(
        "wasi:cli/environment",
        environment,
        environment,
        "environment: only the declared `env`",
    ),
    both("wasi:cli/exit", exit, exit, "ends this request's instance"),
    both("wasi:cli/stdin", stdin, stdin, "empty"),
    both("wasi:cli/stdout", stdout, stdout, "lines of the host log"),
    both("wasi:cli/stderr", stderr, stderr, "lines of the host log"),
    both(
        "wasi:cli/terminal-input",
        terminal_input,
        terminal_input,
        "no terminal",
    ),
    both(
        "wasi:cli/terminal-output",
        terminal_output,
        terminal_output,
        "no terminal",
    ),
    both(
        "wasi:cli/terminal-stdin",
        terminal_stdin,
        terminal_stdin,
        "no terminal",
    ),
    both(
        "wasi:cli/terminal-stdout",
        terminal_stdout,
        terminal_stdout,
        "no terminal",
    ),
    both(
        "wasi:cli/terminal-stderr",
        terminal_stderr,
        terminal_stderr,
        "no terminal",
    ),
    both("wasi:io/error", io_error, io_error, "wasi:http/proxy world"),
    both(
        "wasi:io/poll",
        virtual_wasi::poll,
        io_poll,
        "wasi:http/proxy world",
    ),
    both(
        "wasi:io/streams",
        io_streams,
        io_streams,
        "wasi:http/proxy world",
    ),
    both(
        "wasi:clocks/wall-clock",
        virtual_wasi::wall_clock,
        wall_clock,
        "real clock",
    ),
    both(
        "wasi:clocks/monotonic-clock",
        virtual_wasi::monotonic_clock,
        monotonic_clock,
        "real clock",
    ),
    both(
        "wasi:random/random",
        virtual_wasi::random,
        random,
        "real random",
    ),
    both(
        "wasi:random/insecure",
        virtual_wasi::insecure,
        insecure_random,
        "real random",
    ),
    both(
        "wasi:random/insecure-seed",
        virtual_wasi::insecure_seed,
        insecure_seed,
        "real random",
    ),
    both(
        "wasi:filesystem/types",
        filesystem_types,
        filesystem_types,
        "no preopened directories",
    ),
    both(
        "wasi:filesystem/preopens",
        preopens,
        preopens,
        "no preopened directories",
    ),
    Interface {
        name: "wasi:http/types",
        pure: Pure::Refused(HTTP_PURE),
        proxy: Proxy::Linked(http_types, "wasi:http/proxy world"),
    },
    Interface {
        name: "wasi:http/outgoing-handler",
        pure: Pure::Refused(OUTGOING_PURE),
        proxy: Proxy::Linked(
            outgoing_handler,
            "outbound HTTP: only to `allowed_outbound_hosts`",
        ),
    },
    sockets("wasi:sockets/network"),
    sockets("wasi:sockets/instance-network"),
    sockets("wasi:sockets/ip-name-lookup"),
    sockets("wasi:sockets/tcp"),
    sockets("wasi:sockets/tcp-create-socket"),
    sockets("wasi:sockets/udp"),
    sockets("wasi:sockets/udp-create-socket"),
];

/// `wasi:cli/exit@0.2.3` -> `wasi:cli/exit`.
pub fn unversioned(import: &str) -> &str {
    import.split_once('@').map_or(import, |(name, _)| name)
}

/// The entry for an interface name, whatever version an import asks for.
pub fn named(name: &str) -> Option<&'static Interface> {
    INTERFACES.iter().find(|i| i.name == name)
}

/// The entry for an import (`wasi:cli/exit@0.2.3`) at a version the host links: any 0.2.x.
pub fn linkable(import: &str) -> Option<&'static Interface> {
    let (name, version) = import.split_once('@')?;
    version.starts_with("0.2.").then(|| named(name)).flatten()
}

/// The linker for pure components: every [`Pure::Stub`] of the table.
pub fn pure_linker(engine: &Engine) -> wasmtime::Result<Linker<PureState>> {
    let mut linker = Linker::new(engine);
    for interface in INTERFACES {
        if let Pure::Stub(link) = interface.pure {
            link(&mut linker)?;
        }
    }
    Ok(linker)
}

/// The linker for `wasi:http/proxy` components: every [`Proxy::Linked`] of the table.
pub fn proxy_linker(engine: &Engine) -> wasmtime::Result<Linker<ProxyState>> {
    let mut linker = Linker::new(engine);
    for interface in INTERFACES {
        if let Proxy::Linked(link, _) = interface.proxy {
            link(&mut linker)?;
        }
    }
    Ok(linker)
}

// wasmtime-wasi's implementations, for any store data that has a WASI context. Each entry of
// the table names one of these per world.

struct HasTable;
impl HasData for HasTable {
    type Data<'a> = &'a mut ResourceTable;
}

fn io_error<T: WasiView + 'static>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    io::error::add_to_linker::<T, HasTable>(l, |s| s.ctx().table)
}
fn io_poll<T: WasiView + 'static>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    io::poll::add_to_linker::<T, HasTable>(l, |s| s.ctx().table)
}
fn io_streams<T: WasiView + 'static>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    io::streams::add_to_linker::<T, HasTable>(l, |s| s.ctx().table)
}
fn wall_clock<T: WasiView + 'static>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    clocks::wall_clock::add_to_linker::<T, WasiClocks>(l, |s| s.clocks())
}
fn monotonic_clock<T: WasiView + 'static>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    clocks::monotonic_clock::add_to_linker::<T, WasiClocks>(l, |s| s.clocks())
}
fn random<T: WasiView + 'static>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    random::random::add_to_linker::<T, WasiRandom>(l, |s| s.ctx().ctx.random())
}
fn insecure_random<T: WasiView + 'static>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    random::insecure::add_to_linker::<T, WasiRandom>(l, |s| s.ctx().ctx.random())
}
fn insecure_seed<T: WasiView + 'static>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    random::insecure_seed::add_to_linker::<T, WasiRandom>(l, |s| s.ctx().ctx.random())
}
fn filesystem_types<T: WasiView + 'static>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    filesystem::types::add_to_linker::<T, WasiFilesystem>(l, |s| s.filesystem())
}
fn preopens<T: WasiView + 'static>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    filesystem::preopens::add_to_linker::<T, WasiFilesystem>(l, |s| s.filesystem())
}
fn environment<T: WasiView + 'static>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    cli::environment::add_to_linker::<T, WasiCli>(l, |s| s.cli())
}
fn exit<T: WasiView + 'static>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    cli::exit::add_to_linker::<T, WasiCli>(l, |s| s.cli())
}
fn stdin<T: WasiView + 'static>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    cli::stdin::add_to_linker::<T, WasiCli>(l, |s| s.cli())
}
fn stdout<T: WasiView + 'static>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    cli::stdout::add_to_linker::<T, WasiCli>(l, |s| s.cli())
}
fn stderr<T: WasiView + 'static>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    cli::stderr::add_to_linker::<T, WasiCli>(l, |s| s.cli())
}
fn terminal_input<T: WasiView + 'static>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    cli::terminal_input::add_to_linker::<T, WasiCli>(l, |s| s.cli())
}
fn terminal_output<T: WasiView + 'static>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    cli::terminal_output::add_to_linker::<T, WasiCli>(l, |s| s.cli())
}
fn terminal_stdin<T: WasiView + 'static>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    cli::terminal_stdin::add_to_linker::<T, WasiCli>(l, |s| s.cli())
}
fn terminal_stdout<T: WasiView + 'static>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    cli::terminal_stdout::add_to_linker::<T, WasiCli>(l, |s| s.cli())
}
fn terminal_stderr<T: WasiView + 'static>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    cli::terminal_stderr::add_to_linker::<T, WasiCli>(l, |s| s.cli())
}
fn http_types<T: WasiHttpView + 'static>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    use wasmtime_wasi_http::p2::bindings::{LinkOptions, http};
    http::types::add_to_linker::<T, WasiHttp>(l, &LinkOptions::default().into(), T::http)
}
fn outgoing_handler<T: WasiHttpView + 'static>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    use wasmtime_wasi_http::p2::bindings::http;
    http::outgoing_handler::add_to_linker::<T, WasiHttp>(l, T::http)
}

#[cfg(test)]
mod tests;
