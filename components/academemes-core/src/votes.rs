//! One vote per visitor. A vote is two writes: the visitor's record in `voters`
//! (`"{id}/{visitor}"` -> `1`) and +1 on the meme's counter in `votes`; unvoting deletes the
//! record and adds -1. The record makes both idempotent: voting again, or unvoting what was
//! never voted, writes nothing. The count stays a counter, so concurrent votes of different
//! visitors are never lost (the host adds inside its write transaction).
//!
//! The same visitor voting twice at the very same moment (two requests that both read "no
//! record") counts once: the record is read with `get` and written by the same request, so the
//! host commits the writes only if the record is still as read, and otherwise runs the request
//! again, which then finds the record and writes nothing.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use nebula_guest::{Add, Key, Put, Read, ReadOp, ReadResult, ReadValue, Write};

use crate::http::read;
use crate::visitor::Visitor;

/// Name of the read of the visitor's record for this meme.
const RECORD: &str = "voted";

/// Vote or take a vote back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Vote,
    Unvote,
}

/// The outcome: the count and the visitor's state after the writes, and the writes.
#[derive(Debug)]
pub struct Tally {
    pub votes: i64,
    pub voted: bool,
    pub writes: Vec<Write>,
}

#[derive(Debug)]
pub enum Step {
    Need(Vec<Read>),
    Done(Tally),
}

/// The `voters` key of `visitor`'s vote for meme `id`.
pub fn record_key(id: &str, visitor: &str) -> String {
    format!("{id}/{visitor}")
}

/// A read, named `name`, of `visitor`'s vote record for meme `id`.
pub fn get_record(name: String, id: &str, visitor: &str) -> Read {
    Read {
        name,
        op: ReadOp::Get(Key {
            collection: "voters".into(),
            key: record_key(id, visitor),
        }),
    }
}

/// Whether read `name` found a vote record; `None` when it has not been read.
pub fn has_record(reads: &[ReadResult], name: &str) -> Option<bool> {
    read(reads, name).map(|r| matches!(r, Ok(ReadValue::Value(Some(_)))))
}

/// The next step of `want` by `visitor` on meme `id`, whose counter reads `count`.
pub fn step(reads: &[ReadResult], id: &str, count: i64, visitor: &Visitor, want: Want) -> Step {
    // A visitor minted just now has voted for nothing yet: no need to look.
    let had = if visitor.new {
        false
    } else {
        match has_record(reads, RECORD) {
            Some(had) => had,
            None => return Step::Need([get_record(RECORD.into(), id, &visitor.id)].into()),
        }
    };
    let key = record_key(id, &visitor.id);
    let add = |delta| {
        Write::Add(Add {
            collection: "votes".into(),
            key: id.into(),
            delta,
        })
    };
    Step::Done(match (want, had) {
        (Want::Vote, true) | (Want::Unvote, false) => Tally {
            votes: count,
            voted: had,
            writes: Vec::new(),
        },
        (Want::Vote, false) => Tally {
            votes: count + 1,
            voted: true,
            writes: [
                Write::Put(Put {
                    collection: "voters".into(),
                    key,
                    value: b"1".to_vec(),
                    index_keys: Vec::new(),
                }),
                add(1),
            ]
            .into(),
        },
        (Want::Unvote, true) => Tally {
            votes: count - 1,
            voted: false,
            writes: [
                Write::Delete(Key {
                    collection: "voters".into(),
                    key,
                }),
                add(-1),
            ]
            .into(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn known() -> Visitor {
        Visitor {
            id: "v".into(),
            new: false,
        }
    }

    fn record(present: bool) -> Vec<ReadResult> {
        vec![ReadResult {
            name: RECORD.into(),
            value: Ok(ReadValue::Value(present.then(|| b"1".to_vec()))),
        }]
    }

    #[test]
    fn a_known_visitor_is_looked_up_first() {
        let Step::Need(reads) = step(&[], "m", 3, &known(), Want::Vote) else {
            panic!()
        };
        assert!(
            matches!(&reads[0].op, ReadOp::Get(k) if k.collection == "voters" && k.key == "m/v")
        );
    }

    #[test]
    fn votes_once_and_unvotes_once() {
        let Step::Done(t) = step(&record(false), "m", 3, &known(), Want::Vote) else {
            panic!()
        };
        assert_eq!((t.votes, t.voted, t.writes.len()), (4, true, 2));
        let Step::Done(t) = step(&record(true), "m", 4, &known(), Want::Vote) else {
            panic!()
        };
        assert_eq!(
            (t.votes, t.voted, t.writes.len()),
            (4, true, 0),
            "a second vote is a no-op"
        );
        let Step::Done(t) = step(&record(true), "m", 4, &known(), Want::Unvote) else {
            panic!()
        };
        assert_eq!((t.votes, t.voted), (3, false));
        assert!(matches!(&t.writes[1], Write::Add(a) if a.delta == -1));
        let Step::Done(t) = step(&record(false), "m", 3, &known(), Want::Unvote) else {
            panic!()
        };
        assert_eq!(
            (t.votes, t.writes.len()),
            (3, 0),
            "unvoting what was never voted"
        );
    }

    #[test]
    fn a_new_visitor_votes_without_a_lookup() {
        let new = Visitor {
            id: "n".into(),
            new: true,
        };
        let Step::Done(t) = step(&[], "m", 0, &new, Want::Vote) else {
            panic!()
        };
        assert_eq!((t.votes, t.voted), (1, true));
    }
}
