//! Epoch ticking only while calls run, so an idle host does no periodic work.
//!
//! wasmtime checks a store's deadline when the engine's epoch advances. One thread advances it
//! every [`TICK`] while at least one call is running, and parks (no CPU, no timer) otherwise.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::Thread;
use std::time::Duration;

use wasmtime::EngineWeak;

/// Granularity of deadlines.
pub const TICK: Duration = Duration::from_millis(5);

#[derive(Clone)]
pub struct Ticker {
    shared: Arc<Shared>,
}

struct Shared {
    running: AtomicUsize,
    thread: Thread,
}

impl Ticker {
    /// Starts the (parked) ticking thread for `engines`; it ends when the first is dropped.
    pub fn new(engines: Vec<EngineWeak>) -> Ticker {
        let (tx, rx) = std::sync::mpsc::channel::<Arc<Shared>>();
        let handle = std::thread::Builder::new()
            .name("nebula-epoch".into())
            .spawn(move || {
                let Ok(shared) = rx.recv() else { return };
                loop {
                    if shared.running.load(Ordering::Acquire) == 0 {
                        std::thread::park();
                        continue;
                    }
                    std::thread::sleep(TICK);
                    for engine in &engines {
                        match engine.upgrade() {
                            Some(engine) => engine.increment_epoch(),
                            None => return,
                        }
                    }
                }
            })
            .expect("spawning the epoch thread");
        let shared = Arc::new(Shared {
            running: AtomicUsize::new(0),
            thread: handle.thread().clone(),
        });
        tx.send(shared.clone()).expect("epoch thread is waiting");
        Ticker { shared }
    }

    /// How many calls are running now: the instances in use.
    pub fn in_use(&self) -> usize {
        self.shared.running.load(Ordering::Relaxed)
    }

    /// Marks a call as running until the guard drops.
    pub fn running(&self) -> Running {
        if self.shared.running.fetch_add(1, Ordering::AcqRel) == 0 {
            self.shared.thread.unpark();
        }
        Running {
            shared: self.shared.clone(),
        }
    }
}

/// A running call; dropping it lets the ticker park again once no call runs.
pub struct Running {
    shared: Arc<Shared>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shared.running.fetch_sub(1, Ordering::AcqRel);
    }
}
