//! The grid pages (home, top, tags, search) and the meme page. All user text goes through
//! `escape` (or `url_encode` then `escape` in URLs).

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::String;

use academemes_core::html::{Nav, Page, escape, layout, url_encode};
use academemes_core::listing::Source;
use academemes_core::meme::{Meme, THUMB_HEIGHT, THUMB_WIDTH};
use academemes_core::moderation::{MAX_NOTE, REASONS};
use academemes_core::time::{human_date, rfc3339};

/// An upward triangle for vote counts (decorative: the number carries the meaning).
const UPVOTE: &str = r#"<svg viewBox="0 0 16 16" aria-hidden="true" focusable="false"><path d="M8 2 15 13H1z"/></svg>"#;

/// Where a page is and who looks at it: for absolute URLs and the visitor's votes.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// `share::base_url` of the request.
    pub base: &'a str,
    /// The page's path and query, to come back to after a vote.
    pub path: &'a str,
}

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

/// The thumbnail's size for a meme of this size: the bounds [`THUMB_WIDTH`] × [`THUMB_HEIGHT`],
/// never upscaled (as the upload made it).
fn thumb_size(meme: &Meme) -> (u32, u32) {
    let (w, h) = (f64::from(meme.width), f64::from(meme.height));
    let scale = f64::min(
        1.0,
        f64::min(f64::from(THUMB_WIDTH) / w, f64::from(THUMB_HEIGHT) / h),
    );
    (((w * scale) as u32).max(1), ((h * scale) as u32).max(1))
}

/// The card's picture: the thumbnail, with the full image for screens that want more pixels.
/// Memes stored before thumbnails existed (no size) show the full image.
fn card_image(meme: &Meme, position: usize) -> String {
    let loading = if position < EAGER {
        ""
    } else {
        r#" loading="lazy""#
    };
    if meme.width == 0 || meme.height == 0 {
        return format!(
            r#"<img class="thumb" src="{}" alt="{}"{loading} decoding="async">"#,
            escape(&meme.image_url()),
            escape(&alt(meme))
        );
    }
    let (tw, th) = thumb_size(meme);
    let srcset = if meme.width > tw {
        format!(
            r#" srcset="{} {tw}w, {} {}w" sizes="(max-width: 560px) calc(100vw - 2rem), 400px""#,
            escape(&meme.thumb_url()),
            escape(&meme.image_url()),
            meme.width
        )
    } else {
        String::new()
    };
    format!(
        r#"<img class="thumb" src="{src}"{srcset} width="{tw}" height="{th}" alt="{alt}"{loading} decoding="async">"#,
        src = escape(&meme.thumb_url()),
        alt = escape(&alt(meme)),
    )
}

/// The vote button of a card or a meme page: a form that works without JavaScript (303
/// back), enhanced by assets/app.js to update in place.
fn vote_form(meme: &Meme, votes: i64, voted: bool, back: &str, card: bool) -> String {
    let id = escape(&meme.id);
    let undo = if voted {
        r#"<input type="hidden" name="undo" value="1">"#
    } else {
        ""
    };
    let label = if voted { "Voted · undo" } else { "Upvote" };
    let unit = if votes == 1 { "vote" } else { "votes" };
    let status = if voted && !card {
        "You voted for this meme."
    } else {
        ""
    };
    if card {
        format!(
            r#"<form class="card-vote{voted_class}" method="post" action="/memes/{id}/vote" data-vote="/api/memes/{id}/vote" data-voted="{voted}"><input type="hidden" name="back" value="{back}">{undo}<button type="submit" class="score" aria-pressed="{voted}" aria-label="{label}: {title}, {votes} {unit}">{UPVOTE}<span data-count>{votes}</span><span class="visually-hidden" data-unit> {unit}</span></button></form>"#,
            voted_class = if voted { " voted" } else { "" },
            back = escape(back),
            title = escape(&meme.title),
        )
    } else {
        format!(
            r#"<form class="vote{voted_class}" id="votes" method="post" action="/memes/{id}/vote" data-vote="/api/memes/{id}/vote" data-voted="{voted}">{undo}
<p class="count"><span data-count>{votes}</span> <small data-unit>{unit}</small></p>
<button type="submit" aria-pressed="{voted}">{UPVOTE}<span data-label>{label}</span></button>
<p class="status" role="status" aria-live="polite" data-status>{status}</p>
</form>"#,
            voted_class = if voted { " voted" } else { "" },
        )
    }
}

fn card(meme: &Meme, votes: i64, voted: bool, position: usize, back: &str) -> String {
    let id = escape(&meme.id);
    format!(
        r#"<li id="card-{id}"><article class="card meme-card">
{image}
<div class="body">
<h2><a href="/memes/{id}">{title}</a></h2>
{tags}
<div class="meta">{vote}<time datetime="{datetime}">{date}</time></div>
</div>
</article></li>
"#,
        image = card_image(meme, position),
        title = escape(&meme.title),
        tags = tag_list(&meme.tags),
        vote = vote_form(
            meme,
            votes,
            voted,
            &format!("{back}#card-{}", meme.id),
            true
        ),
        datetime = rfc3339(meme.created),
        date = human_date(meme.created),
    )
}

/// The grid of cards, or the empty state.
pub fn cards(memes: &[(Meme, i64)], voted: &BTreeSet<String>, back: &str, empty: &str) -> String {
    if memes.is_empty() {
        return format!(r#"<div class="empty card">{empty}</div>"#);
    }
    let cards: String = memes
        .iter()
        .enumerate()
        .map(|(i, (m, v))| card(m, *v, voted.contains(&m.id), i, back))
        .collect();
    format!(r#"<h2 class="visually-hidden">Memes</h2><ul class="grid">{cards}</ul>"#)
}

const NOTHING_YET: &str = r#"<h2>Nothing here yet</h2><p>The field is wide open: no prior work to cite. Be the first author (and the last reviewer).</p><p class="actions"><a class="button" href="/upload">Upload a meme</a> <a class="button secondary" href="/generate">Make one</a></p>"#;

/// What a grid page shows: its memes, the visitor's votes, where the next page starts, and
/// which page this is (1 for the first).
#[derive(Debug)]
pub struct Grid<'a> {
    pub memes: &'a [(Meme, i64)],
    pub voted: &'a BTreeSet<String>,
    pub next_cursor: Option<&'a str>,
    pub number: u32,
}

/// A grid of memes with its heading and pager.
pub fn grid_page(cx: Context<'_>, source: &Source, grid: &Grid<'_>) -> String {
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
    let numbered = |text: &str| {
        if grid.number > 1 {
            format!("{text} · page {}", grid.number)
        } else {
            text.into()
        }
    };
    let (title, heading) = (numbered(&title), numbered(&heading));
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
    let sep = if base.ends_with('?') { "" } else { "&" };
    let mut pager = String::new();
    if grid.number > 1 {
        let first = base.trim_end_matches('?');
        pager.push_str(&format!(
            r#"<a class="button secondary" href="{}">← First page</a><span class="page-number" aria-current="page">Page {}</span>"#,
            escape(first),
            grid.number
        ));
    }
    if let Some(cursor) = grid.next_cursor {
        let href = format!(
            "{base}{sep}cursor={}&page={}",
            url_encode(cursor),
            grid.number + 1
        );
        pager.push_str(&format!(
            r#"<a class="button" href="{}" rel="next">Page {} →</a>"#,
            escape(&href),
            grid.number + 1
        ));
    }
    let pager = if pager.is_empty() {
        pager
    } else {
        format!(r#"<nav class="pager" aria-label="Pages of memes">{pager}</nav>"#)
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
        grid = cards(grid.memes, grid.voted, cx.path, NOTHING_YET),
    );
    // The newest meme on the page is the link preview's picture.
    let image = grid.memes.first().map(|(m, _)| m.image_url());
    layout(&Page {
        image: image.as_deref(),
        base: cx.base,
        path: cx.path,
        ..Page::new(&title, lede, nav, &main)
    })
}

/// Search results, numbered pages of them.
pub fn search_page(
    cx: Context<'_>,
    q: &str,
    results: &academemes_core::search::Results,
    page: usize,
    voted: &BTreeSet<String>,
) -> String {
    let heading = if q.trim().is_empty() {
        String::from("Search the memes")
    } else {
        format!("Memes about “{q}”")
    };
    let summary = match results.total {
        _ if q.trim().is_empty() => String::from(
            "Type a word or two in the search box above: titles, captions and tags are searched.",
        ),
        0 => String::from("Nothing found. Reviewer 2 suggests broader keywords."),
        1 => String::from("1 meme found."),
        n if results.pages > 1 => format!("{n} memes found; page {page} of {}.", results.pages),
        n => format!("{n} memes found."),
    };
    let link = |p: usize| format!("/search?q={}&page={p}", url_encode(q));
    let mut pager = String::new();
    if page > 1 {
        pager.push_str(&format!(
            r#"<a class="button secondary" href="{}" rel="prev">← Page {}</a>"#,
            escape(&link(page - 1)),
            page - 1
        ));
    }
    if results.pages > 1 {
        pager.push_str(&format!(
            r#"<span class="page-number" aria-current="page">Page {page} of {}</span>"#,
            results.pages
        ));
    }
    if page < results.pages {
        pager.push_str(&format!(
            r#"<a class="button" href="{}" rel="next">Page {} →</a>"#,
            escape(&link(page + 1)),
            page + 1
        ));
    }
    let pager = if pager.is_empty() {
        pager
    } else {
        format!(r#"<nav class="pager" aria-label="Pages of results">{pager}</nav>"#)
    };
    let empty = if q.trim().is_empty() {
        ""
    } else {
        r#"<h2>No memes match</h2><p>Try another word, or make the meme that is missing.</p><p class="actions"><a class="button" href="/generate">Make one</a></p>"#
    };
    let main = format!(
        r#"<section class="hero"><div><p class="kicker">Search</p><h1>{heading}</h1><p class="lede" role="status">{summary}</p></div></section>
{grid}
{pager}"#,
        heading = escape(&heading),
        summary = escape(&summary),
        grid = if results.total == 0 {
            String::new()
        } else {
            cards(&results.memes, voted, cx.path, empty)
        },
    );
    let main = if results.total == 0 && !empty.is_empty() {
        format!(r#"{main}<div class="empty card">{empty}</div>"#)
    } else {
        main
    };
    layout(&Page {
        query: q,
        ..Page::new(
            &heading,
            "Search Academemes: titles, captions and tags.",
            Nav::None,
            &main,
        )
    })
}

/// One meme: the image, its words, its tags, its vote form, sharing and reporting.
pub fn meme_page(
    cx: Context<'_>,
    meme: &Meme,
    votes: i64,
    voted: bool,
    notice: Option<&str>,
) -> String {
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
    let url = format!("{}/memes/{}", cx.base, meme.id);
    let size = if meme.width > 0 && meme.height > 0 {
        format!(r#" width="{}" height="{}""#, meme.width, meme.height)
    } else {
        String::new()
    };
    let reasons: String = REASONS
        .iter()
        .enumerate()
        .map(|(i, (value, label))| {
            format!(
                r#"<label class="reason"><input type="radio" name="reason" value="{value}"{checked} required> {label}</label>"#,
                checked = if i == 0 { " checked" } else { "" }
            )
        })
        .collect();
    let report_status = match notice {
        Some("reported") => "Thank you: a moderator will have a look.",
        Some("invalid") => "Please pick a reason from the list.",
        _ => "",
    };
    let main = format!(
        r#"<p class="back"><a href="/">← All memes</a></p>
<article class="meme-page" aria-labelledby="meme-title">
<figure class="card meme-figure"><img src="{src}"{size} alt="{alt}"></figure>
<div class="card meme-info">
<h1 id="meme-title">{title}</h1>
{caption}
<dl class="facts"><dt>Published</dt><dd><time datetime="{datetime}">{date}</time></dd>{tags}</dl>
{vote}
<p class="hint">One vote per visitor. Votes are anonymous and, unlike reviews, always constructive.</p>
<div class="share"><button type="button" class="button secondary" data-copy="{url}">Copy link</button><span class="status" role="status" aria-live="polite" data-copy-status></span></div>
<details class="report" id="report"{open}>
<summary>Report this meme</summary>
<form method="post" action="/memes/{id}/report" data-report="/api/memes/{id}/report">
<fieldset><legend>What is wrong with it?</legend>{reasons}</fieldset>
<div class="field"><label for="report-note">Anything else? <span class="hint">(optional)</span></label><textarea id="report-note" name="note" rows="2" maxlength="{MAX_NOTE}"></textarea></div>
<button type="submit" class="button secondary">Send report</button>
<p class="status" role="status" aria-live="polite" data-report-status>{report_status}</p>
</form>
</details>
</div>
</article>"#,
        src = escape(&meme.image_url()),
        alt = escape(&alt(meme)),
        title = escape(&meme.title),
        datetime = rfc3339(meme.created),
        date = human_date(meme.created),
        vote = vote_form(meme, votes, voted, "", false),
        url = escape(&url),
        open = if notice.is_some() { " open" } else { "" },
    );
    let description = if meme.caption.is_empty() {
        plural(votes, "vote", "votes")
    } else {
        meme.caption.clone()
    };
    let path = format!("/memes/{}", meme.id);
    layout(&Page {
        image: Some(&meme.image_url()),
        base: cx.base,
        path: &path,
        ..Page::new(&meme.title, &description, Nav::None, &main)
    })
}

/// The moderators' page: a shell whose script asks for the token and then uses the guarded
/// JSON API (the host, not this page, checks the token).
pub fn admin_page() -> String {
    let main = r#"<header class="page-head"><h1>Moderation</h1>
<p class="lede">Reported memes, most recently reported first. Hide takes a meme off every page (and can be undone); delete removes it with its votes, reports, tags and search entries.</p></header>
<form class="card form admin-login" data-admin>
<div class="field"><label for="admin-token">Moderator token</label><input id="admin-token" name="token" type="password" autocomplete="current-password" required></div>
<div class="form-actions"><button class="button" type="submit">Show reports</button></div>
<p class="status" role="status" aria-live="polite" data-admin-status></p>
</form>
<section aria-label="Reported memes"><ul class="reports" data-reports></ul></section>"#;
    layout(&Page::new(
        "Moderation",
        "Academemes moderation.",
        Nav::None,
        main,
    ))
}
