//! The grid pages and the meme page. All user text goes through `escape` (or `url_encode` then
//! `escape` in URLs).

use alloc::format;
use alloc::string::String;

use academemes_core::html::{Nav, Page, escape, layout, url_encode};
use academemes_core::listing::{Listing, Source};
use academemes_core::meme::Meme;
use academemes_core::time::{human_date, rfc3339};

/// An upward triangle for vote counts (decorative: the number carries the meaning).
const UPVOTE: &str = r#"<svg viewBox="0 0 16 16" aria-hidden="true" focusable="false"><path d="M8 2 15 13H1z"/></svg>"#;

/// The image's text alternative: what the meme says (HTML standard, "alt" for images that
/// convey information).
fn alt(meme: &Meme) -> String {
    if meme.caption.is_empty() {
        meme.title.clone()
    } else {
        format!("{}. {}", meme.title, meme.caption)
    }
}

fn tag_list(tags: &[String]) -> String {
    if tags.is_empty() {
        return String::new();
    }
    let items: String = tags
        .iter()
        .map(|t| {
            format!(
                r#"<li><a href="/tags/{}">#{}</a></li>"#,
                escape(&url_encode(t)),
                escape(t)
            )
        })
        .collect();
    format!(r#"<ul class="tags" aria-label="Tags">{items}</ul>"#)
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Cards from this position on load lazily; the first rows load at once (they are the
/// largest paint of the page).
const EAGER: usize = 8;

fn card(meme: &Meme, votes: i64, position: usize) -> String {
    format!(
        r#"<li><article class="card meme-card">
<img class="thumb" src="{src}" alt="{alt}"{loading} decoding="async">
<div class="body">
<h2><a href="/memes/{id}">{title}</a></h2>
{tags}
<div class="meta"><span class="score">{UPVOTE}{votes}<span class="visually-hidden"> {unit}</span></span><time datetime="{datetime}">{date}</time></div>
</div>
</article></li>
"#,
        src = escape(&meme.image_url()),
        alt = escape(&alt(meme)),
        id = escape(&meme.id),
        title = escape(&meme.title),
        tags = tag_list(&meme.tags),
        unit = if votes == 1 { "vote" } else { "votes" },
        datetime = rfc3339(meme.created),
        date = human_date(meme.created),
        loading = if position < EAGER {
            ""
        } else {
            r#" loading="lazy""#
        },
    )
}

/// A grid of memes with its heading and pager.
pub fn grid_page(source: &Source, page: &Listing, continued: bool) -> String {
    let (nav, title, kicker, heading, lede, base) = match source {
        Source::New => (
            Nav::Home,
            String::from("Academic memes"),
            "Peer-reviewed by nobody",
            String::from("Fresh from the review queue"),
            "Memes about peer review, p-values, deadlines, LaTeX and the thesis you will finish next month. Newest first.",
            String::from("/?sort=new"),
        ),
        Source::Top => (
            Nav::Top,
            String::from("Top memes"),
            "Highly cited",
            String::from("The most upvoted suffering"),
            "Ranked by votes, the only impact factor that matters.",
            String::from("/?sort=top"),
        ),
        Source::Tag(tag) => (
            Nav::None,
            format!("#{tag}"),
            "Tag",
            format!("#{tag}"),
            "Every meme filed under this keyword, newest first.",
            format!("/tags/{}?", url_encode(tag)),
        ),
    };
    let tabs = match source {
        Source::Tag(_) => String::from(r#"<a class="button secondary" href="/">All memes</a>"#),
        _ => {
            let current = |s: &Source| {
                if s == source {
                    r#" aria-current="page""#
                } else {
                    ""
                }
            };
            format!(
                r#"<nav class="tabs" aria-label="Sort memes"><a href="/"{}>Newest</a><a href="/?sort=top"{}>Top</a></nav>"#,
                current(&Source::New),
                current(&Source::Top)
            )
        }
    };
    let cards: String = page
        .memes
        .iter()
        .enumerate()
        .map(|(i, (m, v))| card(m, *v, i))
        .collect();
    let grid = if page.memes.is_empty() {
        String::from(
            r#"<div class="empty card"><h2>Nothing here yet</h2><p>The field is wide open: no prior work to cite. Be the first author (and the last reviewer).</p><p class="actions"><a class="button" href="/upload">Upload a meme</a> <a class="button secondary" href="/generate">Make one</a></p></div>"#,
        )
    } else {
        format!(r#"<h2 class="visually-hidden">Memes</h2><ul class="grid">{cards}</ul>"#)
    };
    let sep = if base.ends_with('?') { "" } else { "&" };
    let mut pager = String::new();
    if continued {
        let first = base.trim_end_matches('?');
        pager.push_str(&format!(
            r#"<a class="button secondary" href="{}">← First page</a>"#,
            escape(first)
        ));
    }
    if let Some(cursor) = &page.next_cursor {
        let href = format!("{base}{sep}cursor={}", url_encode(cursor));
        pager.push_str(&format!(
            r#"<a class="button" href="{}" rel="next">More memes →</a>"#,
            escape(&href)
        ));
    }
    let pager = if pager.is_empty() {
        pager
    } else {
        format!(r#"<nav class="pager" aria-label="More memes">{pager}</nav>"#)
    };
    let main = format!(
        r#"<section class="hero">
<div><p class="kicker">{kicker}</p><h1>{heading}</h1><p class="lede">{lede}</p></div>
{tabs}
</section>
{grid}
{pager}
<section class="panels" aria-label="Around the department">
<aside class="card panel" aria-label="Quote of the day" data-fragment="/fragments/quote" data-dated><h2 class="panel-title">Quote of the day</h2></aside>
<aside class="card panel" aria-label="Popular tags" data-fragment="/fragments/tagcloud?top=24"><h2 class="panel-title">Popular tags</h2></aside>
</section>"#,
        heading = escape(&heading),
    );
    layout(&Page {
        title: &title,
        description: lede,
        image: None,
        nav,
        main: &main,
    })
}

/// One meme: the image, its words, its tags and its vote form.
pub fn meme_page(meme: &Meme, votes: i64) -> String {
    let caption = if meme.caption.is_empty() {
        String::new()
    } else {
        format!(r#"<p class="caption">{}</p>"#, escape(&meme.caption))
    };
    let tags = if meme.tags.is_empty() {
        String::new()
    } else {
        format!("<dt>Tags</dt><dd>{}</dd>", tag_list(&meme.tags))
    };
    let id = escape(&meme.id);
    let main = format!(
        r#"<p class="back"><a href="/">← All memes</a></p>
<article class="meme-page" aria-labelledby="meme-title">
<figure class="card meme-figure"><img src="{src}" alt="{alt}"></figure>
<div class="card meme-info">
<h1 id="meme-title">{title}</h1>
{caption}
<dl class="facts"><dt>Published</dt><dd><time datetime="{datetime}">{date}</time></dd>{tags}</dl>
<form class="vote" id="votes" method="post" action="/memes/{id}/vote" data-vote="/api/memes/{id}/vote">
<p class="count"><span data-count>{votes}</span> <small data-unit>{unit}</small></p>
<button type="submit">{UPVOTE}Upvote</button>
<p class="status" role="status" aria-live="polite" data-status></p>
</form>
<p class="hint">Votes are anonymous and, unlike reviews, always constructive.</p>
</div>
</article>"#,
        src = escape(&meme.image_url()),
        alt = escape(&alt(meme)),
        title = escape(&meme.title),
        datetime = rfc3339(meme.created),
        date = human_date(meme.created),
        unit = if votes == 1 { "vote" } else { "votes" },
    );
    let description = if meme.caption.is_empty() {
        plural(votes, "vote", "votes")
    } else {
        meme.caption.clone()
    };
    layout(&Page {
        title: &meme.title,
        description: &description,
        image: Some(&meme.image_url()),
        nav: Nav::None,
        main: &main,
    })
}
