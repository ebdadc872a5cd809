//! The validator's state: the source being checked and the problems found so far, with the
//! checks every table shares (known keys, typed deserialization, sizes and durations, names).
//! What each table means is validate.rs, routes.rs and reads.rs; this file knows no table.

use std::borrow::Cow;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::ManifestError;
use super::diagnostic::{Diagnostic, Source, did_you_mean, quoted_list};
use super::limits::Invalid;
use super::raw::{fields_of, from_value};

/// Collects diagnostics while walking the document.
#[derive(Debug)]
pub(super) struct Validator<'a> {
    pub(super) source: Source<'a>,
    diagnostics: Vec<Diagnostic>,
}

impl<'a> Validator<'a> {
    pub(super) fn new(source: Source<'a>) -> Validator<'a> {
        Validator {
            source,
            diagnostics: Vec::new(),
        }
    }

    /// Every problem found, in file order; `Ok` when there was none.
    pub(super) fn finish(self) -> Result<(), ManifestError> {
        if self.diagnostics.is_empty() {
            return Ok(());
        }
        let mut diagnostics = self.diagnostics;
        diagnostics.sort_by_key(|d| d.location.as_ref().map(|l| (l.line, l.col)));
        Err(ManifestError { diagnostics })
    }

    pub(super) fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// How many problems have been found so far, to tell whether a part was valid.
    pub(super) fn problems(&self) -> usize {
        self.diagnostics.len()
    }

    pub(super) fn unknown_key(&mut self, key: &Spanned<Cow<'_, str>>, fields: &[&str]) {
        let name = key.get_ref().as_ref();
        let hint = match did_you_mean(name, fields.iter().copied()) {
            Some(field) => format!("did you mean `{field}`?"),
            None if fields.is_empty() => "remove it".to_owned(),
            None if fields.len() == 1 => format!("the only field here is `{}`", fields[0]),
            None => format!("expected one of {}", quoted_list(fields)),
        };
        self.push(
            self.source
                .at(key.span(), format!("unknown field `{name}`"))
                .with_hint(hint),
        );
    }

    /// Reports every key of `table` that is not in `fields`; true when there was none.
    fn known_keys(&mut self, table: &DeTable<'_>, fields: &[&str]) -> bool {
        let mut ok = true;
        for key in table.keys() {
            if !fields.contains(&key.get_ref().as_ref()) {
                self.unknown_key(key, fields);
                ok = false;
            }
        }
        ok
    }

    /// Deserializes one table after checking its keys, and those of the tables under `nested`
    /// keys (a table, or an array of tables). `what` names it in messages, `header` is how it is
    /// written as a TOML table header.
    pub(super) fn typed<'i, T: Deserialize<'i>>(
        &mut self,
        value: Spanned<DeValue<'i>>,
        what: &str,
        header: &str,
        nested: &[(&str, &[&str])],
    ) -> Option<T> {
        let DeValue::Table(table) = value.get_ref() else {
            let found = article(value.get_ref().type_str());
            self.push(
                self.source
                    .at(value.span(), format!("{what} must be a table, not {found}"))
                    .with_hint(format!(
                        "write `{header}` on a line of its own, with the fields below it"
                    )),
            );
            return None;
        };
        let mut ok = self.known_keys(table, fields_of::<T>());
        for (key, fields) in nested {
            match table.get(*key).map(Spanned::get_ref) {
                Some(DeValue::Table(inner)) => ok &= self.known_keys(inner, fields),
                Some(DeValue::Array(items)) => {
                    for item in items.iter() {
                        if let DeValue::Table(inner) = item.get_ref() {
                            ok &= self.known_keys(inner, fields);
                        }
                    }
                }
                _ => {}
            }
        }
        if !ok {
            return None;
        }
        from_value(value)
            .map_err(|err| self.push(self.source.toml_error(&err)))
            .ok()
    }

    /// Converts a size or duration, reporting why it is invalid.
    pub(super) fn convert<T>(&mut self, value: &Spanned<toml::Value>) -> Option<T>
    where
        T: for<'v> TryFrom<&'v toml::Value, Error = Invalid>,
    {
        match T::try_from(value.get_ref()) {
            Ok(converted) => Some(converted),
            Err(Invalid { message, hint }) => {
                let mut diagnostic = self.source.at(value.span(), message);
                diagnostic.hint = hint;
                self.push(diagnostic);
                None
            }
        }
    }

    /// Checks a collection, component, index or read name; true when valid.
    pub(super) fn name(&mut self, span: Range<usize>, name: &str, what: &str) -> bool {
        let valid = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        if !name.is_empty() && name.chars().all(valid) {
            return true;
        }
        let fixed: String = name
            .chars()
            .map(|c| if valid(c) { c } else { '_' })
            .collect();
        let mut hint = "names use letters, digits, `_` and `-`".to_owned();
        if !name.is_empty() {
            hint.push_str(&format!(", e.g. `{fixed}`"));
        }
        self.push(
            self.source
                .at(span, format!("invalid {what} name `{name}`"))
                .with_hint(hint),
        );
        false
    }

    /// A non-empty string field; reports an empty one.
    pub(super) fn non_empty<'s>(
        &mut self,
        value: &'s Spanned<String>,
        field: &str,
        hint: &str,
    ) -> Option<&'s str> {
        if value.get_ref().trim().is_empty() {
            self.push(
                self.source
                    .at(value.span(), format!("`{field}` is empty"))
                    .with_hint(hint),
            );
            return None;
        }
        Some(value.get_ref())
    }
}

/// "string" -> "a string", "integer" -> "an integer".
pub(super) fn article(kind: &str) -> String {
    let an = kind.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {kind}", if an { "an" } else { "a" })
}
