//! The manifest as written: serde types that mirror the TOML, with spans kept on every value
//! that is checked later. Nothing here judges values; validate.rs and routes.rs do.
//!
//! Each table is deserialized on its own (see validate.rs), so a mistake in one table does not
//! hide the mistakes in the others.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use toml::Spanned;
use toml::de::DeValue;

/// Top-level keys of a version 1 manifest.
pub(super) const TOP_LEVEL: &[&str] = &[
    "version",
    "server",
    "data",
    "limits",
    "collections",
    "components",
    "routes",
    "startup",
    "store",
];

/// `[startup]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStartup {
    pub when_empty: Option<Spanned<String>>,
    pub run: Option<Spanned<String>>,
}

/// `[server]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    pub listen: Option<Spanned<String>>,
    /// The site's public origin, for absolute links (see guards.rs).
    pub public_url: Option<Spanned<String>>,
}

/// `[data]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawData {
    pub dir: Option<Spanned<String>>,
}

/// `[limits]`, and a component's `limits`. Sizes and durations stay TOML values until checked,
/// so a bad one gets a diagnostic of its own instead of failing the whole table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimits {
    pub memory: Option<Spanned<toml::Value>>,
    pub timeout: Option<Spanned<toml::Value>>,
    pub max_body: Option<Spanned<toml::Value>>,
    pub max_response: Option<Spanned<toml::Value>>,
    pub concurrency: Option<Spanned<toml::Value>>,
    pub queue: Option<Spanned<toml::Value>>,
    pub queue_timeout: Option<Spanned<toml::Value>>,
    pub fuel: Option<Spanned<toml::Value>>,
    /// `[limits]` only, like the two after it: the whole server parses request heads before
    /// it knows the route.
    pub max_header_bytes: Option<Spanned<toml::Value>>,
    pub max_connections: Option<Spanned<toml::Value>>,
    pub header_timeout: Option<Spanned<toml::Value>>,
}

impl RawLimits {
    /// The server-wide fields that are set, with their names: a component cannot set them.
    pub fn server_only(&self) -> impl Iterator<Item = (&'static str, &Spanned<toml::Value>)> {
        [
            ("max_header_bytes", &self.max_header_bytes),
            ("max_connections", &self.max_connections),
            ("header_timeout", &self.header_timeout),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name, value.as_ref()?)))
    }
}

/// `[collections.NAME]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCollection {
    pub counter: Option<bool>,
    pub indexes: Option<Vec<Spanned<String>>>,
}

/// `[components.ID]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawComponent {
    pub path: Option<Spanned<String>>,
    pub build: Option<Spanned<String>>,
    pub build_dir: Option<Spanned<String>>,
    pub limits: Option<Spanned<RawLimits>>,
    /// `wasi:http` components only: origins outbound requests may go to.
    pub allowed_outbound_hosts: Option<Vec<Spanned<String>>>,
    /// `wasi:http` components only: the environment variables the guest sees.
    pub env: Option<Spanned<BTreeMap<Spanned<String>, Spanned<String>>>>,
}

/// One `[[routes]]` entry. Required fields are optional here so that their absence gets a
/// diagnostic with a hint rather than serde's "missing field".
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoute {
    pub route: Option<Spanned<String>>,
    pub component: Option<Spanned<String>>,
    pub pipeline: Option<Spanned<Vec<Spanned<String>>>>,
    pub reads: Option<Vec<Spanned<RawRead>>>,
    pub may_read: Option<Vec<Spanned<String>>>,
    pub may_write: Option<Vec<Spanned<String>>>,
    pub max_body: Option<Spanned<toml::Value>>,
    pub internal: Option<bool>,
    pub memo: Option<bool>,
    /// `{ requests = N, per = "1m" }`: per client address (guards.rs).
    pub rate_limit: Option<Spanned<RawRateLimit>>,
    /// `{ bearer_env = "NAME" }`: a token the host checks before the call (guards.rs).
    pub auth: Option<Spanned<RawAuth>>,
}

/// A route's `rate_limit`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRateLimit {
    pub requests: Option<Spanned<i64>>,
    pub per: Option<Spanned<toml::Value>>,
}

/// A route's `auth`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAuth {
    pub bearer_env: Option<Spanned<String>>,
}

/// One entry of a route's `reads`: the union of every op's fields; routes.rs checks which ones
/// the op takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRead {
    pub name: Option<Spanned<String>>,
    pub op: Option<Spanned<String>>,
    pub collection: Option<Spanned<String>>,
    pub key: Option<Spanned<String>>,
    pub index: Option<Spanned<String>>,
    pub direction: Option<Spanned<String>>,
    pub prefix: Option<Spanned<String>>,
    pub cursor: Option<Spanned<String>>,
    pub limit: Option<Spanned<String>>,
    pub default_limit: Option<Spanned<i64>>,
    pub max_limit: Option<Spanned<i64>>,
}

impl RawRead {
    /// The op-specific fields present, with their spans, in declaration order.
    pub(super) fn op_fields(&self) -> Vec<(&'static str, std::ops::Range<usize>)> {
        let strings = [
            ("collection", &self.collection),
            ("key", &self.key),
            ("index", &self.index),
            ("direction", &self.direction),
            ("prefix", &self.prefix),
            ("cursor", &self.cursor),
            ("limit", &self.limit),
        ];
        let numbers = [
            ("default_limit", &self.default_limit),
            ("max_limit", &self.max_limit),
        ];
        let strings = strings
            .into_iter()
            .filter_map(|(n, v)| v.as_ref().map(|v| (n, v.span())));
        let numbers = numbers
            .into_iter()
            .filter_map(|(n, v)| v.as_ref().map(|v| (n, v.span())));
        strings.chain(numbers).collect()
    }
}

/// Deserializes one table (or any value) of the document.
pub(super) fn from_value<'de, T: Deserialize<'de>>(
    value: Spanned<DeValue<'de>>,
) -> Result<T, toml::de::Error> {
    T::deserialize(toml::de::ValueDeserializer::from(value))
}

/// The field names serde expects for `T`, so unknown keys are all reported (serde stops at the
/// first) and each gets a "did you mean". Asks `T`'s derived `Deserialize` for its field list
/// instead of keeping a second copy that could drift.
pub(super) fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(FieldProbe {
        fields: &mut fields,
    });
    fields
}

/// A deserializer that only records the field list a derived struct asks for.
struct FieldProbe<'a> {
    fields: &'a mut &'static [&'static str],
}

impl<'de> Deserializer<'de> for FieldProbe<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.fields = fields;
        Err(de::Error::custom("fields recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_the_fields_of_each_table() {
        assert_eq!(fields_of::<RawServer>(), ["listen", "public_url"]);
        assert_eq!(
            fields_of::<RawLimits>(),
            [
                "memory",
                "timeout",
                "max_body",
                "max_response",
                "concurrency",
                "queue",
                "queue_timeout",
                "fuel",
                "max_header_bytes",
                "max_connections",
                "header_timeout"
            ]
        );
        assert!(fields_of::<RawRoute>().contains(&"may_write"));
        assert_eq!(fields_of::<RawRead>().len(), 11);
    }
}
