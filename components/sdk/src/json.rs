//! Just enough JSON output for handlers that answer with JSON, without serde.
//!
//! Values are built bottom-up as already-rendered JSON text: [`string`] and [`number`] make
//! leaves, [`array`] and [`object`] join rendered values. Nothing here parses JSON.

use alloc::string::{String, ToString};
use core::fmt::Write;

/// Escapes `s` for use between the quotes of a JSON string (RFC 8259 section 7): `"` and `\`
/// get a backslash, control characters become `\n`-style or `\u00XX` escapes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if c < ' ' => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// A JSON string literal holding `s`, quotes included.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    out.push_str(&escape(s));
    out.push('"');
    out
}

/// A JSON number.
pub fn number(n: i64) -> String {
    n.to_string()
}

/// `null`, or the string literal of `s`.
pub fn optional_string(s: Option<&str>) -> String {
    s.map_or_else(|| "null".to_string(), string)
}

/// A JSON array of already-rendered values.
pub fn array<I>(values: I) -> String
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    let mut out = String::from("[");
    for (i, value) in values.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(value.as_ref());
    }
    out.push(']');
    out
}

/// A JSON object of (name, already-rendered value) members, in the given order.
pub fn object<'a, I, V>(members: I) -> String
where
    I: IntoIterator<Item = (&'a str, V)>,
    V: AsRef<str>,
{
    let mut out = String::from("{");
    for (i, (name, value)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&string(name));
        out.push(':');
        out.push_str(value.as_ref());
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    #[test]
    fn escapes_quotes_backslashes_and_control_characters() {
        assert_eq!(escape(r#"say "hi" \o/"#), r#"say \"hi\" \\o/"#);
        assert_eq!(escape("a\nb\tc\r\u{08}\u{0c}"), r"a\nb\tc\r\b\f");
        assert_eq!(escape("\u{01}\u{1f}"), r"\u0001\u001f");
    }

    #[test]
    fn keeps_non_ascii_text_as_is() {
        assert_eq!(escape("héllo ☃ 😀"), "héllo ☃ 😀");
        assert_eq!(escape("\u{7f}"), "\u{7f}");
    }

    #[test]
    fn builds_nested_values() {
        let value = object([
            ("name", string("a\"b")),
            ("tags", array(vec![string("x"), number(-3)])),
            ("none", optional_string(None)),
            ("empty", array(Vec::<String>::new())),
        ]);
        assert_eq!(
            value,
            r#"{"name":"a\"b","tags":["x",-3],"none":null,"empty":[]}"#
        );
    }

    #[test]
    fn renders_empty_object() {
        assert_eq!(object(Vec::<(&str, String)>::new()), "{}");
    }
}
