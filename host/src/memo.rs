//! Automatic memoization of pure results: which routes qualify, the key, the store, ETags and
//! conditional requests (304), and the `x-nebula-memo` header. The request path asks this
//! module; no other module decides anything about memoization.
//!
//! A pure handler's reply is a function of its component, its route, the request and what it
//! read. The effects layer keeps a version per collection, bumped on every committed write, so the
//! key uses the versions of the collections a route may read instead of the read results: a hit
//! skips the reads as well as the call, and no invalidation is ever needed.
//!
//! Only routes that cannot write (empty `may_write`) and do not declare a `now` read are
//! memoized; a reply that read the clock dynamically, or failed with a 5xx, is not stored.
//! Identical concurrent requests are coalesced into one execution.
//!
//! The store is bounded in bytes ([`DEFAULT_MAX_BYTES`]) and follows load down: a reply nobody
//! asked for in [`IDLE_TTL`] is dropped (a sweep every [`SWEEP_EVERY`] while anything is
//! stored), and the freed memory is given back to the OS.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use lru::LruCache;
use tokio::sync::{Notify, watch};

use crate::manifest::{ReadDeclOp, RouteDecl};
use crate::reply::Reply;
use crate::request::Head;

/// The memo key, two BLAKE3 hashes. `request` covers everything a reply depends on but the
/// versions of what its route may read: one request, whatever the data. `whole` adds the
/// versions. The store keeps one reply per `request`: once a write moves a version on, the
/// older reply can never be asked for again, so the next one replaces it (or a lookup drops
/// it) instead of it taking room until it ages out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoKey {
    request: [u8; 32],
    whole: [u8; 32],
}

/// How a memoizable request was answered, for the `x-nebula-memo` header and the access log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Memoized {
    /// Replayed from the store.
    Hit,
    /// Answered by a concurrent identical request's execution.
    Shared,
    /// Executed now.
    Miss,
}

impl Memoized {
    pub fn as_str(self) -> &'static str {
        match self {
            Memoized::Hit => "hit",
            Memoized::Shared => "shared",
            Memoized::Miss => "miss",
        }
    }
}

/// Whether a route's replies may be memoized: the route allows it (`memo`, on by default), it
/// cannot write, and it declares no `now` or `random` read.
pub fn qualifies(route: &RouteDecl) -> bool {
    route.memo
        && route.may_write.is_empty()
        && !route
            .reads
            .iter()
            .any(|r| matches!(r.op, ReadDeclOp::Now | ReadDeclOp::Random))
}

/// Everything a memoizable route's reply depends on: the route, its components, the versions of
/// what it may read, and the whole request as the handler sees it. Fields are length-prefixed.
/// `If-None-Match` must be taken out of `head` first (see [`take_conditional`]).
pub fn key<'a>(
    route: &str,
    components: impl IntoIterator<Item = &'a [u8; 32]>,
    versions: impl IntoIterator<Item = u64>,
    head: &Head,
    params: &[(String, String)],
    body: &[u8],
) -> MemoKey {
    let field = |h: &mut blake3::Hasher, bytes: &[u8]| {
        h.update(&(bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    let mut h = blake3::Hasher::new();
    field(&mut h, route.as_bytes());
    for digest in components {
        field(&mut h, digest);
    }
    field(&mut h, head.method.as_bytes());
    field(&mut h, head.path.as_bytes());
    field(&mut h, head.query.as_bytes());
    for header in &head.headers {
        field(&mut h, header.name.as_bytes());
        field(&mut h, header.value.as_bytes());
    }
    for (name, value) in params {
        field(&mut h, name.as_bytes());
        field(&mut h, value.as_bytes());
    }
    field(&mut h, body);
    let request = *h.finalize().as_bytes();
    let mut h = blake3::Hasher::new();
    field(&mut h, &request);
    for version in versions {
        field(&mut h, &version.to_le_bytes());
    }
    MemoKey {
        request,
        whole: *h.finalize().as_bytes(),
    }
}

/// Takes `If-None-Match` out of a request: conditional requests are answered by the host from
/// the memoized reply's ETag; the handler never sees them, so they do not split the key.
pub fn take_conditional(head: &mut Head) -> Option<String> {
    head.take_header("if-none-match")
}

/// A reply made now, and whether the handler read the clock (then it is not stored).
#[derive(Debug)]
pub struct Fresh {
    pub reply: Reply,
    pub read_clock: bool,
}

/// Default bound on the bytes of stored replies.
pub const DEFAULT_MAX_BYTES: usize = 64 << 20;

/// A stored reply unused for this long is dropped: what a burst of one-off keys left behind
/// does not stay resident after the burst.
pub const IDLE_TTL: Duration = Duration::from_secs(15);

/// How often idle replies are looked for, while anything is stored.
pub const SWEEP_EVERY: Duration = Duration::from_secs(5);

/// A stored reply.
#[derive(Debug)]
struct Cached {
    status: u16,
    headers: Vec<(String, String)>,
    body: Bytes,
    /// The reply's ETag (the handler's own, else one derived from the key).
    etag: String,
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

    fn to_reply(&self) -> Reply {
        Reply {
            status: self.status,
            headers: self.headers.clone(),
            body: self.body.clone(),
        }
    }

    /// A reply as stored: with the handler's own ETag, else one derived from the key.
    fn of(mut reply: Reply, key: &MemoKey) -> Cached {
        let etag = match reply
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("etag"))
        {
            Some((_, etag)) => etag.clone(),
            None => {
                let etag = etag_for(&key.whole);
                reply.headers.push(("etag".to_owned(), etag.clone()));
                etag
            }
        };
        Cached {
            status: reply.status,
            headers: reply.headers,
            body: reply.body,
            etag,
        }
    }

    /// The reply to a request with `If-None-Match: tags`: 304 with the validators when a tag
    /// matches a 2xx reply, else the whole reply.
    fn answer(&self, if_none_match: Option<&str>) -> Reply {
        match if_none_match {
            Some(tags) if (200..300).contains(&self.status) && none_match(tags, &self.etag) => {
                let mut headers = vec![("etag".to_owned(), self.etag.clone())];
                headers.extend(
                    self.headers
                        .iter()
                        .filter(|(n, _)| {
                            n.eq_ignore_ascii_case("cache-control")
                                || n.eq_ignore_ascii_case("vary")
                        })
                        .cloned(),
                );
                Reply {
                    status: 304,
                    headers,
                    body: Bytes::new(),
                }
            }
            _ => self.to_reply(),
        }
    }
}

/// What a lookup found.
#[derive(Debug)]
enum Lookup {
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
    /// The clock of [`Entry::used`].
    born: Instant,
    /// Wakes the sweeper: a reply was stored into an empty memo, or the memo is gone.
    wake: Arc<Notify>,
}

/// A stored reply, the versions it was made from (as [`MemoKey::whole`]), and when it was last
/// stored or replayed (ms since `born`).
struct Entry {
    whole: [u8; 32],
    cached: Arc<Cached>,
    used: u64,
}

struct State {
    /// By [`MemoKey::request`]: one entry per request.
    lru: LruCache<[u8; 32], Entry>,
    bytes: usize,
    /// By [`MemoKey::whole`].
    inflight: HashMap<[u8; 32], watch::Sender<Option<Arc<Cached>>>>,
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
    /// A memo, with its sweeper running when made inside a Tokio runtime.
    pub fn new(max_bytes: usize) -> Arc<Memo> {
        let memo = Memo::unswept(max_bytes);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(sweep(Arc::downgrade(&memo), IDLE_TTL, SWEEP_EVERY));
        }
        memo
    }

    /// A memo without a sweeper (one memo has at most one).
    fn unswept(max_bytes: usize) -> Arc<Memo> {
        Arc::new(Memo {
            max_bytes,
            state: Mutex::new(State {
                lru: LruCache::unbounded(),
                bytes: 0,
                inflight: HashMap::new(),
            }),
            born: Instant::now(),
            wake: Arc::new(Notify::new()),
        })
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.born.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Answers a memoizable request with key `key`: from the store, from a concurrent identical
    /// request, or by running `execute` (and storing its reply unless it read the clock or
    /// failed with a 5xx). A conditional request may get 304. The reply says how it was made in
    /// `x-nebula-memo`: useful for clients debugging caches, and for the tests.
    pub async fn answer<F, Fut>(
        self: &Arc<Self>,
        key: MemoKey,
        if_none_match: Option<String>,
        execute: F,
    ) -> (Reply, Memoized)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Fresh>,
    {
        let (cached, how) = match self.lookup(key) {
            Lookup::Hit(cached) => (cached, Memoized::Hit),
            Lookup::Wait(mut rx) => {
                let waited = rx.wait_for(Option::is_some).await.map(|done| done.clone());
                match waited {
                    Ok(done) => (done.expect("waited for Some"), Memoized::Shared),
                    // The leader's client went away before it finished: run it here.
                    Err(_) => {
                        let fresh = execute().await;
                        (Arc::new(Cached::of(fresh.reply, &key)), Memoized::Miss)
                    }
                }
            }
            Lookup::Run(flight) => {
                let fresh = execute().await;
                let store = !fresh.read_clock && fresh.reply.status < 500;
                let cached = Arc::new(Cached::of(fresh.reply, &key));
                flight.finish(cached.clone(), store);
                (cached, Memoized::Miss)
            }
        };
        let mut reply = cached.answer(if_none_match.as_deref());
        reply
            .headers
            .push(("x-nebula-memo".to_owned(), how.as_str().to_owned()));
        (reply, how)
    }

    /// Finds a stored reply, joins a running execution, or claims the execution.
    fn lookup(self: &Arc<Self>, key: MemoKey) -> Lookup {
        let now = self.now_ms();
        let mut state = self.state.lock().expect("memo lock");
        if let Some(hit) = state.lru.get_mut(&key.request) {
            if hit.whole == key.whole {
                hit.used = now;
                return Lookup::Hit(hit.cached.clone());
            }
            // Made from other data than this request read: almost always older data, which
            // nobody can ask for again (a request that read just before a write can also meet
            // a newer reply; dropping that one costs one call more, never a wrong hit).
            if let Some(stale) = state.lru.pop(&key.request) {
                state.bytes -= stale.cached.bytes();
            }
        }
        if let Some(running) = state.inflight.get(&key.whole) {
            return Lookup::Wait(running.subscribe());
        }
        let (tx, _) = watch::channel(None);
        state.inflight.insert(key.whole, tx);
        Lookup::Run(Flight {
            memo: self.clone(),
            key,
            finished: false,
        })
    }

    fn store(&self, key: MemoKey, cached: Arc<Cached>) {
        let size = cached.bytes();
        if size > self.max_bytes / 4 {
            return;
        }
        let used = self.now_ms();
        let mut state = self.state.lock().expect("memo lock");
        if state.lru.is_empty() {
            self.wake.notify_one();
        }
        state.bytes += size;
        let entry = Entry {
            whole: key.whole,
            cached,
            used,
        };
        if let Some(old) = state.lru.put(key.request, entry) {
            state.bytes -= old.cached.bytes();
        }
        while state.bytes > self.max_bytes {
            match state.lru.pop_lru() {
                Some((_, evicted)) => state.bytes -= evicted.cached.bytes(),
                None => break,
            }
        }
    }

    /// Drops the replies unused for `ttl` as of `now` (both in ms since `born`); returns the
    /// bytes dropped.
    fn expire(&self, now: u64, ttl: u64) -> usize {
        let mut state = self.state.lock().expect("memo lock");
        let mut dropped = 0;
        while state
            .lru
            .peek_lru()
            .is_some_and(|(_, e)| e.used.saturating_add(ttl) <= now)
        {
            if let Some((_, e)) = state.lru.pop_lru() {
                dropped += e.cached.bytes();
            }
        }
        state.bytes -= dropped;
        dropped
    }

    fn is_empty(&self) -> bool {
        self.state.lock().expect("memo lock").lru.is_empty()
    }

    /// Drops every stored reply (when the host goes idle, to give the memory back).
    pub fn clear(&self) {
        let mut state = self.state.lock().expect("memo lock");
        state.lru.clear();
        state.bytes = 0;
    }

    /// Entries and bytes stored.
    #[cfg(test)]
    fn usage(&self) -> (usize, usize) {
        let state = self.state.lock().expect("memo lock");
        (state.lru.len(), state.bytes)
    }
}

impl Drop for Memo {
    /// Lets the sweeper see the memo is gone (an app replaced by a reload).
    fn drop(&mut self) {
        self.wake.notify_one();
    }
}

/// Drops idle replies every [`SWEEP_EVERY`] and gives their memory back, until the memo is
/// gone; while nothing is stored it waits without a timer, so an idle host stays asleep.
async fn sweep(memo: Weak<Memo>, ttl: Duration, every: Duration) {
    let Some(wake) = memo.upgrade().map(|m| m.wake.clone()) else {
        return;
    };
    let ttl = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
    loop {
        let Some(m) = memo.upgrade() else { return };
        let empty = m.is_empty();
        drop(m);
        if empty {
            wake.notified().await;
            continue;
        }
        tokio::time::sleep(every).await;
        let Some(m) = memo.upgrade() else { return };
        if m.expire(m.now_ms(), ttl) > 0 {
            crate::memory::give_back();
        }
    }
}

/// The right (and duty) to run one key; waiters get what [`Flight::finish`] publishes.
#[derive(Debug)]
struct Flight {
    memo: Arc<Memo>,
    key: MemoKey,
    finished: bool,
}

impl Flight {
    /// Publishes the result to waiters and stores it when `store` is true.
    fn finish(mut self, cached: Arc<Cached>, store: bool) {
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
            .remove(&self.key.whole);
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
                .remove(&self.key.whole);
        }
    }
}

/// The ETag derived from a key's `whole`: a strong validator, quoted per RFC 9110 §8.8.3.
fn etag_for(key: &[u8; 32]) -> String {
    let mut s = String::with_capacity(26);
    s.push_str("\"m");
    for b in &key[..12] {
        s.push_str(&format!("{b:02x}"));
    }
    s.push('"');
    s
}

/// Whether an `If-None-Match` value matches `etag` (weak comparison, RFC 9110 §13.1.2).
fn none_match(if_none_match: &str, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let etag = bare(etag);
    if_none_match
        .split(',')
        .any(|t| t.trim() == "*" || bare(t) == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key whose request and versions are both `n`.
    fn k(n: u8) -> MemoKey {
        MemoKey {
            request: [n; 32],
            whole: [n; 32],
        }
    }

    #[test]
    fn a_reply_made_from_older_data_is_replaced_not_kept() {
        let memo = Memo::new(1 << 20);
        let (v7, v8) = (
            MemoKey {
                whole: [7; 32],
                ..k(1)
            },
            MemoKey {
                whole: [8; 32],
                ..k(1)
            },
        );
        let Lookup::Run(flight) = memo.lookup(v7) else {
            panic!("first lookup must run")
        };
        flight.finish(cached("v7"), true);
        // The data moved on: a miss, and the old reply is gone at once.
        let Lookup::Run(flight) = memo.lookup(v8) else {
            panic!("a new version must run")
        };
        assert_eq!(memo.usage(), (0, 0));
        flight.finish(cached("v8"), true);
        assert_eq!(memo.usage(), (1, cached("v8").bytes()));
        assert!(matches!(memo.lookup(v8), Lookup::Hit(c) if c.body == "v8"));
    }

    fn cached(body: &str) -> Arc<Cached> {
        Arc::new(Cached {
            status: 200,
            headers: vec![],
            body: body.to_owned().into(),
            etag: "\"x\"".into(),
        })
    }

    #[test]
    fn replies_unused_for_the_ttl_are_dropped_and_used_ones_stay() {
        let memo = Memo::new(1 << 20);
        for (key, body) in [(k(1), "old"), (k(2), "used")] {
            let Lookup::Run(flight) = memo.lookup(key) else {
                panic!("first lookup must run")
            };
            flight.finish(cached(body), true);
        }
        let stored = memo.usage();
        // Both were stored at about t = 0; replaying one marks it used at t = `later`.
        let later = memo.now_ms() + 10_000;
        memo.state
            .lock()
            .unwrap()
            .lru
            .get_mut(&k(2).request)
            .unwrap()
            .used = later;
        let (old, used) = (cached("old").bytes(), cached("used").bytes());
        assert_eq!(stored, (2, old + used));
        assert_eq!(
            memo.expire(later + 500, 1_000),
            old,
            "only the unused reply"
        );
        assert_eq!(memo.usage(), (1, used));
        assert!(matches!(memo.lookup(k(2)), Lookup::Hit(c) if c.body == "used"));
        assert!(matches!(memo.lookup(k(1)), Lookup::Run(_)));
        assert_eq!(memo.expire(later + 2_000, 1_000), used);
        assert_eq!(memo.usage(), (0, 0));
    }

    #[tokio::test]
    async fn a_sweeper_empties_an_idle_memo_and_ends_with_it() {
        let memo = Memo::unswept(1 << 20);
        let ttl = Duration::from_millis(50);
        let sweeper = tokio::spawn(sweep(Arc::downgrade(&memo), ttl, ttl / 2));
        for key in [k(3), k(4)] {
            let Lookup::Run(flight) = memo.lookup(key) else {
                panic!("first lookup must run")
            };
            flight.finish(cached("x"), true);
        }
        // Bounded: 5 s for what takes ~75 ms.
        for _ in 0..500 {
            if memo.usage() == (0, 0) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(memo.usage(), (0, 0));
        // Waiting (no timer) on an empty memo, it ends when the memo is dropped.
        drop(memo);
        tokio::time::timeout(Duration::from_secs(5), sweeper)
            .await
            .expect("the sweeper ends with its memo")
            .unwrap();
    }

    #[test]
    fn second_lookup_hits() {
        let memo = Memo::new(1 << 20);
        let Lookup::Run(flight) = memo.lookup(k(1)) else {
            panic!("first lookup must run")
        };
        flight.finish(cached("a"), true);
        assert!(matches!(memo.lookup(k(1)), Lookup::Hit(c) if c.body == "a"));
    }

    #[test]
    fn concurrent_lookup_waits_for_the_leader() {
        let memo = Memo::new(1 << 20);
        let Lookup::Run(flight) = memo.lookup(k(2)) else {
            panic!()
        };
        let Lookup::Wait(mut rx) = memo.lookup(k(2)) else {
            panic!("second must wait")
        };
        flight.finish(cached("b"), false);
        assert_eq!(rx.borrow_and_update().as_ref().unwrap().body, "b");
        // Not stored: the next lookup runs again.
        assert!(matches!(memo.lookup(k(2)), Lookup::Run(_)));
    }

    #[test]
    fn a_dropped_leader_frees_the_key() {
        let memo = Memo::new(1 << 20);
        drop(memo.lookup(k(3)));
        assert!(matches!(memo.lookup(k(3)), Lookup::Run(_)));
    }

    #[test]
    fn evicts_least_recently_used_past_the_byte_bound() {
        let memo = Memo::new(4 * 1024);
        for i in 0..20u8 {
            let Lookup::Run(f) = memo.lookup(k(i)) else {
                panic!()
            };
            f.finish(cached(&"x".repeat(500)), true);
        }
        let (entries, bytes) = memo.usage();
        assert!(bytes <= 4 * 1024, "{bytes} bytes stored");
        assert!(entries < 20 && entries > 0);
        assert!(matches!(memo.lookup(k(19)), Lookup::Hit(_)));
    }

    fn route(toml: &str) -> RouteDecl {
        let text = format!(
            "version = 1\n[collections.memes]\n[collections.votes]\ncounter = true\n\
             [components.c]\npath = \"c.wasm\"\n[[routes]]\ncomponent = \"c\"\n{toml}"
        );
        let manifest = crate::manifest::Manifest::parse("memo.toml".as_ref(), &text).unwrap();
        manifest.routes[0].clone()
    }

    #[test]
    fn only_routes_that_cannot_write_or_read_the_clock_qualify() {
        let reads = r#"reads = [{ name = "m", op = "get", collection = "memes", key = "{id}" }]"#;
        assert!(qualifies(&route(&format!(
            "route = \"GET /m/{{id}}\"\n{reads}"
        ))));
        assert!(!qualifies(&route("route = \"GET /m\"\nmemo = false")));
        assert!(!qualifies(&route(
            "route = \"POST /v\"\nmay_write = [\"votes\"]"
        )));
        let now = r#"reads = [{ name = "t", op = "now" }]"#;
        assert!(!qualifies(&route(&format!("route = \"GET /t\"\n{now}"))));
    }

    fn head(headers: &[(&str, &str)]) -> Head {
        Head {
            method: "GET".into(),
            path: "/m/1".into(),
            query: "a=1".into(),
            headers: headers
                .iter()
                .map(|(n, v)| crate::component::Header {
                    name: (*n).into(),
                    value: (*v).into(),
                })
                .collect(),
            peer: None,
        }
    }

    #[test]
    fn the_key_changes_with_every_input_but_not_with_if_none_match() {
        let base = |head: &Head| key("GET /m/{id}", [&[1; 32]], [7], head, &[], b"");
        let plain = base(&head(&[]));
        assert_ne!(plain, base(&head(&[("accept", "text/html")])));
        assert_ne!(
            plain,
            key("GET /m/{id}", [&[2; 32]], [7], &head(&[]), &[], b"")
        );
        let newer = key("GET /m/{id}", [&[1; 32]], [8], &head(&[]), &[], b"");
        assert_ne!(plain.whole, newer.whole);
        assert_eq!(plain.request, newer.request, "the same request, other data");
        assert_ne!(
            plain,
            key("GET /x/{id}", [&[1; 32]], [7], &head(&[]), &[], b"")
        );
        let params = [("id".to_owned(), "1".to_owned())];
        assert_ne!(
            plain,
            key("GET /m/{id}", [&[1; 32]], [7], &head(&[]), &params, b"")
        );
        assert_ne!(
            plain,
            key("GET /m/{id}", [&[1; 32]], [7], &head(&[]), &[], b"x")
        );
        let mut conditional = head(&[("if-none-match", "\"m1\"")]);
        assert_eq!(
            take_conditional(&mut conditional).as_deref(),
            Some("\"m1\"")
        );
        assert_eq!(plain, base(&conditional));
    }

    fn fresh(status: u16, headers: &[(&str, &str)], read_clock: bool) -> Fresh {
        let mut reply = Reply::text(status, "body");
        reply
            .headers
            .extend(headers.iter().map(|(n, v)| ((*n).into(), (*v).into())));
        Fresh { reply, read_clock }
    }

    fn memo_header(reply: &Reply) -> &str {
        let found = reply.headers.iter().find(|(n, _)| n == "x-nebula-memo");
        found.map(|(_, v)| v.as_str()).unwrap_or("none")
    }

    #[tokio::test]
    async fn a_miss_is_stored_then_replayed_with_a_derived_etag_and_a_304_for_it() {
        let memo = Memo::new(1 << 20);
        let (first, how) = memo
            .answer(k(9), None, || async { fresh(200, &[], false) })
            .await;
        assert_eq!((how, memo_header(&first)), (Memoized::Miss, "miss"));
        let etag = first
            .headers
            .iter()
            .find(|(n, _)| n == "etag")
            .unwrap()
            .1
            .clone();
        assert_eq!(etag, etag_for(&k(9).whole));

        let (again, how) = memo
            .answer(k(9), None, || async { panic!("a hit must not execute") })
            .await;
        assert_eq!(
            (how, again.body.clone()),
            (Memoized::Hit, first.body.clone())
        );

        let (not_modified, _) = memo
            .answer(k(9), Some(format!("W/{etag}")), || async { unreachable!() })
            .await;
        assert_eq!(not_modified.status, 304);
        assert!(not_modified.body.is_empty());
        assert_eq!(memo_header(&not_modified), "hit");
    }

    #[tokio::test]
    async fn the_handlers_own_etag_is_kept_and_304_keeps_cache_control() {
        let memo = Memo::new(1 << 20);
        let headers = [
            ("ETag", "\"v2\""),
            ("Cache-Control", "max-age=60"),
            ("X-Other", "1"),
        ];
        memo.answer(k(4), None, || async { fresh(200, &headers, false) })
            .await;
        let (reply, _) = memo
            .answer(k(4), Some("\"v1\", \"v2\"".into()), || async {
                unreachable!()
            })
            .await;
        assert_eq!(reply.status, 304);
        let names: Vec<_> = reply.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["etag", "Cache-Control", "x-nebula-memo"]);
    }

    #[tokio::test]
    async fn errors_and_replies_that_read_the_clock_are_not_stored_and_never_304() {
        let memo = Memo::new(1 << 20);
        let (reply, _) = memo
            .answer(k(5), Some("*".into()), || async { fresh(503, &[], false) })
            .await;
        assert_eq!(reply.status, 503, "a 5xx is answered whole, never 304");
        let (_, how) = memo
            .answer(k(5), None, || async { fresh(200, &[], true) })
            .await;
        assert_eq!(how, Memoized::Miss, "the 5xx was not stored");
        let (_, how) = memo
            .answer(k(5), None, || async { fresh(200, &[], false) })
            .await;
        assert_eq!(
            how,
            Memoized::Miss,
            "the reply that read the clock was not stored"
        );
    }

    #[test]
    fn if_none_match_compares_weakly_and_handles_lists() {
        assert!(none_match("\"a\", W/\"b\"", "\"b\""));
        assert!(none_match("*", "\"z\""));
        assert!(!none_match("\"a\"", "\"b\""));
    }
}
