//! `multipart/form-data` request bodies (RFC 7578, on RFC 2046 section 5.1.1), as browsers and
//! curl send them. Parts borrow from the body: a 5 MiB image is not copied to be looked at.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// One field of the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<'a> {
    /// The `name` of its `Content-Disposition`.
    pub name: String,
    /// The `filename`, for file fields.
    pub filename: Option<String>,
    pub data: &'a [u8],
}

/// Why a body is not a form; the text is shown to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed(pub &'static str);

/// The boundary from a `Content-Type` header value such as
/// `multipart/form-data; boundary="----x"`; `None` if it is not `multipart/form-data`.
pub fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let kind = params.next()?.trim();
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        // RFC 2046: 1 to 70 characters.
        (1..=70).contains(&value.len()).then(|| value.to_string())
    })
}

/// Splits `body` into its parts.
pub fn parse<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<Part<'a>>, Malformed> {
    let delimiter = [b"--", boundary.as_bytes()].concat();
    // The first delimiter may follow a preamble; later ones start a line.
    let start = find(body, &delimiter).ok_or(Malformed("the form has no parts"))?;
    if start > 0 && !body[..start].ends_with(b"\r\n") {
        return Err(Malformed(
            "the form's first boundary is not on a line of its own",
        ));
    }
    let next_delimiter = [b"\r\n--", boundary.as_bytes()].concat();
    let mut rest = &body[start + delimiter.len()..];
    let mut parts = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        // Transport padding (spaces, tabs) may follow a boundary before its line break.
        let line_end =
            find(rest, b"\r\n").ok_or(Malformed("the form ends in the middle of a boundary"))?;
        if rest[..line_end].iter().any(|b| !matches!(b, b' ' | b'\t')) {
            return Err(Malformed("a form boundary is followed by stray text"));
        }
        rest = &rest[line_end + 2..];
        let end =
            find(rest, &next_delimiter).ok_or(Malformed("the form has no closing boundary"))?;
        parts.push(part(&rest[..end])?);
        rest = &rest[end + next_delimiter.len()..];
    }
}

fn part(raw: &[u8]) -> Result<Part<'_>, Malformed> {
    let (head, data) = if raw.starts_with(b"\r\n") {
        (&raw[..0], &raw[2..])
    } else {
        let end = find(raw, b"\r\n\r\n").ok_or(Malformed("a form part has no end of headers"))?;
        (&raw[..end], &raw[end + 4..])
    };
    let head =
        core::str::from_utf8(head).map_err(|_| Malformed("a form part's headers are not UTF-8"))?;
    let disposition = head
        .split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-disposition"))
        .map(|(_, value)| value)
        .ok_or(Malformed("a form part has no Content-Disposition"))?;
    let mut fields = split_params(disposition);
    let kind = fields.next().unwrap_or_default();
    if !kind.trim().eq_ignore_ascii_case("form-data") {
        return Err(Malformed("a form part is not form-data"));
    }
    let mut name = None;
    let mut filename = None;
    for field in fields {
        let Some((key, value)) = field.split_once('=') else {
            continue;
        };
        let value = unquote(value.trim());
        match key.trim().to_ascii_lowercase().as_str() {
            "name" => name = Some(value),
            "filename" => filename = Some(value),
            _ => {}
        }
    }
    let name = name.ok_or(Malformed("a form part has no name"))?;
    Ok(Part {
        name,
        filename,
        data,
    })
}

/// Splits `a; b="x;y"; c` at the semicolons outside quotes.
fn split_params(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    core::iter::from_fn(move || {
        let s = rest?;
        let mut quoted = false;
        let mut escaped = false;
        for (i, c) in s.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                ';' if !quoted => {
                    rest = Some(&s[i + 1..]);
                    return Some(&s[..i]);
                }
                _ => {}
            }
        }
        rest = None;
        Some(s)
    })
}

/// A quoted-string's content (browsers escape `"` as `%22` but curl uses `\"`), or a bare token.
fn unquote(value: &str) -> String {
    let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
        return value.to_string();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

/// The first position of `needle` in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, tail) = needle.split_first()?;
    let mut from = 0;
    while let Some(offset) = haystack[from..].iter().position(|&b| b == first) {
        let at = from + offset;
        if haystack.get(at + 1..at + needle.len()) == Some(tail) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: &[u8] = b"--XyZ\r\n\
Content-Disposition: form-data; name=\"title\"\r\n\
\r\n\
Reviewer 2\r\n\
--XyZ\r\n\
Content-Disposition: form-data; name=\"image\"; filename=\"a;b \\\"c\\\".png\"\r\n\
Content-Type: image/png\r\n\
\r\n\
\x89PNG\r\n--not-it\r\n\
--XyZ\r\n\
Content-Disposition: form-data; name=\"caption\"\r\n\
\r\n\
\r\n\
--XyZ--\r\n";

    #[test]
    fn reads_the_boundary() {
        assert_eq!(
            boundary("multipart/form-data; boundary=XyZ").as_deref(),
            Some("XyZ")
        );
        assert_eq!(
            boundary("Multipart/Form-Data;charset=x; Boundary=\"a b\"").as_deref(),
            Some("a b")
        );
        assert_eq!(boundary("application/x-www-form-urlencoded"), None);
        assert_eq!(boundary("multipart/form-data"), None);
    }

    #[test]
    fn splits_fields_and_files() {
        let parts = parse(FORM, "XyZ").unwrap();
        assert_eq!(parts.len(), 3);
        assert_eq!(
            (parts[0].name.as_str(), parts[0].data),
            ("title", &b"Reviewer 2"[..])
        );
        assert_eq!(parts[1].filename.as_deref(), Some("a;b \"c\".png"));
        assert_eq!(parts[1].data, b"\x89PNG\r\n--not-it");
        assert_eq!(
            (parts[2].name.as_str(), parts[2].data),
            ("caption", &b""[..])
        );
    }

    #[test]
    fn accepts_a_preamble() {
        let body = [&b"ignored preamble\r\n"[..], FORM].concat();
        assert_eq!(parse(&body, "XyZ").unwrap().len(), 3);
    }

    #[test]
    fn refuses_malformed_bodies() {
        assert!(parse(b"hello", "XyZ").is_err());
        assert!(parse(&FORM[..FORM.len() - 10], "XyZ").is_err());
        let no_name = b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--";
        assert_eq!(
            parse(no_name, "b"),
            Err(Malformed("a form part has no name"))
        );
        let no_disposition = b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--";
        assert!(parse(no_disposition, "b").is_err());
    }

    #[test]
    fn finds_needles() {
        assert_eq!(find(b"abcabd", b"abd"), Some(3));
        assert_eq!(find(b"abc", b"abcd"), None);
        assert_eq!(find(b"abc", b""), None);
    }

    mod properties {
        extern crate std;

        use super::*;
        use alloc::format;
        use proptest::prelude::*;

        /// A form field: name, file name, data.
        type Field = (String, Option<String>, Vec<u8>);

        /// RFC 2046 boundary characters (`bchars` without the space, which may not end one).
        fn boundary_text() -> impl Strategy<Value = String> {
            "[0-9A-Za-z'()+_,./:=?-]{1,70}"
        }

        /// Text for a `name` or `filename`: anything but line breaks.
        fn label() -> impl Strategy<Value = String> {
            any::<String>().prop_map(|s| s.replace(['\r', '\n'], ""))
        }

        fn field() -> impl Strategy<Value = Field> {
            (
                label(),
                proptest::option::of(label()),
                proptest::collection::vec(any::<u8>(), 0..200),
            )
        }

        /// A quoted-string as curl writes it: `"` and `\` escaped with a backslash.
        fn quote(text: &str) -> String {
            format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
        }

        /// The body a client sends for `fields`.
        fn form(boundary: &str, fields: &[Field]) -> Vec<u8> {
            let mut body = Vec::new();
            for (name, filename, data) in fields {
                body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
                let mut disposition = format!("form-data; name={}", quote(name));
                if let Some(filename) = filename {
                    disposition.push_str(&format!("; filename={}", quote(filename)));
                }
                body.extend_from_slice(
                    format!("Content-Disposition: {disposition}\r\n\r\n").as_bytes(),
                );
                body.extend_from_slice(data);
                body.extend_from_slice(b"\r\n");
            }
            body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
            body
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1000))]

            #[test]
            fn any_body_and_boundary_never_panic(
                body in proptest::collection::vec(any::<u8>(), 0..400),
                boundary in any::<String>(),
                content_type in any::<String>(),
            ) {
                let _ = parse(&body, &boundary);
                let _ = super::boundary(&content_type);
            }

            /// Mutations of a valid form (a byte changed, the body cut short) never panic.
            #[test]
            fn damaged_forms_never_panic(
                boundary in boundary_text(),
                fields in proptest::collection::vec(field(), 1..4),
                at in any::<prop::sample::Index>(),
                byte in any::<u8>(),
                cut in any::<bool>(),
            ) {
                let mut body = form(&boundary, &fields);
                let i = at.index(body.len());
                if cut {
                    body.truncate(i);
                } else {
                    body[i] = byte;
                }
                let _ = parse(&body, &boundary);
            }

            #[test]
            fn a_form_reads_back_as_the_fields_it_was_built_from(
                boundary in boundary_text(),
                fields in proptest::collection::vec(field(), 1..5),
            ) {
                let delimiter = format!("\r\n--{boundary}");
                // Data holding the delimiter cannot be sent with this boundary (a client picks
                // another one).
                prop_assume!(fields.iter().all(|(_, _, data)| {
                    find(&[b"\r\n", &data[..], b"\r\n"].concat(), delimiter.as_bytes()).is_none()
                }));
                let body = form(&boundary, &fields);
                let header = format!("multipart/form-data; boundary={}", quote(&boundary));
                prop_assert_eq!(super::boundary(&header), Some(boundary.clone()));
                let parts = parse(&body, &boundary)
                    .map_err(|Malformed(why)| TestCaseError::fail(why))?;
                prop_assert_eq!(parts.len(), fields.len());
                for (part, (name, filename, data)) in parts.iter().zip(&fields) {
                    prop_assert_eq!(&part.name, name);
                    prop_assert_eq!(&part.filename, filename);
                    prop_assert_eq!(part.data, &data[..]);
                }
            }
        }
    }
}
