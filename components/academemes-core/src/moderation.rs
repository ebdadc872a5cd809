//! Reports and moderation. A visitor reports a meme once (`reports`: `"{id}/{visitor}"` ->
//! the report, listed newest first by index `new`, sort key `"{created15}/{id}/{visitor}"`);
//! reporting again replaces their report. Moderators (routes the host guards with a bearer
//! token) list the reported memes, hide them (kept, but listed and shown nowhere) or delete
//! them with everything that hangs off them, in one write.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use nebula_guest::{Direction, IndexKey, ListQuery, Put, Read, ReadOp, ReadResult, Write};

use crate::http::{page, value};
use crate::json::{self, Value, number, object, string};
use crate::listing::{get_meme, meme_read};
use crate::meme::{Meme, sort_time};

/// Why a meme may be reported: (value, what the form says).
pub const REASONS: &[(&str, &str)] = &[
    ("spam", "Spam or advertising"),
    ("hateful", "Hateful, harassing or violent"),
    ("private", "Shares someone's private information"),
    (
        "copyright",
        "Someone else's work, posted without permission",
    ),
    ("other", "Something else"),
];
/// Longest note with a report, in characters.
pub const MAX_NOTE: usize = 300;
/// Reports the moderation page lists, newest first.
const REPORTS_LISTED: u32 = 500;
/// Pages of vote records a delete reads (1000 each); more are left behind, harmless.
const VOTER_PAGES: usize = 3;

/// One visitor's report of one meme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub meme: String,
    pub reason: String,
    pub note: String,
    pub created: i64,
}

impl Report {
    /// Checks a report form's `reason` and `note`; the error is a sentence for the reporter.
    pub fn new(meme: &str, reason: &str, note: &str, created: i64) -> Result<Report, String> {
        if !REASONS.iter().any(|(r, _)| *r == reason) {
            return Err("Please pick a reason from the list.".into());
        }
        let note = crate::text::clean(note, true).trim().to_string();
        if note.chars().count() > MAX_NOTE {
            return Err(format!(
                "The note is too long: at most {MAX_NOTE} characters."
            ));
        }
        Ok(Report {
            meme: meme.into(),
            reason: reason.into(),
            note,
            created,
        })
    }

    /// The write that stores it for `visitor`.
    pub fn write(&self, visitor: &str) -> Write {
        Write::Put(Put {
            collection: "reports".into(),
            key: format!("{}/{visitor}", self.meme),
            value: self.to_json().into_bytes(),
            index_keys: [IndexKey {
                index: "new".into(),
                sort_key: format!("{}/{}/{visitor}", sort_time(self.created), self.meme),
            }]
            .into(),
        })
    }

    pub fn to_json(&self) -> String {
        object([
            ("meme", string(&self.meme)),
            ("reason", string(&self.reason)),
            ("note", string(&self.note)),
            ("created", number(self.created)),
        ])
    }

    pub fn from_stored(bytes: &[u8]) -> Option<Report> {
        let v = json::parse(bytes)?;
        let text = |n| v.get(n).and_then(Value::as_str).map(ToString::to_string);
        Some(Report {
            meme: text("meme")?,
            reason: text("reason")?,
            note: text("note").unwrap_or_default(),
            created: v.get("created").and_then(Value::as_i64)?,
        })
    }
}

/// A reported meme with its reports, newest first.
#[derive(Debug, Clone)]
pub struct Reported {
    pub meme: Meme,
    pub reports: Vec<Report>,
}

#[derive(Debug)]
pub enum Step<T> {
    Need(Vec<Read>),
    Done(T),
}

/// The reported memes, most recently reported first (memes already deleted are skipped).
pub fn reported(reads: &[ReadResult]) -> Step<Vec<Reported>> {
    let Some(listed) = page(reads, "reports") else {
        return Step::Need(
            [list(
                "reports",
                "reports",
                "new",
                String::new(),
                None,
                REPORTS_LISTED,
            )]
            .into(),
        );
    };
    let Ok(listed) = listed else {
        return Step::Done(Vec::new());
    };
    let mut order: Vec<String> = Vec::new();
    let mut by_meme: BTreeMap<String, Vec<Report>> = BTreeMap::new();
    for report in listed
        .entries
        .iter()
        .filter_map(|e| Report::from_stored(&e.value))
    {
        if !order.contains(&report.meme) {
            order.push(report.meme.clone());
        }
        by_meme.entry(report.meme.clone()).or_default().push(report);
    }
    let missing: Vec<Read> = order
        .iter()
        .filter(|id| crate::http::read(reads, &meme_read(id)).is_none())
        .map(|id| get_meme(id))
        .collect();
    if !missing.is_empty() {
        return Step::Need(missing);
    }
    Step::Done(
        order
            .into_iter()
            .filter_map(|id| {
                let meme = value(reads, &meme_read(&id)).and_then(Meme::from_stored)?;
                let reports = by_meme.remove(&id).unwrap_or_default();
                Some(Reported { meme, reports })
            })
            .collect(),
    )
}

/// The writes that delete `meme`, after reading the keys of its vote records and reports.
pub fn delete(reads: &[ReadResult], meme: &Meme) -> Step<Vec<Write>> {
    let prefix = format!("{}/", meme.id);
    let Some(reports) = page(reads, "reports") else {
        return Step::Need(
            [
                list("reports", "reports", "", prefix.clone(), None, 1000),
                list(&voters_read(0), "voters", "", prefix, None, 1000),
            ]
            .into(),
        );
    };
    let mut voters = Vec::new();
    for i in 0..VOTER_PAGES {
        let Some(Ok(got)) = page(reads, &voters_read(i)) else {
            break;
        };
        voters.extend(got.entries.iter().map(|e| e.key.clone()));
        match &got.next_cursor {
            Some(cursor) if i + 1 < VOTER_PAGES && page(reads, &voters_read(i + 1)).is_none() => {
                let read = list(
                    &voters_read(i + 1),
                    "voters",
                    "",
                    prefix,
                    Some(cursor.clone()),
                    1000,
                );
                return Step::Need([read].into());
            }
            _ => {}
        }
    }
    let reports: Vec<String> = reports
        .map(|p| p.entries.iter().map(|e| e.key.clone()).collect())
        .unwrap_or_default();
    Step::Done(meme.delete(&voters, &reports))
}

fn voters_read(i: usize) -> String {
    format!("voters:{i}")
}

fn list(
    name: &str,
    collection: &str,
    index: &str,
    prefix: String,
    cursor: Option<String>,
    limit: u32,
) -> Read {
    Read {
        name: name.into(),
        op: ReadOp::List(ListQuery {
            collection: collection.into(),
            index: index.into(),
            direction: if index.is_empty() {
                Direction::Ascending
            } else {
                Direction::Descending
            },
            prefix,
            cursor,
            limit,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use nebula_guest::{Entry, Page, ReadValue};

    fn meme(id: &str) -> Meme {
        Meme {
            id: id.into(),
            title: "t".into(),
            caption: String::new(),
            tags: vec!["phd".into()],
            created: 5,
            image_type: "image/png".into(),
            width: 0,
            height: 0,
            hidden: false,
        }
    }

    fn listed(name: &str, entries: Vec<(String, Vec<u8>)>, next: Option<&str>) -> ReadResult {
        ReadResult {
            name: name.into(),
            value: Ok(ReadValue::Page(Page {
                entries: entries
                    .into_iter()
                    .map(|(key, value)| Entry { key, value })
                    .collect(),
                next_cursor: next.map(Into::into),
            })),
        }
    }

    #[test]
    fn checks_reports() {
        assert!(Report::new("m", "spam", "", 1).is_ok());
        assert!(Report::new("m", "boring", "", 1).is_err());
        assert!(Report::new("m", "other", &"x".repeat(301), 1).is_err());
        let r = Report::new("m", "other", "\u{202e}why", 7).unwrap();
        assert_eq!(r.note, "why");
        assert_eq!(Report::from_stored(r.to_json().as_bytes()), Some(r));
    }

    #[test]
    fn groups_reports_by_meme_and_skips_deleted_memes() {
        let Step::Need(first) = reported(&[]) else {
            panic!()
        };
        assert_eq!(first[0].name, "reports");
        let report = |m: &str| {
            (
                format!("x/{m}"),
                Report::new(m, "spam", "", 1)
                    .unwrap()
                    .to_json()
                    .into_bytes(),
            )
        };
        let mut reads = vec![listed(
            "reports",
            vec![report("a"), report("gone"), report("a")],
            None,
        )];
        let Step::Need(memes) = reported(&reads) else {
            panic!()
        };
        assert_eq!(memes.len(), 2);
        reads.push(ReadResult {
            name: "meme:a".into(),
            value: Ok(ReadValue::Value(Some(meme("a").to_stored()))),
        });
        reads.push(ReadResult {
            name: "meme:gone".into(),
            value: Ok(ReadValue::Value(None)),
        });
        let Step::Done(list) = reported(&reads) else {
            panic!()
        };
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].reports.len(), 2);
    }

    #[test]
    fn deletes_with_every_vote_record_and_report() {
        let m = meme("a");
        let Step::Need(first) = delete(&[], &m) else {
            panic!()
        };
        assert_eq!(first.len(), 2);
        let mut reads = vec![
            listed("reports", vec![("a/r1".into(), vec![])], None),
            listed("voters:0", vec![("a/v1".into(), vec![])], Some("c")),
        ];
        let Step::Need(next) = delete(&reads, &m) else {
            panic!()
        };
        assert!(matches!(&next[0].op, ReadOp::List(q) if q.cursor.as_deref() == Some("c")));
        reads.push(listed("voters:1", vec![("a/v2".into(), vec![])], None));
        let Step::Done(writes) = delete(&reads, &m) else {
            panic!()
        };
        let keys: Vec<String> = writes
            .iter()
            .map(|w| match w {
                Write::Delete(k) => format!("{}:{}", k.collection, k.key),
                _ => panic!("only deletes"),
            })
            .collect();
        for expected in [
            "memes:a",
            "images:a",
            "thumbs:a",
            "votes:a",
            "tags:phd/a",
            "voters:a/v1",
            "voters:a/v2",
            "reports:a/r1",
        ] {
            assert!(
                keys.iter().any(|k| k == expected),
                "{expected} not in {keys:?}"
            );
        }
    }
}
