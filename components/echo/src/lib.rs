//! Answers with its whole input as JSON, so integration tests (tests/integration) can see what
//! the host handed a handler: route captures, query, headers, body, read results and carried data.
//! Also the `* /echo/{*rest}` route of manifests/demo.toml.
#![no_std]

use nebula_guest::json::{array, number, object, optional_string, string};
use nebula_guest::*;

struct Echo;

impl Guest for Echo {
    fn handle(input: Input) -> Outcome {
        let request = &input.request;
        let headers = request
            .headers
            .iter()
            .map(|header| array([string(&header.name), string(&header.value)]));
        let params = request
            .params
            .iter()
            .map(|p| (p.name.as_str(), string(&p.value)));
        let reads = input.reads.iter().map(render_read);
        let carried = input.carried.as_deref().map(lossy);
        let body = object([
            ("method", string(&request.method)),
            ("path", string(&request.path)),
            ("query", string(&request.query)),
            ("headers", array(headers)),
            ("params", object(params)),
            ("body", string(&lossy(&request.body))),
            ("body_len", number(request.body.len() as i64)),
            ("reads", array(reads)),
            ("carried", optional_string(carried.as_deref())),
        ]);
        respond(200, "application/json", body + "\n")
    }
}

/// `{"name":N,"value":V}` or `{"name":N,"error":E}`, V being `{"value":..}`, `{"page":..}` or
/// `{"number":..}` after the variant of `read-value`.
fn render_read(read: &ReadResult) -> String {
    let (field, rendered) = match &read.value {
        Ok(ReadValue::Value(bytes)) => {
            let value = optional_string(bytes.as_deref().map(lossy).as_deref());
            ("value", object([("value", value)]))
        }
        Ok(ReadValue::Page(page)) => {
            let entries = page.entries.iter().map(|entry| {
                object([
                    ("key", string(&entry.key)),
                    ("value", string(&lossy(&entry.value))),
                ])
            });
            let page = object([
                ("entries", array(entries)),
                ("next_cursor", optional_string(page.next_cursor.as_deref())),
            ]);
            ("value", object([("page", page)]))
        }
        Ok(ReadValue::Number(n)) => ("value", object([("number", number(*n))])),
        Err(error) => ("error", string(&reads::describe(error))),
    };
    object([("name", string(&read.name)), (field, rendered)])
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

export_handler!(Echo);
