//! Automatic memoization of pure results.
//!
//! A pure handler's reply is a function of its component, its route, the request and what it
//! read. The effects layer keeps a version per collection, bumped on every committed write, so the
//! key uses the versions of the collections a route may read instead of the read results: a hit
//! skips the reads as well as the call, and no invalidation is ever needed.
//!
//! Only routes that cannot write (empty `may_write`) and do not declare a `now` read are
//! memoized; a reply that read the clock dynamically, or failed with a 5xx, is not stored.
//! Identical concurrent requests are coalesced into one execution.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use lru::LruCache;
use tokio::sync::watch;

use crate::handler::Reply;

/// The memo key: BLAKE3 of everything the result depends on.
pub type Key = [u8; 32];

/// Default bound on the bytes of stored replies.
pub const DEFAULT_MAX_BYTES: usize = 64 << 20;

/// A stored reply.
#[derive(Debug)]
pub struct Cached {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: bytes::Bytes,
    /// The reply's ETag (the handler's own, else one derived from the key).
    pub etag: String,
}

impl Cached {
    fn bytes(&self) -> usize {
        self.body.len()
            + self
                .headers
                .iter()
                .map(|(n, v)| n.len() + v.len() + 16)
                .sum::<usize>()
            + 128
    }

    pub fn to_reply(&self) -> Reply {
        Reply {
            status: self.status,
            headers: self.headers.clone(),
            body: self.body.clone(),
        }
    }
}

/// What a lookup found.
#[derive(Debug)]
pub enum Lookup {
    Hit(Arc<Cached>),
    /// Another request with this key is running; wait for its result.
    Wait(watch::Receiver<Option<Arc<Cached>>>),
    /// Run it, then call [`Flight::finish`].
    Run(Flight),
}

/// The byte-bounded LRU and the in-flight table.
#[derive(Debug)]
pub struct Memo {
    max_bytes: usize,
    state: Mutex<State>,
}

struct State {
    lru: LruCache<Key, Arc<Cached>>,
    bytes: usize,
    inflight: HashMap<Key, watch::Sender<Option<Arc<Cached>>>>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("entries", &self.lru.len())
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl Memo {
    pub fn new(max_bytes: usize) -> Arc<Memo> {
        Arc::new(Memo {
            max_bytes,
            state: Mutex::new(State {
                lru: LruCache::unbounded(),
                bytes: 0,
                inflight: HashMap::new(),
            }),
        })
    }

    /// Finds a stored reply, joins a running execution, or claims the execution.
    pub fn lookup(self: &Arc<Self>, key: Key) -> Lookup {
        let mut state = self.state.lock().expect("memo lock");
        if let Some(hit) = state.lru.get(&key) {
            return Lookup::Hit(hit.clone());
        }
        if let Some(running) = state.inflight.get(&key) {
            return Lookup::Wait(running.subscribe());
        }
        let (tx, _) = watch::channel(None);
        state.inflight.insert(key, tx);
        Lookup::Run(Flight {
            memo: self.clone(),
            key,
            finished: false,
        })
    }

    fn store(&self, key: Key, cached: Arc<Cached>) {
        let size = cached.bytes();
        if size > self.max_bytes / 4 {
            return;
        }
        let mut state = self.state.lock().expect("memo lock");
        state.bytes += size;
        if let Some(old) = state.lru.put(key, cached) {
            state.bytes -= old.bytes();
        }
        while state.bytes > self.max_bytes {
            match state.lru.pop_lru() {
                Some((_, evicted)) => state.bytes -= evicted.bytes(),
                None => break,
            }
        }
    }

    /// Drops every stored reply (when the host goes idle, to give the memory back).
    pub fn clear(&self) {
        let mut state = self.state.lock().expect("memo lock");
        state.lru.clear();
        state.bytes = 0;
    }

    /// Entries and bytes stored (for tests and logs).
    pub fn usage(&self) -> (usize, usize) {
        let state = self.state.lock().expect("memo lock");
        (state.lru.len(), state.bytes)
    }
}

/// The right (and duty) to run one key; waiters get what [`Flight::finish`] publishes.
#[derive(Debug)]
pub struct Flight {
    memo: Arc<Memo>,
    key: Key,
    finished: bool,
}

impl Flight {
    /// Publishes the result to waiters and stores it when `store` is true.
    pub fn finish(mut self, cached: Arc<Cached>, store: bool) {
        self.finished = true;
        if store {
            self.memo.store(self.key, cached.clone());
        }
        let tx = self
            .memo
            .state
            .lock()
            .expect("memo lock")
            .inflight
            .remove(&self.key);
        if let Some(tx) = tx {
            tx.send_replace(Some(cached));
        }
    }
}

impl Drop for Flight {
    /// A leader that vanished without finishing (its client went away): waiters run it themselves.
    fn drop(&mut self) {
        if !self.finished {
            self.memo
                .state
                .lock()
                .expect("memo lock")
                .inflight
                .remove(&self.key);
        }
    }
}

/// The ETag derived from a key: a strong validator, quoted per RFC 9110 §8.8.3.
pub fn etag_for(key: &Key) -> String {
    let mut s = String::with_capacity(26);
    s.push_str("\"m");
    for b in &key[..12] {
        s.push_str(&format!("{b:02x}"));
    }
    s.push('"');
    s
}

/// Whether an `If-None-Match` value matches `etag` (weak comparison, RFC 9110 §13.1.2).
pub fn none_match(if_none_match: &str, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let etag = bare(etag);
    if_none_match
        .split(',')
        .any(|t| t.trim() == "*" || bare(t) == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cached(body: &str) -> Arc<Cached> {
        Arc::new(Cached {
            status: 200,
            headers: vec![],
            body: body.to_owned().into(),
            etag: "\"x\"".into(),
        })
    }

    #[test]
    fn second_lookup_hits() {
        let memo = Memo::new(1 << 20);
        let Lookup::Run(flight) = memo.lookup([1; 32]) else {
            panic!("first lookup must run")
        };
        flight.finish(cached("a"), true);
        assert!(matches!(memo.lookup([1; 32]), Lookup::Hit(c) if c.body == "a"));
    }

    #[test]
    fn concurrent_lookup_waits_for_the_leader() {
        let memo = Memo::new(1 << 20);
        let Lookup::Run(flight) = memo.lookup([2; 32]) else {
            panic!()
        };
        let Lookup::Wait(mut rx) = memo.lookup([2; 32]) else {
            panic!("second must wait")
        };
        flight.finish(cached("b"), false);
        assert_eq!(rx.borrow_and_update().as_ref().unwrap().body, "b");
        // Not stored: the next lookup runs again.
        assert!(matches!(memo.lookup([2; 32]), Lookup::Run(_)));
    }

    #[test]
    fn a_dropped_leader_frees_the_key() {
        let memo = Memo::new(1 << 20);
        drop(memo.lookup([3; 32]));
        assert!(matches!(memo.lookup([3; 32]), Lookup::Run(_)));
    }

    #[test]
    fn evicts_least_recently_used_past_the_byte_bound() {
        let memo = Memo::new(4 * 1024);
        for i in 0..20u8 {
            let Lookup::Run(f) = memo.lookup([i; 32]) else {
                panic!()
            };
            f.finish(cached(&"x".repeat(500)), true);
        }
        let (entries, bytes) = memo.usage();
        assert!(bytes <= 4 * 1024, "{bytes} bytes stored");
        assert!(entries < 20 && entries > 0);
        assert!(matches!(memo.lookup([19; 32]), Lookup::Hit(_)));
    }

    #[test]
    fn if_none_match_compares_weakly_and_handles_lists() {
        assert!(none_match("\"a\", W/\"b\"", "\"b\""));
        assert!(none_match("*", "\"z\""));
        assert!(!none_match("\"a\"", "\"b\""));
    }
}
