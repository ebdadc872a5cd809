//! The one place that knows `nebula:pure@0.1.0`: it maps a 0.2.0 [`Input`] down to what a 0.1.0
//! component takes, and the 0.1.0 outcome it returns up to a 0.2.0 [`Outcome`], so that the rest
//! of the host sees one representation. The worlds differ only in shape (tuples vs records,
//! string vs typed read errors), so both directions are total. This module must never grow
//! behaviour of its own: a 0.1.0 component is served exactly like a 0.2.0 one.

use super::bindings::{self, Input, Outcome, ReadError, ReadValue, Write, v0_1 as old};

/// The text a 0.1.0 component gets for a failed read: the words the host used before read
/// errors were typed, so old handlers that match on them keep working. (The generated
/// `Display` of [`ReadError`] is its `Debug`.)
pub fn describe(error: &ReadError) -> String {
    match error {
        ReadError::NotGranted(c) => {
            format!("read of collection `{c}` is not granted to this route")
        }
        ReadError::Mismatch(why) => why.clone(),
        ReadError::BadCursor(cursor) => format!("malformed cursor `{cursor}`"),
        ReadError::NoStorage => "this host has no storage".to_owned(),
        ReadError::Unavailable(what) => what.clone(),
    }
}

/// The input of a call, as a 0.1.0 component takes it.
pub(super) fn input(input: &Input) -> old::Input {
    let r = &input.request;
    old::Input {
        request: old::Request {
            method: r.method.clone(),
            path: r.path.clone(),
            route: r.route.clone(),
            query: r.query.clone(),
            headers: r.headers.iter().map(header_down).collect(),
            body: r.body.clone(),
            params: r
                .params
                .iter()
                .map(|p| (p.name.clone(), p.value.clone()))
                .collect(),
        },
        reads: input
            .reads
            .iter()
            .map(|r| old::ReadResult {
                name: r.name.clone(),
                value: match &r.value {
                    Ok(value) => Ok(read_value(value)),
                    Err(e) => Err(describe(e)),
                },
            })
            .collect(),
        carried: input.carried.clone(),
    }
}

/// A 0.1.0 component's outcome, as the host handles it.
pub(super) fn outcome(outcome: old::Outcome) -> Outcome {
    match outcome {
        old::Outcome::Respond((response, writes)) => Outcome::Respond(bindings::RespondWith {
            response: bindings::Response {
                status: response.status,
                headers: response.headers.into_iter().map(header_up).collect(),
                body: response.body,
            },
            writes: writes.into_iter().map(write).collect(),
        }),
        old::Outcome::Pass((data, writes)) => Outcome::Pass(bindings::PassOn {
            data,
            writes: writes.into_iter().map(write).collect(),
        }),
        old::Outcome::Need(reads) => Outcome::Need(
            reads
                .into_iter()
                .map(|r| bindings::Read {
                    name: r.name,
                    op: read_op(r.op),
                })
                .collect(),
        ),
    }
}

fn header_down(h: &bindings::Header) -> old::Header {
    old::Header {
        name: h.name.clone(),
        value: h.value.clone(),
    }
}

fn header_up(h: old::Header) -> bindings::Header {
    bindings::Header {
        name: h.name,
        value: h.value,
    }
}

fn read_value(value: &ReadValue) -> old::ReadValue {
    match value {
        ReadValue::Value(bytes) => old::ReadValue::Value(bytes.clone()),
        ReadValue::Page(page) => old::ReadValue::Page(old::Page {
            entries: page
                .entries
                .iter()
                .map(|e| old::Entry {
                    key: e.key.clone(),
                    value: e.value.clone(),
                })
                .collect(),
            next_cursor: page.next_cursor.clone(),
        }),
        ReadValue::Number(n) => old::ReadValue::Number(*n),
    }
}

fn key(k: old::Key) -> bindings::Key {
    bindings::Key {
        collection: k.collection,
        key: k.key,
    }
}

fn read_op(op: old::ReadOp) -> bindings::ReadOp {
    match op {
        old::ReadOp::Get(k) => bindings::ReadOp::Get(key(k)),
        old::ReadOp::List(q) => bindings::ReadOp::List(bindings::ListQuery {
            collection: q.collection,
            index: q.index,
            direction: match q.direction {
                old::Direction::Ascending => bindings::Direction::Ascending,
                old::Direction::Descending => bindings::Direction::Descending,
            },
            prefix: q.prefix,
            cursor: q.cursor,
            limit: q.limit,
        }),
        old::ReadOp::Count(collection) => bindings::ReadOp::Count(collection),
        old::ReadOp::Counter(k) => bindings::ReadOp::Counter(key(k)),
        old::ReadOp::Now => bindings::ReadOp::Now,
    }
}

fn write(w: old::Write) -> Write {
    match w {
        old::Write::Put(p) => Write::Put(bindings::Put {
            collection: p.collection,
            key: p.key,
            value: p.value,
            index_keys: p
                .index_keys
                .into_iter()
                .map(|(index, sort_key)| bindings::IndexKey { index, sort_key })
                .collect(),
        }),
        old::Write::Delete(k) => Write::Delete(key(k)),
        old::Write::Add(a) => Write::Add(bindings::Add {
            collection: a.collection,
            key: a.key,
            delta: a.delta,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::bindings::{Key, Page, Param, ReadResult, Request};

    fn input_with(reads: Vec<ReadResult>) -> Input {
        Input {
            request: Request {
                method: "GET".into(),
                path: "/m/1".into(),
                route: "/m/{id}".into(),
                query: "q=1".into(),
                headers: vec![bindings::Header {
                    name: "accept".into(),
                    value: "text/html".into(),
                }],
                body: b"body".to_vec(),
                params: vec![Param {
                    name: "id".into(),
                    value: "1".into(),
                }],
            },
            reads,
            carried: Some(b"carried".to_vec()),
        }
    }

    #[test]
    fn a_request_goes_down_with_params_as_pairs_and_everything_else_as_is() {
        let old = input(&input_with(Vec::new()));
        let r = &old.request;
        assert_eq!(r.params, [("id".to_owned(), "1".to_owned())]);
        assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/m/1"));
        assert_eq!((r.route.as_str(), r.query.as_str()), ("/m/{id}", "q=1"));
        assert_eq!(
            (r.headers[0].name.as_str(), r.body.as_slice()),
            ("accept", &b"body"[..])
        );
        assert_eq!(old.carried.as_deref(), Some(&b"carried"[..]));
    }

    #[test]
    fn read_values_go_down_unchanged() {
        let page = Page {
            entries: vec![bindings::Entry {
                key: "k".into(),
                value: b"v".to_vec(),
            }],
            next_cursor: Some("c".into()),
        };
        let values = [
            ReadValue::Value(Some(b"x".to_vec())),
            ReadValue::Value(None),
            ReadValue::Page(page),
            ReadValue::Number(-3),
        ];
        let reads = values
            .iter()
            .map(|v| ReadResult {
                name: "r".into(),
                value: Ok(v.clone()),
            })
            .collect();
        let old = input(&input_with(reads));
        assert_eq!(
            old.reads[0].value,
            Ok(old::ReadValue::Value(Some(b"x".to_vec())))
        );
        assert_eq!(old.reads[1].value, Ok(old::ReadValue::Value(None)));
        let Ok(old::ReadValue::Page(page)) = &old.reads[2].value else {
            panic!("{:?}", old.reads[2])
        };
        assert_eq!(
            (page.entries[0].key.as_str(), page.next_cursor.as_deref()),
            ("k", Some("c"))
        );
        assert_eq!(old.reads[3].value, Ok(old::ReadValue::Number(-3)));
    }

    #[test]
    fn each_kind_of_read_error_goes_down_as_the_text_0_1_0_always_carried() {
        let cases = [
            (
                ReadError::NotGranted("secret".into()),
                "read of collection `secret` is not granted to this route",
            ),
            (
                ReadError::Mismatch("collection `votes` is not a counter".into()),
                "collection `votes` is not a counter",
            ),
            (ReadError::BadCursor("zz".into()), "malformed cursor `zz`"),
            (ReadError::NoStorage, "this host has no storage"),
            (
                ReadError::Unavailable("the OS gave no random bytes: busy".into()),
                "the OS gave no random bytes: busy",
            ),
        ];
        for (error, text) in cases {
            let old = input(&input_with(vec![ReadResult {
                name: "r".into(),
                value: Err(error.clone()),
            }]));
            assert_eq!(old.reads[0].value, Err(text.to_owned()), "{error:?}");
        }
    }

    #[test]
    fn a_respond_comes_up_as_a_record_with_its_writes_and_index_keys() {
        let response = old::Response {
            status: 201,
            headers: vec![old::Header {
                name: "content-type".into(),
                value: "text/plain".into(),
            }],
            body: b"ok".to_vec(),
        };
        let writes = vec![
            old::Write::Put(old::Put {
                collection: "memes".into(),
                key: "a".into(),
                value: b"{}".to_vec(),
                index_keys: vec![("new".into(), "0001".into())],
            }),
            old::Write::Delete(old::Key {
                collection: "memes".into(),
                key: "b".into(),
            }),
            old::Write::Add(old::Add {
                collection: "votes".into(),
                key: "a".into(),
                delta: -1,
            }),
        ];
        let Outcome::Respond(up) = outcome(old::Outcome::Respond((response, writes))) else {
            panic!("not a respond")
        };
        assert_eq!(up.response.status, 201);
        assert_eq!(up.response.headers[0].value, "text/plain");
        assert_eq!(up.response.body, b"ok");
        let Write::Put(put) = &up.writes[0] else {
            panic!("{:?}", up.writes[0])
        };
        assert_eq!(
            put.index_keys,
            [bindings::IndexKey {
                index: "new".into(),
                sort_key: "0001".into()
            }]
        );
        assert_eq!(
            up.writes[1],
            Write::Delete(Key {
                collection: "memes".into(),
                key: "b".into()
            })
        );
        assert!(matches!(&up.writes[2], Write::Add(a) if a.delta == -1 && a.collection == "votes"));
    }

    #[test]
    fn a_pass_and_a_need_come_up_with_every_read_op() {
        let Outcome::Pass(pass) = outcome(old::Outcome::Pass((b"png".to_vec(), Vec::new()))) else {
            panic!("not a pass")
        };
        assert_eq!((pass.data.as_slice(), pass.writes.len()), (&b"png"[..], 0));

        let key = || old::Key {
            collection: "c".into(),
            key: "k".into(),
        };
        let ops = vec![
            old::ReadOp::Get(key()),
            old::ReadOp::List(old::ListQuery {
                collection: "c".into(),
                index: "new".into(),
                direction: old::Direction::Descending,
                prefix: "p/".into(),
                cursor: Some("x".into()),
                limit: 7,
            }),
            old::ReadOp::Count("c".into()),
            old::ReadOp::Counter(key()),
            old::ReadOp::Now,
        ];
        let reads = ops
            .into_iter()
            .map(|op| old::Read {
                name: "n".into(),
                op,
            })
            .collect();
        let Outcome::Need(up) = outcome(old::Outcome::Need(reads)) else {
            panic!("not a need")
        };
        let new_key = Key {
            collection: "c".into(),
            key: "k".into(),
        };
        let ops: Vec<_> = up.into_iter().map(|r| r.op).collect();
        assert_eq!(
            ops,
            [
                bindings::ReadOp::Get(new_key.clone()),
                bindings::ReadOp::List(bindings::ListQuery {
                    collection: "c".into(),
                    index: "new".into(),
                    direction: bindings::Direction::Descending,
                    prefix: "p/".into(),
                    cursor: Some("x".into()),
                    limit: 7,
                }),
                bindings::ReadOp::Count("c".into()),
                bindings::ReadOp::Counter(new_key),
                bindings::ReadOp::Now,
            ]
        );
    }
}
