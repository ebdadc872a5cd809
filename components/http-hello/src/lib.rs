//! The smallest useful `wasi:http/proxy` component, written as any wasi:http guest would be:
//! std Rust and the `wasip2` bindings, nothing of Nebula. It greets the last path segment
//! (`GET /hello/ada` -> `Hello, ada!`), and writes a line to stdout and one to stderr per request
//! so the tests can see the host's log prefix. tests/integration/proxy.rs serves it both with
//! `nebula-host serve` and from a manifest route and expects the same answer.

use std::io::Write as _;

use wasip2::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct Hello;

impl wasip2::exports::http::incoming_handler::Guest for Hello {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        let path = path.split('?').next().unwrap_or_default();
        let name = match path.rsplit('/').next() {
            Some(name) if !name.is_empty() => name,
            _ => "world",
        };
        println!("greeting {name}");
        eprintln!("done greeting {name}");

        let body = format!("Hello, {name}!\n");
        let headers = Fields::from_list(&[
            ("content-type".into(), b"text/plain; charset=utf-8".to_vec()),
            ("content-length".into(), body.len().to_string().into_bytes()),
        ])
        .expect("valid headers");
        let response = OutgoingResponse::new(headers);
        let out = response.body().expect("the body is taken once");
        ResponseOutparam::set(response_out, Ok(response));
        let mut stream = out.write().expect("the stream is taken once");
        stream.write_all(body.as_bytes()).expect("writing the body");
        stream.flush().expect("flushing the body");
        drop(stream);
        OutgoingBody::finish(out, None).expect("finishing the body");
    }
}

wasip2::http::proxy::export!(Hello);
