//! Garbage collection of orphaned chunks: `NS/b/HASH` keys that no entry's chunk list names,
//! left by a request that failed after writing its chunks, and by large values overwritten or
//! deleted since. Never deletes anything else, and never a chunk an entry names.
//!
//! A writer puts its chunks *before* the transaction that makes an entry name them (see
//! [`super::write`]), so at any moment a chunk may be unreferenced only because its writer's
//! transaction has not committed yet. A sweep therefore deletes only chunks that are
//!
//! 1. **old**: last written (their mod revision) at or before a *mark*, a revision read at least
//!    the grace period before the sweep's own snapshot. A writer's chunk puts and its
//!    transaction are one request, bounded by the store's timeouts to seconds, so a chunk put
//!    before the mark whose transaction has not committed by the end of the grace never will.
//!    Every writer puts all its chunks again, even those that exist, which moves their mod
//!    revision past any earlier mark: a chunk an orphan shares with a new upload is young again;
//! 2. **unreferenced** at the sweep's snapshot: no value under `NS/v/` lists its hash;
//! 3. **unchanged since**: each delete is a transaction that compares the chunk's mod revision
//!    with the one the sweep saw, so a writer that put the chunk again after the snapshot (about
//!    to refer to it) keeps it.
//!
//! Only `store gc` (the command line) runs a sweep; a serving host never does.

use std::collections::HashSet;
use std::time::Duration;

use etcd_client::{Compare, CompareOp, GetOptions, KeyValue, Txn, TxnOp};

use super::EtcdStore;
use super::keys::{CHUNKED, Chunks, prefix_end};
use crate::effects::store::seam::StoreError;

/// Entries read per page while collecting the references: each may hold up to 1 MiB inline.
const ENTRY_PAGE: i64 = 32;
/// Chunk keys read per page (keys only).
const CHUNK_PAGE: i64 = 1000;

/// What one sweep found and did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sweep {
    /// Entries read at the snapshot.
    pub entries: u64,
    /// Chunks found at the snapshot.
    pub chunks: u64,
    /// Chunks an entry names: kept.
    pub referenced: u64,
    /// Unreferenced chunks written after the mark: kept (a writer may be about to commit).
    pub recent: u64,
    /// Orphans deleted (in a dry run: that would have been).
    pub deleted: u64,
    /// Orphans written again between the snapshot and their delete: kept.
    pub rewritten: u64,
}

impl EtcdStore {
    /// The cluster's current revision (a linearizable read): a mark for [`EtcdStore::sweep`].
    pub async fn revision(&self) -> Result<i64, StoreError> {
        let key = self.inner.keys.namespace().to_vec();
        let mut revision = None;
        let get = (key, GetOptions::new().with_count_only());
        self.gets(vec![get], &mut revision, self.deadline()).await?;
        revision.ok_or_else(|| StoreError::Failed {
            what: "etcd answered without a revision".into(),
            source: None,
        })
    }

    /// Marks the current revision, waits `grace`, then sweeps the chunks last written at or
    /// before the mark ([`EtcdStore::sweep`]).
    pub async fn collect_garbage(
        &self,
        grace: Duration,
        dry_run: bool,
    ) -> Result<Sweep, StoreError> {
        let mark = self.revision().await?;
        tokio::time::sleep(grace).await;
        self.sweep(mark, dry_run).await
    }

    /// Deletes every chunk that no entry names at the current revision and whose last write
    /// is at or before revision `mark`, each only if it is still unchanged. With `dry_run`,
    /// counts them and deletes nothing.
    pub async fn sweep(&self, mark: i64, dry_run: bool) -> Result<Sweep, StoreError> {
        let keys = &self.inner.keys;
        let mut sweep = Sweep::default();
        let mut snapshot = None;
        let mut referenced = HashSet::new();
        let entries = keys.entries();
        self.walk(&entries, ENTRY_PAGE, false, &mut snapshot, |kv| {
            sweep.entries += 1;
            // Every value of any collection counts: a counter's 8 bytes are too short to read
            // as a chunk list, and an entry of a collection the manifest no longer declares
            // keeps its chunks too.
            if let Some((&CHUNKED, list)) = kv.value().split_first()
                && let Some(list) = Chunks::decode(list)
            {
                referenced.extend(list.hashes);
            }
        })
        .await?;

        let prefix = keys.chunks();
        let mut orphans = Vec::new();
        self.walk(&prefix, CHUNK_PAGE, true, &mut snapshot, |kv| {
            sweep.chunks += 1;
            let hash = kv
                .key()
                .strip_prefix(prefix.as_slice())
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| blake3::Hash::from_hex(hex).ok());
            match hash {
                // Not a key this store writes: not ours to delete.
                None => sweep.referenced += 1,
                Some(hash) if referenced.contains(&hash) => sweep.referenced += 1,
                Some(_) if kv.mod_revision() > mark => sweep.recent += 1,
                Some(_) => orphans.push((kv.key().to_vec(), kv.mod_revision())),
            }
        })
        .await?;

        for (key, revision) in orphans {
            if dry_run || self.delete_unchanged(key, revision).await? {
                sweep.deleted += 1;
            } else {
                sweep.rewritten += 1;
            }
        }
        Ok(sweep)
    }

    /// Calls `each` on every key under `prefix`, `page` keys at a time, all at one revision
    /// (the first page fixes `snapshot` when it is `None`).
    async fn walk(
        &self,
        prefix: &[u8],
        page: i64,
        keys_only: bool,
        snapshot: &mut Option<i64>,
        mut each: impl FnMut(&KeyValue),
    ) -> Result<(), StoreError> {
        let end = prefix_end(prefix);
        let mut from = prefix.to_vec();
        loop {
            let mut options = GetOptions::new().with_range(end.clone()).with_limit(page);
            if keys_only {
                options = options.with_keys_only();
            }
            let mut response = self
                .gets(vec![(from.clone(), options)], snapshot, self.deadline())
                .await?
                .pop()
                .ok_or_else(|| StoreError::Failed {
                    what: "etcd answered no range".into(),
                    source: None,
                })?;
            let more = response.more();
            let kvs = response.take_kvs();
            for kv in &kvs {
                each(kv);
            }
            match kvs.last() {
                Some(last) if more => {
                    // The next key after the last one read.
                    from = last.key().to_vec();
                    from.push(0);
                }
                _ => return Ok(()),
            }
        }
    }

    /// Deletes chunk `key` if its mod revision is still `revision`; whether it did.
    async fn delete_unchanged(&self, key: Vec<u8>, revision: i64) -> Result<bool, StoreError> {
        let txn = Txn::new()
            .when([Compare::mod_revision(
                key.clone(),
                CompareOp::Equal,
                revision,
            )])
            .and_then([TxnOp::delete(key, None)]);
        Ok(self
            .txn(txn, "deleting an orphaned chunk")
            .await?
            .succeeded())
    }
}

#[cfg(test)]
mod tests {
    use super::super::write::CHUNK;
    use super::*;
    use crate::component::ReadValue;
    use crate::effects::store::seam::Storage;
    use crate::effects::store::tests::etcd_store;
    use crate::effects::{ReadRequest, Seen, WriteOp};

    /// 2.5 MiB: three chunks (two full ones and a half).
    fn large(seed: u8) -> Vec<u8> {
        (0..5 << 19).map(|i: u32| (i % 251) as u8 ^ seed).collect()
    }

    fn put(key: &str, value: Vec<u8>) -> WriteOp {
        WriteOp::Put {
            collection: "memes".into(),
            key: key.into(),
            value,
            index_keys: vec![("new".into(), key.into())],
        }
    }

    async fn get(store: &EtcdStore, key: &str) -> Option<Vec<u8>> {
        let read = ReadRequest::Get {
            collection: "memes".into(),
            key: key.into(),
        };
        match store
            .snapshot()
            .read(&[read])
            .await
            .expect("reads")
            .remove(0)
        {
            Ok(ReadValue::Value(v)) => v,
            other => panic!("not a value: {other:?}"),
        }
    }

    /// The chunk keys in the store now.
    async fn chunk_keys(store: &EtcdStore) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        store
            .walk(&store.inner.keys.chunks(), 100, true, &mut None, |kv| {
                out.push(kv.key().to_vec())
            })
            .await
            .expect("lists chunks");
        out
    }

    #[tokio::test]
    async fn deletes_the_chunks_of_a_failed_request_after_the_grace() {
        let etcd = etcd_store();
        let store = &etcd.store;
        // The chunks go out first; then the transaction fails on its precondition.
        let failed = store
            .apply(vec![
                put("a", large(1)),
                WriteOp::Unchanged {
                    collection: "memes".into(),
                    key: "b".into(),
                    seen: Seen::Revision(999_999),
                },
            ])
            .await;
        assert!(matches!(failed, Err(StoreError::Conflict(_))), "{failed:?}");
        assert_eq!(get(store, "a").await, None);
        assert_eq!(chunk_keys(store).await.len(), 3);

        let sweep = store
            .collect_garbage(Duration::from_millis(200), false)
            .await
            .expect("sweeps");
        assert_eq!((sweep.chunks, sweep.deleted, sweep.referenced), (3, 3, 0));
        assert!(chunk_keys(store).await.is_empty());
    }

    #[tokio::test]
    async fn never_deletes_a_chunk_an_entry_names() {
        let etcd = etcd_store();
        let store = &etcd.store;
        store
            .apply(vec![put("kept", large(1)), put("shared", large(2))])
            .await
            .expect("writes");
        // `gone` shares its chunks with `shared`; overwriting it orphans none of them, and
        // overwriting `kept2` orphans its own three.
        store
            .apply(vec![put("gone", large(2)), put("kept2", large(3))])
            .await
            .expect("writes");
        store
            .apply(vec![
                put("gone", b"small".to_vec()),
                put("kept2", b"x".to_vec()),
            ])
            .await
            .expect("writes");
        let mark = store.revision().await.expect("revision");

        let dry = store.sweep(mark, true).await.expect("sweeps");
        assert_eq!((dry.chunks, dry.referenced, dry.deleted), (9, 6, 3));
        assert_eq!(
            chunk_keys(store).await.len(),
            9,
            "a dry run deletes nothing"
        );
        let sweep = store.sweep(mark, false).await.expect("sweeps");
        assert_eq!((sweep.referenced, sweep.deleted), (6, 3));
        assert_eq!(get(store, "kept").await, Some(large(1)));
        assert_eq!(get(store, "shared").await, Some(large(2)));
        assert_eq!(get(store, "gone").await.as_deref(), Some(&b"small"[..]));
        let again = store
            .sweep(store.revision().await.expect("revision"), false)
            .await;
        assert_eq!(again.expect("sweeps").deleted, 0);
    }

    #[tokio::test]
    async fn keeps_a_chunk_written_within_the_grace_until_its_transaction_commits() {
        let etcd = etcd_store();
        let store = &etcd.store;
        // An orphan from before the mark, which a new upload of the same bytes will reuse.
        let _ = store
            .apply(vec![
                put("old", large(4)),
                WriteOp::Unchanged {
                    collection: "memes".into(),
                    key: "x".into(),
                    seen: Seen::Revision(999_999),
                },
            ])
            .await;
        let mark = store.revision().await.expect("revision");
        // A writer in the middle of its request: chunks put (one new, and the old orphan's
        // again), transaction not sent yet.
        let (new, old) = (large(5), large(4));
        for bytes in [&new[..CHUNK], &old[..CHUNK]] {
            let hash = blake3::hash(bytes);
            store
                .put_chunk(store.inner.keys.chunk(&hash), bytes.to_vec())
                .await
                .expect("puts a chunk");
        }
        let sweep = store.sweep(mark, false).await.expect("sweeps");
        assert_eq!(sweep.recent, 2, "{sweep:?}");
        assert_eq!(sweep.deleted, 2, "the old orphan's other chunks: {sweep:?}");
        // The writer's transaction (with its chunk puts, as a request makes them) commits.
        store
            .apply(vec![put("new", new.clone()), put("reused", large(4))])
            .await
            .expect("writes");
        assert_eq!(get(store, "new").await, Some(new));
        assert_eq!(get(store, "reused").await, Some(large(4)));
    }

    #[tokio::test]
    async fn keeps_an_orphan_written_again_after_the_snapshot() {
        let etcd = etcd_store();
        let store = &etcd.store;
        let bytes = b"a chunk".to_vec();
        let key = store.inner.keys.chunk(&blake3::hash(&bytes));
        store
            .put_chunk(key.clone(), bytes.clone())
            .await
            .expect("puts");
        let seen = chunk_revision(store, &key).await;
        store
            .put_chunk(key.clone(), bytes)
            .await
            .expect("puts again");
        assert!(
            !store
                .delete_unchanged(key.clone(), seen)
                .await
                .expect("answers")
        );
        let now = chunk_revision(store, &key).await;
        assert!(
            store
                .delete_unchanged(key.clone(), now)
                .await
                .expect("answers")
        );
        assert!(chunk_keys(store).await.is_empty());
    }

    async fn chunk_revision(store: &EtcdStore, key: &[u8]) -> i64 {
        let mut revision = 0;
        store
            .walk(key, 1, true, &mut None, |kv| revision = kv.mod_revision())
            .await
            .expect("reads");
        revision
    }
}
