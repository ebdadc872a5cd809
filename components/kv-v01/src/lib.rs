//! A key-value handler written against `nebula:pure@0.1.0` (wit/0.1.0) and kept there, so that
//! tests/integration/worlds.rs proves the host still serves a 0.1.0 component unchanged:
//!
//! | request | does |
//! |---|---|
//! | `GET /v01/{key}` | answers the declared read `value` (`kv/{key}`): `value V`, `absent`, or `error E` |
//! | `GET /v01/{key}?peek=C` | asks (`need`) for `C/{key}`, then answers `peek V` or `error E` |
//! | `POST /v01/{key}` | puts the body under `kv/{key}` (index `new` sort key `{key}`), adds 1 to `hits/{key}` |
//!
//! std Rust on purpose: it has no allocator or panic handler of its own without the SDK.

wit_bindgen::generate!({
    path: "../../wit/0.1.0",
    world: "nebula:pure/handler",
});

use nebula::pure::types::{
    Add, Header, Key, Put, Read, ReadOp, ReadResult, ReadValue, Response, Write,
};

struct Kv;

impl Guest for Kv {
    fn handle(input: Input) -> Outcome {
        let request = &input.request;
        let Some((_, key)) = request.params.iter().find(|(name, _)| name == "key") else {
            return Outcome::Respond((text(404, "no key\n".into()), Vec::new()));
        };
        if request.method == "POST" {
            let writes = vec![
                Write::Put(Put {
                    collection: "kv".into(),
                    key: key.clone(),
                    value: request.body.clone(),
                    index_keys: vec![("new".into(), key.clone())],
                }),
                Write::Add(Add {
                    collection: "hits".into(),
                    key: key.clone(),
                    delta: 1,
                }),
            ];
            return Outcome::Respond((text(200, "stored\n".into()), writes));
        }
        let peek = request
            .query
            .split('&')
            .find_map(|pair| pair.strip_prefix("peek="));
        match peek {
            Some(collection) => match find(&input.reads, "peek") {
                None => Outcome::Need(vec![Read {
                    name: "peek".into(),
                    op: ReadOp::Get(Key {
                        collection: collection.into(),
                        key: key.clone(),
                    }),
                }]),
                Some(result) => answer("peek", result),
            },
            None => match find(&input.reads, "value") {
                Some(result) => answer("value", result),
                None => Outcome::Respond((text(500, "no declared read\n".into()), Vec::new())),
            },
        }
    }
}

fn find<'a>(reads: &'a [ReadResult], name: &str) -> Option<&'a Result<ReadValue, String>> {
    reads.iter().find(|r| r.name == name).map(|r| &r.value)
}

fn answer(what: &str, result: &Result<ReadValue, String>) -> Outcome {
    let body = match result {
        Ok(ReadValue::Value(Some(bytes))) => format!("{what} {}\n", String::from_utf8_lossy(bytes)),
        Ok(ReadValue::Value(None)) => "absent\n".into(),
        Ok(other) => format!("unexpected {other:?}\n"),
        // 0.1.0 carries read errors as text.
        Err(message) => format!("error {message}\n"),
    };
    Outcome::Respond((text(200, body), Vec::new()))
}

fn text(status: u16, body: String) -> Response {
    Response {
        status,
        headers: vec![Header {
            name: "content-type".into(),
            value: "text/plain; charset=utf-8".into(),
        }],
        body: body.into_bytes(),
    }
}

export!(Kv);
