//! HTML: escaping, the layout every page shares, and the pieces more than one handler renders
//! (the upload form, error pages).
//!
//! Every piece of user text goes through [`escape`] on its way into a page; nothing else here
//! builds markup from user input.

use alloc::format;
use alloc::string::String;

use crate::assets;
use crate::meme::{MAX_CAPTION, MAX_TITLE};

/// Escapes text for HTML element content and quoted attribute values (HTML standard,
/// "serializing HTML fragments", plus `'` for single-quoted attributes).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a path segment or query value (RFC 3986 unreserved characters stay).
pub fn url_encode(s: &str) -> String {
    nebula_guest::percent_encode(s)
}

/// Which nav entry is the current page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Home,
    Top,
    Generate,
    Upload,
    None,
}

/// What a page puts in the layout.
#[derive(Debug, Clone)]
pub struct Page<'a> {
    /// The page's own title (the site name is appended).
    pub title: &'a str,
    /// For `<meta name=description>` and link previews.
    pub description: &'a str,
    /// An image for link previews (`og:image`), site-relative.
    pub image: Option<&'a str>,
    pub nav: Nav,
    /// The `<main>` content, already HTML.
    pub main: &'a str,
    /// The site's origin (`share::base_url`), for absolute `og:` and canonical URLs; empty on
    /// pages that should have none (errors).
    pub base: &'a str,
    /// The page's canonical path and query, e.g. `/memes/abc`.
    pub path: &'a str,
    /// What the header's search box shows.
    pub query: &'a str,
}

impl<'a> Page<'a> {
    /// A page with no preview image, canonical URL or search text.
    pub fn new(title: &'a str, description: &'a str, nav: Nav, main: &'a str) -> Page<'a> {
        Page {
            title,
            description,
            image: None,
            nav,
            main,
            base: "",
            path: "",
            query: "",
        }
    }
}

/// The mortarboard of the logo, drawn inline so that no font or request is needed.
const LOGO: &str = r#"<svg class="logo" viewBox="0 0 32 32" aria-hidden="true" focusable="false"><path d="M16 5 1 12l15 7 12-5.6V22h2v-9.6L31 12z" fill="currentColor"/><path d="M7 16.6V22c0 2.8 4 5 9 5s9-2.2 9-5v-5.4l-9 4.2z" fill="currentColor" opacity=".75"/><circle cx="29" cy="23.5" r="1.8" fill="var(--accent)"/></svg>"#;

/// A whole HTML document around `page.main`.
pub fn layout(page: &Page<'_>) -> String {
    let item = |nav: Nav, href: &str, label: &str, class: &str| {
        let current = if page.nav == nav {
            r#" aria-current="page""#
        } else {
            ""
        };
        format!(r#"<li><a href="{href}" class="{class}"{current}>{label}</a></li>"#)
    };
    let og_image = page
        .image
        .map(|src| {
            format!(
                r#"<meta property="og:image" content="{}">
<meta name="twitter:image" content="{0}">"#,
                escape(&format!("{}{src}", page.base))
            )
        })
        .unwrap_or_default();
    let card = if page.image.is_some() {
        "summary_large_image"
    } else {
        "summary"
    };
    let canonical = if page.base.is_empty() {
        String::new()
    } else {
        let url = escape(&format!("{}{}", page.base, page.path));
        format!(
            r#"<link rel="canonical" href="{url}">
<meta property="og:url" content="{url}">"#
        )
    };
    format!(
        r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Academemes</title>
<meta name="description" content="{description}">
<meta name="color-scheme" content="light dark">
<meta name="theme-color" content="#1f2a48">
<meta property="og:site_name" content="Academemes">
<meta property="og:title" content="{title}">
<meta property="og:description" content="{description}">
<meta property="og:type" content="website">
<meta name="twitter:card" content="{card}">
<meta name="twitter:title" content="{title}">
{og_image}
{canonical}
<link rel="alternate" type="application/atom+xml" title="Academemes: newest memes" href="/feed.xml">
<link rel="icon" href="/assets/favicon.svg?v={icon_v}" type="image/svg+xml">
<link rel="stylesheet" href="/assets/app.css?v={css_v}">
<script src="/assets/app.js?v={js_v}" defer></script>
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="site-header">
<div class="wrap header-row">
<a class="brand" href="/">{LOGO}<span>Academemes</span></a>
<form class="search" role="search" action="/search" method="get">
<label class="visually-hidden" for="site-search">Search memes</label>
<input id="site-search" name="q" type="search" value="{query}" placeholder="Search memes" autocomplete="off" maxlength="200">
<button type="submit" class="search-button"><svg viewBox="0 0 16 16" aria-hidden="true" focusable="false"><circle cx="6.5" cy="6.5" r="4.5" fill="none" stroke="currentColor" stroke-width="2"/><path d="m10 10 4.5 4.5" stroke="currentColor" stroke-width="2" stroke-linecap="round"/></svg><span class="visually-hidden">Search</span></button>
</form>
<nav aria-label="Main"><ul class="nav">
{home}{top}{generate}{upload}
</ul></nav>
</div>
</header>
<main id="main" class="wrap" tabindex="-1">
{main}
</main>
<footer class="site-footer">
<div class="wrap">
<p><strong>Academemes</strong>: memes about academia, peer-reviewed by nobody.</p>
<p class="fine">No p-values were harmed in the making of this website. Served by pure WebAssembly on Nebula.</p>
</div>
</footer>
</body>
</html>
"##,
        title = escape(page.title),
        description = escape(page.description),
        icon_v = assets::version("favicon.svg"),
        css_v = assets::version("app.css"),
        js_v = assets::version("app.js"),
        home = item(Nav::Home, "/", "Home", ""),
        top = item(Nav::Top, "/?sort=top", "Top", ""),
        generate = item(Nav::Generate, "/generate", "Generate", ""),
        upload = item(Nav::Upload, "/upload", "Upload", "nav-cta"),
        main = page.main,
        query = escape(page.query),
    )
}

/// A page that explains what went wrong, with a way on.
pub fn error_page(status: u16, heading: &str, message: &str) -> String {
    let main = format!(
        r#"<section class="error-page" aria-labelledby="error-title">
<p class="error-code" aria-hidden="true">{status}</p>
<h1 id="error-title">{heading}</h1>
<p class="lede">{message}</p>
<p class="actions"><a class="button" href="/">Back to the memes</a> <a class="button secondary" href="/upload">Upload one</a></p>
</section>"#,
        heading = escape(heading),
        message = escape(message),
    );
    layout(&Page::new(heading, message, Nav::None, &main))
}

/// The friendly 404.
pub fn not_found_page() -> String {
    error_page(
        404,
        "This page is still under review",
        "Reviewer 2 has requested major revisions to this URL. Maybe the meme never existed, or it was desk-rejected.",
    )
}

/// What the upload form shows: the values to keep, and an error to announce.
#[derive(Debug, Clone, Default)]
pub struct UploadForm<'a> {
    pub title: &'a str,
    pub caption: &'a str,
    pub tags: &'a str,
    pub error: Option<&'a str>,
}

/// The upload page; it posts `multipart/form-data` to `/upload`.
pub fn upload_page(form: &UploadForm<'_>) -> String {
    // A browser never sends a file input's file back with a re-shown form: say so.
    let error = form
        .error
        .map(|e| {
            format!(
                r#"<div class="alert" role="alert" id="form-error"><strong>That didn't go through.</strong> {} <span class="again">Your text is kept below, but the image is not: please choose the file again.</span></div>"#,
                escape(e)
            )
        })
        .unwrap_or_default();
    let described = if form.error.is_some() {
        r#" aria-describedby="form-error""#
    } else {
        ""
    };
    let main = format!(
        r#"<div class="form-page">
<header class="page-head">
<h1>Upload a meme</h1>
<p class="lede">Share your suffering with the academic community. Unlike your manuscript, this will be published immediately.</p>
</header>
{error}
<form class="card form" method="post" action="/upload" enctype="multipart/form-data" data-upload{described}>
<div class="field">
<label for="image">Image <span class="req">(required)</span></label>
<input id="image" name="image" type="file" accept="image/png,image/jpeg,image/gif,image/webp" required aria-describedby="image-hint">
<p class="hint" id="image-hint">PNG, JPEG, GIF or WebP, up to 5 MiB.</p>
<img class="upload-preview" alt="" hidden data-preview>
</div>
<div class="field">
<label for="title">Title <span class="req">(required)</span></label>
<input id="title" name="title" type="text" maxlength="{MAX_TITLE}" required value="{title}" placeholder="When Reviewer 2 asks for one more experiment" autocomplete="off">
</div>
<div class="field">
<label for="caption">Caption</label>
<textarea id="caption" name="caption" rows="3" maxlength="{MAX_CAPTION}" aria-describedby="caption-hint">{caption}</textarea>
<p class="hint" id="caption-hint">Optional. Also used as the image description for screen readers, so describe the joke.</p>
</div>
<div class="field">
<label for="tags">Tags</label>
<input id="tags" name="tags" type="text" value="{tags}" placeholder="peer-review, reviewer-2" aria-describedby="tags-hint" autocomplete="off">
<p class="hint" id="tags-hint">Comma-separated, up to 8. Letters, digits, - and _.</p>
</div>
<div class="form-actions">
<button class="button" type="submit">Publish meme</button>
<span class="hint">No peer review. No revisions. No cover letter.</span>
</div>
</form>
</div>"#,
        title = escape(form.title),
        caption = escape(form.caption),
        tags = escape(form.tags),
    );
    layout(&Page::new(
        "Upload a meme",
        "Upload an academic meme to Academemes.",
        Nav::Upload,
        &main,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
    }

    #[test]
    fn encodes_url_parts() {
        assert_eq!(url_encode("p-values"), "p-values");
        assert_eq!(url_encode("a b/é?"), "a%20b%2F%C3%A9%3F");
    }

    #[test]
    fn lays_out_a_page_with_escaped_title_and_current_nav() {
        let html = layout(&Page {
            image: Some("/memes/x/image"),
            base: "http://h",
            path: "/memes/x",
            query: "\"><q>",
            ..Page::new("<b>", "d", Nav::Top, "<p>hi</p>")
        });
        assert!(html.contains(r#"<meta property="og:image" content="http://h/memes/x/image">"#));
        assert!(html.contains(r#"<link rel="canonical" href="http://h/memes/x">"#));
        assert!(html.contains(r#"<meta name="twitter:card" content="summary_large_image">"#));
        assert!(html.contains(r#"value="&quot;&gt;&lt;q&gt;""#));
        assert!(html.contains("<title>&lt;b&gt; · Academemes</title>"));
        assert!(html.contains(r#"<a href="/?sort=top" class="" aria-current="page">Top</a>"#));
        assert!(html.contains(r##"<a class="skip-link" href="#main">"##));
        assert!(html.contains("<p>hi</p>"));
    }

    #[test]
    fn keeps_form_values_escaped() {
        let html = upload_page(&UploadForm {
            title: "\"><script>",
            error: Some("<no>"),
            ..Default::default()
        });
        assert!(html.contains(r#"value="&quot;&gt;&lt;script&gt;""#));
        assert!(html.contains("&lt;no&gt;"));
        assert!(html.contains("choose the file again"));
        assert!(!html.contains("<script>"));
    }
}
