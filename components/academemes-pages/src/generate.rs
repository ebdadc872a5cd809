//! The generator form: pick a template (thumbnails from the generator's preview route), write
//! the top and bottom text, watch the live preview (assets/app.js), add a title and tags, and
//! publish with `POST /generate` (urlencoded) to the `[generator, upload]` pipeline.

use alloc::format;
use alloc::string::String;

use academemes_core::html::{Nav, Page, escape, layout, url_encode};
use academemes_core::meme::MAX_TITLE;

/// Text the form starts with, so the preview shows a finished meme at once.
const TOP: &str = "Reviewer 2: minor revisions";
const BOTTOM: &str = "Also rewrite the whole paper";

pub fn page() -> String {
    let templates = memegen::templates();
    let first = templates.first().map_or("", |t| t.id);
    let choices: String = templates
        .iter()
        .map(|t| {
            let checked = if t.id == first { " checked" } else { "" };
            format!(
                r#"<div class="template"><input type="radio" name="template" id="t-{id}" value="{id}"{checked}><label for="t-{id}" title="{description}"><img src="/generate/preview?template={id}" alt="" loading="lazy" width="600" height="450">{name}</label></div>"#,
                id = escape(t.id),
                name = escape(t.name),
                description = escape(t.description),
            )
        })
        .collect();
    let preview = format!(
        "/generate/preview?template={}&top={}&bottom={}",
        url_encode(first),
        url_encode(TOP),
        url_encode(BOTTOM)
    );
    let max_text = memegen::MAX_TEXT_CHARS;
    let main = format!(
        r#"<header class="page-head">
<h1>Make a meme</h1>
<p class="lede">Pick a template, write the top and bottom text, publish. No LaTeX was compiled in the making of these images.</p>
</header>
<form class="generator" method="post" action="/generate" data-generator>
<div class="card form gen-edit">
<fieldset class="templates"><legend class="legend">Template</legend>{choices}</fieldset>
<div class="field"><label for="top">Top text</label><input id="top" name="top" type="text" maxlength="{max_text}" value="{top}" autocomplete="off"></div>
<div class="field"><label for="bottom">Bottom text</label><input id="bottom" name="bottom" type="text" maxlength="{max_text}" value="{bottom}" autocomplete="off"></div>
</div>
<aside class="card preview-panel" aria-label="Preview">
<img src="{preview}" alt="Preview of your meme" width="600" height="450" data-live-preview data-preview-url="/generate/preview" data-fields="template,top,bottom">
<p class="hint" aria-live="polite" data-preview-status>The preview follows your text as you type.</p>
</aside>
<div class="card form gen-publish">
<div class="field"><label for="title">Title <span class="req">(required)</span></label><input id="title" name="title" type="text" maxlength="{MAX_TITLE}" required placeholder="When the reviewer says minor revisions" autocomplete="off"></div>
<div class="field"><label for="tags">Tags</label><input id="tags" name="tags" type="text" placeholder="peer-review, reviewer-2" aria-describedby="gen-tags-hint" autocomplete="off"><p class="hint" id="gen-tags-hint">Comma-separated, up to 8.</p></div>
<div class="form-actions"><button class="button" type="submit">Publish meme</button><span class="hint">Straight to the front page. No embargo.</span></div>
</div>
</form>"#,
        top = escape(TOP),
        bottom = escape(BOTTOM),
        preview = escape(&preview),
    );
    layout(&Page {
        title: "Make a meme",
        description: "Make an academic meme from a template: Reviewer 2, p = 0.051, LaTeX errors and more.",
        image: None,
        nav: Nav::Generate,
        main: &main,
    })
}
