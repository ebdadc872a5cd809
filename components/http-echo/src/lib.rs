//! A `wasi:http/proxy` component that shows the tests what the host gives a guest
//! (tests/integration/proxy.rs). By path:
//!
//! * `/echo`: streams the request body back as it arrives, with the request's `content-type` and
//!   `trailer` headers, then the request's trailers as response trailers;
//! * `/echo-lenient`: the same, but a failed read ends the body as if it were whole, then finishes
//!   the response (as wasmtime's streaming proxy example does): the host must not let that look
//!   complete;
//! * `/big?bytes=N`: a 200 of `N` bytes;
//! * `/headers`: `METHOD SCHEME AUTHORITY PATH` on the first line, then every request header as
//!   `name: value`, sorted;
//! * `/forbidden`: tries to set each header wasmtime forbids on a response, one line per header:
//!   `name: ok` or `name: refused (...)`;
//! * `/env`: every environment variable, `NAME=value`, sorted;
//! * `/fs`: tries to read the root directory, and says what happened;
//! * `/log`: writes lines to stdout and stderr (and a last one without a newline);
//! * `/drip`: 200, then a line every 50 ms, 100 times; stops quietly when the client is gone.
//!
//! Failures to write (a client that went away) end the handler quietly instead of panicking.

use std::io::Write as _;
use std::time::Duration;

use wasip2::http::types::{
    Fields, IncomingBody, IncomingRequest, Method, OutgoingBody, OutgoingResponse,
    ResponseOutparam, Scheme,
};

struct Echo;

impl wasip2::exports::http::incoming_handler::Guest for Echo {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        match path.split('?').next().unwrap_or_default() {
            "/echo" => echo(request, response_out, false),
            "/echo-lenient" => echo(request, response_out, true),
            "/big" => {
                let n = path
                    .split_once("bytes=")
                    .and_then(|(_, n)| n.parse().ok())
                    .unwrap_or(0);
                text(response_out, &"x".repeat(n));
            }
            "/headers" => text(response_out, &headers(&request)),
            "/forbidden" => text(response_out, &forbidden()),
            "/env" => {
                let mut vars: Vec<String> = std::env::vars()
                    .map(|(k, v)| format!("{k}={v}\n"))
                    .collect();
                vars.sort();
                text(response_out, &vars.concat());
            }
            "/fs" => {
                let answer = match std::fs::read_dir("/") {
                    Ok(entries) => format!("listed {} entries\n", entries.count()),
                    Err(e) => format!("no files: {e}\n"),
                };
                text(response_out, &answer);
            }
            "/log" => {
                println!("to stdout");
                eprintln!("to stderr");
                print!("half a line, ");
                println!("then the rest");
                print!("no newline at the end");
                // std buffers stdout by line; a reactor component has no exit to flush it.
                let _ = std::io::stdout().flush();
                text(response_out, "logged\n");
            }
            "/drip" => drip(response_out),
            _ => text(response_out, "unknown path\n"),
        }
    }
}

/// A 200 text response, written in one piece.
fn text(response_out: ResponseOutparam, body: &str) {
    let headers =
        Fields::from_list(&[("content-type".into(), b"text/plain; charset=utf-8".to_vec())])
            .expect("valid headers");
    let response = OutgoingResponse::new(headers);
    let out = response.body().expect("the body is taken once");
    ResponseOutparam::set(response_out, Ok(response));
    let mut stream = out.write().expect("the stream is taken once");
    if stream
        .write_all(body.as_bytes())
        .and_then(|()| std::io::Write::flush(&mut stream))
        .is_err()
    {
        eprintln!("the client went away");
        return;
    }
    drop(stream);
    let _ = OutgoingBody::finish(out, None);
}

fn echo(request: IncomingRequest, response_out: ResponseOutparam, lenient: bool) {
    let copied: Vec<(String, Vec<u8>)> = request
        .headers()
        .entries()
        .into_iter()
        .filter(|(name, _)| name == "content-type" || name == "trailer")
        .collect();
    let response = OutgoingResponse::new(Fields::from_list(&copied).expect("valid headers"));
    let out = response.body().expect("the body is taken once");
    // The head goes out now, before the request body is read: the response streams.
    ResponseOutparam::set(response_out, Ok(response));

    let body = request.consume().expect("the body is consumed once");
    let mut input = body.stream().expect("the stream is taken once");
    let mut output = out.write().expect("the stream is taken once");
    let mut buf = vec![0; 64 << 10];
    loop {
        match std::io::Read::read(&mut input, &mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if output
                    .write_all(&buf[..n])
                    .and_then(|()| std::io::Write::flush(&mut output))
                    .is_err()
                {
                    eprintln!("the client went away");
                    return;
                }
            }
            Err(e) => {
                eprintln!("reading the request body failed: {e}");
                if lenient {
                    break;
                }
                return;
            }
        }
    }
    drop(input);
    drop(output);
    let trailers = trailers(body);
    if let Err(e) = OutgoingBody::finish(out, trailers) {
        eprintln!("finishing the body failed: {e:?}");
    }
}

/// The request's trailers, once its body has ended.
fn trailers(body: IncomingBody) -> Option<Fields> {
    let future = IncomingBody::finish(body);
    future.subscribe().block();
    match future.get() {
        Some(Ok(Ok(trailers))) => trailers,
        other => {
            eprintln!("no trailers: {other:?}");
            None
        }
    }
}

fn headers(request: &IncomingRequest) -> String {
    let method = match request.method() {
        Method::Get => "GET".to_owned(),
        Method::Head => "HEAD".to_owned(),
        Method::Post => "POST".to_owned(),
        Method::Put => "PUT".to_owned(),
        Method::Delete => "DELETE".to_owned(),
        Method::Connect => "CONNECT".to_owned(),
        Method::Options => "OPTIONS".to_owned(),
        Method::Trace => "TRACE".to_owned(),
        Method::Patch => "PATCH".to_owned(),
        Method::Other(other) => other,
    };
    let scheme = match request.scheme() {
        Some(Scheme::Http) => "http".to_owned(),
        Some(Scheme::Https) => "https".to_owned(),
        Some(Scheme::Other(s)) => s,
        None => "-".to_owned(),
    };
    let authority = request.authority().unwrap_or_else(|| "-".to_owned());
    let path = request.path_with_query().unwrap_or_default();
    let mut lines: Vec<String> = request
        .headers()
        .entries()
        .into_iter()
        .map(|(name, value)| format!("{name}: {}\n", String::from_utf8_lossy(&value)))
        .collect();
    lines.sort();
    format!("{method} {scheme} {authority} {path}\n{}", lines.concat())
}

/// The headers `wasmtime_wasi_http::DEFAULT_FORBIDDEN_HEADERS` lists, and one allowed header.
const TRIED: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "host",
    "http2-settings",
    "x-allowed",
];

fn forbidden() -> String {
    let fields = Fields::new();
    TRIED
        .iter()
        .map(|name| match fields.append(name, b"1") {
            Ok(()) => format!("{name}: ok\n"),
            Err(e) => format!("{name}: refused ({e:?})\n"),
        })
        .collect()
}

fn drip(response_out: ResponseOutparam) {
    let response = OutgoingResponse::new(Fields::new());
    let out = response.body().expect("the body is taken once");
    ResponseOutparam::set(response_out, Ok(response));
    let mut output = out.write().expect("the stream is taken once");
    for i in 0..100 {
        if writeln!(output, "drop {i}")
            .and_then(|()| std::io::Write::flush(&mut output))
            .is_err()
        {
            eprintln!("the client went away after {i} lines");
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(output);
    let _ = OutgoingBody::finish(out, None);
}

wasip2::http::proxy::export!(Echo);
