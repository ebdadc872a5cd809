//! Reading `application/x-www-form-urlencoded` query strings, as browsers send them
//! (WHATWG URL standard, "application/x-www-form-urlencoded parsing").

use alloc::string::String;
use alloc::vec::Vec;

/// The value of the first `name` parameter of `query` (the raw query string, without `?`),
/// percent-decoded with `+` read as a space. A parameter without `=` has the value "".
/// Names are compared after decoding.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .find(|(key, _)| decode(key) == name)
        .map(|(_, value)| decode(value))
}

/// Decodes `%XX` escapes and `+` (a space). A `%` not followed by two hex digits stays as it
/// is; bytes that do not form UTF-8 become U+FFFD.
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).and_then(hex),
                bytes.get(i + 2).and_then(hex),
            ) {
                (Some(high), Some(low)) => {
                    out.push((high << 4) | low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(digit: &u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_parameter_with_the_name() {
        assert_eq!(query_param("a=1&b=2&a=3", "a").as_deref(), Some("1"));
        assert_eq!(query_param("a=1&b=2", "b").as_deref(), Some("2"));
        assert_eq!(query_param("a=1&b=2", "c"), None);
        assert_eq!(query_param("", "a"), None);
    }

    #[test]
    fn reads_a_parameter_without_equals_sign_as_empty() {
        assert_eq!(query_param("flag&x=1", "flag").as_deref(), Some(""));
        assert_eq!(query_param("x=", "x").as_deref(), Some(""));
        assert_eq!(query_param("&&x=1&", "x").as_deref(), Some("1"));
    }

    #[test]
    fn decodes_percent_escapes_and_plus_in_names_and_values() {
        assert_eq!(
            query_param("q=hello+world%21", "q").as_deref(),
            Some("hello world!")
        );
        assert_eq!(
            query_param("my%20name=x%3Dy%26z", "my name").as_deref(),
            Some("x=y&z")
        );
        assert_eq!(query_param("s=caf%C3%A9", "s").as_deref(), Some("café"));
        assert_eq!(query_param("p=a%2Bb", "p").as_deref(), Some("a+b"));
    }

    #[test]
    fn keeps_malformed_escapes_literally() {
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz%4"), "%zz%4");
        assert_eq!(decode("%ff"), "\u{fffd}");
    }
}
