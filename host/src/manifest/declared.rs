//! What the rest of the manifest declares, as routes and their reads see it: the names they may
//! refer to, and the route being checked. Shared by routes.rs and reads.rs, so neither needs the
//! other's internals.

use std::collections::{BTreeMap, BTreeSet};

use toml::Spanned;

use super::diagnostic::did_you_mean;
use super::validator::Validator;
use super::{Collection, ComponentDecl, Limits};

/// What the rest of the manifest declares, for checking references. The `*_names` sets hold
/// every declared name, including those whose table had errors (already reported).
#[derive(Debug)]
pub(super) struct Declared<'a> {
    pub collections: &'a BTreeMap<String, Collection>,
    pub collection_names: &'a BTreeSet<String>,
    pub components: &'a BTreeMap<String, ComponentDecl>,
    pub component_names: &'a BTreeSet<String>,
    pub limits: &'a Limits,
}

/// One route being checked: how it is written and what it captures (`None` when the route line
/// itself is invalid, so templates are not checked against it).
#[derive(Debug)]
pub(super) struct RouteCx<'a> {
    pub route: &'a str,
    pub captures: Option<Vec<String>>,
    pub declared: &'a Declared<'a>,
}

impl Declared<'_> {
    /// Whether `name` is a declared collection; reports it when not.
    pub(super) fn known_collection(&self, v: &mut Validator<'_>, name: &Spanned<String>) -> bool {
        let text = name.get_ref();
        if self.collection_names.contains(text) {
            return true;
        }
        let hint = match did_you_mean(text, self.collection_names.iter().map(String::as_str)) {
            Some(known) => format!("did you mean `{known}`?"),
            None => format!("declare it under `[collections.{text}]`"),
        };
        v.push(
            v.source
                .at(name.span(), format!("unknown collection `{text}`"))
                .with_hint(hint),
        );
        false
    }
}
