//! Reads on etcd at one revision per request.
//!
//! A round of reads takes up to three round trips, each one transaction of gets at the
//! request's revision: (1) the gets, counts and ranges themselves; (2) the values of the entries
//! an index page names; (3) the chunks of large values. The first transaction of a request is a
//! linearizable read that fixes the revision; every later one reads at it.

use std::collections::BTreeMap;

use etcd_client::{GetOptions, GetResponse, SortOrder, SortTarget};

use super::EtcdStore;
use super::keys::{self, CHUNKED, Chunks, INLINE, prefix_end};
use crate::component::{Entry, Page, ReadError, ReadValue};
use crate::effects::store::seam::{
    BoxFuture, PREFIX_ON_VALUE, ReadOutcome, Snapshot, StoreError, decode_cursor, encode_cursor,
};
use crate::effects::{ListRequest, ReadRequest, Seen};

/// One request's snapshot: the store, the revision its first read fixed, and the mod revision
/// of every key a `get` read (0: absent), for [`WriteOp::Unchanged`](crate::effects::WriteOp).
#[derive(Debug)]
pub(super) struct EtcdSnapshot {
    store: EtcdStore,
    revision: Option<i64>,
    seen: BTreeMap<(String, String), i64>,
}

impl EtcdSnapshot {
    pub(super) fn new(store: EtcdStore) -> EtcdSnapshot {
        EtcdSnapshot {
            store,
            revision: None,
            seen: BTreeMap::new(),
        }
    }
}

/// How an index page's keys lead back to entries.
#[derive(Debug, Clone, Copy)]
enum Walked {
    /// Primary keys: the range holds the entries themselves, after a prefix of this length.
    Primary(usize),
    /// A declared index: positions (sort, key) after a prefix of this length.
    Index(usize),
    /// A counter's `value` index: (count, key) after a prefix of this length.
    Counted(usize),
}

/// How a list read walks and how many entries it wants; `None` for other reads.
type Planned = Option<(Walked, u32)>;

/// A read after its first round trip.
#[derive(Debug)]
enum Partial {
    Done(ReadOutcome),
    /// A stored value (tagged, or a counter's raw bytes), or none.
    Value(Option<Vec<u8>>),
    Page {
        /// Key, and its value once fetched.
        entries: Vec<(String, Option<Vec<u8>>)>,
        next: Option<String>,
    },
}

impl Snapshot for EtcdSnapshot {
    fn read<'a>(
        &'a mut self,
        reads: &'a [ReadRequest],
    ) -> BoxFuture<'a, Result<Vec<ReadOutcome>, StoreError>> {
        Box::pin(self.read_round(reads))
    }

    fn versions<'a>(
        &'a mut self,
        collections: &'a [&'a str],
    ) -> BoxFuture<'a, Result<Vec<u64>, StoreError>> {
        Box::pin(async move {
            if collections.is_empty() {
                return Ok(Vec::new());
            }
            let keys = &self.store.inner.keys;
            let gets = collections
                .iter()
                .map(|c| (keys.version(c), GetOptions::new().with_keys_only()))
                .collect();
            let deadline = self.store.deadline();
            let responses = self.store.gets(gets, &mut self.revision, deadline).await?;
            Ok(responses
                .iter()
                .map(|r| {
                    r.kvs()
                        .first()
                        .map_or(0, |kv| u64::try_from(kv.mod_revision()).unwrap_or(0))
                })
                .collect())
        })
    }

    fn seen(&self, collection: &str, key: &str) -> Result<Seen, StoreError> {
        self.seen
            .get(&(collection.to_owned(), key.to_owned()))
            .map(|revision| Seen::Revision(*revision))
            .ok_or_else(|| StoreError::Failed {
                what: format!("`{collection}/{key}` was not read in this snapshot"),
                source: None,
            })
    }
}

impl EtcdSnapshot {
    fn counter(&self, collection: &str) -> bool {
        self.store
            .inner
            .schema
            .get(collection)
            .is_some_and(|c| c.counter)
    }

    async fn read_round(&mut self, reads: &[ReadRequest]) -> Result<Vec<ReadOutcome>, StoreError> {
        let keys = self.store.inner.keys.clone();
        let deadline = self.store.deadline();
        // 1. Gets, counts and ranges. `None` for a read answered without a round trip.
        let mut gets = Vec::new();
        // Per read: where its answer is among the responses, and how a list walks.
        let mut planned: Vec<Option<(usize, Planned)>> = Vec::new();
        let mut partial: Vec<Option<Partial>> = Vec::with_capacity(reads.len());
        for read in reads {
            let get: Result<Option<(Vec<u8>, GetOptions, Planned)>, ReadError> = match read {
                ReadRequest::Get { collection, key } | ReadRequest::Counter { collection, key } => {
                    Ok(Some((keys.value(collection, key), GetOptions::new(), None)))
                }
                ReadRequest::Count { collection } => {
                    let prefix = keys.values(collection);
                    let end = prefix_end(&prefix);
                    Ok(Some((
                        prefix,
                        GetOptions::new().with_range(end).with_count_only(),
                        None,
                    )))
                }
                ReadRequest::List(q) => list_range(&keys, q).map(|range| {
                    range.map(|(start, options, walked)| (start, options, Some((walked, q.limit))))
                }),
            };
            match get {
                Ok(Some((key, options, walked))) => {
                    planned.push(Some((gets.len(), walked)));
                    gets.push((key, options));
                    partial.push(None);
                }
                Ok(None) => {
                    planned.push(None);
                    partial.push(Some(Partial::Done(Ok(ReadValue::Page(Page {
                        entries: Vec::new(),
                        next_cursor: None,
                    })))));
                }
                Err(message) => {
                    planned.push(None);
                    partial.push(Some(Partial::Done(Err(message))));
                }
            }
        }
        let mut responses: Vec<Option<GetResponse>> = self
            .store
            .gets(gets, &mut self.revision, deadline)
            .await?
            .into_iter()
            .map(Some)
            .collect();

        // 2. The values of the entries index pages name.
        let mut values = Vec::new();
        for ((read, plan), slot) in reads.iter().zip(&planned).zip(&mut partial) {
            let Some((at, walked)) = plan else { continue };
            let response = responses[*at].take().expect("each response taken once");
            *slot = Some(match (read, walked) {
                (ReadRequest::Count { .. }, _) => {
                    Partial::Done(Ok(ReadValue::Number(response.count())))
                }
                (ReadRequest::List(q), Some((walked, limit))) => {
                    let (page, wanted) = page_of(response, *walked, *limit)?;
                    for key in wanted {
                        values.push(keys.value(&q.collection, &key));
                    }
                    page
                }
                (ReadRequest::Get { collection, key }, _) => {
                    let revision = response.kvs().first().map_or(0, |kv| kv.mod_revision());
                    self.seen
                        .insert((collection.clone(), key.clone()), revision);
                    Partial::Value(first_value(response))
                }
                (_, _) => Partial::Value(first_value(response)),
            });
        }
        let mut fetched = self
            .store
            .gets(
                values.into_iter().map(|k| (k, GetOptions::new())).collect(),
                &mut self.revision,
                deadline,
            )
            .await?
            .into_iter();
        for (read, slot) in reads.iter().zip(&mut partial) {
            if let (ReadRequest::List(q), Some(Partial::Page { entries, .. })) = (read, slot)
                && !q.index.is_empty()
            {
                for (_, value) in entries.iter_mut() {
                    *value = fetched.next().and_then(first_value);
                }
            }
        }

        // 3. Chunks of large values, then the answers.
        let mut chunks = Vec::new();
        for (read, slot) in reads.iter().zip(&partial) {
            if read_counter(self, read) {
                continue;
            }
            for stored in stored_values(slot.as_ref()) {
                if let Some(list) = chunk_list(stored)? {
                    chunks.extend(list.hashes.iter().map(|h| keys.chunk(h)));
                }
            }
        }
        let mut chunk_bytes = if chunks.is_empty() {
            Vec::new()
        } else {
            self.store
                .gets(
                    chunks.into_iter().map(|k| (k, GetOptions::new())).collect(),
                    &mut self.revision,
                    deadline,
                )
                .await?
        }
        .into_iter();
        let mut out = Vec::with_capacity(reads.len());
        for (read, slot) in reads.iter().zip(partial) {
            let counter = read_counter(self, read);
            let mut value = |stored: Vec<u8>| -> Result<Vec<u8>, StoreError> {
                if counter {
                    Ok(stored)
                } else {
                    plain(stored, &mut chunk_bytes)
                }
            };
            out.push(match slot.expect("every read planned") {
                Partial::Done(outcome) => outcome,
                Partial::Value(stored) => match read {
                    ReadRequest::Counter { .. } => Ok(ReadValue::Number(
                        stored.as_deref().map_or(0, decode_counter),
                    )),
                    _ => Ok(ReadValue::Value(stored.map(&mut value).transpose()?)),
                },
                Partial::Page { entries, next } => {
                    let mut page = Vec::with_capacity(entries.len());
                    for (key, stored) in entries {
                        // An index position without its entry cannot happen at one revision
                        // (both change in one transaction); skipped like redb does.
                        if let Some(stored) = stored {
                            page.push(Entry {
                                key,
                                value: value(stored)?,
                            });
                        }
                    }
                    Ok(ReadValue::Page(Page {
                        entries: page,
                        next_cursor: next,
                    }))
                }
            });
        }
        Ok(out)
    }
}

fn read_counter(snapshot: &EtcdSnapshot, read: &ReadRequest) -> bool {
    match read {
        ReadRequest::Get { collection, .. }
        | ReadRequest::Counter { collection, .. }
        | ReadRequest::Count { collection } => snapshot.counter(collection),
        ReadRequest::List(q) => snapshot.counter(&q.collection),
    }
}

/// The stored values a partial read holds.
fn stored_values(slot: Option<&Partial>) -> Vec<&[u8]> {
    match slot {
        Some(Partial::Value(Some(v))) => vec![v.as_slice()],
        Some(Partial::Page { entries, .. }) => {
            entries.iter().filter_map(|(_, v)| v.as_deref()).collect()
        }
        _ => Vec::new(),
    }
}

fn first_value(mut response: GetResponse) -> Option<Vec<u8>> {
    response
        .take_kvs()
        .into_iter()
        .next()
        .map(|kv| kv.into_key_value().1)
}

pub(super) fn decode_counter(bytes: &[u8]) -> i64 {
    bytes.try_into().map(i64::from_le_bytes).unwrap_or(0)
}

fn damaged(what: &str) -> StoreError {
    StoreError::Failed {
        what: format!("a stored value is damaged: {what}"),
        source: None,
    }
}

/// The chunk list of a stored value, `None` for an inline one.
fn chunk_list(stored: &[u8]) -> Result<Option<Chunks>, StoreError> {
    match stored.split_first() {
        Some((&INLINE, _)) => Ok(None),
        Some((&CHUNKED, list)) => Chunks::decode(list)
            .map(Some)
            .ok_or_else(|| damaged("bad chunk list")),
        _ => Err(damaged("unknown tag")),
    }
}

/// A stored value's bytes: inline, or its chunks (taken in order from `chunks`) joined.
fn plain(
    mut stored: Vec<u8>,
    chunks: &mut impl Iterator<Item = GetResponse>,
) -> Result<Vec<u8>, StoreError> {
    let Some(list) = chunk_list(&stored)? else {
        stored.remove(0);
        return Ok(stored);
    };
    let mut bytes = Vec::with_capacity(usize::try_from(list.len).unwrap_or(0));
    for hash in &list.hashes {
        let chunk = chunks
            .next()
            .and_then(first_value)
            .ok_or_else(|| damaged(&format!("chunk {hash} is missing")))?;
        bytes.extend_from_slice(&chunk);
    }
    if bytes.len() as u64 != list.len {
        return Err(damaged("chunks do not add up to the length"));
    }
    Ok(bytes)
}

/// The range a list read walks: its start key, the options (end, order, limit) and how to read
/// the keys back; `Ok(None)` when the range is empty, `Err` for the handler.
fn list_range(
    keys: &keys::Keys,
    q: &ListRequest,
) -> Result<Option<(Vec<u8>, GetOptions, Walked)>, ReadError> {
    let after = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(cursor) => Some(decode_cursor(cursor)?),
        None => None,
    };
    let (base, walked) = match q.index.as_str() {
        "" => {
            let base = keys.values(&q.collection);
            let len = base.len();
            (base, Walked::Primary(len))
        }
        "value" => {
            let base = keys.index(&q.collection, "value");
            let len = base.len();
            (base, Walked::Counted(len))
        }
        index => {
            let base = keys.index(&q.collection, index);
            let len = base.len();
            (base, Walked::Index(len))
        }
    };
    let mut start = base.clone();
    match walked {
        Walked::Primary(_) => start.extend_from_slice(q.prefix.as_bytes()),
        Walked::Index(_) => keys::escape_into(q.prefix.as_bytes(), &mut start),
        Walked::Counted(_) if !q.prefix.is_empty() => {
            return Err(ReadError::Mismatch(PREFIX_ON_VALUE.to_owned()));
        }
        Walked::Counted(_) => {}
    }
    let mut end = prefix_end(&start);
    if let Some((sort, key)) = after {
        let position = match walked {
            Walked::Primary(_) => keys.value(&q.collection, &key),
            Walked::Index(_) => keys.position(&q.collection, &q.index, sort.as_bytes(), &key),
            Walked::Counted(_) => {
                let n = sort
                    .parse::<i64>()
                    .map_err(|_| ReadError::BadCursor(q.cursor.clone().unwrap_or_default()))?;
                keys.counted(&q.collection, n, &key)
            }
        };
        if q.descending {
            end = end.min(position);
        } else {
            let mut next = position;
            next.push(0);
            start = start.max(next);
        }
    }
    if start >= end {
        return Ok(None);
    }
    let order = if q.descending {
        SortOrder::Descend
    } else {
        SortOrder::Ascend
    };
    // One more than asked, to know whether a page follows. etcd 3.4 reads the whole range to sort
    // it descending (ascending is its natural order): see docs/stores.md.
    let mut options = GetOptions::new()
        .with_range(end)
        .with_sort(SortTarget::Key, order)
        .with_limit(i64::from(q.limit) + 1);
    if !matches!(walked, Walked::Primary(_)) {
        options = options.with_keys_only();
    }
    Ok(Some((start, options, walked)))
}

/// A range's answer as a page; the keys whose values must still be fetched (index walks).
fn page_of(
    mut response: GetResponse,
    walked: Walked,
    limit: u32,
) -> Result<(Partial, Vec<String>), StoreError> {
    let mut kvs = response.take_kvs();
    let more = kvs.len() > limit as usize;
    kvs.truncate(limit as usize);
    let text =
        |bytes: &[u8]| String::from_utf8(bytes.to_vec()).map_err(|_| damaged("a key is not UTF-8"));
    let mut entries = Vec::with_capacity(kvs.len());
    let mut last = None;
    for kv in kvs {
        let (full, value) = kv.into_key_value();
        let (sort, key) = match walked {
            Walked::Primary(len) => {
                let key = text(&full[len..])?;
                (key.clone().into_bytes(), key)
            }
            Walked::Index(len) => {
                let (sort, key) = keys::split_position(&full[len..])
                    .ok_or_else(|| damaged("bad index position"))?;
                (sort, text(key)?)
            }
            Walked::Counted(len) => {
                let (n, key) = keys::split_counted(&full[len..])
                    .ok_or_else(|| damaged("bad counter position"))?;
                (n.to_string().into_bytes(), text(key)?)
            }
        };
        last = Some(encode_cursor(&sort, key.as_bytes()));
        let value = matches!(walked, Walked::Primary(_)).then_some(value);
        entries.push((key, value));
    }
    let wanted = match walked {
        Walked::Primary(_) => Vec::new(),
        _ => entries.iter().map(|(k, _)| k.clone()).collect(),
    };
    let next = if more { last } else { None };
    Ok((Partial::Page { entries, next }, wanted))
}
