//! The reads a handler gets and asks for: results looked up by name, and constructors for the
//! reads of an `outcome::need`.
//!
//! A route's declared reads arrive in `input.reads` under the names the manifest gave them; a
//! handler that needs more asks with [`need`](crate::need) and is called again with those
//! results appended.

use alloc::format;
use alloc::string::{String, ToString};

use crate::{Direction, Key, ListQuery, Page, Read, ReadError, ReadOp, ReadResult, ReadValue};

/// The result of read `name`, if it was performed: its value, or why it failed.
///
/// ```
/// # use nebula_guest::*;
/// let reads = vec![ReadResult { name: "now".into(), value: Ok(ReadValue::Number(1_700_000_000_000)) }];
/// assert!(matches!(read(&reads, "now"), Some(Ok(ReadValue::Number(_)))));
/// assert!(read(&reads, "meme").is_none());
/// ```
pub fn read<'a>(reads: &'a [ReadResult], name: &str) -> Option<&'a Result<ReadValue, ReadError>> {
    reads.iter().find(|r| r.name == name).map(|r| &r.value)
}

/// A failed read in words, as the host's log and `nebula:pure@0.1.0` handlers word it (the
/// generated `Display` of [`ReadError`] is its `Debug`).
///
/// ```
/// # use nebula_guest::*;
/// let e = ReadError::NotGranted("secret".into());
/// assert_eq!(reads::describe(&e), "read of collection `secret` is not granted to this route");
/// ```
pub fn describe(error: &ReadError) -> String {
    match error {
        ReadError::NotGranted(c) => {
            format!("read of collection `{c}` is not granted to this route")
        }
        ReadError::Mismatch(why) => why.clone(),
        ReadError::BadCursor(cursor) => format!("malformed cursor `{cursor}`"),
        ReadError::NoStorage => "this host has no storage".to_string(),
        ReadError::Unavailable(what) => what.clone(),
    }
}

/// A `get` read's stored bytes; `None` when the key is absent, or the read was not performed or
/// failed.
///
/// ```
/// # use nebula_guest::*;
/// let reads = vec![
///     ReadResult { name: "meme".into(), value: Ok(ReadValue::Value(Some(b"{}".to_vec()))) },
///     ReadResult { name: "gone".into(), value: Ok(ReadValue::Value(None)) },
/// ];
/// assert_eq!(value(&reads, "meme"), Some(&b"{}"[..]));
/// assert_eq!(value(&reads, "gone"), None);
/// ```
pub fn value<'a>(reads: &'a [ReadResult], name: &str) -> Option<&'a [u8]> {
    match read(reads, name)? {
        Ok(ReadValue::Value(Some(bytes))) => Some(bytes),
        _ => None,
    }
}

/// A `count`, `counter` or `now` read's number.
///
/// ```
/// # use nebula_guest::*;
/// let reads = vec![ReadResult { name: "votes".into(), value: Ok(ReadValue::Number(3)) }];
/// assert_eq!(number(&reads, "votes"), Some(3));
/// ```
pub fn number(reads: &[ReadResult], name: &str) -> Option<i64> {
    match read(reads, name)? {
        Ok(ReadValue::Number(n)) => Some(*n),
        _ => None,
    }
}

/// A `list` read's page, or the host's reason it failed (e.g. [`ReadError::BadCursor`]; a read
/// of that name that is not a `list` gives [`ReadError::Mismatch`]).
///
/// ```
/// # use nebula_guest::*;
/// let reads = vec![ReadResult {
///     name: "memes".into(),
///     value: Ok(ReadValue::Page(Page { entries: vec![], next_cursor: None })),
/// }];
/// let page = page(&reads, "memes").unwrap().unwrap();
/// assert!(page.entries.is_empty() && page.next_cursor.is_none());
/// ```
pub fn page<'a>(reads: &'a [ReadResult], name: &str) -> Option<Result<&'a Page, ReadError>> {
    match read(reads, name)? {
        Ok(ReadValue::Page(page)) => Some(Ok(page)),
        Ok(_) => Some(Err(ReadError::Mismatch(format!(
            "read `{name}` is not a `list`"
        )))),
        Err(e) => Some(Err(e.clone())),
    }
}

/// Read `name`: the value stored under `collection`/`key`.
///
/// ```
/// # use nebula_guest::*;
/// // Follow a pointer found in the first round: call me again with `next` among the reads.
/// let outcome = need(vec![reads::get("next", "memes", "abc")]);
/// assert!(matches!(outcome, Outcome::Need(_)));
/// ```
pub fn get(name: &str, collection: &str, key: &str) -> Read {
    Read {
        name: name.to_string(),
        op: ReadOp::Get(key_of(collection, key)),
    }
}

/// Read `name`: the counter `collection`/`key` (0 if never added to).
pub fn counter(name: &str, collection: &str, key: &str) -> Read {
    Read {
        name: name.to_string(),
        op: ReadOp::Counter(key_of(collection, key)),
    }
}

/// Read `name`: the number of entries in `collection`.
pub fn count(name: &str, collection: &str) -> Read {
    Read {
        name: name.to_string(),
        op: ReadOp::Count(collection.to_string()),
    }
}

/// Read `name`: the host's clock, in milliseconds since the Unix epoch.
pub fn now(name: &str) -> Read {
    Read {
        name: name.to_string(),
        op: ReadOp::Now,
    }
}

/// Read `name`: a page of `collection` in the order of `index` ("" for primary keys).
/// `cursor` continues where a previous page's `next_cursor` left off.
///
/// ```
/// # use nebula_guest::*;
/// let newest = reads::list("page", "memes", "new", Direction::Descending, None, 20);
/// assert_eq!(newest.name, "page");
/// ```
pub fn list(
    name: &str,
    collection: &str,
    index: &str,
    direction: Direction,
    cursor: Option<&str>,
    limit: u32,
) -> Read {
    Read {
        name: name.to_string(),
        op: ReadOp::List(ListQuery {
            collection: collection.to_string(),
            index: index.to_string(),
            direction,
            prefix: String::new(),
            cursor: cursor.map(ToString::to_string),
            limit,
        }),
    }
}

pub(crate) fn key_of(collection: &str, key: &str) -> Key {
    Key {
        collection: collection.to_string(),
        key: key.to_string(),
    }
}
