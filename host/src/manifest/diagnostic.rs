//! What a manifest author sees when something is wrong: a message, the file, line and column, the
//! source line with the offending text underlined, and a hint when we know what to do.
//!
//! Byte offsets (the spans `toml` gives) become 1-based line and column numbers here and nowhere
//! else.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A position in a manifest file; lines and columns are 1-based, columns count characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// The manifest file, as it was given.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.col)
    }
}

/// One problem in a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Lowercase, no trailing period, values quoted with backticks.
    pub message: String,
    /// Where it is; `None` for a problem of the whole file (e.g. it cannot be read).
    pub location: Option<Location>,
    /// The source line `location` points into.
    pub snippet: Option<String>,
    /// How many characters to underline from `location.col` (at least 1 when there is a snippet).
    pub span_len: usize,
    /// What to do about it.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A diagnostic that points nowhere in particular (for example, the file cannot be read).
    pub fn new(message: impl Into<String>) -> Self {
        Diagnostic {
            message: message.into(),
            location: None,
            snippet: None,
            span_len: 0,
            hint: None,
        }
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    /// Renders like rustc, with the file always named:
    ///
    /// ```text
    /// error: unknown field `rout`
    ///   --> manifests/academemes.toml:7:1
    ///    |
    ///  7 | rout = "/memes"
    ///    | ^^^^
    ///    = hint: did you mean `route`?
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)?;
        let width = self
            .location
            .as_ref()
            .map_or(1, |l| l.line.to_string().len());
        let blank = " ".repeat(width + 1);
        if let Some(location) = &self.location {
            write!(f, "\n{blank}--> {location}")?;
            if let Some(snippet) = &self.snippet {
                // Keep tabs so the carets line up under the text whatever the tab width.
                let indent: String = snippet
                    .chars()
                    .take(location.col.saturating_sub(1))
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                let carets = "^".repeat(self.span_len.max(1));
                write!(f, "\n{blank} |")?;
                write!(f, "\n {:>width$} | {}", location.line, snippet.trim_end())?;
                write!(f, "\n{blank} | {indent}{carets}")?;
            }
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n{blank} = hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// Every problem found in one manifest. Parse errors stop early; semantic errors are all
/// collected, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ManifestError {
    /// At least one.
    pub diagnostics: Vec<Diagnostic>,
}

impl From<Diagnostic> for ManifestError {
    fn from(diagnostic: Diagnostic) -> Self {
        ManifestError {
            diagnostics: vec![diagnostic],
        }
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.diagnostics.is_empty() {
            return f.write_str("error: invalid manifest");
        }
        for (i, diagnostic) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                f.write_str("\n\n")?;
            }
            write!(f, "{diagnostic}")?;
        }
        let count = self.diagnostics.len();
        if count > 1 {
            write!(f, "\n\n{count} problems")?;
            if let Some(location) = self.diagnostics.iter().find_map(|d| d.location.as_ref()) {
                write!(f, " in {}", location.file.display())?;
            }
        }
        Ok(())
    }
}

/// The manifest text and where its lines start, to turn spans into diagnostics.
#[derive(Debug)]
pub(super) struct Source<'a> {
    file: &'a Path,
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> Source<'a> {
    pub(super) fn new(file: &'a Path, text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Source {
            file,
            text,
            line_starts,
        }
    }

    /// A diagnostic pointing at the start of the file, without a snippet, for what is missing
    /// rather than wrong.
    pub(super) fn file_level(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            location: Some(Location {
                file: self.file.to_owned(),
                line: 1,
                col: 1,
            }),
            ..Diagnostic::new(message)
        }
    }

    /// A diagnostic underlining `span` (byte offsets into the text). Spans that run over several
    /// lines are underlined to the end of their first line.
    pub(super) fn at(&self, span: Range<usize>, message: impl Into<String>) -> Diagnostic {
        let start = self.floor(span.start.min(self.text.len()));
        let line_index = self.line_starts.partition_point(|&s| s <= start) - 1;
        let line_start = self.line_starts[line_index];
        let line_end = self.text[line_start..]
            .find('\n')
            .map_or(self.text.len(), |i| line_start + i);
        let snippet = self.text[line_start..line_end].trim_end_matches('\r');
        // `start` can lie past the snippet when it points at the line's trailing `\r`: then the
        // span is empty and gets one caret.
        let end = self.floor(span.end.min(line_start + snippet.len()).max(start));
        Diagnostic {
            message: message.into(),
            location: Some(self.location(start)),
            snippet: Some(snippet.to_owned()),
            span_len: self.text[start..end].chars().count().max(1),
            hint: None,
        }
    }

    /// Where byte `offset` is.
    pub(super) fn location(&self, offset: usize) -> Location {
        let offset = self.floor(offset.min(self.text.len()));
        let line_index = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let line_start = self.line_starts[line_index];
        Location {
            file: self.file.to_owned(),
            line: line_index + 1,
            col: self.text[line_start..offset].chars().count() + 1,
        }
    }

    /// The part of a string literal's span holding `value[within]`, when the literal is written
    /// without escapes (so text and value line up); otherwise the whole literal's span.
    pub(super) fn inner_span(
        &self,
        literal: Range<usize>,
        value: &str,
        within: Range<usize>,
    ) -> Range<usize> {
        let raw = self.text.get(literal.clone()).unwrap_or_default();
        let quoted = raw.len() == value.len() + 2
            && (raw.starts_with('"') || raw.starts_with('\''))
            && raw.get(1..raw.len() - 1) == Some(value);
        if quoted && within.end <= value.len() {
            literal.start + 1 + within.start..literal.start + 1 + within.end
        } else {
            literal
        }
    }

    /// The diagnostic for an error from `toml`: syntax errors, and type errors from serde.
    pub(super) fn toml_error(&self, error: &toml::de::Error) -> Diagnostic {
        let message = plain_serde_message(error.message());
        let mut diagnostic = match error.span() {
            Some(span) => self.at(span, message),
            None => self.file_level(message),
        };
        let expected = diagnostic
            .message
            .rsplit_once(", expected ")
            .map(|(_, e)| e);
        diagnostic.hint = match expected {
            Some("a string") => Some("put the value in double quotes".to_owned()),
            Some("an integer") => Some("write a whole number, without quotes".to_owned()),
            Some("a boolean") => Some("write `true` or `false`, without quotes".to_owned()),
            Some("an array") => Some("write a list in brackets, e.g. `[\"a\", \"b\"]`".to_owned()),
            _ => None,
        };
        diagnostic
    }

    fn floor(&self, mut offset: usize) -> usize {
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }
}

/// Serde speaks Rust (`expected i64`, `expected struct RawRoute`); authors write TOML.
fn plain_serde_message(message: &str) -> String {
    let mut message = message.trim_end_matches('.').to_owned();
    for (rust, toml) in [
        ("expected i64", "expected an integer"),
        ("expected u64", "expected an integer"),
        ("expected a sequence", "expected an array"),
        ("expected a map", "expected a table"),
        ("expected a borrowed string", "expected a string"),
    ] {
        message = message.replace(rust, toml);
    }
    if let Some(at) = message.find("expected struct ") {
        message.truncate(at);
        message.push_str("expected a table");
    }
    // "Invalid ..." -> "invalid ...", but leave acronyms ("TOML") alone.
    let mut chars = message.chars();
    if let (Some(first), Some(second)) = (chars.next(), chars.next())
        && first.is_ascii_uppercase()
        && !second.is_uppercase()
    {
        message.replace_range(..1, &first.to_ascii_lowercase().to_string());
    }
    message
}

/// The candidate closest to `word`, if it is close enough to be what the author meant: a few
/// typos away, or a prefix of it or the other way round (`index` for `indexes`).
pub(super) fn did_you_mean<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let word = word.to_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter_map(|candidate| {
            let lower = candidate.to_lowercase();
            let distance = edit_distance(&word, &lower);
            let prefix = word.len().min(lower.len()) >= 3
                && (lower.starts_with(&word) || word.starts_with(&lower));
            (distance <= limit || prefix).then_some((distance, candidate))
        })
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, candidate)| candidate)
}

/// Optimal string alignment distance: Levenshtein plus adjacent transpositions (`rotue`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
        }
    }
    rows[a.len()][b.len()]
}

/// Backticked, comma-separated: `` `a`, `b`, `c` ``.
pub(super) fn quoted_list(items: impl IntoIterator<Item = impl fmt::Display>) -> String {
    items
        .into_iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_the_style_guide() {
        let text = "version = 1\n\n[[routes]]\n\n\n\nrout = \"/memes\"\n";
        let source = Source::new(Path::new("manifests/academemes.toml"), text);
        let start = text.find("rout =").unwrap();
        let d = source
            .at(start..start + 4, "unknown field `rout`")
            .with_hint("did you mean `route`?");
        assert_eq!(
            d.to_string(),
            "error: unknown field `rout`\n  --> manifests/academemes.toml:7:1\n   |\n 7 | rout = \"/memes\"\n   | ^^^^\n   = hint: did you mean `route`?"
        );
    }

    #[test]
    fn widens_the_gutter_for_long_line_numbers() {
        let text = format!("{}x = 1\n", "\n".repeat(11));
        let source = Source::new(Path::new("m.toml"), &text);
        let d = source.at(11..12, "bad");
        assert_eq!(
            d.to_string(),
            "error: bad\n   --> m.toml:12:1\n    |\n 12 | x = 1\n    | ^"
        );
    }

    #[test]
    fn counts_columns_in_characters_and_clips_spans_to_the_line() {
        let text = "name = \"é\" # x\nnext";
        let source = Source::new(Path::new("m.toml"), text);
        let at = text.find('#').unwrap();
        let d = source.at(at..text.len(), "x");
        let location = d.location.unwrap();
        assert_eq!((location.line, location.col), (1, 12));
        assert_eq!(d.span_len, 3);
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(did_you_mean("rout", ["route", "component"]), Some("route"));
        assert_eq!(did_you_mean("rotue", ["route", "routes"]), Some("route"));
        assert_eq!(did_you_mean("Pipeline", ["pipeline"]), Some("pipeline"));
        assert_eq!(
            did_you_mean("index", ["counter", "indexes"]),
            Some("indexes")
        );
        assert_eq!(did_you_mean("xyz", ["route", "component"]), None);
        assert_eq!(did_you_mean("a", ["api"]), None);
    }

    #[test]
    fn summarises_several_problems_with_the_file() {
        let source = Source::new(Path::new("m.toml"), "a\nb\n");
        let err = ManifestError {
            diagnostics: vec![source.at(0..1, "one"), source.at(2..3, "two")],
        };
        assert!(
            err.to_string().ends_with("\n\n2 problems in m.toml"),
            "{err}"
        );
    }
}
