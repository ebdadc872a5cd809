//! What visitors do to a meme: vote, take the vote back, report it. Each needs the visitor's
//! id ([`Visitor`]): from their cookie, or minted from the route's `random` read (and then
//! set as a cookie on the reply).

use academemes_core::html::not_found_page;
use academemes_core::http::{Reply, header, html, json, json_error, number};
use academemes_core::json::{self, object};
use academemes_core::moderation::Report;
use academemes_core::upload::Form;
use academemes_core::visitor::Visitor;
use academemes_core::votes::{self, Want};
use nebula_guest::{Input, Outcome, String, format};

use crate::visible_meme;

/// The declared `random` read the routes mint visitors from.
const RANDOM: &str = "visitor";

/// Whether the request comes from a plain HTML form (which wants a redirect, not JSON).
fn from_form(input: &Input) -> bool {
    !input.request.route.starts_with("/api/")
}

fn form(input: &Input) -> Form {
    let content_type = header(&input.request, "content-type");
    if input.request.body.is_empty() || content_type.is_none() {
        return Form::default();
    }
    Form::parse(content_type, &input.request.body).unwrap_or_default()
}

fn not_found(input: &Input) -> Outcome {
    if from_form(input) {
        html(404, not_found_page()).done()
    } else {
        json_error(404, "no meme with this id")
    }
}

fn no_visitor() -> Outcome {
    json_error(
        500,
        "the route must declare the read `visitor` (op `random`)",
    )
}

/// A local path to go back to after a form, or `fallback`: never another site (`//host`).
fn back(form: &Form, fallback: String) -> String {
    let back = form.text("back");
    let local = back.starts_with('/')
        && !back.starts_with("//")
        && !back.contains('\\')
        && !back.chars().any(char::is_control);
    if local { back } else { fallback }
}

/// `POST` votes, `DELETE` (or the form's `undo=1`) takes the vote back; both idempotent.
pub fn vote(input: &Input) -> Outcome {
    let Some(meme) = visible_meme(input) else {
        return not_found(input);
    };
    let Some(visitor) = Visitor::from_request(&input.request, &input.reads, RANDOM) else {
        return no_visitor();
    };
    let form = form(input);
    let want = if input.request.method == "DELETE" || form.text("undo") == "1" {
        Want::Unvote
    } else {
        Want::Vote
    };
    let count = number(&input.reads, "votes").unwrap_or(0);
    let tally = match votes::step(&input.reads, &meme.id, count, &visitor, want) {
        votes::Step::Need(reads) => return Outcome::Need(reads),
        votes::Step::Done(tally) => tally,
    };
    let reply = if from_form(input) {
        academemes_core::http::see_other(&back(&form, format!("/memes/{}#votes", meme.id)))
    } else {
        json(
            200,
            object([
                ("id", json::string(&meme.id)),
                ("votes", json::number(tally.votes)),
                (
                    "voted",
                    String::from(if tally.voted { "true" } else { "false" }),
                ),
            ]),
        )
    };
    with_cookie(reply, &visitor, input)
        .writes(tally.writes)
        .done()
}

/// Stores the visitor's report (replacing an earlier one of theirs).
pub fn report(input: &Input) -> Outcome {
    let Some(meme) = visible_meme(input) else {
        return not_found(input);
    };
    let Some(visitor) = Visitor::from_request(&input.request, &input.reads, RANDOM) else {
        return no_visitor();
    };
    let Some(now) = number(&input.reads, "now") else {
        return json_error(500, "the route must declare the read `now`");
    };
    let (reason, note) = match header(&input.request, "content-type") {
        Some(t) if t.starts_with("application/json") => {
            let body = json::parse(&input.request.body);
            let field = |name| {
                body.as_ref()
                    .and_then(|b| b.get(name))
                    .and_then(json::Value::as_str)
                    .unwrap_or_default()
                    .into()
            };
            (field("reason"), field("note"))
        }
        _ => {
            let form = form(input);
            (form.text("reason"), form.text("note"))
        }
    };
    let report = match Report::new(&meme.id, &reason, &note, now) {
        Ok(report) => report,
        // The form offers only valid reasons; a hand-made post gets the meme page back.
        Err(_) if from_form(input) => {
            return academemes_core::http::see_other(&format!(
                "/memes/{}?report=invalid#report",
                meme.id
            ))
            .done();
        }
        Err(message) => return json_error(400, &message),
    };
    let reply = if from_form(input) {
        academemes_core::http::see_other(&format!("/memes/{}?reported=1#report", meme.id))
    } else {
        json(
            201,
            object([
                ("id", json::string(&meme.id)),
                ("reported", String::from("true")),
            ]),
        )
    };
    let write = report.write(&visitor.id);
    with_cookie(reply, &visitor, input)
        .writes([write].into())
        .done()
}

fn with_cookie(reply: Reply, visitor: &Visitor, input: &Input) -> Reply {
    if visitor.new {
        reply.header("set-cookie", visitor.cookie(&input.request))
    } else {
        reply
    }
}
