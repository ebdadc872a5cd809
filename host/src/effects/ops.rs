//! The storage operations the effects layer hands to the store, after checking them against the
//! route's grants and the collections' kinds. Plain data: the store implements them, the checks
//! in mod.rs produce them, and neither needs the other to name them.

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
    /// Not a write: a precondition. The request's writes apply only if the collection is empty
    /// when they commit (the `[startup]` seed, which several hosts may race to run).
    ExpectEmpty {
        collection: String,
    },
    /// Not a write: a precondition. The request's writes apply only if `key` is still as the
    /// request's snapshot saw it: the request read it with `get` and writes it (read-modify-write,
    /// e.g. "vote only if this visitor has no vote record yet"). Otherwise the store answers
    /// [`StoreError::Conflict`](crate::effects::StoreError::Conflict) and the request is re-run.
    Unchanged {
        collection: String,
        key: String,
        seen: Seen,
    },
}

/// What a request's snapshot saw of one key, in the terms its store compares at commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// etcd: the key's mod revision at the snapshot's revision (0: absent).
    Revision(i64),
    /// redb: the key's value in the snapshot (`None`: absent).
    Value(Option<Vec<u8>>),
}

impl WriteOp {
    /// The collection the write changes (or, for a precondition, checks).
    pub fn collection(&self) -> &str {
        match self {
            WriteOp::Put { collection, .. }
            | WriteOp::Delete { collection, .. }
            | WriteOp::Add { collection, .. }
            | WriteOp::ExpectEmpty { collection }
            | WriteOp::Unchanged { collection, .. } => collection,
        }
    }

    /// The key the write changes; `None` for a precondition.
    pub fn key(&self) -> Option<&str> {
        match self {
            WriteOp::Put { key, .. } | WriteOp::Delete { key, .. } | WriteOp::Add { key, .. } => {
                Some(key)
            }
            WriteOp::ExpectEmpty { .. } | WriteOp::Unchanged { .. } => None,
        }
    }
}
