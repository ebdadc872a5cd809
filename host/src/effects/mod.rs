//! Effects: the reads performed before a pure call and the writes applied after it.
//!
//! The effects layer owns the database (through [`store::Store`]); pure handlers never touch it.
//! It turns a route's declared reads into values, checks every read and write a handler asks for
//! against the route's grants, and applies a request's writes atomically.

mod store;

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::component::{Key, ListQuery, Read, ReadOp, ReadResult, ReadValue, Write};
use crate::manifest::{Collection, ReadDecl, ReadDeclOp, RouteDecl};
pub use store::{CollectionSchema, Store, StoreError};

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

/// A storage read, checked and bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadRequest {
    Get { collection: String, key: String },
    Counter { collection: String, key: String },
    Count { collection: String },
    List(ListRequest),
}

/// A page of a collection in index order, from a cursor, within a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    pub collection: String,
    /// "" walks primary keys; "value" walks a counter collection by count.
    pub index: String,
    pub prefix: String,
    pub descending: bool,
    pub cursor: Option<String>,
    pub limit: u32,
}

/// A storage write, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOp {
    Put {
        collection: String,
        key: String,
        value: Vec<u8>,
        index_keys: Vec<(String, String)>,
    },
    Delete {
        collection: String,
        key: String,
    },
    Add {
        collection: String,
        key: String,
        delta: i64,
    },
}

/// Why a request's writes were not applied. Goes to the log; the client sees a 500.
#[derive(Debug, thiserror::Error)]
pub enum EffectsError {
    #[error("write to collection `{0}` is not granted to this route (add it to `may_write`)")]
    WriteNotGranted(String),
    #[error("write rejected: {0}")]
    BadWrite(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The effects layer of one process.
#[derive(Debug, Clone)]
pub struct Effects {
    store: Option<Arc<dyn Store>>,
    collections: Arc<BTreeMap<String, Collection>>,
    /// Per collection, bumped after every committed write to it: memo keys use these instead of
    /// read results.
    versions: Arc<BTreeMap<String, AtomicU64>>,
}

impl Effects {
    /// Opens the embedded store at `dir/nebula.redb` with the manifest's collections.
    pub fn open(
        dir: &Path,
        collections: &BTreeMap<String, Collection>,
    ) -> Result<Effects, StoreError> {
        let schema = collections
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
            .collect();
        let store = store::RedbStore::open(&dir.join("nebula.redb"), schema)?;
        Ok(Effects {
            store: Some(Arc::new(store)),
            collections: Arc::new(collections.clone()),
            versions: Arc::new(
                collections
                    .keys()
                    .map(|c| (c.clone(), AtomicU64::new(0)))
                    .collect(),
            ),
        })
    }

    /// The current versions of `collections`, in their order. A version changes after every
    /// committed write to its collection.
    pub fn versions<'a>(
        &'a self,
        collections: &'a BTreeSet<String>,
    ) -> impl Iterator<Item = u64> + 'a {
        collections.iter().map(|c| {
            self.versions
                .get(c)
                .map_or(0, |v| v.load(Ordering::Acquire))
        })
    }

    /// Whether a collection has no entries (for `[startup]`).
    pub fn is_empty(&self, collection: &str) -> Result<bool, StoreError> {
        let Some(store) = &self.store else {
            return Ok(true);
        };
        let count = store.read(&[ReadRequest::Count {
            collection: collection.to_owned(),
        }]);
        match count.into_iter().next() {
            Some(Ok(ReadValue::Number(n))) => Ok(n == 0),
            Some(Err(e)) => Err(StoreError::new(e)),
            _ => Err(StoreError::new("count gave no number")),
        }
    }

    /// Effects for a process without collections (e.g. `serve`): only `now` can be read.
    pub fn none() -> Effects {
        Effects {
            store: None,
            collections: Arc::default(),
            versions: Arc::default(),
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
        let query = |name: &str| query_param(query, name);
        route
            .reads
            .iter()
            .map(|decl| bind(decl, &param, &query))
            .collect()
    }

    /// Performs reads on one snapshot, each checked against the route's `may_read`.
    pub fn read(&self, route: &RouteDecl, reads: &[Read]) -> Vec<ReadResult> {
        let mut out: Vec<Option<Result<ReadValue, String>>> = vec![None; reads.len()];
        let mut storage = Vec::new();
        let mut slots = Vec::new();
        for (i, read) in reads.iter().enumerate() {
            match self.check_read(route, &read.op) {
                Ok(Some(request)) => {
                    storage.push(request);
                    slots.push(i);
                }
                Ok(None) => out[i] = Some(host_read(&read.op)),
                Err(e) => out[i] = Some(Err(e)),
            }
        }
        if !storage.is_empty() {
            let values = match &self.store {
                Some(store) => store.read(&storage),
                None => storage
                    .iter()
                    .map(|_| Err("this host has no storage".to_owned()))
                    .collect(),
            };
            for (slot, value) in slots.into_iter().zip(values) {
                out[slot] = Some(value);
            }
        }
        reads
            .iter()
            .zip(out)
            .map(|(r, v)| ReadResult {
                name: r.name.clone(),
                value: v.expect("every read answered"),
            })
            .collect()
    }

    /// `Ok(None)` for the clock and `random`, which need no storage.
    fn check_read(&self, route: &RouteDecl, op: &ReadOp) -> Result<Option<ReadRequest>, String> {
        let granted = |c: &str| {
            if route.may_read.contains(c) {
                Ok(())
            } else {
                Err(format!(
                    "read of collection `{c}` is not granted to this route"
                ))
            }
        };
        let request = match op {
            ReadOp::Now => return Ok(None),
            ReadOp::Get(Key { collection, .. }) if collection == RANDOM => {
                let declared = route.reads.iter().any(|r| r.op == ReadDeclOp::Random);
                return match declared {
                    true => Ok(None),
                    false => Err("`random` is only for routes that declare a `random` read".into()),
                };
            }
            ReadOp::Get(Key { collection, key }) => {
                granted(collection)?;
                if self.collections.get(collection).is_some_and(|c| c.counter) {
                    return Err(format!(
                        "collection `{collection}` is a counter; read it with `counter`"
                    ));
                }
                ReadRequest::Get {
                    collection: collection.clone(),
                    key: key.clone(),
                }
            }
            ReadOp::Counter(Key { collection, key }) => {
                granted(collection)?;
                if !self.collections.get(collection).is_some_and(|c| c.counter) {
                    return Err(format!("collection `{collection}` is not a counter"));
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
                    return Err(format!("collection `{collection}` has no index `{index}`"));
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
    pub fn write(&self, route: &RouteDecl, writes: Vec<Write>) -> Result<(), EffectsError> {
        if writes.is_empty() {
            return Ok(());
        }
        let ops = writes
            .into_iter()
            .map(|w| self.check_write(route, w))
            .collect::<Result<Vec<_>, _>>()?;
        let store = self
            .store
            .as_ref()
            .ok_or_else(|| EffectsError::BadWrite("this host has no storage".into()))?;
        store.apply(&ops)?;
        // After the commit, so a memo key never names a version whose data it has not seen.
        for op in &ops {
            let (WriteOp::Put { collection, .. }
            | WriteOp::Delete { collection, .. }
            | WriteOp::Add { collection, .. }) = op;
            if let Some(v) = self.versions.get(collection) {
                v.fetch_add(1, Ordering::AcqRel);
            }
        }
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
                if let Some((index, _)) = p.index_keys.iter().find(|(i, _)| !c.indexes.contains(i))
                {
                    return Err(EffectsError::BadWrite(format!(
                        "collection `{}` has no index `{index}`",
                        p.collection
                    )));
                }
                WriteOp::Put {
                    collection: p.collection,
                    key: p.key,
                    value: p.value,
                    index_keys: p.index_keys,
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

/// The first value of `name` in a query string, percent-decoded with `+` as space.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = crate::router::percent_decode(&k.replace('+', " "))?;
        (k == name).then(|| crate::router::percent_decode(&v.replace('+', " ")).unwrap_or_default())
    })
}

/// The clock, or fresh bytes from the OS's CSPRNG for a `random` read.
fn host_read(op: &ReadOp) -> Result<ReadValue, String> {
    if !matches!(op, ReadOp::Get(_)) {
        return Ok(ReadValue::Number(now_millis()));
    }
    let mut bytes = vec![0; RANDOM_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| format!("the OS gave no random bytes: {e}"))?;
    Ok(ReadValue::Value(Some(bytes)))
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;

    fn routes(reads: &str) -> RouteDecl {
        let text = format!(
            "version = 1\n[components.c]\npath = \"c.wasm\"\n[[routes]]\nroute = \"GET /\"\n\
             component = \"c\"\nreads = [{reads}]\n"
        );
        let manifest = Manifest::parse("m.toml".as_ref(), &text).expect("valid manifest");
        manifest.routes[0].clone()
    }

    #[test]
    fn gives_fresh_random_bytes_only_to_routes_that_declare_them() {
        let route = routes("{ name = \"visitor\", op = \"random\" }");
        let declared = Effects::declared(&route, &[], "");
        let effects = Effects::none();
        let bytes = |results: Vec<ReadResult>| match &results[0].value {
            Ok(ReadValue::Value(Some(bytes))) => bytes.clone(),
            other => panic!("{other:?}"),
        };
        let a = bytes(effects.read(&route, &declared));
        let b = bytes(effects.read(&route, &declared));
        assert_eq!(a.len(), RANDOM_BYTES);
        assert_ne!(a, b, "every read draws new bytes");

        let other = routes("{ name = \"t\", op = \"now\" }");
        let refused = effects.read(&other, &declared);
        assert!(refused[0].value.is_err(), "{refused:?}");
    }
}
