//! Virtual time: `wasi:clocks/monotonic-clock`, `wasi:clocks/wall-clock` and `wasi:io/poll` for
//! pure calls.
//!
//! Both clocks start frozen: the monotonic clock at 0, the wall clock at the Unix epoch. Time moves
//! only when the guest waits for it: a clock pollable is ready at once, and finding it ready (by
//! `ready`, `block` or `poll`) moves the monotonic clock to its instant, never backwards; the wall
//! clock is the epoch plus the monotonic reading. So `sleep(1 h)` returns immediately, and elapsed
//! time shows exactly the sleeps asked for, the same on every run.
//!
//! `poll` over several pollables behaves as if time passed until the first one was ready: any
//! pollable ready now (a stream, or an instant already reached) is returned without moving the
//! clock; otherwise the clock moves to the earliest instant in the list and every clock pollable
//! due by then is returned.
//!
//! This module never reads a real clock and never waits: a wait that cannot end (on an instant past
//! the end of the clock, or on a stream that is not ready) traps at once instead of hanging the call.

use std::collections::HashMap;

use wasmtime::component::{HasData, Resource, ResourceTable};
use wasmtime_wasi::p2::bindings::clocks::{monotonic_clock, wall_clock};
use wasmtime_wasi_io::bindings::wasi::io::poll::{self, HostPollable};
use wasmtime_wasi_io::poll::{DynPollable, Pollable, subscribe};

const NANOS_PER_SECOND: u64 = 1_000_000_000;

/// The virtual monotonic clock of one call, and the instant each clock pollable waits for.
#[derive(Debug, Default)]
pub struct VirtualClock {
    /// Nanoseconds since the call started (the monotonic reading; the wall clock adds the epoch).
    now: u64,
    /// Clock pollables by their `pollable` handle (the table index of their `DynPollable`).
    waiting: HashMap<u32, Due>,
}

/// When a clock pollable is due.
#[derive(Debug, Clone, Copy)]
enum Due {
    At(u64),
    /// Past the end of the clock (`subscribe-duration` overflowed it): never.
    Never,
}

impl VirtualClock {
    /// Moves the clock forward to `instant` (never backwards).
    fn advance_to(&mut self, instant: u64) {
        self.now = self.now.max(instant);
    }
}

/// What the clock and poll interfaces see of a call's store.
pub struct TimeView<'a> {
    pub clock: &'a mut VirtualClock,
    pub table: &'a mut ResourceTable,
}

/// The [`HasData`] of the virtual clock and poll interfaces.
pub struct VirtualTime;

impl HasData for VirtualTime {
    type Data<'a> = TimeView<'a>;
}

/// The resource behind a clock pollable. It holds nothing: [`VirtualClock`] knows its instant,
/// and this module's `poll` answers for it. Should anything else await it, it is ready at once,
/// so no wait inside a pure call ever depends on real time.
struct ClockPollable;

#[wasmtime_wasi_io::async_trait]
impl Pollable for ClockPollable {
    async fn ready(&mut self) {}
}

impl TimeView<'_> {
    fn subscribe(&mut self, due: Due) -> wasmtime::Result<Resource<DynPollable>> {
        let resource = self.table.push(ClockPollable)?;
        let pollable = subscribe(self.table, resource)?;
        self.clock.waiting.insert(pollable.rep(), due);
        Ok(pollable)
    }

    /// Whether a pollable that is not a clock's (a stream's) is ready now; it never waits.
    async fn other_ready(&mut self, rep: u32) -> wasmtime::Result<bool> {
        HostPollable::ready(&mut *self.table, Resource::new_borrow(rep)).await
    }
}

fn blocked(what: &str) -> wasmtime::Error {
    wasmtime::format_err!(
        "the handler blocked on {what} which can never become ready in a pure call (time is \
         virtual and there is no outside world to wait for); hint: a pure handler gets all its \
         data in its input, and a sleep past the end of the clock never ends"
    )
}

impl wall_clock::Host for TimeView<'_> {
    fn now(&mut self) -> wasmtime::Result<wall_clock::Datetime> {
        Ok(wall_clock::Datetime {
            seconds: self.clock.now / NANOS_PER_SECOND,
            nanoseconds: u32::try_from(self.clock.now % NANOS_PER_SECOND)?,
        })
    }

    fn resolution(&mut self) -> wasmtime::Result<wall_clock::Datetime> {
        Ok(wall_clock::Datetime {
            seconds: 0,
            nanoseconds: 1,
        })
    }
}

impl monotonic_clock::Host for TimeView<'_> {
    fn now(&mut self) -> wasmtime::Result<monotonic_clock::Instant> {
        Ok(self.clock.now)
    }

    fn resolution(&mut self) -> wasmtime::Result<monotonic_clock::Duration> {
        Ok(1)
    }

    fn subscribe_instant(
        &mut self,
        when: monotonic_clock::Instant,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        self.subscribe(Due::At(when))
    }

    fn subscribe_duration(
        &mut self,
        duration: monotonic_clock::Duration,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        let due = self
            .clock
            .now
            .checked_add(duration)
            .map_or(Due::Never, Due::At);
        self.subscribe(due)
    }
}

impl poll::Host for TimeView<'_> {
    async fn poll(&mut self, pollables: Vec<Resource<DynPollable>>) -> wasmtime::Result<Vec<u32>> {
        if pollables.is_empty() {
            wasmtime::bail!("wasi:io/poll: the handler polled an empty list");
        }
        let now = self.clock.now;
        let mut ready = Vec::new();
        let mut earliest: Option<u64> = None;
        for (index, pollable) in pollables.iter().enumerate() {
            let index = u32::try_from(index)?;
            match self.clock.waiting.get(&pollable.rep()).copied() {
                Some(Due::At(at)) if at <= now => ready.push(index),
                Some(Due::At(at)) => earliest = Some(earliest.map_or(at, |e| e.min(at))),
                Some(Due::Never) => {}
                None => {
                    if self.other_ready(pollable.rep()).await? {
                        ready.push(index);
                    }
                }
            }
        }
        if !ready.is_empty() {
            return Ok(ready);
        }
        // Nothing is ready now: let time pass until the earliest instant of the list.
        let Some(earliest) = earliest else {
            return Err(blocked(&format!(
                "wasi:io/poll of {} pollable(s)",
                pollables.len()
            )));
        };
        self.clock.advance_to(earliest);
        let mut ready = Vec::new();
        for (index, pollable) in pollables.iter().enumerate() {
            if let Some(Due::At(at)) = self.clock.waiting.get(&pollable.rep())
                && *at <= earliest
            {
                ready.push(u32::try_from(index)?);
            }
        }
        Ok(ready)
    }
}

impl HostPollable for TimeView<'_> {
    async fn block(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        match self.clock.waiting.get(&pollable.rep()).copied() {
            Some(Due::At(at)) => {
                self.clock.advance_to(at);
                Ok(())
            }
            Some(Due::Never) => Err(blocked(
                "a monotonic-clock pollable past the end of the clock",
            )),
            None if self.other_ready(pollable.rep()).await? => Ok(()),
            None => Err(blocked("a stream's pollable")),
        }
    }

    async fn ready(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<bool> {
        match self.clock.waiting.get(&pollable.rep()).copied() {
            Some(Due::At(at)) => {
                self.clock.advance_to(at);
                Ok(true)
            }
            Some(Due::Never) => Ok(false),
            None => self.other_ready(pollable.rep()).await,
        }
    }

    fn drop(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        self.clock.waiting.remove(&pollable.rep());
        HostPollable::drop(&mut *self.table, pollable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use monotonic_clock::Host as _;
    use poll::Host as _;

    const MS: u64 = 1_000_000;

    struct Call {
        clock: VirtualClock,
        table: ResourceTable,
    }

    impl Call {
        fn new() -> Call {
            Call {
                clock: VirtualClock::default(),
                table: ResourceTable::new(),
            }
        }

        fn view(&mut self) -> TimeView<'_> {
            TimeView {
                clock: &mut self.clock,
                table: &mut self.table,
            }
        }

        fn sleep(&mut self, ns: u64) -> Resource<DynPollable> {
            self.view().subscribe_duration(ns).unwrap()
        }

        fn now(&mut self) -> u64 {
            monotonic_clock::Host::now(&mut self.view()).unwrap()
        }
    }

    fn borrow(p: &Resource<DynPollable>) -> Resource<DynPollable> {
        Resource::new_borrow(p.rep())
    }

    #[tokio::test]
    async fn a_sleep_is_ready_at_once_and_moves_the_clock_to_its_instant() {
        let mut call = Call::new();
        assert_eq!(call.now(), 0);
        let p = call.sleep(3_600_000 * MS);
        assert_eq!(call.now(), 0, "subscribing alone lets no time pass");
        call.view().block(borrow(&p)).await.unwrap();
        assert_eq!(call.now(), 3_600_000 * MS);
        let q = call.sleep(20 * MS);
        assert!(call.view().ready(borrow(&q)).await.unwrap());
        assert_eq!(call.now(), 3_600_020 * MS);
    }

    #[tokio::test]
    async fn poll_lets_time_pass_only_until_the_earliest_instant() {
        let mut call = Call::new();
        let (medium, short, long) = (
            call.sleep(30 * MS),
            call.sleep(10 * MS),
            call.sleep(60 * MS),
        );
        let list = || vec![borrow(&medium), borrow(&short), borrow(&long)];
        assert_eq!(call.view().poll(list()).await.unwrap(), [1]);
        assert_eq!(call.now(), 10 * MS);
        // Still due: returned again without moving the clock.
        assert_eq!(call.view().poll(list()).await.unwrap(), [1]);
        assert_eq!(call.now(), 10 * MS);
        assert_eq!(
            call.view()
                .poll(vec![borrow(&medium), borrow(&long)])
                .await
                .unwrap(),
            [0]
        );
        assert_eq!(call.now(), 30 * MS);
    }

    #[tokio::test]
    async fn the_clock_never_goes_backwards() {
        let mut call = Call::new();
        let later = call.sleep(50 * MS);
        call.view().block(borrow(&later)).await.unwrap();
        let earlier = call.view().subscribe_instant(5 * MS).unwrap();
        assert!(call.view().ready(borrow(&earlier)).await.unwrap());
        call.view().block(borrow(&earlier)).await.unwrap();
        assert_eq!(call.now(), 50 * MS);
    }

    #[tokio::test]
    async fn the_wall_clock_is_the_epoch_plus_the_monotonic_clock() {
        let mut call = Call::new();
        let at_start = wall_clock::Host::now(&mut call.view()).unwrap();
        assert_eq!((at_start.seconds, at_start.nanoseconds), (0, 0));
        let p = call.sleep(2_500 * MS);
        call.view().block(borrow(&p)).await.unwrap();
        let wall = wall_clock::Host::now(&mut call.view()).unwrap();
        assert_eq!((wall.seconds, wall.nanoseconds), (2, 500_000_000));
    }

    #[tokio::test]
    async fn a_sleep_past_the_end_of_the_clock_traps_instead_of_hanging() {
        let mut call = Call::new();
        let p = call.sleep(10 * MS);
        call.view().block(borrow(&p)).await.unwrap();
        let forever = call.sleep(u64::MAX);
        assert!(!call.view().ready(borrow(&forever)).await.unwrap());
        let err = call.view().block(borrow(&forever)).await.unwrap_err();
        assert!(
            format!("{err}").contains("can never become ready in a pure call"),
            "{err}"
        );
        let err = call.view().poll(vec![borrow(&forever)]).await.unwrap_err();
        assert!(format!("{err}").contains("wasi:io/poll"), "{err}");
        // With a finite sleep in the list, poll lets time pass until it instead.
        let soon = call.sleep(MS);
        let ready = call
            .view()
            .poll(vec![borrow(&forever), borrow(&soon)])
            .await
            .unwrap();
        assert_eq!(ready, [1]);
        assert_eq!(call.now(), 11 * MS);
    }

    #[tokio::test]
    async fn a_ready_stream_is_answered_before_any_time_passes() {
        let mut call = Call::new();
        let stream: wasmtime_wasi_io::streams::DynInputStream =
            Box::new(wasmtime_wasi::p2::pipe::ClosedInputStream);
        let stream = call.table.push(stream).unwrap();
        let readable = subscribe(&mut call.table, stream).unwrap();
        let sleep = call.sleep(10 * MS);
        let ready = call
            .view()
            .poll(vec![borrow(&sleep), borrow(&readable)])
            .await
            .unwrap();
        assert_eq!(ready, [1]);
        assert_eq!(call.now(), 0);
    }

    #[tokio::test]
    async fn a_dropped_pollable_is_forgotten() {
        let mut call = Call::new();
        let p = call.sleep(10 * MS);
        let rep = p.rep();
        call.view().drop(p).unwrap();
        assert!(!call.clock.waiting.contains_key(&rep));
        assert!(call.table.is_empty());
    }
}
