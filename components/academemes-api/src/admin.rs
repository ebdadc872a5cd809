//! Moderation: routes the host guards with the moderators' bearer token
//! (`auth = { bearer_env = "ACADEMEMES_ADMIN_TOKEN" }`), so this code never sees a request
//! without it.
//!
//! * `GET /api/admin/reports`: reported memes, most recently reported first, with their
//!   reports;
//! * `POST /api/admin/memes/{id}/hide` and `/unhide`: take a meme out of every listing and
//!   page, or put it back;
//! * `DELETE /api/admin/memes/{id}`: the meme, its image, thumbnail, votes, vote records,
//!   reports, tag and search entries, in one write.

use academemes_core::http::{json, json_error, value};
use academemes_core::json::{array, number, object, string};
use academemes_core::meme::Meme;
use academemes_core::moderation::{self, Step};
use nebula_guest::{Input, Outcome, String};

pub fn handle(input: &Input) -> Outcome {
    let method = input.request.method.as_str();
    match (method, input.request.route.as_str()) {
        ("GET" | "HEAD", "/api/admin/reports") => reports(input),
        ("POST", "/api/admin/memes/{id}/hide") => set_hidden(input, true),
        ("POST", "/api/admin/memes/{id}/unhide") => set_hidden(input, false),
        ("DELETE", "/api/admin/memes/{id}") => delete(input),
        _ => json_error(404, "no such moderation route"),
    }
}

fn meme(input: &Input) -> Option<Meme> {
    value(&input.reads, "meme").and_then(Meme::from_stored)
}

fn reports(input: &Input) -> Outcome {
    let reported = match moderation::reported(&input.reads) {
        Step::Need(reads) => return Outcome::Need(reads),
        Step::Done(reported) => reported,
    };
    let items = reported.iter().map(|r| {
        let reports = r.reports.iter().map(|report| report.to_json());
        object([
            ("id", string(&r.meme.id)),
            ("title", string(&r.meme.title)),
            (
                "hidden",
                String::from(if r.meme.hidden { "true" } else { "false" }),
            ),
            ("thumb_url", string(&r.meme.thumb_url())),
            ("count", number(r.reports.len() as i64)),
            ("reports", array(reports)),
        ])
    });
    json(200, object([("memes", array(items))])).done()
}

fn set_hidden(input: &Input, hidden: bool) -> Outcome {
    let Some(mut meme) = meme(input) else {
        return json_error(404, "no meme with this id");
    };
    meme.hidden = hidden;
    let body = object([
        ("id", string(&meme.id)),
        (
            "hidden",
            String::from(if hidden { "true" } else { "false" }),
        ),
    ]);
    json(200, body).writes([meme.put()].into()).done()
}

fn delete(input: &Input) -> Outcome {
    let Some(meme) = meme(input) else {
        return json_error(404, "no meme with this id");
    };
    match moderation::delete(&input.reads, &meme) {
        Step::Need(reads) => Outcome::Need(reads),
        Step::Done(writes) => {
            let body = object([("id", string(&meme.id)), ("deleted", String::from("true"))]);
            json(200, body).writes(writes).done()
        }
    }
}
