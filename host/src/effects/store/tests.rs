//! One behaviour suite for every [`Storage`]: each test is written once against the trait and
//! run on redb (a temp file) and on etcd (a real single-member `etcd` on free loopback ports,
//! started by the test and stopped when it ends).

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::seam::*;
use super::*;
use crate::component::{Page, ReadError, ReadValue};
use crate::effects::{ListRequest, ReadRequest, WriteOp};

fn schema() -> Schema {
    let mut schema = Schema::new();
    schema.insert(
        "memes".into(),
        CollectionSchema {
            counter: false,
            indexes: vec!["new".into()],
        },
    );
    schema.insert(
        "votes".into(),
        CollectionSchema {
            counter: true,
            indexes: vec![],
        },
    );
    schema
}

/// A store for one test, and what must live as long as it.
struct Fixture {
    store: Arc<dyn Storage>,
    _dir: tempfile::TempDir,
    _server: Option<EtcdServer>,
}

fn redb() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = RedbStore::open(&dir.path().join("db.redb"), schema()).expect("opens");
    Fixture {
        store: Arc::new(store),
        _dir: dir,
        _server: None,
    }
}

/// An `etcd` process, killed when dropped.
struct EtcdServer {
    child: Child,
}

impl Drop for EtcdServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn etcd() -> Fixture {
    let etcd = etcd_store();
    Fixture {
        store: Arc::new(etcd.store),
        _dir: etcd._dir,
        _server: Some(etcd._server),
    }
}

/// An etcd store on a single-member etcd of its own, and what must live as long as it.
pub(super) struct EtcdFixture {
    pub(super) store: EtcdStore,
    _dir: tempfile::TempDir,
    _server: EtcdServer,
}

/// A single-member `etcd` on free loopback ports in a temp folder, and a store on it
/// (namespace `unit`, the suite's [`schema`]).
pub(super) fn etcd_store() -> EtcdFixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let (client, peer) = (free_port(), free_port());
    let endpoint = format!("127.0.0.1:{client}");
    let child = Command::new("etcd")
        .arg("--data-dir")
        .arg(dir.path().join("member"))
        .args(["--listen-client-urls", &format!("http://{endpoint}")])
        .args(["--advertise-client-urls", &format!("http://{endpoint}")])
        .args(["--listen-peer-urls", &format!("http://127.0.0.1:{peer}")])
        .args([
            "--initial-advertise-peer-urls",
            &format!("http://127.0.0.1:{peer}"),
        ])
        .args([
            "--initial-cluster",
            &format!("default=http://127.0.0.1:{peer}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting `etcd` (scripts/setup.sh installs Debian's etcd-server)");
    let server = EtcdServer { child };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(&endpoint).is_err() {
        assert!(
            Instant::now() < deadline,
            "etcd did not start on {endpoint}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let config = EtcdConfig {
        endpoints: vec![endpoint],
        namespace: "unit".into(),
        timeout: Duration::from_secs(5),
    };
    EtcdFixture {
        store: EtcdStore::new(&config, schema()),
        _dir: dir,
        _server: server,
    }
}

/// Runs one suite test on both stores.
macro_rules! on_every_store {
    ($($name:ident),* $(,)?) => {
        mod on_redb {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::redb().store.as_ref()).await;
                }
            )*
        }
        mod on_etcd {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::etcd().store.as_ref()).await;
                }
            )*
        }
    };
}

on_every_store!(
    lists_an_index_in_both_directions_with_cursors,
    overwriting_moves_the_index_entry,
    counters_add_and_order_by_value,
    a_failing_write_applies_nothing,
    rejects_a_malformed_cursor,
    lists_only_the_prefix_in_both_directions,
    lists_primary_keys_with_a_prefix_and_cursor,
    a_snapshot_does_not_see_later_writes,
    versions_change_with_every_write_to_their_collection,
    large_values_round_trip,
    keeps_odd_bytes_in_sort_keys_in_order,
    a_precondition_on_an_unchanged_key_commits,
    a_precondition_on_a_changed_key_conflicts_and_writes_nothing,
    a_precondition_on_an_absent_key_conflicts_once_it_is_created,
    a_precondition_ignores_writes_to_other_keys,
    concurrent_requests_each_commit_all_or_nothing,
);

fn put(key: &str, sort: &str) -> WriteOp {
    WriteOp::Put {
        collection: "memes".into(),
        key: key.into(),
        value: key.as_bytes().to_vec(),
        index_keys: vec![("new".into(), sort.into())],
    }
}

fn add(key: &str, delta: i64) -> WriteOp {
    WriteOp::Add {
        collection: "votes".into(),
        key: key.into(),
        delta,
    }
}

fn list(
    index: &str,
    prefix: &str,
    descending: bool,
    cursor: Option<String>,
    limit: u32,
) -> ReadRequest {
    let collection = if index == "value" { "votes" } else { "memes" };
    ReadRequest::List(ListRequest {
        collection: collection.into(),
        index: index.into(),
        prefix: prefix.into(),
        descending,
        cursor,
        limit,
    })
}

async fn read_one(store: &dyn Storage, read: ReadRequest) -> ReadOutcome {
    store
        .snapshot()
        .read(&[read])
        .await
        .expect("the store answers")
        .remove(0)
}

async fn page_of(store: &dyn Storage, read: ReadRequest) -> Page {
    match read_one(store, read).await {
        Ok(ReadValue::Page(p)) => p,
        other => panic!("not a page: {other:?}"),
    }
}

async fn page(
    store: &dyn Storage,
    index: &str,
    descending: bool,
    cursor: Option<String>,
    limit: u32,
) -> Page {
    page_of(store, list(index, "", descending, cursor, limit)).await
}

fn keys(p: &Page) -> Vec<&str> {
    p.entries.iter().map(|e| e.key.as_str()).collect()
}

async fn get(store: &dyn Storage, key: &str) -> Option<Vec<u8>> {
    let read = ReadRequest::Get {
        collection: "memes".into(),
        key: key.into(),
    };
    match read_one(store, read).await {
        Ok(ReadValue::Value(v)) => v,
        other => panic!("not a value: {other:?}"),
    }
}

async fn apply(store: &dyn Storage, writes: Vec<WriteOp>) {
    store.apply(writes).await.expect("writes apply");
}

async fn lists_an_index_in_both_directions_with_cursors(s: &dyn Storage) {
    apply(s, vec![put("a", "3"), put("b", "1"), put("c", "2")]).await;
    let p = page(s, "new", true, None, 2).await;
    assert_eq!(keys(&p), ["a", "c"]);
    let p2 = page(s, "new", true, p.next_cursor.clone(), 2).await;
    assert_eq!(keys(&p2), ["b"]);
    assert_eq!(p2.next_cursor, None);
    assert_eq!(
        keys(&page(s, "new", false, None, 10).await),
        ["b", "c", "a"]
    );
    assert_eq!(keys(&page(s, "", false, None, 10).await), ["a", "b", "c"]);
    assert_eq!(keys(&page(s, "", true, None, 10).await), ["c", "b", "a"]);
    // The values come with the keys, whichever order is walked.
    let p = page(s, "new", false, None, 1).await;
    assert_eq!(p.entries[0].value, b"b");
}

async fn overwriting_moves_the_index_entry(s: &dyn Storage) {
    apply(s, vec![put("a", "1"), put("b", "2")]).await;
    apply(s, vec![put("a", "9")]).await;
    assert_eq!(keys(&page(s, "new", true, None, 10).await), ["a", "b"]);
    apply(
        s,
        vec![WriteOp::Delete {
            collection: "memes".into(),
            key: "a".into(),
        }],
    )
    .await;
    assert_eq!(keys(&page(s, "new", true, None, 10).await), ["b"]);
    assert_eq!(get(s, "a").await, None);
}

async fn counters_add_and_order_by_value(s: &dyn Storage) {
    apply(s, vec![add("x", 1), add("y", 5), add("x", 1), add("z", 0)]).await;
    assert_eq!(
        keys(&page(s, "value", true, None, 10).await),
        ["y", "x", "z"]
    );
    let r = read_one(
        s,
        ReadRequest::Counter {
            collection: "votes".into(),
            key: "x".into(),
        },
    )
    .await;
    assert_eq!(r, Ok(ReadValue::Number(2)));
    let p = page(s, "value", true, None, 1).await;
    assert_eq!(
        keys(&page(s, "value", true, p.next_cursor, 5).await),
        ["x", "z"]
    );
    // A counter's entry holds its count as an `i64`, little-endian, on every store.
    let p = page(s, "value", false, None, 1).await;
    assert_eq!(p.entries[0].value, 0i64.to_le_bytes());
    apply(
        s,
        vec![
            add("y", -10),
            WriteOp::Delete {
                collection: "votes".into(),
                key: "z".into(),
            },
        ],
    )
    .await;
    assert_eq!(keys(&page(s, "value", false, None, 10).await), ["y", "x"]);
    let count = read_one(
        s,
        ReadRequest::Count {
            collection: "votes".into(),
        },
    )
    .await;
    assert_eq!(count, Ok(ReadValue::Number(2)));
}

async fn a_failing_write_applies_nothing(s: &dyn Storage) {
    apply(s, vec![add("x", i64::MAX)]).await;
    let r = s.apply(vec![put("a", "1"), add("x", 1)]).await;
    assert!(
        matches!(&r, Err(StoreError::Rejected(m)) if m.contains("would overflow")),
        "{r:?}"
    );
    assert_eq!(get(s, "a").await, None);
    assert_eq!(
        keys(&page(s, "new", false, None, 10).await),
        Vec::<&str>::new()
    );
}

/// Polls every future until all are done (they run concurrently on this task).
async fn all<T>(mut futures: Vec<BoxFuture<'_, T>>) -> Vec<T> {
    let mut out: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, out) in futures.iter_mut().zip(out.iter_mut()) {
            if out.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *out = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

/// Concurrent requests (which redb commits in groups): each one all or nothing, and one that
/// fails loses only its own writes.
async fn concurrent_requests_each_commit_all_or_nothing(s: &dyn Storage) {
    apply(s, vec![add("full", i64::MAX)]).await;
    let failing = |i: usize| i % 8 == 3;
    let requests = (0..40)
        .map(|i| {
            let writes = if failing(i) {
                vec![put(&format!("bad{i}"), "b"), add("full", 1)]
            } else {
                vec![put(&format!("good{i}"), "g"), add("x", 1)]
            };
            s.apply(writes)
        })
        .collect();
    let results = all(requests).await;
    for (i, result) in results.iter().enumerate() {
        if failing(i) {
            assert!(
                matches!(result, Err(StoreError::Rejected(m)) if m.contains("would overflow")),
                "{i}: {result:?}"
            );
            assert_eq!(get(s, &format!("bad{i}")).await, None, "{i}");
        } else {
            assert!(result.is_ok(), "{i}: {result:?}");
            assert!(get(s, &format!("good{i}")).await.is_some(), "{i}");
        }
    }
    assert_eq!(counted(s, "x").await, Ok(ReadValue::Number(35)));
    assert_eq!(counted(s, "full").await, Ok(ReadValue::Number(i64::MAX)));
}

async fn rejects_a_malformed_cursor(s: &dyn Storage) {
    let r = read_one(s, list("new", "", false, Some("zz".into()), 5)).await;
    assert_eq!(r.unwrap_err(), ReadError::BadCursor("zz".into()));
    let r = read_one(s, list("value", "1", false, None, 5)).await;
    assert_eq!(r.unwrap_err(), ReadError::Mismatch(PREFIX_ON_VALUE.into()));
}

async fn lists_only_the_prefix_in_both_directions(s: &dyn Storage) {
    apply(
        s,
        vec![
            put("a", "phd/1"),
            put("b", "phd/2"),
            put("c", "pha/9"),
            put("d", "phe/0"),
            put("e", "phd/3"),
        ],
    )
    .await;
    let l = |descending, cursor, limit| list("new", "phd/", descending, cursor, limit);
    assert_eq!(keys(&page_of(s, l(false, None, 10)).await), ["a", "b", "e"]);
    assert_eq!(keys(&page_of(s, l(true, None, 10)).await), ["e", "b", "a"]);
    let first = page_of(s, l(true, None, 2)).await;
    assert_eq!(
        keys(&page_of(s, l(true, first.next_cursor, 2)).await),
        ["a"]
    );
    let first = page_of(s, l(false, None, 2)).await;
    let second = page_of(s, l(false, first.next_cursor, 2)).await;
    assert_eq!(
        (keys(&second), second.next_cursor.as_deref()),
        (vec!["e"], None)
    );
}

async fn lists_primary_keys_with_a_prefix_and_cursor(s: &dyn Storage) {
    let keys_in = ["img/1", "img/2", "img/3", "imh", "im", "txt/1"];
    apply(s, keys_in.iter().map(|k| put(k, "s")).collect()).await;
    let l = |descending, cursor, limit| list("", "img/", descending, cursor, limit);
    let first = page_of(s, l(false, None, 2)).await;
    assert_eq!(keys(&first), ["img/1", "img/2"]);
    assert_eq!(
        keys(&page_of(s, l(false, first.next_cursor, 2)).await),
        ["img/3"]
    );
    let first = page_of(s, l(true, None, 2)).await;
    assert_eq!(keys(&first), ["img/3", "img/2"]);
    let rest = page_of(s, l(true, first.next_cursor, 2)).await;
    assert_eq!(
        (keys(&rest), rest.next_cursor.as_deref()),
        (vec!["img/1"], None)
    );
}

/// The reads of one request (its declared reads and every `need` round) see one state.
async fn a_snapshot_does_not_see_later_writes(s: &dyn Storage) {
    apply(s, vec![put("a", "1"), add("x", 1)]).await;
    let mut snapshot = s.snapshot();
    let first = snapshot
        .read(&[ReadRequest::Get {
            collection: "memes".into(),
            key: "a".into(),
        }])
        .await
        .unwrap();
    assert_eq!(first, [Ok(ReadValue::Value(Some(b"a".to_vec())))]);
    apply(
        s,
        vec![
            put("b", "2"),
            WriteOp::Delete {
                collection: "memes".into(),
                key: "a".into(),
            },
            add("x", 1),
        ],
    )
    .await;
    let later = snapshot
        .read(&[
            ReadRequest::Get {
                collection: "memes".into(),
                key: "a".into(),
            },
            ReadRequest::Counter {
                collection: "votes".into(),
                key: "x".into(),
            },
            list("new", "", false, None, 10),
            ReadRequest::Count {
                collection: "memes".into(),
            },
        ])
        .await
        .unwrap();
    assert_eq!(later[0], Ok(ReadValue::Value(Some(b"a".to_vec()))));
    assert_eq!(later[1], Ok(ReadValue::Number(1)));
    assert!(matches!(&later[2], Ok(ReadValue::Page(p)) if keys(p) == ["a"]));
    assert_eq!(later[3], Ok(ReadValue::Number(1)));
    // A new snapshot sees the new state.
    assert_eq!(get(s, "a").await, None);
}

async fn versions_change_with_every_write_to_their_collection(s: &dyn Storage) {
    let versions =
        async |s: &dyn Storage| s.snapshot().versions(&["memes", "votes"]).await.unwrap();
    let before = versions(s).await;
    apply(s, vec![add("x", 1)]).await;
    let after_vote = versions(s).await;
    assert_eq!(after_vote[0], before[0], "memes was not written");
    assert_ne!(after_vote[1], before[1], "votes was written");
    apply(s, vec![put("a", "1")]).await;
    let after_put = versions(s).await;
    assert_ne!(after_put[0], after_vote[0]);
    assert_eq!(after_put[1], after_vote[1]);
    assert!(s.snapshot().versions(&[]).await.unwrap().is_empty());
}

/// The read of counter `votes/key`.
async fn counted(s: &dyn Storage, key: &str) -> ReadOutcome {
    let read = ReadRequest::Counter {
        collection: "votes".into(),
        key: key.into(),
    };
    read_one(s, read).await
}

/// A snapshot that read `memes/key` with `get`, and the precondition that it is unchanged.
async fn read_for_update(s: &dyn Storage, key: &str) -> WriteOp {
    let mut snapshot = s.snapshot();
    let read = ReadRequest::Get {
        collection: "memes".into(),
        key: key.into(),
    };
    snapshot.read(&[read]).await.expect("the store answers");
    WriteOp::Unchanged {
        collection: "memes".into(),
        key: key.into(),
        seen: snapshot.seen("memes", key).expect("read in this snapshot"),
    }
}

async fn a_precondition_on_an_unchanged_key_commits(s: &dyn Storage) {
    apply(s, vec![put("a", "1")]).await;
    let unchanged = read_for_update(s, "a").await;
    let mut replaced = put("a", "2");
    if let WriteOp::Put { value, .. } = &mut replaced {
        *value = b"replaced".to_vec();
    }
    apply(s, vec![unchanged, replaced, add("a", 1)]).await;
    assert_eq!(get(s, "a").await, Some(b"replaced".to_vec()));
    assert_eq!(counted(s, "a").await, Ok(ReadValue::Number(1)));
}

async fn a_precondition_on_a_changed_key_conflicts_and_writes_nothing(s: &dyn Storage) {
    apply(s, vec![put("a", "1")]).await;
    let unchanged = read_for_update(s, "a").await;
    let delete = WriteOp::Delete {
        collection: "memes".into(),
        key: "a".into(),
    };
    // Another request deletes `a` first; ours, which read it, must not commit on top.
    let other = read_for_update(s, "a").await;
    apply(s, vec![other, delete.clone(), add("a", -1)]).await;
    let err = s
        .apply(vec![unchanged, delete, add("a", -1), put("b", "2")])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert!(err.is_retryable());
    assert_eq!(
        get(s, "b").await,
        None,
        "nothing of the request was written"
    );
    assert_eq!(
        counted(s, "a").await,
        Ok(ReadValue::Number(-1)),
        "one deletion counted, not two"
    );
}

/// The double vote: two requests both see no record, and only the first may create it.
async fn a_precondition_on_an_absent_key_conflicts_once_it_is_created(s: &dyn Storage) {
    let first = read_for_update(s, "r").await;
    let second = read_for_update(s, "r").await;
    apply(s, vec![first, put("r", "1"), add("m", 1)]).await;
    let err = s
        .apply(vec![second, put("r", "1"), add("m", 1)])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert_eq!(counted(s, "m").await, Ok(ReadValue::Number(1)));
}

/// Different records and the shared counter: no false conflicts.
async fn a_precondition_ignores_writes_to_other_keys(s: &dyn Storage) {
    let one = read_for_update(s, "v1").await;
    let two = read_for_update(s, "v2").await;
    apply(s, vec![one, put("v1", "1"), add("m", 1)]).await;
    apply(s, vec![two, put("v2", "1"), add("m", 1)]).await;
    assert_eq!(counted(s, "m").await, Ok(ReadValue::Number(2)));
}

/// Past etcd's 1.5 MiB request limit, and several such values in one request.
async fn large_values_round_trip(s: &dyn Storage) {
    let big: Vec<u8> = (0..5 * 1024 * 1024 + 17).map(|i| (i % 251) as u8).collect();
    let also: Vec<u8> = big.iter().rev().copied().collect();
    apply(
        s,
        vec![
            WriteOp::Put {
                collection: "memes".into(),
                key: "big".into(),
                value: big.clone(),
                index_keys: vec![("new".into(), "2".into())],
            },
            WriteOp::Put {
                collection: "memes".into(),
                key: "also".into(),
                value: also.clone(),
                index_keys: vec![("new".into(), "1".into())],
            },
            put("small", "3"),
        ],
    )
    .await;
    assert_eq!(get(s, "big").await.as_deref(), Some(big.as_slice()));
    let p = page(s, "new", false, None, 10).await;
    assert_eq!(keys(&p), ["also", "big", "small"]);
    assert!(p.entries[0].value == also && p.entries[1].value == big);
    let p = page(s, "", false, None, 10).await;
    assert!(p.entries[0].value == also && p.entries[1].value == big);
    // Overwritten by a small value: the large one is gone.
    apply(s, vec![put("big", "2")]).await;
    assert_eq!(get(s, "big").await.as_deref(), Some(&b"big"[..]));
}

async fn keeps_odd_bytes_in_sort_keys_in_order(s: &dyn Storage) {
    let sorts = ["", "a", "a\0", "a\0\0", "a\u{1}", "ab", "\u{ff}", "ÿÿ"];
    apply(
        s,
        sorts
            .iter()
            .enumerate()
            .map(|(i, sort)| put(&format!("k{i}"), sort))
            .collect(),
    )
    .await;
    let mut want: Vec<(&str, String)> = sorts
        .iter()
        .enumerate()
        .map(|(i, s)| (*s, format!("k{i}")))
        .collect();
    want.sort();
    let want: Vec<&str> = want.iter().map(|(_, k)| k.as_str()).collect();
    // Walk one entry per page: every cursor is a position with these odd bytes.
    let mut got = Vec::new();
    let mut cursor = None;
    for _ in 0..sorts.len() + 1 {
        let p = page(s, "new", false, cursor, 1).await;
        got.extend(keys(&p).iter().map(|k| k.to_string()));
        cursor = p.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(got, want);
}

#[test]
fn cursors_of_the_old_format_still_read() {
    // `hex("3" 00 "a")`, as earlier versions wrote it.
    assert_eq!(decode_cursor("330061"), Ok(("3".into(), "a".into())));
    let new = encode_cursor(b"a\0b", b"k");
    assert_eq!(decode_cursor(&new), Ok(("a\0b".into(), "k".into())));
    assert_eq!(decode_cursor("zz"), Err(ReadError::BadCursor("zz".into())));
    assert!(decode_cursor("61.6").is_err());
}
