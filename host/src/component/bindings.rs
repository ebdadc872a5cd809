//! Generated bindings for the `nebula:pure` worlds; nothing else lives here. The 0.2.0 types
//! are the host's own representation of a call; the 0.1.0 ones exist only for `v0_1`, which
//! maps them onto 0.2.0.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "nebula:pure/handler",
    exports: { default: async },
    additional_derives: [PartialEq],
});

pub use nebula::pure::types::*;

/// The frozen first version of the world (wit/0.1.0).
pub mod v0_1 {
    wasmtime::component::bindgen!({
        path: "../wit/0.1.0",
        world: "nebula:pure/handler",
        exports: { default: async },
        additional_derives: [PartialEq],
    });

    pub use nebula::pure::types::*;
}
