//! `Hello, world!` as a standard `wasi:http/proxy` component (std Rust, the `wasip2` bindings):
//! the same answer as the pure `hello` component at `/`-less paths, for the benchmark's
//! `nebula-host serve` vs `wasmtime serve` comparison. Unlike components/http-hello it logs
//! nothing per request.

use std::io::Write as _;

use wasip2::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct Hello;

const BODY: &[u8] = b"Hello, world!\n";

impl wasip2::exports::http::incoming_handler::Guest for Hello {
    fn handle(_request: IncomingRequest, response_out: ResponseOutparam) {
        let headers = Fields::from_list(&[
            ("content-type".into(), b"text/plain; charset=utf-8".to_vec()),
            ("content-length".into(), BODY.len().to_string().into_bytes()),
        ])
        .expect("valid headers");
        let response = OutgoingResponse::new(headers);
        let out = response.body().expect("the body is taken once");
        ResponseOutparam::set(response_out, Ok(response));
        let mut stream = out.write().expect("the stream is taken once");
        stream.write_all(BODY).expect("writing the body");
        stream.flush().expect("flushing the body");
        drop(stream);
        OutgoingBody::finish(out, None).expect("finishing the body");
    }
}

wasip2::http::proxy::export!(Hello);
