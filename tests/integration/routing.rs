//! Requests reach the right handler with the right input, or get 404 / 405.

use crate::harness::{Manifest, guests};
use anyhow::{Result, ensure};

#[test]
fn route_params_reach_the_handler() -> Result<()> {
    let host = Manifest::new()
        .component("echo", &guests().echo)
        .route("GET /users/{id}/posts/{post}", "echo")
        .up(&[])?;

    let response = host.get("/users/42/posts/hello%20world?x=1&y=two")?;
    let body = response.text();
    ensure!(response.status == 200, "status {}: {body}", response.status);
    assert_eq!(response.header("content-type"), Some("application/json"));
    for expected in [
        r#""method":"GET""#,
        r#""path":"/users/42/posts/hello%20world""#,
        // The SDK's JSON strings escape `&` (and `<`, `>`), so they stay inert inside HTML.
        r#""query":"x=1\u0026y=two""#,
        r#""id":"42""#,
        // Captures arrive percent-decoded (wit/pure.wit, `request.params`).
        r#""post":"hello world""#,
        r#""body_len":0"#,
    ] {
        ensure!(body.contains(expected), "{expected} not in {body}");
    }
    Ok(())
}

#[test]
fn tail_capture_headers_and_body_reach_the_handler() -> Result<()> {
    let host = Manifest::new()
        .component("echo", &guests().echo)
        .route("* /echo/{*rest}", "echo")
        .up(&[])?;

    let response = host.request(
        "POST",
        "/echo/a/b/c",
        &[("X-Test", "yes"), ("content-type", "text/plain")],
        "ping \"quoted\"".as_bytes(),
    )?;
    let body = response.text();
    ensure!(response.status == 200, "status {}: {body}", response.status);
    for expected in [
        r#""method":"POST""#,
        r#""params":{"rest":"a/b/c"}"#,
        // Header names arrive lowercased.
        r#"["x-test","yes"]"#,
        r#""body":"ping \"quoted\"""#,
        r#""body_len":13"#,
        r#""carried":null"#,
    ] {
        ensure!(body.contains(expected), "{expected} not in {body}");
    }
    Ok(())
}

#[test]
fn unknown_path_answers_404() -> Result<()> {
    let host = Manifest::new()
        .component("hello", &guests().hello)
        .route("GET /hello/{name}", "hello")
        .up(&[])?;

    for path in ["/nope", "/hello", "/hello/a/b"] {
        let response = host.get(path)?;
        ensure!(
            response.status == 404,
            "GET {path}: status {} ({})",
            response.status,
            response.text()
        );
    }
    let response = host.get("/hello/ada")?;
    ensure!(
        response.status == 200,
        "GET /hello/ada: status {}",
        response.status
    );
    assert_eq!(response.text(), "Hello, ada!\n");
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    Ok(())
}

#[test]
fn wrong_method_answers_405_with_allow_header() -> Result<()> {
    let host = Manifest::new()
        .component("echo", &guests().echo)
        .route("GET /items/{id}", "echo")
        .route("DELETE /items/{id}", "echo")
        .up(&[])?;

    let response = host.request("PUT", "/items/7", &[], b"x")?;
    ensure!(
        response.status == 405,
        "PUT /items/7: status {} ({})",
        response.status,
        response.text()
    );
    let allow = response
        .header("allow")
        .unwrap_or_else(|| panic!("405 without Allow header: {:?}", response.headers));
    let allowed: Vec<&str> = allow.split(',').map(str::trim).collect();
    ensure!(
        allowed.contains(&"GET") && allowed.contains(&"DELETE"),
        "Allow: {allow}"
    );
    ensure!(!allowed.contains(&"PUT"), "Allow: {allow}");

    let response = host.request("DELETE", "/items/7", &[], b"")?;
    ensure!(
        response.status == 200,
        "DELETE /items/7: status {}",
        response.status
    );
    ensure!(response.text().contains(r#""method":"DELETE""#));
    Ok(())
}
