//! The seam itself: the [`Storage`] and [`Snapshot`] traits both databases implement, their
//! errors and the encodings they share (cursors). The databases and the effects layer depend on
//! this module; it depends on neither.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::component::{ReadError, ReadValue};
use crate::effects::{ReadRequest, Seen, WriteOp};

/// A boxed future, so that [`Storage`] can be used as `dyn Storage`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A source error kept in a [`StoreError`]'s chain.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What a collection is, as far as storage cares.
#[derive(Debug, Clone, Default)]
pub struct CollectionSchema {
    pub counter: bool,
    /// Declared indexes other than the counter's `value`.
    pub indexes: Vec<String>,
}

/// Every collection of a manifest, by name.
pub type Schema = BTreeMap<String, CollectionSchema>;

/// The outcome of one read of a round: a value for the handler, or why this read (alone) failed,
/// e.g. a malformed cursor. The handler sees the error.
pub type ReadOutcome = Result<ReadValue, ReadError>;

/// Why the store failed a whole read round or a request's writes. Its text goes to the log,
/// never to a client; [`StoreError::is_retryable`] picks the client's status.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached, or did not answer in time (e.g. while its cluster elects a
    /// leader). Nothing may have been written; the client may retry (503 with `Retry-After`).
    #[error("storage unavailable: {what}")]
    Unavailable {
        what: String,
        #[source]
        source: Option<BoxError>,
    },
    /// Concurrent writers kept changing what this request's writes depend on, past the retry
    /// budget. Nothing was written; the client may retry (503 with `Retry-After`).
    #[error("storage contended: {0}")]
    Contended(String),
    /// A key the request read with `get` and writes changed after its snapshot read it (a
    /// [`WriteOp::Unchanged`] precondition failed). Nothing was written; the request must run
    /// again from fresh reads (the handler does, a few times, then answers 503).
    #[error("write conflict: {0}")]
    Conflict(String),
    /// The writes cannot be applied as they are (e.g. a counter would overflow): retrying will
    /// not help. Nothing was written (500).
    #[error("write rejected: {0}")]
    Rejected(String),
    /// The store failed in a way a retry is not expected to fix: a damaged file, an answer it
    /// should never give (500).
    #[error("storage failed: {what}")]
    Failed {
        what: String,
        #[source]
        source: Option<BoxError>,
    },
}

impl StoreError {
    /// `Failed` with `what` and its source.
    pub fn failed(what: impl Into<String>, source: impl Into<BoxError>) -> StoreError {
        StoreError::Failed {
            what: what.into(),
            source: Some(source.into()),
        }
    }

    /// `Unavailable` with `what` and its source.
    pub fn unavailable(what: impl Into<String>, source: impl Into<BoxError>) -> StoreError {
        StoreError::Unavailable {
            what: what.into(),
            source: Some(source.into()),
        }
    }

    /// Whether the same request may succeed if the client sends it again later: the host then
    /// answers 503 with `Retry-After` instead of 500.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            StoreError::Unavailable { .. } | StoreError::Contended(_) | StoreError::Conflict(_)
        )
    }
}

/// Storage for the effects layer: consistent multi-reads and atomic multi-writes.
pub trait Storage: Send + Sync + std::fmt::Debug {
    /// A read handle for one request. Opening it does no I/O: the first read (or
    /// [`Snapshot::versions`]) fixes the state every later read of the request sees.
    fn snapshot(&self) -> Box<dyn Snapshot>;

    /// Applies writes atomically and durably: all of them or none.
    fn apply(&self, writes: Vec<WriteOp>) -> BoxFuture<'_, Result<(), StoreError>>;

    /// [`Storage::apply`] for a request counted by [`Storage::writer`], which arrives with its
    /// writes.
    fn apply_from(
        &self,
        writes: Vec<WriteOp>,
        writer: Writer,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        drop(writer);
        self.apply(writes)
    }

    /// Counts a request that may write, from now until it applies its writes or ends, for a
    /// store that commits concurrent requests together (see `group`). Others count nothing.
    fn writer(&self) -> Writer {
        Writer::uncounted()
    }

    /// Whether the store answers now (for `/readyz`).
    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>>;
}

/// A request that may write, counted by its store ([`Storage::writer`]) from its start until it
/// hands its writes over ([`Storage::apply_from`]) or ends (dropped): a store that commits
/// concurrent requests together may wait a moment for it.
pub struct Writer(Option<Arc<dyn Coming>>);

/// The store side of a counted [`Writer`].
pub(super) trait Coming: Send + Sync {
    /// The writer ended without writing.
    fn left(&self);
}

impl Writer {
    /// A writer no store counts (a store that does not commit in groups).
    pub fn uncounted() -> Writer {
        Writer(None)
    }

    /// A writer `store` counts: it has counted it already, and hears when it ends unless it
    /// arrives first.
    pub(super) fn counted(store: Arc<dyn Coming>) -> Writer {
        Writer(Some(store))
    }

    /// The writer has arrived with its writes: from now on nobody waits for it. Says whether it
    /// was counted.
    pub(super) fn arrive(&mut self) -> bool {
        self.0.take().is_some()
    }
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Writer").field(&self.0.is_some()).finish()
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if let Some(store) = self.0.take() {
            store.left();
        }
    }
}

/// One request's view of the store: every read sees the same state.
pub trait Snapshot: Send + std::fmt::Debug {
    /// Performs one round of reads. `Err` when the store failed the whole round; a read the store
    /// answered but could not perform (a malformed cursor) is an `Err` inside the vector.
    fn read<'a>(
        &'a mut self,
        reads: &'a [ReadRequest],
    ) -> BoxFuture<'a, Result<Vec<ReadOutcome>, StoreError>>;

    /// The versions of `collections`, in their order, as of this snapshot (fixing it if no read
    /// did yet). Empty `collections` cost no I/O.
    fn versions<'a>(
        &'a mut self,
        collections: &'a [&'a str],
    ) -> BoxFuture<'a, Result<Vec<u64>, StoreError>>;

    /// What this snapshot saw of `key`, which a round read with `get`, in the terms the store's
    /// [`WriteOp::Unchanged`] compares (no I/O: recorded by the read, or from the snapshot).
    fn seen(&self, collection: &str, key: &str) -> Result<Seen, StoreError>;
}

/// Cursors are the last entry's position (sort key, key), each hex-encoded, joined by `.`: they
/// travel in URLs as they are, and a NUL in a sort key cannot be mistaken for the separator.
/// Both stores make and accept the same cursors.
pub fn encode_cursor(sort: &[u8], key: &[u8]) -> String {
    let mut s = String::with_capacity((sort.len() + key.len()) * 2 + 1);
    for b in sort {
        s.push_str(&format!("{b:02x}"));
    }
    s.push('.');
    for b in key {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The position a cursor names, or the message the handler gets. Also reads the cursors of
/// earlier versions, `hex(sort 00 key)`, so links made before an upgrade keep working.
pub fn decode_cursor(cursor: &str) -> Result<(String, String), ReadError> {
    let bad = || ReadError::BadCursor(cursor.to_owned());
    let unhex = |hex: &str| -> Result<String, ReadError> {
        if !hex.len().is_multiple_of(2) {
            return Err(bad());
        }
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("zz"), 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| bad())?;
        String::from_utf8(bytes).map_err(|_| bad())
    };
    if let Some((sort, key)) = cursor.split_once('.') {
        return Ok((unhex(sort)?, unhex(key)?));
    }
    let text = unhex(cursor)?;
    let (sort, key) = text.split_once('\0').ok_or_else(bad)?;
    Ok((sort.to_owned(), key.to_owned()))
}

/// The message for a prefix on a counter's `value` index, the same from both stores.
pub const PREFIX_ON_VALUE: &str = "a prefix cannot be used on the counter index `value`";
