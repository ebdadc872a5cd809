//! The store data of a pure call: its limits, and the WASI context of `virtual_wasi` whose every
//! answer is a function of the input. Which interfaces get these answers, and how each is
//! linked, is the table in wasi.rs.

use wasmtime_wasi::{WasiCtxView, WasiView};

use super::call::Limiter;
use super::virtual_wasi::{HasPureWasi, PureWasi};

/// The store data of one pure call: its limits, and WASI stubs only for components that import
/// WASI (a component that imports nothing gets no context at all).
pub struct PureState {
    pub(super) limiter: Limiter,
    pub(super) wasi: Option<Box<PureWasi>>,
}

impl HasPureWasi for PureState {
    fn pure_wasi(&mut self) -> &mut PureWasi {
        self.wasi
            .as_mut()
            .expect("invariant: a store gets WASI stubs whenever its component imports WASI")
    }
}

impl WasiView for PureState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        self.pure_wasi().ctx()
    }
}
