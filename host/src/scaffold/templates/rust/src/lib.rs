//! {{name}}: a pure Nebula handler. `GET /hello/{name}` answers with a greeting.
//!
//! Build and serve: `nebula-host up nebula.toml --build`. Test natively: `cargo test`.
#![no_std]

use nebula_guest::*;

struct Handler;

impl Guest for Handler {
    fn handle(input: Input) -> Outcome {
        let name = param(&input.request, "name").unwrap_or("world");
        Reply::new(200)
            .body("text/plain; charset=utf-8", format!("Hello, {name}!\n"))
            .done()
    }
}

export_handler!(Handler);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greets_the_name_in_the_path() {
        let mut input = testing::input(testing::request("GET", "/hello/ada"));
        input.request.params.push(("name".into(), "ada".into()));
        let Outcome::Respond(RespondWith { response, writes }) = Handler::handle(input) else {
            panic!("expected a response");
        };
        assert_eq!(response.status, 200);
        assert_eq!(response.body, b"Hello, ada!\n");
        assert!(writes.is_empty());
    }
}
