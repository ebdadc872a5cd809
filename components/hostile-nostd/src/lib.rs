//! A `no_std` handler that misbehaves in every way a handler can without WASI, chosen by the last
//! segment of the request path (tests/integration/hostile.rs; `components/hostile-std` is its std
//! counterpart for what needs WASI: sleeping, clocks, random):
//!
//! | path ends in | does | the host must answer |
//! |---|---|---|
//! | `loop` | loops forever | 504 at the deadline |
//! | `memory` | allocates and touches 1 MiB after 1 MiB, forever | 500 at the memory cap |
//! | `recurse` | recurses without end | 500 (stack exhausted) |
//! | `huge` | answers a body of `?mib=N` MiB (default 8) | 500 over `max_response` |
//! | `spin` | counts to `?n=N`, then asks for one more read until it has `?rounds=R`, then passes on until `?steps=S` steps have spun (a pipeline of itself), then answers | 200, or 504 once the request's deadline has passed |
//! | `status` | answers status `?code=N` (default 1000) | 500, for anything outside 100..=599 |
//! | `header-crlf` | answers 200 with a header value holding `\r\n` plus a second header line | 200, the response never split |
//! | `need-forever` | asks for one more read on every call | 500 after the read-round limit |
//! | `write-outside` | puts `kv/KEY` and `secret/KEY` (`?key=KEY`) | 500 if `secret` is not granted; nothing written |
//! | `write-then-invalid` | puts `kv/KEY`, then answers status 1000 | 500; nothing written |
//! | anything else | answers 200 `calm` | 200 |
#![no_std]

use core::hint::black_box;
use nebula_guest::*;

const TEXT: &str = "text/plain; charset=utf-8";

struct Hostile;

impl Guest for Hostile {
    fn handle(input: Input) -> Outcome {
        let request = &input.request;
        let query = |name: &str| query_param(&request.query, name);
        match request.path.rsplit('/').next().unwrap_or_default() {
            "loop" => endless_loop(),
            "memory" => memory_bomb(),
            "recurse" => {
                let depth = recurse(black_box(0));
                respond(200, TEXT, format!("returned from depth {depth}\n"))
            }
            "huge" => {
                let mib = query("mib").and_then(|n| n.parse().ok()).unwrap_or(8usize);
                respond(200, "application/octet-stream", vec![b'x'; mib << 20])
            }
            "spin" => {
                let number = |name: &str, default: u64| {
                    query(name).and_then(|n| n.parse().ok()).unwrap_or(default)
                };
                spin(
                    &input,
                    number("n", 0),
                    number("rounds", 0),
                    number("steps", 1),
                )
            }
            "status" => {
                let code = query("code").and_then(|n| n.parse().ok()).unwrap_or(1000);
                respond(code, TEXT, "this status is what was asked for\n")
            }
            "header-crlf" => header_crlf(),
            "need-forever" => need_forever(&input),
            "write-outside" => {
                let key = query("key").unwrap_or_default();
                let writes = vec![
                    put("kv", &key, b"granted"),
                    put("secret", &key, b"outside the grants"),
                ];
                Reply::new(200)
                    .body(TEXT, "wrote outside the grants\n")
                    .writes(writes)
                    .done()
            }
            "write-then-invalid" => {
                let key = query("key").unwrap_or_default();
                let writes = vec![put("kv", &key, b"granted")];
                Reply::new(1000)
                    .body(TEXT, "invalid status\n")
                    .writes(writes)
                    .done()
            }
            _ => respond(200, TEXT, "calm\n"),
        }
    }
}

/// Spins `n` turns per call; see the table above for the rounds and steps.
fn spin(input: &Input, n: u64, rounds: u64, steps: u64) -> Outcome {
    let mut turns: u64 = 0;
    while turns < n {
        turns = black_box(turns + 1);
    }
    let rounds_done = input.reads.len() as u64;
    if rounds_done < rounds {
        return Outcome::Need(vec![Read {
            name: format!("round-{rounds_done}"),
            op: ReadOp::Count("kv".to_string()),
        }]);
    }
    let steps_done = input.carried.as_ref().map_or(0, Vec::len) as u64 + 1;
    if steps_done < steps {
        return pass(vec![0; steps_done as usize], Vec::new());
    }
    respond(
        200,
        TEXT,
        format!("spun {n} in {steps_done} steps and {rounds_done} rounds\n"),
    )
}

fn endless_loop() -> ! {
    // `black_box` hides the counter from the optimizer, so the loop stays in the code.
    let mut turns: u64 = 0;
    loop {
        turns = black_box(turns.wrapping_add(1));
    }
}

fn memory_bomb() -> ! {
    const STEP: usize = 1 << 20;
    let mut kept: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut block = vec![0u8; STEP];
        for offset in (0..STEP).step_by(4096) {
            block[offset] = black_box(1);
        }
        kept.push(black_box(block));
    }
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

fn header_crlf() -> Outcome {
    let mut response = text_response(200, "one response\n");
    response.headers.push(Header {
        name: "x-note".to_string(),
        value: "first\r\nx-injected: yes".to_string(),
    });
    response.headers.push(Header {
        name: "x-split\r\nx-injected-name".to_string(),
        value: "yes".to_string(),
    });
    Outcome::Respond(RespondWith {
        response,
        writes: Vec::new(),
    })
}

/// One more read on every call, named after the round, so the host must cut it off.
fn need_forever(input: &Input) -> Outcome {
    Outcome::Need(vec![Read {
        name: format!("round-{}", input.reads.len()),
        op: ReadOp::Count("kv".to_string()),
    }])
}

fn put(collection: &str, key: &str, value: &[u8]) -> Write {
    Write::Put(Put {
        collection: collection.to_string(),
        key: key.to_string(),
        value: value.to_vec(),
        index_keys: Vec::new(),
    })
}

fn text_response(status: u16, body: &str) -> Response {
    Response {
        status,
        headers: vec![Header {
            name: "content-type".to_string(),
            value: TEXT.to_string(),
        }],
        body: body.as_bytes().to_vec(),
    }
}

export_handler!(Hostile);
