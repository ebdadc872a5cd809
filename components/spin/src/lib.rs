//! Loops forever: the integration test `endless_loop_is_cut_off_by_the_deadline` checks the host
//! stops it at the route's timeout (504) and keeps serving. With a `calm` query parameter it
//! answers 200 instead, so the test can show the same component still works afterwards.
#![no_std]

use core::hint::black_box;
use nebula_guest::*;

struct Spin;

impl Guest for Spin {
    fn handle(input: Input) -> Outcome {
        if query_param(&input.request.query, "calm").is_some() {
            return respond(200, "text/plain; charset=utf-8", "calm\n");
        }
        // `black_box` hides the counter from the optimizer, so the loop stays in the code.
        let mut turns: u64 = 0;
        loop {
            turns = black_box(turns.wrapping_add(1));
        }
    }
}

export_handler!(Spin);
