//! What a pure component's WASI imports are answered with: the store data of a pure call, and a
//! WASI context whose every answer is a function of the input. Which interfaces get these
//! answers, and how each is linked, is the table in wasi.rs.

use std::time::Duration;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::Input;
use super::call::Limiter;

/// The store data of one pure call: its limits, and WASI stubs only for components that import
/// WASI (a component that imports nothing gets no context at all).
pub struct PureState {
    pub(super) limiter: Limiter,
    pub(super) wasi: Option<Box<(WasiCtx, ResourceTable)>>,
}

impl WasiView for PureState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let (ctx, table) = &mut **self
            .wasi
            .as_mut()
            .expect("invariant: a store gets WASI stubs whenever its component imports WASI");
        WasiCtxView { ctx, table }
    }
}

/// A WASI context whose every answer is a function of the input: no environment, arguments or
/// preopened directories, empty stdin, discarded output, clocks frozen at the Unix epoch, and
/// random bytes from a seed derived from the input.
pub(super) fn deterministic_wasi(input: &Input) -> (WasiCtx, ResourceTable) {
    let mut seed = blake3::Hasher::new();
    seed.update(input.request.method.as_bytes());
    seed.update(input.request.path.as_bytes());
    seed.update(input.request.query.as_bytes());
    seed.update(&input.request.body);
    let seed = seed.finalize();
    let ctx = WasiCtx::builder()
        .wall_clock(FrozenClock)
        .monotonic_clock(FrozenClock)
        .secure_random(wasmtime_wasi::Deterministic::new(seed.as_bytes().to_vec()))
        .insecure_random(wasmtime_wasi::Deterministic::new(
            seed.as_bytes()[16..].to_vec(),
        ))
        .insecure_random_seed(u128::from_le_bytes(
            seed.as_bytes()[..16].try_into().expect("16 bytes"),
        ))
        .build();
    (ctx, ResourceTable::new())
}

/// A clock that never moves: time is an effect, so a pure handler sees the Unix epoch.
struct FrozenClock;

impl wasmtime_wasi::HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl wasmtime_wasi::HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}
