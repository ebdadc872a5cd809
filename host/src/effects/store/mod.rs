//! The storage seam: what the effects layer needs from a database, and the two databases behind
//! it — [`redb`] (embedded, one file, the default) and [`etcd`] (a Raft-replicated cluster, for
//! many hosts). Only `redb.rs` names redb and only `etcd.rs` names etcd; the rest of the host sees
//! [`Storage`], [`Snapshot`] and [`StoreError`].
//!
//! The contract both implementations keep (tests/integration/effects.rs runs against both):
//! * a [`Snapshot`] is opened once per request and every read of the request — declared reads
//!   and every `need` round — sees the same consistent state;
//! * [`Storage::apply`] applies all the writes of a request or none of them, durably, and never
//!   loses a counter addition to a concurrent one;
//! * [`Snapshot::versions`] gives, per collection, a number that changes whenever a write to the
//!   collection commits, and is read from the same state as the snapshot's data: memo keys are
//!   built from it.
//!
//! Nothing here knows about routes, grants or HTTP; the caller has checked every request.

mod etcd;
mod group;
mod redb;
mod seam;

pub use self::etcd::{EtcdConfig, EtcdStore, Sweep};
pub use self::redb::RedbStore;
pub use self::seam::{CollectionSchema, Schema, Snapshot, Storage, StoreError, Writer};

#[cfg(test)]
mod tests;
