//! The WASI a pure component sees: every answer a function of the call's input, and no wait
//! that depends on the world.
//!
//! Owns the per-call [`PureWasi`] context and links the interfaces whose behaviour it defines:
//! virtual time (`wasi:clocks/*` and `wasi:io/poll`, see [`time`]) and seeded randomness
//! (`wasi:random/*`, see [`random`]). The inert rest — environment, exit, stdio, filesystem with
//! no preopened directories — comes from wasmtime-wasi on the [`WasiCtx`] held here. [`NeverWaits`]
//! guards the whole call: a guest that waits on the outside world traps at once.
//!
//! Nothing here ever reads a real clock, draws OS entropy, sleeps, or waits for another thread.

mod random;
mod time;
mod watchdog;

use wasmtime::component::{Linker, ResourceTable};
use wasmtime_wasi::p2::bindings::{clocks, random as wasi_random};
use wasmtime_wasi::{WasiCtx, WasiCtxView};

use super::Input;
pub use watchdog::NeverWaits;

/// The WASI state of one pure call.
pub struct PureWasi {
    ctx: WasiCtx,
    table: ResourceTable,
    clock: time::VirtualClock,
    random: random::SeededRandom,
}

impl std::fmt::Debug for PureWasi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PureWasi")
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl PureWasi {
    /// The context for one call of the component with `digest` on `input`; `memory_cap` bounds
    /// what one random call may ask for. No environment, arguments or preopened directories,
    /// empty stdin, discarded output.
    pub fn new(digest: &[u8; 32], input: &Input, memory_cap: u64) -> PureWasi {
        PureWasi {
            ctx: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            clock: time::VirtualClock::default(),
            random: random::SeededRandom::new(digest, input, memory_cap),
        }
    }

    /// The wasmtime-wasi view, for the inert interfaces it answers (cli, filesystem, streams).
    pub fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }

    fn time(&mut self) -> time::TimeView<'_> {
        time::TimeView {
            clock: &mut self.clock,
            table: &mut self.table,
        }
    }
}

/// A store state that carries a [`PureWasi`] (whenever its component imports WASI).
pub trait HasPureWasi: Send + 'static {
    fn pure_wasi(&mut self) -> &mut PureWasi;
}

// One link function per interface, so the table in wasi.rs names each pure answer.

/// `wasi:clocks/wall-clock`: virtual time.
pub fn wall_clock<T: HasPureWasi>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    clocks::wall_clock::add_to_linker::<T, time::VirtualTime>(l, |t| t.pure_wasi().time())
}
/// `wasi:clocks/monotonic-clock`: virtual time.
pub fn monotonic_clock<T: HasPureWasi>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    clocks::monotonic_clock::add_to_linker::<T, time::VirtualTime>(l, |t| t.pure_wasi().time())
}
/// `wasi:io/poll`: pollables of virtual time are ready once the clock reaches them.
pub fn poll<T: HasPureWasi>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    wasmtime_wasi_io::bindings::wasi::io::poll::add_to_linker::<T, time::VirtualTime>(l, |t| {
        t.pure_wasi().time()
    })
}
/// `wasi:random/random`: keyed by the input.
pub fn random<T: HasPureWasi>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    wasi_random::random::add_to_linker::<T, random::Seeded>(l, |t| &mut t.pure_wasi().random)
}
/// `wasi:random/insecure`: keyed by the input.
pub fn insecure<T: HasPureWasi>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    wasi_random::insecure::add_to_linker::<T, random::Seeded>(l, |t| &mut t.pure_wasi().random)
}
/// `wasi:random/insecure-seed`: keyed by the input.
pub fn insecure_seed<T: HasPureWasi>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    wasi_random::insecure_seed::add_to_linker::<T, random::Seeded>(l, |t| &mut t.pure_wasi().random)
}
