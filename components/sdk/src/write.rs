//! Constructors for the writes a handler returns. The host checks each against the route's
//! `may_write` and applies all of one request's writes in one transaction, or none.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::{Add, IndexKey, Put, Write};

/// Store `value` under `collection`/`key`, listed in none of the collection's indexes.
///
/// ```
/// # use nebula_guest::*;
/// let reply = Reply::new(201).write(write::put("memes", "abc", b"{}".to_vec()));
/// assert!(matches!(reply.done(), Outcome::Respond(_)));
/// ```
pub fn put(collection: &str, key: &str, value: impl Into<Vec<u8>>) -> Write {
    put_indexed(collection, key, value, Vec::new())
}

/// Store `value` under `collection`/`key` with its sort key in each named index, e.g.
/// `[("new".into(), "2026-12-01T10:00".into())]`; an index not named does not list the entry.
pub fn put_indexed(
    collection: &str,
    key: &str,
    value: impl Into<Vec<u8>>,
    index_keys: Vec<(String, String)>,
) -> Write {
    Write::Put(Put {
        collection: collection.to_string(),
        key: key.to_string(),
        value: value.into(),
        index_keys: index_keys
            .into_iter()
            .map(|(index, sort_key)| IndexKey { index, sort_key })
            .collect(),
    })
}

/// Delete `collection`/`key` (nothing happens if it is absent).
pub fn delete(collection: &str, key: &str) -> Write {
    Write::Delete(crate::reads::key_of(collection, key))
}

/// Add `delta` to the counter `collection`/`key`, inside the write transaction, so concurrent
/// additions are never lost.
///
/// ```
/// # use nebula_guest::*;
/// let vote = write::add("votes", "abc", 1);
/// assert!(matches!(vote, Write::Add(Add { delta: 1, .. })));
/// ```
pub fn add(collection: &str, key: &str, delta: i64) -> Write {
    Write::Add(Add {
        collection: collection.to_string(),
        key: key.to_string(),
        delta,
    })
}
