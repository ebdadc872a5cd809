//! A `wasi:http/proxy` component that makes outbound requests (tests/integration/proxy.rs).
//! By the last segment of the path:
//!
//! * `/hash`: fetches every URL given in `url` request headers, all requests in flight at once,
//!   and answers one line per URL, in order: `URL SHA256-HEX`, or `URL error: ERROR-CODE` (for
//!   example `HttpRequestDenied` for a host the component was not granted);
//! * `/forward`: sends the request (method, headers, body, streamed) to the URL in its
//!   `x-forward-to` header and streams the upstream's status, headers and body back; a failure
//!   to reach the upstream is a 502 whose body is the error code.

use std::io::Write as _;

use sha2::{Digest as _, Sha256};
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, FutureIncomingResponse, IncomingRequest, IncomingResponse, Method,
    OutgoingBody, OutgoingRequest, OutgoingResponse, ResponseOutparam, Scheme,
};

struct Fetch;

impl wasip2::exports::http::incoming_handler::Guest for Fetch {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        let path = path.split('?').next().unwrap_or_default();
        match path.rsplit('/').next().unwrap_or_default() {
            "hash" => hash(&request, response_out),
            "forward" => forward(request, response_out),
            _ => respond(response_out, 404, "unknown path\n"),
        }
    }
}

fn respond(response_out: ResponseOutparam, status: u16, body: &str) {
    let response = OutgoingResponse::new(Fields::new());
    response.set_status_code(status).expect("a valid status");
    let out = response.body().expect("the body is taken once");
    ResponseOutparam::set(response_out, Ok(response));
    let mut stream = out.write().expect("the stream is taken once");
    if stream
        .write_all(body.as_bytes())
        .and_then(|()| std::io::Write::flush(&mut stream))
        .is_ok()
    {
        drop(stream);
        let _ = OutgoingBody::finish(out, None);
    }
}

fn hash(request: &IncomingRequest, response_out: ResponseOutparam) {
    let urls: Vec<String> = request
        .headers()
        .get("url")
        .into_iter()
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .collect();
    // Start every request before waiting for any: they are in flight together.
    let pending: Vec<Result<FutureIncomingResponse, ErrorCode>> =
        urls.iter().map(|url| get(url)).collect();
    let mut answer = String::new();
    for (url, pending) in urls.iter().zip(pending) {
        let line = match pending.and_then(wait).and_then(|r| digest(&r)) {
            Ok(hex) => format!("{url} {hex}\n"),
            Err(code) => format!("{url} error: {code:?}\n"),
        };
        answer.push_str(&line);
    }
    respond(response_out, 200, &answer);
}

/// Starts `GET url`.
fn get(url: &str) -> Result<FutureIncomingResponse, ErrorCode> {
    let request = OutgoingRequest::new(Fields::new());
    aim(&request, url)?;
    outgoing_handler::handle(request, None)
}

/// Sets scheme, authority and path of `request` from an absolute `http(s)://` URL.
fn aim(request: &OutgoingRequest, url: &str) -> Result<(), ErrorCode> {
    let (scheme, rest) = match url.split_once("://") {
        Some(("http", rest)) => (Scheme::Http, rest),
        Some(("https", rest)) => (Scheme::Https, rest),
        _ => return Err(ErrorCode::HttpRequestUriInvalid),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    let invalid = |()| ErrorCode::HttpRequestUriInvalid;
    request.set_scheme(Some(&scheme)).map_err(invalid)?;
    request.set_authority(Some(authority)).map_err(invalid)?;
    request.set_path_with_query(Some(path)).map_err(invalid)
}

/// Waits for a response.
fn wait(pending: FutureIncomingResponse) -> Result<IncomingResponse, ErrorCode> {
    pending.subscribe().block();
    match pending.get() {
        Some(Ok(result)) => result,
        Some(Err(())) | None => Err(ErrorCode::InternalError(Some("response taken".into()))),
    }
}

/// SHA-256 of a response body, read as it streams in, as lowercase hex.
fn digest(response: &IncomingResponse) -> Result<String, ErrorCode> {
    let body = response
        .consume()
        .map_err(|()| ErrorCode::HttpProtocolError)?;
    let mut stream = body.stream().map_err(|()| ErrorCode::HttpProtocolError)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 64 << 10];
    loop {
        match std::io::Read::read(&mut stream, &mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) => return Err(ErrorCode::InternalError(Some(e.to_string()))),
        }
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn forward(request: IncomingRequest, response_out: ResponseOutparam) {
    let headers = request.headers();
    let Some(target) = headers.get("x-forward-to").into_iter().next() else {
        return respond(response_out, 400, "no x-forward-to header\n");
    };
    let target = String::from_utf8_lossy(&target).into_owned();
    let copied: Vec<(String, Vec<u8>)> = headers
        .entries()
        .into_iter()
        .filter(|(name, _)| name != "x-forward-to")
        .collect();
    let outgoing = OutgoingRequest::new(Fields::from_list(&copied).expect("valid headers"));
    let method: Method = request.method();
    outgoing.set_method(&method).expect("a valid method");
    if let Err(code) = aim(&outgoing, &target) {
        return respond(response_out, 502, &format!("forward failed: {code:?}\n"));
    }
    let outgoing_body = outgoing.body().expect("the body is taken once");
    let pending = match outgoing_handler::handle(outgoing, None) {
        Ok(pending) => pending,
        Err(code) => return respond(response_out, 502, &format!("forward failed: {code:?}\n")),
    };

    // Stream the request body up while the upstream may already answer.
    let incoming = request.consume().expect("the body is consumed once");
    let copied = copy(
        &mut incoming.stream().expect("the stream is taken once"),
        &mut outgoing_body.write().expect("the stream is taken once"),
    );
    if copied.is_err() || OutgoingBody::finish(outgoing_body, None).is_err() {
        return respond(
            response_out,
            502,
            "forward failed: the request body broke\n",
        );
    }

    let upstream = match wait(pending) {
        Ok(upstream) => upstream,
        Err(code) => return respond(response_out, 502, &format!("forward failed: {code:?}\n")),
    };
    let headers = upstream.headers().clone();
    let response = OutgoingResponse::new(headers);
    response
        .set_status_code(upstream.status())
        .expect("a valid status");
    let out = response.body().expect("the body is taken once");
    ResponseOutparam::set(response_out, Ok(response));
    let body = upstream.consume().expect("the body is consumed once");
    let copied = copy(
        &mut body.stream().expect("the stream is taken once"),
        &mut out.write().expect("the stream is taken once"),
    );
    match copied {
        Ok(()) => {
            let _ = OutgoingBody::finish(out, None);
        }
        Err(e) => eprintln!("forwarding the response body failed: {e}"),
    }
}

fn copy(from: &mut impl std::io::Read, to: &mut impl std::io::Write) -> std::io::Result<()> {
    let mut buf = vec![0; 64 << 10];
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            return to.flush();
        }
        to.write_all(&buf[..n])?;
    }
}

wasip2::http::proxy::export!(Fetch);
