//! An impure handler: it opens a TCP connection through Rust's std, so the component imports
//! `wasi:sockets/*` (and the `wasi:cli`/`wasi:io` interfaces std needs). The host must refuse it;
//! the integration tests in tests/integration/purity.rs check that `check`, `up` and `inspect` do,
//! naming the `wasi:sockets` imports. Unlike the other guests it does not use `nebula-guest`'s
//! no_std setup, because the point is to be what an ordinary std crate compiles to.

wit_bindgen::generate!({
    path: "../../wit/0.1.0",
    world: "nebula:pure/handler",
});

use nebula::pure::types::{Header, Response};

struct Sockets;

impl Guest for Sockets {
    fn handle(_input: Input) -> Outcome {
        // Port 9 is "discard"; whether the connection succeeds does not matter, only that the
        // component needs the import to try.
        let body = match std::net::TcpStream::connect("127.0.0.1:9") {
            Ok(_) => "connected\n".to_string(),
            Err(err) => format!("connect failed: {err}\n"),
        };
        let response = Response {
            status: 200,
            headers: vec![Header {
                name: "content-type".to_string(),
                value: "text/plain; charset=utf-8".to_string(),
            }],
            body: body.into_bytes(),
        };
        Outcome::Respond((response, Vec::new()))
    }
}

export!(Sockets);
