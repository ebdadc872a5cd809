//! Search: an inverted index kept as writes. Publishing a meme puts one `search` entry per
//! term, `"{term}/{id}"` -> the term's weight in the meme (a title word counts 3, a tag 2, a
//! caption word 1, summed); deleting it removes them (both from [`index`], so they match).
//!
//! A query lists, for each of its terms, the entries whose key starts with the term, so a
//! query word also finds longer words ("review" finds "reviewer"), an exact word counting
//! double. Memes are ranked by how many query terms they match, then by weight, then newest
//! first; pages are numbered (results of several lists cannot share one cursor).

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use nebula_guest::{Direction, ListQuery, Read, ReadOp, ReadResult};

use crate::http::{page, value};
use crate::listing::{meme_read, votes_read};
use crate::meme::Meme;

/// Shortest and longest indexed term, in characters.
const MIN_TERM: usize = 2;
const MAX_TERM: usize = 32;
/// Most terms indexed per meme, and read per query.
const MAX_TERMS: usize = 64;
pub const MAX_QUERY_TERMS: usize = 5;
/// Entries read per query term: the host's largest page.
const PER_TERM: u32 = 1000;

/// The terms of `text`: lower-case runs of letters and digits (any script), of 2 to 32
/// characters, in order, each once.
pub fn terms(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        let count = word.chars().count();
        if !(MIN_TERM..=MAX_TERM).contains(&count) {
            continue;
        }
        let word = word.to_lowercase();
        if !out.contains(&word) {
            out.push(word);
        }
    }
    out
}

/// The index entries of a meme: each term with its weight.
pub fn index(meme: &Meme) -> Vec<(String, u32)> {
    let mut weights: BTreeMap<String, u32> = BTreeMap::new();
    let mut add = |text: &str, weight: u32| {
        for term in terms(text) {
            *weights.entry(term).or_default() += weight;
        }
    };
    add(&meme.title, 3);
    for tag in &meme.tags {
        add(tag, 2);
    }
    add(&meme.caption, 1);
    let mut entries: Vec<(String, u32)> = weights.into_iter().collect();
    // Keep the heaviest when a long caption has more terms than the cap.
    entries.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    entries.truncate(MAX_TERMS);
    entries
}

/// A search: its terms (at most [`MAX_QUERY_TERMS`]) and the page wanted (from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub terms: Vec<String>,
    pub page: usize,
    pub per_page: usize,
}

impl Query {
    pub fn new(q: &str, page: usize, per_page: usize) -> Query {
        let mut terms = terms(q);
        terms.truncate(MAX_QUERY_TERMS);
        Query {
            terms,
            page: page.max(1),
            per_page: per_page.max(1),
        }
    }
}

/// A page of results.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Results {
    /// Memes with their vote counts, best first.
    pub memes: Vec<(Meme, i64)>,
    /// Memes matched in all, over every page.
    pub total: usize,
    pub pages: usize,
}

/// What the handler should do next.
#[derive(Debug)]
pub enum Step {
    Need(Vec<Read>),
    Done(Results),
}

/// The next step of `query`, given the reads so far.
pub fn step(reads: &[ReadResult], query: &Query) -> Step {
    if query.terms.is_empty() {
        return Step::Done(Results::default());
    }
    if page(reads, &term_read(0)).is_none() {
        return Step::Need(
            query
                .terms
                .iter()
                .enumerate()
                .map(|(i, t)| list(i, t))
                .collect(),
        );
    }
    // id -> (terms matched, weight)
    let mut scores: BTreeMap<String, (usize, u64)> = BTreeMap::new();
    for (i, term) in query.terms.iter().enumerate() {
        let Some(Ok(entries)) = page(reads, &term_read(i)) else {
            continue;
        };
        let mut best: BTreeMap<&str, u64> = BTreeMap::new();
        for entry in &entries.entries {
            let Some((word, id)) = entry.key.rsplit_once('/') else {
                continue;
            };
            let weight = core::str::from_utf8(&entry.value)
                .ok()
                .and_then(|w| w.parse::<u64>().ok())
                .unwrap_or(1);
            let weight = if word == term { weight * 2 } else { weight };
            let slot = best.entry(id).or_default();
            *slot = (*slot).max(weight);
        }
        for (id, weight) in best {
            let score = scores.entry(id.into()).or_default();
            score.0 += 1;
            score.1 += weight;
        }
    }
    let mut ranked: Vec<(String, (usize, u64))> = scores.into_iter().collect();
    // Ids are hashes, so ties fall in a fixed but arbitrary order; newest first would need
    // every meme read, and ties are rare once titles differ.
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let total = ranked.len();
    let pages = total.div_ceil(query.per_page);
    let start = (query.page - 1).saturating_mul(query.per_page);
    let ids: Vec<&String> = ranked
        .iter()
        .skip(start)
        .take(query.per_page)
        .map(|(id, _)| id)
        .collect();
    let missing: Vec<Read> = ids
        .iter()
        .filter(|id| crate::http::read(reads, &meme_read(id)).is_none())
        .flat_map(|id| [crate::listing::get_meme(id), crate::listing::get_votes(id)])
        .collect();
    if !missing.is_empty() {
        return Step::Need(missing);
    }
    let memes = ids
        .into_iter()
        .filter_map(|id| {
            let meme = value(reads, &meme_read(id)).and_then(Meme::from_stored)?;
            let votes = crate::http::number(reads, &votes_read(id)).unwrap_or(0);
            (!meme.hidden).then_some((meme, votes))
        })
        .collect();
    Step::Done(Results {
        memes,
        total,
        pages,
    })
}

fn term_read(i: usize) -> String {
    format!("search:{i}")
}

fn list(i: usize, term: &str) -> Read {
    Read {
        name: term_read(i),
        op: ReadOp::List(ListQuery {
            collection: "search".into(),
            index: String::new(),
            direction: Direction::Ascending,
            prefix: term.into(),
            cursor: None,
            limit: PER_TERM,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use nebula_guest::{Entry, Page, ReadValue};

    fn meme(id: &str, title: &str, tags: &[&str], caption: &str) -> Meme {
        Meme {
            id: id.into(),
            title: title.into(),
            caption: caption.into(),
            tags: tags.iter().map(|t| (*t).into()).collect(),
            created: 1,
            image_type: "image/png".into(),
            width: 0,
            height: 0,
            hidden: false,
        }
    }

    fn result(name: &str, value: ReadValue) -> ReadResult {
        ReadResult {
            name: name.into(),
            value: Ok(value),
        }
    }

    fn entries(list: &[(&str, &str)]) -> ReadValue {
        ReadValue::Page(Page {
            entries: list
                .iter()
                .map(|(k, v)| Entry {
                    key: (*k).into(),
                    value: v.as_bytes().to_vec(),
                })
                .collect(),
            next_cursor: None,
        })
    }

    #[test]
    fn splits_words_in_any_script() {
        assert_eq!(
            terms("Reviewer 2's p-value: Café ÜBER Ωμέγα"),
            ["reviewer", "value", "café", "über", "ωμέγα"]
        );
    }

    #[test]
    fn weighs_title_tags_and_caption() {
        let m = meme("a", "Reviewer rage", &["peer-review"], "the reviewer again");
        let index = index(&m);
        let weight = |t: &str| index.iter().find(|(term, _)| term == t).map(|(_, w)| *w);
        assert_eq!(
            weight("reviewer"),
            Some(4),
            "3 from the title, 1 from the caption"
        );
        assert_eq!(weight("review"), Some(2));
        assert_eq!(weight("again"), Some(1));
    }

    #[test]
    fn ranks_by_terms_matched_then_weight_and_pages() {
        let q = Query::new("review deadline", 1, 1);
        let Step::Need(first) = step(&[], &q) else {
            panic!()
        };
        assert_eq!(first.len(), 2);
        let reads = vec![
            result(
                "search:0",
                entries(&[("review/a", "1"), ("reviewer/b", "3")]),
            ),
            result("search:1", entries(&[("deadline/a", "1")])),
        ];
        let Step::Need(more) = step(&reads, &q) else {
            panic!()
        };
        assert_eq!(more[0].name, "meme:a", "a matches both terms: first");
        let mut reads = reads;
        reads.push(result(
            "meme:a",
            ReadValue::Value(Some(meme("a", "t", &[], "").to_stored())),
        ));
        reads.push(result("votes:a", ReadValue::Number(4)));
        let Step::Done(results) = step(&reads, &q) else {
            panic!()
        };
        assert_eq!((results.total, results.pages), (2, 2));
        assert_eq!(results.memes[0].0.id, "a");
        assert_eq!(results.memes[0].1, 4);
    }

    #[test]
    fn an_empty_query_finds_nothing_without_reading() {
        assert!(matches!(step(&[], &Query::new(" ! ", 1, 10)), Step::Done(r) if r.total == 0));
    }
}
