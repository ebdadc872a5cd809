//! Raw -> validated for a route's `reads` (WIT `read-op`, docs/manifest.md "Reads"): the fields
//! each op takes, the collections and indexes they name, and the route captures their templates
//! use.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use super::declared::RouteCx;
use super::diagnostic::{did_you_mean, quoted_list};
use super::raw::RawRead;
use super::validator::Validator;
use super::{Collection, ReadDecl, ReadDeclOp, Template};

/// Read ops (WIT `read-op`) with the fields each takes and the ones it requires.
const OPS: &[(&str, &[&str], &[&str])] = &[
    ("get", &["collection", "key"], &["collection", "key"]),
    ("counter", &["collection", "key"], &["collection", "key"]),
    ("count", &["collection"], &["collection"]),
    (
        "list",
        &[
            "collection",
            "index",
            "direction",
            "prefix",
            "cursor",
            "limit",
            "default_limit",
            "max_limit",
        ],
        &["collection"],
    ),
    ("now", &[], &[]),
    ("random", &[], &[]),
];

const DEFAULT_LIMIT: u32 = 20;
const MAX_LIMIT: u32 = 100;

pub(super) fn collection(op: &ReadDeclOp) -> Option<&str> {
    match op {
        ReadDeclOp::Get { collection, .. }
        | ReadDeclOp::Counter { collection, .. }
        | ReadDeclOp::Count { collection }
        | ReadDeclOp::List { collection, .. } => Some(collection),
        ReadDeclOp::Now | ReadDeclOp::Random => None,
    }
}

pub(super) fn reads(
    v: &mut Validator<'_>,
    raw: Vec<Spanned<RawRead>>,
    cx: &RouteCx<'_>,
) -> Vec<ReadDecl> {
    let mut reads = Vec::new();
    // Read name -> line, to name the first of two reads with the same name.
    let mut seen = BTreeMap::new();
    for read in raw {
        let span = read.span();
        let read = read.into_inner();
        let name = read_name(v, &read, span.clone(), &mut seen);
        let op = read_op(v, &read, span, name.as_deref(), cx);
        if let (Some(name), Some(op)) = (name, op) {
            reads.push(ReadDecl { name, op });
        }
    }
    reads
}

fn read_name(
    v: &mut Validator<'_>,
    read: &RawRead,
    span: Range<usize>,
    seen: &mut BTreeMap<String, usize>,
) -> Option<String> {
    let Some(name) = &read.name else {
        v.push(
            v.source
                .at(span, "read has no `name`")
                .with_hint("add e.g. `name = \"meme\"`; the handler finds the result by it"),
        );
        return None;
    };
    let text = name.get_ref();
    if !v.name(name.span(), text, "read") {
        return None;
    }
    let line = v.source.location(name.span().start).line;
    if let Some(first) = seen.insert(text.clone(), line) {
        v.push(
            v.source
                .at(
                    name.span(),
                    format!("read `{text}` is declared twice in this route"),
                )
                .with_hint(format!(
                    "the first is on line {first}; give each read its own name"
                )),
        );
    }
    Some(text.clone())
}

fn read_op(
    v: &mut Validator<'_>,
    read: &RawRead,
    span: Range<usize>,
    name: Option<&str>,
    cx: &RouteCx<'_>,
) -> Option<ReadDeclOp> {
    let before = v.problems();
    let label = name.map_or("read".to_owned(), |name| format!("read `{name}`"));
    let Some(op) = &read.op else {
        let ops = quoted_list(OPS.iter().map(|(op, ..)| op));
        v.push(
            v.source
                .at(span, format!("{label} has no `op`"))
                .with_hint(format!("add `op = \"...\"`, one of {ops}")),
        );
        return None;
    };
    let op_name = op.get_ref().as_str();
    let Some(&(_, takes, requires)) = OPS.iter().find(|(known, ..)| *known == op_name) else {
        let hint = match did_you_mean(op_name, OPS.iter().map(|(op, ..)| *op)) {
            Some(known) => format!("did you mean `{known}`?"),
            None => format!("use one of {}", quoted_list(OPS.iter().map(|(op, ..)| op))),
        };
        v.push(
            v.source
                .at(op.span(), format!("unknown read op `{op_name}`"))
                .with_hint(hint),
        );
        return None;
    };
    let present = read.op_fields();
    for (field, field_span) in &present {
        if !takes.contains(field) {
            let takes = if takes.is_empty() {
                "nothing else".to_owned()
            } else {
                and_list(takes)
            };
            v.push(
                v.source
                    .at(
                        field_span.clone(),
                        format!("`{field}` does not apply to a `{op_name}` read"),
                    )
                    .with_hint(format!(
                        "a `{op_name}` read takes {takes}; remove `{field}`"
                    )),
            );
        }
    }
    for field in requires {
        if !present.iter().any(|(f, _)| f == field) {
            let example = match *field {
                "key" => format!(
                    "key = \"{{{}}}\"",
                    cx.captures
                        .iter()
                        .flatten()
                        .next()
                        .map_or("id", String::as_str)
                ),
                _ => format!("{field} = \"...\""),
            };
            v.push(
                v.source
                    .at(span.clone(), format!("`{op_name}` {label} needs `{field}`"))
                    .with_hint(format!("add `{example}`")),
            );
        }
    }
    // Fields the op does not take are reported above and not checked further.
    let collection = read
        .collection
        .as_ref()
        .filter(|_| takes.contains(&"collection"))
        .filter(|c| cx.declared.known_collection(v, c));
    let declared = collection.and_then(|c| cx.declared.collections.get(c.get_ref()));
    let key = read
        .key
        .as_ref()
        .filter(|_| takes.contains(&"key"))
        .and_then(|k| template(v, k, cx));
    if let Some(declared) = declared {
        let name = collection.map_or("", |c| c.get_ref().as_str());
        if op_name == "get" && declared.counter {
            v.push(
                v.source
                    .at(
                        op.span(),
                        format!("collection `{name}` holds counters, which `get` cannot read"),
                    )
                    .with_hint("use `op = \"counter\"`"),
            );
        } else if op_name == "counter" && !declared.counter {
            v.push(
                v.source
                    .at(
                        op.span(),
                        format!("collection `{name}` does not hold counters"),
                    )
                    .with_hint(format!(
                        "use `op = \"get\"`, or set `counter = true` under `[collections.{name}]`"
                    )),
            );
        }
    }
    let collection = collection.map(|c| c.get_ref().clone()).unwrap_or_default();
    let list = (op_name == "list")
        .then(|| list(v, read, &collection, declared, cx))
        .flatten();
    if v.problems() > before {
        return None;
    }
    Some(match op_name {
        "get" => ReadDeclOp::Get {
            collection,
            key: key?,
        },
        "counter" => ReadDeclOp::Counter {
            collection,
            key: key?,
        },
        "count" => ReadDeclOp::Count { collection },
        "list" => list?,
        "random" => ReadDeclOp::Random,
        _ => ReadDeclOp::Now,
    })
}

/// A `list` read of `collection`, whose declaration is `declared` if it is valid.
fn list(
    v: &mut Validator<'_>,
    read: &RawRead,
    collection: &str,
    declared: Option<&Collection>,
    cx: &RouteCx<'_>,
) -> Option<ReadDeclOp> {
    let before = v.problems();
    let index = match &read.index {
        None => String::new(),
        Some(index) if index.get_ref().is_empty() => {
            v.push(
                v.source
                    .at(index.span(), "`index` is empty")
                    .with_hint("remove `index` to walk the primary keys"),
            );
            String::new()
        }
        Some(index) => {
            let name = index.get_ref();
            if let Some(declared) = declared
                && !declared.indexes.contains(name)
            {
                let hint = match did_you_mean(name, declared.indexes.iter().map(String::as_str)) {
                    Some(known) => format!("did you mean `{known}`?"),
                    None if declared.indexes.is_empty() => {
                        format!(
                            "declare it with `indexes = [\"{name}\"]` under `[collections.{collection}]`"
                        )
                    }
                    None => format!(
                        "its indexes are {}; declare more under `[collections.{collection}]`",
                        quoted_list(&declared.indexes)
                    ),
                };
                v.push(
                    v.source
                        .at(
                            index.span(),
                            format!("collection `{collection}` has no index `{name}`"),
                        )
                        .with_hint(hint),
                );
            }
            name.clone()
        }
    };
    let descending = match read.direction.as_ref().map(|d| (d, d.get_ref().as_str())) {
        None | Some((_, "ascending")) => false,
        Some((_, "descending")) => true,
        Some((direction, text)) => {
            let hint = match did_you_mean(text, ["ascending", "descending"]) {
                Some(known) => format!("did you mean `{known}`?"),
                None => "use `ascending` or `descending`".to_owned(),
            };
            v.push(
                v.source
                    .at(direction.span(), format!("unknown direction `{text}`"))
                    .with_hint(hint),
            );
            false
        }
    };
    let prefix = read.prefix.as_ref().and_then(|p| template(v, p, cx));
    let cursor = read.cursor.as_ref().and_then(|c| template(v, c, cx));
    let limit = read.limit.as_ref().and_then(|l| template(v, l, cx));
    let max_limit = read
        .max_limit
        .as_ref()
        .and_then(|m| page_size(v, m, "max_limit"))
        .unwrap_or(MAX_LIMIT);
    let default_limit = match &read.default_limit {
        Some(given) => {
            let default_limit = page_size(v, given, "default_limit");
            if let Some(default_limit) = default_limit
                && default_limit > max_limit
            {
                let max = if read.max_limit.is_some() {
                    format!("{max_limit}")
                } else {
                    format!("{max_limit} by default")
                };
                v.push(
                    v.source
                        .at(
                            given.span(),
                            format!("`default_limit` {default_limit} is above `max_limit` ({max})"),
                        )
                        .with_hint(format!(
                            "lower `default_limit`, or set `max_limit = {default_limit}` or more"
                        )),
                );
            }
            default_limit.unwrap_or(DEFAULT_LIMIT)
        }
        // An explicit small `max_limit` lowers the default page rather than contradicting it.
        None => DEFAULT_LIMIT.min(max_limit),
    };
    (v.problems() == before).then_some(ReadDeclOp::List {
        collection: collection.to_owned(),
        index,
        descending,
        prefix,
        cursor,
        limit,
        default_limit,
        max_limit,
    })
}

fn page_size(v: &mut Validator<'_>, value: &Spanned<i64>, field: &str) -> Option<u32> {
    match u32::try_from(*value.get_ref()) {
        Ok(n) if n >= 1 => Some(n),
        _ => {
            v.push(
                v.source
                    .at(
                        value.span(),
                        format!("`{field}` must be between 1 and {}", u32::MAX),
                    )
                    .with_hint(format!(
                        "e.g. `{field} = {}`",
                        if field == "max_limit" {
                            MAX_LIMIT
                        } else {
                            DEFAULT_LIMIT
                        }
                    )),
            );
            None
        }
    }
}

/// Parses a `key`, `cursor` or `limit` template and checks its captures against the route's.
fn template(v: &mut Validator<'_>, value: &Spanned<String>, cx: &RouteCx<'_>) -> Option<Template> {
    let text = value.get_ref();
    let template = match Template::parse(text) {
        Ok(template) => template,
        Err(message) => {
            v.push(
                v.source
                    .at(value.span(), message)
                    .with_hint("placeholders are `{CAPTURE}` for a route capture and `{query.NAME}` for a query parameter"),
            );
            return None;
        }
    };
    let captures = cx.captures.as_deref()?;
    let mut ok = true;
    for param in template
        .params()
        .filter(|p| !captures.iter().any(|c| c == p))
    {
        let placeholder = format!("{{{param}}}");
        let at = text.find(&placeholder).unwrap_or(0);
        let span = v
            .source
            .inner_span(value.span(), text, at..at + placeholder.len());
        let hint = match did_you_mean(param, captures.iter().map(String::as_str)) {
            Some(known) => format!("did you mean `{{{known}}}`?"),
            None if captures.is_empty() => {
                format!(
                    "the route has no captures; for a query parameter write `{{query.{param}}}`"
                )
            }
            None => format!(
                "its captures are {}; for a query parameter write `{{query.{param}}}`",
                quoted_list(captures.iter().map(|c| format!("{{{c}}}")))
            ),
        };
        v.push(
            v.source
                .at(
                    span,
                    format!("`{placeholder}` is not a capture of route `{}`", cx.route),
                )
                .with_hint(hint),
        );
        ok = false;
    }
    ok.then_some(template)
}

/// Backticked, with "and" before the last: `` `collection` and `key` ``.
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [only] => format!("`{only}`"),
        [rest @ .., last] => format!("{} and `{last}`", quoted_list(rest)),
    }
}
