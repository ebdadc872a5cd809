//! The request path, in one place: the server hands each request over to [`handle`], which
//! routes it once and decides pure or `wasi:http`; a pure request goes route → read → call pure →
//! write → respond (steps 2–6 of lib.rs), through the memo when its route qualifies.
//!
//! HTTP stays in `server`: this module sees an `http::Request` (the vocabulary wasi:http
//! components speak too) and gives back an [`Answer`], whole or streamed.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use crate::app::{App, Route};
use crate::component::proxy::{Grants, ProxyBody, ProxyCall};
use crate::component::{CallUsage, Input, Outcome, ReadOp, Request, Response, Write};
use crate::effects::{Effects, Reader, StoreError};
use crate::manifest::ReadDeclOp;
use crate::memo::{self, Fresh, Memoized};
use crate::metering::{Answered, Metering, RouteMeter, Tally};
use crate::reply::{Reply, is_server_header};
use crate::request::{BodyError, BodySource, Head, Whole};
use crate::router::{MethodMatch, Routed};

/// Rounds of "I also need these reads" a step may ask for before the host gives up.
pub const MAX_READ_ROUNDS: usize = 4;

/// What goes back to the client.
#[derive(Debug)]
pub enum Answer {
    /// Made whole: a pure handler's response, or the host's own.
    Whole(Reply),
    /// Streamed from a `wasi:http` component.
    Streamed(http::Response<ProxyBody>),
}

impl Answer {
    fn status(&self) -> u16 {
        match self {
            Answer::Whole(reply) => reply.status,
            Answer::Streamed(response) => response.status().as_u16(),
        }
    }

    /// The body's length: whole, or as declared when streamed (0 when not declared).
    fn body_len(&self) -> u64 {
        match self {
            Answer::Whole(reply) => reply.body.len() as u64,
            Answer::Streamed(response) => content_length(response.headers()),
        }
    }
}

fn content_length(headers: &http::HeaderMap) -> u64 {
    headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .unwrap_or(0)
}

/// How the memo took part in a request, for the access log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MemoUse {
    /// The route does not qualify (or the request was not routed).
    Off,
    Used(Memoized),
}

impl MemoUse {
    fn as_str(self) -> &'static str {
        match self {
            MemoUse::Off => "off",
            MemoUse::Used(how) => how.as_str(),
        }
    }

    fn used(self) -> Option<Memoized> {
        match self {
            MemoUse::Off => None,
            MemoUse::Used(how) => Some(how),
        }
    }
}

/// One request, answered: counted by its route's meter and written to the access log.
struct Finished<'a> {
    metering: &'a Metering,
    meter: &'a RouteMeter,
    method: &'a str,
    route: &'a str,
    components: &'a str,
    start: Instant,
    memo: MemoUse,
    tally: &'a Tally,
}

impl Finished<'_> {
    fn record(self, answer: &Answer) {
        let answered = Answered {
            status: answer.status(),
            elapsed: self.start.elapsed(),
            memo: self.memo.used(),
            bytes_out: answer.body_len(),
        };
        self.metering.request(self.meter, &answered, self.tally);
        let (status, cpu_us) = (answered.status, self.tally.cpu_us());
        let (method, route, memo) = (self.method, self.route, self.memo.as_str());
        crate::log::access(
            method,
            route,
            status,
            self.start,
            self.components,
            memo,
            cpu_us,
        );
    }
}

/// Serves one request: the one place that routes it and decides how it is answered.
pub async fn handle<B>(app: &App, request: http::Request<B>, peer: IpAddr) -> Answer
where
    B: hyper::body::Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<wasmtime_wasi_http::Error> + Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let start = Instant::now();
    // `--idle-exit` counts from the last request that arrived, routed or not.
    app.activity.record();
    let method = request.method().as_str().to_owned();
    let tally = Tally::default();
    let finished = Finished {
        metering: &app.metering,
        meter: &app.metering.unrouted,
        method: &method,
        route: "-",
        components: "-",
        start,
        memo: MemoUse::Off,
        tally: &tally,
    };

    // 2. Route, once: not found, wrong method, a wasi:http component, or a pure route.
    let (route, params) = match app.route(&method, request.uri().path()) {
        Routed::Found { route, params } => (route, params),
        Routed::NotFound => {
            let answer = Answer::Whole(Reply::not_found());
            finished.record(&answer);
            return answer;
        }
        Routed::MethodNotAllowed { allow } => {
            let answer = Answer::Whole(Reply::method_not_allowed(&allow));
            finished.record(&answer);
            return answer;
        }
    };
    let (index, route) = (route, &app.routes[route]);
    let (answer, memo) = match route.proxy() {
        // The component streams the request and its response itself: steps 3–5 are its own.
        Some(grants) => {
            tally.bytes_in(content_length(request.headers()) as usize);
            (proxy(app, route, grants, request).await, MemoUse::Off)
        }
        None => {
            let (parts, body) = request.into_parts();
            let mut head = Head::of(&parts, Some(peer));
            // The route's guards admit the request (or not) before its body is read.
            match app.guards.admit(index, head.peer, &mut head.headers) {
                Ok(()) => {
                    let (reply, memo) = pure(app, route, head, params, Whole(body), &tally).await;
                    (Answer::Whole(reply), memo)
                }
                Err(reply) => (Answer::Whole(reply), MemoUse::Off),
            }
        }
    };
    Finished {
        meter: &route.meter,
        route: route.decl.path.as_str(),
        components: &route.components,
        memo,
        ..finished
    }
    .record(&answer);
    answer
}

/// A pure route: reads the body within the route's limit, then runs the route (through the memo
/// when it qualifies).
async fn pure(
    app: &App,
    route: &Route,
    head: Head,
    params: Vec<(String, String)>,
    body: impl BodySource,
    tally: &Tally,
) -> (Reply, MemoUse) {
    match read_body(&route.label, route.decl.max_body, body).await {
        Ok(body) => {
            tally.bytes_in(body.len());
            run(app, route, head, params, body, tally).await
        }
        Err(reply) => (reply, MemoUse::Off),
    }
}

/// The whole body, or the reply to send when it is too large (413) or broken (400).
async fn read_body(label: &str, limit: u64, body: impl BodySource) -> Result<Bytes, Reply> {
    match body.read(limit).await {
        Ok(body) => Ok(body),
        Err(BodyError::TooLarge) => Err(Reply::body_too_large(limit)),
        Err(e) => {
            tracing::warn!(
                route = %label,
                "{label}: reading the request body failed: {}",
                crate::log::Chain(&e)
            );
            Err(Reply::unreadable_body())
        }
    }
}

/// A `wasi:http` route: the request, unread, to its component; the response streams back.
/// Failures are logged where they happen; here they only become a status.
async fn proxy<B>(
    app: &App,
    route: &Route,
    grants: &Arc<Grants>,
    request: http::Request<B>,
) -> Answer
where
    B: hyper::body::Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<wasmtime_wasi_http::Error>,
{
    let step = &route.steps[0];
    let component = match step.component.get(&app.runtime).await {
        Ok(component) => component,
        Err(e) => {
            tracing::error!(
                route = %route.label,
                component = %step.component.id,
                "{}: loading component `{}`: {}",
                route.label,
                step.component.id,
                crate::log::Chain(&e)
            );
            return Answer::Whole(Reply::load_failed());
        }
    };
    let call = ProxyCall {
        limits: step.limits,
        on_usage: Some(crate::metering::after_stream(
            step.meter.clone(),
            route.meter.clone(),
        )),
        max_body: route.decl.max_body,
        grants,
        label: &route.label,
    };
    match app.runtime.call_proxy(&component, call, request).await {
        Ok(response) => Answer::Streamed(response),
        Err(e) => Answer::Whole(Reply::proxy_failed(&e)),
    }
}

/// Steps 3–6 for a routed pure request whose body is read; the host also runs internal routes
/// (`[startup]`) through here. Memoizable routes go through the memo, which may answer without
/// running them.
async fn run(
    app: &App,
    route: &Route,
    mut head: Head,
    params: Vec<(String, String)>,
    body: Bytes,
    tally: &Tally,
) -> (Reply, MemoUse) {
    // One snapshot for the whole request: the memo versions, the declared reads and every
    // `need` round read the same state of the store.
    let mut reader = app.effects.reader();
    if !route.memo {
        return (
            execute(app, route, head, params, body, reader, tally)
                .await
                .reply,
            MemoUse::Off,
        );
    }
    let if_none_match = memo::take_conditional(&mut head);
    let versions = match reader.versions(&route.decl.may_read).await {
        Ok(versions) => versions,
        Err(e) => return (store_failed(route, &e), MemoUse::Off),
    };
    let key = memo::key(
        &route.label,
        route.steps.iter().map(|s| &s.component.digest),
        versions,
        &head,
        &params,
        &body,
    );
    let execute = || execute(app, route, head, params, body, reader, tally);
    let (reply, how) = app.memo.answer(key, if_none_match, execute).await;
    (reply, MemoUse::Used(how))
}

/// Reads, calls and writes for one request; also says whether the handler read the clock.
async fn execute(
    app: &App,
    route: &Route,
    head: Head,
    params: Vec<(String, String)>,
    body: Bytes,
    mut reader: Reader<'_>,
    tally: &Tally,
) -> Fresh {
    let mut read_clock = route
        .decl
        .reads
        .iter()
        .any(|r| matches!(r.op, ReadDeclOp::Now));
    // 3. Read what the manifest declared.
    let declared = Effects::declared(&route.decl, &params, &head.query);
    let reads = match reader.read(&route.decl, &declared).await {
        Ok(reads) => {
            tally.reads(reads.len());
            reads
        }
        Err(e) => {
            let reply = store_failed(route, &e);
            return Fresh { reply, read_clock };
        }
    };
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

    // 4. Call the pure steps, with dynamic reads between calls.
    let called = call_steps(app, route, &mut input, &mut reader, &mut read_clock, tally).await;
    let (response, writes) = match called {
        Ok(done) => done,
        Err(reply) => return Fresh { reply, read_clock },
    };

    // The response must be valid before anything is written: a rejected reply writes nothing.
    let reply = match respond(&route.label, response) {
        Ok(reply) => reply,
        Err(reply) => return Fresh { reply, read_clock },
    };

    // 5. Write, atomically and durably, before anything is sent.
    let (writing, committing) = (writes.len(), Instant::now());
    let written = app.effects.write(&route.decl, writes).await;
    app.metering.store_commit.observe(committing.elapsed());
    if let Err(e) = written {
        tracing::error!(
            route = %route.label,
            "{}: writes not applied: {}",
            route.label,
            crate::log::Chain(&e)
        );
        let reply = if e.is_retryable() {
            Reply::store_unavailable()
        } else {
            Reply::internal("the request's writes were not applied")
        };
        return Fresh { reply, read_clock };
    }

    // 6. Respond.
    tally.writes(writing);
    Fresh { reply, read_clock }
}

/// Runs the route's steps in order; `Err` is the error reply to send (nothing gets written).
async fn call_steps(
    app: &App,
    route: &Route,
    input: &mut Input,
    reader: &mut Reader<'_>,
    read_clock: &mut bool,
    tally: &Tally,
) -> Result<(Response, Vec<Write>), Reply> {
    let mut writes = Vec::new();
    for (i, step) in route.steps.iter().enumerate() {
        let id = &step.component.id;
        let mut rounds = 0;
        loop {
            let component = step.component.get(&app.runtime).await.map_err(|e| {
                tracing::error!(route = %route.label, component = %id, "{}: {}", route.label, crate::log::Chain(&e));
                Reply::load_failed()
            })?;
            let mut usage = CallUsage::default();
            let outcome = app
                .runtime
                .call_pure(&component, step.limits, input, &mut usage)
                .await;
            step.meter.call(&usage, outcome.is_ok(), tally);
            let outcome = outcome.map_err(|e| {
                tracing::error!(
                    route = %route.label,
                    component = %id,
                    "{}: component `{id}` {}",
                    route.label,
                    crate::log::Chain(&e)
                );
                Reply::call_failed(&e)
            })?;
            match outcome {
                Outcome::Respond((response, w)) => {
                    writes.extend(w);
                    return Ok((response, writes));
                }
                Outcome::Pass((data, w)) => {
                    writes.extend(w);
                    if i + 1 == route.steps.len() {
                        tracing::error!(
                            route = %route.label,
                            component = %id,
                            "{}: component `{id}` passed data on, but it is the last step",
                            route.label
                        );
                        return Err(Reply::internal("the pipeline produced no response"));
                    }
                    input.carried = Some(data);
                    break;
                }
                Outcome::Need(reads) => {
                    rounds += 1;
                    if rounds > MAX_READ_ROUNDS {
                        tracing::error!(
                            route = %route.label,
                            component = %id,
                            "{}: component `{id}` asked for reads more than {MAX_READ_ROUNDS} times",
                            route.label
                        );
                        return Err(Reply::internal("too many read rounds"));
                    }
                    *read_clock |= reads.iter().any(|r| matches!(r.op, ReadOp::Now));
                    let results = reader.read(&route.decl, &reads).await;
                    let results = results.map_err(|e| store_failed(route, &e))?;
                    tally.reads(results.len());
                    input.reads.extend(results);
                }
            }
        }
    }
    unreachable!("a route has at least one step, and the last step either responds or errors")
}

/// The reply when the store failed a read round: 503 when a retry may succeed, else 500.
fn store_failed(route: &Route, e: &StoreError) -> Reply {
    tracing::error!(
        route = %route.label,
        "{}: reads failed: {}",
        route.label,
        crate::log::Chain(e)
    );
    if e.is_retryable() {
        Reply::store_unavailable()
    } else {
        Reply::internal("the store failed")
    }
}

/// The handler's response as a reply, or the 500 to send instead when it is invalid. Headers
/// that are the server's business (hop-by-hop, framing) are dropped.
fn respond(label: &str, response: Response) -> Result<Reply, Reply> {
    if !(100..=599).contains(&response.status) {
        tracing::error!(
            route = %label,
            "{label}: handler answered invalid status {}; nothing written",
            response.status
        );
        return Err(Reply::internal("invalid status"));
    }
    let headers = response
        .headers
        .into_iter()
        .filter(|h| !is_server_header(&h.name))
        .map(|h| (h.name, h.value))
        .collect();
    Ok(Reply {
        status: response.status,
        headers,
        body: Bytes::from(response.body),
    })
}

/// Runs the `[startup]` route if its collection is empty (seeding a fresh data folder); an
/// answer other than 2xx is an error.
pub async fn startup(app: &App) -> anyhow::Result<()> {
    let Some(startup) = &app.startup else {
        return Ok(());
    };
    if !app.effects.is_empty(&startup.when_empty).await? {
        return Ok(());
    }
    let route = &app.routes[startup.route];
    tracing::info!(
        "startup: collection `{}` is empty; running {}",
        startup.when_empty,
        route.label
    );
    let method = match &route.decl.method {
        MethodMatch::One(m) => m.clone(),
        MethodMatch::Any => "POST".to_owned(),
    };
    let head = Head {
        method,
        path: route.decl.path.to_string(),
        query: String::new(),
        headers: Vec::new(),
        peer: None,
    };
    let (reply, _) = run(
        app,
        route,
        head,
        Vec::new(),
        Bytes::new(),
        &Tally::default(),
    )
    .await;
    // Hosts sharing a store may start together: the seed's writes apply only while the
    // collection is empty, so all but one fail; that one's seed is as good as ours.
    if !(200..300).contains(&reply.status) && !app.effects.is_empty(&startup.when_empty).await? {
        tracing::info!(
            "startup: collection `{}` was filled meanwhile (another host seeded it)",
            startup.when_empty
        );
        return Ok(());
    }
    if !(200..300).contains(&reply.status) {
        anyhow::bail!(
            "the startup route {} answered {}: {}",
            route.label,
            reply.status,
            String::from_utf8_lossy(&reply.body).trim()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests;
