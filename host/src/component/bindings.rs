//! Generated bindings for the `nebula:pure` world; nothing else lives here.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "nebula:pure/handler",
    exports: { default: async },
    additional_derives: [PartialEq],
});

pub use nebula::pure::types::*;
