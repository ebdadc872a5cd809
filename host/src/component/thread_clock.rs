//! The calling thread's CPU time, read cheaply: what metering puts around every poll of a guest.
//!
//! The thread CPU clock (`CLOCK_THREAD_CPUTIME_ID`) has no vDSO fast path: each read is a system
//! call, 0.4–2 µs on the VMs Nebula was measured on, and metering reads it twice per call. This
//! clock reads it only when the thread has been off the CPU since the last read, and otherwise
//! extends that last reading by the monotonic clock (vDSO, ~20 ns): while a thread stays on its
//! CPU, its CPU time and wall time advance together.
//!
//! Whether the thread left the CPU is told by the kernel itself. Each thread opens a perf
//! `task-clock` event on itself and maps the event's user page. The kernel updates that page
//! (and bumps its sequence counter, `lock`) every time it schedules the thread back in. So an
//! unchanged counter means the thread ran without interruption since the anchor was taken.
//! Nothing is sampled or recorded; the event only gives the kernel a page to write to.
//!
//! Where perf events are not allowed (`perf_event_paranoid` 3, a seccomp profile that refuses
//! `perf_event_open`), every read is the system call, as before.
//!
//! What differs from the system call: between two reads on the same CPU the time spent in
//! interrupts, or taken by the hypervisor from the virtual CPU, counts as the thread's when the
//! kernel's own accounting would leave it out. Both are small next to a call's work.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, Ordering, compiler_fence};
use std::time::{Duration, Instant};

/// The CPU time the calling thread has used so far.
pub(crate) fn now() -> Duration {
    THREAD.with(|t| t.now())
}

thread_local! {
    static THREAD: Thread = Thread::default();
}

/// Set once any thread failed to open its event: the others do not try again.
static REFUSED: AtomicBool = AtomicBool::new(false);

/// One thread's clock: its event page (opened on the first read) and its anchor.
#[derive(Default)]
struct Thread {
    page: RefCell<Option<Option<Page>>>,
    anchor: Cell<Option<Anchor>>,
    /// The last value returned: an estimate that ran a little ahead of the system clock (an
    /// interrupt) is never followed by a smaller reading.
    last: Cell<Duration>,
    #[cfg(test)]
    system_calls: Cell<u64>,
}

/// A reading of the system clock, and the scheduling count and monotonic time at that reading.
#[derive(Clone, Copy)]
struct Anchor {
    scheduled: u32,
    at: Instant,
    cpu: Duration,
}

impl Thread {
    fn now(&self) -> Duration {
        let t = self.read().max(self.last.get());
        self.last.set(t);
        t
    }

    fn read(&self) -> Duration {
        let mut page = self.page.borrow_mut();
        let Some(page) = page.get_or_insert_with(Page::open) else {
            return self.system_clock();
        };
        let before = page.scheduled();
        let at = Instant::now();
        if page.scheduled() == before
            && let Some(anchor) = self.anchor.get()
            && anchor.scheduled == before
        {
            return anchor.cpu + at.saturating_duration_since(anchor.at);
        }
        // Scheduled in since the anchor (or no anchor yet): read the clock itself.
        let before = page.scheduled();
        let cpu = self.system_clock();
        let at = Instant::now();
        let after = page.scheduled();
        self.anchor.set((before == after).then_some(Anchor {
            scheduled: after,
            at,
            cpu,
        }));
        cpu
    }

    fn system_clock(&self) -> Duration {
        #[cfg(test)]
        self.system_calls.set(self.system_calls.get() + 1);
        system_clock()
    }
}

/// `CLOCK_THREAD_CPUTIME_ID`: exact, and a system call.
fn system_clock() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant Linux supports.
    #[expect(unsafe_code, reason = "libc's clock_gettime has no safe binding")]
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let nanos = u32::try_from(ts.tv_nsec).unwrap_or(0);
    Duration::new(secs, nanos)
}

/// The user page of a perf `task-clock` event on the calling thread.
struct Page {
    fd: libc::c_int,
    map: *mut libc::c_void,
}

/// `struct perf_event_attr` as of its first version (`PERF_ATTR_SIZE_VER0`, 64 bytes): the
/// kernel accepts every older size.
#[repr(C)]
struct Attr {
    kind: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    bp_addr: u64,
}

const PERF_TYPE_SOFTWARE: u32 = 1;
const PERF_COUNT_SW_TASK_CLOCK: u64 = 1;
/// `exclude_kernel` and `exclude_hv`: what an unprivileged process may ask for under the
/// default `perf_event_paranoid` of 2.
const EXCLUDE_KERNEL_AND_HV: u64 = (1 << 5) | (1 << 6);
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 8;
/// The offset of `lock` in `struct perf_event_mmap_page` (after `version` and
/// `compat_version`): the counter the kernel bumps on each update of the page.
const LOCK_OFFSET: usize = 8;
const PAGE: usize = 4096;

impl Page {
    fn open() -> Option<Page> {
        if REFUSED.load(Ordering::Relaxed) {
            return None;
        }
        let page = Page::try_open();
        if page.is_none() {
            REFUSED.store(true, Ordering::Relaxed);
            tracing::debug!(
                "perf events are not available: the CPU clock is read by a system call each time"
            );
        }
        page
    }

    #[expect(
        unsafe_code,
        reason = "perf_event_open and mmap have no safe binding in libc"
    )]
    fn try_open() -> Option<Page> {
        let attr = Attr {
            kind: PERF_TYPE_SOFTWARE,
            size: u32::try_from(std::mem::size_of::<Attr>()).ok()?,
            config: PERF_COUNT_SW_TASK_CLOCK,
            sample_period: 0,
            sample_type: 0,
            read_format: 0,
            flags: EXCLUDE_KERNEL_AND_HV,
            wakeup_events: 0,
            bp_type: 0,
            bp_addr: 0,
        };
        // SAFETY: `attr` is a valid perf_event_attr of the size it states; pid 0 and cpu -1
        // mean this thread on any CPU, with no group.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_perf_event_open,
                &raw const attr,
                0,
                -1,
                -1,
                PERF_FLAG_FD_CLOEXEC,
            )
        };
        let fd = libc::c_int::try_from(fd).ok().filter(|fd| *fd >= 0)?;
        // SAFETY: maps the event's first page (its user page, no ring buffer) read-only and
        // shared; the kernel keeps it valid until it is unmapped.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                PAGE,
                libc::PROT_READ,
                libc::MAP_SHARED,
                fd,
                0,
            )
        };
        if map == libc::MAP_FAILED {
            // SAFETY: `fd` was opened above and is not used again.
            unsafe { libc::close(fd) };
            return None;
        }
        Some(Page { fd, map })
    }

    /// How many times the kernel has updated the page: it changes when the thread is scheduled in.
    fn scheduled(&self) -> u32 {
        compiler_fence(Ordering::SeqCst);
        // SAFETY: `map` is a live, page-sized, readable mapping and `lock` is an aligned u32
        // inside it; the kernel writes it, so it is read as volatile.
        #[expect(unsafe_code, reason = "reads the kernel-written perf user page")]
        let n = unsafe {
            std::ptr::read_volatile(self.map.cast::<u8>().add(LOCK_OFFSET).cast::<u32>())
        };
        compiler_fence(Ordering::SeqCst);
        n
    }
}

impl Drop for Page {
    #[expect(unsafe_code, reason = "munmap and close have no safe binding in libc")]
    fn drop(&mut self) {
        // SAFETY: `map` and `fd` came from `try_open` and are released once, here.
        unsafe {
            libc::munmap(self.map, PAGE);
            libc::close(self.fd);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spins until the system clock says this thread used `cpu`.
    fn spin(cpu: Duration) {
        let start = system_clock();
        let mut n = 0u64;
        while system_clock() - start < cpu {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }

    #[test]
    fn it_agrees_with_the_system_clock_over_work() {
        let (a, sa) = (now(), system_clock());
        spin(Duration::from_millis(30));
        let (b, sb) = (now(), system_clock());
        let (cheap, exact) = ((b - a).as_secs_f64(), (sb - sa).as_secs_f64());
        assert!(
            (cheap - exact).abs() <= exact * 0.1,
            "cheap {cheap:.6} s vs system clock {exact:.6} s"
        );
    }

    #[test]
    fn time_asleep_is_not_counted() {
        let a = now();
        std::thread::sleep(Duration::from_millis(50));
        let b = now();
        assert!(b - a < Duration::from_millis(10), "{:?}", b - a);
    }

    #[test]
    fn it_never_goes_backwards() {
        let mut last = now();
        for _ in 0..100_000 {
            let t = now();
            assert!(t >= last, "{t:?} < {last:?}");
            last = t;
        }
    }

    #[test]
    fn with_perf_events_most_reads_make_no_system_call() {
        let available = THREAD.with(|t| {
            now();
            t.page.borrow().as_ref().is_some_and(Option::is_some)
        });
        if !available {
            // perf_event_paranoid 3 or a seccomp filter: every read is the system call.
            return;
        }
        let calls = || THREAD.with(|t| t.system_calls.get());
        let before = calls();
        for _ in 0..10_000 {
            std::hint::black_box(now());
        }
        // A read pays the system call only after the thread was scheduled in again.
        let paid = calls() - before;
        assert!(paid < 1_000, "{paid} system calls in 10,000 reads");
    }
}
