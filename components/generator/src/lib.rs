//! Academemes' meme generator as a pure Nebula handler.
//!
//! # Routes
//!
//! * `GET …/templates` (served as `GET /api/templates`): `200 application/json`
//!   `{"templates":[{"id","name","description","preview_url":"/generate/preview?template=ID"}]}`.
//! * `GET …/preview` (served as `GET /generate/preview?template=ID&top=TEXT&bottom=TEXT&size=S`,
//!   `S` one of `small`, `medium` (default), `large`):
//!   `200 image/png`, `cache-control: public, max-age=31536000, immutable` (the output is a
//!   pure function of the URL). `400 text/plain` when `template` is missing or unknown or a
//!   text is longer than 120 characters. The query is decoded as a form: `%XX` and `+`. A
//!   route capture named `template` is used when the query has none.
//! * `POST …/preview` (served as `POST /generate/preview`) with a multipart form holding
//!   `image` (a picture of one's own: PNG, JPEG, GIF or WebP), `top`, `bottom` and `size`:
//!   `200 image/png`, the meme on that picture (not cached).
//! * `POST` with an `application/x-www-form-urlencoded` or `multipart/form-data` body (the
//!   render step of the create pipeline): fields `template` (required unless `image` holds a
//!   picture, which then replaces the template), `top`, `bottom`, `size`, `title` (optional,
//!   each text at most 120 characters). Answers `outcome::pass` with the carried payload below
//!   and no writes, so that a later step can store the meme; on bad input it answers `400`
//!   (`413`/`415` for a picture too large or not an image; `415` for another content type)
//!   as `text/plain`, or as the generator form again with the message for a browser
//!   (`Accept: text/html`), which ends the pipeline.
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
//! `bottom` are the submitted text, form-decoded but otherwise as typed (the picture shows
//! them as typed too). `v` is the format version. `memegen::web::split_carried` splits a
//! payload back into header and PNG.
#![no_std]

extern crate alloc;

use academemes_core::upload::Form;
use memegen::web::{Carried, encode_carried};
use memegen::{Base, TextSize};
use nebula_guest::*;

/// The largest side of a meme made on a picture of one's own.
const MAX_PICTURE_SIDE: u32 = 800;

/// Longest accepted title, in characters.
const MAX_TITLE_CHARS: usize = 120;

struct Generator;

fn header(name: &str, value: &str) -> Header {
    Header {
        name: name.to_string(),
        value: value.to_string(),
    }
}

fn respond(status: u16, headers: Vec<Header>, body: Vec<u8>) -> Outcome {
    Outcome::Respond(RespondWith {
        response: Response {
            status,
            headers,
            body,
        },
        writes: vec![],
    })
}

fn text(status: u16, msg: &str) -> Outcome {
    respond(
        status,
        vec![
            header("content-type", "text/plain; charset=utf-8"),
            header("cache-control", "no-store"),
        ],
        format!("{msg}\n").into_bytes(),
    )
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
    respond(
        200,
        vec![
            header("content-type", "application/json"),
            header("cache-control", "public, max-age=300"),
        ],
        out.into_bytes(),
    )
}

/// Why nothing was rendered: a status and a message.
type Refusal = (u16, String);

/// What to draw on: a template by id, or the picture sent in field `image`.
fn base_image(
    template: Option<&str>,
    picture: &[u8],
) -> Result<Option<(u32, u32, Vec<u8>)>, Refusal> {
    if picture.is_empty() {
        return match template.filter(|t| !t.is_empty()) {
            None => Err((
                400,
                "missing template parameter; see /api/templates".to_string(),
            )),
            Some(id) if memegen::template(id).is_none() => {
                Err((400, format!("unknown template {id:?}; see /api/templates")))
            }
            Some(_) => Ok(None),
        };
    }
    let (_, image) = academemes_image::decode(picture).map_err(|e| {
        let status = match e {
            academemes_image::ImageError::TooLarge { .. } => 413,
            _ => 415,
        };
        (status, e.to_string())
    })?;
    let image = academemes_image::resize(&image, MAX_PICTURE_SIDE, MAX_PICTURE_SIDE);
    let rgb = academemes_image::rgb_over_white(&image);
    Ok(Some((image.width, image.height, rgb)))
}

/// Renders or explains why not.
fn render(
    template: Option<&str>,
    picture: &[u8],
    top: &str,
    bottom: &str,
    size: &str,
) -> Result<Vec<u8>, Refusal> {
    let Some(size) = TextSize::parse(size) else {
        return Err((400, "size must be small, medium or large".to_string()));
    };
    let base = base_image(template, picture)?;
    let base = match &base {
        Some((width, height, rgb)) => Base::Picture {
            width: *width,
            height: *height,
            rgb,
        },
        None => Base::Template(template.unwrap_or_default()),
    };
    memegen::render_png(base, top, bottom, size).map_err(|e| (400, e.to_string()))
}

fn preview(req: &Request) -> Outcome {
    let q = |name| query_param(&req.query, name);
    // The template may also come from the route, e.g. `GET /generate/{template}/preview`.
    let from_route = || {
        req.params
            .iter()
            .find(|p| p.name == "template")
            .map(|p| p.value.clone())
    };
    let template = q("template").or_else(from_route);
    let (top, bottom, size) = (
        q("top").unwrap_or_default(),
        q("bottom").unwrap_or_default(),
        q("size").unwrap_or_default(),
    );
    match render(template.as_deref(), &[], &top, &bottom, &size) {
        Ok(png) => png_reply(png, "public, max-age=31536000, immutable"),
        Err((status, msg)) => text(status, &msg),
    }
}

/// A preview on a picture of one's own: too big for a URL, so posted, and never cached.
fn preview_picture(req: &Request) -> Outcome {
    let form = match Form::parse(content_type(req), &req.body) {
        Ok(form) => form,
        Err(rejection) => return text(rejection.status, &rejection.message),
    };
    let picture = form.bytes("image");
    if picture.is_empty() {
        return text(400, "send a picture in the field `image`");
    }
    match render(
        None,
        picture,
        &form.text("top"),
        &form.text("bottom"),
        &form.text("size"),
    ) {
        Ok(png) => png_reply(png, "no-store"),
        Err((status, msg)) => text(status, &msg),
    }
}

fn png_reply(png: Vec<u8>, cache: &str) -> Outcome {
    respond(
        200,
        vec![
            header("content-type", "image/png"),
            header("cache-control", cache),
        ],
        png,
    )
}

fn content_type(req: &Request) -> Option<&str> {
    req.headers
        .iter()
        .find(|h| h.name == "content-type")
        .map(|h| h.value.as_str())
}

fn create(req: &Request) -> Outcome {
    let kind = content_type(req)
        .and_then(|t| t.split(';').next())
        .map(|t| t.trim().to_ascii_lowercase());
    if !matches!(
        kind.as_deref(),
        Some("application/x-www-form-urlencoded" | "multipart/form-data")
    ) {
        return text(
            415,
            "expected an application/x-www-form-urlencoded or multipart/form-data body",
        );
    }
    let form = match Form::parse(content_type(req), &req.body) {
        Ok(form) => form,
        Err(rejection) => {
            return refuse(req, &Form::default(), rejection.status, &rejection.message);
        }
    };
    let (top, bottom, title, size) = (
        form.text("top"),
        form.text("bottom"),
        form.text("title"),
        form.text("size"),
    );
    if title.chars().count() > MAX_TITLE_CHARS {
        let msg = format!("title is longer than {MAX_TITLE_CHARS} characters");
        return refuse(req, &form, 400, &msg);
    }
    let template = Some(form.text("template")).filter(|t| !t.is_empty());
    let picture = form.bytes("image");
    match render(template.as_deref(), picture, &top, &bottom, &size) {
        Ok(png) => {
            let template = if picture.is_empty() {
                template.as_deref().unwrap_or("")
            } else {
                "picture"
            };
            let carried = encode_carried(&Carried {
                template,
                title: &title,
                top: &top,
                bottom: &bottom,
                png: &png,
            });
            pass(carried, vec![])
        }
        Err((status, msg)) => refuse(req, &form, status, &msg),
    }
}

/// A refused publish: the form again for a browser, plain text for anything else.
fn refuse(req: &Request, form: &Form, status: u16, message: &str) -> Outcome {
    let browser = req
        .headers
        .iter()
        .any(|h| h.name == "accept" && h.value.contains("text/html"));
    if !browser {
        return text(status, message);
    }
    let page = academemes_core::generate::page_again(form, message);
    respond(
        status,
        vec![
            header("content-type", "text/html; charset=utf-8"),
            header("cache-control", "no-store"),
        ],
        page.into_bytes(),
    )
}

impl Guest for Generator {
    fn handle(input: Input) -> Outcome {
        let req = &input.request;
        // Dispatch on the matched route template, or on the path (e.g. under a catch-all route).
        let is = |suffix: &str| req.route.ends_with(suffix) || req.path.ends_with(suffix);
        match req.method.as_str() {
            "POST" if is("/preview") => preview_picture(req),
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
                headers: headers.iter().map(|(n, v)| header(n, v)).collect(),
                body: body.to_vec(),
                params: vec![],
            },
            reads: vec![],
            carried: None,
        }
    }

    fn response(o: Outcome) -> Response {
        match o {
            Outcome::Respond(RespondWith {
                response: r,
                writes,
            }) => {
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
            "template=p-value&top=p+%3D+0.051&bottom=&size=large",
            &[],
            b"",
        )));
        assert_eq!(r.status, 200);
        assert_eq!(get_header(&r, "content-type"), Some("image/png"));
        assert_eq!(
            get_header(&r, "cache-control"),
            Some("public, max-age=31536000, immutable")
        );
        let large =
            memegen::render_png(Base::Template("p-value"), "p = 0.051", "", TextSize::Large);
        assert_eq!(r.body, large.unwrap());
    }

    #[test]
    fn preview_errors_are_400_text() {
        for q in [
            "",
            "top=hi",
            "template=nope",
            "template=",
            "template=lab&size=huge",
        ] {
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
            let body = String::from_utf8(r.body).unwrap();
            assert!(body.contains("template") || body.contains("size"), "{body}");
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
            Outcome::Pass(PassOn {
                data: carried,
                writes,
            }) => {
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
    fn renders_on_a_picture_of_ones_own() {
        let picture = academemes_image::encode_png(&academemes_image::Image {
            width: 1000,
            height: 500,
            rgba: [40, 90, 160, 255].repeat(500_000),
        });
        let boundary = "b";
        let mut body = Vec::new();
        for (name, data) in [
            ("image", &picture[..]),
            ("top", "Ωμέγα".as_bytes()),
            ("title", b"t"),
        ] {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n")
                    .as_bytes(),
            );
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"--b--\r\n");
        let ct = [("content-type", "multipart/form-data; boundary=b")];
        match Generator::handle(req("POST", "/generate", "", &ct, &body)) {
            Outcome::Pass(PassOn { data: carried, .. }) => {
                let (head, png) = memegen::web::split_carried(&carried).unwrap();
                assert!(head.contains("\"template\":\"picture\""), "{head}");
                let (_, image) = academemes_image::decode(png).unwrap();
                assert_eq!((image.width, image.height), (800, 400), "scaled to 800 px");
            }
            _ => panic!("expected pass"),
        }
        let r = response(Generator::handle(req(
            "POST",
            "/generate/preview",
            "",
            &ct,
            &body,
        )));
        assert_eq!(r.status, 200);
        assert_eq!(get_header(&r, "cache-control"), Some("no-store"));
    }

    #[test]
    fn shows_a_browser_the_form_again() {
        let ct = [
            ("content-type", "application/x-www-form-urlencoded"),
            ("accept", "text/html,*/*"),
        ];
        let r = response(Generator::handle(req(
            "POST",
            "/generate",
            "",
            &ct,
            b"template=nope&top=kept+text",
        )));
        assert_eq!(r.status, 400);
        let body = String::from_utf8(r.body).unwrap();
        assert!(body.contains("role=\"alert\"") && body.contains("value=\"kept text\""));
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
