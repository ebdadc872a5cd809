//! Tiered compilation: a component missing from the compile cache starts at once on code from
//! Winch, wasmtime's baseline compiler (a small fraction of Cranelift's compile time), and is
//! swapped for Cranelift's optimized code when a background worker has compiled it and stored it
//! in the cache. The next start finds the optimized code in the cache and never uses Winch.
//!
//! This module owns the choice of tier and the background worker. It never changes what a
//! component does: both tiers run the same wasm under the same memory cap and epoch deadlines
//! (Winch emits the same epoch checks as Cranelift). The worker runs one compile at a time, on one
//! thread at a lower scheduling priority, so it does not slow the requests served meanwhile.

use std::sync::mpsc::{self, Sender};
use std::sync::{Mutex, OnceLock};

use wasmtime::{Config, Strategy};

/// Which compilers a runtime uses; `NEBULA_TIERS` chooses (see [`Tiers::from_env`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tiers {
    /// Winch first for components not in the cache, Cranelift in the background (the default).
    Tiered,
    /// Cranelift only: every miss compiles optimized code before serving (what `check` uses, so
    /// that it fills the cache).
    Optimized,
    /// Winch only, never upgraded: for tests and for comparing the tiers.
    Baseline,
}

impl Tiers {
    /// `NEBULA_TIERS` = `tiered` (default), `optimized` or `baseline`.
    pub fn from_env() -> Tiers {
        match std::env::var("NEBULA_TIERS").as_deref() {
            Err(_) | Ok("" | "tiered") => Tiers::Tiered,
            Ok("optimized") => Tiers::Optimized,
            Ok("baseline") => Tiers::Baseline,
            Ok(other) => {
                tracing::warn!(
                    "ignoring NEBULA_TIERS=`{other}`; use `tiered`, `optimized` or `baseline`"
                );
                Tiers::Tiered
            }
        }
    }

    pub(super) fn uses_baseline(self) -> bool {
        self != Tiers::Optimized
    }
}

/// The code a loaded component runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// Cranelift's, from the cache or compiled now.
    Optimized,
    /// Winch's, until the optimized code is ready.
    Baseline,
}

/// The baseline engine's settings: Winch, with the optimizing engine's interruption and
/// component model settings, on the on-demand allocator (baseline code serves only the first
/// seconds of a component, so it reserves no pool).
pub(super) fn baseline_config() -> Config {
    let mut config = Config::new();
    config.strategy(Strategy::Winch);
    config.epoch_interruption(true);
    config.wasm_component_model(true);
    // As the optimizing engine: a trap keeps the guest's panic message (see `panic`).
    config.coredump_on_trap(true);
    config
}

/// A job for the background worker: compiling a component's optimized code, and swapping it in.
pub type Job = Box<dyn FnOnce() + Send>;

/// Runs `job` on the one background worker, after the jobs queued before it.
pub fn in_background(job: Job) {
    static WORKER: OnceLock<Mutex<Sender<Job>>> = OnceLock::new();
    let sender = WORKER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("nebula-optimize".into())
            .spawn(move || {
                lower_priority();
                for job in rx {
                    job();
                }
            })
            .expect("spawning the optimizing compiler's thread");
        Mutex::new(tx)
    });
    // The worker lives as long as the process, so the channel never closes.
    let _ = sender.lock().expect("worker queue lock").send(job);
}

/// Puts this thread below the request threads: the optimized code is welcome, not urgent.
pub(super) fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: `setpriority` on the calling thread (Linux gives each thread its own nice value)
    // only changes its scheduling; failure is harmless and ignored.
    #[expect(unsafe_code, reason = "libc's setpriority has no safe binding")]
    unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 10);
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::component::slot::{Cell, upgrade};
    use crate::component::{
        CallError, CallLimits, CompileCache, EngineSettings, FuelChecks, Input, Outcome, Request,
        Runtime,
    };

    /// A guest from the release build of components/ (CI builds the guests before the tests).
    fn guest(name: &str) -> PathBuf {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../target/guests/wasm32-wasip2/release")
            .join(format!("{name}.wasm"));
        assert!(
            path.exists(),
            "`{}` is missing; build the guests first: cd components && cargo build --release",
            path.display()
        );
        path
    }

    /// A request deadline the tests never reach (each call keeps its own `LIMITS` timeout).
    fn far() -> std::time::Instant {
        std::time::Instant::now() + std::time::Duration::from_secs(600)
    }

    fn input(query: &str) -> Input {
        Input {
            request: Request {
                method: "GET".into(),
                path: "/spin".into(),
                route: "/spin".into(),
                query: query.into(),
                headers: Vec::new(),
                body: Vec::new(),
                params: Vec::new(),
            },
            reads: Vec::new(),
            carried: None,
        }
    }

    fn runtime(tiers: Tiers) -> Runtime {
        let settings = EngineSettings {
            tiers,
            max_instances: 4,
            ..EngineSettings::default()
        };
        Runtime::new(&settings, CompileCache::new(None)).expect("runtime")
    }

    const LIMITS: CallLimits = CallLimits {
        memory: 16 << 20,
        timeout: Duration::from_millis(300),
        fuel: None,
    };

    #[tokio::test]
    async fn an_endless_loop_in_baseline_code_is_cut_off_at_its_deadline() {
        let runtime = runtime(Tiers::Baseline);
        let spinner = runtime
            .load("spinner", &guest("spin"), FuelChecks::Without)
            .expect("loads");
        assert_eq!(spinner.tier, Tier::Baseline);
        let err = runtime
            .call_pure(&spinner, LIMITS, far(), input(""), &mut Default::default())
            .await
            .expect_err("an endless loop cannot answer");
        assert!(matches!(err, CallError::Timeout(_)), "{err}");
        let calm = runtime
            .call_pure(
                &spinner,
                LIMITS,
                far(),
                input("calm=1"),
                &mut Default::default(),
            )
            .await;
        assert!(matches!(calm, Ok((Outcome::Respond(_), _))), "{calm:?}");
    }

    #[tokio::test]
    async fn tiered_loading_starts_on_baseline_code_and_queues_the_optimized_compile() {
        let runtime = runtime(Tiers::Tiered);
        let hello = runtime
            .load("hello", &guest("hello"), FuelChecks::Without)
            .expect("loads");
        assert_eq!(hello.tier, Tier::Baseline);
        assert!(hello.pending.is_some(), "no optimized compile pending");
        let optimized = runtime
            .optimize(
                "hello",
                &std::fs::read(guest("hello")).expect("wasm"),
                hello.digest,
            )
            .expect("cranelift compiles it");
        assert_eq!(optimized.tier, Tier::Optimized);
        let a = runtime
            .call_pure(&hello, LIMITS, far(), input(""), &mut Default::default())
            .await;
        let b = runtime
            .call_pure(
                &optimized,
                LIMITS,
                far(),
                input(""),
                &mut Default::default(),
            )
            .await;
        assert!(a.is_ok(), "{a:?}");
        let outcome = |r: Result<(Outcome, Input), CallError>| r.ok().map(|(o, _)| o);
        assert_eq!(outcome(a), outcome(b), "both tiers answer alike");
    }

    #[tokio::test]
    async fn the_worker_swaps_the_optimized_code_into_the_slot() {
        let runtime = runtime(Tiers::Tiered);
        let hello = Arc::new(
            runtime
                .load("hello", &guest("hello"), FuelChecks::Without)
                .expect("loads"),
        );
        let cell: Cell = Arc::new(Mutex::new(Some(hello.clone())));
        upgrade(cell.clone(), hello);
        let mut tier = Tier::Baseline;
        for _ in 0..600 {
            tier = cell
                .lock()
                .unwrap()
                .as_ref()
                .map_or(Tier::Baseline, |l| l.tier);
            if tier == Tier::Optimized {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(tier, Tier::Optimized, "not swapped within 30 s");
    }

    #[test]
    fn optimized_only_never_uses_baseline_code() {
        let runtime = runtime(Tiers::Optimized);
        let hello = runtime
            .load("hello", &guest("hello"), FuelChecks::Without)
            .expect("loads");
        assert_eq!(hello.tier, Tier::Optimized);
    }

    #[tokio::test]
    async fn fuel_checked_code_is_never_baseline_code_and_counts_what_a_call_burned() {
        let settings = EngineSettings {
            tiers: Tiers::Tiered,
            max_instances: 4,
            fuel: true,
            ..EngineSettings::default()
        };
        let runtime = Runtime::new(&settings, CompileCache::new(None)).expect("runtime");
        let fueled = runtime
            .load("hello", &guest("hello"), FuelChecks::With)
            .expect("loads");
        assert_eq!(
            (fueled.tier, fueled.fuel),
            (Tier::Optimized, FuelChecks::With)
        );
        let plain = runtime
            .load("hello", &guest("hello"), FuelChecks::Without)
            .expect("loads");
        assert_eq!(
            (plain.tier, plain.fuel),
            (Tier::Baseline, FuelChecks::Without)
        );

        let limits = CallLimits {
            fuel: Some(10_000_000),
            ..LIMITS
        };
        let mut burned = Vec::new();
        for _ in 0..2 {
            let mut usage = Default::default();
            let answered = runtime
                .call_pure(&fueled, limits, far(), input(""), &mut usage)
                .await;
            assert!(answered.is_ok(), "{answered:?}");
            burned.push(usage.fuel);
        }
        assert!(burned[0] > 0 && burned[0] == burned[1], "{burned:?}");
        let mut usage = Default::default();
        let answered = runtime
            .call_pure(&plain, limits, far(), input(""), &mut usage)
            .await;
        assert!(answered.is_ok(), "{answered:?}");
        assert_eq!(usage.fuel, 0, "code without fuel checks counts none");

        let starved = CallLimits {
            fuel: Some(10),
            ..LIMITS
        };
        let err = runtime
            .call_pure(&fueled, starved, far(), input(""), &mut Default::default())
            .await
            .expect_err("10 units cannot answer");
        assert!(matches!(err, CallError::OutOfFuel { budget: 10 }), "{err}");
    }
}
