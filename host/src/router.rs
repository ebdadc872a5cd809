//! Request → route. Sync and free of I/O, so it is tested without a runtime.
//!
//! Templates are `/`-separated segments; a segment is literal text, a capture `{name}` (one whole
//! segment) or, last only, a tail capture `{*name}` that takes the rest of the path (possibly
//! empty). Literal segments win over captures, so `GET /memes/new` and `GET /memes/{id}` coexist.

use std::fmt;

/// A parsed route path such as `/memes/{id}/image`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathTemplate {
    source: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    Tail(String),
}

impl PathTemplate {
    /// Parses a template; the error says what is wrong in words a manifest author can act on.
    pub fn parse(source: &str) -> Result<Self, String> {
        let Some(rest) = source.strip_prefix('/') else {
            return Err(format!("path `{source}` must start with `/`"));
        };
        let mut segments = Vec::new();
        let parts: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').collect()
        };
        for (i, part) in parts.iter().enumerate() {
            let segment = if let Some(inner) =
                part.strip_prefix('{').and_then(|p| p.strip_suffix('}'))
            {
                if let Some(name) = inner.strip_prefix('*') {
                    if i + 1 != parts.len() {
                        return Err(format!(
                            "tail capture `{{*{name}}}` must be the last segment of `{source}`"
                        ));
                    }
                    Segment::Tail(check_param_name(name, source)?)
                } else {
                    Segment::Param(check_param_name(inner, source)?)
                }
            } else if part.contains(['{', '}']) {
                return Err(format!(
                    "segment `{part}` of `{source}` mixes text and a capture; a capture must be a whole segment like `{{id}}`"
                ));
            } else if part.is_empty() && i + 1 != parts.len() {
                return Err(format!("path `{source}` has an empty segment (`//`)"));
            } else {
                Segment::Literal((*part).to_owned())
            };
            segments.push(segment);
        }
        let template = PathTemplate {
            source: source.to_owned(),
            segments,
        };
        let mut seen = Vec::new();
        for name in template.params() {
            if seen.contains(&name) {
                return Err(format!("capture `{{{name}}}` appears twice in `{source}`"));
            }
            seen.push(name);
        }
        Ok(template)
    }

    /// The capture names, in order.
    pub fn params(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Param(n) | Segment::Tail(n) => Some(n.as_str()),
            Segment::Literal(_) => None,
        })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Matches a request path (without query) and returns the percent-decoded captures.
    fn matches(&self, path: &str) -> Option<Vec<(String, String)>> {
        let rest = path.strip_prefix('/')?;
        let mut parts = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').collect::<Vec<_>>()
        };
        // A trailing slash is its own (empty) segment; `/` has none.
        let mut params = Vec::new();
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Tail(name) => {
                    let tail = parts.get(i..).map(|p| p.join("/")).unwrap_or_default();
                    params.push((name.clone(), decode_capture(&tail)?));
                    parts.truncate(i);
                    return Some(params);
                }
                Segment::Literal(lit) => {
                    if parts.get(i)? != lit {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    let value = parts.get(i)?;
                    if value.is_empty() {
                        return None;
                    }
                    params.push((name.clone(), decode_capture(value)?));
                }
            }
        }
        (parts.len() == self.segments.len()).then_some(params)
    }

    /// How specific the template is: literals beat captures, captures beat tails.
    fn rank(&self) -> Vec<u8> {
        self.segments
            .iter()
            .map(|s| match s {
                Segment::Literal(_) => 0,
                Segment::Param(_) => 1,
                Segment::Tail(_) => 2,
            })
            .collect()
    }
}

impl fmt::Display for PathTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn check_param_name(name: &str, source: &str) -> Result<String, String> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(name.to_owned())
    } else {
        Err(format!(
            "capture name `{name}` in `{source}` must be letters, digits, `_` or `-`, not starting with a digit"
        ))
    }
}

/// A capture's value: percent-decoded, a malformed escape kept literally (as browsers and the
/// WHATWG URL standard do); `None`, so no match, when the bytes are not UTF-8.
fn decode_capture(raw: &str) -> Option<String> {
    nebula_urlencoded::decode_path_segment(raw).map(std::borrow::Cow::into_owned)
}

/// Which methods a route answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MethodMatch {
    /// `*`: every method.
    Any,
    /// One method, upper case. `GET` routes also answer `HEAD`.
    One(String),
}

impl MethodMatch {
    fn accepts(&self, method: &str) -> bool {
        match self {
            MethodMatch::Any => true,
            MethodMatch::One(m) => m == method || (m == "GET" && method == "HEAD"),
        }
    }
}

/// The outcome of routing one request.
#[derive(Debug, PartialEq, Eq)]
pub enum Routed {
    /// Route index (in manifest order) and its captures.
    Found {
        route: usize,
        params: Vec<(String, String)>,
    },
    /// Some route has this path, none this method; `allow` lists the methods that would work.
    MethodNotAllowed {
        allow: Vec<String>,
    },
    NotFound,
}

/// All routes of a manifest, ready to match.
#[derive(Debug, Default)]
pub struct Router {
    routes: Vec<(MethodMatch, PathTemplate)>,
    /// Route indexes sorted most specific first, so matching is a single pass.
    order: Vec<usize>,
}

impl Router {
    pub fn new(routes: impl IntoIterator<Item = (MethodMatch, PathTemplate)>) -> Self {
        let routes: Vec<_> = routes.into_iter().collect();
        let mut order: Vec<usize> = (0..routes.len()).collect();
        order.sort_by_key(|&i| routes[i].1.rank());
        Router { routes, order }
    }

    /// Finds the route for `method` and `path` (no query string).
    pub fn route(&self, method: &str, path: &str) -> Routed {
        let mut allow = Vec::new();
        for &i in &self.order {
            let (methods, template) = &self.routes[i];
            let Some(params) = template.matches(path) else {
                continue;
            };
            if methods.accepts(method) {
                return Routed::Found { route: i, params };
            }
            if let MethodMatch::One(m) = methods {
                if !allow.contains(m) {
                    allow.push(m.clone());
                }
                if m == "GET" && !allow.iter().any(|a| a == "HEAD") {
                    allow.push("HEAD".to_owned());
                }
            }
        }
        if allow.is_empty() {
            Routed::NotFound
        } else {
            Routed::MethodNotAllowed { allow }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[(&str, &str)]) -> Router {
        Router::new(routes.iter().map(|(m, p)| {
            let m = if *m == "*" {
                MethodMatch::Any
            } else {
                MethodMatch::One((*m).to_owned())
            };
            (m, PathTemplate::parse(p).unwrap())
        }))
    }

    fn found(route: usize, params: &[(&str, &str)]) -> Routed {
        Routed::Found {
            route,
            params: params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn captures_params_percent_decoded() {
        let r = router(&[("GET", "/hello/{name}")]);
        assert_eq!(
            r.route("GET", "/hello/Ada%20L"),
            found(0, &[("name", "Ada L")])
        );
    }

    #[test]
    fn literal_beats_capture_whatever_the_order() {
        let r = router(&[("GET", "/memes/{id}"), ("GET", "/memes/new")]);
        assert_eq!(r.route("GET", "/memes/new"), found(1, &[]));
        assert_eq!(r.route("GET", "/memes/42"), found(0, &[("id", "42")]));
    }

    #[test]
    fn tail_capture_takes_the_rest() {
        let r = router(&[("GET", "/assets/{*file}")]);
        assert_eq!(
            r.route("GET", "/assets/css/site.css"),
            found(0, &[("file", "css/site.css")])
        );
        assert_eq!(r.route("GET", "/assets/"), found(0, &[("file", "")]));
    }

    #[test]
    fn root_matches_only_root() {
        let r = router(&[("GET", "/")]);
        assert_eq!(r.route("GET", "/"), found(0, &[]));
        assert_eq!(r.route("GET", "/x"), Routed::NotFound);
    }

    #[test]
    fn wrong_method_is_405_with_allow() {
        let r = router(&[("GET", "/memes/{id}"), ("POST", "/memes/{id}/vote")]);
        assert_eq!(
            r.route("DELETE", "/memes/1"),
            Routed::MethodNotAllowed {
                allow: vec!["GET".into(), "HEAD".into()]
            }
        );
        assert_eq!(r.route("GET", "/nope"), Routed::NotFound);
    }

    #[test]
    fn head_is_answered_by_get_routes() {
        let r = router(&[("GET", "/")]);
        assert_eq!(r.route("HEAD", "/"), found(0, &[]));
    }

    #[test]
    fn any_method_matches_everything() {
        let r = router(&[("*", "/{*path}")]);
        assert_eq!(r.route("PATCH", "/a/b"), found(0, &[("path", "a/b")]));
    }

    #[test]
    fn empty_capture_does_not_match() {
        let r = router(&[("GET", "/memes/{id}")]);
        assert_eq!(r.route("GET", "/memes/"), Routed::NotFound);
    }

    #[test]
    fn rejects_bad_templates_with_reasons() {
        assert!(
            PathTemplate::parse("memes")
                .unwrap_err()
                .contains("must start with `/`")
        );
        assert!(
            PathTemplate::parse("/a{id}")
                .unwrap_err()
                .contains("whole segment")
        );
        assert!(
            PathTemplate::parse("/{*a}/b")
                .unwrap_err()
                .contains("last segment")
        );
        assert!(
            PathTemplate::parse("/{id}/{id}")
                .unwrap_err()
                .contains("twice")
        );
        assert!(
            PathTemplate::parse("/{1x}")
                .unwrap_err()
                .contains("capture name")
        );
    }

    #[test]
    fn malformed_escape_is_kept_literally() {
        let r = router(&[("GET", "/m/{id}")]);
        assert_eq!(r.route("GET", "/m/%zz"), found(0, &[("id", "%zz")]));
        assert_eq!(r.route("GET", "/m/100%"), found(0, &[("id", "100%")]));
    }

    #[test]
    fn a_capture_that_is_not_utf8_is_not_a_match() {
        let r = router(&[("GET", "/m/{id}")]);
        assert_eq!(r.route("GET", "/m/%ff"), Routed::NotFound);
    }

    mod properties {
        use super::*;
        use nebula_urlencoded::encode_component;
        use proptest::prelude::*;

        /// A template segment: literal text, a capture, or (last only) a tail capture.
        #[derive(Debug, Clone)]
        enum Part {
            Literal(String),
            Capture(String),
        }

        fn template() -> impl Strategy<Value = (Vec<Part>, bool)> {
            let part = prop_oneof![
                "[a-z0-9._~-]{1,6}".prop_map(Part::Literal),
                any::<String>()
                    .prop_filter("captures are never empty", |v| !v.is_empty())
                    .prop_map(Part::Capture),
            ];
            (proptest::collection::vec(part, 0..5), any::<bool>())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1000))]

            #[test]
            fn parsing_any_template_never_panics(source in any::<String>()) {
                if let Ok(template) = PathTemplate::parse(&source) {
                    prop_assert_eq!(template.as_str(), source.as_str());
                }
            }

            #[test]
            fn routing_any_path_never_panics(method in "[A-Z*]{0,7}", path in any::<String>()) {
                let r = router(&[
                    ("GET", "/"),
                    ("GET", "/memes/{id}"),
                    ("POST", "/memes/{id}/vote"),
                    ("*", "/assets/{*file}"),
                    ("GET", "/memes/new"),
                ]);
                let _ = r.route(&method, &path);
            }

            /// Any values, percent-encoded into a path built from a template, come back as the
            /// template's captures.
            #[test]
            fn captures_read_back_the_values_a_path_was_built_from(
                (parts, tail) in template(),
                tail_value in any::<String>(),
            ) {
                let mut source = String::new();
                let mut path = String::new();
                let mut expected = Vec::new();
                for (i, part) in parts.iter().enumerate() {
                    match part {
                        Part::Literal(text) => {
                            source.push_str(&format!("/{text}"));
                            path.push_str(&format!("/{text}"));
                        }
                        Part::Capture(value) => {
                            source.push_str(&format!("/{{p{i}}}"));
                            path.push_str(&format!("/{}", encode_component(value)));
                            expected.push((format!("p{i}"), value.clone()));
                        }
                    }
                }
                if tail {
                    source.push_str("/{*rest}");
                    path.push_str(&format!("/{}", encode_component(&tail_value)));
                    expected.push(("rest".to_owned(), tail_value));
                }
                if source.is_empty() {
                    source.push('/');
                    path.push('/');
                }
                let r = router(&[("GET", &source)]);
                let routed = r.route("GET", &path);
                let expected: Vec<(&str, &str)> =
                    expected.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                prop_assert_eq!(routed, found(0, &expected));
            }
        }
    }
}
