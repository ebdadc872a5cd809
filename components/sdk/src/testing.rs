//! Inputs for native unit tests of a handler (`cargo test --target x86_64-unknown-linux-gnu`),
//! so that tests do not spell out every field of the WIT records.
//!
//! ```
//! # use nebula_guest::*;
//! let mut input = testing::input(testing::request("GET", "/hello/ada"));
//! input.request.params.push(Param { name: "name".into(), value: "ada".into() });
//! assert_eq!(param(&input.request, "name"), Some("ada"));
//! ```

use alloc::string::ToString;
use alloc::vec::Vec;

use crate::{Input, Request};

/// A request with `method` and `path` (also used as the matched route), no query, headers,
/// body or captures.
pub fn request(method: &str, path: &str) -> Request {
    Request {
        method: method.to_string(),
        path: path.to_string(),
        route: path.to_string(),
        query: Default::default(),
        headers: Vec::new(),
        body: Vec::new(),
        params: Vec::new(),
    }
}

/// The input of a first call: `request`, no reads, nothing carried.
pub fn input(request: Request) -> Input {
    Input {
        request,
        reads: Vec::new(),
        carried: None,
    }
}
