//! A new meme from what a person sent: checks in the order that gives the most useful message,
//! and nothing but a finished [`Meme`] comes out, so a handler that gets an error has no writes
//! to forget.

use alloc::format;
use alloc::string::{String, ToString};

use crate::meme::{Draft, MAX_IMAGE, Meme};
use crate::multipart;
use alloc::vec::Vec;

/// Why a new meme was refused: an HTTP status and a sentence for the person, plus the text
/// fields as sent, so an HTML form can be shown again with them filled in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rejection {
    pub status: u16,
    pub message: String,
    pub title: String,
    pub caption: String,
    pub tags: String,
}

/// An uploaded image made ready to store: re-encoded (so without the upload's metadata), its
/// media type and size, and a thumbnail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub image: Vec<u8>,
    pub image_type: &'static str,
    pub width: u32,
    pub height: u32,
    pub thumb: Vec<u8>,
}

/// Turns an image's bytes into a [`Prepared`] one, or an HTTP status and a sentence: the
/// handler's decoder (this crate does not link one).
pub type Prepare<'a> = &'a dyn Fn(&[u8]) -> Result<Prepared, (u16, String)>;

/// Checks an image and its text fields, made into a meme at `now`. The cheap checks come
/// first, so a form with a missing title never costs a decode.
pub fn accept(
    now: i64,
    image: &[u8],
    title: &str,
    caption: &str,
    tags: &str,
    prepare: Prepare<'_>,
) -> Result<(Meme, Prepared), Rejection> {
    let reject = |status, message: String| Rejection {
        status,
        message,
        title: title.to_string(),
        caption: caption.to_string(),
        tags: tags.to_string(),
    };
    if image.is_empty() {
        return Err(reject(400, "Please choose an image to upload.".into()));
    }
    if image.len() > MAX_IMAGE {
        return Err(reject(
            413,
            format!(
                "The image is {:.1} MiB; the limit is 5 MiB. Compress it, like your literature review.",
                mib(image.len())
            ),
        ));
    }
    let draft = Draft::new(title, caption, tags).map_err(|message| reject(400, message))?;
    let prepared = prepare(image).map_err(|(status, message)| reject(status, message))?;
    let size = (prepared.width, prepared.height);
    let meme = draft.into_meme(now, &prepared.image, prepared.image_type, size);
    Ok((meme, prepared))
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// A form as sent: `multipart/form-data` (file inputs) or `application/x-www-form-urlencoded`.
#[derive(Debug, Default)]
pub struct Form {
    fields: Vec<(String, Vec<u8>)>,
}

impl Form {
    /// Parses a body by its `Content-Type`; the error is a 400 saying what is wrong.
    pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Form, Rejection> {
        let malformed = |message: String| Rejection {
            status: 400,
            message,
            ..Rejection::default()
        };
        let kind = content_type
            .and_then(|t| t.split(';').next())
            .map(|t| t.trim().to_ascii_lowercase());
        if kind.as_deref() == Some("application/x-www-form-urlencoded") {
            let text = String::from_utf8_lossy(body);
            let fields = text
                .split('&')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    let decode = |s: &str| nebula_guest::percent_decode(&s.replace('+', " "));
                    (decode(k), decode(v).into_bytes())
                })
                .collect();
            return Ok(Form { fields });
        }
        let boundary = content_type.and_then(multipart::boundary).ok_or_else(|| {
            malformed("The upload must be sent as multipart/form-data with a boundary.".into())
        })?;
        let parts = multipart::parse(body, &boundary).map_err(|e| {
            malformed(format!(
                "The upload is not a well-formed multipart form: {}.",
                e.0
            ))
        })?;
        Ok(Form {
            fields: parts
                .into_iter()
                .map(|p| (p.name.to_string(), p.data.to_vec()))
                .collect(),
        })
    }

    /// A field as text (invalid UTF-8 replaced); empty when absent.
    pub fn text(&self, name: &str) -> String {
        String::from_utf8_lossy(self.bytes(name)).into_owned()
    }

    /// A field's bytes; empty when absent.
    pub fn bytes(&self, name: &str) -> &[u8] {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or(&[], |(_, v)| v.as_slice())
    }
}

/// A meme from a `multipart/form-data` body with the fields `image`, `title`, `caption` and
/// `tags`.
pub fn from_multipart(
    content_type: Option<&str>,
    body: &[u8],
    now: i64,
    prepare: Prepare<'_>,
) -> Result<(Meme, Prepared), Rejection> {
    let is_multipart = content_type.is_some_and(|t| {
        t.trim_start()
            .to_ascii_lowercase()
            .starts_with("multipart/form-data")
    });
    if !is_multipart {
        return Err(Rejection {
            status: 400,
            message: "The upload must be sent as multipart/form-data with a boundary.".into(),
            ..Rejection::default()
        });
    }
    let form = Form::parse(content_type, body)?;
    let (title, caption, tags) = (form.text("title"), form.text("caption"), form.text("tags"));
    accept(now, form.bytes("image"), &title, &caption, &tags, prepare)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\nrest";

    /// Stands in for the image decoder: PNG magic is an image, anything else is not.
    fn prepare(bytes: &[u8]) -> Result<Prepared, (u16, String)> {
        if bytes.starts_with(b"\x89PNG") {
            Ok(Prepared {
                image: bytes.to_vec(),
                image_type: "image/png",
                width: 2,
                height: 1,
                thumb: b"thumb".to_vec(),
            })
        } else {
            Err((415, "not an image".into()))
        }
    }

    fn form(fields: &[(&str, &[u8])]) -> Vec<u8> {
        form_body(fields)
    }

    fn form_body(fields: &[(&str, &[u8])]) -> Vec<u8> {
        let mut body = Vec::new();
        for (name, data) in fields {
            let filename = if *name == "image" {
                "; filename=\"m.png\""
            } else {
                ""
            };
            body.extend_from_slice(
                format!("--b\r\nContent-Disposition: form-data; name=\"{name}\"{filename}\r\n\r\n")
                    .as_bytes(),
            );
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"--b--\r\n");
        body
    }

    const CT: Option<&str> = Some("multipart/form-data; boundary=b");

    #[test]
    fn accepts_a_complete_form() {
        let body = form(&[
            ("image", PNG),
            ("title", b"Reviewer 2"),
            ("caption", b"c"),
            ("tags", b"a, b"),
        ]);
        let (meme, image) = from_multipart(CT, &body, 5, &prepare).unwrap();
        assert_eq!(
            (meme.title.as_str(), meme.created, meme.image_type.as_str()),
            ("Reviewer 2", 5, "image/png")
        );
        assert_eq!(meme.tags, ["a", "b"]);
        assert_eq!(image.image, PNG);
        assert_eq!((meme.width, meme.height), (2, 1));
    }

    #[test]
    fn refuses_with_the_right_status() {
        let status = |fields: &[(&str, &[u8])]| {
            from_multipart(CT, &form(fields), 5, &prepare)
                .unwrap_err()
                .status
        };
        assert_eq!(status(&[("image", b"plain text"), ("title", b"t")]), 415);
        assert_eq!(status(&[("image", PNG)]), 400);
        assert_eq!(status(&[("title", b"t")]), 400);
        let big = [PNG, &[0u8; MAX_IMAGE][..]].concat();
        assert_eq!(status(&[("image", &big), ("title", b"t")]), 413);
        assert_eq!(
            from_multipart(CT, b"garbage", 5, &prepare)
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            from_multipart(Some("text/plain"), b"", 5, &prepare)
                .unwrap_err()
                .status,
            400
        );
    }

    #[test]
    fn reads_urlencoded_and_multipart_forms() {
        let form = Form::parse(
            Some("application/x-www-form-urlencoded; charset=UTF-8"),
            b"top=R%C2%B2+%3D+0.03&empty=",
        )
        .unwrap();
        assert_eq!(form.text("top"), "R² = 0.03");
        assert_eq!(form.text("missing"), "");
        let body = form_body(&[("title", b"t"), ("image", PNG)]);
        let form = Form::parse(CT, &body).unwrap();
        assert_eq!(form.bytes("image"), PNG);
    }

    #[test]
    fn keeps_the_fields_for_the_form() {
        let err = from_multipart(
            CT,
            &form(&[("image", b"txt"), ("title", b"<t>"), ("tags", b"x")]),
            5,
            &prepare,
        )
        .unwrap_err();
        assert_eq!((err.title.as_str(), err.tags.as_str()), ("<t>", "x"));
    }
}
