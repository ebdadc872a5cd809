//! A meme: how it is stored, shown in the API, validated when made, and the writes that
//! publish it.
//!
//! Storage (the manifest declares these collections):
//! * `memes`: id -> the stored JSON below; index `new`, sort key = created ms, 15 digits;
//! * `images`: id -> the image bytes;
//! * `votes`: counter per id, created with `add` when the meme is made so that every meme is in
//!   the counter index `value` (the "top" order);
//! * `tags`: `"{tag}/{id}"` -> id; index `new`, sort key `"{tag}/{created15}"`, so a tag page is a
//!   prefix walk of one index.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use nebula_guest::{Add, Put, Write};

use crate::hash::{Hasher, base32_12};
use crate::json::{self, Value, array, number, object, string};
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

/// A published meme, as stored in `memes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meme {
    pub id: String,
    pub title: String,
    pub caption: String,
    pub tags: Vec<String>,
    /// Milliseconds since the Unix epoch.
    pub created: i64,
    /// Media type of the image, from its magic bytes.
    pub image_type: String,
}

impl Meme {
    /// The stored form: `{"id","title","caption","tags","created","image_type"}`.
    pub fn to_stored(&self) -> Vec<u8> {
        object([
            ("id", string(&self.id)),
            ("title", string(&self.title)),
            ("caption", string(&self.caption)),
            ("tags", array(self.tags.iter().map(|t| string(t)))),
            ("created", number(self.created)),
            ("image_type", string(&self.image_type)),
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
        })
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
        ])
    }

    /// The writes that publish this meme with `image` and `votes` starting votes.
    pub fn publish(&self, image: Vec<u8>, votes: i64) -> Vec<Write> {
        let created = sort_time(self.created);
        let mut writes = Vec::with_capacity(3 + self.tags.len());
        writes.push(Write::Put(Put {
            collection: "memes".into(),
            key: self.id.clone(),
            value: self.to_stored(),
            index_keys: [("new".into(), created.clone())].into(),
        }));
        writes.push(Write::Put(Put {
            collection: "images".into(),
            key: self.id.clone(),
            value: image,
            index_keys: Vec::new(),
        }));
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
                index_keys: [("new".into(), format!("{tag}/{created}"))].into(),
            }));
        }
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
        let title = collapse(title);
        if title.is_empty() {
            return Err("A title is required: even Reviewer 2 reads the title.".into());
        }
        if title.chars().count() > MAX_TITLE {
            return Err(format!(
                "The title is too long: at most {MAX_TITLE} characters, please."
            ));
        }
        let caption = caption.trim().replace("\r\n", "\n");
        if caption.chars().count() > MAX_CAPTION {
            return Err(format!(
                "The caption is too long: at most {MAX_CAPTION} characters (this is not your thesis)."
            ));
        }
        let tags = parse_tags(tags)?;
        Ok(Draft {
            title,
            caption,
            tags,
        })
    }

    /// The meme this draft becomes at `now` with an image of `image_type`.
    pub fn into_meme(self, now: i64, image: &[u8], image_type: &str) -> Meme {
        Meme {
            id: new_id(now, &self.title, image),
            title: self.title,
            caption: self.caption,
            tags: self.tags,
            created: now,
            image_type: image_type.to_string(),
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
            r#"{"id":"abcdefghijkl","title":"\u003cscript\u003ealert(1)\u003c/script\u003e","caption":"p = 0.051","tags":["stats","p-values"],"votes":7,"created":"2026-11-26T01:48:31Z","image_url":"/memes/abcdefghijkl/image"}"#
        );
    }

    #[test]
    fn publishes_meme_image_counter_and_tags() {
        let writes = meme().publish(vec![1, 2, 3], 0);
        assert_eq!(writes.len(), 5);
        let Write::Put(tag) = &writes[4] else {
            panic!("not a put")
        };
        assert_eq!(tag.key, "p-values/abcdefghijkl");
        assert_eq!(
            tag.index_keys,
            [("new".into(), "p-values/001795657711999".into())]
        );
        assert!(matches!(&writes[2], Write::Add(a) if a.collection == "votes" && a.delta == 0));
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
