//! A meme: how it is stored, shown in the API, validated when made, and the writes that
//! publish it.
//!
//! Storage (the manifest declares these collections):
//! * `memes`: id -> the stored JSON below; index `new`, sort key = created ms, 15 digits;
//! * `images`: id -> the image bytes, re-encoded by the upload (no metadata);
//! * `thumbs`: id -> a JPEG at most [`THUMB_WIDTH`] × [`THUMB_HEIGHT`] for the grids;
//! * `votes`: counter per id, created with `add` when the meme is made so that every meme is in
//!   the counter index `value` (the "top" order);
//! * `tags`: `"{tag}/{id}"` -> id; index `new`, sort key `"{tag}/{created15}"`, so a tag page is a
//!   prefix walk of one index;
//! * `search`: `"{term}/{id}"` -> the term's weight in the meme (see [`crate::search`]);
//! * `voters` and `reports`: per visitor, see [`crate::votes`] and [`crate::moderation`].
//!
//! A hidden meme keeps its data but leaves the `new` index; every listing skips it.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use nebula_guest::{Add, IndexKey, Key, Put, Write};

use crate::hash::{Hasher, base32_12};
use crate::json::{self, Value, array, number, object, string};
use crate::text::clean;
use crate::time::rfc3339;

/// Longest title, in characters.
pub const MAX_TITLE: usize = 120;
/// Longest caption, in characters.
pub const MAX_CAPTION: usize = 500;
/// Most tags on one meme.
pub const MAX_TAGS: usize = 8;
/// Longest tag, in characters.
pub const MAX_TAG: usize = 32;
/// Largest image, in bytes (5 MiB).
pub const MAX_IMAGE: usize = 5 * 1024 * 1024;
/// The thumbnail's bounds: the grid's cards are at most about 400 CSS pixels wide.
pub const THUMB_WIDTH: u32 = 480;
pub const THUMB_HEIGHT: u32 = 480;

/// A published meme, as stored in `memes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meme {
    pub id: String,
    pub title: String,
    pub caption: String,
    pub tags: Vec<String>,
    /// Milliseconds since the Unix epoch.
    pub created: i64,
    /// Media type of the stored image.
    pub image_type: String,
    /// The image's size in pixels; 0 when unknown (memes stored before sizes were kept).
    pub width: u32,
    pub height: u32,
    /// Taken down by a moderator: not listed, not shown.
    pub hidden: bool,
}

impl Meme {
    /// The stored form: `{"id","title","caption","tags","created","image_type","width",
    /// "height","hidden"}`.
    pub fn to_stored(&self) -> Vec<u8> {
        object([
            ("id", string(&self.id)),
            ("title", string(&self.title)),
            ("caption", string(&self.caption)),
            ("tags", array(self.tags.iter().map(|t| string(t)))),
            ("created", number(self.created)),
            ("image_type", string(&self.image_type)),
            ("width", number(i64::from(self.width))),
            ("height", number(i64::from(self.height))),
            (
                "hidden",
                String::from(if self.hidden { "true" } else { "false" }),
            ),
        ])
        .into_bytes()
    }

    /// Reads the stored form; `None` if it is damaged.
    pub fn from_stored(bytes: &[u8]) -> Option<Meme> {
        let value = json::parse(bytes)?;
        let text = |name| {
            value
                .get(name)
                .and_then(Value::as_str)
                .map(ToString::to_string)
        };
        let size = |name| {
            value
                .get(name)
                .and_then(Value::as_i64)
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0)
        };
        let tags = value
            .get("tags")
            .and_then(Value::as_array)?
            .iter()
            .map(|t| t.as_str().map(ToString::to_string))
            .collect::<Option<Vec<_>>>()?;
        Some(Meme {
            id: text("id")?,
            title: text("title")?,
            caption: text("caption").unwrap_or_default(),
            tags,
            created: value.get("created").and_then(Value::as_i64)?,
            image_type: text("image_type").unwrap_or_else(|| "image/png".to_string()),
            width: size("width"),
            height: size("height"),
            hidden: matches!(value.get("hidden"), Some(Value::Bool(true))),
        })
    }

    /// Where the thumbnail is served.
    pub fn thumb_url(&self) -> String {
        format!("/memes/{}/thumb", self.id)
    }

    /// Where the image is served.
    pub fn image_url(&self) -> String {
        format!("/memes/{}/image", self.id)
    }

    /// The API's meme object: `{"id","title","caption","tags","votes","created","image_url"}`.
    pub fn to_api(&self, votes: i64) -> String {
        object([
            ("id", string(&self.id)),
            ("title", string(&self.title)),
            ("caption", string(&self.caption)),
            ("tags", array(self.tags.iter().map(|t| string(t)))),
            ("votes", number(votes)),
            ("created", string(&rfc3339(self.created))),
            ("image_url", string(&self.image_url())),
            ("thumb_url", string(&self.thumb_url())),
        ])
    }

    /// The `memes` entry: listed under `new` unless hidden.
    pub fn put(&self) -> Write {
        let index_keys = if self.hidden {
            Vec::new()
        } else {
            [IndexKey {
                index: "new".into(),
                sort_key: sort_time(self.created),
            }]
            .into()
        };
        Write::Put(Put {
            collection: "memes".into(),
            key: self.id.clone(),
            value: self.to_stored(),
            index_keys,
        })
    }

    /// The writes that publish this meme with its `image`, `thumb` and `votes` starting
    /// votes: the meme, image, thumbnail, counter, tag entries and search entries.
    pub fn publish(&self, image: Vec<u8>, thumb: Vec<u8>, votes: i64) -> Vec<Write> {
        let created = sort_time(self.created);
        let mut writes = Vec::with_capacity(4 + self.tags.len());
        writes.push(self.put());
        for (collection, bytes) in [("images", image), ("thumbs", thumb)] {
            writes.push(Write::Put(Put {
                collection: collection.into(),
                key: self.id.clone(),
                value: bytes,
                index_keys: Vec::new(),
            }));
        }
        writes.push(Write::Add(Add {
            collection: "votes".into(),
            key: self.id.clone(),
            delta: votes,
        }));
        for tag in &self.tags {
            writes.push(Write::Put(Put {
                collection: "tags".into(),
                key: format!("{tag}/{}", self.id),
                value: self.id.clone().into_bytes(),
                index_keys: [IndexKey {
                    index: "new".into(),
                    sort_key: format!("{tag}/{created}"),
                }]
                .into(),
            }));
        }
        for (term, weight) in crate::search::index(self) {
            writes.push(Write::Put(Put {
                collection: "search".into(),
                key: format!("{term}/{}", self.id),
                value: weight.to_string().into_bytes(),
                index_keys: Vec::new(),
            }));
        }
        writes
    }

    /// The writes that remove this meme and everything that hangs off it: the meme, image,
    /// thumbnail, vote counter, tag and search entries, and the given per-visitor `voters`
    /// and `reports` keys. One request's writes are applied together, so it goes at once.
    pub fn delete(&self, voters: &[String], reports: &[String]) -> Vec<Write> {
        let delete = |collection: &str, key: String| {
            Write::Delete(Key {
                collection: collection.into(),
                key,
            })
        };
        let mut writes: Vec<Write> = ["memes", "images", "thumbs", "votes"]
            .into_iter()
            .map(|c| delete(c, self.id.clone()))
            .collect();
        writes.extend(
            self.tags
                .iter()
                .map(|t| delete("tags", format!("{t}/{}", self.id))),
        );
        writes.extend(
            crate::search::index(self)
                .into_iter()
                .map(|(term, _)| delete("search", format!("{term}/{}", self.id))),
        );
        writes.extend(voters.iter().map(|k| delete("voters", k.clone())));
        writes.extend(reports.iter().map(|k| delete("reports", k.clone())));
        writes
    }
}

/// The `new` index's sort key: milliseconds, zero-padded to 15 digits, so that text order is
/// time order (until the year 33658).
pub fn sort_time(ms: i64) -> String {
    format!("{:015}", ms.max(0))
}

/// An id for a meme made at `now` with `title` and `image`: pure handlers have no randomness,
/// so the id is a hash of everything that makes the meme.
pub fn new_id(now: i64, title: &str, image: &[u8]) -> String {
    base32_12(
        Hasher::default()
            .field(&now.to_le_bytes())
            .field(title.as_bytes())
            .field(image)
            .finish(),
    )
}

/// Whether `id` could be a meme id (12 base32 characters), so that junk never reaches storage.
pub fn is_id(id: &str) -> bool {
    id.len() == 12
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
}

/// Text fields of a new meme, checked and normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub title: String,
    pub caption: String,
    pub tags: Vec<String>,
}

impl Draft {
    /// Checks the form's fields; the error is a sentence for the person who filled it in.
    pub fn new(title: &str, caption: &str, tags: &str) -> Result<Draft, String> {
        let title = collapse(&clean(title, true));
        if title.is_empty() {
            return Err("A title is required: even Reviewer 2 reads the title.".into());
        }
        if title.chars().count() > MAX_TITLE {
            return Err(format!(
                "The title is too long: at most {MAX_TITLE} characters, please."
            ));
        }
        let caption = clean(caption, true).trim().to_string();
        if caption.chars().count() > MAX_CAPTION {
            return Err(format!(
                "The caption is too long: at most {MAX_CAPTION} characters (this is not your thesis)."
            ));
        }
        let tags = parse_tags(&clean(tags, false))?;
        Ok(Draft {
            title,
            caption,
            tags,
        })
    }

    /// The meme this draft becomes at `now` with an image of `image_type` and this size.
    pub fn into_meme(self, now: i64, image: &[u8], image_type: &str, size: (u32, u32)) -> Meme {
        Meme {
            id: new_id(now, &self.title, image),
            title: self.title,
            caption: self.caption,
            tags: self.tags,
            created: now,
            image_type: image_type.to_string(),
            width: size.0,
            height: size.1,
            hidden: false,
        }
    }
}

/// Whitespace runs (newlines included) become one space; ends trimmed.
fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Comma-separated tags -> lowercase, `#` dropped, spaces as `-`, duplicates removed, in order.
pub fn parse_tags(input: &str) -> Result<Vec<String>, String> {
    let mut tags: Vec<String> = Vec::new();
    for raw in input.split(',') {
        let Some(tag) = normalise_tag(raw) else {
            continue;
        };
        if tag.chars().count() > MAX_TAG {
            return Err(format!(
                "The tag \u{201c}{tag}\u{201d} is too long: at most {MAX_TAG} characters."
            ));
        }
        if !tag
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "The tag \u{201c}{tag}\u{201d} may only contain letters, digits, \u{201c}-\u{201d} and \u{201c}_\u{201d}."
            ));
        }
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(format!(
            "Too many tags: at most {MAX_TAGS}. Be concise, like an abstract should be."
        ));
    }
    Ok(tags)
}

/// One tag as it is stored and linked, or `None` if it is blank.
pub fn normalise_tag(raw: &str) -> Option<String> {
    let tag = raw.trim().trim_start_matches('#').trim();
    (!tag.is_empty()).then(|| {
        tag.split_whitespace()
            .collect::<Vec<_>>()
            .join("-")
            .to_lowercase()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn meme() -> Meme {
        Meme {
            id: "abcdefghijkl".into(),
            title: "<script>alert(1)</script>".into(),
            caption: "p = 0.051".into(),
            tags: vec!["stats".into(), "p-values".into()],
            created: 1_795_657_711_999,
            image_type: "image/png".into(),
            width: 600,
            height: 450,
            hidden: false,
        }
    }

    #[test]
    fn round_trips_the_stored_form() {
        let m = meme();
        assert_eq!(Meme::from_stored(&m.to_stored()), Some(m));
        assert_eq!(Meme::from_stored(b"{\"id\":1}"), None);
    }

    #[test]
    fn renders_the_api_object() {
        assert_eq!(
            meme().to_api(7),
            r#"{"id":"abcdefghijkl","title":"\u003cscript\u003ealert(1)\u003c/script\u003e","caption":"p = 0.051","tags":["stats","p-values"],"votes":7,"created":"2026-11-26T01:48:31Z","image_url":"/memes/abcdefghijkl/image","thumb_url":"/memes/abcdefghijkl/thumb"}"#
        );
    }

    #[test]
    fn publishes_meme_image_thumb_counter_tags_and_search_terms() {
        let writes = meme().publish(vec![1, 2, 3], vec![4], 0);
        let Write::Put(tag) = &writes[5] else {
            panic!("not a put")
        };
        assert_eq!(tag.key, "p-values/abcdefghijkl");
        let keys: Vec<(&str, &str)> = tag
            .index_keys
            .iter()
            .map(|k| (k.index.as_str(), k.sort_key.as_str()))
            .collect();
        assert_eq!(keys, [("new", "p-values/001795657711999")]);
        assert!(matches!(&writes[3], Write::Add(a) if a.collection == "votes" && a.delta == 0));
        let searched = writes
            .iter()
            .filter(|w| matches!(w, Write::Put(p) if p.collection == "search"));
        assert!(
            searched.count() >= 3,
            "title, caption and tag words are searchable"
        );
    }

    #[test]
    fn deletes_everything_it_published() {
        let m = meme();
        let published: Vec<(String, String)> = m
            .publish(vec![1], vec![2], 0)
            .into_iter()
            .map(|w| match w {
                Write::Put(p) => (p.collection, p.key),
                Write::Add(a) => (a.collection, a.key),
                Write::Delete(k) => (k.collection, k.key),
            })
            .collect();
        let deleted: Vec<(String, String)> = m
            .delete(&["abcdefghijkl/v1".into()], &[])
            .into_iter()
            .map(|w| match w {
                Write::Delete(k) => (k.collection, k.key),
                _ => panic!("only deletes"),
            })
            .collect();
        for entry in &published {
            assert!(deleted.contains(entry), "{entry:?} is left behind");
        }
        assert!(deleted.contains(&("voters".into(), "abcdefghijkl/v1".into())));
    }

    #[test]
    fn round_trips_the_hidden_flag_and_leaves_the_index_when_hidden() {
        let mut m = meme();
        m.hidden = true;
        assert_eq!(Meme::from_stored(&m.to_stored()), Some(m.clone()));
        let Write::Put(put) = m.put() else { panic!() };
        assert!(put.index_keys.is_empty());
    }

    #[test]
    fn checks_and_normalises_drafts() {
        let d = Draft::new("  Reviewer\n2  ", " c ", "#Peer Review, stats,, STATS ").unwrap();
        assert_eq!(d.title, "Reviewer 2");
        assert_eq!(d.caption, "c");
        assert_eq!(d.tags, ["peer-review", "stats"]);
        assert!(
            Draft::new(" ", "", "")
                .unwrap_err()
                .contains("title is required")
        );
        assert!(
            Draft::new(&"x".repeat(121), "", "")
                .unwrap_err()
                .contains("title is too long")
        );
        assert!(
            Draft::new("t", &"x".repeat(501), "")
                .unwrap_err()
                .contains("caption is too long")
        );
        assert!(
            Draft::new("t", "", "a/b")
                .unwrap_err()
                .contains("may only contain")
        );
        assert!(
            Draft::new("t", "", &"x".repeat(33))
                .unwrap_err()
                .contains("too long")
        );
        assert!(
            Draft::new("t", "", "a,b,c,d,e,f,g,h,i")
                .unwrap_err()
                .contains("Too many tags")
        );
        assert_eq!(
            Draft::new("t", "", "phd, café").unwrap().tags,
            ["phd", "café"]
        );
        let d = Draft::new("\u{202e}LTR\u{202c} title", "cap\u{2066}tion", "").unwrap();
        assert_eq!(
            (d.title.as_str(), d.caption.as_str()),
            ("LTR title", "caption")
        );
    }

    #[test]
    fn makes_distinct_well_formed_ids() {
        let a = new_id(1, "t", b"img");
        assert!(is_id(&a));
        assert_ne!(a, new_id(2, "t", b"img"));
        assert_ne!(a, new_id(1, "u", b"img"));
        assert!(!is_id("ABCDEFGHIJKL") && !is_id("short"));
    }
}
