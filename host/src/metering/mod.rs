//! Metering: what every request and every guest call used, added up per route and per
//! component in lock-free counters (relaxed atomics, one set per route and per component, so
//! requests on different routes never touch the same cache line).
//!
//! The request path makes one call here per step: [`ComponentMeter::call`] after each guest
//! call, [`Tally`] for what a request read and wrote, [`Metering::request`] once it is
//! answered. Readers (`/metrics`, the usage log) only load the counters.
//! `NEBULA_METERING=off` turns it all off, to measure metering's own cost. This module never
//! decides what happens to a request and never blocks it.

pub mod histogram;
pub mod usage;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::admission::Gate;
use crate::component::proxy::OnUsage;
use crate::component::slot::Slot;
use crate::component::{CallUsage, metering_on};
use tokio::sync::Notify;

use crate::memo::Memoized;
pub use histogram::Histogram;

const RELAXED: Ordering = Ordering::Relaxed;

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Memory held for a while, in KiB·µs: the unit GB-seconds are computed from (see `usage`).
/// 64 MiB held for an hour is 2.4e14, far from `u64::MAX`.
fn kib_micros(bytes: u64, held: Duration) -> u64 {
    (bytes / 1024).saturating_mul(micros(held))
}

/// What one request used, summed over its calls and read rounds while it runs. Shared by
/// reference within the request's own task, so its counters are never contended.
#[derive(Debug, Default)]
pub struct Tally {
    cpu_us: AtomicU64,
    kib_us: AtomicU64,
    bytes_in: AtomicU64,
    reads: AtomicU64,
    writes: AtomicU64,
}

impl Tally {
    /// Notes a guest call's usage.
    pub fn call(&self, usage: &CallUsage) {
        self.cpu_us.fetch_add(micros(usage.cpu), RELAXED);
        self.kib_us
            .fetch_add(kib_micros(usage.peak_memory, usage.wall), RELAXED);
    }

    /// Notes the request body's length.
    pub fn bytes_in(&self, n: usize) {
        self.bytes_in.fetch_add(n as u64, RELAXED);
    }

    /// Notes `n` reads performed for the request.
    pub fn reads(&self, n: usize) {
        self.reads.fetch_add(n as u64, RELAXED);
    }

    /// Notes `n` writes applied for the request.
    pub fn writes(&self, n: usize) {
        self.writes.fetch_add(n as u64, RELAXED);
    }

    /// The guest CPU time of the request so far, in µs (for the access log).
    pub fn cpu_us(&self) -> u64 {
        self.cpu_us.load(RELAXED)
    }
}

/// Counters of one route (or of the requests no route matched).
#[derive(Debug)]
pub struct RouteMeter {
    /// `METHOD /template`, or `-` for unrouted requests.
    pub label: String,
    /// Requests by status, indexed by `status - 100` (statuses 100–599).
    statuses: Box<[AtomicU64]>,
    /// From arrival to the response (its head, when streamed).
    pub latency: Histogram,
    pub memo_hits: AtomicU64,
    pub memo_shared: AtomicU64,
    pub memo_misses: AtomicU64,
    pub cpu_us: AtomicU64,
    /// Peak memory × wall time of the route's calls (see [`ComponentMeter::kib_us`]).
    pub kib_us: AtomicU64,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
    pub reads: AtomicU64,
    pub writes: AtomicU64,
}

impl RouteMeter {
    pub fn new(label: impl Into<String>) -> RouteMeter {
        RouteMeter {
            label: label.into(),
            statuses: (100..600).map(|_| AtomicU64::new(0)).collect(),
            latency: Histogram::default(),
            memo_hits: AtomicU64::new(0),
            memo_shared: AtomicU64::new(0),
            memo_misses: AtomicU64::new(0),
            cpu_us: AtomicU64::new(0),
            kib_us: AtomicU64::new(0),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            reads: AtomicU64::new(0),
            writes: AtomicU64::new(0),
        }
    }

    /// Adds one answered request.
    pub fn request(&self, answered: &Answered, tally: &Tally) {
        if let Some(n) = (answered.status as usize)
            .checked_sub(100)
            .and_then(|i| self.statuses.get(i))
        {
            n.fetch_add(1, RELAXED);
        }
        self.latency.observe(answered.elapsed);
        match answered.memo {
            None => None,
            Some(Memoized::Hit) => Some(&self.memo_hits),
            Some(Memoized::Shared) => Some(&self.memo_shared),
            Some(Memoized::Miss) => Some(&self.memo_misses),
        }
        .map(|n| n.fetch_add(1, RELAXED));
        self.cpu_us.fetch_add(tally.cpu_us(), RELAXED);
        self.kib_us.fetch_add(tally.kib_us.load(RELAXED), RELAXED);
        self.bytes_in
            .fetch_add(tally.bytes_in.load(RELAXED), RELAXED);
        self.bytes_out.fetch_add(answered.bytes_out, RELAXED);
        self.reads.fetch_add(tally.reads.load(RELAXED), RELAXED);
        self.writes.fetch_add(tally.writes.load(RELAXED), RELAXED);
    }

    /// Every status answered at least once, with its count.
    pub fn statuses(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        self.statuses
            .iter()
            .enumerate()
            .map(|(i, n)| (i as u16 + 100, n.load(RELAXED)))
            .filter(|&(_, n)| n > 0)
    }

    /// Requests answered, whatever their status.
    pub fn requests(&self) -> u64 {
        self.statuses().map(|(_, n)| n).sum()
    }
}

/// A request as answered, for [`RouteMeter::request`].
#[derive(Debug, Clone, Copy)]
pub struct Answered {
    pub status: u16,
    pub elapsed: Duration,
    /// How the memo took part (`None`: the route does not qualify, or none matched).
    pub memo: Option<Memoized>,
    /// The response body's length (as declared, for a streamed one).
    pub bytes_out: u64,
}

/// Counters of one component: its calls and what they used.
#[derive(Debug)]
pub struct ComponentMeter {
    pub slot: Arc<Slot>,
    /// Its admission: the queue depth and the requests turned away are read from it.
    pub gate: Arc<Gate>,
    pub calls: AtomicU64,
    /// Calls that trapped, ran out of time or memory.
    pub failed: AtomicU64,
    pub cpu_us: AtomicU64,
    pub wall_us: AtomicU64,
    pub instantiate_us: AtomicU64,
    /// Peak linear memory × wall time of each call, summed: the GB-seconds' numerator.
    pub kib_us: AtomicU64,
    /// The largest peak memory of any call.
    pub peak_memory: AtomicU64,
    /// Fuel its calls burned (components with `limits.fuel`; see `component::fuel`).
    pub fuel: AtomicU64,
}

impl ComponentMeter {
    pub fn new(slot: Arc<Slot>, gate: Arc<Gate>) -> ComponentMeter {
        ComponentMeter {
            slot,
            gate,
            calls: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            cpu_us: AtomicU64::new(0),
            wall_us: AtomicU64::new(0),
            instantiate_us: AtomicU64::new(0),
            kib_us: AtomicU64::new(0),
            peak_memory: AtomicU64::new(0),
            fuel: AtomicU64::new(0),
        }
    }

    /// Adds one guest call (and its usage to the request's `tally`).
    pub fn call(&self, usage: &CallUsage, ok: bool, tally: &Tally) {
        if !metering_on() {
            return;
        }
        tally.call(usage);
        self.calls.fetch_add(1, RELAXED);
        if !ok {
            self.failed.fetch_add(1, RELAXED);
        }
        self.cpu_us.fetch_add(micros(usage.cpu), RELAXED);
        self.wall_us.fetch_add(micros(usage.wall), RELAXED);
        self.instantiate_us
            .fetch_add(micros(usage.instantiate), RELAXED);
        self.kib_us
            .fetch_add(kib_micros(usage.peak_memory, usage.wall), RELAXED);
        self.peak_memory.fetch_max(usage.peak_memory, RELAXED);
        if usage.fuel > 0 {
            self.fuel.fetch_add(usage.fuel, RELAXED);
        }
    }
}

/// Where a `wasi:http` call's usage goes: its guest runs on after the response head (and the
/// request's access line), so its usage is added to the component and the route when it ends.
pub fn after_stream(component: Arc<ComponentMeter>, route: Arc<RouteMeter>) -> OnUsage {
    Arc::new(move |usage: &CallUsage, ok: bool| {
        let tally = Tally::default();
        component.call(usage, ok, &tally);
        route.cpu_us.fetch_add(tally.cpu_us(), RELAXED);
        route.kib_us.fetch_add(tally.kib_us.load(RELAXED), RELAXED);
    })
}

/// Every counter of the host: one [`RouteMeter`] per route, one for unrouted requests, one
/// [`ComponentMeter`] per component, and the store's commit latency.
#[derive(Debug)]
pub struct Metering {
    pub started: Instant,
    pub routes: Vec<Arc<RouteMeter>>,
    pub unrouted: RouteMeter,
    pub components: Vec<Arc<ComponentMeter>>,
    /// How long applying a request's writes took.
    pub store_commit: Histogram,
    /// Set by the first request after the usage log was written; wakes its writer (so an idle
    /// host does no periodic work).
    unlogged: AtomicBool,
    wake: Notify,
}

impl Metering {
    pub fn new(routes: Vec<Arc<RouteMeter>>, components: Vec<Arc<ComponentMeter>>) -> Metering {
        Metering {
            started: Instant::now(),
            routes,
            unrouted: RouteMeter::new("-"),
            components,
            store_commit: Histogram::default(),
            unlogged: AtomicBool::new(false),
            wake: Notify::new(),
        }
    }

    /// Counts an answered request on `route`: one atomic swap more than the route's own counts,
    /// and a wake-up only for the first request since the usage log was written.
    pub fn request(&self, route: &RouteMeter, answered: &Answered, tally: &Tally) {
        if !metering_on() {
            return;
        }
        route.request(answered, tally);
        if !self.unlogged.swap(true, Ordering::AcqRel) {
            self.wake.notify_one();
        }
    }

    /// Resolves once a request was counted since the last call (at once if one already was),
    /// and marks the counts as being logged.
    pub async fn counted_since_logged(&self) {
        if !self.unlogged.load(Ordering::Acquire) {
            self.wake.notified().await;
        }
        self.unlogged.store(false, Ordering::Release);
    }

    /// Wakes [`Metering::counted_since_logged`]'s waiter as if a request was counted: the
    /// usage log then looks again at which app's counters to follow.
    pub fn nudge(&self) {
        self.unlogged.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    /// Every route meter, the unrouted one last.
    pub fn all_routes(&self) -> impl Iterator<Item = &RouteMeter> {
        self.routes
            .iter()
            .map(|r| &**r)
            .chain(std::iter::once(&self.unrouted))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: u16, memo: Option<Memoized>) -> Answered {
        Answered {
            status,
            elapsed: Duration::from_micros(700),
            memo,
            bytes_out: 20,
        }
    }

    #[test]
    fn a_route_counts_requests_by_status_memo_and_bytes() {
        let route = RouteMeter::new("GET /x");
        let tally = Tally::default();
        tally.reads(3);
        tally.writes(1);
        route.request(&answered(200, Some(Memoized::Miss)), &tally);
        route.request(&answered(200, Some(Memoized::Hit)), &Tally::default());
        route.request(&answered(503, None), &Tally::default());
        assert_eq!(route.statuses().collect::<Vec<_>>(), [(200, 2), (503, 1)]);
        assert_eq!(route.requests(), 3);
        assert_eq!(route.memo_hits.load(RELAXED), 1);
        assert_eq!(route.memo_misses.load(RELAXED), 1);
        assert_eq!(route.bytes_out.load(RELAXED), 60);
        assert_eq!(
            (route.reads.load(RELAXED), route.writes.load(RELAXED)),
            (3, 1)
        );
        assert_eq!(route.latency.count(), 3);
    }

    #[test]
    fn a_status_outside_100_to_599_is_not_counted_and_does_not_panic() {
        let route = RouteMeter::new("GET /x");
        route.request(&answered(99, None), &Tally::default());
        route.request(&answered(600, None), &Tally::default());
        assert_eq!(route.requests(), 0);
    }

    #[test]
    fn memory_time_is_counted_in_kib_microseconds() {
        assert_eq!(kib_micros(2 << 20, Duration::from_millis(3)), 2048 * 3000);
    }
}
