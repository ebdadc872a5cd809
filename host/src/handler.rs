//! The request path, in one place: the server hands each request over to [`handle`], which
//! routes it once and decides pure or `wasi:http`; a pure request goes route → read → call pure →
//! write → respond (steps 2–6 of lib.rs), through the memo when its route qualifies.
//!
//! HTTP stays in `server`: this module sees an `http::Request` (the vocabulary wasi:http
//! components speak too) and gives back an [`Answer`], whole or streamed.
//!
//! One deadline per request, set when it is routed (the route's `timeout`), bounds everything
//! after: reading the body (408 past it), loading a component, waiting for admission, every
//! pipeline step and `need` round (504 past it). A commit that has started finishes, and its
//! client gets the real answer even if late: a 504 always means that nothing was written.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use crate::admission::Admitted;
use crate::app::Step;
use crate::app::{App, Route};
use crate::component::Loaded;
use crate::component::proxy::{Grants, ProxyBody, ProxyCall};
use crate::component::{
    CallUsage, Input, Outcome, Param, PassOn, ReadOp, Request, RespondWith, Response, Write,
};
use crate::effects::{Effects, Reader, StoreError};
use crate::manifest::{
    MAX_READ_ROUNDS, MAX_RESPONSE_HEADER_BYTES, MAX_RESPONSE_HEADERS, ReadDeclOp,
};
use crate::memo::{self, Fresh, Memoized};
use crate::metering::{Answered, Metering, RouteMeter, Tally};
use crate::reply::{Reply, is_server_header};
use crate::request::{BodyError, BodySource, Head, Whole};
use crate::router::{MethodMatch, Routed};

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

/// What bounds one request and what it has used so far: the deadline set when it was routed,
/// and the tally that metering adds its reads, writes and guest CPU to.
#[derive(Clone, Copy)]
struct Budget<'a> {
    deadline: Instant,
    tally: &'a Tally,
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
    // A component compiled after the host started listening (see `component::later`): its
    // requests wait for it as they would have waited for the host to start, and their deadline
    // starts once it is ready.
    let ready = match first_loads(app, route).await {
        Ok(ready) => ready,
        Err(reply) => {
            let answer = Answer::Whole(reply);
            finished.record(&answer);
            return answer;
        }
    };
    let deadline = ready.unwrap_or(start) + route.timeout;
    let (answer, memo) = match route.proxy() {
        // The component streams the request and its response itself: steps 3–5 are its own.
        Some(grants) => {
            tally.bytes_in(content_length(request.headers()) as usize);
            let answer = proxy(app, route, grants, request, deadline).await;
            (answer, MemoUse::Off)
        }
        None => {
            let (parts, body) = request.into_parts();
            let mut head = Head::of(&parts, Some(peer));
            // The route's guards admit the request (or not) before its body is read.
            match app.guards.admit(index, head.peer, &mut head.headers) {
                Ok(()) => {
                    let body = Whole(body);
                    let budget = Budget {
                        deadline,
                        tally: &tally,
                    };
                    let (reply, memo) = pure(app, route, head, params, body, budget).await;
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
    budget: Budget<'_>,
) -> (Reply, MemoUse) {
    match read_body(&route.label, route.decl.max_body, body, budget.deadline).await {
        Ok(body) => {
            budget.tally.bytes_in(body.len());
            run(app, route, head, params, body, budget).await
        }
        Err(reply) => (reply, MemoUse::Off),
    }
}

/// The whole body, or the reply to send when it is too large (413), does not arrive before the
/// deadline (408) or is broken (400).
async fn read_body(
    label: &str,
    limit: u64,
    body: impl BodySource,
    deadline: Instant,
) -> Result<Bytes, Reply> {
    let Ok(read) = tokio::time::timeout_at(deadline.into(), body.read(limit)).await else {
        tracing::warn!(route = %label, "{label}: the request body did not arrive before the deadline");
        return Err(Reply::body_timeout());
    };
    match read {
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
    deadline: Instant,
) -> Answer
where
    B: hyper::body::Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<wasmtime_wasi_http::Error>,
{
    let step = &route.steps[0];
    let (component, admitted) = match load_and_admit(app, route, step, deadline).await {
        Ok(ready) => ready,
        Err(reply) => return Answer::Whole(reply),
    };
    let call = ProxyCall {
        limits: step.limits,
        on_usage: Some(crate::metering::after_stream(
            step.meter.clone(),
            route.meter.clone(),
        )),
        deadline,
        max_body: route.decl.max_body,
        max_response: step.max_response,
        grants,
        label: &route.label,
    };
    match app
        .runtime
        .call_proxy(&component, call, request, admitted)
        .await
    {
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
    budget: Budget<'_>,
) -> (Reply, MemoUse) {
    // One snapshot for the whole request: the memo versions, the declared reads and every
    // `need` round read the same state of the store.
    let mut reader = app.effects.reader_for(&route.decl);
    if !route.memo {
        return (
            execute(app, route, head, params, body, reader, budget)
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
    let execute = || execute(app, route, head, params, body, reader, budget);
    let (reply, how) = app.memo.answer(key, if_none_match, execute).await;
    (reply, MemoUse::Used(how))
}

/// Runs of one request whose writes conflict (see [`Effects::write`]), each from fresh reads.
const MAX_ATTEMPTS: u32 = 3;

/// Reads, calls and writes for one request; also says whether the handler read the clock.
///
/// A request whose writes conflict runs again, whole, from a fresh snapshot (up to
/// [`MAX_ATTEMPTS`] runs within its one deadline), then answers 503 with `Retry-After`. Only
/// routes that write can conflict, and those are never memoized: a conflict stores nothing.
async fn execute(
    app: &App,
    route: &Route,
    head: Head,
    params: Vec<(String, String)>,
    body: Bytes,
    mut reader: Reader<'_>,
    budget: Budget<'_>,
) -> Fresh {
    for attempt in 1.. {
        let mut conflicted = false;
        let (head, params, body) = (head.clone(), params.clone(), body.clone());
        let fresh = execute_once(
            app,
            route,
            head,
            params,
            body,
            reader,
            budget,
            &mut conflicted,
        );
        let fresh = fresh.await;
        if !conflicted {
            return fresh;
        }
        if attempt == MAX_ATTEMPTS || Instant::now() >= budget.deadline {
            tracing::warn!(route = %route.label, "{}: writes still conflicting after {attempt} runs; nothing written", route.label);
            return fresh;
        }
        tracing::info!(route = %route.label, "{}: running the request again from fresh reads (run {} of {MAX_ATTEMPTS})", route.label, attempt + 1);
        reader = app.effects.reader_for(&route.decl);
    }
    unreachable!("the loop returns by its last attempt")
}

/// One run of [`execute`]; `conflicted` is set when its writes conflicted (nothing was written,
/// and the reply is the 503 to send if no run is left).
#[expect(
    clippy::too_many_arguments,
    reason = "execute's arguments and the conflict flag"
)]
async fn execute_once(
    app: &App,
    route: &Route,
    head: Head,
    params: Vec<(String, String)>,
    body: Bytes,
    mut reader: Reader<'_>,
    budget: Budget<'_>,
    conflicted: &mut bool,
) -> Fresh {
    let Budget { deadline, tally } = budget;
    let mut read_clock = route
        .decl
        .reads
        .iter()
        .any(|r| matches!(r.op, ReadDeclOp::Now));
    // 3. Read what the manifest declared.
    let declared = Effects::declared(&route.decl, &params, &head.query);
    let reading = reader.read(&route.decl, &declared);
    let reads = match tokio::time::timeout_at(deadline.into(), reading).await {
        Ok(Ok(reads)) => {
            tally.reads(reads.len());
            reads
        }
        Err(_) => {
            tracing::warn!(route = %route.label, "{}: the deadline passed during the reads", route.label);
            let reply = Reply::deadline();
            return Fresh { reply, read_clock };
        }
        Ok(Err(e)) => {
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
        params: params
            .into_iter()
            .map(|(name, value)| Param { name, value })
            .collect(),
    };
    let input = Input {
        request,
        reads,
        carried: None,
    };

    // 4. Call the pure steps, with dynamic reads between calls.
    let called = call_steps(app, route, input, &mut reader, &mut read_clock, budget).await;
    let (response, writes) = match called {
        Ok(done) => done,
        Err(reply) => return Fresh { reply, read_clock },
    };

    // The response must be valid before anything is written: a rejected reply writes nothing.
    let reply = match respond(&route.label, response) {
        Ok(reply) => reply,
        Err(reply) => return Fresh { reply, read_clock },
    };

    // 5. Write, atomically and durably, before anything is sent. Not once the deadline has
    // passed (504, nothing written); a commit that has started finishes, and its reply is sent.
    if !writes.is_empty() && Instant::now() >= deadline {
        tracing::error!(route = %route.label, "{}: the deadline passed before the writes; nothing written", route.label);
        return Fresh {
            reply: Reply::deadline(),
            read_clock,
        };
    }
    let (writing, committing) = (writes.len(), Instant::now());
    let written = app.effects.write(&route.decl, reader, writes).await;
    app.metering.store_commit.observe(committing.elapsed());
    if let Err(e) = written {
        if e.is_conflict() {
            tracing::info!(route = %route.label, "{}: {}; nothing written", route.label, crate::log::Chain(&e));
            *conflicted = true;
            let reply = Reply::store_unavailable();
            return Fresh { reply, read_clock };
        }
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

/// Waits for the route's components that are still on their first load, compiled after the host
/// started listening; says when the last of them was ready (`None`: none was waited for).
async fn first_loads(app: &App, route: &Route) -> Result<Option<Instant>, Reply> {
    let mut ready = None;
    for step in &route.steps {
        if step.component.first_load_pending() {
            let id = &step.component.id;
            step.component.get(&app.runtime).await.map_err(|e| {
                tracing::error!(route = %route.label, component = %id, "{}: loading component `{id}`: {}", route.label, crate::log::Chain(&e));
                Reply::load_failed()
            })?;
            ready = Some(Instant::now());
        }
    }
    Ok(ready)
}

/// The step's component, loaded, and its admission: each waited for within the deadline.
async fn load_and_admit(
    app: &App,
    route: &Route,
    step: &Step,
    deadline: Instant,
) -> Result<(Arc<Loaded>, Admitted), Reply> {
    let id = &step.component.id;
    let late = || {
        tracing::warn!(route = %route.label, component = %id, "{}: the deadline passed before component `{id}` was called", route.label);
        Reply::deadline()
    };
    let loading = tokio::time::timeout_at(deadline.into(), step.component.get(&app.runtime));
    let component = loading.await.map_err(|_| late())?.map_err(|e| {
        tracing::error!(route = %route.label, component = %id, "{}: loading component `{id}`: {}", route.label, crate::log::Chain(&e));
        Reply::load_failed()
    })?;
    let admitted = step.gate.admit(deadline).await.map_err(|e| {
        tracing::warn!(route = %route.label, component = %id, "{}: component `{id}` turned a request away: {e}", route.label);
        Reply::refused(&e)
    })?;
    Ok((component, admitted))
}

/// Runs the route's steps in order; `Err` is the error reply to send (nothing gets written).
async fn call_steps(
    app: &App,
    route: &Route,
    mut input: Input,
    reader: &mut Reader<'_>,
    read_clock: &mut bool,
    budget: Budget<'_>,
) -> Result<(Response, Vec<Write>), Reply> {
    let Budget { deadline, tally } = budget;
    let mut writes = Vec::new();
    for (i, step) in route.steps.iter().enumerate() {
        let id = &step.component.id;
        let mut rounds = 0;
        loop {
            let (component, admitted) = load_and_admit(app, route, step, deadline).await?;
            let mut usage = CallUsage::default();
            let called = app
                .runtime
                .call_pure(&component, step.limits, deadline, input, &mut usage)
                .await;
            drop(admitted);
            step.meter.call(&usage, called.is_ok(), tally);
            let (outcome, returned) = called.map_err(|e| {
                tracing::error!(
                    route = %route.label,
                    component = %id,
                    "{}: component `{id}` {}",
                    route.label,
                    crate::log::Chain(&e)
                );
                Reply::call_failed(&e)
            })?;
            input = returned;
            match outcome {
                Outcome::Respond(RespondWith {
                    response,
                    writes: w,
                }) => {
                    if let Err(why) = within_limits(&response, step.max_response) {
                        tracing::error!(
                            route = %route.label,
                            component = %id,
                            "{}: component `{id}` answered {why}; nothing written",
                            route.label
                        );
                        return Err(Reply::internal("the response is too large"));
                    }
                    writes.extend(w);
                    return Ok((response, writes));
                }
                Outcome::Pass(PassOn { data, writes: w }) => {
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
                    // The store's own wait counts against the deadline too.
                    let reading = reader.read(&route.decl, &reads);
                    let Ok(results) = tokio::time::timeout_at(deadline.into(), reading).await
                    else {
                        tracing::warn!(route = %route.label, component = %id, "{}: the deadline passed during a read round", route.label);
                        return Err(Reply::deadline());
                    };
                    let results = results.map_err(|e| store_failed(route, &e))?;
                    tally.reads(results.len());
                    input.reads.extend(results);
                }
            }
        }
    }
    unreachable!("a route has at least one step, and the last step either responds or errors")
}

/// Whether a response fits `limits.max_response` and the caps on its header fields; if not,
/// what it exceeds, for the log.
fn within_limits(response: &Response, max_response: u64) -> Result<(), String> {
    if response.body.len() as u64 > max_response {
        return Err(format!(
            "a body of {} bytes, over its `max_response` of {max_response}",
            response.body.len()
        ));
    }
    if response.headers.len() > MAX_RESPONSE_HEADERS {
        return Err(format!(
            "{} header fields, over the cap of {MAX_RESPONSE_HEADERS}",
            response.headers.len()
        ));
    }
    let bytes: usize = response
        .headers
        .iter()
        .map(|h| h.name.len() + h.value.len())
        .sum();
    if bytes > MAX_RESPONSE_HEADER_BYTES {
        return Err(format!(
            "{bytes} bytes of header fields, over the cap of {MAX_RESPONSE_HEADER_BYTES}"
        ));
    }
    Ok(())
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
    let budget = Budget {
        deadline: Instant::now() + route.timeout,
        tally: &Tally::default(),
    };
    let (reply, _) = run(app, route, head, Vec::new(), Bytes::new(), budget).await;
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
