//! JSON without serde: output built bottom-up as already-rendered text ([`string`] and
//! [`number`] make leaves, [`array`] and [`object`] join rendered values), and a small parser
//! ([`parse`] into a [`Value`]) for the documents a handler stores itself.
//!
//! ```
//! use nebula_guest::json;
//!
//! let text = json::object([
//!     ("title", json::string("p < 0.05")),
//!     ("votes", json::number(3)),
//!     ("tags", json::array([json::string("stats")])),
//! ]);
//! assert_eq!(text, r#"{"title":"p \u003c 0.05","votes":3,"tags":["stats"]}"#);
//! let value = json::parse(text.as_bytes()).unwrap();
//! assert_eq!(value.get("title").and_then(json::Value::as_str), Some("p < 0.05"));
//! ```

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::Write;

/// Escapes `s` for use between the quotes of a JSON string (RFC 8259 section 7): `"` and `\`
/// get a backslash, control characters become `\n`-style or `\u00XX` escapes. `<`, `>`, `&`,
/// U+2028 and U+2029 are escaped too (as `\u003c`…), which JSON allows and which keeps a
/// `</script>` in a value inert when the JSON ends up inside HTML.
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
            c if c < ' ' || matches!(c, '<' | '>' | '&' | '\u{2028}' | '\u{2029}') => {
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

/// A parsed JSON value. Numbers keep their text, so integers of any size survive.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Value>),
    /// Members in document order.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The member `name` of an object.
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.parse().ok(),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }
}

/// Parses one JSON document (RFC 8259); `None` if it is not exactly one valid value.
pub fn parse(text: &[u8]) -> Option<Value> {
    let mut parser = Parser {
        text,
        at: 0,
        depth: 0,
    };
    let value = parser.value()?;
    parser.skip_space();
    (parser.at == text.len()).then_some(value)
}

/// Nesting deeper than this is refused rather than risking the small wasm stack.
const MAX_DEPTH: u32 = 64;

struct Parser<'a> {
    text: &'a [u8],
    at: usize,
    depth: u32,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        self.skip_space();
        (self.peek()? == byte).then(|| self.at += 1)
    }

    fn literal(&mut self, word: &[u8], value: Value) -> Option<Value> {
        self.text[self.at..].starts_with(word).then(|| {
            self.at += word.len();
            value
        })
    }

    fn value(&mut self) -> Option<Value> {
        self.skip_space();
        match self.peek()? {
            b'n' => self.literal(b"null", Value::Null),
            b't' => self.literal(b"true", Value::Bool(true)),
            b'f' => self.literal(b"false", Value::Bool(false)),
            b'"' => self.string().map(Value::String),
            b'[' => self.nested(|p| {
                let mut items = Vec::new();
                p.at += 1;
                if p.eat(b']').is_some() {
                    return Some(Value::Array(items));
                }
                loop {
                    items.push(p.value()?);
                    if p.eat(b']').is_some() {
                        return Some(Value::Array(items));
                    }
                    p.eat(b',')?;
                }
            }),
            b'{' => self.nested(|p| {
                let mut members = Vec::new();
                p.at += 1;
                if p.eat(b'}').is_some() {
                    return Some(Value::Object(members));
                }
                loop {
                    p.skip_space();
                    let name = p.string()?;
                    p.eat(b':')?;
                    members.push((name, p.value()?));
                    if p.eat(b'}').is_some() {
                        return Some(Value::Object(members));
                    }
                    p.eat(b',')?;
                }
            }),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn nested(&mut self, inner: impl FnOnce(&mut Self) -> Option<Value>) -> Option<Value> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let value = inner(self);
        self.depth -= 1;
        value
    }

    fn number(&mut self) -> Option<Value> {
        let start = self.at;
        while matches!(
            self.peek(),
            Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        ) {
            self.at += 1;
        }
        let text = core::str::from_utf8(&self.text[start..self.at]).ok()?;
        // Accept what Rust's float parser accepts, minus its extras (inf, nan, leading '+').
        let valid = !text.starts_with('+') && text.parse::<f64>().is_ok();
        valid.then(|| Value::Number(text.into()))
    }

    fn string(&mut self) -> Option<String> {
        if self.peek()? != b'"' {
            return None;
        }
        self.at += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let b = self.peek()?;
            self.at += 1;
            match b {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let e = self.peek()?;
                    self.at += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{08}',
                        b'f' => '\u{0c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return None,
                    };
                    let mut buf = [0; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                0..0x20 => return None,
                b => out.push(b),
            }
        }
    }

    /// After `\u`: four hex digits, or a surrogate pair written as two escapes.
    fn unicode_escape(&mut self) -> Option<char> {
        let high = self.hex4()?;
        if (0xd800..0xdc00).contains(&high) {
            if !self.text[self.at..].starts_with(b"\\u") {
                return None;
            }
            self.at += 2;
            let low = self.hex4()?;
            if !(0xdc00..0xe000).contains(&low) {
                return None;
            }
            char::from_u32(0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00))
        } else {
            char::from_u32(high)
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.text.get(self.at..self.at + 4)?;
        let digits = core::str::from_utf8(digits).ok()?;
        let value = u32::from_str_radix(digits, 16).ok()?;
        self.at += 4;
        Some(value)
    }
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

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(string("<script>&\"\\"), r#""\u003cscript\u003e\u0026\"\\""#);
        assert_eq!(string("a\nb\u{01}"), r#""a\nb\u0001""#);
        assert_eq!(string("p < 0.05 ☃"), r#""p \u003c 0.05 ☃""#);
    }

    #[test]
    fn round_trips_what_it_writes() {
        let text = object([
            ("title", string("Reviewer 2 <says> \"no\" \u{1f600}")),
            ("tags", array([string("a"), string("b")])),
            ("created", number(1_795_657_711_999)),
        ]);
        let value = parse(text.as_bytes()).unwrap();
        assert_eq!(
            value.get("title").and_then(Value::as_str),
            Some("Reviewer 2 <says> \"no\" \u{1f600}")
        );
        assert_eq!(
            value.get("created").and_then(Value::as_i64),
            Some(1_795_657_711_999)
        );
        assert_eq!(
            value.get("tags"),
            Some(&Value::Array(vec![
                Value::String("a".into()),
                Value::String("b".into())
            ]))
        );
    }

    #[test]
    fn parses_surrogate_pairs_literals_and_nesting() {
        assert_eq!(
            parse(br#""\ud83d\ude00""#),
            Some(Value::String("\u{1f600}".into()))
        );
        assert_eq!(
            parse(b" [null, true, false, -1.5e3, {}] "),
            Some(Value::Array(vec![
                Value::Null,
                Value::Bool(true),
                Value::Bool(false),
                Value::Number("-1.5e3".into()),
                Value::Object(vec![]),
            ]))
        );
    }

    #[test]
    fn refuses_malformed_documents() {
        for bad in [
            &b""[..],
            b"{",
            b"[1,]",
            b"{\"a\"}",
            b"\"\x01\"",
            b"1 2",
            b"nul",
            b"\"\\x\"",
            b"+1",
        ] {
            assert_eq!(parse(bad), None, "{:?}", core::str::from_utf8(bad));
        }
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert_eq!(parse(deep.as_bytes()), None);
    }

    mod properties {
        extern crate std;

        use super::*;
        use proptest::prelude::*;

        /// Any value this module can write: integers only, as the site stores them.
        fn value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(|n| Value::Number(n.to_string())),
                any::<String>().prop_map(Value::String),
            ];
            leaf.prop_recursive(4, 32, 6, |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                    proptest::collection::vec((any::<String>(), inner), 0..6)
                        .prop_map(Value::Object),
                ]
            })
        }

        fn write(value: &Value) -> String {
            match value {
                Value::Null => "null".into(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.clone(),
                Value::String(s) => string(s),
                Value::Array(items) => array(items.iter().map(write)),
                Value::Object(members) => {
                    object(members.iter().map(|(name, v)| (name.as_str(), write(v))))
                }
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1000))]

            #[test]
            fn a_string_literal_reads_back_as_its_text(text in any::<String>()) {
                let literal = string(&text);
                prop_assert!(!literal.contains(['<', '>', '&']), "{literal:?}");
                prop_assert!(!literal.chars().any(|c| c < ' '), "{literal:?}");
                prop_assert_eq!(parse(literal.as_bytes()), Some(Value::String(text)));
            }

            #[test]
            fn values_read_back_as_written(value in value()) {
                prop_assert_eq!(parse(write(&value).as_bytes()), Some(value));
            }

            #[test]
            fn any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
                let _ = parse(&bytes);
            }

            #[test]
            fn json_ish_text_never_panics(
                text in r#"([\[\]{}",: 0-9a-z.eE+-]|\\u[0-9a-fA-F]{0,4}|\\ud83d|\\[nrt"/\\x])*"#
            ) {
                let _ = parse(text.as_bytes());
            }

            /// Deep nesting is refused, never a stack overflow on the small wasm stack.
            #[test]
            fn nesting_past_the_limit_is_refused(depth in 1usize..5000) {
                let text = ["[".repeat(depth), "]".repeat(depth)].concat();
                let parsed = parse(text.as_bytes());
                prop_assert_eq!(parsed.is_some(), depth <= MAX_DEPTH as usize, "depth {}", depth);
            }


            /// RFC 8259: the literal is valid JSON holding exactly the text, with no raw control
            /// character inside it.
            #[test]
            fn a_string_literal_is_json_holding_its_text(text in any::<String>()) {
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
