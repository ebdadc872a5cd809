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
}
