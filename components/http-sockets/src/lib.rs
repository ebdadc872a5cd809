//! A `wasi:http/proxy` component that opens a TCP connection through Rust's std, so it imports
//! `wasi:sockets/*` besides the proxy world. The host must refuse it at load, naming those
//! imports (tests/integration/proxy.rs): a wasi:http component reaches the network only through
//! `wasi:http/outgoing-handler`, to the hosts it was granted.

use wasip2::http::types::{Fields, IncomingRequest, OutgoingResponse, ResponseOutparam};

struct Sockets;

impl wasip2::exports::http::incoming_handler::Guest for Sockets {
    fn handle(_request: IncomingRequest, response_out: ResponseOutparam) {
        let status = match std::net::TcpStream::connect("127.0.0.1:9") {
            Ok(_) => 200,
            Err(_) => 502,
        };
        let response = OutgoingResponse::new(Fields::new());
        response.set_status_code(status).expect("a valid status");
        ResponseOutparam::set(response_out, Ok(response));
    }
}

wasip2::http::proxy::export!(Sockets);
