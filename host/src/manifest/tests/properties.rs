//! Property tests: whatever the text, parsing a manifest never panics and every diagnostic points
//! inside the file; a manifest built only from valid parts is accepted whole; an accepted manifest
//! only refers to what it declares.
//!
//! Text comes three ways: arbitrary strings, lines of TOML-ish fragments (what an author might type,
//! right or wrong), and structured manifests rendered to TOML from random valid and invalid parts.

use proptest::prelude::*;

use super::parse;
use crate::router::Router;

/// Collection, component and index names, valid and not.
const NAMES: &[&str] = &[
    "memes", "votes", "api", "a-b_1", "", "bad name", "é", "x.y", "9",
];
const METHODS: &[&str] = &["GET", "POST", "*", "get", "", "BREW", "DELETE"];
const SEGMENTS: &[&str] = &[
    "memes", "{id}", "{*rest}", "{}", "{1x}", "a{b}", "", "%20", "{id}", "new", "{name}",
];
const SIZES: &[&str] = &[
    "\"16 MiB\"",
    "\"1MiB\"",
    "1024",
    "0",
    "-1",
    "\"12 parsecs\"",
    "\"99999999999 GiB\"",
    "\"\"",
    "1.5",
];
const DURATIONS: &[&str] = &[
    "\"250ms\"",
    "\"5s\"",
    "\"2m\"",
    "\"0s\"",
    "\"soon\"",
    "5",
    "\"1h\"",
];
const TEMPLATES: &[&str] = &[
    "{id}",
    "{query.cursor}",
    "{query.}",
    "{}",
    "x-{id}-{query.q}",
    "{nope}",
    "{",
    "plain",
];
const OPS: &[&str] = &["get", "counter", "count", "list", "now", "scan", ""];

/// A TOML string literal holding `s`.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

fn pick(options: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
    proptest::sample::select(options)
}

fn name() -> impl Strategy<Value = &'static str> {
    pick(NAMES)
}

fn names() -> impl Strategy<Value = Vec<&'static str>> {
    proptest::collection::vec(name(), 0..3)
}

fn path() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(pick(SEGMENTS), 0..4),
        any::<bool>(),
    )
        .prop_map(|(segments, slash)| {
            let path = segments.join("/");
            if slash { format!("/{path}") } else { path }
        })
}

fn read() -> impl Strategy<Value = String> {
    (
        name(),
        pick(OPS),
        name(),
        pick(TEMPLATES),
        proptest::option::of(pick(TEMPLATES)),
        proptest::option::of(-5i64..200),
    )
        .prop_map(|(name, op, collection, key, cursor, limit)| {
            let mut fields = vec![
                format!("name = {}", quoted(name)),
                format!("op = {}", quoted(op)),
            ];
            if op != "now" {
                fields.push(format!("collection = {}", quoted(collection)));
            }
            if matches!(op, "get" | "counter") {
                fields.push(format!("key = {}", quoted(key)));
            }
            if let Some(cursor) = cursor {
                fields.push(format!("cursor = {}", quoted(cursor)));
            }
            if let Some(limit) = limit {
                fields.push(format!("max_limit = {limit}"));
            }
            format!("{{ {} }}", fields.join(", "))
        })
}

fn route() -> impl Strategy<Value = String> {
    (
        pick(METHODS),
        path(),
        names(),
        proptest::collection::vec(read(), 0..3),
        names(),
        names(),
        proptest::option::of(pick(SIZES)),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(
            |(method, path, steps, reads, may_read, may_write, max_body, memo)| {
                let list = |items: &[&str]| {
                    items
                        .iter()
                        .map(|s| quoted(s))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let mut out = format!(
                    "\n[[routes]]\nroute = {}\n",
                    quoted(&format!("{method} {path}"))
                );
                match steps.as_slice() {
                    [] => {}
                    [one] => out.push_str(&format!("component = {}\n", quoted(one))),
                    many => out.push_str(&format!("pipeline = [{}]\n", list(many))),
                }
                if !reads.is_empty() {
                    out.push_str(&format!("reads = [{}]\n", reads.join(", ")));
                }
                out.push_str(&format!("may_read = [{}]\n", list(&may_read)));
                out.push_str(&format!("may_write = [{}]\n", list(&may_write)));
                if let Some(size) = max_body {
                    out.push_str(&format!("max_body = {size}\n"));
                }
                if let Some(memo) = memo {
                    out.push_str(&format!("memo = {memo}\n"));
                }
                out
            },
        )
}

fn limits() -> impl Strategy<Value = String> {
    (
        proptest::option::of(pick(SIZES)),
        proptest::option::of(pick(DURATIONS)),
        proptest::option::of(pick(SIZES)),
    )
        .prop_map(|(memory, timeout, max_body)| {
            let mut fields = Vec::new();
            if let Some(m) = memory {
                fields.push(format!("memory = {m}"));
            }
            if let Some(t) = timeout {
                fields.push(format!("timeout = {t}"));
            }
            if let Some(b) = max_body {
                fields.push(format!("max_body = {b}"));
            }
            fields.join(", ")
        })
}

/// A manifest from random parts, some valid, some not.
fn structured() -> impl Strategy<Value = String> {
    (
        pick(&["version = 1", "version = 2", "version = \"1\"", ""]),
        proptest::option::of(limits()),
        proptest::collection::vec((name(), names(), any::<bool>()), 0..3),
        proptest::collection::vec((name(), proptest::option::of(limits())), 0..3),
        proptest::collection::vec(route(), 0..4),
    )
        .prop_map(
            |(version, manifest_limits, collections, components, routes)| {
                let mut out = format!("{version}\n");
                if let Some(limits) = manifest_limits {
                    out.push_str(&format!("\n[limits]\n{}\n", limits.replace(", ", "\n")));
                }
                for (name, indexes, counter) in collections {
                    let indexes: Vec<String> = indexes.iter().map(|i| quoted(i)).collect();
                    out.push_str(&format!(
                        "\n[collections.{}]\nindexes = [{}]\ncounter = {counter}\n",
                        quoted(name),
                        indexes.join(", ")
                    ));
                }
                for (id, limits) in components {
                    out.push_str(&format!(
                        "\n[components.{}]\npath = \"c.wasm\"\n",
                        quoted(id)
                    ));
                    if let Some(limits) = limits {
                        out.push_str(&format!("limits = {{ {limits} }}\n"));
                    }
                }
                for route in routes {
                    out.push_str(&route);
                }
                out
            },
        )
}

/// A manifest made only of valid parts: one component, distinct routes, declared collections.
fn valid() -> impl Strategy<Value = (String, usize)> {
    let route = (
        pick(&["GET", "POST", "PUT", "DELETE"]),
        proptest::collection::vec(pick(&["memes", "tags", "{id}", "new"]), 0..3),
        pick(&["get", "count", "list", "now"]),
        any::<bool>(),
    );
    (
        proptest::collection::vec(route, 0..6),
        pick(&["\"16 MiB\"", "1048576"]),
        pick(&["\"250ms\"", "\"5s\""]),
    )
        .prop_map(|(routes, memory, timeout)| {
            let mut out = format!(
                "version = 1\n[limits]\nmemory = {memory}\ntimeout = {timeout}\n\
                 [collections.memes]\nindexes = [\"new\"]\n\
                 [components.api]\npath = \"api.wasm\"\n"
            );
            let mut seen = std::collections::BTreeSet::new();
            for (i, (method, segments, op, write)) in routes.into_iter().enumerate() {
                // A unique literal first segment keeps routes from clashing; captures get unique
                // names within the path.
                let segments: Vec<String> = segments
                    .iter()
                    .enumerate()
                    .map(|(j, s)| if *s == "{id}" { format!("{{id{j}}}") } else { (*s).to_owned() })
                    .collect();
                let path = format!("/r{i}/{}", segments.join("/"));
                if !seen.insert(path.clone()) {
                    continue;
                }
                let read = match op {
                    "get" => "{ name = \"r\", op = \"get\", collection = \"memes\", key = \"k\" }",
                    "count" => "{ name = \"r\", op = \"count\", collection = \"memes\" }",
                    "list" => "{ name = \"r\", op = \"list\", collection = \"memes\", index = \"new\", cursor = \"{query.cursor}\" }",
                    _ => "{ name = \"r\", op = \"now\" }",
                };
                let may_write = if write { "[\"memes\"]" } else { "[]" };
                out.push_str(&format!(
                    "[[routes]]\nroute = \"{method} {path}\"\ncomponent = \"api\"\nreads = [{read}]\nmay_write = {may_write}\n"
                ));
            }
            (out, seen.len())
        })
}

/// Lines an author might type, right or wrong, for the free-form text strategy.
const FRAGMENTS: &[&str] = &[
    "version = 1",
    "[components.api]",
    "path = \"api.wasm\"",
    "[[routes]]",
    "route = \"GET /memes/{id}\"",
    "component = \"api\"",
    "pipeline = [\"a\", \"b\"]",
    "reads = [{ name = \"m\", op = \"get\", collection = \"memes\", key = \"{id}\" }]",
    "[collections.memes]",
    "indexes = [\"new\"]",
    "counter = true",
    "[limits]",
    "memory = \"16 MiB\"",
    "timeout = \"1s\"",
    "rout = \"GET /\"",
    "[startup]",
    "when_empty = \"memes\"",
    "run = \"seed\"",
    "= 1",
    "[",
    "[[",
    "\"",
    "{",
    "x = [1, \"a\"]",
    "\t# comment é",
    "\r",
];

fn toml_ish() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            4 => pick(FRAGMENTS).prop_map(str::to_owned),
            1 => any::<String>(),
        ],
        0..20,
    )
    .prop_map(|lines| lines.join("\n"))
}

/// Parses `text` and checks what must hold whatever it is.
fn parse_and_check(text: &str) -> Result<(), TestCaseError> {
    match parse(text) {
        Ok(manifest) => {
            for route in &manifest.routes {
                for step in &route.steps {
                    prop_assert!(manifest.components.contains_key(step), "{step} undeclared");
                }
                for collection in route.may_read.iter().chain(&route.may_write) {
                    prop_assert!(manifest.collections.contains_key(collection));
                }
            }
            // The router takes every accepted manifest, and any path.
            let router = Router::new(
                manifest
                    .routes
                    .iter()
                    .map(|r| (r.method.clone(), r.path.clone())),
            );
            for path in ["/", "/memes/1", "//", "/%zz/%ff", "/r0/new/x"] {
                let _ = router.route("GET", path);
            }
        }
        Err(err) => {
            prop_assert!(!err.diagnostics.is_empty());
            let lines = text.split('\n').count();
            for diagnostic in &err.diagnostics {
                prop_assert!(!diagnostic.message.is_empty());
                if let Some(location) = &diagnostic.location {
                    prop_assert!(location.line >= 1 && location.line <= lines, "{location}");
                    prop_assert!(location.col >= 1, "{location}");
                }
            }
            let rendered = err.to_string();
            prop_assert!(rendered.starts_with("error: "), "{rendered}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        parse_and_check(&text)?;
    }

    #[test]
    fn toml_ish_lines_never_panic(text in toml_ish()) {
        parse_and_check(&text)?;
    }

    #[test]
    fn structured_manifests_never_panic(text in structured()) {
        parse_and_check(&text)?;
    }

    #[test]
    fn a_manifest_of_valid_parts_is_accepted_whole((text, routes) in valid()) {
        match parse(&text) {
            Ok(manifest) => prop_assert_eq!(manifest.routes.len(), routes),
            Err(err) => prop_assert!(false, "rejected:\n{err}\n--- manifest\n{text}"),
        }
    }
}
