//! Looking things up in the request: route captures, headers, query parameters, and the two
//! questions almost every page handler asks (`If-None-Match`, HTML or JSON).
//!
//! Handlers should read the request through these functions rather than its fields: when the
//! `nebula:pure` world changes how captures or headers are carried, only this module changes.

use alloc::string::String;

use crate::Request;

/// A route capture, e.g. `id` of `GET /memes/{id}` (the host percent-decodes captures).
///
/// ```
/// # use nebula_guest::*;
/// # let mut request = testing::request("GET", "/memes/42");
/// # request.params.push(Param { name: "id".into(), value: "42".into() });
/// let id = param(&request, "id").unwrap_or("none");
/// assert_eq!(id, "42");
/// assert_eq!(param(&request, "other"), None);
/// ```
pub fn param<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .params
        .iter()
        .find(|p| p.name == name)
        .map(|p| p.value.as_str())
}

/// The first value of a request header. Names arrive lowercased, so ask in lower case.
///
/// ```
/// # use nebula_guest::*;
/// # let mut request = testing::request("GET", "/");
/// # request.headers.push(Header { name: "accept".into(), value: "text/html".into() });
/// assert_eq!(header(&request, "accept"), Some("text/html"));
/// assert_eq!(header(&request, "cookie"), None);
/// ```
pub fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|h| h.name == name)
        .map(|h| h.value.as_str())
}

/// A query parameter, form-decoded (`%XX` and `+`); `None` when absent or empty. Use
/// [`query_param`](crate::query_param) to tell an empty value from a missing one.
///
/// ```
/// # use nebula_guest::*;
/// # let mut request = testing::request("GET", "/search");
/// request.query = "q=p+%3C+0.05&page=".into();
/// assert_eq!(query(&request, "q").as_deref(), Some("p < 0.05"));
/// assert_eq!(query(&request, "page"), None);
/// ```
pub fn query(request: &Request, name: &str) -> Option<String> {
    crate::query_param(&request.query, name).filter(|v| !v.is_empty())
}

/// Whether the client wants HTML rather than JSON (a browser navigating sends
/// `accept: text/html,...`).
pub fn wants_html(request: &Request) -> bool {
    header(request, "accept").is_some_and(|a| a.contains("text/html"))
}

/// Whether an `If-None-Match` header names `etag` (RFC 9110 section 13.1.2: weak comparison,
/// and `*` matches any), so the handler may answer 304.
///
/// ```
/// # use nebula_guest::*;
/// # let mut request = testing::request("GET", "/");
/// request.headers.push(Header { name: "if-none-match".into(), value: "W/\"v1\", \"v2\"".into() });
/// assert!(not_modified(&request, "\"v1\""));
/// assert!(!not_modified(&request, "\"v3\""));
/// ```
pub fn not_modified(request: &Request, etag: &str) -> bool {
    fn strip(tag: &str) -> &str {
        tag.trim().trim_start_matches("W/")
    }
    header(request, "if-none-match")
        .is_some_and(|v| v.trim() == "*" || v.split(',').any(|t| strip(t) == strip(etag)))
}
