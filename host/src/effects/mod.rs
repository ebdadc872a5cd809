//! Effects: the reads performed before a pure call and the writes applied after it.
//!
//! The effects layer owns the database (through [`Storage`], the seam in [`store`]); pure
//! handlers never touch it. It turns a route's declared reads into values, checks every read and
//! write a handler asks for against the route's grants, and applies a request's writes
//! atomically. It never decides an HTTP status: it says what failed ([`EffectsError`],
//! [`StoreError::is_retryable`]) and the handler picks the reply.

mod ops;
mod store;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use crate::component::{Key, ListQuery, Read, ReadError, ReadOp, ReadResult, ReadValue, Write};
use crate::manifest::{Collection, ReadDecl, ReadDeclOp, RouteDecl, StoreDecl, StoreUrl};
pub use ops::{ListRequest, ReadRequest, Seen, WriteOp};
pub use store::{
    CollectionSchema, EtcdConfig, EtcdStore, RedbStore, Schema, Snapshot, Storage, StoreError,
    Sweep, Writer,
};

/// The most entries one `list` read returns, whatever the handler asks for.
pub const MAX_PAGE: u32 = 1000;

/// How a declared `random` read reaches the handler without a WIT case of its own: bound as a
/// `get` of this collection, which no manifest can declare (names are letters, digits, `_` and
/// `-`). Only a route that declares a `random` read gets bytes for it (the route is then never
/// memoized); any other route gets a refusal, so a handler cannot smuggle randomness into a
/// memoized reply.
pub const RANDOM: &str = "@random";
/// Bytes per `random` read: 256 bits, enough for an unguessable identifier.
pub const RANDOM_BYTES: usize = 32;

/// Why a request's writes were not applied. Goes to the log; the client sees a 500, or a 503
/// when [`EffectsError::is_retryable`].
#[derive(Debug, thiserror::Error)]
pub enum EffectsError {
    #[error("write to collection `{0}` is not granted to this route (add it to `may_write`)")]
    WriteNotGranted(String),
    #[error("write rejected: {0}")]
    BadWrite(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl EffectsError {
    /// The store was unavailable or contended: nothing was written, and the same request may
    /// succeed later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, EffectsError::Store(e) if e.is_retryable())
    }

    /// A key the request read and writes changed meanwhile: nothing was written, and running
    /// the request again from fresh reads may succeed at once.
    pub fn is_conflict(&self) -> bool {
        matches!(self, EffectsError::Store(StoreError::Conflict(_)))
    }
}

/// The effects layer of one process.
#[derive(Debug, Clone)]
pub struct Effects {
    store: Option<Arc<dyn Storage>>,
    collections: Arc<BTreeMap<String, Collection>>,
    /// `[startup] when_empty`: the writes of internal routes (run only at start) apply only
    /// while this collection is empty, so that of several hosts starting at once one seeds.
    seed_guard: Option<String>,
}

/// What storage needs to know of the manifest's collections.
pub fn schema(collections: &BTreeMap<String, Collection>) -> Schema {
    collections
        .iter()
        .map(|(name, c)| {
            let indexes = c
                .indexes
                .iter()
                .filter(|i| !(c.counter && *i == "value"))
                .cloned()
                .collect();
            (
                name.clone(),
                CollectionSchema {
                    counter: c.counter,
                    indexes,
                },
            )
        })
        .collect()
}

/// `nebula-host store gc`: deletes the orphaned chunks of the etcd store `decl` names that were
/// written at least `grace` ago ([`EtcdStore::collect_garbage`]); `None` on redb, which keeps
/// every value inline and leaves nothing behind.
pub async fn collect_garbage(
    decl: &StoreDecl,
    grace: std::time::Duration,
    dry_run: bool,
) -> Result<Option<Sweep>, StoreError> {
    let StoreUrl::Etcd {
        endpoints,
        namespace,
    } = &decl.url
    else {
        return Ok(None);
    };
    let config = EtcdConfig {
        endpoints: endpoints.clone(),
        namespace: namespace.clone(),
        timeout: decl.timeout,
    };
    // The sweep reads every collection alike; it needs no schema.
    let store = EtcdStore::new(&config, Schema::new());
    store.collect_garbage(grace, dry_run).await.map(Some)
}

impl Effects {
    /// Opens the store `decl` names: redb at `data_dir/nebula.redb`, or an etcd cluster (which
    /// is first contacted by the first request).
    pub fn open(
        decl: &StoreDecl,
        data_dir: &Path,
        collections: &BTreeMap<String, Collection>,
    ) -> Result<Effects, StoreError> {
        let schema = schema(collections);
        let store: Arc<dyn Storage> = match &decl.url {
            StoreUrl::Redb => Arc::new(RedbStore::open(&data_dir.join("nebula.redb"), schema)?),
            StoreUrl::Etcd {
                endpoints,
                namespace,
            } => Arc::new(EtcdStore::new(
                &EtcdConfig {
                    endpoints: endpoints.clone(),
                    namespace: namespace.clone(),
                    timeout: decl.timeout,
                },
                schema,
            )),
        };
        Ok(Effects::on(store, collections))
    }

    /// Effects over an opened store.
    pub fn on(store: Arc<dyn Storage>, collections: &BTreeMap<String, Collection>) -> Effects {
        Effects {
            store: Some(store),
            collections: Arc::new(collections.clone()),
            seed_guard: None,
        }
    }

    /// Makes the writes of internal routes conditional on `collection` being empty.
    pub fn with_seed_guard(mut self, collection: Option<String>) -> Effects {
        self.seed_guard = collection;
        self
    }

    /// A reader for one request: every read through it sees one snapshot of the store. Costs no
    /// I/O until something is read.
    pub fn reader(&self) -> Reader<'_> {
        Reader {
            effects: self,
            snapshot: None,
            got: BTreeSet::new(),
            writer: Writer::uncounted(),
        }
    }

    /// [`Effects::reader`] for a request of `route`: one that may write is counted by the store
    /// until it hands its writes over or ends, so that a commit can wait a moment for it (see
    /// `store::group`).
    pub fn reader_for(&self, route: &RouteDecl) -> Reader<'_> {
        let mut reader = self.reader();
        if !route.may_write.is_empty()
            && let Some(store) = &self.store
        {
            reader.writer = store.writer();
        }
        reader
    }

    /// Whether a collection has no entries (for `[startup]`).
    pub async fn is_empty(&self, collection: &str) -> Result<bool, StoreError> {
        let Some(store) = &self.store else {
            return Ok(true);
        };
        let count = store
            .snapshot()
            .read(&[ReadRequest::Count {
                collection: collection.to_owned(),
            }])
            .await?;
        match count.into_iter().next() {
            Some(Ok(ReadValue::Number(n))) => Ok(n == 0),
            Some(Err(e)) => Err(StoreError::Failed {
                what: format!(
                    "counting `{collection}`: {}",
                    crate::component::describe_read_error(&e)
                ),
                source: None,
            }),
            _ => Err(StoreError::Failed {
                what: format!("counting `{collection}` gave no number"),
                source: None,
            }),
        }
    }

    /// Whether the store answers (`/readyz`); always true without one.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match &self.store {
            Some(store) => store.ping().await,
            None => Ok(()),
        }
    }

    /// Effects for a process without collections (e.g. `serve`): only `now` can be read.
    pub fn none() -> Effects {
        Effects {
            store: None,
            collections: Arc::default(),
            seed_guard: None,
        }
    }

    /// The route's declared reads, bound to the request's captures and query.
    pub fn declared(route: &RouteDecl, params: &[(String, String)], query: &str) -> Vec<Read> {
        let param = |name: &str| -> Option<&str> {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        // The SDK's `query_param` is this same function (crates/urlencoded), so a handler reads the
        // query exactly as its manifest's `{query.NAME}` placeholders do.
        let query = |name: &str| nebula_urlencoded::query_param(query, name);
        route
            .reads
            .iter()
            .map(|decl| bind(decl, &param, &query))
            .collect()
    }

    /// `Ok(None)` for the clock and `random`, which need no storage.
    fn check_read(&self, route: &RouteDecl, op: &ReadOp) -> Result<Option<ReadRequest>, ReadError> {
        let granted = |c: &str| {
            if route.may_read.contains(c) {
                Ok(())
            } else {
                Err(ReadError::NotGranted(c.to_owned()))
            }
        };
        let request = match op {
            ReadOp::Now => return Ok(None),
            ReadOp::Get(Key { collection, .. }) if collection == RANDOM => {
                let declared = route.reads.iter().any(|r| r.op == ReadDeclOp::Random);
                return match declared {
                    true => Ok(None),
                    false => Err(ReadError::Mismatch(
                        "`random` is only for routes that declare a `random` read".into(),
                    )),
                };
            }
            ReadOp::Get(Key { collection, key }) => {
                granted(collection)?;
                if self.collections.get(collection).is_some_and(|c| c.counter) {
                    return Err(ReadError::Mismatch(format!(
                        "collection `{collection}` is a counter; read it with `counter`"
                    )));
                }
                ReadRequest::Get {
                    collection: collection.clone(),
                    key: key.clone(),
                }
            }
            ReadOp::Counter(Key { collection, key }) => {
                granted(collection)?;
                if !self.collections.get(collection).is_some_and(|c| c.counter) {
                    return Err(ReadError::Mismatch(format!(
                        "collection `{collection}` is not a counter"
                    )));
                }
                ReadRequest::Counter {
                    collection: collection.clone(),
                    key: key.clone(),
                }
            }
            ReadOp::Count(collection) => {
                granted(collection)?;
                ReadRequest::Count {
                    collection: collection.clone(),
                }
            }
            ReadOp::List(ListQuery {
                collection,
                index,
                direction,
                prefix,
                cursor,
                limit,
            }) => {
                granted(collection)?;
                let c = self.collections.get(collection);
                if !index.is_empty() && !c.is_some_and(|c| c.indexes.contains(index)) {
                    return Err(ReadError::Mismatch(format!(
                        "collection `{collection}` has no index `{index}`"
                    )));
                }
                ReadRequest::List(ListRequest {
                    collection: collection.clone(),
                    index: index.clone(),
                    prefix: prefix.clone(),
                    descending: matches!(direction, crate::component::Direction::Descending),
                    cursor: cursor.clone(),
                    limit: (*limit).clamp(1, MAX_PAGE),
                })
            }
        };
        Ok(Some(request))
    }

    /// Checks every write against the route's grants and the collections' kinds, then applies
    /// them all in one durable transaction. Nothing is written unless every check passes.
    ///
    /// A key the request read with `get` (through `reader`, its snapshot, which ends here) and
    /// now writes must still be as it was read: otherwise nothing is written and the error is
    /// [`StoreError::Conflict`], on which the request runs again from fresh reads. Other reads
    /// are not checked: a counter read, or a read of a key the request does not write, never
    /// makes a request conflict.
    pub async fn write(
        &self,
        route: &RouteDecl,
        mut reader: Reader<'_>,
        writes: Vec<Write>,
    ) -> Result<(), EffectsError> {
        if writes.is_empty() {
            return Ok(());
        }
        let mut ops = writes
            .into_iter()
            .map(|w| self.check_write(route, w))
            .collect::<Result<Vec<_>, _>>()?;
        // First, like the seed guard below: the check is of the state before the writes.
        let preconditions = reader.preconditions(&ops)?;
        ops.splice(0..0, preconditions);
        if route.internal
            && let Some(collection) = &self.seed_guard
        {
            // First: a store applies ops in order, and the check is of the state before them.
            ops.insert(
                0,
                WriteOp::ExpectEmpty {
                    collection: collection.clone(),
                },
            );
        }
        let store = self
            .store
            .as_ref()
            .ok_or_else(|| EffectsError::BadWrite("this host has no storage".into()))?;
        let writer = std::mem::replace(&mut reader.writer, Writer::uncounted());
        store.apply_from(ops, writer).await?;
        Ok(())
    }

    fn check_write(&self, route: &RouteDecl, write: Write) -> Result<WriteOp, EffectsError> {
        let collection = match &write {
            Write::Put(p) => &p.collection,
            Write::Delete(k) => &k.collection,
            Write::Add(a) => &a.collection,
        };
        if !route.may_write.contains(collection) {
            return Err(EffectsError::WriteNotGranted(collection.clone()));
        }
        let c = self
            .collections
            .get(collection)
            .ok_or_else(|| EffectsError::BadWrite(format!("no collection `{collection}`")))?;
        Ok(match write {
            Write::Put(p) => {
                if c.counter {
                    return Err(EffectsError::BadWrite(format!(
                        "`put` to counter collection `{}`; use `add`",
                        p.collection
                    )));
                }
                if let Some(k) = p.index_keys.iter().find(|k| !c.indexes.contains(&k.index)) {
                    return Err(EffectsError::BadWrite(format!(
                        "collection `{}` has no index `{}`",
                        p.collection, k.index
                    )));
                }
                WriteOp::Put {
                    collection: p.collection,
                    key: p.key,
                    value: p.value,
                    index_keys: p
                        .index_keys
                        .into_iter()
                        .map(|k| (k.index, k.sort_key))
                        .collect(),
                }
            }
            Write::Delete(k) => WriteOp::Delete {
                collection: k.collection,
                key: k.key,
            },
            Write::Add(a) => {
                if !c.counter {
                    return Err(EffectsError::BadWrite(format!(
                        "`add` to collection `{}`, which is not a counter",
                        a.collection
                    )));
                }
                WriteOp::Add {
                    collection: a.collection,
                    key: a.key,
                    delta: a.delta,
                }
            }
        })
    }
}

/// One request's reads: a snapshot opened by the first read and kept for every later one, so
/// the declared reads, each `need` round and the memo versions all see the same state.
#[derive(Debug)]
pub struct Reader<'e> {
    effects: &'e Effects,
    snapshot: Option<Box<dyn Snapshot>>,
    /// (collection, key) of every storage `get` so far: the reads a write may depend on.
    got: BTreeSet<(String, String)>,
    /// The request as a writer on its way, for a store that commits in groups.
    writer: Writer,
}

impl Reader<'_> {
    fn snapshot(&mut self) -> Option<&mut Box<dyn Snapshot>> {
        let store = self.effects.store.as_ref()?;
        Some(self.snapshot.get_or_insert_with(|| store.snapshot()))
    }

    /// The versions of `collections`, in their order: each changes whenever a write to its
    /// collection commits. Memo keys use them instead of read results. Call it before the reads.
    pub async fn versions(
        &mut self,
        collections: &BTreeSet<String>,
    ) -> Result<Vec<u64>, StoreError> {
        if collections.is_empty() {
            return Ok(Vec::new());
        }
        let Some(snapshot) = self.snapshot() else {
            return Ok(vec![0; collections.len()]);
        };
        let names: Vec<&str> = collections.iter().map(String::as_str).collect();
        snapshot.versions(&names).await
    }

    /// Performs reads on this request's snapshot, each checked against the route's `may_read`.
    /// A read that is not granted, or that the store could not perform, is an error value the
    /// handler sees; `Err` means the store failed the whole round (no handler call follows).
    pub async fn read(
        &mut self,
        route: &RouteDecl,
        reads: &[Read],
    ) -> Result<Vec<ReadResult>, StoreError> {
        let mut out: Vec<Option<Result<ReadValue, ReadError>>> = vec![None; reads.len()];
        let mut storage = Vec::new();
        let mut slots = Vec::new();
        for (i, read) in reads.iter().enumerate() {
            match self.effects.check_read(route, &read.op) {
                Ok(Some(request)) => {
                    if let ReadRequest::Get { collection, key } = &request {
                        self.got.insert((collection.clone(), key.clone()));
                    }
                    storage.push(request);
                    slots.push(i);
                }
                Ok(None) => out[i] = Some(host_read(&read.op)),
                Err(e) => out[i] = Some(Err(e)),
            }
        }
        if !storage.is_empty() {
            let values = match self.snapshot() {
                Some(snapshot) => snapshot.read(&storage).await?,
                None => storage.iter().map(|_| Err(ReadError::NoStorage)).collect(),
            };
            for (slot, value) in slots.into_iter().zip(values) {
                out[slot] = Some(value);
            }
        }
        Ok(reads
            .iter()
            .zip(out)
            .map(|(r, v)| ReadResult {
                name: r.name.clone(),
                value: v.expect("every read answered"),
            })
            .collect())
    }

    /// A [`WriteOp::Unchanged`] for each key that `ops` write and this request read with `get`
    /// (read-modify-write, e.g. a vote record): as the snapshot saw it.
    fn preconditions(&self, ops: &[WriteOp]) -> Result<Vec<WriteOp>, StoreError> {
        let Some(snapshot) = self.snapshot.as_ref().filter(|_| !self.got.is_empty()) else {
            return Ok(Vec::new());
        };
        let mut checked = BTreeSet::new();
        let mut out = Vec::new();
        for op in ops {
            let Some(key) = op.key() else { continue };
            let read = (op.collection().to_owned(), key.to_owned());
            if !self.got.contains(&read) || !checked.insert(read) {
                continue;
            }
            out.push(WriteOp::Unchanged {
                collection: op.collection().to_owned(),
                key: key.to_owned(),
                seen: snapshot.seen(op.collection(), key)?,
            });
        }
        Ok(out)
    }
}

fn bind<'p>(
    decl: &ReadDecl,
    param: &dyn Fn(&str) -> Option<&'p str>,
    query: &dyn Fn(&str) -> Option<String>,
) -> Read {
    let render = |t: &crate::manifest::Template| t.render(param, query);
    let op = match &decl.op {
        ReadDeclOp::Get { collection, key } => ReadOp::Get(Key {
            collection: collection.clone(),
            key: render(key),
        }),
        ReadDeclOp::Counter { collection, key } => ReadOp::Counter(Key {
            collection: collection.clone(),
            key: render(key),
        }),
        ReadDeclOp::Count { collection } => ReadOp::Count(collection.clone()),
        ReadDeclOp::Now => ReadOp::Now,
        ReadDeclOp::Random => ReadOp::Get(Key {
            collection: RANDOM.to_owned(),
            key: String::new(),
        }),
        ReadDeclOp::List {
            collection,
            index,
            descending,
            prefix,
            cursor,
            limit,
            default_limit,
            max_limit,
        } => {
            let cursor = cursor.as_ref().map(render).filter(|c| !c.is_empty());
            let limit = limit
                .as_ref()
                .map(render)
                .and_then(|l| l.trim().parse::<u32>().ok())
                .filter(|l| *l > 0)
                .unwrap_or(*default_limit)
                .min(*max_limit);
            ReadOp::List(ListQuery {
                collection: collection.clone(),
                index: index.clone(),
                direction: if *descending {
                    crate::component::Direction::Descending
                } else {
                    crate::component::Direction::Ascending
                },
                prefix: prefix.as_ref().map(render).unwrap_or_default(),
                cursor,
                limit,
            })
        }
    };
    Read {
        name: decl.name.clone(),
        op,
    }
}

/// The clock, or fresh bytes from the OS's CSPRNG for a `random` read.
fn host_read(op: &ReadOp) -> Result<ReadValue, ReadError> {
    if !matches!(op, ReadOp::Get(_)) {
        return Ok(ReadValue::Number(now_millis()));
    }
    let mut bytes = vec![0; RANDOM_BYTES];
    getrandom::fill(&mut bytes)
        .map_err(|e| ReadError::Unavailable(format!("the OS gave no random bytes: {e}")))?;
    Ok(ReadValue::Value(Some(bytes)))
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
