//! The handler's side of the WIT types: looking things up in the input, and building outcomes.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use nebula_guest::{Header, Outcome, Page, ReadResult, ReadValue, Request, Response, Write};

/// A route capture, e.g. `id` of `/memes/{id}`.
pub fn param<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The first value of a request header (names arrive lowercased).
pub fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|h| h.name == name)
        .map(|h| h.value.as_str())
}

/// A query parameter, percent-decoded; `None` when absent or empty.
pub fn query(request: &Request, name: &str) -> Option<String> {
    nebula_guest::query_param(&request.query, name).filter(|v| !v.is_empty())
}

/// Whether the client wants HTML rather than JSON (a browser navigating).
pub fn wants_html(request: &Request) -> bool {
    header(request, "accept").is_some_and(|a| a.contains("text/html"))
}

/// Whether an `If-None-Match` header names `etag` (RFC 9110 section 13.1.2: weak comparison).
pub fn not_modified(request: &Request, etag: &str) -> bool {
    let strip = |t: &str| t.trim().trim_start_matches("W/").to_string();
    header(request, "if-none-match")
        .is_some_and(|v| v.trim() == "*" || v.split(',').any(|t| strip(t) == strip(etag)))
}

/// The result of read `name`, if it was performed.
pub fn read<'a>(reads: &'a [ReadResult], name: &str) -> Option<&'a Result<ReadValue, String>> {
    reads.iter().find(|r| r.name == name).map(|r| &r.value)
}

/// A `get` read's value; `None` when absent, not performed or failed.
pub fn value<'a>(reads: &'a [ReadResult], name: &str) -> Option<&'a [u8]> {
    match read(reads, name)? {
        Ok(ReadValue::Value(Some(bytes))) => Some(bytes),
        _ => None,
    }
}

/// A `count`, `counter` or `now` read's number.
pub fn number(reads: &[ReadResult], name: &str) -> Option<i64> {
    match read(reads, name)? {
        Ok(ReadValue::Number(n)) => Some(*n),
        _ => None,
    }
}

/// A `list` read's page, or the host's reason it failed (e.g. a malformed cursor).
pub fn page<'a>(reads: &'a [ReadResult], name: &str) -> Option<Result<&'a Page, &'a str>> {
    match read(reads, name)? {
        Ok(ReadValue::Page(page)) => Some(Ok(page)),
        Ok(_) => Some(Err("not a page")),
        Err(e) => Some(Err(e)),
    }
}

/// A response under construction.
#[derive(Debug)]
pub struct Reply {
    response: Response,
    writes: Vec<Write>,
}

impl Reply {
    pub fn new(status: u16) -> Reply {
        Reply {
            response: Response {
                status,
                headers: Vec::new(),
                body: Vec::new(),
            },
            writes: Vec::new(),
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.response.headers.push(Header {
            name: name.to_string(),
            value: value.into(),
        });
        self
    }

    pub fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        self.response.body = body.into();
        self.header("content-type", content_type)
    }

    pub fn writes(mut self, writes: Vec<Write>) -> Reply {
        self.writes = writes;
        self
    }

    pub fn done(self) -> Outcome {
        Outcome::Respond((self.response, self.writes))
    }
}

/// A page: HTML, never cached by shared caches (it shows live vote counts).
pub fn html(status: u16, body: String) -> Reply {
    Reply::new(status)
        .body("text/html; charset=utf-8", body)
        .header("cache-control", "no-cache")
}

/// A JSON document.
pub fn json(status: u16, body: String) -> Reply {
    Reply::new(status)
        .body("application/json", body)
        .header("cache-control", "no-cache")
}

/// `{"error": message}` with `status`.
pub fn json_error(status: u16, message: &str) -> Outcome {
    json(
        status,
        crate::json::object([("error", crate::json::string(message))]),
    )
    .done()
}

/// 303 See Other to `location`: after a form post, the browser GETs the result (RFC 9110
/// section 15.4.4), so a reload does not post twice.
pub fn see_other(location: &str) -> Reply {
    Reply::new(303)
        .header("location", location)
        .body("text/plain; charset=utf-8", "See Other\n")
}
