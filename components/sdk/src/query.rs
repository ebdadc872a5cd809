//! Reading `application/x-www-form-urlencoded` query strings, as browsers send them (WHATWG URL
//! standard). The implementation is the host's own (crates/urlencoded), so a handler reads a
//! query exactly as its manifest's `{query.NAME}` placeholders do: `?x=100%` is `100%` for both.

use alloc::string::String;

pub use nebula_urlencoded::{encode_component as percent_encode, query_pairs, query_param};

/// Decodes a query name or value: `%XX` escapes and `+` (a space). A `%` not followed by two hex
/// digits stays as it is; bytes that do not form UTF-8 become U+FFFD.
pub fn decode(s: &str) -> String {
    nebula_urlencoded::decode_form_component(s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_parameter_with_the_name() {
        assert_eq!(query_param("a=1&b=2&a=3", "a").as_deref(), Some("1"));
        assert_eq!(query_param("a=1&b=2", "c"), None);
    }

    #[test]
    fn keeps_malformed_escapes_literally() {
        assert_eq!(query_param("x=100%", "x").as_deref(), Some("100%"));
        assert_eq!(decode("%zz%4"), "%zz%4");
        assert_eq!(decode("%ff"), "\u{fffd}");
        assert_eq!(decode("a+b%21"), "a b!");
    }
}
