//! JSON for Academemes: the SDK's (`nebula_guest::json`), re-exported under the names the
//! handlers use. String literals escape `<`, `>` and `&` too (as `\u003c`…), which JSON allows
//! (RFC 8259 section 7) and which keeps a `<script>` title inert even if the JSON ends up inside
//! HTML; the parser reads the documents the site itself stores (and the generator's payload).

pub use nebula_guest::json::{Value, array, number, object, optional_string, parse, string};
