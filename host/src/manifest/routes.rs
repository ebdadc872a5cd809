//! Raw -> validated for `[[routes]]`: the route line (`METHOD /path`, parsed by the router's own
//! `PathTemplate`), the handler, the grants, and routes that clash with earlier ones. Each
//! route's `reads` are reads.rs.

use std::collections::BTreeSet;
use std::ops::Range;

use toml::Spanned;
use toml::de::DeValue;

use super::RouteDecl;
use super::declared::{Declared, RouteCx};
use super::diagnostic::did_you_mean;
use super::limits::ByteSize;
use super::raw::{RawAuth, RawRateLimit, RawRead, RawRoute, fields_of};
use super::validator::Validator;
use crate::router::{MethodMatch, PathTemplate};

pub(super) fn routes(
    v: &mut Validator<'_>,
    value: Spanned<DeValue<'_>>,
    declared: &Declared<'_>,
) -> Vec<RouteDecl> {
    let span = value.span();
    let DeValue::Array(items) = value.into_inner() else {
        v.push(
            v.source
                .at(span, "`routes` must be an array of tables")
                .with_hint("write `[[routes]]` above each route"),
        );
        return Vec::new();
    };
    let mut routes = Vec::new();
    let mut spans = Vec::new();
    for item in items {
        let table_span = item.span();
        let nested: &[(&str, &[&str])] = &[
            ("reads", fields_of::<RawRead>()),
            ("rate_limit", fields_of::<RawRateLimit>()),
            ("auth", fields_of::<RawAuth>()),
        ];
        let Some(raw) = v.typed::<RawRoute>(item, "a route", "[[routes]]", nested) else {
            continue;
        };
        let span = raw.route.as_ref().map_or(table_span.clone(), Spanned::span);
        if let Some(route) = route(v, raw, table_span, declared) {
            routes.push(route);
            spans.push(span);
        }
    }
    clashes(v, &routes, &spans);
    routes
}

fn route(
    v: &mut Validator<'_>,
    raw: RawRoute,
    table_span: Range<usize>,
    declared: &Declared<'_>,
) -> Option<RouteDecl> {
    let before = v.problems();
    let endpoint = match &raw.route {
        Some(route) => method_and_path(v, route),
        None => {
            v.push(
                v.source
                    .at(table_span.clone(), "route has no `route`")
                    .with_hint("add e.g. `route = \"GET /hello\"`"),
            );
            None
        }
    };
    let cx = RouteCx {
        route: raw.route.as_ref().map_or("", |r| r.get_ref().as_str()),
        captures: endpoint
            .as_ref()
            .map(|(_, path)| path.params().map(str::to_owned).collect()),
        declared,
    };
    let location_span = raw.route.as_ref().map_or(table_span, Spanned::span);
    let steps = handler(v, &raw, location_span.clone(), &cx);
    let reads = super::reads::reads(v, raw.reads.unwrap_or_default(), &cx);
    let mut may_read = grants(v, raw.may_read.unwrap_or_default(), declared);
    may_read.extend(
        reads
            .iter()
            .filter_map(|r| super::reads::collection(&r.op).map(str::to_owned)),
    );
    let may_write = grants(v, raw.may_write.unwrap_or_default(), declared);
    let max_body = match &raw.max_body {
        Some(value) => v.convert::<ByteSize>(value).map_or(0, |size| size.0),
        // Each step's component may lower the body limit; the route honours the strictest.
        None => steps
            .iter()
            .filter_map(|id| declared.components.get(id))
            .map(|c| c.limits.max_body)
            .min()
            .unwrap_or(declared.limits.max_body),
    };
    let rate_limit = raw
        .rate_limit
        .as_ref()
        .and_then(|r| super::guards::rate_limit(v, r));
    let auth = raw.auth.as_ref().and_then(|a| super::guards::auth(v, a));
    if v.problems() > before {
        return None;
    }
    let (method, path) = endpoint?;
    Some(RouteDecl {
        method,
        path,
        steps,
        reads,
        may_read,
        may_write,
        max_body,
        location: v.source.location(location_span.start),
        internal: raw.internal.unwrap_or(false),
        memo: raw.memo.unwrap_or(true),
        rate_limit,
        auth,
    })
}

/// `"GET /memes/{id}"` -> method and path template.
fn method_and_path(
    v: &mut Validator<'_>,
    route: &Spanned<String>,
) -> Option<(MethodMatch, PathTemplate)> {
    let text = route.get_ref();
    // (offset in `text`, word): sub-spans let the carets point at the method or the path.
    let words: Vec<(usize, &str)> = text
        .split_ascii_whitespace()
        .map(|w| (w.as_ptr() as usize - text.as_ptr() as usize, w))
        .collect();
    let span_of =
        |(at, word): (usize, &str)| v.source.inner_span(route.span(), text, at..at + word.len());
    let [method, path] = words[..] else {
        let diagnostic = match words[..] {
            [] => v
                .source
                .at(route.span(), "route is empty")
                .with_hint("write a method and a path, e.g. `GET /hello`"),
            [(_, only)] if only.starts_with('/') => v
                .source
                .at(route.span(), format!("route `{text}` has no method"))
                .with_hint(format!(
                    "write `GET {only}`, or `* {only}` to take every method"
                )),
            [(_, only)] => v
                .source
                .at(route.span(), format!("route `{text}` has no path"))
                .with_hint(format!(
                    "write a method and a path, e.g. `{} /hello`",
                    only.to_uppercase()
                )),
            _ => v
                .source
                .at(
                    span_of(words[2]),
                    format!("route `{text}` has text after its path"),
                )
                .with_hint(
                    "a route is a method and a path; paths cannot contain spaces (write `%20`)",
                ),
        };
        v.push(diagnostic);
        return None;
    };
    let (method_span, path_span) = (span_of(method), span_of(path));
    let method_match = http_method(v, method, path.1, method_span);
    let template = match PathTemplate::parse(path.1) {
        Ok(template) => Some(template),
        Err(message) => {
            let mut diagnostic = v.source.at(path_span, message);
            if !path.1.starts_with('/') {
                diagnostic.hint = Some(format!("write `{} /{}`", method.1, path.1));
            }
            v.push(diagnostic);
            None
        }
    };
    method_match.zip(template)
}

/// `*` or an upper-case HTTP method token (RFC 9110 §9.1: methods are case-sensitive tokens).
fn http_method(
    v: &mut Validator<'_>,
    (_, method): (usize, &str),
    path: &str,
    span: Range<usize>,
) -> Option<MethodMatch> {
    if method == "*" {
        return Some(MethodMatch::Any);
    }
    // RFC 9110 §5.6.2 tchar.
    let token = method
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c));
    if token && !method.chars().any(|c| c.is_ascii_lowercase()) {
        return Some(MethodMatch::One(method.to_owned()));
    }
    let diagnostic = if token {
        let upper = method.to_ascii_uppercase();
        v.source
            .at(span, format!("method `{method}` must be upper case"))
            .with_hint(format!("write `{upper} {path}`"))
    } else {
        v.source
            .at(span, format!("invalid method `{method}`"))
            .with_hint("use an HTTP method such as `GET` or `POST`, or `*` for every method")
    };
    v.push(diagnostic);
    None
}

/// The component ids the route runs: `component` or `pipeline`, exactly one.
fn handler(
    v: &mut Validator<'_>,
    raw: &RawRoute,
    location: Range<usize>,
    cx: &RouteCx<'_>,
) -> Vec<String> {
    let ids: Vec<&Spanned<String>> = match (&raw.component, &raw.pipeline) {
        (Some(component), None) => vec![component],
        (None, Some(pipeline)) if pipeline.get_ref().is_empty() => {
            v.push(
                v.source
                    .at(pipeline.span(), "`pipeline` is empty")
                    .with_hint("list the components to run in order, e.g. `pipeline = [\"parse\", \"render\"]`"),
            );
            return Vec::new();
        }
        (None, Some(pipeline)) => pipeline.get_ref().iter().collect(),
        (Some(_), Some(pipeline)) => {
            v.push(
                v.source
                    .at(pipeline.span(), "route has both `component` and `pipeline`")
                    .with_hint("keep `component` for one step, or list every step in `pipeline`"),
            );
            return Vec::new();
        }
        (None, None) => {
            let example = cx
                .declared
                .component_names
                .first()
                .map_or("ID", String::as_str);
            let route = if cx.route.is_empty() {
                "route".to_owned()
            } else {
                format!("route `{}`", cx.route)
            };
            v.push(
                v.source
                    .at(location, format!("{route} has no handler"))
                    .with_hint(format!(
                        "add `component = \"{example}\"`, or `pipeline = [...]` for several steps"
                    )),
            );
            return Vec::new();
        }
    };
    for id in &ids {
        let name = id.get_ref();
        if !cx.declared.component_names.contains(name) {
            let hint =
                match did_you_mean(name, cx.declared.component_names.iter().map(String::as_str)) {
                    Some(known) => format!("did you mean `{known}`?"),
                    None => format!("declare it under `[components.{name}]`"),
                };
            v.push(
                v.source
                    .at(id.span(), format!("unknown component `{name}`"))
                    .with_hint(hint),
            );
        }
    }
    ids.into_iter().map(|id| id.get_ref().clone()).collect()
}

/// `may_read` / `may_write`: declared collections only.
fn grants(
    v: &mut Validator<'_>,
    names: Vec<Spanned<String>>,
    declared: &Declared<'_>,
) -> BTreeSet<String> {
    names
        .into_iter()
        .filter(|name| declared.known_collection(v, name))
        .map(Spanned::into_inner)
        .collect()
}

/// Routes that match the same requests as an earlier one: exact duplicates, and routes an
/// earlier route always answers first (the router tries equally specific routes in manifest
/// order, and `GET` routes also answer `HEAD`).
fn clashes(v: &mut Validator<'_>, routes: &[RouteDecl], spans: &[Range<usize>]) {
    for (i, later) in routes.iter().enumerate() {
        let clash = routes[..i]
            .iter()
            .filter(|earlier| shape(&earlier.path) == shape(&later.path))
            .find_map(|earlier| clash(earlier, later));
        if let Some((message, hint)) = clash {
            v.push(v.source.at(spans[i].clone(), message).with_hint(hint));
        }
    }
}

/// The message and hint when `later` never gets a request because of `earlier` (same shape).
fn clash(earlier: &RouteDecl, later: &RouteDecl) -> Option<(String, String)> {
    let line = earlier.location.line;
    let (message, hint) = if earlier.method == later.method && earlier.path == later.path {
        (
            format!(
                "duplicate route `{}`, already declared on line {line}",
                describe(later)
            ),
            "remove one of them, or change its method or path".to_owned(),
        )
    } else if earlier.method == later.method {
        (
            format!(
                "route `{}` matches the same requests as `{}` on line {line}",
                describe(later),
                describe(earlier)
            ),
            "remove one of them, or change its method or path".to_owned(),
        )
    } else if let Some(why) = shadows(&earlier.method, &later.method) {
        (
            format!(
                "route `{}` is never reached: `{}` on line {line} {why}",
                describe(later),
                describe(earlier)
            ),
            format!("move it above line {line}, or remove it"),
        )
    } else {
        return None;
    };
    Some((message, hint))
}

/// Why a route with `earlier`'s method takes every request `later`'s would, if it does.
fn shadows(earlier: &MethodMatch, later: &MethodMatch) -> Option<&'static str> {
    match (earlier, later) {
        (MethodMatch::Any, _) => Some("takes every method first"),
        (MethodMatch::One(e), MethodMatch::One(l)) if e == "GET" && l == "HEAD" => {
            Some("also answers `HEAD`")
        }
        _ => None,
    }
}

/// The path with capture names erased: `/memes/{id}` and `/memes/{name}` match the same requests.
fn shape(path: &PathTemplate) -> String {
    fn erase(segment: &str) -> &str {
        match segment {
            s if s.starts_with("{*") => "{*}",
            s if s.starts_with('{') => "{}",
            s => s,
        }
    }
    path.as_str()
        .split('/')
        .map(erase)
        .collect::<Vec<_>>()
        .join("/")
}

fn describe(route: &RouteDecl) -> String {
    match &route.method {
        MethodMatch::Any => format!("* {}", route.path),
        MethodMatch::One(method) => format!("{method} {}", route.path),
    }
}
