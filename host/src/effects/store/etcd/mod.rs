//! The networked store: an etcd v3 cluster (Raft-replicated, strictly serializable), so that
//! many stateless hosts share one state. The only module that knows etcd.
//!
//! * **Reads** of one request run at one revision: the first round is a linearizable read-only
//!   transaction, whose header revision every later round (and the values of index pages and the
//!   chunks of large values) reads at ([`read`]).
//! * **Writes** of one request commit in one transaction whose compares are the mod revisions
//!   of everything the writes read-modify-write (counters, index back-pointers); a conflict
//!   re-reads and retries, so no counter addition is ever lost ([`write`]). Values too large for
//!   one etcd request are written first as content-addressed chunks ([`keys::Chunks`]).
//! * **Versions** for memo keys are the mod revisions of one key per collection, rewritten by
//!   every transaction that writes the collection, and read linearizably in the request's first
//!   round trip: a host never replays a reply older than a write any host acknowledged.
//!
//! * **Orphaned chunks** (of failed requests, overwritten and deleted values) are deleted only by
//!   `nebula-host store gc`, safely while hosts write ([`gc`]).
//!
//! The key layout is in [`keys`]. Every call is bounded by a timeout; an unreachable or leaderless
//! cluster is [`StoreError::Unavailable`], which clients see as 503 with `Retry-After`.

mod client;
mod gc;
mod keys;
mod read;
mod write;

use etcd_client::GetOptions;

pub use client::{EtcdConfig, EtcdStore};
pub use gc::Sweep;

use super::seam::{BoxFuture, Snapshot, Storage, StoreError};
use crate::effects::WriteOp;

impl Storage for EtcdStore {
    fn snapshot(&self) -> Box<dyn Snapshot> {
        Box::new(read::EtcdSnapshot::new(self.clone()))
    }

    fn apply(&self, writes: Vec<WriteOp>) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.apply_writes(writes))
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let key = self.inner.keys.namespace().to_vec();
            let get = (key, GetOptions::new().with_count_only());
            self.gets(vec![get], &mut None, tokio::time::Instant::now())
                .await
                .map(drop)
        })
    }
}
