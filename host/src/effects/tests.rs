//! The effects layer's own rules, on a redb store in a temp folder: binding declared reads to a
//! request, grant and kind checks on reads and writes, and one snapshot per [`Reader`].

use std::path::Path;

use super::*;
use crate::component::{Add, Direction, IndexKey, Put};
use crate::manifest::Manifest;

const MANIFEST: &str = r#"
version = 1

[collections.memes]
indexes = ["new"]

[collections.votes]
counter = true

[collections.secret]

[components.c]
path = "c.wasm"

[[routes]]
route = "GET /memes/{id}"
component = "c"
reads = [
  { name = "meme", op = "get", collection = "memes", key = "m-{id}" },
  { name = "votes", op = "counter", collection = "votes", key = "{id}" },
  { name = "page", op = "list", collection = "memes", index = "new", direction = "descending", prefix = "{query.tag}", cursor = "{query.after}", limit = "{query.n}", default_limit = 5, max_limit = 20 },
]
may_read = ["votes"]

[[routes]]
route = "POST /memes/{id}"
component = "c"
may_write = ["memes", "votes"]

[[routes]]
route = "POST /memes/{id}/vote"
component = "c"
may_read = ["memes", "votes"]
may_write = ["memes", "votes"]
"#;

fn manifest() -> Manifest {
    Manifest::parse(Path::new("/tmp/effects-test.toml"), MANIFEST).expect("valid manifest")
}

fn effects(dir: &Path, m: &Manifest) -> Effects {
    Effects::open(&StoreDecl::default(), dir, &m.collections).expect("opens")
}

fn get(collection: &str, key: &str) -> Read {
    Read {
        name: "r".into(),
        op: ReadOp::Get(Key {
            collection: collection.into(),
            key: key.into(),
        }),
    }
}

fn put(collection: &str, key: &str, value: &str) -> Write {
    Write::Put(Put {
        collection: collection.into(),
        key: key.into(),
        value: value.as_bytes().to_vec(),
        index_keys: vec![],
    })
}

#[test]
fn declared_reads_are_bound_to_captures_and_query() {
    let m = manifest();
    let params = vec![("id".to_string(), "42".to_string())];
    let reads = Effects::declared(&m.routes[0], &params, "tag=ph%2Bd&after=c1&n=500");
    assert_eq!(
        reads[0].op,
        ReadOp::Get(Key {
            collection: "memes".into(),
            key: "m-42".into()
        })
    );
    let ReadOp::List(q) = &reads[2].op else {
        panic!("not a list: {:?}", reads[2].op)
    };
    assert_eq!(q.prefix, "ph+d");
    assert_eq!(q.cursor.as_deref(), Some("c1"));
    assert_eq!(q.limit, 20, "capped at max_limit");
    assert!(matches!(q.direction, Direction::Descending));
    // No limit, an empty cursor: the default, and no cursor.
    let reads = Effects::declared(&m.routes[0], &params, "after=");
    let ReadOp::List(q) = &reads[2].op else {
        panic!()
    };
    assert_eq!((q.limit, q.cursor.as_ref()), (5, None));
}

#[tokio::test]
async fn reads_outside_may_read_or_of_the_wrong_kind_are_errors_the_handler_sees() {
    let dir = tempfile::tempdir().unwrap();
    let m = manifest();
    let e = effects(dir.path(), &m);
    let route = &m.routes[0];
    let reads = vec![
        get("secret", "x"),
        get("votes", "x"),
        Read {
            name: "c".into(),
            op: ReadOp::Counter(Key {
                collection: "memes".into(),
                key: "x".into(),
            }),
        },
        get("memes", "x"),
    ];
    let out = e.reader().read(route, &reads).await.unwrap();
    assert_eq!(out[0].value, Err(ReadError::NotGranted("secret".into())));
    let mismatch = |i: usize| match &out[i].value {
        Err(ReadError::Mismatch(why)) => why.clone(),
        other => panic!("{other:?}"),
    };
    assert!(mismatch(1).contains("is a counter"));
    assert!(mismatch(2).contains("not a counter"));
    assert_eq!(out[3].value, Ok(ReadValue::Value(None)));
}

#[tokio::test]
async fn writes_outside_the_grants_or_the_schema_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let m = manifest();
    let e = effects(dir.path(), &m);
    let writer = &m.routes[1];
    let cases: Vec<(Write, &str)> = vec![
        (put("secret", "k", "v"), "not granted"),
        (put("votes", "k", "v"), "`put` to counter"),
        (
            Write::Delete(Key {
                collection: "secret".into(),
                key: "k".into(),
            }),
            "not granted",
        ),
        (
            Write::Put(Put {
                collection: "memes".into(),
                key: "k".into(),
                value: vec![],
                index_keys: vec![IndexKey {
                    index: "old".into(),
                    sort_key: "1".into(),
                }],
            }),
            "no index `old`",
        ),
    ];
    for (bad, needle) in cases {
        let err = e
            .write(writer, e.reader(), vec![put("memes", "good", "v"), bad])
            .await
            .unwrap_err();
        assert!(err.to_string().contains(needle), "{err}");
        assert!(!err.is_retryable());
    }
    // A route without grants cannot write at all.
    let err = e
        .write(&m.routes[0], e.reader(), vec![put("memes", "good", "v")])
        .await
        .unwrap_err();
    assert!(matches!(err, EffectsError::WriteNotGranted(c) if c == "memes"));
    let out = e
        .reader()
        .read(&m.routes[0], &[get("memes", "good")])
        .await
        .unwrap();
    assert_eq!(
        out[0].value,
        Ok(ReadValue::Value(None)),
        "nothing was written"
    );
}

#[tokio::test]
async fn one_reader_keeps_its_snapshot_across_rounds() {
    let dir = tempfile::tempdir().unwrap();
    let m = manifest();
    let e = effects(dir.path(), &m);
    let (reader_route, writer) = (&m.routes[0], &m.routes[1]);
    e.write(writer, e.reader(), vec![put("memes", "a", "old")])
        .await
        .unwrap();
    let mut reader = e.reader();
    let versions = reader.versions(&reader_route.may_read).await.unwrap();
    let first = reader
        .read(reader_route, &[get("memes", "a")])
        .await
        .unwrap();
    e.write(writer, e.reader(), vec![put("memes", "a", "new")])
        .await
        .unwrap();
    let second = reader
        .read(reader_route, &[get("memes", "a")])
        .await
        .unwrap();
    assert_eq!(first[0].value, second[0].value);
    assert_eq!(second[0].value, Ok(ReadValue::Value(Some(b"old".to_vec()))));
    // A new reader sees the write, and newer versions.
    let mut fresh = e.reader();
    assert_ne!(
        fresh.versions(&reader_route.may_read).await.unwrap(),
        versions
    );
    let now = fresh
        .read(reader_route, &[get("memes", "a")])
        .await
        .unwrap();
    assert_eq!(now[0].value, Ok(ReadValue::Value(Some(b"new".to_vec()))));
}

#[tokio::test]
async fn a_host_without_collections_reads_only_the_clock() {
    let m = manifest();
    let e = Effects::none();
    let out = e
        .reader()
        .read(
            &m.routes[0],
            &[
                get("memes", "a"),
                Read {
                    name: "now".into(),
                    op: ReadOp::Now,
                },
            ],
        )
        .await
        .unwrap();
    assert_eq!(out[0].value, Err(ReadError::NoStorage));
    assert!(matches!(out[1].value, Ok(ReadValue::Number(n)) if n > 0));
    assert!(e.is_empty("memes").await.unwrap());
}

/// A route whose one read's key is the query parameter `x`.
fn query_route() -> RouteDecl {
    let text = "version = 1\n[collections.c]\n[components.api]\npath = \"api.wasm\"\n\
                [[routes]]\nroute = \"GET /\"\ncomponent = \"api\"\n\
                reads = [{ name = \"r\", op = \"get\", collection = \"c\", key = \"{query.x}\" }]\n";
    let manifest = crate::manifest::Manifest::parse(std::path::Path::new("t.toml"), text)
        .expect("a valid manifest");
    manifest.routes[0].clone()
}

/// A `{query.x}` placeholder reads the query as browsers do, and as the guest SDK does (the
/// integration test `effects::the_manifest_and_the_sdk_read_a_query_alike` checks the SDK
/// side over HTTP).
#[test]
fn a_query_placeholder_keeps_malformed_escapes_literally() {
    let route = query_route();
    for (query, expected) in [
        ("x=100%", "100%"),
        ("x=%zz%4", "%zz%4"),
        ("x=a+b%21", "a b!"),
        ("x=%ff", "\u{fffd}"),
        ("y=1&x", ""),
        ("&&x=2&x=3", "2"),
    ] {
        let reads = Effects::declared(&route, &[], query);
        match &reads[0].op {
            ReadOp::Get(Key { key, .. }) => assert_eq!(key, expected, "{query}"),
            other => panic!("a get was declared, not {other:?}"),
        }
    }
}

fn route_reading(reads: &str) -> RouteDecl {
    let text = format!(
        "version = 1\n[components.c]\npath = \"c.wasm\"\n[[routes]]\nroute = \"GET /\"\n\
         component = \"c\"\nreads = [{reads}]\n"
    );
    let manifest = Manifest::parse("m.toml".as_ref(), &text).expect("valid manifest");
    manifest.routes[0].clone()
}

#[tokio::test]
async fn gives_fresh_random_bytes_only_to_routes_that_declare_them() {
    let route = route_reading("{ name = \"visitor\", op = \"random\" }");
    let declared = Effects::declared(&route, &[], "");
    let effects = Effects::none();
    let bytes = |results: Vec<ReadResult>| match &results[0].value {
        Ok(ReadValue::Value(Some(bytes))) => bytes.clone(),
        other => panic!("{other:?}"),
    };
    let a = bytes(effects.reader().read(&route, &declared).await.unwrap());
    let b = bytes(effects.reader().read(&route, &declared).await.unwrap());
    assert_eq!(a.len(), RANDOM_BYTES);
    assert_ne!(a, b, "every read draws new bytes");

    let other = route_reading("{ name = \"t\", op = \"now\" }");
    let refused = effects.reader().read(&other, &declared).await.unwrap();
    assert!(
        matches!(&refused[0].value, Err(ReadError::Mismatch(_))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_request_that_read_a_key_it_writes_conflicts_if_the_key_changed_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let m = manifest();
    let e = effects(dir.path(), &m);
    let voter = &m.routes[2];
    let counter = Read {
        name: "n".into(),
        op: ReadOp::Counter(Key {
            collection: "votes".into(),
            key: "m".into(),
        }),
    };
    let vote = |who: &str| {
        vec![
            put("memes", &format!("m/{who}"), "1"),
            Write::Add(Add {
                collection: "votes".into(),
                key: "m".into(),
                delta: 1,
            }),
        ]
    };
    // Two requests of one visitor both find no record; the first to commit wins.
    let mut first = e.reader();
    let mut second = e.reader();
    for reader in [&mut first, &mut second] {
        let reads = [get("memes", "m/v"), counter.clone()];
        reader.read(voter, &reads).await.unwrap();
    }
    e.write(voter, first, vote("v")).await.unwrap();
    let err = e.write(voter, second, vote("v")).await.unwrap_err();
    assert!(err.is_conflict() && err.is_retryable(), "{err}");

    // Another visitor who read the counter (now changed) and their own record commits: a
    // counter read or a read of a key the request does not write is not a precondition.
    let mut other = e.reader();
    let reads = [get("memes", "m/w"), counter.clone(), get("memes", "m/v")];
    other.read(voter, &reads).await.unwrap();
    e.write(voter, e.reader(), vote("x")).await.unwrap();
    e.write(voter, other, vote("w")).await.unwrap();

    let out = e.reader().read(voter, &[counter]).await.unwrap();
    assert_eq!(
        out[0].value,
        Ok(ReadValue::Number(3)),
        "v, x and w, once each"
    );
}
