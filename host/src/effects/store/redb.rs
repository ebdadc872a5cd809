//! The embedded store: one redb file. Fast, durable, one process. The only file that knows redb.
//!
//! Layout, per collection `C`:
//! * table `C`: key -> value bytes (for a counter collection, the value is an `i64`, little-endian);
//! * table `C#I` for each index `I`: (sort key, key) -> (); table `C#I#rev`: key -> sort key, so a
//!   put or delete can find and remove the entry's old position;
//! * for a counter collection, table `C#value`: (count, key) -> (), the index named `value`.
//!
//! Collection versions (for memo keys) are counters in memory, bumped after each commit: one
//! process owns the file, so no other writer can change it behind them.
//!
//! Reads run on the calling task (a read transaction over redb's page cache costs microseconds);
//! a commit waits for the disk, so writes run on tokio's blocking pool, in group commits (see
//! `group`): the requests that arrive during one commit share the next transaction and its fsync.
//! Each request in it is checked against the state its predecessors left (preconditions, counter
//! overflow) before any of its writes is applied, so one that fails is left out alone.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

use super::group::GroupCommit;
use super::seam::{
    BoxFuture, PREFIX_ON_VALUE, ReadOutcome, Schema, Snapshot, Storage, StoreError, Writer,
    decode_cursor, encode_cursor,
};
use crate::component::{Entry, Page, ReadError, ReadValue};
use crate::effects::{ListRequest, ReadRequest, Seen, WriteOp};

/// redb's own page cache, per database. It is memory the host keeps whatever the load: with
/// 32 MiB, Academemes held 51 MB of anonymous memory after 120 uploads, with 4 MiB 23 MB, and
/// votes/s (64 connections), home-page memo misses/s and images/s did not move beyond the noise
/// (7 December 2026, release build, same run). The OS page cache holds the file anyway.
const CACHE_BYTES: usize = 4 << 20;

fn err(e: impl Into<redb::Error>) -> StoreError {
    let e: redb::Error = e.into();
    StoreError::failed("redb", e)
}

/// The embedded default: one redb file.
#[derive(Debug, Clone)]
pub struct RedbStore {
    db: Arc<Database>,
    schema: Arc<Schema>,
    /// Per collection, bumped after every committed write to it.
    versions: Arc<BTreeMap<String, AtomicU64>>,
    /// The write requests waiting for a commit.
    group: Arc<GroupCommit<Vec<WriteOp>>>,
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
    pub fn open(path: &Path, schema: Schema) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::failed(format!("creating `{}`", dir.display()), e))?;
        }
        // redb's default page cache is 1 GiB, which a busy host fills and never gives back; the
        // OS page cache already holds the file, so a small cache of our own is enough.
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|e| StoreError::failed(format!("opening `{}`", path.display()), e))?;
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
        let versions = schema
            .keys()
            .map(|c| (c.clone(), AtomicU64::new(0)))
            .collect();
        Ok(RedbStore {
            db: Arc::new(db),
            schema: Arc::new(schema),
            versions: Arc::new(versions),
            group: Arc::new(GroupCommit::new()),
        })
    }
}

impl Storage for RedbStore {
    fn snapshot(&self) -> Box<dyn Snapshot> {
        Box::new(RedbSnapshot {
            store: self.clone(),
            txn: None,
        })
    }

    fn apply(&self, writes: Vec<WriteOp>) -> BoxFuture<'_, Result<(), StoreError>> {
        self.apply_from(writes, Writer::uncounted())
    }

    fn writer(&self) -> Writer {
        self.group.writer()
    }

    fn apply_from(
        &self,
        writes: Vec<WriteOp>,
        writer: Writer,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            if writes.is_empty() {
                return Ok(());
            }
            let written: Vec<String> = writes
                .iter()
                .filter(|op| op.key().is_some())
                .map(|op| op.collection().to_owned())
                .collect();
            let store = self.clone();
            self.group
                .submit(writes, writer, move |batch| store.commit_batch(batch))
                .await?;
            // After the commit, so a memo key never names a version whose data it has not seen.
            for collection in &written {
                if let Some(v) = self.versions.get(collection) {
                    v.fetch_add(1, Ordering::AcqRel);
                }
            }
            Ok(())
        })
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move { self.db.begin_read().map(drop).map_err(err) })
    }
}

/// One read transaction, opened by the first read and kept for the request.
struct RedbSnapshot {
    store: RedbStore,
    txn: Option<redb::ReadTransaction>,
}

impl std::fmt::Debug for RedbSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbSnapshot")
            .field("open", &self.txn.is_some())
            .finish()
    }
}

impl Snapshot for RedbSnapshot {
    fn read<'a>(
        &'a mut self,
        reads: &'a [ReadRequest],
    ) -> BoxFuture<'a, Result<Vec<ReadOutcome>, StoreError>> {
        Box::pin(async move {
            let txn = match &mut self.txn {
                Some(txn) => txn,
                None => self.txn.insert(self.store.db.begin_read().map_err(err)?),
            };
            reads.iter().map(|r| read_one(txn, r)).collect()
        })
    }

    fn versions<'a>(
        &'a mut self,
        collections: &'a [&'a str],
    ) -> BoxFuture<'a, Result<Vec<u64>, StoreError>> {
        // Taken before the transaction opens (the handler asks before any read), and bumped only
        // after commits: the data a request then reads is at least as new as these versions, so
        // a reply is never stored under a version newer than what it saw.
        debug_assert!(self.txn.is_none(), "versions asked after a read");
        let versions = collections
            .iter()
            .map(|c| {
                self.store
                    .versions
                    .get(*c)
                    .map_or(0, |v| v.load(Ordering::Acquire))
            })
            .collect();
        Box::pin(std::future::ready(Ok(versions)))
    }

    fn seen(&self, collection: &str, key: &str) -> Result<Seen, StoreError> {
        // The read transaction is still open: it gives the value the request's `get` saw.
        let Some(txn) = &self.txn else {
            return Err(StoreError::Failed {
                what: format!("`{collection}/{key}` was not read in this snapshot"),
                source: None,
            });
        };
        let table = txn.open_table(Values::new(collection)).map_err(err)?;
        let value = table.get(key).map_err(err)?.map(|v| v.value().to_vec());
        Ok(Seen::Value(value))
    }
}

impl RedbStore {
    /// Commits a batch of requests in one transaction: each request checked, then applied, in
    /// order; one whose check fails is left out with its error. Durability::Immediate (redb's
    /// default): the commit has reached the disk when it returns, before any request is answered.
    fn commit_batch(&self, batch: &[Vec<WriteOp>]) -> Vec<Result<(), StoreError>> {
        let txn = match self.db.begin_write() {
            Ok(txn) => txn,
            Err(e) => return every(batch, &err(e)),
        };
        let mut results = Vec::with_capacity(batch.len());
        let mut tables = Tables::of(&txn);
        for writes in batch {
            let checked = self.check(&mut tables, writes);
            if checked.is_ok()
                && let Err(e) = self.apply_in(&mut tables, writes)
            {
                // Checked writes fail only if the storage does: this request is half applied
                // in the transaction, so none of the batch is committed.
                return every(batch, &e);
            }
            results.push(checked);
        }
        // Closing the tables writes their roots back into the transaction.
        drop(tables);
        match txn.commit() {
            Ok(()) => results,
            Err(e) => every(batch, &err(e)),
        }
    }

    /// Whether a request's writes can be applied on top of `txn` as it is: its preconditions
    /// hold and no counter would overflow. Reads only, so a request that fails here has written
    /// nothing. Preconditions come before the writes (see `Effects::apply`), so they are
    /// checked against the state before the request.
    fn check(&self, tables: &mut Tables<'_>, writes: &[WriteOp]) -> Result<(), StoreError> {
        // The counters this request changes, as its own earlier writes leave them.
        let mut counters: BTreeMap<(&str, &str), Option<i64>> = BTreeMap::new();
        let counter = |collection: &str| self.schema.get(collection).is_some_and(|c| c.counter);
        for w in writes {
            match w {
                WriteOp::ExpectEmpty { collection } => {
                    if !tables.values(collection)?.is_empty().map_err(err)? {
                        return Err(StoreError::Contended(format!(
                            "collection `{collection}` is no longer empty"
                        )));
                    }
                }
                WriteOp::Unchanged {
                    collection,
                    key,
                    seen,
                } => {
                    let Seen::Value(seen) = seen else {
                        return Err(StoreError::Failed {
                            what: format!(
                                "a precondition on `{collection}/{key}` from another store"
                            ),
                            source: None,
                        });
                    };
                    let table = tables.values(collection)?;
                    let now = table.get(key.as_str()).map_err(err)?;
                    if now.as_ref().map(|v| v.value()) != seen.as_deref() {
                        return Err(StoreError::Conflict(format!(
                            "`{collection}/{key}` changed after this request read it"
                        )));
                    }
                }
                WriteOp::Put {
                    collection,
                    key,
                    value,
                    ..
                } if counter(collection) => {
                    counters.insert((collection, key), Some(decode_counter(value)));
                }
                WriteOp::Delete { collection, key } if counter(collection) => {
                    counters.insert((collection, key), None);
                }
                WriteOp::Put { .. } | WriteOp::Delete { .. } => {}
                WriteOp::Add {
                    collection,
                    key,
                    delta,
                } => {
                    let old = match counters.get(&(collection.as_str(), key.as_str())) {
                        Some(known) => *known,
                        None => tables
                            .values(collection)?
                            .get(key.as_str())
                            .map_err(err)?
                            .map(|v| decode_counter(v.value())),
                    };
                    let new = old.unwrap_or(0).checked_add(*delta).ok_or_else(|| {
                        StoreError::Rejected(format!("counter `{collection}/{key}` would overflow"))
                    })?;
                    counters.insert((collection, key), Some(new));
                }
            }
        }
        Ok(())
    }

    /// Applies a request's writes to `txn`, after [`RedbStore::check`] passed them.
    fn apply_in(&self, tables: &mut Tables<'_>, writes: &[WriteOp]) -> Result<(), StoreError> {
        for w in writes {
            match w {
                WriteOp::Put {
                    collection,
                    key,
                    value,
                    index_keys,
                } => {
                    tables
                        .values(collection)?
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
                        reindex(tables, collection, index, key, sort)?;
                    }
                }
                WriteOp::Delete { collection, key } => {
                    let counter = self.schema.get(collection).is_some_and(|c| c.counter);
                    let old = tables
                        .values(collection)?
                        .remove(key.as_str())
                        .map_err(err)?
                        .map(|v| v.value().to_vec());
                    if counter && let Some(old) = old {
                        tables
                            .counted(collection)?
                            .remove((decode_counter(&old), key.as_str()))
                            .map_err(err)?;
                    }
                    let indexes = self
                        .schema
                        .get(collection)
                        .map(|c| c.indexes.clone())
                        .unwrap_or_default();
                    for index in &indexes {
                        reindex(tables, collection, index, key, None)?;
                    }
                }
                // Checked by `check`, against the same transaction.
                WriteOp::ExpectEmpty { .. } | WriteOp::Unchanged { .. } => {}
                WriteOp::Add {
                    collection,
                    key,
                    delta,
                } => {
                    let values = tables.values(collection)?;
                    let old = values
                        .get(key.as_str())
                        .map_err(err)?
                        .map(|v| decode_counter(v.value()));
                    let new = old.unwrap_or(0).checked_add(*delta).ok_or_else(|| {
                        StoreError::Rejected(format!("counter `{collection}/{key}` would overflow"))
                    })?;
                    values
                        .insert(key.as_str(), new.to_le_bytes().as_slice())
                        .map_err(err)?;
                    let ordered = tables.counted(collection)?;
                    if let Some(old) = old {
                        ordered.remove((old, key.as_str())).map_err(err)?;
                    }
                    ordered.insert((new, key.as_str()), ()).map_err(err)?;
                }
            }
        }
        Ok(())
    }
}

/// The same failure for every request of a batch.
fn every(batch: &[Vec<WriteOp>], e: &StoreError) -> Vec<Result<(), StoreError>> {
    let what = crate::log::Chain(e).to_string();
    batch
        .iter()
        .map(|_| {
            Err(match e {
                StoreError::Unavailable { .. } => StoreError::Unavailable {
                    what: what.clone(),
                    source: None,
                },
                _ => StoreError::Failed {
                    what: what.clone(),
                    source: None,
                },
            })
        })
        .collect()
}

fn reindex(
    tables: &mut Tables<'_>,
    collection: &str,
    index: &str,
    key: &str,
    sort: Option<&str>,
) -> Result<(), StoreError> {
    let old = tables
        .reverse(collection, index)?
        .remove(key)
        .map_err(err)?
        .map(|old| old.value().to_owned());
    if let Some(old) = old {
        tables
            .ordered(collection, index)?
            .remove((old.as_str(), key))
            .map_err(err)?;
    }
    if let Some(sort) = sort {
        tables
            .ordered(collection, index)?
            .insert((sort, key), ())
            .map_err(err)?;
        tables
            .reverse(collection, index)?
            .insert(key, sort)
            .map_err(err)?;
    }
    Ok(())
}

/// The tables of one write transaction, each opened once for the whole batch: redb opens a table
/// by looking it up in the transaction's table tree and closes it by writing its root back
/// there, which, per write, was a tenth of a vote's CPU. Dropped before the commit.
struct Tables<'t> {
    txn: &'t redb::WriteTransaction,
    /// By collection.
    values: HashMap<String, redb::Table<'t, &'static str, &'static [u8]>>,
    /// A counter collection's `#value` index, by collection.
    counted: HashMap<String, redb::Table<'t, (i64, &'static str), ()>>,
    /// An index, by `collection#index`.
    ordered: HashMap<String, redb::Table<'t, (&'static str, &'static str), ()>>,
    /// An index's reverse map (key -> sort key), by `collection#index`.
    reverse: HashMap<String, redb::Table<'t, &'static str, &'static str>>,
}

impl<'t> Tables<'t> {
    fn of(txn: &'t redb::WriteTransaction) -> Tables<'t> {
        Tables {
            txn,
            values: HashMap::new(),
            counted: HashMap::new(),
            ordered: HashMap::new(),
            reverse: HashMap::new(),
        }
    }

    fn values(
        &mut self,
        collection: &str,
    ) -> Result<&mut redb::Table<'t, &'static str, &'static [u8]>, StoreError> {
        opened(self.txn, &mut self.values, collection, || {
            collection.to_owned()
        })
    }

    fn counted(
        &mut self,
        collection: &str,
    ) -> Result<&mut redb::Table<'t, (i64, &'static str), ()>, StoreError> {
        opened(self.txn, &mut self.counted, collection, || {
            format!("{collection}#value")
        })
    }

    fn ordered(
        &mut self,
        collection: &str,
        index: &str,
    ) -> Result<&mut redb::Table<'t, (&'static str, &'static str), ()>, StoreError> {
        let name = format!("{collection}#{index}");
        opened(self.txn, &mut self.ordered, &name, || name.clone())
    }

    fn reverse(
        &mut self,
        collection: &str,
        index: &str,
    ) -> Result<&mut redb::Table<'t, &'static str, &'static str>, StoreError> {
        let name = format!("{collection}#{index}");
        opened(self.txn, &mut self.reverse, &name, || format!("{name}#rev"))
    }
}

/// The table `open` holds under `key`, opened (as `name()`) the first time it is asked for.
fn opened<'m, 't, K: redb::Key + 'static, V: redb::Value + 'static>(
    txn: &'t redb::WriteTransaction,
    open: &'m mut HashMap<String, redb::Table<'t, K, V>>,
    key: &str,
    name: impl FnOnce() -> String,
) -> Result<&'m mut redb::Table<'t, K, V>, StoreError> {
    if !open.contains_key(key) {
        let table = txn
            .open_table(TableDefinition::<K, V>::new(&name()))
            .map_err(err)?;
        open.insert(key.to_owned(), table);
    }
    Ok(open.get_mut(key).expect("opened above"))
}

fn decode_counter(bytes: &[u8]) -> i64 {
    bytes.try_into().map(i64::from_le_bytes).unwrap_or(0)
}

fn read_one(txn: &redb::ReadTransaction, read: &ReadRequest) -> Result<ReadOutcome, StoreError> {
    match read {
        ReadRequest::Get { collection, key } => {
            let table = txn.open_table(Values::new(collection)).map_err(err)?;
            let value = table
                .get(key.as_str())
                .map_err(err)?
                .map(|v| v.value().to_vec());
            Ok(Ok(ReadValue::Value(value)))
        }
        ReadRequest::Counter { collection, key } => {
            let table = txn.open_table(Values::new(collection)).map_err(err)?;
            let value = table
                .get(key.as_str())
                .map_err(err)?
                .map(|v| decode_counter(v.value()));
            Ok(Ok(ReadValue::Number(value.unwrap_or(0))))
        }
        ReadRequest::Count { collection } => {
            let table = txn.open_table(Values::new(collection)).map_err(err)?;
            Ok(Ok(ReadValue::Number(
                i64::try_from(table.len().map_err(err)?).unwrap_or(i64::MAX),
            )))
        }
        ReadRequest::List(q) => list(txn, q),
    }
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
        E: Into<redb::Error>,
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

fn list(txn: &redb::ReadTransaction, q: &ListRequest) -> Result<ReadOutcome, StoreError> {
    let after = match q
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(decode_cursor)
    {
        None => None,
        Some(Ok(position)) => Some(position),
        Some(Err(message)) => return Ok(Err(message)),
    };
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
            return Ok(Err(ReadError::Mismatch(PREFIX_ON_VALUE.to_owned())));
        }
        let table = txn
            .open_table(Counted::new(&format!("{}#value", q.collection)))
            .map_err(err)?;
        let from = match &walk.after {
            None => None,
            Some((s, k)) => match s.parse::<i64>() {
                Ok(n) => Some((n, k.clone())),
                Err(_) => {
                    let cursor = q.cursor.clone().unwrap_or_default();
                    return Ok(Err(ReadError::BadCursor(cursor)));
                }
            },
        };
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
        positions
            .last()
            .map(|(s, k)| encode_cursor(s.as_bytes(), k.as_bytes()))
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
    Ok(Ok(ReadValue::Page(Page {
        entries,
        next_cursor,
    })))
}
