//! Components that unload when idle and load again, from the compile cache, when needed.
//!
//! A [`Slot`] holds one component of the manifest. The [`Sweeper`] drops components that have
//! not been used for the idle TTL; it sleeps until the next one could expire, and waits without
//! any timer while nothing is loaded, so an idle host does no periodic work. A component loaded
//! on baseline code is queued for its optimized code (see `tier`), which replaces it in the slot.
//! After a burst of requests, [`Quiet`] gives the freed heap back to the OS once requests have
//! stopped for a few seconds, without unloading anything.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::{ComponentError, FuelChecks, Loaded, Runtime, tier};

/// Milliseconds since the first call: a cheap monotonic clock for "last used".
fn now_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    let start = *START.get_or_init(Instant::now);
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// One component of the manifest, loaded or not.
pub struct Slot {
    pub id: String,
    path: PathBuf,
    /// Whether it was loaded with fuel checks (and so is loaded again).
    fuel: FuelChecks,
    /// The digest of the wasm as first loaded: the component's identity in memo keys.
    pub digest: [u8; 32],
    loaded: Cell,
    last_used: AtomicU64,
    /// One reload at a time; others wait for it.
    loading: tokio::sync::Mutex<()>,
    sweeper: Arc<Notify>,
    /// Times the component was loaded (at start, and again after idling), for `/metrics`.
    pub loads: AtomicU64,
    /// Times it was unloaded for idling.
    pub unloads: AtomicU64,
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("id", &self.id)
            .field("loaded", &self.is_loaded())
            .finish()
    }
}

impl Slot {
    /// A slot holding a component loaded at start.
    pub fn new(loaded: Loaded, path: PathBuf, sweeper: &Sweeper) -> Arc<Slot> {
        let loaded = Arc::new(loaded);
        let (id, fuel, digest) = (&loaded.id, loaded.fuel, loaded.digest);
        let slot = Slot::holding(id, path, fuel, digest, Some(loaded.clone()), sweeper);
        sweeper.notify.notify_one();
        slot.upgrade_later(&loaded);
        slot
    }

    /// A slot for a component judged at start and compiled after the host listens (see
    /// `later`): empty until then.
    pub fn later(id: &str, path: PathBuf, digest: [u8; 32], sweeper: &Sweeper) -> Arc<Slot> {
        Slot::holding(id, path, FuelChecks::Without, digest, None, sweeper)
    }

    /// A slot holding `loaded` (or nothing yet), known to the sweeper.
    fn holding(
        id: &str,
        path: PathBuf,
        fuel: FuelChecks,
        digest: [u8; 32],
        loaded: Option<Arc<Loaded>>,
        sweeper: &Sweeper,
    ) -> Arc<Slot> {
        let slot = Arc::new(Slot {
            id: id.to_owned(),
            path,
            fuel,
            digest,
            loads: AtomicU64::new(u64::from(loaded.is_some())),
            loaded: Arc::new(Mutex::new(loaded)),
            last_used: AtomicU64::new(now_ms()),
            loading: tokio::sync::Mutex::new(()),
            sweeper: sweeper.notify.clone(),
            unloads: AtomicU64::new(0),
        });
        sweeper
            .slots
            .lock()
            .expect("sweeper lock")
            .push(slot.clone());
        slot
    }

    /// The background half of [`Slot::later`]: loads the component unless a request has (a
    /// request that needs it meanwhile waits for this load). Runs on a thread of its own, never
    /// in an async task.
    pub(super) fn load_later(&self, runtime: &Runtime) {
        let _one_at_a_time = self.loading.blocking_lock();
        if self.is_loaded() {
            return;
        }
        if let Err(e) = runtime
            .load(&self.id, &self.path, self.fuel)
            .and_then(|loaded| self.install(loaded))
        {
            // Its requests try again, and answer 500 with this error in the log if it persists.
            tracing::error!(
                component = %self.id,
                "component `{}`: loading after start failed: {}",
                self.id,
                crate::log::Chain(&e)
            );
        }
    }

    /// Queues the optimized compile of a component loaded on baseline code.
    fn upgrade_later(&self, loaded: &Arc<Loaded>) {
        if loaded.pending.is_some() {
            upgrade(self.loaded.clone(), loaded.clone());
        }
    }

    /// Whether the component has never been loaded: it is left for later (see `later`) and its
    /// compile after start has not finished (or failed).
    pub fn first_load_pending(&self) -> bool {
        self.loads.load(Ordering::Acquire) == 0
    }

    pub fn is_loaded(&self) -> bool {
        self.loaded.lock().expect("slot lock").is_some()
    }

    /// The loaded component, loading it again if it was unloaded.
    pub async fn get(&self, runtime: &Runtime) -> Result<Arc<Loaded>, ComponentError> {
        let now = now_ms();
        self.last_used.store(now, Ordering::Relaxed);
        Quiet::touch(now);
        if let Some(loaded) = self.loaded.lock().expect("slot lock").clone() {
            return Ok(loaded);
        }
        let _one_at_a_time = self.loading.lock().await;
        if let Some(loaded) = self.loaded.lock().expect("slot lock").clone() {
            return Ok(loaded);
        }
        let (runtime, id, path) = (runtime.clone(), self.id.clone(), self.path.clone());
        let fuel = self.fuel;
        let loaded = tokio::task::spawn_blocking(move || runtime.load(&id, &path, fuel))
            .await
            .map_err(ComponentError::Task)??;
        self.install(loaded)
    }

    /// Puts a component loaded after start (late, or again after idling) into the slot, unless
    /// its file changed since the host started.
    fn install(&self, loaded: Loaded) -> Result<Arc<Loaded>, ComponentError> {
        if loaded.digest != self.digest {
            return Err(ComponentError::Changed {
                id: self.id.clone(),
                path: self.path.clone(),
            });
        }
        let again = self.loads.fetch_add(1, Ordering::Relaxed) > 0;
        let how = if again {
            "loaded again after idling"
        } else {
            "loaded after the host started listening"
        };
        tracing::info!(component = %self.id, "component `{}`: {how}", self.id);
        let loaded = Arc::new(loaded);
        *self.loaded.lock().expect("slot lock") = Some(loaded.clone());
        self.upgrade_later(&loaded);
        self.sweeper.notify_one();
        Ok(loaded)
    }

    /// Unloads if unused for `ttl`; otherwise says when it could expire.
    fn sweep(&self, now: u64, ttl: u64) -> Option<u64> {
        let mut loaded = self.loaded.lock().expect("slot lock");
        loaded.as_ref()?;
        let expires = self.last_used.load(Ordering::Relaxed).saturating_add(ttl);
        if expires <= now {
            *loaded = None;
            self.unloads.fetch_add(1, Ordering::Relaxed);
            tracing::info!(component = %self.id, "component `{}`: unloaded after idling", self.id);
            None
        } else {
            Some(expires)
        }
    }
}

/// Gives freed heap back once requests stop: a burst leaves megabytes of freed buffers in the
/// allocator's arenas, which it keeps for reuse unless asked. One task sleeps until
/// [`QUIET_AFTER`] has passed since the last request, trims, and then waits (no timer) for the
/// next request.
struct Quiet {
    last: AtomicU64,
    armed: AtomicBool,
    wake: Notify,
}

/// How long requests must have stopped before the heap is trimmed.
const QUIET_AFTER_MS: u64 = 5_000;

impl Quiet {
    fn get() -> &'static Quiet {
        static QUIET: OnceLock<Quiet> = OnceLock::new();
        QUIET.get_or_init(|| {
            tokio::spawn(Quiet::run());
            Quiet {
                last: AtomicU64::new(0),
                armed: AtomicBool::new(false),
                wake: Notify::new(),
            }
        })
    }

    /// Notes a request: two atomic operations, and a wake-up only for the first after a trim.
    fn touch(now: u64) {
        let quiet = Quiet::get();
        quiet.last.store(now, Ordering::Relaxed);
        if !quiet.armed.swap(true, Ordering::AcqRel) {
            quiet.wake.notify_one();
        }
    }

    async fn run() {
        let quiet = Quiet::get();
        loop {
            quiet.wake.notified().await;
            loop {
                let due = quiet.last.load(Ordering::Relaxed) + QUIET_AFTER_MS;
                let now = now_ms();
                if now < due {
                    tokio::time::sleep(Duration::from_millis(due - now)).await;
                    continue;
                }
                quiet.armed.store(false, Ordering::Release);
                // A request that came in between the check and the store re-arms it.
                if quiet.last.load(Ordering::Relaxed) + QUIET_AFTER_MS > now_ms() {
                    quiet.armed.store(true, Ordering::Release);
                    continue;
                }
                crate::memory::give_back();
                break;
            }
        }
    }
}

/// A slot's loaded component, shared with the worker so it can swap the optimized code in.
pub type Cell = Arc<Mutex<Option<Arc<Loaded>>>>;

/// Queues the optimized compile of `baseline` (a component running Winch code); once compiled,
/// it replaces `baseline` in `cell` unless the slot has unloaded or replaced it meanwhile.
pub fn upgrade(cell: Cell, baseline: Arc<Loaded>) {
    tier::in_background(Box::new(move || optimize(cell, baseline)));
}

fn optimize(cell: Cell, baseline: Arc<Loaded>) {
    let Some(pending) = &baseline.pending else {
        return;
    };
    let id = &baseline.id;
    let optimized = match pending.runtime.optimize(id, &pending.wasm, baseline.digest) {
        Ok(optimized) => optimized,
        Err(e) => {
            tracing::warn!(
                component = %id,
                "component `{id}`: the optimizing compiler failed, baseline code keeps serving: {}",
                crate::log::Chain(&e)
            );
            return;
        }
    };
    let cached = match optimized.cache {
        super::CacheOutcome::Compiled { stored: true, .. } => ", cached",
        _ => "",
    };
    let millis = match optimized.cache {
        super::CacheOutcome::Compiled { millis, .. } => millis,
        _ => 0,
    };
    let mut current = cell.lock().expect("slot lock");
    if current.as_ref().is_some_and(|c| Arc::ptr_eq(c, &baseline)) {
        *current = Some(Arc::new(optimized));
        drop(current);
        tracing::info!(
            component = %id,
            "component `{id}`: compiled in {millis}ms{cached}; optimized code serves from now on"
        );
    } else {
        drop(current);
        tracing::info!(
            component = %id,
            "component `{id}`: compiled in {millis}ms{cached} (unloaded meanwhile)"
        );
    }
}

/// Compiles the components of `slots` one after another on a thread below the request threads'
/// priority. A request that needs one first waits for it (see [`Slot::load_later`]; `later` says which components).
pub fn load_in_background(runtime: Runtime, slots: Vec<Arc<Slot>>) {
    if slots.is_empty() {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("nebula-load-later".into())
        .spawn(move || {
            tier::lower_priority();
            for slot in slots {
                slot.load_later(&runtime);
            }
        });
    if let Err(e) = spawned {
        // Each component then loads on its first request instead.
        tracing::warn!("cannot start the thread that compiles large components: {e}");
    }
}

/// Unloads idle components. Without a TTL it never runs.
#[derive(Debug, Default)]
pub struct Sweeper {
    slots: Mutex<Vec<Arc<Slot>>>,
    notify: Arc<Notify>,
}

impl Sweeper {
    pub fn new() -> Arc<Sweeper> {
        Arc::default()
    }

    /// Runs forever: unloads components idle for `ttl`, then calls `on_all_unloaded`.
    pub async fn run(self: Arc<Self>, ttl: Duration, on_all_unloaded: impl Fn()) {
        let ttl = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        loop {
            let now = now_ms();
            let next = {
                let slots = self.slots.lock().expect("sweeper lock");
                slots.iter().filter_map(|s| s.sweep(now, ttl)).min()
            };
            match next {
                Some(at) => tokio::time::sleep(Duration::from_millis(at.saturating_sub(now))).await,
                None => {
                    on_all_unloaded();
                    // Nothing loaded: wait, with no timer, until something is.
                    self.notify.notified().await;
                }
            }
        }
    }
}
