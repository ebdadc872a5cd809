//! User text on its way in: what a title, caption, tag or caption-on-the-image may contain.
//!
//! Bidirectional formatting characters are removed: U+202E (RIGHT-TO-LEFT OVERRIDE) and its
//! kin let a title display as something else than what it says ("RTL" shown as "LTR"), and
//! the Unicode Bidirectional Algorithm (UAX #9) lays out Arabic or Hebrew text correctly
//! without them. Other control characters go too; newlines only where the field allows them.

use alloc::string::String;

/// Whether `c` is an explicit bidirectional formatting character (UAX #9, section 2):
/// embeddings, overrides, isolates, their terminators and the implicit marks.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
    )
}

/// `text` without bidi controls and control characters; newlines (as `\n`) and tabs stay
/// when `multiline`.
pub fn clean(text: &str, multiline: bool) -> String {
    text.replace("\r\n", "\n")
        .chars()
        .filter(|&c| !is_bidi_control(c))
        .filter(|&c| !c.is_control() || (multiline && (c == '\n' || c == '\t')))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_bidi_overrides_and_controls() {
        assert_eq!(clean("\u{202e}LTR\u{202c} ok", false), "LTR ok");
        assert_eq!(clean("a\u{2067}b\u{2069}c\u{200f}", false), "abc");
        assert_eq!(clean("bell\u{7}\nline", false), "bellline");
        assert_eq!(clean("bell\u{7}\r\nline", true), "bell\nline");
        assert_eq!(clean("مرحبا Ωμέγα Привет", false), "مرحبا Ωμέγα Привет");
    }
}
