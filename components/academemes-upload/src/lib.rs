//! Academemes' publishing: the only component that creates memes (besides the seed).
//!
//! * `POST /api/memes` (multipart): 201 with the meme object, or a JSON error;
//! * `POST /upload` (multipart, the HTML form): 303 to the new meme, or the form again with
//!   the message and the status;
//! * `POST /generate`: the last step of `[generator, upload]`, publishing the PNG the generator
//!   carried with the title and tags of the form ([`generated`]); on an error the generator's
//!   form again.
//!
//! Every image is decoded in full and written out fresh ([`prepare`]): junk behind a PNG
//! signature is refused with 415, and no upload's metadata is stored. Every route declares the
//! read `now` (the clock is an effect). On any error the outcome has no writes.
#![no_std]

extern crate alloc;

mod generated;
mod prepare;

use academemes_core::generate::page_again;
use academemes_core::html::{UploadForm, upload_page};
use academemes_core::http::{Reply, header, html, json, json_error, number, see_other};
use academemes_core::upload::{Form, Rejection, from_multipart};
use nebula_guest::{Guest, Input, Outcome, export_handler, format};

struct Upload;

impl Guest for Upload {
    fn handle(input: Input) -> Outcome {
        let Some(now) = number(&input.reads, "now") else {
            return json_error(500, "the route must declare the read `now`");
        };
        let request = &input.request;
        let content_type = header(request, "content-type");
        match request.route.as_str() {
            "/api/memes" => {
                match from_multipart(content_type, &request.body, now, &prepare::upload) {
                    Ok((meme, prepared)) => {
                        let location = format!("/api/memes/{}", meme.id);
                        json(201, meme.to_api(0))
                            .header("location", location)
                            .writes(meme.publish(prepared.image, prepared.thumb, 0))
                            .done()
                    }
                    Err(rejection) => json_error(rejection.status, &rejection.message),
                }
            }
            "/upload" => match from_multipart(content_type, &request.body, now, &prepare::upload) {
                Ok((meme, prepared)) => published(&meme.id)
                    .writes(meme.publish(prepared.image, prepared.thumb, 0))
                    .done(),
                Err(rejection) => form_again(&rejection),
            },
            "/generate" => match generated::meme(&input, now) {
                Ok((meme, prepared)) => published(&meme.id)
                    .writes(meme.publish(prepared.image, prepared.thumb, 0))
                    .done(),
                Err(rejection) => generate_again(&input, &rejection.message, rejection.status),
            },
            _ => json_error(404, "no such route"),
        }
    }
}

/// 303 to the new meme's page.
fn published(id: &str) -> Reply {
    see_other(&format!("/memes/{id}"))
}

/// The upload form again, filled in as it was sent, with the message announced.
fn form_again(rejection: &Rejection) -> Outcome {
    let form = UploadForm {
        title: &rejection.title,
        caption: &rejection.caption,
        tags: &rejection.tags,
        error: Some(&rejection.message),
    };
    html(rejection.status, upload_page(&form)).done()
}

/// The generator's form again, filled in from the request, with the message announced.
fn generate_again(input: &Input, message: &str, status: u16) -> Outcome {
    let form = Form::parse(header(&input.request, "content-type"), &input.request.body)
        .unwrap_or_default();
    html(status, page_again(&form, message)).done()
}

export_handler!(Upload);
