//! Academemes' meme generator as a pure Nebula handler.
//!
//! # Routes
//!
//! * `GET …/templates` (served as `GET /api/templates`): `200 application/json`
//!   `{"templates":[{"id","name","description","preview_url":"/generate/preview?template=ID"}]}`.
//! * `GET …/preview` (served as `GET /generate/preview?template=ID&top=TEXT&bottom=TEXT`):
//!   `200 image/png`, `cache-control: public, max-age=31536000, immutable` (the output is a
//!   pure function of the URL). `400 text/plain` when `template` is missing or unknown or a
//!   text is longer than 120 characters. The query is decoded as a form: `%XX` and `+`. A
//!   route capture named `template` is used when the query has none.
//! * `POST` with an `application/x-www-form-urlencoded` body (the render step of the create
//!   pipeline): fields `template` (required), `top`, `bottom`, `title` (optional, each at most
//!   120 characters). Answers `outcome::pass` with the carried payload below and no writes,
//!   so that a later step can store the meme; on bad input it answers `400 text/plain`
//!   (`415` for another content type), which ends the pipeline.
//! * Anything else: `404` (other paths) or `405` (other methods).
//!
//! # Carried payload (POST)
//!
//! ```text
//! {"v":1,"template":"p-value","title":"…","top":"…","bottom":"…","width":600,"height":450}\n
//! <PNG bytes to the end>
//! ```
//!
//! One line of UTF-8 JSON, then a single `\n` byte, then the PNG file. JSON escapes newlines
//! inside strings, so the first `\n` in the payload always ends the header. `title`, `top` and
//! `bottom` are the submitted text, form-decoded but otherwise as typed (the picture shows the
//! captions upper-cased). `v` is the format version. `memegen::web::split_carried` splits a
//! payload back into header and PNG.
#![no_std]

extern crate alloc;

use memegen::web::{Carried, encode_carried};
use nebula_guest::*;

/// Longest accepted title, in characters.
const MAX_TITLE_CHARS: usize = 120;

struct Generator;

fn text(status: u16, msg: &str) -> Outcome {
    Reply::new(status)
        .body("text/plain; charset=utf-8", format!("{msg}\n"))
        .header("cache-control", "no-store")
        .done()
}

fn template_list() -> Outcome {
    let mut out = String::from("{\"templates\":[");
    for (i, t) in memegen::templates().iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let url = format!("/generate/preview?template={}", t.id);
        out.push_str(&json::object([
            ("id", json::string(t.id)),
            ("name", json::string(t.name)),
            ("description", json::string(t.description)),
            ("preview_url", json::string(&url)),
        ]));
    }
    out.push_str("]}");
    Reply::new(200)
        .body("application/json", out)
        .header("cache-control", "public, max-age=300")
        .done()
}

/// Renders or explains why not (as a 400 message).
fn render(template: Option<&str>, top: &str, bottom: &str) -> Result<Vec<u8>, String> {
    let Some(id) = template.filter(|t| !t.is_empty()) else {
        return Err("missing template parameter; see /api/templates".to_string());
    };
    memegen::render(id, top, bottom).map_err(|e| match e {
        memegen::RenderError::UnknownTemplate => {
            format!("unknown template {id:?}; see /api/templates")
        }
        e => e.to_string(),
    })
}

fn preview(req: &Request) -> Outcome {
    let q = |name| query_param(&req.query, name);
    // The template may also come from the route, e.g. `GET /generate/{template}/preview`.
    let from_route = || param(req, "template").map(String::from);
    let template = q("template").or_else(from_route);
    let (top, bottom) = (
        q("top").unwrap_or_default(),
        q("bottom").unwrap_or_default(),
    );
    match render(template.as_deref(), &top, &bottom) {
        Ok(png) => Reply::new(200)
            .body("image/png", png)
            .header("cache-control", "public, max-age=31536000, immutable")
            .done(),
        Err(msg) => text(400, &msg),
    }
}

fn create(req: &Request) -> Outcome {
    let form_type = header(req, "content-type").is_some_and(|value| {
        value
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    });
    if !form_type {
        return text(415, "expected an application/x-www-form-urlencoded body");
    }
    let Ok(body) = core::str::from_utf8(&req.body) else {
        return text(400, "form body is not UTF-8");
    };
    // A form body is encoded like a query string.
    let field = |name| query_param(body, name);
    let (top, bottom) = (
        field("top").unwrap_or_default(),
        field("bottom").unwrap_or_default(),
    );
    let title = field("title").unwrap_or_default();
    if title.chars().count() > MAX_TITLE_CHARS {
        return text(
            400,
            &format!("title is longer than {MAX_TITLE_CHARS} characters"),
        );
    }
    let template = field("template");
    match render(template.as_deref(), &top, &bottom) {
        Ok(png) => {
            let template = template.as_deref().unwrap_or("");
            let carried = encode_carried(&Carried {
                template,
                title: &title,
                top: &top,
                bottom: &bottom,
                png: &png,
            });
            pass(carried, vec![])
        }
        Err(msg) => text(400, &msg),
    }
}

impl Guest for Generator {
    fn handle(input: Input) -> Outcome {
        let req = &input.request;
        // Dispatch on the matched route template, or on the path (e.g. under a catch-all route).
        let is = |suffix: &str| req.route.ends_with(suffix) || req.path.ends_with(suffix);
        match req.method.as_str() {
            "POST" => create(req),
            "GET" | "HEAD" if is("/templates") => template_list(),
            "GET" | "HEAD" if is("/preview") => preview(req),
            "GET" | "HEAD" => text(404, "not found"),
            _ => text(405, "method not allowed"),
        }
    }
}

export_handler!(Generator);

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, path: &str, query: &str, headers: &[(&str, &str)], body: &[u8]) -> Input {
        Input {
            request: Request {
                method: method.to_string(),
                path: path.to_string(),
                route: "/{*rest}".to_string(),
                query: query.to_string(),
                headers: headers
                    .iter()
                    .map(|(n, v)| Header {
                        name: n.to_string(),
                        value: v.to_string(),
                    })
                    .collect(),
                body: body.to_vec(),
                params: vec![],
            },
            reads: vec![],
            carried: None,
        }
    }

    fn response(o: Outcome) -> Response {
        match o {
            Outcome::Respond((r, writes)) => {
                assert!(writes.is_empty());
                r
            }
            _ => panic!("expected a response"),
        }
    }

    fn get_header<'a>(r: &'a Response, name: &str) -> Option<&'a str> {
        r.headers
            .iter()
            .find(|h| h.name == name)
            .map(|h| h.value.as_str())
    }

    #[test]
    fn lists_templates() {
        let r = response(Generator::handle(req(
            "GET",
            "/api/templates",
            "",
            &[],
            b"",
        )));
        assert_eq!(r.status, 200);
        assert_eq!(get_header(&r, "content-type"), Some("application/json"));
        let body = String::from_utf8(r.body).unwrap();
        assert!(body.starts_with(
            "{\"templates\":[{\"id\":\"chalkboard\",\"name\":\"Chalkboard\",\"description\":\""
        ));
        assert!(body.contains("\"preview_url\":\"/generate/preview?template=reviewer-2\""));
        assert_eq!(body.matches("\"id\":").count(), memegen::templates().len());
        assert!(body.ends_with("}]}"));
    }

    #[test]
    fn previews_png() {
        let r = response(Generator::handle(req(
            "GET",
            "/generate/preview",
            "template=p-value&top=p+%3D+0.051&bottom=",
            &[],
            b"",
        )));
        assert_eq!(r.status, 200);
        assert_eq!(get_header(&r, "content-type"), Some("image/png"));
        assert_eq!(
            get_header(&r, "cache-control"),
            Some("public, max-age=31536000, immutable")
        );
        assert_eq!(r.body, memegen::render("p-value", "p = 0.051", "").unwrap());
    }

    #[test]
    fn preview_errors_are_400_text() {
        for q in ["", "top=hi", "template=nope", "template="] {
            let r = response(Generator::handle(req(
                "GET",
                "/generate/preview",
                q,
                &[],
                b"",
            )));
            assert_eq!(r.status, 400, "{q}");
            assert_eq!(
                get_header(&r, "content-type"),
                Some("text/plain; charset=utf-8")
            );
            assert!(String::from_utf8(r.body).unwrap().contains("template"));
        }
        let long = format!("template=latex&top={}", "x".repeat(121));
        let r = response(Generator::handle(req(
            "GET",
            "/generate/preview",
            &long,
            &[],
            b"",
        )));
        assert_eq!(r.status, 400);
        assert_eq!(
            response(Generator::handle(req("GET", "/nope", "", &[], b""))).status,
            404
        );
        assert_eq!(
            response(Generator::handle(req(
                "PUT",
                "/generate/preview",
                "",
                &[],
                b""
            )))
            .status,
            405
        );
    }

    #[test]
    fn post_passes_the_carried_payload() {
        let form = b"template=graph&title=My+first+meme&top=R%C2%B2+%3D+0.03&bottom=Clear+trend";
        let ct = [(
            "content-type",
            "application/x-www-form-urlencoded; charset=UTF-8",
        )];
        match Generator::handle(req("POST", "/memes", "", &ct, form)) {
            Outcome::Pass((carried, writes)) => {
                assert!(writes.is_empty());
                let (head, png) = memegen::web::split_carried(&carried).unwrap();
                assert_eq!(
                    head,
                    "{\"v\":1,\"template\":\"graph\",\"title\":\"My first meme\",\"top\":\"R² = 0.03\",\"bottom\":\"Clear trend\",\"width\":600,\"height\":450}"
                );
                assert_eq!(
                    png,
                    &memegen::render("graph", "R² = 0.03", "Clear trend").unwrap()[..]
                );
            }
            _ => panic!("expected pass"),
        }
    }

    #[test]
    fn post_rejects_bad_input() {
        let ct = [("content-type", "application/x-www-form-urlencoded")];
        let r = response(Generator::handle(req(
            "POST",
            "/memes",
            "",
            &ct,
            b"template=nope",
        )));
        assert_eq!(r.status, 400);
        let r = response(Generator::handle(req(
            "POST",
            "/memes",
            "",
            &ct,
            b"top=no+template",
        )));
        assert_eq!(r.status, 400);
        let title = format!("template=lab&title={}", "t".repeat(121));
        let r = response(Generator::handle(req(
            "POST",
            "/memes",
            "",
            &ct,
            title.as_bytes(),
        )));
        assert_eq!(r.status, 400);
        let r = response(Generator::handle(req(
            "POST",
            "/memes",
            "",
            &[("content-type", "application/json")],
            b"{}",
        )));
        assert_eq!(r.status, 415);
        let r = response(Generator::handle(req(
            "POST",
            "/memes",
            "",
            &[],
            b"template=lab",
        )));
        assert_eq!(r.status, 415);
    }
}
