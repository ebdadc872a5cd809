//! Greets the `{name}` route capture: the example handler, and the component most integration
//! tests use as "a route that works" (tests/integration). Without a `name` capture it greets the
//! world, except at `/`, where it serves the demo's index page (manifests/demo.toml, `GET /`).
#![no_std]

use nebula_guest::*;

/// The index page of manifests/demo.toml: one link per demo route.
const INDEX: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Nebula demo</title></head>
<body>
<h1>Nebula demo</h1>
<ul>
<li><a href="/hello/nebula">GET /hello/{name}</a>: a greeting (this component)</li>
<li><a href="/c/hello/nebula">GET /c/hello/{name}</a>: the same greeting, written in C (hello-c)</li>
<li><a href="/echo/any/path?x=1">* /echo/{*rest}</a>: the whole request, as JSON (echo)</li>
</ul>
</body>
</html>
"#;

struct Hello;

impl Guest for Hello {
    fn handle(input: Input) -> Outcome {
        let request = &input.request;
        match param(request, "name") {
            Some(name) => respond(
                200,
                "text/plain; charset=utf-8",
                format!("Hello, {name}!\n"),
            ),
            None if request.path == "/" => respond(200, "text/html; charset=utf-8", INDEX),
            None => respond(200, "text/plain; charset=utf-8", "Hello, world!\n"),
        }
    }
}

export_handler!(Hello);
