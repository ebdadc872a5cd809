//! A `wasi:http/proxy` component that fails in every way the host must survive
//! (tests/integration/proxy.rs). Built with the older `wasi` 0.13 bindings (WASI 0.2.2) on purpose,
//! where the other wasi:http guests use 0.2.12. By path:
//!
//! * `/never`: returns without setting a response;
//! * `/trap`: panics before setting a response;
//! * `/partial`: sets a response, writes part of the body, then panics;
//! * `/spin`: loops forever in wasm;
//! * `/sleep`: waits 60 s on a host clock (blocked in the host, not in wasm);
//! * `/error`: sets the response to an error code;
//! * anything else: 200 `calm`.

use std::io::Write as _;
use std::time::Duration;

use wasi::http::types::{
    ErrorCode, Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct Misbehave;

impl wasi::exports::http::incoming_handler::Guest for Misbehave {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        match path.split('?').next().unwrap_or_default() {
            "/never" => drop(response_out),
            "/trap" => panic!("asked to trap"),
            "/partial" => {
                let response = OutgoingResponse::new(Fields::new());
                let out = response.body().expect("the body is taken once");
                ResponseOutparam::set(response_out, Ok(response));
                let mut stream = out.write().expect("the stream is taken once");
                let _ = stream.write_all(b"the first half, ");
                let _ = stream.flush();
                panic!("asked to trap halfway through the body");
            }
            "/spin" => {
                let mut n = 0u64;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "/sleep" => {
                std::thread::sleep(Duration::from_secs(60));
                calm(response_out);
            }
            "/error" => ResponseOutparam::set(
                response_out,
                Err(ErrorCode::InternalError(Some("asked to fail".into()))),
            ),
            _ => calm(response_out),
        }
    }
}

fn calm(response_out: ResponseOutparam) {
    let response = OutgoingResponse::new(Fields::new());
    let out = response.body().expect("the body is taken once");
    ResponseOutparam::set(response_out, Ok(response));
    let mut stream = out.write().expect("the stream is taken once");
    if stream
        .write_all(b"calm\n")
        .and_then(|()| std::io::Write::flush(&mut stream))
        .is_ok()
    {
        drop(stream);
        let _ = OutgoingBody::finish(out, None);
    }
}

wasi::http::proxy::export!(Misbehave);
