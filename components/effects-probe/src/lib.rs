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
            ("GET", "/kv/{key}" | "/secret/{key}") => get_value(&input),
            ("DELETE", "/kv/{key}") => delete(&input),
            ("POST", "/count/{key}") => increment(&input),
            ("GET", "/count/{key}") => count(&input),
            ("GET", "/list" | "/list/by-body") => list(&input),
            ("GET", "/reads/{key}") => text(200, render_all(&input.reads)),
            ("GET", "/lookup/{key}") => lookup(&input),
            ("GET", "/peek/{collection}/{key}") => peek(&input),
            ("GET", "/twice/{key}") => twice(&input),
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
    let key = param(input, "key");
    let body = &input.request.body;
    let index_keys = if collection == "kv" {
        vec![("by-body".to_string(), lossy(body))]
    } else {
        Vec::new()
    };
    let write = put(collection, key, body.clone(), index_keys);
    with_writes(200, format!("stored {key}"), vec![write])
}

fn get_value(input: &Input) -> Outcome {
    match read(input, "value") {
        Some(Ok(ReadValue::Value(Some(bytes)))) => respond(200, TEXT, bytes.clone()),
        Some(Ok(ReadValue::Value(None))) => text(404, format!("absent {}", param(input, "key"))),
        other => unexpected("value", other),
    }
}

fn delete(input: &Input) -> Outcome {
    let key = param(input, "key");
    let write = Write::Delete(Key {
        collection: "kv".to_string(),
        key: key.to_string(),
    });
    with_writes(200, format!("deleted {key}"), vec![write])
}

/// `POST /count/{key}`: adds 1 to `hits/{key}`. The answer is the count read before the call
/// plus one; concurrent requests may answer the same number, but the host applies every `add`.
fn increment(input: &Input) -> Outcome {
    let Some(Ok(ReadValue::Number(n))) = read(input, "count") else {
        return unexpected("count", read(input, "count"));
    };
    let write = Write::Add(Add {
        collection: "hits".to_string(),
        key: param(input, "key").to_string(),
        delta: 1,
    });
    with_writes(200, format!("{}", n + 1), vec![write])
}

fn count(input: &Input) -> Outcome {
    match read(input, "count") {
        Some(Ok(ReadValue::Number(n))) => text(200, format!("{n}")),
        other => unexpected("count", other),
    }
}

/// `{"keys":["a","b"],"next":"6100..."}`, `next` null on the last page.
fn list(input: &Input) -> Outcome {
    match read(input, "page") {
        Some(Ok(ReadValue::Page(page))) => {
            let keys = page.entries.iter().map(|entry| string(&entry.key));
            let body = object([
                ("keys", array(keys)),
                ("next", optional_string(page.next_cursor.as_deref())),
            ]);
            respond(200, "application/json", body)
        }
        Some(Ok(_)) | None => unexpected("page", read(input, "page")),
        Some(Err(e)) => text(400, format!("read `page` failed: {e}")),
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
            Some(next) => Outcome::Need(vec![Read {
                name: format!("hop{}", hops + 1),
                op: ReadOp::Get(Key {
                    collection: "kv".to_string(),
                    key: lossy(next),
                }),
            }]),
            None => text(200, format!("{} hops={hops}", lossy(bytes))),
        },
        Ok(ReadValue::Value(None)) => text(404, format!("absent after hops={hops}")),
        other => text(500, format!("{}: {}", last.name, render(other))),
    }
}

/// Asks for `{collection}/{key}` in a second round, then answers with what came back, an error
/// included (e.g. a collection the route may not read).
fn peek(input: &Input) -> Outcome {
    match read(input, "peek") {
        None => Outcome::Need(vec![Read {
            name: "peek".to_string(),
            op: ReadOp::Get(Key {
                collection: param(input, "collection").to_string(),
                key: param(input, "key").to_string(),
            }),
        }]),
        Some(value) => text(200, render(value)),
    }
}

/// Reads `kv/{key}` in two rounds with a busy pause between them, so a test can write the key
/// meanwhile: both rounds must see the same value (one snapshot per request).
fn twice(input: &Input) -> Outcome {
    let (Some(first), again) = (read(input, "first"), read(input, "again")) else {
        return unexpected("first", None);
    };
    if let Some(again) = again {
        return text(
            200,
            format!("first: {}\nagain: {}\n", render(first), render(again)),
        );
    }
    let spins: u64 = query_param(&input.request.query, "spin")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let mut turns: u64 = 0;
    for _ in 0..spins {
        turns = core::hint::black_box(turns.wrapping_add(1));
    }
    Outcome::Need(vec![Read {
        name: "again".to_string(),
        op: ReadOp::Get(Key {
            collection: "kv".to_string(),
            key: param(input, "key").to_string(),
        }),
    }])
}

/// A granted put of `kv/{key}` plus one write the host must refuse (or fail to apply), or a
/// response it must refuse: the host answers 500 and writes nothing. The response this handler
/// asks for is never meant to be sent.
fn bad(input: &Input) -> Outcome {
    let key = param(input, "key");
    let mut writes = vec![put("kv", key, b"good".to_vec(), Vec::new())];
    let add = |collection: &str, delta| {
        Write::Add(Add {
            collection: collection.to_string(),
            key: key.to_string(),
            delta,
        })
    };
    match param(input, "what") {
        // `secret` is not in the route's `may_write`.
        "grant" => writes.push(put("secret", key, b"leaked".to_vec(), Vec::new())),
        // `kv` declares only the index `by-body`.
        "index" => writes.push(put(
            "kv",
            &format!("{key}-indexed"),
            b"bad".to_vec(),
            vec![("no-such-index".to_string(), "x".to_string())],
        )),
        // `hits` holds counters, which take `add` only.
        "put-counter" => writes.push(put("hits", key, b"1".to_vec(), Vec::new())),
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
    let key = param(input, "key");
    match &input.carried {
        None => {
            let mut data = b"step 1 saw ".to_vec();
            data.extend_from_slice(&input.request.body);
            let write = put("kv", &format!("{key}-1"), b"one".to_vec(), Vec::new());
            Outcome::Pass((data, vec![write]))
        }
        Some(data) => {
            let write = put("kv", &format!("{key}-2"), b"two".to_vec(), Vec::new());
            with_writes(200, lossy(data), vec![write])
        }
    }
}

/// A read result as one line of text: `value TEXT`, `absent`, `number N`,
/// `page KEY,KEY next=CURSOR|none` or `error MESSAGE`.
fn render(value: &Result<ReadValue, String>) -> String {
    match value {
        Ok(ReadValue::Value(Some(bytes))) => format!("value {}", lossy(bytes)),
        Ok(ReadValue::Value(None)) => "absent".to_string(),
        Ok(ReadValue::Number(n)) => format!("number {n}"),
        Ok(ReadValue::Page(page)) => {
            let keys: Vec<&str> = page.entries.iter().map(|e| e.key.as_str()).collect();
            let next = page.next_cursor.as_deref().unwrap_or("none");
            format!("page {} next={next}", keys.join(","))
        }
        Err(message) => format!("error {message}"),
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
fn unexpected(name: &str, value: Option<&Result<ReadValue, String>>) -> Outcome {
    let found = value.map_or_else(|| "no such read".to_string(), render);
    text(500, format!("unexpected result of read `{name}`: {found}"))
}

fn read<'a>(input: &'a Input, name: &str) -> Option<&'a Result<ReadValue, String>> {
    input
        .reads
        .iter()
        .find(|r| r.name == name)
        .map(|r| &r.value)
}

fn param<'a>(input: &'a Input, name: &str) -> &'a str {
    input
        .request
        .params
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.as_str())
}

fn put(collection: &str, key: &str, value: Vec<u8>, index_keys: Vec<(String, String)>) -> Write {
    Write::Put(Put {
        collection: collection.to_string(),
        key: key.to_string(),
        value,
        index_keys,
    })
}

fn text(status: u16, body: impl Into<String>) -> Outcome {
    let mut body = body.into();
    if !body.ends_with('\n') {
        body.push('\n');
    }
    respond(status, TEXT, body)
}

/// Responds with `body` (plain text) once `writes` are applied.
fn with_writes(status: u16, body: impl Into<String>, writes: Vec<Write>) -> Outcome {
    match text(status, body) {
        Outcome::Respond((response, _)) => Outcome::Respond((response, writes)),
        other => other,
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

export_handler!(Probe);
