//! The generator form: pick a template or a picture of one's own, write the top and bottom
//! text, choose the text size, watch the live preview (assets/app.js), add a title and tags,
//! and publish with `POST /generate` (multipart, so that a picture can come along) to the
//! `[generator, upload]` pipeline. Shared by the pages (the empty form) and the pipeline's
//! steps (the form again, filled in, when publishing failed).

use alloc::format;
use alloc::string::String;

use crate::html::{Nav, Page, escape, layout, url_encode};
use crate::meme::MAX_TITLE;

/// Text the form starts with, so the preview shows a finished meme at once.
const TOP: &str = "Reviewer 2: minor revisions";
const BOTTOM: &str = "Also rewrite the whole paper";

/// What the form shows: the values to keep and an error to announce.
#[derive(Debug, Clone, Default)]
pub struct GenerateForm<'a> {
    pub template: &'a str,
    pub top: &'a str,
    pub bottom: &'a str,
    pub size: &'a str,
    pub title: &'a str,
    pub tags: &'a str,
    pub error: Option<&'a str>,
}

impl GenerateForm<'_> {
    /// The form as a first visit shows it.
    pub fn start() -> GenerateForm<'static> {
        GenerateForm {
            template: memegen::templates().first().map_or("", |t| t.id),
            top: TOP,
            bottom: BOTTOM,
            size: "medium",
            ..GenerateForm::default()
        }
    }
}

pub fn page(form: &GenerateForm<'_>) -> String {
    let templates = memegen::templates();
    let chosen = if templates.iter().any(|t| t.id == form.template) {
        form.template
    } else {
        templates.first().map_or("", |t| t.id)
    };
    let choices: String = templates
        .iter()
        .map(|t| {
            let checked = if t.id == chosen { " checked" } else { "" };
            format!(
                r#"<div class="template"><input type="radio" name="template" id="t-{id}" value="{id}"{checked}><label for="t-{id}" title="{description}"><img src="/generate/preview?template={id}" alt="" loading="lazy" width="600" height="450">{name}</label></div>"#,
                id = escape(t.id),
                name = escape(t.name),
                description = escape(t.description),
            )
        })
        .collect();
    let size = memegen::TextSize::parse(form.size).unwrap_or_default();
    let sizes: String = [
        (memegen::TextSize::Small, "Small"),
        (memegen::TextSize::Medium, "Medium"),
        (memegen::TextSize::Large, "Large"),
    ]
    .iter()
    .map(|(s, label)| {
        let checked = if *s == size { " checked" } else { "" };
        format!(
            r#"<label class="size"><input type="radio" name="size" value="{v}"{checked}> {label}</label>"#,
            v = s.name()
        )
    })
    .collect();
    let preview = format!(
        "/generate/preview?template={}&top={}&bottom={}&size={}",
        url_encode(chosen),
        url_encode(form.top),
        url_encode(form.bottom),
        size.name()
    );
    let error = form
        .error
        .map(|e| {
            format!(
                r#"<div class="alert" role="alert" id="form-error"><strong>That didn't go through.</strong> {} <span class="again">Your text is kept; a picture of your own has to be chosen again.</span></div>"#,
                escape(e)
            )
        })
        .unwrap_or_default();
    let max_text = memegen::MAX_TEXT_CHARS;
    let main = format!(
        r#"<header class="page-head">
<h1>Make a meme</h1>
<p class="lede">Pick a template, write the top and bottom text, publish. No LaTeX was compiled in the making of these images.</p>
</header>
{error}
<form class="generator" method="post" action="/generate" enctype="multipart/form-data" data-generator>
<div class="card form gen-edit">
<fieldset class="templates"><legend class="legend">Template</legend>{choices}</fieldset>
<div class="field"><label for="picture">Or your own picture</label><input id="picture" name="image" type="file" accept="image/png,image/jpeg,image/gif,image/webp" aria-describedby="picture-hint"><p class="hint" id="picture-hint">PNG, JPEG, GIF or WebP up to 5 MiB; it replaces the template.</p></div>
<div class="field"><label for="top">Top text</label><input id="top" name="top" type="text" maxlength="{max_text}" value="{top}" autocomplete="off"></div>
<div class="field"><label for="bottom">Bottom text</label><input id="bottom" name="bottom" type="text" maxlength="{max_text}" value="{bottom}" autocomplete="off"></div>
<fieldset class="sizes"><legend class="legend">Text size</legend>{sizes}</fieldset>
</div>
<aside class="card preview-panel" aria-label="Preview">
<img src="{preview}" alt="Preview of your meme" width="600" height="450" data-live-preview data-preview-url="/generate/preview" data-fields="template,top,bottom,size">
<p class="hint" aria-live="polite" data-preview-status>The preview follows your text as you type.</p>
</aside>
<div class="card form gen-publish">
<div class="field"><label for="title">Title <span class="req">(required)</span></label><input id="title" name="title" type="text" maxlength="{MAX_TITLE}" required value="{title}" placeholder="When the reviewer says minor revisions" autocomplete="off"></div>
<div class="field"><label for="tags">Tags</label><input id="tags" name="tags" type="text" value="{tags}" placeholder="peer-review, reviewer-2" aria-describedby="gen-tags-hint" autocomplete="off"><p class="hint" id="gen-tags-hint">Comma-separated, up to 8.</p></div>
<div class="form-actions"><button class="button" type="submit">Publish meme</button><span class="hint">Straight to the front page. No embargo.</span></div>
</div>
</form>"#,
        top = escape(form.top),
        bottom = escape(form.bottom),
        title = escape(form.title),
        tags = escape(form.tags),
        preview = escape(&preview),
    );
    layout(&Page::new(
        "Make a meme",
        "Make an academic meme from a template: Reviewer 2, p = 0.051, LaTeX errors and more.",
        Nav::Generate,
        &main,
    ))
}

/// The form again, filled in from what was sent, with `message` announced.
pub fn page_again(sent: &crate::upload::Form, message: &str) -> String {
    let text = |name| sent.text(name);
    let (template, top, bottom, size, title, tags) = (
        text("template"),
        text("top"),
        text("bottom"),
        text("size"),
        text("title"),
        text("tags"),
    );
    page(&GenerateForm {
        template: &template,
        top: &top,
        bottom: &bottom,
        size: &size,
        title: &title,
        tags: &tags,
        error: Some(message),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_the_form_again_with_the_values_and_the_error() {
        let html = page(&GenerateForm {
            template: "latex",
            top: "Ωμέγα <b>",
            size: "large",
            error: Some("A title is required"),
            ..GenerateForm::default()
        });
        assert!(html.contains(r#"value="latex" checked"#));
        assert!(html.contains(r#"value="Ωμέγα &lt;b&gt;""#));
        assert!(html.contains(r#"value="large" checked"#));
        assert!(html.contains("role=\"alert\""));
        assert!(html.contains("<form class=\"generator\""));
    }
}
