//! The request path, in one function: route → read → call pure → write → respond.
//!
//! HTTP types stay in `server`; this module works on plain data so that every step of the path is
//! visible here and nowhere else.

use bytes::Bytes;

use crate::app::{App, Route};
use std::sync::Arc;

use crate::component::{CallError, Header, Input, Outcome, ReadOp, Request, Response, Write};
use crate::effects::Effects;
use crate::manifest::ReadDeclOp;
use crate::memo::{self, Cached, Key, Lookup};
use crate::router::Routed;

/// Rounds of "I also need these reads" a step may ask for before the host gives up.
pub const MAX_READ_ROUNDS: usize = 4;

/// The parts of an HTTP request the path needs before the body.
#[derive(Debug)]
pub struct Head {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<Header>,
    /// The client's address, for per-client rate limits; `None` for the host's own requests.
    pub peer: Option<std::net::IpAddr>,
}

/// The body, read only once the route (and so its size limit) is known.
pub trait BodySource {
    /// Reads the whole body; `Err(TooLarge)` past `limit` bytes.
    fn read(self, limit: u64) -> impl Future<Output = Result<Bytes, BodyError>> + Send;
}

#[derive(Debug)]
pub enum BodyError {
    TooLarge,
    Broken(String),
}

/// What goes back to the client.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Reply {
    pub fn text(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
            body: Bytes::from(format!("{body}\n")),
        }
    }
}

/// Serves one request.
pub async fn handle(app: &App, mut head: Head, body: impl BodySource) -> Reply {
    // 1. Route, and let the route's guards admit the request (before reading its body).
    let (route, params) = match app.route(&head.method, &head.path) {
        Routed::Found { route, params } => {
            if let Err(reply) = app.guards.admit(route, head.peer, &mut head.headers) {
                return reply;
            }
            (&app.routes[route], params)
        }
        Routed::NotFound => return Reply::text(404, "not found"),
        Routed::MethodNotAllowed { allow } => {
            let mut reply = Reply::text(405, "method not allowed");
            reply.headers.push(("allow".into(), allow.join(", ")));
            return reply;
        }
    };
    let body = match body.read(route.decl.max_body).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => {
            return Reply::text(
                413,
                &format!("request body is larger than {} bytes", route.decl.max_body),
            );
        }
        Err(BodyError::Broken(e)) => {
            eprintln!(
                "warning: {}: reading the request body failed: {e}",
                route.label
            );
            return Reply::text(400, "could not read the request body");
        }
    };

    run(app, route, head, params, body).await
}

/// Steps 2–5 for a routed request whose body is read; the host also runs internal routes
/// (`[startup]`) through here. Memoizable routes go through the memo first.
pub async fn run(
    app: &App,
    route: &Route,
    mut head: Head,
    params: Vec<(String, String)>,
    body: Bytes,
) -> Reply {
    if !route.memo {
        return execute(app, route, head, params, body).await.0;
    }
    // Conditional requests are answered by the host from the memoized reply's ETag; the handler
    // never sees them, so they do not split the key.
    let if_none_match = take_header(&mut head.headers, "if-none-match");
    let key = memo_key(app, route, &head, &params, &body);
    let (cached, how) = match app.memo.lookup(key) {
        Lookup::Hit(cached) => (cached, "hit"),
        Lookup::Wait(mut rx) => {
            let waited = rx.wait_for(Option::is_some).await.map(|done| done.clone());
            match waited {
                Ok(done) => (done.expect("waited for Some"), "shared"),
                // The leader's client went away before it finished: run it here.
                Err(_) => {
                    let reply = execute(app, route, head, params, body).await.0;
                    (Arc::new(to_cached(reply, &key)), "miss")
                }
            }
        }
        Lookup::Run(flight) => {
            let (reply, read_clock) = execute(app, route, head, params, body).await;
            let store = !read_clock && reply.status < 500;
            let cached = Arc::new(to_cached(reply, &key));
            flight.finish(cached.clone(), store);
            (cached, "miss")
        }
    };
    let mut reply = match if_none_match {
        Some(tags)
            if (200..300).contains(&cached.status) && memo::none_match(&tags, &cached.etag) =>
        {
            let mut headers = vec![("etag".to_owned(), cached.etag.clone())];
            headers.extend(
                cached
                    .headers
                    .iter()
                    .filter(|(n, _)| {
                        n.eq_ignore_ascii_case("cache-control") || n.eq_ignore_ascii_case("vary")
                    })
                    .cloned(),
            );
            Reply {
                status: 304,
                headers,
                body: Bytes::new(),
            }
        }
        _ => cached.to_reply(),
    };
    // Says how the reply was made: `hit` (stored), `shared` (a concurrent identical request's) or
    // `miss` (executed now). Useful for clients debugging caches, and for the tests.
    reply
        .headers
        .push(("x-nebula-memo".to_owned(), how.to_owned()));
    reply
}

fn take_header(headers: &mut Vec<Header>, name: &str) -> Option<String> {
    let i = headers.iter().position(|h| h.name == name)?;
    Some(headers.remove(i).value)
}

/// Everything a memoizable route's reply depends on: its components, the versions of what it may
/// read, and the whole request as the handler sees it. Fields are length-prefixed.
fn memo_key(
    app: &App,
    route: &Route,
    head: &Head,
    params: &[(String, String)],
    body: &[u8],
) -> Key {
    let mut h = blake3::Hasher::new();
    let mut field = |bytes: &[u8]| {
        h.update(&(bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    field(route.label.as_bytes());
    for step in &route.steps {
        field(&step.component.digest);
    }
    for version in app.effects.versions(&route.decl.may_read) {
        field(&version.to_le_bytes());
    }
    field(head.method.as_bytes());
    field(head.path.as_bytes());
    field(head.query.as_bytes());
    for header in &head.headers {
        field(header.name.as_bytes());
        field(header.value.as_bytes());
    }
    for (name, value) in params {
        field(name.as_bytes());
        field(value.as_bytes());
    }
    field(body);
    *h.finalize().as_bytes()
}

fn to_cached(mut reply: Reply, key: &Key) -> Cached {
    let etag = match reply
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("etag"))
    {
        Some((_, etag)) => etag.clone(),
        None => {
            let etag = memo::etag_for(key);
            reply.headers.push(("etag".to_owned(), etag.clone()));
            etag
        }
    };
    Cached {
        status: reply.status,
        headers: reply.headers,
        body: reply.body,
        etag,
    }
}

/// Reads, calls and writes for one request; also says whether the handler read the clock.
async fn execute(
    app: &App,
    route: &Route,
    head: Head,
    params: Vec<(String, String)>,
    body: Bytes,
) -> (Reply, bool) {
    // 2. Read what the manifest declared.
    let declared = Effects::declared(&route.decl, &params, &head.query);
    let reads = app.effects.read(&route.decl, &declared);
    let request = Request {
        method: head.method,
        path: head.path,
        route: route.decl.path.to_string(),
        query: head.query,
        headers: head.headers,
        body: body.to_vec(),
        params,
    };
    let mut input = Input {
        request,
        reads,
        carried: None,
    };

    // 3. Call the pure steps, with dynamic reads between calls.
    let mut read_clock = route
        .decl
        .reads
        .iter()
        .any(|r| matches!(r.op, ReadDeclOp::Now));
    let (response, writes) = match call_steps(app, route, &mut input, &mut read_clock).await {
        Ok(done) => done,
        Err(reply) => return (reply, read_clock),
    };

    // The response must be valid before anything is written: a rejected reply writes nothing.
    let reply = match respond(route, response) {
        Ok(reply) => reply,
        Err(reply) => return (reply, read_clock),
    };

    // 4. Write, atomically and durably, before anything is sent.
    if !writes.is_empty() {
        let effects = app.effects.clone();
        let decl = route.decl.clone();
        let result = tokio::task::spawn_blocking(move || effects.write(&decl, writes)).await;
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                eprintln!("error: {}: writes not applied: {e}", route.label);
                let reply =
                    Reply::text(500, "internal error: the request's writes were not applied");
                return (reply, read_clock);
            }
            Err(e) => {
                eprintln!("error: {}: write task failed: {e}", route.label);
                return (Reply::text(500, "internal error"), read_clock);
            }
        }
    }

    // 5. Respond.
    (reply, read_clock)
}

/// Runs the route's steps in order; `Err` is the error reply to send (nothing gets written).
async fn call_steps(
    app: &App,
    route: &Route,
    input: &mut Input,
    read_clock: &mut bool,
) -> Result<(Response, Vec<Write>), Reply> {
    let mut writes = Vec::new();
    for (i, step) in route.steps.iter().enumerate() {
        let mut rounds = 0;
        loop {
            let component = step.component.get(&app.runtime).await.map_err(|e| {
                eprintln!("error: {}: {e:#}", route.label);
                Reply::text(500, "internal error: the handler could not be loaded")
            })?;
            let outcome = app.runtime.call_pure(&component, step.limits, input).await;
            let outcome = outcome.map_err(|e| call_failed(route, &step.component.id, e))?;
            match outcome {
                Outcome::Respond((response, w)) => {
                    writes.extend(w);
                    return Ok((response, writes));
                }
                Outcome::Pass((data, w)) => {
                    writes.extend(w);
                    if i + 1 == route.steps.len() {
                        eprintln!(
                            "error: {}: component `{}` passed data on, but it is the last step",
                            route.label, step.component.id
                        );
                        return Err(Reply::text(
                            500,
                            "internal error: the pipeline produced no response",
                        ));
                    }
                    input.carried = Some(data);
                    break;
                }
                Outcome::Need(reads) => {
                    rounds += 1;
                    if rounds > MAX_READ_ROUNDS {
                        eprintln!(
                            "error: {}: component `{}` asked for reads more than {MAX_READ_ROUNDS} times",
                            route.label, step.component.id
                        );
                        return Err(Reply::text(500, "internal error: too many read rounds"));
                    }
                    *read_clock |= reads.iter().any(|r| matches!(r.op, ReadOp::Now));
                    let results = app.effects.read(&route.decl, &reads);
                    input.reads.extend(results);
                }
            }
        }
    }
    unreachable!("a route has at least one step, and the last step either responds or errors")
}

fn call_failed(route: &Route, component: &str, e: CallError) -> Reply {
    eprintln!("error: {}: component `{component}` {e}", route.label);
    match e {
        CallError::Timeout(_) => Reply::text(504, "the handler ran past its deadline"),
        CallError::MemoryCap { .. } | CallError::Trap(_) => {
            Reply::text(500, "internal error: the handler failed")
        }
    }
}

/// Hop-by-hop and framing headers are the server's business, not the handler's (RFC 9110 §7.6.1).
const SERVER_HEADERS: &[&str] = &[
    "connection",
    "content-length",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "proxy-connection",
    "te",
    "trailer",
];

/// The handler's response as a reply, or the 500 to send instead when it is invalid.
fn respond(route: &Route, response: Response) -> Result<Reply, Reply> {
    if !(100..=599).contains(&response.status) {
        eprintln!(
            "error: {}: handler answered invalid status {}; nothing written",
            route.label, response.status
        );
        return Err(Reply::text(500, "internal error: invalid status"));
    }
    let headers = response
        .headers
        .into_iter()
        .filter(|h| !SERVER_HEADERS.contains(&h.name.to_ascii_lowercase().as_str()))
        .map(|h| (h.name, h.value))
        .collect();
    Ok(Reply {
        status: response.status,
        headers,
        body: Bytes::from(response.body),
    })
}
