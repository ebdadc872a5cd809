//! Deterministic metering with wasmtime fuel (`limits.fuel`): which components get code with
//! fuel checks, the fuel a call starts with, and what it burned. Fuel counts the guest's work
//! (about one unit per wasm instruction), the same for the same input on any machine, unlike
//! the CPU clock. This module never decides what a call may do beyond its budget, and never
//! gives fuel checks to a component that did not ask for them: they cost in every loop.

use std::sync::Arc;

use wasmtime::component::Linker;
use wasmtime::{Engine, Store};

use super::call::CallLimits;
use super::proxy::state::ProxyState;
use super::stubs::PureState;

/// Whether a component's code counts fuel (`limits.fuel`). Fuel checks cost in every loop and
/// function of the code they are compiled into, so only the components that ask for fuel get
/// them, from an engine of their own; the others' code is not touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FuelChecks {
    Without,
    With,
}

impl FuelChecks {
    /// For a component whose limits have, or have no, fuel.
    pub fn for_budget(fuel: Option<u64>) -> FuelChecks {
        match fuel {
            Some(_) => FuelChecks::With,
            None => FuelChecks::Without,
        }
    }

    /// The fuel a call starts with: its budget with fuel checks (unlimited if none was
    /// given), nothing to give without them.
    pub(super) fn budget(self, limits: &CallLimits) -> Option<u64> {
        match self {
            FuelChecks::With => Some(limits.fuel.unwrap_or(u64::MAX)),
            FuelChecks::Without => None,
        }
    }
}

/// The fuel-checking engine and its linkers: the optimizing engine's settings plus fuel.
#[derive(Clone)]
pub(super) struct Fueled {
    pub engine: Engine,
    pub pure: Arc<Linker<PureState>>,
    pub proxy: Arc<Linker<ProxyState>>,
}

/// Gives a store the fuel of one call, when its engine counts fuel (`budget` is `Some`).
pub(super) fn fill_tank<T: 'static>(store: &mut Store<T>, budget: Option<u64>) {
    if let Some(fuel) = budget {
        // Fails only on an engine without fuel checks, which `FuelChecks` rules out: a budget
        // is given exactly for components loaded with them.
        let filled = store.set_fuel(fuel);
        debug_assert!(
            filled.is_ok(),
            "fuel given to an engine without fuel checks"
        );
    }
}

/// The fuel a store burned since [`fill_tank`] gave it `budget` (0 without fuel checks).
pub(super) fn fuel_burned<T: 'static>(store: &Store<T>, budget: Option<u64>) -> u64 {
    match budget {
        Some(fuel) => fuel.saturating_sub(store.get_fuel().unwrap_or(fuel)),
        None => 0,
    }
}
