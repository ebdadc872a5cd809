//! A request's writes as one etcd transaction.
//!
//! 1. Values too large to travel inline are split into chunks, each `put` under the BLAKE3 of
//!    its bytes *before* the transaction: nothing refers to a chunk until the transaction
//!    commits, so a failure leaves only unreferenced chunks (see docs/stores.md).
//! 2. Read what the writes depend on: old counts, old index positions (`r/` back-pointers).
//! 3. Plan the final state of every key the writes touch, applying the writes in order.
//! 4. Commit: `if every key read still has the mod revision it had then [all puts and deletes]`.
//!    When another writer got there first, go back to 2: no counter addition is lost. The
//!    request's own preconditions ([`WriteOp::Unchanged`]: keys it read with `get` at its
//!    snapshot) are compares too, but a failed one is final: [`StoreError::Conflict`].

use std::collections::{BTreeMap, BTreeSet};

use etcd_client::{
    Compare, CompareOp, GetOptions, PutOptions, Txn, TxnOp, TxnOpResponse, TxnResponse,
};

use super::client::{EtcdStore, backoff, unsent};
use super::keys::{Chunks, INLINE, Keys};
use super::read::decode_counter;
use crate::effects::store::seam::{Schema, StoreError};
use crate::effects::{Seen, WriteOp};

/// The most value bytes one transaction carries inline. etcd refuses requests above
/// `--max-request-bytes` (1.5 MiB by default); the rest of a transaction (keys, compares) stays
/// well below the remaining half MiB for any request the manifest limits allow.
const INLINE_BUDGET: usize = 1 << 20;
/// The size of one chunk of a large value: one `put` request each.
pub(super) const CHUNK: usize = 1 << 20;
/// Attempts of one request's transaction against other hosts' writers.
const MAX_ATTEMPTS: u32 = 64;

/// Keys and their values: `None` is absent (as read) or deleted (as planned).
type KeyStates = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

impl EtcdStore {
    pub(super) async fn apply_writes(&self, mut writes: Vec<WriteOp>) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        let inner = &self.inner;
        let stored = self.store_large_values(&mut writes).await?;
        let _turn = inner.stripes.lock(&writes).await;
        let deadline = tokio::time::Instant::now() + inner.timeout * 2;
        for attempt in 1..=MAX_ATTEMPTS {
            let wanted: Vec<Vec<u8>> = depends_on(&inner.keys, &inner.schema, &writes)
                .into_iter()
                .collect();
            let responses = self
                .gets(
                    wanted
                        .iter()
                        .map(|k| (k.clone(), GetOptions::new()))
                        .collect(),
                    &mut None,
                    deadline,
                )
                .await?;
            let mut read = BTreeMap::new();
            let mut compares = Vec::with_capacity(wanted.len());
            for (key, mut response) in wanted.into_iter().zip(responses) {
                let kv = response.take_kvs().into_iter().next();
                // A missing key has mod revision 0 in a compare.
                let revision = kv.as_ref().map_or(0, |kv| kv.mod_revision());
                compares.push(Compare::mod_revision(
                    key.clone(),
                    CompareOp::Equal,
                    revision,
                ));
                read.insert(key, kv.map(|kv| kv.into_key_value().1));
            }
            for w in &writes {
                if let WriteOp::ExpectEmpty { collection } = w {
                    compares.push(empty(&inner.keys, collection));
                }
            }
            let unchanged = unchanged(&inner.keys, &writes)?;
            compares.extend(
                unchanged
                    .iter()
                    .map(|u| Compare::mod_revision(u.key.clone(), CompareOp::Equal, u.revision)),
            );
            // When a compare fails, these tell in the same answer whether a precondition did:
            // that is final (the request re-runs from fresh reads), the rest is contention.
            let recheck: Vec<TxnOp> = unchanged
                .iter()
                .map(|u| TxnOp::get(u.key.clone(), Some(GetOptions::new().with_keys_only())))
                .collect();
            let plan = plan(&inner.keys, &inner.schema, &writes, &stored, &read)?;
            let ops: Vec<TxnOp> = plan
                .into_iter()
                .map(|(key, value)| match value {
                    Some(value) => TxnOp::put(key, value, None::<PutOptions>),
                    None => TxnOp::delete(key, None),
                })
                .collect();
            let txn = Txn::new().when(compares).and_then(ops).or_else(recheck);
            let response = match self.txn(txn, "committing writes").await {
                Ok(response) => response,
                // Refused before it was proposed: another member may take it.
                Err(e) if unsent(&e) && tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            if response.succeeded() {
                return Ok(());
            }
            still_unchanged(&unchanged, &response)?;
            self.check_still_empty(&writes).await?;
            if tokio::time::Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(backoff(attempt)).await;
        }
        Err(StoreError::Contended(format!(
            "other hosts kept writing the same entries; gave up after {MAX_ATTEMPTS} attempts or \
             {:?}",
            inner.timeout * 2
        )))
    }

    /// Moves the largest put values out of line until the rest fits [`INLINE_BUDGET`]: each
    /// becomes chunks, `put` now. Returns, per write index, the stored form of its value.
    async fn store_large_values(
        &self,
        writes: &mut [WriteOp],
    ) -> Result<BTreeMap<usize, Vec<u8>>, StoreError> {
        let mut sizes: Vec<(usize, usize)> = writes
            .iter()
            .enumerate()
            .filter_map(|(i, w)| match w {
                WriteOp::Put { value, .. } => Some((value.len(), i)),
                _ => None,
            })
            .collect();
        sizes.sort();
        let mut inline = 0;
        let mut stored = BTreeMap::new();
        for (size, i) in sizes {
            let WriteOp::Put { value, .. } = &mut writes[i] else {
                continue;
            };
            if inline + size <= INLINE_BUDGET {
                inline += size;
                let mut tagged = Vec::with_capacity(size + 1);
                tagged.push(INLINE);
                tagged.extend_from_slice(value);
                stored.insert(i, tagged);
                continue;
            }
            let mut hashes = Vec::new();
            for chunk in value.chunks(CHUNK) {
                let hash = blake3::hash(chunk);
                // The same bytes under the same key: putting a chunk twice is harmless, and
                // a failed request leaves only chunks nothing refers to.
                self.put_chunk(self.inner.keys.chunk(&hash), chunk.to_vec())
                    .await?;
                hashes.push(hash);
            }
            let list = Chunks {
                len: value.len() as u64,
                hashes,
            };
            stored.insert(i, list.encode());
            // The bytes now live in the chunks; the plan needs only the list.
            *value = Vec::new();
        }
        Ok(stored)
    }

    /// Fails for good when an `ExpectEmpty` precondition no longer holds (a retry cannot help).
    async fn check_still_empty(&self, writes: &[WriteOp]) -> Result<(), StoreError> {
        for w in writes {
            if let WriteOp::ExpectEmpty { collection } = w {
                let prefix = self.inner.keys.values(collection);
                let end = super::keys::prefix_end(&prefix);
                let get = (prefix, GetOptions::new().with_range(end).with_count_only());
                let deadline = tokio::time::Instant::now() + self.inner.timeout;
                let count = self.gets(vec![get], &mut None, deadline).await?;
                if count.first().is_some_and(|c| c.count() > 0) {
                    return Err(StoreError::Contended(format!(
                        "collection `{collection}` is no longer empty"
                    )));
                }
            }
        }
        Ok(())
    }

    pub(super) async fn put_chunk(&self, key: Vec<u8>, bytes: Vec<u8>) -> Result<(), StoreError> {
        let deadline = tokio::time::Instant::now() + self.inner.timeout * 2;
        let mut attempt = 0;
        loop {
            let txn = Txn::new().and_then([TxnOp::put(key.clone(), bytes.clone(), None)]);
            match self.txn(txn, "writing a chunk of a large value").await {
                Ok(_) => return Ok(()),
                // Idempotent: safe to send again after any failure.
                Err(e) if e.is_retryable() && tokio::time::Instant::now() < deadline => {
                    attempt += 1;
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// A compare that holds while `collection` has no entries: on an empty range etcd compares
/// against a zero key-value, whose version is 0.
fn empty(keys: &Keys, collection: &str) -> Compare {
    let prefix = keys.values(collection);
    let end = super::keys::prefix_end(&prefix);
    Compare::version(prefix, CompareOp::Equal, 0).with_range(end)
}

/// One [`WriteOp::Unchanged`] precondition in etcd's terms.
struct Unchanged {
    /// `collection/key`, for the message.
    name: String,
    /// The entry's value key.
    key: Vec<u8>,
    /// The mod revision it must still have (0: still absent).
    revision: i64,
}

/// The writes' [`WriteOp::Unchanged`] preconditions, in order.
fn unchanged(keys: &Keys, writes: &[WriteOp]) -> Result<Vec<Unchanged>, StoreError> {
    let mut out = Vec::new();
    for w in writes {
        if let WriteOp::Unchanged {
            collection,
            key,
            seen,
        } = w
        {
            let Seen::Revision(revision) = seen else {
                return Err(StoreError::Failed {
                    what: format!("a precondition on `{collection}/{key}` from another store"),
                    source: None,
                });
            };
            out.push(Unchanged {
                name: format!("{collection}/{key}"),
                key: keys.value(collection, key),
                revision: *revision,
            });
        }
    }
    Ok(out)
}

/// `Conflict` when a failed transaction's `or_else` gets show that a key of `unchanged` has a
/// mod revision other than the one the request saw (0 when absent).
fn still_unchanged(unchanged: &[Unchanged], response: &TxnResponse) -> Result<(), StoreError> {
    for (u, op) in unchanged.iter().zip(response.op_responses()) {
        let TxnOpResponse::Get(get) = op else {
            continue;
        };
        let now = get.kvs().first().map_or(0, |kv| kv.mod_revision());
        if now != u.revision {
            return Err(StoreError::Conflict(format!(
                "`{}` changed after this request read it (mod revision {}, now {now})",
                u.name, u.revision
            )));
        }
    }
    Ok(())
}

/// The indexes of a collection that entries are positioned in (not a counter's `value`).
fn indexes<'s>(schema: &'s Schema, collection: &str) -> &'s [String] {
    schema.get(collection).map_or(&[], |c| c.indexes.as_slice())
}

fn is_counter(schema: &Schema, collection: &str) -> bool {
    schema.get(collection).is_some_and(|c| c.counter)
}

/// The keys whose current values the writes depend on.
fn depends_on(keys: &Keys, schema: &Schema, writes: &[WriteOp]) -> BTreeSet<Vec<u8>> {
    let mut wanted = BTreeSet::new();
    for w in writes {
        match w {
            WriteOp::Put {
                collection, key, ..
            } => {
                for index in indexes(schema, collection) {
                    wanted.insert(keys.reverse(collection, index, key));
                }
            }
            WriteOp::Delete { collection, key } => {
                if is_counter(schema, collection) {
                    wanted.insert(keys.value(collection, key));
                }
                for index in indexes(schema, collection) {
                    wanted.insert(keys.reverse(collection, index, key));
                }
            }
            WriteOp::Add {
                collection, key, ..
            } => {
                wanted.insert(keys.value(collection, key));
            }
            WriteOp::ExpectEmpty { .. } | WriteOp::Unchanged { .. } => {}
        }
    }
    wanted
}

/// The final value of every key the writes touch (`None`: delete), given what was `read`.
fn plan(
    keys: &Keys,
    schema: &Schema,
    writes: &[WriteOp],
    stored: &BTreeMap<usize, Vec<u8>>,
    read: &KeyStates,
) -> Result<KeyStates, StoreError> {
    let mut out = KeyStates::new();
    let current = |out: &KeyStates, key: &[u8]| current(out, read, key);
    for (i, w) in writes.iter().enumerate() {
        let collection = w.collection();
        if w.key().is_some() {
            out.insert(keys.version(collection), Some(Vec::new()));
        }
        match w {
            WriteOp::ExpectEmpty { .. } | WriteOp::Unchanged { .. } => {}
            WriteOp::Put {
                key, index_keys, ..
            } => {
                let value = stored.get(&i).cloned().ok_or_else(|| StoreError::Failed {
                    what: "a put lost its value".into(),
                    source: None,
                })?;
                out.insert(keys.value(collection, key), Some(value));
                for index in indexes(schema, collection) {
                    let sort = index_keys
                        .iter()
                        .find(|(name, _)| name == index)
                        .map(|(_, s)| s.as_bytes().to_vec());
                    reposition(keys, &mut out, read, collection, index, key, sort);
                }
            }
            WriteOp::Delete { key, .. } => {
                let value_key = keys.value(collection, key);
                if is_counter(schema, collection)
                    && let Some(old) = current(&out, &value_key)
                {
                    out.insert(keys.counted(collection, decode_counter(&old), key), None);
                }
                out.insert(value_key, None);
                for index in indexes(schema, collection) {
                    reposition(keys, &mut out, read, collection, index, key, None);
                }
            }
            WriteOp::Add { key, delta, .. } => {
                let value_key = keys.value(collection, key);
                let old = current(&out, &value_key).map(|v| decode_counter(&v));
                let new = old.unwrap_or(0).checked_add(*delta).ok_or_else(|| {
                    StoreError::Rejected(format!("counter `{collection}/{key}` would overflow"))
                })?;
                if let Some(old) = old {
                    out.insert(keys.counted(collection, old, key), None);
                }
                out.insert(keys.counted(collection, new, key), Some(Vec::new()));
                out.insert(value_key, Some(new.to_le_bytes().to_vec()));
            }
        }
    }
    Ok(out)
}

/// The value of `key` now: as planned so far, else as read.
fn current(out: &KeyStates, read: &KeyStates, key: &[u8]) -> Option<Vec<u8>> {
    match out.get(key) {
        Some(planned) => planned.clone(),
        None => read.get(key).cloned().flatten(),
    }
}

/// Moves `key`'s position in `index` to `sort` (`None`: out of the index).
fn reposition(
    keys: &Keys,
    out: &mut KeyStates,
    read: &KeyStates,
    collection: &str,
    index: &str,
    key: &str,
    sort: Option<Vec<u8>>,
) {
    let back = keys.reverse(collection, index, key);
    if let Some(old) = current(out, read, &back) {
        out.insert(keys.position(collection, index, &old, key), None);
    }
    if let Some(sort) = &sort {
        out.insert(
            keys.position(collection, index, sort, key),
            Some(Vec::new()),
        );
    }
    out.insert(back, sort);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effects::store::CollectionSchema;

    fn schema() -> Schema {
        let mut s = Schema::new();
        s.insert(
            "memes".into(),
            CollectionSchema {
                counter: false,
                indexes: vec!["new".into()],
            },
        );
        s.insert(
            "votes".into(),
            CollectionSchema {
                counter: true,
                indexes: vec![],
            },
        );
        s
    }

    #[test]
    fn two_additions_to_one_counter_in_one_request_both_count() {
        let keys = Keys::new("t");
        let add = |d| WriteOp::Add {
            collection: "votes".into(),
            key: "x".into(),
            delta: d,
        };
        let mut read = BTreeMap::new();
        read.insert(keys.value("votes", "x"), Some(5i64.to_le_bytes().to_vec()));
        let out = plan(&keys, &schema(), &[add(1), add(2)], &BTreeMap::new(), &read).unwrap();
        assert_eq!(
            out.get(&keys.value("votes", "x")),
            Some(&Some(8i64.to_le_bytes().to_vec()))
        );
        assert_eq!(out.get(&keys.counted("votes", 5, "x")), Some(&None));
        assert_eq!(out.get(&keys.counted("votes", 6, "x")), Some(&None));
        assert_eq!(
            out.get(&keys.counted("votes", 8, "x")),
            Some(&Some(Vec::new()))
        );
    }

    #[test]
    fn a_put_moves_the_old_index_position() {
        let keys = Keys::new("t");
        let put = WriteOp::Put {
            collection: "memes".into(),
            key: "a".into(),
            value: b"v".to_vec(),
            index_keys: vec![("new".into(), "2".into())],
        };
        let mut read = BTreeMap::new();
        read.insert(keys.reverse("memes", "new", "a"), Some(b"1".to_vec()));
        let stored = BTreeMap::from([(0, vec![INLINE, b'v'])]);
        let out = plan(&keys, &schema(), &[put], &stored, &read).unwrap();
        assert_eq!(
            out.get(&keys.position("memes", "new", b"1", "a")),
            Some(&None)
        );
        assert_eq!(
            out.get(&keys.position("memes", "new", b"2", "a")),
            Some(&Some(Vec::new()))
        );
        assert_eq!(
            out.get(&keys.reverse("memes", "new", "a")),
            Some(&Some(b"2".to_vec()))
        );
        assert!(out.contains_key(&keys.version("memes")));
    }
}
