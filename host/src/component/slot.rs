//! Components that unload when idle and load again, from the compile cache, when needed.
//!
//! A [`Slot`] holds one component of the manifest. The [`Sweeper`] drops components that have
//! not been used for the idle TTL; it sleeps until the next one could expire, and waits without
//! any timer while nothing is loaded, so an idle host does no periodic work.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::{ComponentError, Loaded, Runtime};

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
    /// The digest of the wasm as first loaded: the component's identity in memo keys.
    pub digest: [u8; 32],
    loaded: Mutex<Option<Arc<Loaded>>>,
    last_used: AtomicU64,
    /// One reload at a time; others wait for it.
    loading: tokio::sync::Mutex<()>,
    sweeper: Arc<Notify>,
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
        let slot = Arc::new(Slot {
            id: loaded.id.clone(),
            path,
            digest: loaded.digest,
            loaded: Mutex::new(Some(Arc::new(loaded))),
            last_used: AtomicU64::new(now_ms()),
            loading: tokio::sync::Mutex::new(()),
            sweeper: sweeper.notify.clone(),
        });
        sweeper
            .slots
            .lock()
            .expect("sweeper lock")
            .push(slot.clone());
        sweeper.notify.notify_one();
        slot
    }

    pub fn is_loaded(&self) -> bool {
        self.loaded.lock().expect("slot lock").is_some()
    }

    /// The loaded component, loading it again if it was unloaded.
    pub async fn get(&self, runtime: &Runtime) -> Result<Arc<Loaded>, ComponentError> {
        self.last_used.store(now_ms(), Ordering::Relaxed);
        if let Some(loaded) = self.loaded.lock().expect("slot lock").clone() {
            return Ok(loaded);
        }
        let _one_at_a_time = self.loading.lock().await;
        if let Some(loaded) = self.loaded.lock().expect("slot lock").clone() {
            return Ok(loaded);
        }
        let (runtime, id, path) = (runtime.clone(), self.id.clone(), self.path.clone());
        let loaded = tokio::task::spawn_blocking(move || runtime.load(&id, &path))
            .await
            .map_err(ComponentError::Task)??;
        if loaded.digest != self.digest {
            return Err(ComponentError::Changed {
                id: self.id.clone(),
                path: self.path.clone(),
            });
        }
        tracing::info!(component = %self.id, "component `{}`: loaded again after idling", self.id);
        let loaded = Arc::new(loaded);
        *self.loaded.lock().expect("slot lock") = Some(loaded.clone());
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
            tracing::info!(component = %self.id, "component `{}`: unloaded after idling", self.id);
            None
        } else {
            Some(expires)
        }
    }
}

/// Gives freed heap memory back to the OS once everything is unloaded, so an idle host's RSS
/// falls back instead of keeping the high-water mark of its busy period.
pub fn release_memory() {
    // SAFETY: `malloc_trim` only walks glibc's own heap under its own lock; it has no
    // preconditions and returns whether memory was released.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[expect(unsafe_code, reason = "glibc's malloc_trim has no safe binding")]
    unsafe {
        libc::malloc_trim(0);
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
