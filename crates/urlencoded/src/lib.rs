//! Percent-decoding and `application/x-www-form-urlencoded` query strings, read the way browsers
//! and the WHATWG URL standard read them — the one implementation the host (route captures,
//! manifest `{query.NAME}` placeholders) and the guest SDK (`nebula_guest::query_param`) share, so
//! a handler and its manifest never disagree about a URL.
//!
//! Malformed input is never an error: a `%` not followed by two hex digits stays as it is
//! (`100%` is `100%`, `%zz` is `%zz`), as in the WHATWG "percent-decode" algorithm. Query names
//! and values that are not UTF-8 once decoded get U+FFFD in place of the bad bytes (WHATWG "UTF-8
//! decode without BOM"); a path segment that is not UTF-8 has no string value at all.
//!
//! No allocation when there is nothing to decode; no I/O; `no_std` (with `alloc`).
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

/// Decodes `%XX` escapes (either case); a `%` not followed by two hex digits is kept literally.
pub fn percent_decode(input: &[u8]) -> Cow<'_, [u8]> {
    if !input.contains(&b'%') {
        return Cow::Borrowed(input);
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let byte = input[i];
        let escaped = match (byte, input.get(i + 1), input.get(i + 2)) {
            (b'%', Some(&high), Some(&low)) => hex(high).zip(hex(low)),
            _ => None,
        };
        match escaped {
            Some((high, low)) => {
                out.push((high << 4) | low);
                i += 3;
            }
            None => {
                out.push(byte);
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

/// A path segment (a route capture): percent-decoded, `+` kept as is; `None` if the bytes are
/// not UTF-8.
pub fn decode_path_segment(segment: &str) -> Option<Cow<'_, str>> {
    match percent_decode(segment.as_bytes()) {
        Cow::Borrowed(_) => Some(Cow::Borrowed(segment)),
        Cow::Owned(bytes) => String::from_utf8(bytes).ok().map(Cow::Owned),
    }
}

/// A query name or value: `+` is a space, then percent-decoded; bytes that are not UTF-8
/// become U+FFFD.
pub fn decode_form_component(input: &str) -> Cow<'_, str> {
    if !input.contains(['+', '%']) {
        return Cow::Borrowed(input);
    }
    let spaced: Vec<u8> = input
        .bytes()
        .map(|b| if b == b'+' { b' ' } else { b })
        .collect();
    let decoded = percent_decode(&spaced).into_owned();
    Cow::Owned(match String::from_utf8(decoded) {
        Ok(text) => text,
        Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
    })
}

/// The raw (still encoded) name and value of each parameter of `query` (without the `?`), in
/// order; empty parameters (`a=1&&b=2`) are skipped, and one without `=` has the value "".
pub fn raw_query_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
}

/// Each parameter of `query`, name and value decoded.
pub fn query_pairs(query: &str) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    raw_query_pairs(query)
        .map(|(name, value)| (decode_form_component(name), decode_form_component(value)))
}

/// The decoded value of the first parameter of `query` whose decoded name is `name`.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    raw_query_pairs(query)
        .find(|(key, _)| decode_form_component(key) == name)
        .map(|(_, value)| decode_form_component(value).into_owned())
}

/// Percent-encodes everything but RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`), with
/// upper-case hex: safe in a path segment and in a query name or value.
pub fn encode_component(input: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(input.len());
    for byte in input.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
    }
    out
}

fn hex(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
