//! The handler's side of the WIT types: the lookups and the reply builder come from the SDK
//! (`nebula_guest`, re-exported here under the names the handlers use); what is Academemes'
//! own is its caching policy for pages and JSON, and its error shape.

use alloc::string::String;

use nebula_guest::Outcome;

pub use nebula_guest::{
    Reply, header, not_modified, number, page, param, query, read, value, wants_html,
};

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
