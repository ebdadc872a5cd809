//! The carried payload that the render step of the create pipeline hands on (built by the
//! `generator` component, taken apart by whichever step stores the meme), and the JSON string
//! escaping it needs.
//!
//! # Carried payload
//!
//! ```text
//! {"v":1,"template":"p-value","title":"…","top":"…","bottom":"…","width":600,"height":450}\n
//! <PNG bytes, to the end>
//! ```
//!
//! One line of UTF-8 JSON (an object; JSON escapes any newline inside strings, so the first
//! `\n` byte ends it), then the PNG file. `top`, `bottom` and `title` are the text as the user
//! typed it (decoded, not upper-cased). [`split_carried`] takes it apart again.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

/// Appends `s` as a JSON string literal (quotes included).
pub fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// What the render step passes on: see the module docs for the byte format.
pub struct Carried<'a> {
    pub template: &'a str,
    pub title: &'a str,
    pub top: &'a str,
    pub bottom: &'a str,
    pub png: &'a [u8],
}

/// Builds the carried payload: a JSON header line, `\n`, then the PNG bytes.
pub fn encode_carried(c: &Carried<'_>) -> Vec<u8> {
    let mut head = String::with_capacity(128 + c.title.len() + c.top.len() + c.bottom.len());
    head.push_str("{\"v\":1,\"template\":");
    push_json_str(&mut head, c.template);
    head.push_str(",\"title\":");
    push_json_str(&mut head, c.title);
    head.push_str(",\"top\":");
    push_json_str(&mut head, c.top);
    head.push_str(",\"bottom\":");
    push_json_str(&mut head, c.bottom);
    let _ = writeln!(
        head,
        ",\"width\":{},\"height\":{}}}",
        crate::WIDTH,
        crate::HEIGHT
    );
    let mut out = Vec::with_capacity(head.len() + c.png.len());
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(c.png);
    out
}

/// Splits a carried payload into its JSON header line (without the `\n`) and the PNG bytes;
/// `None` if it is not one (no newline, header not UTF-8, or no PNG signature after it).
pub fn split_carried(bytes: &[u8]) -> Option<(&str, &[u8])> {
    let nl = bytes.iter().position(|&b| b == b'\n')?;
    let head = core::str::from_utf8(&bytes[..nl]).ok()?;
    let png = &bytes[nl + 1..];
    (head.starts_with('{') && png.starts_with(&crate::png::SIGNATURE)).then_some((head, png))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_json() {
        let mut s = String::new();
        push_json_str(&mut s, "a\"b\\c\nd\u{1}é");
        assert_eq!(s, "\"a\\\"b\\\\c\\nd\\u0001é\"");
    }

    #[test]
    fn carried_round_trip() {
        let png = [&crate::png::SIGNATURE[..], &[1, 2, 3, b'\n']].concat();
        let bytes = encode_carried(&Carried {
            template: "latex",
            title: "line\nbreak \"quoted\"",
            top: "top",
            bottom: "",
            png: &png,
        });
        let (head, body) = split_carried(&bytes).unwrap();
        assert_eq!(
            head,
            "{\"v\":1,\"template\":\"latex\",\"title\":\"line\\nbreak \\\"quoted\\\"\",\"top\":\"top\",\"bottom\":\"\",\"width\":600,\"height\":450}"
        );
        assert_eq!(body, &png[..]);
        assert!(split_carried(b"no newline").is_none());
        assert!(split_carried(&[b'{', b'\n', 1, 2]).is_none());
    }
}
