//! Read templates: the `key`, `cursor` and `limit` of a declared read, such as `"{id}"` or
//! `"{query.cursor}"`. Literal text with `{param}` (a route capture) and `{query.NAME}` (a query
//! parameter, empty when absent) placeholders; see docs/manifest.md, "Reads".

use std::fmt;

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Param(String),
    Query(String),
}

impl Template {
    /// Parses a template; the error says what is wrong in words a manifest author can act on.
    pub fn parse(source: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = source;
        while !rest.is_empty() {
            let brace = rest.find(['{', '}']).unwrap_or(rest.len());
            if brace > 0 {
                parts.push(Part::Text(rest[..brace].to_owned()));
            }
            rest = &rest[brace..];
            if rest.starts_with('}') {
                return Err(format!("unmatched `}}` in template `{source}`"));
            }
            let Some(open) = rest.strip_prefix('{') else {
                break;
            };
            let Some(close) = open.find('}') else {
                return Err(format!("unclosed `{{` in template `{source}`"));
            };
            parts.push(placeholder(&open[..close], source)?);
            rest = &open[close + 1..];
        }
        Ok(Template {
            source: source.to_owned(),
            parts,
        })
    }

    /// Fills in the placeholders: `param(name)` gives a route capture, `query(name)` a query
    /// parameter; a missing value renders as the empty string.
    pub fn render<'p>(
        &self,
        param: impl Fn(&str) -> Option<&'p str>,
        query: impl Fn(&str) -> Option<String>,
    ) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Param(name) => out.push_str(param(name).unwrap_or_default()),
                Part::Query(name) => out.push_str(&query(name).unwrap_or_default()),
            }
        }
        out
    }

    /// The route captures the template refers to, in order.
    pub fn params(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Param(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// The query parameters the template refers to, in order.
    #[cfg(test)]
    pub fn queries(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Query(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// The template as written.
    #[cfg(test)]
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn placeholder(inner: &str, source: &str) -> Result<Part, String> {
    if let Some(name) = inner.strip_prefix("query.") {
        if name.is_empty() || name.contains('{') {
            return Err(format!(
                "placeholder `{{{inner}}}` in template `{source}` needs a query parameter name, like `{{query.cursor}}`"
            ));
        }
        return Ok(Part::Query(name.to_owned()));
    }
    if let Some(name) = inner.strip_prefix('*') {
        return Err(format!(
            "placeholder `{{{inner}}}` in template `{source}`: refer to the tail capture as `{{{name}}}`"
        ));
    }
    let valid = !inner.is_empty()
        && inner
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid {
        Ok(Part::Param(inner.to_owned()))
    } else if inner.is_empty() {
        Err(format!(
            "empty placeholder `{{}}` in template `{source}`; write `{{NAME}}` or `{{query.NAME}}`"
        ))
    } else {
        Err(format!(
            "placeholder `{{{inner}}}` in template `{source}` must be a route capture like `{{id}}` or a query parameter like `{{query.cursor}}`"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_captures_and_query_parameters() {
        let t = Template::parse("memes/{id}?after={query.cursor}").unwrap();
        let params = [("id".to_owned(), "42".to_owned())];
        let rendered = t.render(
            |n| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str()),
            |n| (n == "cursor").then(|| "abc".to_owned()),
        );
        assert_eq!(rendered, "memes/42?after=abc");
        assert_eq!(t.params().collect::<Vec<_>>(), ["id"]);
        assert_eq!(t.queries().collect::<Vec<_>>(), ["cursor"]);
    }

    #[test]
    fn renders_absent_query_parameters_as_empty() {
        let t = Template::parse("{query.limit}").unwrap();
        assert_eq!(t.render(|_| None, |_| None), "");
    }

    #[test]
    fn keeps_plain_text_as_is() {
        let t = Template::parse("fixed-key").unwrap();
        assert_eq!(t.render(|_| None, |_| None), "fixed-key");
        assert_eq!(t.as_str(), "fixed-key");
        assert_eq!(Template::parse("").unwrap().render(|_| None, |_| None), "");
    }

    #[test]
    fn rejects_malformed_placeholders_with_reasons() {
        assert!(Template::parse("{id").unwrap_err().contains("unclosed `{`"));
        assert!(
            Template::parse("id}")
                .unwrap_err()
                .contains("unmatched `}`")
        );
        assert!(
            Template::parse("{}")
                .unwrap_err()
                .contains("empty placeholder")
        );
        assert!(
            Template::parse("{query.}")
                .unwrap_err()
                .contains("needs a query parameter name")
        );
        assert!(
            Template::parse("{*rest}")
                .unwrap_err()
                .contains("as `{rest}`")
        );
        assert!(
            Template::parse("{a b}")
                .unwrap_err()
                .contains("must be a route capture")
        );
    }
}
