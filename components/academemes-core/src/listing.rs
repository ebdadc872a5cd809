//! Pages of memes, newest first, by votes, or of one tag, shared by the API and the HTML pages.
//!
//! A listing takes two rounds of reads (`outcome::need`): first the page of an index, then what
//! the index entries do not hold (the vote counts of a `new` page; the memes of a `top` page;
//! both for a tag page). Each call is handed every result so far, so [`step`] just looks at what
//! is there and asks for what is missing.

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use nebula_guest::{Direction, Key, ListQuery, Read, ReadOp, ReadResult};

use crate::http::{number, page, read, value};
use crate::meme::Meme;

/// The order of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Newest first.
    New,
    /// Most votes first.
    Top,
    /// Newest first among the memes with this tag.
    Tag(String),
}

impl Source {
    /// `sort=new|top` of a query; `None` for anything else.
    pub fn from_sort(sort: Option<&str>) -> Option<Source> {
        match sort {
            None | Some("new") => Some(Source::New),
            Some("top") => Some(Source::Top),
            _ => None,
        }
    }
}

/// Where a listing starts and how long it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// A `next_cursor` of the previous page.
    pub cursor: Option<String>,
    pub limit: u32,
}

/// Memes with their vote counts, in order, and where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Listing {
    pub memes: Vec<(Meme, i64)>,
    pub next_cursor: Option<String>,
    /// Ids of the memes the visitor has voted for (empty without a visitor).
    pub voted: BTreeSet<String>,
}

/// What the handler should do next.
#[derive(Debug)]
pub enum Step {
    Need(Vec<Read>),
    Done(Listing),
    /// The host refused the page read: nearly always a cursor that is not one of ours.
    BadCursor,
}

/// The next step of listing `source` in `window`, given the reads so far. With a `visitor`,
/// also reads which of the memes they voted for (in the same round as the rest).
pub fn step(reads: &[ReadResult], source: &Source, window: &Window, visitor: Option<&str>) -> Step {
    let Some(first) = page(reads, "list") else {
        return Step::Need([first_read(source, window)].into());
    };
    let Ok(first) = first else {
        return Step::BadCursor;
    };
    // (id, votes if the entry holds them, meme if the entry holds it)
    let entries: Vec<(String, Option<i64>, Option<Meme>)> = first
        .entries
        .iter()
        .filter_map(|e| match source {
            Source::New => Meme::from_stored(&e.value).map(|m| (e.key.clone(), None, Some(m))),
            Source::Top => {
                let votes = e
                    .value
                    .as_slice()
                    .try_into()
                    .map(i64::from_le_bytes)
                    .unwrap_or(0);
                Some((e.key.clone(), Some(votes), None))
            }
            Source::Tag(_) => String::from_utf8(e.value.clone())
                .ok()
                .map(|id| (id, None, None)),
        })
        .collect();

    let mut missing = Vec::new();
    for (id, votes, meme) in &entries {
        if meme.is_none() && read(reads, &meme_read(id)).is_none() {
            missing.push(get_meme(id));
        }
        if votes.is_none() && read(reads, &votes_read(id)).is_none() {
            missing.push(get_votes(id));
        }
        if let Some(visitor) = visitor
            && read(reads, &voted_read(id)).is_none()
        {
            missing.push(crate::votes::get_record(voted_read(id), id, visitor));
        }
    }
    if !missing.is_empty() {
        return Step::Need(missing);
    }
    let voted = entries
        .iter()
        .filter(|(id, ..)| value(reads, &voted_read(id)).is_some())
        .map(|(id, ..)| id.clone())
        .collect();
    // Hidden memes leave the `new` index, but `top` and tag pages still name them.
    let memes = entries
        .into_iter()
        .filter_map(|(id, votes, meme)| {
            let meme =
                meme.or_else(|| value(reads, &meme_read(&id)).and_then(Meme::from_stored))?;
            let votes = votes
                .or_else(|| number(reads, &votes_read(&id)))
                .unwrap_or(0);
            (!meme.hidden).then_some((meme, votes))
        })
        .collect();
    Step::Done(Listing {
        memes,
        next_cursor: first.next_cursor.clone(),
        voted,
    })
}

fn first_read(source: &Source, window: &Window) -> Read {
    let (collection, index, prefix) = match source {
        Source::New => ("memes", "new", String::new()),
        Source::Top => ("votes", "value", String::new()),
        Source::Tag(tag) => ("tags", "new", format!("{tag}/")),
    };
    Read {
        name: "list".into(),
        op: ReadOp::List(ListQuery {
            collection: collection.into(),
            index: index.into(),
            direction: Direction::Descending,
            prefix,
            cursor: window.cursor.clone(),
            limit: window.limit,
        }),
    }
}

/// The read of meme `id` as listings name it.
pub fn get_meme(id: &str) -> Read {
    get("memes", meme_read(id), id)
}

/// The read of meme `id`'s vote count as listings name it.
pub fn get_votes(id: &str) -> Read {
    Read {
        name: votes_read(id),
        op: ReadOp::Counter(Key {
            collection: "votes".into(),
            key: id.into(),
        }),
    }
}

fn get(collection: &str, name: String, key: &str) -> Read {
    Read {
        name,
        op: ReadOp::Get(Key {
            collection: collection.into(),
            key: key.into(),
        }),
    }
}

pub fn meme_read(id: &str) -> String {
    format!("meme:{id}")
}

pub fn votes_read(id: &str) -> String {
    format!("votes:{id}")
}

fn voted_read(id: &str) -> String {
    format!("voted:{id}")
}

/// `limit` of a query: absent is `default`, above `max` is `max`; `Err` if not a positive number.
pub fn limit(raw: Option<&str>, default: u32, max: u32) -> Result<u32, String> {
    match raw {
        None => Ok(default),
        Some(raw) => match raw.trim().parse::<u32>() {
            Ok(n) if n > 0 => Ok(n.min(max)),
            _ => Err(format!("limit must be a whole number from 1 to {max}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use nebula_guest::{Entry, Page, ReadError, ReadValue};

    fn stored(id: &str, created: i64) -> Vec<u8> {
        Meme {
            id: id.into(),
            title: format!("meme {id}"),
            caption: String::new(),
            tags: vec![],
            created,
            image_type: "image/png".into(),
            width: 0,
            height: 0,
            hidden: false,
        }
        .to_stored()
    }

    fn result(name: &str, value: ReadValue) -> ReadResult {
        ReadResult {
            name: name.into(),
            value: Ok(value),
        }
    }

    fn page(entries: Vec<(&str, Vec<u8>)>, next: Option<&str>) -> ReadValue {
        ReadValue::Page(Page {
            entries: entries
                .into_iter()
                .map(|(k, v)| Entry {
                    key: k.into(),
                    value: v,
                })
                .collect(),
            next_cursor: next.map(Into::into),
        })
    }

    fn window() -> Window {
        Window {
            cursor: Some("c".into()),
            limit: 2,
        }
    }

    #[test]
    fn new_lists_the_index_then_asks_for_votes() {
        let Step::Need(first) = step(&[], &Source::New, &window(), None) else {
            panic!()
        };
        let ReadOp::List(q) = &first[0].op else {
            panic!()
        };
        assert_eq!(
            (q.collection.as_str(), q.index.as_str(), q.limit),
            ("memes", "new", 2)
        );
        assert_eq!(q.cursor.as_deref(), Some("c"));

        let mut reads = vec![result(
            "list",
            page(
                vec![("a", stored("a", 2)), ("b", stored("b", 1))],
                Some("n"),
            ),
        )];
        let Step::Need(second) = step(&reads, &Source::New, &window(), None) else {
            panic!()
        };
        assert_eq!(
            second.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["votes:a", "votes:b"]
        );

        reads.push(result("votes:a", ReadValue::Number(3)));
        reads.push(result("votes:b", ReadValue::Number(0)));
        let Step::Done(listing) = step(&reads, &Source::New, &window(), None) else {
            panic!()
        };
        let got: Vec<_> = listing
            .memes
            .iter()
            .map(|(m, v)| (m.id.as_str(), *v))
            .collect();
        assert_eq!(got, [("a", 3), ("b", 0)]);
        assert_eq!(listing.next_cursor.as_deref(), Some("n"));
    }

    #[test]
    fn top_reads_votes_from_the_index_and_asks_for_memes() {
        let mut reads = vec![result(
            "list",
            page(vec![("b", 9i64.to_le_bytes().to_vec())], None),
        )];
        let Step::Need(more) = step(&reads, &Source::Top, &window(), None) else {
            panic!()
        };
        assert_eq!(more.len(), 1);
        assert_eq!(more[0].name, "meme:b");
        reads.push(result("meme:b", ReadValue::Value(Some(stored("b", 1)))));
        let Step::Done(listing) = step(&reads, &Source::Top, &window(), None) else {
            panic!()
        };
        assert_eq!(listing.memes[0].1, 9);
        assert_eq!(listing.next_cursor, None);
    }

    #[test]
    fn tag_walks_a_prefix_and_skips_vanished_memes() {
        let source = Source::Tag("phd".into());
        let Step::Need(first) = step(&[], &source, &window(), None) else {
            panic!()
        };
        let ReadOp::List(q) = &first[0].op else {
            panic!()
        };
        assert_eq!((q.collection.as_str(), q.prefix.as_str()), ("tags", "phd/"));
        let mut reads = vec![result(
            "list",
            page(
                vec![("phd/a", b"a".to_vec()), ("phd/z", b"z".to_vec())],
                None,
            ),
        )];
        let Step::Need(more) = step(&reads, &source, &window(), None) else {
            panic!()
        };
        assert_eq!(more.len(), 4);
        reads.push(result("meme:a", ReadValue::Value(Some(stored("a", 1)))));
        reads.push(result("votes:a", ReadValue::Number(1)));
        reads.push(result("meme:z", ReadValue::Value(None)));
        reads.push(result("votes:z", ReadValue::Number(0)));
        let Step::Done(listing) = step(&reads, &source, &window(), None) else {
            panic!()
        };
        assert_eq!(listing.memes.len(), 1);
    }

    #[test]
    fn a_refused_page_is_a_bad_cursor() {
        let reads = vec![ReadResult {
            name: "list".into(),
            value: Err(ReadError::BadCursor("x".into())),
        }];
        assert!(matches!(
            step(&reads, &Source::New, &window(), None),
            Step::BadCursor
        ));
    }

    #[test]
    fn asks_which_memes_the_visitor_voted_for_and_skips_hidden_ones() {
        let mut hidden = Meme::from_stored(&stored("h", 1)).unwrap();
        hidden.hidden = true;
        let mut reads = vec![result(
            "list",
            page(
                vec![
                    ("a", 3i64.to_le_bytes().to_vec()),
                    ("h", 9i64.to_le_bytes().to_vec()),
                ],
                None,
            ),
        )];
        let Step::Need(more) = step(&reads, &Source::Top, &window(), Some("v")) else {
            panic!()
        };
        let names: Vec<&str> = more.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["meme:a", "voted:a", "meme:h", "voted:h"]);
        reads.push(result("meme:a", ReadValue::Value(Some(stored("a", 1)))));
        reads.push(result("voted:a", ReadValue::Value(Some(b"1".to_vec()))));
        reads.push(result("meme:h", ReadValue::Value(Some(hidden.to_stored()))));
        reads.push(result("voted:h", ReadValue::Value(None)));
        let Step::Done(listing) = step(&reads, &Source::Top, &window(), Some("v")) else {
            panic!()
        };
        assert_eq!(listing.memes.len(), 1, "the hidden meme is skipped");
        assert!(listing.voted.contains("a") && !listing.voted.contains("h"));
    }

    #[test]
    fn reads_limits() {
        assert_eq!(limit(None, 20, 100), Ok(20));
        assert_eq!(limit(Some("500"), 20, 100), Ok(100));
        assert_eq!(limit(Some("7"), 20, 100), Ok(7));
        assert!(limit(Some("0"), 20, 100).is_err());
        assert!(limit(Some("ten"), 20, 100).is_err());
    }
}
