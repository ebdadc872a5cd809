//! The guest of the effects integration tests (tests/integration/effects.rs, whose `ROUTES`
//! constant is the manifest): one component that acts by the matched route (`request.route`) and
//! method, so that one manifest covers every test. Collections: `kv` (index `by-body`), `hits`
//! (a counter) and `secret` (granted only to its own two routes).
//!
//! | route | declared reads | does |
//! |---|---|---|
//! | `PUT /kv/{key}`, `PUT /secret/{key}` | — | puts the body (`kv`: sort key `by-body` = body text); 200 |
//! | `GET /kv/{key}`, `GET /secret/{key}` | `value` (get) | 200 with the value, 404 when absent |
//! | `DELETE /kv/{key}` | — | deletes; 200 |
//! | `POST /count/{key}` | `count` (counter `hits`) | adds 1; 200 with the count read + 1 |
//! | `GET /count/{key}` | `count` | 200 with the count |
//! | `GET /list`, `GET /list/by-body` | `page` (list) | `{"keys":[..],"next":cursor or null}`; 400 if the read failed |
//! | `GET /reads/{key}` | any | one line per read result, `NAME: VALUE` (see [`render`]) |
//! | `GET /lookup/{key}` | `hop0` (get `kv/{key}`) | while the last value is `@OTHER`, asks for `kv/OTHER` (a dynamic read); then 200 `VALUE hops=N`, 404 `absent KEY` |
//! | `GET /peek/{collection}/{key}` | — | asks for `{collection}/{key}` (a dynamic read), answers 200 with its rendering |
//! | `GET /twice/{key}?spin=N` | `first` (get `kv/{key}`) | counts to N (time for the test to write), asks for `kv/{key}` again, then 200 `first: …` / `again: …` |
//! | `POST /bad/{what}/{key}` | — | a granted put of `kv/{key}` plus one bad write: `grant` (a put to `secret`), `index` (an undeclared index key), `put-counter` (a put to `hits`), `add-plain` (an add to `kv`), `overflow` (two adds that overflow `hits/{key}`), or `status` (no bad write, but status 1000); the host must write nothing and answer 500 |
//! | `PUT /by-query` | — | puts `kv/X` = `stored`, where X is the query parameter `x` as the SDK's `query_param` reads it; 200 |
//! | `GET /by-query` | `value` (get `kv/{query.x}`: the host reads the query) | 200 with the value, 404 when absent |
//! | `POST /append/{key}?spin=N` | `value` (get `kv/{key}`) | counts to N, then puts `kv/{key}` = the value read + `+` and adds 1 to `hits/{key}` (a read-modify-write of the key); 200 with the new value |
//! | `POST /pipe/{key}`, `POST /pipe-trap/{key}` | — | step without carried data: puts `kv/{key}-1` = `one` and passes `step 1 saw BODY` on; step with carried data: puts `kv/{key}-2` = `two` and answers 200 with the carried data |
//!
//! Any other route answers 404 naming it.
#![no_std]

use nebula_guest::json::{array, object, optional_string, string};
use nebula_guest::*;

const TEXT: &str = "text/plain; charset=utf-8";

struct Probe;

impl Guest for Probe {
    fn handle(input: Input) -> Outcome {
        let request = &input.request;
        match (request.method.as_str(), request.route.as_str()) {
            ("PUT", "/kv/{key}") => put_body(&input, "kv"),
            ("PUT", "/secret/{key}") => put_body(&input, "secret"),
            ("GET", "/kv/{key}" | "/secret/{key}" | "/by-query") => get_value(&input),
            ("PUT", "/by-query") => put_by_query(&input),
            ("DELETE", "/kv/{key}") => delete(&input),
            ("POST", "/count/{key}") => increment(&input),
            ("GET", "/count/{key}") => count(&input),
            ("GET", "/list" | "/list/by-body") => list(&input),
            ("GET", "/reads/{key}") => text(200, render_all(&input.reads)),
            ("GET", "/lookup/{key}") => lookup(&input),
            ("GET", "/peek/{collection}/{key}") => peek(&input),
            ("GET", "/twice/{key}") => twice(&input),
            ("POST", "/append/{key}") => append(&input),
            ("POST", "/bad/{what}/{key}") => bad(&input),
            ("POST", "/pipe/{key}" | "/pipe-trap/{key}") => pipe(&input),
            (method, route) => text(
                404,
                format!("effects-probe does nothing for {method} {route}"),
            ),
        }
    }
}

/// `PUT /{collection}/{key}`: stores the body; in `kv` it also takes the body text as its sort
/// key in the index `by-body`.
fn put_body(input: &Input, collection: &str) -> Outcome {
    let key = key(input);
    let body = &input.request.body;
    let index_keys = if collection == "kv" {
        vec![("by-body".to_string(), lossy(body))]
    } else {
        Vec::new()
    };
    let write = write::put_indexed(collection, key, body.clone(), index_keys);
    with_writes(200, format!("stored {key}"), vec![write])
}

/// `PUT /by-query`: stores under the key the SDK reads from `?x=`, so that `GET /by-query`, whose
/// key the host reads from the same query, finds it only if host and SDK decode alike.
fn put_by_query(input: &Input) -> Outcome {
    let key = query_param(&input.request.query, "x").unwrap_or_default();
    let write = write::put("kv", &key, b"stored".to_vec());
    with_writes(200, format!("stored {key}"), vec![write])
}

fn get_value(input: &Input) -> Outcome {
    match read(&input.reads, "value") {
        Some(Ok(ReadValue::Value(Some(bytes)))) => respond(200, TEXT, bytes.clone()),
        Some(Ok(ReadValue::Value(None))) => text(404, format!("absent {}", key(input))),
        other => unexpected("value", other),
    }
}

fn delete(input: &Input) -> Outcome {
    let key = key(input);
    with_writes(
        200,
        format!("deleted {key}"),
        vec![write::delete("kv", key)],
    )
}

/// `POST /count/{key}`: adds 1 to `hits/{key}`. The answer is the count read before the call
/// plus one; concurrent requests may answer the same number, but the host applies every `add`.
fn increment(input: &Input) -> Outcome {
    let Some(n) = number(&input.reads, "count") else {
        return unexpected("count", read(&input.reads, "count"));
    };
    let write = write::add("hits", key(input), 1);
    with_writes(200, format!("{}", n + 1), vec![write])
}

fn count(input: &Input) -> Outcome {
    match number(&input.reads, "count") {
        Some(n) => text(200, format!("{n}")),
        None => unexpected("count", read(&input.reads, "count")),
    }
}

/// `{"keys":["a","b"],"next":"6100..."}`, `next` null on the last page.
fn list(input: &Input) -> Outcome {
    match read(&input.reads, "page") {
        Some(Ok(ReadValue::Page(page))) => {
            let keys = page.entries.iter().map(|entry| string(&entry.key));
            let body = object([
                ("keys", array(keys)),
                ("next", optional_string(page.next_cursor.as_deref())),
            ]);
            respond(200, "application/json", body)
        }
        Some(Err(e)) => text(400, format!("read `page` failed: {}", reads::describe(e))),
        other => unexpected("page", other),
    }
}

/// Follows `@KEY` pointers in `kv`, one dynamic read per hop. The host allows a handler four
/// rounds of dynamic reads, so a chain of five pointers ends in a 500.
fn lookup(input: &Input) -> Outcome {
    let Some(last) = input.reads.last() else {
        return unexpected("hop0", None);
    };
    let hops = input.reads.len() - 1;
    match &last.value {
        Ok(ReadValue::Value(Some(bytes))) => match bytes.strip_prefix(b"@") {
            Some(next) => need(vec![reads::get(
                &format!("hop{}", hops + 1),
                "kv",
                &lossy(next),
            )]),
            None => text(200, format!("{} hops={hops}", lossy(bytes))),
        },
        Ok(ReadValue::Value(None)) => text(404, format!("absent after hops={hops}")),
        other => text(500, format!("{}: {}", last.name, render(other))),
    }
}

/// Asks for `{collection}/{key}` in a second round, then answers with what came back, an error
/// included (e.g. a collection the route may not read).
fn peek(input: &Input) -> Outcome {
    match read(&input.reads, "peek") {
        None => {
            let collection = param(&input.request, "collection").unwrap_or("");
            need(vec![reads::get("peek", collection, key(input))])
        }
        Some(value) => text(200, render(value)),
    }
}

/// Reads `kv/{key}` in two rounds with a busy pause between them, so a test can write the key
/// meanwhile: both rounds must see the same value (one snapshot per request).
fn twice(input: &Input) -> Outcome {
    let (Some(first), again) = (read(&input.reads, "first"), read(&input.reads, "again")) else {
        return unexpected("first", None);
    };
    if let Some(again) = again {
        return text(
            200,
            format!("first: {}\nagain: {}\n", render(first), render(again)),
        );
    }
    busy(input);
    Outcome::Need(vec![Read {
        name: "again".to_string(),
        op: ReadOp::Get(Key {
            collection: "kv".to_string(),
            key: key(input).to_string(),
        }),
    }])
}

/// Appends `+` to `kv/{key}` as read (absent: empty) after a busy pause, and counts the append in
/// `hits/{key}`: the host commits it only if `kv/{key}` is still as read, so no append is lost
/// and each counted one is in the value.
fn append(input: &Input) -> Outcome {
    let mut value = match read(&input.reads, "value") {
        Some(Ok(ReadValue::Value(value))) => value.clone().unwrap_or_default(),
        other => return unexpected("value", other),
    };
    busy(input);
    value.push(b'+');
    let key = key(input);
    let body = lossy(&value);
    let writes = vec![write::put("kv", key, value), write::add("hits", key, 1)];
    with_writes(200, body, writes)
}

/// Counts to the query parameter `spin` (0 when absent): a busy pause a test can write during.
fn busy(input: &Input) {
    let spins: u64 = query_param(&input.request.query, "spin")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let mut turns: u64 = 0;
    for _ in 0..spins {
        turns = core::hint::black_box(turns.wrapping_add(1));
    }
}

/// A granted put of `kv/{key}` plus one write the host must refuse (or fail to apply), or a
/// response it must refuse: the host answers 500 and writes nothing. The response this handler
/// asks for is never meant to be sent.
fn bad(input: &Input) -> Outcome {
    let key = key(input);
    let mut writes = vec![write::put("kv", key, b"good".to_vec())];
    let add = |collection: &str, delta| write::add(collection, key, delta);
    match param(&input.request, "what").unwrap_or("") {
        // `secret` is not in the route's `may_write`.
        "grant" => writes.push(write::put("secret", key, b"leaked".to_vec())),
        // `kv` declares only the index `by-body`.
        "index" => writes.push(write::put_indexed(
            "kv",
            &format!("{key}-indexed"),
            b"bad".to_vec(),
            vec![("no-such-index".to_string(), "x".to_string())],
        )),
        // `hits` holds counters, which take `add` only.
        "put-counter" => writes.push(write::put("hits", key, b"1".to_vec())),
        // `kv` is not a counter.
        "add-plain" => writes.push(add("kv", 1)),
        // Every check passes; the store fails on the second add, inside the transaction.
        "overflow" => {
            writes.push(add("hits", i64::MAX));
            writes.push(add("hits", 1));
        }
        // Only good writes, but a response the host cannot send (status outside 100..=599).
        "status" => return with_writes(1000, "an invalid status", writes),
        other => return text(400, format!("unknown kind of bad write `{other}`")),
    }
    with_writes(200, "the host applied a bad write", writes)
}

/// A two-step pipeline; the step is told by whether data was carried to it.
fn pipe(input: &Input) -> Outcome {
    let key = key(input);
    match &input.carried {
        None => {
            let mut data = b"step 1 saw ".to_vec();
            data.extend_from_slice(&input.request.body);
            let write = write::put("kv", &format!("{key}-1"), b"one".to_vec());
            pass(data, vec![write])
        }
        Some(data) => {
            let write = write::put("kv", &format!("{key}-2"), b"two".to_vec());
            with_writes(200, lossy(data), vec![write])
        }
    }
}

/// A read result as one line of text: `value TEXT`, `absent`, `number N`,
/// `page KEY,KEY next=CURSOR|none` or `error MESSAGE`.
fn render(value: &Result<ReadValue, ReadError>) -> String {
    match value {
        Ok(ReadValue::Value(Some(bytes))) => format!("value {}", lossy(bytes)),
        Ok(ReadValue::Value(None)) => "absent".to_string(),
        Ok(ReadValue::Number(n)) => format!("number {n}"),
        Ok(ReadValue::Page(page)) => {
            let keys: Vec<&str> = page.entries.iter().map(|e| e.key.as_str()).collect();
            let next = page.next_cursor.as_deref().unwrap_or("none");
            format!("page {} next={next}", keys.join(","))
        }
        Err(error) => format!("error {}", reads::describe(error)),
    }
}

/// One `NAME: RENDERED` line per read result, in order.
fn render_all(reads: &[ReadResult]) -> String {
    let mut out = String::new();
    for result in reads {
        out.push_str(&format!("{}: {}\n", result.name, render(&result.value)));
    }
    out
}

/// A 500 for a declared read that is missing or of the wrong kind: the manifest and this
/// component disagree.
fn unexpected(name: &str, value: Option<&Result<ReadValue, ReadError>>) -> Outcome {
    let found = value.map_or_else(|| "no such read".to_string(), render);
    text(500, format!("unexpected result of read `{name}`: {found}"))
}

/// The `{key}` capture every route of this probe has ("" if a route lacks it).
fn key(input: &Input) -> &str {
    param(&input.request, "key").unwrap_or("")
}

fn text(status: u16, body: impl Into<String>) -> Outcome {
    respond(status, TEXT, line(body))
}

/// `body`, ending in a newline.
fn line(body: impl Into<String>) -> String {
    let mut body = body.into();
    if !body.ends_with('\n') {
        body.push('\n');
    }
    body
}

/// Responds with `body` (plain text) once `writes` are applied.
fn with_writes(status: u16, body: impl Into<String>, writes: Vec<Write>) -> Outcome {
    Reply::new(status)
        .body(TEXT, line(body))
        .writes(writes)
        .done()
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

export_handler!(Probe);
