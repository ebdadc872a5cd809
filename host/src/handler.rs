//! The request path, in one function: route → read → call pure → write → respond.
//!
//! HTTP types stay in `server`; this module works on plain data so that every step of the path is
//! visible here and nowhere else.

use bytes::Bytes;

use crate::app::{App, Route};
use crate::component::{CallError, Header, Input, Outcome, Request, Response, Write};
use crate::effects::Effects;
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
pub async fn handle(app: &App, head: Head, body: impl BodySource) -> Reply {
    // 1. Route.
    let (route, params) = match app.route(&head.method, &head.path) {
        Routed::Found { route, params } => (&app.routes[route], params),
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
/// (`[startup]`) through here.
pub async fn run(
    app: &App,
    route: &Route,
    head: Head,
    params: Vec<(String, String)>,
    body: Bytes,
) -> Reply {
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
    let (response, writes) = match call_steps(app, route, &mut input).await {
        Ok(done) => done,
        Err(reply) => return reply,
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
                return Reply::text(500, "internal error: the request's writes were not applied");
            }
            Err(e) => {
                eprintln!("error: {}: write task failed: {e}", route.label);
                return Reply::text(500, "internal error");
            }
        }
    }

    // 5. Respond.
    respond(route, response)
}

/// Runs the route's steps in order; `Err` is the error reply to send (nothing gets written).
async fn call_steps(
    app: &App,
    route: &Route,
    input: &mut Input,
) -> Result<(Response, Vec<Write>), Reply> {
    let mut writes = Vec::new();
    for (i, step) in route.steps.iter().enumerate() {
        let mut rounds = 0;
        loop {
            let outcome = app
                .runtime
                .call_pure(&step.component, step.limits, input)
                .await;
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

fn respond(route: &Route, response: Response) -> Reply {
    if !(100..=599).contains(&response.status) {
        eprintln!(
            "error: {}: handler answered invalid status {}",
            route.label, response.status
        );
        return Reply::text(500, "internal error: invalid status");
    }
    let headers = response
        .headers
        .into_iter()
        .filter(|h| !SERVER_HEADERS.contains(&h.name.to_ascii_lowercase().as_str()))
        .map(|h| (h.name, h.value))
        .collect();
    Reply {
        status: response.status,
        headers,
        body: Bytes::from(response.body),
    }
}
