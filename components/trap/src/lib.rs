//! Panics, which traps the instance (the SDK's panic handler leaves the message in memory, then
//! executes `unreachable`): the integration test `trap_answers_500_and_the_next_request_is_served`
//! checks the host answers 500, logs the trap with the panic message and keeps serving. With a `calm` query parameter it answers 200 instead, so the test can show
//! the same component still works after a trap.
#![no_std]

use nebula_guest::*;

struct Trap;

impl Guest for Trap {
    fn handle(input: Input) -> Outcome {
        if query_param(&input.request.query, "calm").is_some() {
            return respond(200, "text/plain; charset=utf-8", "calm\n");
        }
        panic!("this component traps on purpose")
    }
}

export_handler!(Trap);
