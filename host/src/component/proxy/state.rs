//! What one `wasi:http` request's store carries: its memory limiter, resource table, WASI and
//! HTTP contexts, and the hooks that check outbound requests against its grants. The linker
//! (component/wasi.rs) links against this type; the call (proxy.rs) fills it in.

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::outbound::Hooks;
use crate::component::call::Limiter;

/// The store data of one request to a proxy component.
pub struct ProxyState {
    pub(in crate::component) limiter: Limiter,
    pub(in crate::component) table: ResourceTable,
    pub(in crate::component) wasi: WasiCtx,
    pub(in crate::component) http: WasiHttpCtx,
    pub(in crate::component) hooks: Hooks,
}

impl WasiView for ProxyState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for ProxyState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}
