//! The storage seam, and its embedded implementation on redb. This is the only file that knows
//! redb; a networked store for multi-node deployments would implement [`Store`] beside it.
//!
//! Layout, per collection `C`:
//! * table `C`: key -> value bytes (for a counter collection, the value is an `i64`, little-endian);
//! * table `C#I` for each index `I`: (sort key, key) -> (); table `C#I#rev`: key -> sort key, so a
//!   put or delete can find and remove the entry's old position;
//! * for a counter collection, table `C#value`: (count, key) -> (), the index named `value`.

use std::collections::BTreeMap;
use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

use super::{ListRequest, ReadRequest, WriteOp};
use crate::component::{Entry, Page, ReadValue};

/// redb's own page cache, per database.
const CACHE_BYTES: usize = 32 << 20;

/// What a collection is, as far as storage cares.
#[derive(Debug, Clone, Default)]
pub struct CollectionSchema {
    pub counter: bool,
    /// Declared indexes other than the counter's `value`.
    pub indexes: Vec<String>,
}

/// Why the store failed. Its text goes to the log, never to a client.
#[derive(Debug, thiserror::Error)]
#[error("storage: {0}")]
pub struct StoreError(String);

impl StoreError {
    pub fn new(msg: impl Into<String>) -> Self {
        StoreError(msg.into())
    }
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

/// Storage for the effects layer: consistent multi-reads and atomic multi-writes.
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Performs reads on one consistent snapshot.
    fn read(&self, reads: &[ReadRequest]) -> Vec<Result<ReadValue, String>>;
    /// Applies writes atomically and durably: all of them or none.
    fn apply(&self, writes: &[WriteOp]) -> Result<(), StoreError>;
}

/// The embedded default: one redb file.
#[derive(Debug)]
pub struct RedbStore {
    db: Database,
    schema: BTreeMap<String, CollectionSchema>,
}

type Values<'a> = TableDefinition<'a, &'static str, &'static [u8]>;
type Ordered<'a> = TableDefinition<'a, (&'static str, &'static str), ()>;
type Reverse<'a> = TableDefinition<'a, &'static str, &'static str>;
type Counted<'a> = TableDefinition<'a, (i64, &'static str), ()>;
/// One entry as a table iterator yields it.
type Item<'a, K, V> =
    Result<(redb::AccessGuard<'a, K>, redb::AccessGuard<'a, V>), redb::StorageError>;

impl RedbStore {
    /// Opens (creating if needed) the database file and every declared table.
    pub fn open(
        path: &Path,
        schema: BTreeMap<String, CollectionSchema>,
    ) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError(format!("creating `{}`: {e}", dir.display())))?;
        }
        // redb's default page cache is 1 GiB, which a busy host fills and never gives back; the
        // OS page cache already holds the file, so a small cache of our own is enough.
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|e| StoreError(format!("opening `{}`: {e}", path.display())))?;
        let txn = db.begin_write().map_err(err)?;
        for (name, c) in &schema {
            txn.open_table(Values::new(name)).map_err(err)?;
            for index in &c.indexes {
                txn.open_table(Ordered::new(&format!("{name}#{index}")))
                    .map_err(err)?;
                txn.open_table(Reverse::new(&format!("{name}#{index}#rev")))
                    .map_err(err)?;
            }
            if c.counter {
                txn.open_table(Counted::new(&format!("{name}#value")))
                    .map_err(err)?;
            }
        }
        txn.commit().map_err(err)?;
        Ok(RedbStore { db, schema })
    }
}

impl Store for RedbStore {
    fn read(&self, reads: &[ReadRequest]) -> Vec<Result<ReadValue, String>> {
        let txn = match self.db.begin_read() {
            Ok(t) => t,
            Err(e) => return reads.iter().map(|_| Err(format!("storage: {e}"))).collect(),
        };
        reads
            .iter()
            .map(|r| read_one(&txn, r).map_err(|e| e.to_string()))
            .collect()
    }

    fn apply(&self, writes: &[WriteOp]) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        let txn = self.db.begin_write().map_err(err)?;
        for w in writes {
            match w {
                WriteOp::Put {
                    collection,
                    key,
                    value,
                    index_keys,
                } => {
                    txn.open_table(Values::new(collection))
                        .map_err(err)?
                        .insert(key.as_str(), value.as_slice())
                        .map_err(err)?;
                    let indexes = &self
                        .schema
                        .get(collection)
                        .map(|c| c.indexes.clone())
                        .unwrap_or_default();
                    for index in indexes {
                        let sort = index_keys
                            .iter()
                            .find(|(i, _)| i == index)
                            .map(|(_, s)| s.as_str());
                        reindex(&txn, collection, index, key, sort)?;
                    }
                }
                WriteOp::Delete { collection, key } => {
                    let counter = self.schema.get(collection).is_some_and(|c| c.counter);
                    let old = txn
                        .open_table(Values::new(collection))
                        .map_err(err)?
                        .remove(key.as_str())
                        .map_err(err)?
                        .map(|v| v.value().to_vec());
                    if counter && let Some(old) = old {
                        txn.open_table(Counted::new(&format!("{collection}#value")))
                            .map_err(err)?
                            .remove((decode_counter(&old), key.as_str()))
                            .map_err(err)?;
                    }
                    let indexes = self
                        .schema
                        .get(collection)
                        .map(|c| c.indexes.clone())
                        .unwrap_or_default();
                    for index in &indexes {
                        reindex(&txn, collection, index, key, None)?;
                    }
                }
                WriteOp::Add {
                    collection,
                    key,
                    delta,
                } => {
                    let mut values = txn.open_table(Values::new(collection)).map_err(err)?;
                    let old = values
                        .get(key.as_str())
                        .map_err(err)?
                        .map(|v| decode_counter(v.value()));
                    let new = old.unwrap_or(0).checked_add(*delta).ok_or_else(|| {
                        StoreError(format!("counter `{collection}/{key}` would overflow"))
                    })?;
                    values
                        .insert(key.as_str(), new.to_le_bytes().as_slice())
                        .map_err(err)?;
                    let mut ordered = txn
                        .open_table(Counted::new(&format!("{collection}#value")))
                        .map_err(err)?;
                    if let Some(old) = old {
                        ordered.remove((old, key.as_str())).map_err(err)?;
                    }
                    ordered.insert((new, key.as_str()), ()).map_err(err)?;
                }
            }
        }
        // Durability::Immediate (redb's default): committed to disk before the response is sent.
        txn.commit().map_err(err)
    }
}

fn reindex(
    txn: &redb::WriteTransaction,
    collection: &str,
    index: &str,
    key: &str,
    sort: Option<&str>,
) -> Result<(), StoreError> {
    let mut rev = txn
        .open_table(Reverse::new(&format!("{collection}#{index}#rev")))
        .map_err(err)?;
    let mut ordered = txn
        .open_table(Ordered::new(&format!("{collection}#{index}")))
        .map_err(err)?;
    if let Some(old) = rev.remove(key).map_err(err)? {
        ordered.remove((old.value(), key)).map_err(err)?;
    }
    if let Some(sort) = sort {
        ordered.insert((sort, key), ()).map_err(err)?;
        rev.insert(key, sort).map_err(err)?;
    }
    Ok(())
}

fn decode_counter(bytes: &[u8]) -> i64 {
    bytes.try_into().map(i64::from_le_bytes).unwrap_or(0)
}

fn read_one(txn: &redb::ReadTransaction, read: &ReadRequest) -> Result<ReadValue, StoreError> {
    match read {
        ReadRequest::Get { collection, key } => {
            let table = txn.open_table(Values::new(collection)).map_err(err)?;
            let value = table
                .get(key.as_str())
                .map_err(err)?
                .map(|v| v.value().to_vec());
            Ok(ReadValue::Value(value))
        }
        ReadRequest::Counter { collection, key } => {
            let table = txn.open_table(Values::new(collection)).map_err(err)?;
            let value = table
                .get(key.as_str())
                .map_err(err)?
                .map(|v| decode_counter(v.value()));
            Ok(ReadValue::Number(value.unwrap_or(0)))
        }
        ReadRequest::Count { collection } => {
            let table = txn.open_table(Values::new(collection)).map_err(err)?;
            Ok(ReadValue::Number(
                i64::try_from(table.len().map_err(err)?).unwrap_or(i64::MAX),
            ))
        }
        ReadRequest::List(q) => list(txn, q),
    }
}

/// Cursors are the last entry's position, hex-encoded so they travel in URLs as they are.
fn encode_cursor(sort: &str, key: &str) -> String {
    let mut s = String::with_capacity((sort.len() + key.len() + 1) * 2);
    for b in sort.bytes().chain([0]).chain(key.bytes()) {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn decode_cursor(cursor: &str) -> Result<(String, String), StoreError> {
    let bad = || StoreError(format!("malformed cursor `{cursor}`"));
    if !cursor.len().is_multiple_of(2) {
        return Err(bad());
    }
    let bytes = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(cursor.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (sort, key) = text.split_once('\0').ok_or_else(bad)?;
    Ok((sort.to_owned(), key.to_owned()))
}

/// The smallest string greater than every string that starts with `prefix` (`None`: no bound).
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (last as u32 + 1..=char::MAX as u32).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// A walk over positions (sort key, key) of one table, from a cursor, within a prefix.
struct Walk<'a> {
    descending: bool,
    prefix: &'a str,
    after: Option<(String, String)>,
    want: usize,
}

impl Walk<'_> {
    /// Feeds positions in walk order to `out` until `want` are collected; skips the cursor's own.
    fn collect<I, E>(&self, iter: I, out: &mut Vec<(String, String)>) -> Result<(), StoreError>
    where
        I: Iterator<Item = Result<(String, String), E>>,
        E: std::fmt::Display,
    {
        for item in iter {
            let pos = item.map_err(err)?;
            if self.after.as_ref() == Some(&pos) {
                continue;
            }
            if !pos.0.starts_with(self.prefix) {
                // Past the prefix's range in walk order (before it only when a cursor was foreign).
                let before = if self.descending {
                    pos.0.as_str() < self.prefix
                } else {
                    pos.0.as_str() > self.prefix
                };
                if before {
                    break;
                }
                continue;
            }
            out.push(pos);
            if out.len() == self.want {
                break;
            }
        }
        Ok(())
    }
}

fn list(txn: &redb::ReadTransaction, q: &ListRequest) -> Result<ReadValue, StoreError> {
    let after = q
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(decode_cursor)
        .transpose()?;
    let values = txn.open_table(Values::new(&q.collection)).map_err(err)?;
    let walk = Walk {
        descending: q.descending,
        prefix: &q.prefix,
        after,
        want: q.limit as usize + 1,
    };
    let end = prefix_end(&q.prefix);
    // Positions (sort key, key) in walk order, one more than asked to know if a page follows.
    let mut positions: Vec<(String, String)> = Vec::with_capacity(walk.want);
    if q.index.is_empty() {
        let table = &values;
        let from = walk
            .after
            .as_ref()
            .map(|(_, k)| k.clone())
            .unwrap_or_else(|| q.prefix.clone());
        let pos = |r: Item<'_, &'static str, &'static [u8]>| {
            r.map(|(k, _)| (k.value().to_owned(), k.value().to_owned()))
        };
        if q.descending {
            let iter = match (&walk.after, &end) {
                (Some(_), _) => table.range(..=from.as_str()).map_err(err)?,
                (None, Some(end)) => table.range(..end.as_str()).map_err(err)?,
                (None, None) => table.iter().map_err(err)?,
            };
            walk.collect(iter.rev().map(pos), &mut positions)?;
        } else {
            walk.collect(
                table.range(from.as_str()..).map_err(err)?.map(pos),
                &mut positions,
            )?;
        }
    } else if q.index == "value" {
        if !q.prefix.is_empty() {
            return Err(StoreError::new(
                "a prefix cannot be used on the counter index `value`",
            ));
        }
        let table = txn
            .open_table(Counted::new(&format!("{}#value", q.collection)))
            .map_err(err)?;
        let from = walk
            .after
            .as_ref()
            .map(|(s, k)| {
                s.parse::<i64>()
                    .map(|n| (n, k.clone()))
                    .map_err(|_| StoreError::new("malformed cursor"))
            })
            .transpose()?;
        let pos = |r: Item<'_, (i64, &'static str), ()>| {
            r.map(|(p, _)| {
                let (n, k) = p.value();
                (n.to_string(), k.to_owned())
            })
        };
        let iter = match (&from, q.descending) {
            (None, _) => table.iter().map_err(err)?,
            (Some((n, k)), false) => table.range((*n, k.as_str())..).map_err(err)?,
            (Some((n, k)), true) => table.range(..=(*n, k.as_str())).map_err(err)?,
        };
        if q.descending {
            walk.collect(iter.rev().map(pos), &mut positions)?;
        } else {
            walk.collect(iter.map(pos), &mut positions)?;
        }
    } else {
        let table = txn
            .open_table(Ordered::new(&format!("{}#{}", q.collection, q.index)))
            .map_err(err)?;
        let pos = |r: Item<'_, (&'static str, &'static str), ()>| {
            r.map(|(p, _)| {
                let (s, k) = p.value();
                (s.to_owned(), k.to_owned())
            })
        };
        if q.descending {
            let iter = match (&walk.after, &end) {
                (Some((s, k)), _) => table.range(..=(s.as_str(), k.as_str())).map_err(err)?,
                (None, Some(end)) => table.range(..(end.as_str(), "")).map_err(err)?,
                (None, None) => table.iter().map_err(err)?,
            };
            walk.collect(iter.rev().map(pos), &mut positions)?;
        } else {
            let iter = match &walk.after {
                Some((s, k)) => table.range((s.as_str(), k.as_str())..).map_err(err)?,
                None => table.range((q.prefix.as_str(), "")..).map_err(err)?,
            };
            walk.collect(iter.map(pos), &mut positions)?;
        }
    }
    let more = positions.len() > q.limit as usize;
    positions.truncate(q.limit as usize);
    let next_cursor = if more {
        positions.last().map(|(s, k)| encode_cursor(s, k))
    } else {
        None
    };
    let mut entries = Vec::with_capacity(positions.len());
    for (_, key) in positions {
        if let Some(v) = values.get(key.as_str()).map_err(err)? {
            entries.push(Entry {
                key,
                value: v.value().to_vec(),
            });
        }
    }
    Ok(ReadValue::Page(Page {
        entries,
        next_cursor,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &Path) -> RedbStore {
        let mut schema = BTreeMap::new();
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
        RedbStore::open(&dir.join("db.redb"), schema).unwrap()
    }

    fn put(key: &str, sort: &str) -> WriteOp {
        WriteOp::Put {
            collection: "memes".into(),
            key: key.into(),
            value: key.as_bytes().to_vec(),
            index_keys: vec![("new".into(), sort.into())],
        }
    }

    fn page(
        store: &RedbStore,
        index: &str,
        descending: bool,
        cursor: Option<String>,
        limit: u32,
    ) -> Page {
        let collection = if index == "value" { "votes" } else { "memes" };
        let r = ReadRequest::List(ListRequest {
            collection: collection.into(),
            index: index.into(),
            prefix: String::new(),
            descending,
            cursor,
            limit,
        });
        match store.read(&[r]).remove(0).unwrap() {
            ReadValue::Page(p) => p,
            other => panic!("not a page: {other:?}"),
        }
    }

    fn keys(p: &Page) -> Vec<&str> {
        p.entries.iter().map(|e| e.key.as_str()).collect()
    }

    #[test]
    fn lists_an_index_in_both_directions_with_cursors() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        s.apply(&[put("a", "3"), put("b", "1"), put("c", "2")])
            .unwrap();
        let p = page(&s, "new", true, None, 2);
        assert_eq!(keys(&p), ["a", "c"]);
        let p2 = page(&s, "new", true, p.next_cursor.clone(), 2);
        assert_eq!(keys(&p2), ["b"]);
        assert_eq!(p2.next_cursor, None);
        assert_eq!(keys(&page(&s, "new", false, None, 10)), ["b", "c", "a"]);
        assert_eq!(keys(&page(&s, "", false, None, 10)), ["a", "b", "c"]);
    }

    #[test]
    fn overwriting_moves_the_index_entry() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        s.apply(&[put("a", "1"), put("b", "2")]).unwrap();
        s.apply(&[put("a", "9")]).unwrap();
        assert_eq!(keys(&page(&s, "new", true, None, 10)), ["a", "b"]);
        s.apply(&[WriteOp::Delete {
            collection: "memes".into(),
            key: "a".into(),
        }])
        .unwrap();
        assert_eq!(keys(&page(&s, "new", true, None, 10)), ["b"]);
    }

    #[test]
    fn counters_add_and_order_by_value() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let add = |k: &str, d| WriteOp::Add {
            collection: "votes".into(),
            key: k.into(),
            delta: d,
        };
        s.apply(&[add("x", 1), add("y", 5), add("x", 1), add("z", 0)])
            .unwrap();
        assert_eq!(keys(&page(&s, "value", true, None, 10)), ["y", "x", "z"]);
        let r = s.read(&[ReadRequest::Counter {
            collection: "votes".into(),
            key: "x".into(),
        }]);
        assert_eq!(r[0].as_ref().unwrap(), &ReadValue::Number(2));
        let p = page(&s, "value", true, None, 1);
        assert_eq!(keys(&page(&s, "value", true, p.next_cursor, 5)), ["x", "z"]);
    }

    #[test]
    fn a_failing_write_applies_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        s.apply(&[WriteOp::Add {
            collection: "votes".into(),
            key: "x".into(),
            delta: i64::MAX,
        }])
        .unwrap();
        let r = s.apply(&[
            put("a", "1"),
            WriteOp::Add {
                collection: "votes".into(),
                key: "x".into(),
                delta: 1,
            },
        ]);
        assert!(r.is_err());
        let got = s.read(&[ReadRequest::Get {
            collection: "memes".into(),
            key: "a".into(),
        }]);
        assert_eq!(got[0].as_ref().unwrap(), &ReadValue::Value(None));
    }

    #[test]
    fn rejects_a_malformed_cursor() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let r = ReadRequest::List(ListRequest {
            collection: "memes".into(),
            index: "new".into(),
            prefix: String::new(),
            descending: false,
            cursor: Some("zz".into()),
            limit: 5,
        });
        assert!(
            s.read(&[r])[0]
                .as_ref()
                .unwrap_err()
                .contains("malformed cursor")
        );
    }

    #[test]
    fn lists_only_the_prefix_in_both_directions() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        s.apply(&[
            put("a", "phd/1"),
            put("b", "phd/2"),
            put("c", "pha/9"),
            put("d", "phe/0"),
            put("e", "phd/3"),
        ])
        .unwrap();
        let list = |descending, cursor: Option<String>, limit| {
            let r = ReadRequest::List(ListRequest {
                collection: "memes".into(),
                index: "new".into(),
                prefix: "phd/".into(),
                descending,
                cursor,
                limit,
            });
            match s.read(&[r]).remove(0).unwrap() {
                ReadValue::Page(p) => p,
                other => panic!("not a page: {other:?}"),
            }
        };
        assert_eq!(keys(&list(false, None, 10)), ["a", "b", "e"]);
        assert_eq!(keys(&list(true, None, 10)), ["e", "b", "a"]);
        let first = list(true, None, 2);
        assert_eq!(keys(&list(true, first.next_cursor, 2)), ["a"]);
    }
}
