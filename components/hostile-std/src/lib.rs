//! A std Rust handler for wasm32-wasip2 that leans on the WASI stubs a pure call gets, chosen by
//! the last segment of the request path (tests/integration/hostile.rs; `components/hostile-nostd`
//! misbehaves without WASI):
//!
//! | path ends in | does |
//! |---|---|
//! | `sleep` | `std::thread::sleep` for `?secs=N` seconds (default 3600), then reports the clocks |
//! | `sleep-forever` | `std::thread::sleep(Duration::MAX)`: a wait that can never end |
//! | `clock-probe` | busy-polls a 20 ms `subscribe-duration` pollable with `ready`, counting spins, then reports the clocks |
//! | `poll` | polls 30 ms, 10 ms and 1 h pollables together, then the rest, then blocks on the hour; reports what was ready when |
//! | `stdin` | reads stdin to its end (it is empty) and reports the clocks |
//! | `random` | answers `?n=N` bytes (default 65536) of `get-random-bytes` |
//! | `random-all` | one line from each random function: `get-random-u64`, `get-insecure-random-bytes`, `get-insecure-random-u64`, `insecure-seed`, and a `HashMap`'s iteration order |
//! | `loop` | loops forever |
//! | `memory` | grows a `Vec` 1 MiB at a time, forever |
//! | `recurse` | recurses without end |
//! | anything else | answers 200 `calm` |
//!
//! "The clocks" is one line: `monotonic=NS wall=NS`, the nanoseconds an `Instant` saw pass and
//! the `SystemTime` since the Unix epoch.

wit_bindgen::generate!({
    path: "../../wit/0.1.0",
    world: "nebula:pure/handler",
});

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hint::black_box;
use std::io::Read as _;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nebula::pure::types::{Header, Response};
use wasip2::clocks::monotonic_clock;
use wasip2::random::{insecure, insecure_seed, random};

struct Hostile;

impl Guest for Hostile {
    fn handle(input: Input) -> Outcome {
        let request = &input.request;
        let query = |name: &str| query_value(&request.query, name);
        let started = Instant::now();
        match request.path.rsplit('/').next().unwrap_or_default() {
            "sleep" => {
                let secs = query("secs").and_then(|s| s.parse().ok()).unwrap_or(3600);
                std::thread::sleep(Duration::from_secs(secs));
                text(200, clocks(started))
            }
            "sleep-forever" => {
                std::thread::sleep(Duration::MAX);
                text(200, format!("woke up from forever: {}", clocks(started)))
            }
            "clock-probe" => {
                let pollable = monotonic_clock::subscribe_duration(20_000_000);
                let mut spins: u64 = 0;
                // Bounded, so that a host whose pollable never becomes ready still gets an answer.
                while spins < 1_000_000_000 {
                    spins += 1;
                    if pollable.ready() {
                        break;
                    }
                }
                text(200, format!("spins={spins} {}", clocks(started)))
            }
            "poll" => poll(started),
            "stdin" => {
                let mut all = Vec::new();
                let read = std::io::stdin().read_to_end(&mut all);
                text(200, format!("stdin: {read:?} {}", clocks(started)))
            }
            "random" => {
                let n = query("n").and_then(|n| n.parse().ok()).unwrap_or(65536);
                binary(random::get_random_bytes(n))
            }
            "random-all" => random_all(),
            "loop" => {
                let mut turns: u64 = 0;
                loop {
                    turns = black_box(turns.wrapping_add(1));
                }
            }
            "memory" => {
                let mut kept: Vec<u8> = Vec::new();
                loop {
                    kept.extend(std::iter::repeat_n(1u8, 1 << 20));
                    black_box(&mut kept);
                }
            }
            "recurse" => text(
                200,
                format!("returned from depth {}", recurse(black_box(0))),
            ),
            _ => text(200, "calm".to_string()),
        }
    }
}

/// `monotonic=NS wall=NS`: what an `Instant` saw pass since `started`, and the wall clock.
fn clocks(started: Instant) -> String {
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("monotonic={} wall={wall}", started.elapsed().as_nanos())
}

/// Three clock pollables at once, then the two left, then a block on the last one.
fn poll(started: Instant) -> Outcome {
    use wasip2::io::poll::poll;
    let short = monotonic_clock::subscribe_duration(10_000_000);
    let medium = monotonic_clock::subscribe_duration(30_000_000);
    let long = monotonic_clock::subscribe_duration(3_600_000_000_000);
    let mut report = String::new();
    let first = poll(&[&medium, &short, &long]);
    let _ = writeln!(report, "first {first:?} {}", clocks(started));
    let second = poll(&[&medium, &long]);
    let _ = writeln!(report, "second {second:?} {}", clocks(started));
    long.block();
    let _ = writeln!(report, "blocked {}", clocks(started));
    text(200, report)
}

fn random_all() -> Outcome {
    let mut report = String::new();
    let _ = writeln!(report, "random-u64 {:016x}", random::get_random_u64());
    let _ = writeln!(
        report,
        "insecure-bytes {}",
        hex(&insecure::get_insecure_random_bytes(16))
    );
    let _ = writeln!(
        report,
        "insecure-u64 {:016x}",
        insecure::get_insecure_random_u64()
    );
    let (a, b) = insecure_seed::insecure_seed();
    let _ = writeln!(report, "insecure-seed {a:016x}{b:016x}");
    // std seeds `HashMap`'s hasher from WASI random: its order is one more reading.
    let map: HashMap<u32, ()> = (0..16).map(|k| (k, ())).collect();
    let order: Vec<u32> = map.keys().copied().collect();
    let _ = writeln!(report, "hashmap-order {order:?}");
    text(200, report)
}

/// Recurses until the stack runs out; the frame's buffer and the work after the call keep it from
/// becoming a loop.
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    if depth == u64::MAX {
        return depth;
    }
    let frame = black_box([depth; 16]);
    let deeper = recurse(black_box(depth + 1));
    black_box(deeper.wrapping_add(frame[(depth % 16) as usize]))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The raw value of the first `name` parameter of `query` (the tests send plain digits).
fn query_value<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

fn text(status: u16, mut body: String) -> Outcome {
    if !body.ends_with('\n') {
        body.push('\n');
    }
    answer(status, "text/plain; charset=utf-8", body.into_bytes())
}

fn binary(body: Vec<u8>) -> Outcome {
    answer(200, "application/octet-stream", body)
}

fn answer(status: u16, content_type: &str, body: Vec<u8>) -> Outcome {
    let response = Response {
        status,
        headers: vec![Header {
            name: "content-type".to_string(),
            value: content_type.to_string(),
        }],
        body,
    };
    Outcome::Respond((response, Vec::new()))
}

export!(Hostile);
