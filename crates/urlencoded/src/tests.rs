//! Examples of each rule, then properties over arbitrary input: never a panic, round trips, and
//! agreement with a naive reading of the WHATWG algorithms.

extern crate std;

use super::*;
use alloc::format;
use alloc::string::ToString;
use alloc::vec;
use proptest::prelude::*;

#[test]
fn decodes_escapes_in_either_case() {
    assert_eq!(&*percent_decode(b"a%20b%2fc%2F"), b"a b/c/");
    assert_eq!(&*percent_decode(b"caf%C3%A9"), "café".as_bytes());
}

#[test]
fn keeps_malformed_escapes_literally() {
    for kept in ["100%", "%", "%4", "%zz", "%%41", "%g1", "50%-off"] {
        let expected = kept.replace("%41", "A");
        assert_eq!(
            &*percent_decode(kept.as_bytes()),
            expected.as_bytes(),
            "{kept}"
        );
    }
}

#[test]
fn borrows_when_there_is_nothing_to_decode() {
    assert!(matches!(percent_decode(b"plain"), Cow::Borrowed(_)));
    assert!(matches!(decode_form_component("plain"), Cow::Borrowed(_)));
    assert!(matches!(
        decode_path_segment("plain"),
        Some(Cow::Borrowed(_))
    ));
}

#[test]
fn a_path_segment_keeps_plus_and_must_be_utf8() {
    assert_eq!(decode_path_segment("a+b%20c").as_deref(), Some("a+b c"));
    assert_eq!(decode_path_segment("100%").as_deref(), Some("100%"));
    assert_eq!(decode_path_segment("%ff"), None);
}

#[test]
fn a_query_component_reads_plus_as_space_and_replaces_bad_utf8() {
    assert_eq!(decode_form_component("hello+world%21"), "hello world!");
    assert_eq!(decode_form_component("a%2Bb"), "a+b");
    assert_eq!(decode_form_component("%ff"), "\u{fffd}");
    assert_eq!(decode_form_component("100%"), "100%");
}

#[test]
fn finds_the_first_parameter_by_its_decoded_name() {
    assert_eq!(query_param("a=1&b=2&a=3", "a").as_deref(), Some("1"));
    assert_eq!(
        query_param("my%20name=x%3Dy%26z", "my name").as_deref(),
        Some("x=y&z")
    );
    assert_eq!(query_param("flag&x=1", "flag").as_deref(), Some(""));
    assert_eq!(query_param("&&x=1&", "x").as_deref(), Some("1"));
    assert_eq!(query_param("x=100%", "x").as_deref(), Some("100%"));
    assert_eq!(query_param("a=1", "b"), None);
    assert_eq!(query_param("", ""), None);
}

#[test]
fn splits_a_value_at_its_first_equals_sign_only() {
    assert_eq!(query_param("k=a=b", "k").as_deref(), Some("a=b"));
    let pairs: vec::Vec<_> = query_pairs("=v&k=").collect();
    assert_eq!(pairs, [("".into(), "v".into()), ("k".into(), "".into())]);
}

#[test]
fn encodes_all_but_unreserved_characters() {
    assert_eq!(
        encode_component("a b/c?d=é~_.-"),
        "a%20b%2Fc%3Fd%3D%C3%A9~_.-"
    );
}

/// The WHATWG percent-decode algorithm, written as plainly as the standard words it.
fn whatwg_percent_decode(input: &[u8]) -> vec::Vec<u8> {
    let mut out = vec::Vec::new();
    let mut i = 0;
    while i < input.len() {
        let hex_at = |j: usize| input.get(j).is_some_and(u8::is_ascii_hexdigit);
        if input[i] == b'%' && hex_at(i + 1) && hex_at(i + 2) {
            let text = core::str::from_utf8(&input[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(text, 16).unwrap());
            i += 3;
        } else {
            out.push(input[i]);
            i += 1;
        }
    }
    out
}

/// Strings rich in the characters that matter here.
fn url_ish() -> impl Strategy<Value = String> {
    proptest::string::string_regex("([%+=&a-fA-F0-9gGzZ ~/?#é\u{0}\u{fffd}]|%[0-9a-fA-F]{2}){0,40}")
        .expect("a valid regex")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn percent_decode_matches_the_whatwg_algorithm(input in proptest::collection::vec(any::<u8>(), 0..64)) {
        prop_assert_eq!(percent_decode(&input).into_owned(), whatwg_percent_decode(&input));
    }

    #[test]
    fn percent_decode_never_grows_and_never_panics(input in url_ish()) {
        prop_assert!(percent_decode(input.as_bytes()).len() <= input.len());
        let _ = decode_path_segment(&input);
        let _ = decode_form_component(&input);
        let _ = query_pairs(&input).count();
    }

    #[test]
    fn encoding_then_decoding_gives_back_any_string(text in any::<String>()) {
        let encoded = encode_component(&text);
        prop_assert!(encoded.bytes().all(|b| b.is_ascii_graphic() && b != b'+' && b != b'&' && b != b'='));
        let segment = decode_path_segment(&encoded);
        prop_assert_eq!(segment.as_deref(), Some(text.as_str()));
        prop_assert_eq!(decode_form_component(&encoded), text.as_str());
    }

    #[test]
    fn a_query_built_from_pairs_reads_back_as_those_pairs(
        pairs in proptest::collection::vec((any::<String>(), any::<String>()), 0..6)
    ) {
        let query = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
            .collect::<vec::Vec<_>>()
            .join("&");
        let read: vec::Vec<(String, String)> = query_pairs(&query)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        prop_assert_eq!(&read, &pairs);
        for (name, _) in &pairs {
            let first = pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.to_string());
            prop_assert_eq!(query_param(&query, name), first);
        }
    }

    #[test]
    fn query_param_is_the_first_of_query_pairs(query in url_ish(), name in url_ish()) {
        let first = query_pairs(&query).find(|(k, _)| *k == name).map(|(_, v)| v.into_owned());
        prop_assert_eq!(query_param(&query, &name), first);
    }
}
