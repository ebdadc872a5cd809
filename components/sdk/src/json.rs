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

    mod properties {
        extern crate std;

        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            /// RFC 8259: the literal is valid JSON holding exactly the text, with no raw control
            /// character inside it.
            #[test]
            fn a_string_literal_reads_back_as_its_text(text in any::<String>()) {
                let literal = string(&text);
                prop_assert!(!literal.chars().any(|c| c < ' '), "{literal:?}");
                let read: String = serde_json::from_str(&literal).map_err(|e| {
                    TestCaseError::fail(alloc::format!("{literal:?} is not JSON: {e}"))
                })?;
                prop_assert_eq!(read, text);
            }

            #[test]
            fn nested_values_read_back_as_built(
                members in proptest::collection::vec(
                    (any::<String>(), proptest::option::of(any::<String>()), any::<i64>()),
                    0..8,
                )
            ) {
                let rendered = object(members.iter().map(|(name, text, n)| {
                    (name.as_str(), array([optional_string(text.as_deref()), number(*n)]))
                }));
                let read: serde_json::Value = serde_json::from_str(&rendered)
                    .map_err(|e| TestCaseError::fail(alloc::format!("{rendered:?}: {e}")))?;
                let object = read.as_object().expect("an object");
                // A repeated name keeps its last value (as serde_json reads it).
                let mut expected = std::collections::BTreeMap::new();
                for (name, text, n) in &members {
                    expected.insert(name.clone(), (text.clone(), *n));
                }
                prop_assert_eq!(object.len(), expected.len());
                for (name, (text, n)) in &expected {
                    let item = object[name.as_str()].as_array().expect("an array");
                    prop_assert_eq!(item[0].as_str(), text.as_deref());
                    prop_assert_eq!(item[1].as_i64(), Some(*n));
                }
            }
        }
    }
}
