//! `compute-native BENCH N [REPS]`: runs a compute kernel (components/compute-kernels) natively
//! REPS times (default 1). Prints the result text once on stdout and, on stderr, one line
//! `elapsed_ns=… cpu_ns=…` per repetition (wall and CPU time of the kernel alone, without
//! process start), which bench/run.py compares with the same kernel served by the `compute` pure
//! component. CPU time comes from /proc/thread-self/schedstat (nanoseconds on CPU): on a shared
//! machine it is far less noisy than wall time.

use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(bench), Some(n)) = (
        args.first(),
        args.get(1).and_then(|n| n.parse::<u64>().ok()),
    ) else {
        eprintln!(
            "usage: compute-native BENCH N [REPS]; BENCH is one of {}",
            compute_kernels::NAMES.join(", ")
        );
        return ExitCode::from(2);
    };
    let reps = args.get(2).and_then(|r| r.parse::<u32>().ok()).unwrap_or(1);
    let mut result = None;
    for _ in 0..reps.max(1) {
        let (start, cpu_start) = (Instant::now(), thread_cpu_ns());
        let out = std::hint::black_box(compute_kernels::run(bench, std::hint::black_box(n)));
        let (elapsed, cpu) = (start.elapsed(), thread_cpu_ns().saturating_sub(cpu_start));
        eprintln!("elapsed_ns={} cpu_ns={cpu}", elapsed.as_nanos());
        match out {
            Some(out) => result = Some(out),
            None => {
                eprintln!("unknown benchmark `{bench}` or size {n} out of range");
                return ExitCode::from(2);
            }
        }
    }
    print!("{}", result.unwrap_or_default());
    ExitCode::SUCCESS
}

/// Nanoseconds this thread has run on a CPU (the first field of /proc/thread-self/schedstat);
/// 0 where that file does not exist.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}
