//! Allocates and touches memory 1 MiB at a time, forever, until the host's memory cap stops it:
//! the integration test `memory_hog_hits_the_cap_and_the_next_request_is_served` checks the host
//! answers 500 and keeps serving. With a `calm` query parameter it answers 200 instead, so the test
//! can show the same component still works afterwards.
#![no_std]

use core::hint::black_box;
use nebula_guest::*;

const STEP: usize = 1 << 20;
const PAGE: usize = 4096;

struct Hog;

impl Guest for Hog {
    fn handle(input: Input) -> Outcome {
        if query_param(&input.request.query, "calm").is_some() {
            return respond(200, "text/plain; charset=utf-8", "calm\n");
        }
        // Every block is kept and every page of it written, through `black_box` so the optimizer
        // can neither drop the allocation nor the writes. When the cap refuses to grow memory,
        // allocation fails and the failure traps.
        let mut kept: Vec<Vec<u8>> = Vec::new();
        loop {
            let mut block = vec![0u8; STEP];
            for offset in (0..STEP).step_by(PAGE) {
                block[offset] = black_box(1);
            }
            kept.push(black_box(block));
        }
    }
}

export_handler!(Hog);
