//! The connection to the etcd cluster: [`EtcdStore`] itself, its bounded and classified calls
//! (every failure becomes a [`StoreError`]), and the per-key lock stripes and backoff its
//! writers share. `read` and `write` build on it; it knows neither.

use std::collections::BTreeSet;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::Duration;

use etcd_client::{Client, ConnectOptions, GetOptions, KvClient, Txn, TxnOp, TxnOpResponse};

use super::keys::Keys;
use crate::effects::WriteOp;
use crate::effects::store::seam::{Schema, StoreError};

use tokio::sync::{Mutex, MutexGuard};

/// Lock stripes for this host's writers.
const STRIPES: usize = 256;

/// etcd's default `--max-txn-ops`: the most operations (and, separately, compares) one
/// transaction may hold. Reads are split into transactions of this size; a request whose writes
/// need more is rejected with a hint.
const MAX_TXN_OPS: usize = 128;

/// The largest answer the client accepts: a page of large values can exceed tonic's 4 MiB default.
const MAX_DECODED_BYTES: usize = 256 << 20;

/// How etcd is reached (from a `StoreUrl::Etcd` and the store's timeout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtcdConfig {
    /// `HOST:PORT` of each member the client may use.
    pub endpoints: Vec<String>,
    /// The prefix of every key this host reads and writes.
    pub namespace: String,
    /// The bound on one call to etcd; a call past it is "unavailable, retry".
    pub timeout: Duration,
}

/// The store on an etcd cluster. Cheap to clone; clones share the connection.
#[derive(Debug, Clone)]
pub struct EtcdStore {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) config: EtcdConfig,
    /// Made on first use: the client needs a running tokio runtime.
    pub(super) kv: tokio::sync::OnceCell<KvClient>,
    pub(super) keys: Keys,
    pub(super) schema: Schema,
    pub(super) timeout: Duration,
    /// Serialises this host's writes that touch the same keys, so that they queue here instead
    /// of failing each other's compares in etcd; writers on other hosts still conflict, and retry.
    pub(super) stripes: Stripes,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdStore")
            .field("config", &self.config)
            .field("connected", &self.kv.initialized())
            .finish_non_exhaustive()
    }
}

impl EtcdStore {
    /// A store on the cluster `config` names. Connections are made when first used, so an
    /// unreachable cluster shows up as `Unavailable` on the first call, not here.
    pub fn new(config: &EtcdConfig, schema: Schema) -> EtcdStore {
        EtcdStore {
            inner: Arc::new(Inner {
                config: config.clone(),
                kv: tokio::sync::OnceCell::new(),
                keys: Keys::new(&config.namespace),
                schema,
                timeout: config.timeout,
                stripes: Stripes::new(),
            }),
        }
    }

    async fn kv(&self) -> Result<KvClient, StoreError> {
        let config = &self.inner.config;
        let kv = self
            .inner
            .kv
            .get_or_try_init(|| async {
                let options = ConnectOptions::new()
                    .with_connect_timeout(config.timeout)
                    .with_timeout(config.timeout)
                    .with_keep_alive(Duration::from_secs(2), config.timeout)
                    // A member that lost its leader fails at once instead of holding the request.
                    .with_require_leader(true);
                let client = Client::connect(&config.endpoints, Some(options))
                    .await
                    .map_err(|e| {
                        classify(&format!("connecting to etcd at {}", self.endpoints()), e)
                    })?;
                Ok::<_, StoreError>(
                    client
                        .kv_client()
                        .max_decoding_message_size(MAX_DECODED_BYTES)
                        .max_encoding_message_size(MAX_DECODED_BYTES),
                )
            })
            .await?;
        Ok(kv.clone())
    }

    fn endpoints(&self) -> String {
        self.inner.config.endpoints.join(",")
    }

    /// One transaction, bounded by the timeout.
    pub(super) async fn txn(
        &self,
        txn: Txn,
        what: &str,
    ) -> Result<etcd_client::TxnResponse, StoreError> {
        let mut kv = self.kv().await?;
        match tokio::time::timeout(self.inner.timeout, kv.txn(txn)).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(e)) => Err(classify(what, e)),
            Err(_) => Err(StoreError::Unavailable {
                what: format!(
                    "{what}: etcd at {} did not answer within {:?}",
                    self.endpoints(),
                    self.inner.timeout
                ),
                source: None,
            }),
        }
    }

    /// Gets, in read-only transactions of at most [`MAX_TXN_OPS`] each, all at `revision` (the
    /// current one when `None`, which the first transaction then fixes and returns). Retries on
    /// `Unavailable` until `deadline`: reads change nothing, and another member may answer.
    pub(super) async fn gets(
        &self,
        gets: Vec<(Vec<u8>, GetOptions)>,
        revision: &mut Option<i64>,
        deadline: tokio::time::Instant,
    ) -> Result<Vec<etcd_client::GetResponse>, StoreError> {
        let mut out = Vec::with_capacity(gets.len());
        let mut gets = gets.into_iter().peekable();
        while gets.peek().is_some() {
            let batch: Vec<(Vec<u8>, GetOptions)> = gets.by_ref().take(MAX_TXN_OPS).collect();
            let mut attempt = 0u32;
            let response = loop {
                let ops: Vec<TxnOp> = batch
                    .iter()
                    .map(|(key, options)| {
                        let options = match *revision {
                            Some(r) => options.clone().with_revision(r),
                            None => options.clone(),
                        };
                        TxnOp::get(key.clone(), Some(options))
                    })
                    .collect();
                match self.txn(Txn::new().and_then(ops), "reading").await {
                    Ok(response) => break response,
                    Err(e) if e.is_retryable() && tokio::time::Instant::now() < deadline => {
                        attempt += 1;
                        tokio::time::sleep(backoff(attempt)).await;
                    }
                    Err(e) => return Err(e),
                }
            };
            if revision.is_none() {
                *revision = Some(response.header().map_or(0, |h| h.revision()));
            }
            for op in response.op_responses() {
                match op {
                    TxnOpResponse::Get(get) => out.push(get),
                    other => {
                        return Err(StoreError::Failed {
                            what: format!("etcd answered a get with {other:?}"),
                            source: None,
                        });
                    }
                }
            }
        }
        Ok(out)
    }

    pub(super) fn deadline(&self) -> tokio::time::Instant {
        // Two call timeouts: time for one retry on another member after a failed one.
        tokio::time::Instant::now() + self.inner.timeout * 2
    }
}

/// Per-key-hash locks: writes of this host that touch the same entries take turns.
#[derive(Debug)]
pub(super) struct Stripes {
    locks: Vec<Mutex<()>>,
    hasher: std::collections::hash_map::RandomState,
}

impl Stripes {
    pub(super) fn new() -> Stripes {
        Stripes {
            locks: (0..STRIPES).map(|_| Mutex::new(())).collect(),
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }

    /// Locks the stripes of every (collection, key) written, in stripe order (no deadlock).
    pub(super) async fn lock(&self, writes: &[WriteOp]) -> Vec<MutexGuard<'_, ()>> {
        let stripes: BTreeSet<usize> = writes
            .iter()
            .map(|w| {
                let hash = self.hasher.hash_one((w.collection(), w.key()));
                usize::try_from(hash % STRIPES as u64).unwrap_or(0)
            })
            .collect();
        let mut guards = Vec::with_capacity(stripes.len());
        for stripe in stripes {
            guards.push(self.locks[stripe].lock().await);
        }
        guards
    }
}

/// A randomized pause before attempt `attempt` (1-based), growing to about 50 ms, so that
/// writers on different hosts stop meeting each other.
pub(super) fn backoff(attempt: u32) -> Duration {
    let jitter = std::collections::hash_map::RandomState::new().hash_one(attempt);
    let cap = 1000 * u64::from(attempt.min(50));
    Duration::from_micros(jitter % cap.max(1))
}

/// Whether a failed call certainly never reached etcd's state machine: the connection was
/// refused, or the member said it has no leader (asked with `require_leader`, it refuses before
/// proposing). Only then may a write be sent again; after any other failure it may have
/// committed.
pub(super) fn unsent(e: &StoreError) -> bool {
    let StoreError::Unavailable {
        source: Some(source),
        ..
    } = e
    else {
        return false;
    };
    let text = match source.downcast_ref::<etcd_client::Error>() {
        Some(etcd_client::Error::GRpcStatus(status)) => status.message().to_owned(),
        Some(etcd_client::Error::TransportError(t)) => format!("{t:?}"),
        _ => return false,
    };
    [
        "tcp connect error",
        "Connection refused",
        "etcdserver: no leader",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

/// Sorts an etcd client error into "unavailable, retry" (no leader, timeouts, connection
/// failures, a compacted revision) or a failure that retrying will not fix.
fn classify(what: &str, e: etcd_client::Error) -> StoreError {
    use etcd_client::Error as E;
    use tonic::Code;
    let retryable = match &e {
        E::TransportError(_) | E::IoError(_) => true,
        E::GRpcStatus(status) => match status.code() {
            Code::Unavailable
            | Code::DeadlineExceeded
            | Code::Cancelled
            | Code::ResourceExhausted
            | Code::Aborted
            | Code::Unknown
            // "required revision has been compacted": a new request reads a newer revision.
            | Code::OutOfRange => true,
            Code::InvalidArgument if status.message().contains("too many operations") => {
                return StoreError::Rejected(format!(
                    "{what}: the request's writes need more operations than etcd's \
                     `--max-txn-ops` allows ({}); raise it on every member, or write less per \
                     request",
                    status.message()
                ));
            }
            _ => false,
        },
        _ => false,
    };
    if retryable {
        StoreError::unavailable(what, e)
    } else {
        StoreError::failed(what, e)
    }
}
