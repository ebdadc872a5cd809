//! Sharing and layout: the Atom feed (parsed as XML), the sitemap, robots.txt, absolute link
//! previews and canonical links, numbered pages, and the assets.

use crate::harness::site::{first_id, ids, ok_json, site, site_on, site_with, some_png, upload};
use crate::harness::{TestStore, per_store};
use anyhow::{Context, Result, ensure};

per_store!(serves_assets_immutable_with_strong_etags_and_304,);

#[test]
fn serves_an_atom_feed_a_sitemap_and_robots_txt() -> Result<()> {
    let host = site()?;
    let base = format!("http://{}", host.addr);
    let feed = host.get("/feed.xml")?;
    ensure!(feed.status == 200, "feed: {}", feed.status);
    ensure!(
        feed.header("content-type")
            .is_some_and(|t| t.starts_with("application/atom+xml")),
        "{:?}",
        feed.header("content-type")
    );
    let text = feed.text();
    let doc = roxmltree::Document::parse(&text).context("the feed is not well-formed XML")?;
    let root = doc.root_element();
    const ATOM: &str = "http://www.w3.org/2005/Atom";
    ensure!(
        root.has_tag_name((ATOM, "feed")),
        "root is {:?}",
        root.tag_name()
    );
    for required in ["id", "title", "updated"] {
        ensure!(
            child(root, required).is_some(),
            "the feed has no <{required}>"
        );
    }
    let entries: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name((ATOM, "entry")))
        .collect();
    ensure!(entries.len() >= 12, "{} entries", entries.len());
    let newest = first_id(&host)?;
    let first = entries[0];
    ensure!(
        child(first, "id").and_then(|n| n.text()) == Some(&format!("{base}/memes/{newest}")[..]),
        "the first entry is not the newest meme"
    );
    for required in ["title", "updated", "link", "content"] {
        ensure!(
            child(first, required).is_some(),
            "an entry has no <{required}>"
        );
    }

    let sitemap = host.get("/sitemap.xml")?.text();
    let doc = roxmltree::Document::parse(&sitemap).context("the sitemap is not XML")?;
    let locs: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("loc"))
        .filter_map(|n| n.text())
        .collect();
    ensure!(
        locs.contains(&&format!("{base}/memes/{newest}")[..]),
        "{locs:?}"
    );

    let robots = host.get("/robots.txt")?.text();
    ensure!(robots.contains("Disallow: /api/"), "{robots}");
    ensure!(
        robots.contains(&format!("Sitemap: {base}/sitemap.xml")),
        "{robots}"
    );
    Ok(())
}

#[test]
fn pages_carry_absolute_previews_canonical_links_and_page_numbers() -> Result<()> {
    let host = site_with(&["--rate-limits", "off"])?;
    let base = format!("http://{}", host.addr);
    let id = first_id(&host)?;
    let page = host.get(&format!("/memes/{id}"))?.text();
    for needle in [
        format!(r#"<meta property="og:image" content="{base}/memes/{id}/image">"#),
        format!(r#"<meta property="og:url" content="{base}/memes/{id}">"#),
        format!(r#"<link rel="canonical" href="{base}/memes/{id}">"#),
        r#"<meta name="twitter:card" content="summary_large_image">"#.to_owned(),
        format!(r#"data-copy="{base}/memes/{id}""#),
    ] {
        ensure!(page.contains(&needle), "the meme page lacks {needle}");
    }
    let home = host.get("/")?.text();
    ensure!(
        home.contains(&format!(
            r#"<meta property="og:image" content="{base}/memes/{id}/image">"#
        )),
        "Home has no og:image"
    );

    // Enough memes for a second page; it is numbered.
    let png = some_png(&host)?;
    for i in 0..13 {
        upload(&host, &png, &format!("Filler {i}"), "")?;
    }
    let listing = ok_json(host.get("/api/memes?limit=100")?, "all")?;
    ensure!(ids(&listing).len() > 24, "{} memes", ids(&listing).len());
    let start = home_page_link(&host.get("/")?.text())?;
    ensure!(
        start.contains("page=2"),
        "the next-page link is not numbered: {start}"
    );
    let second = host.get(&start.replace("&amp;", "&"))?.text();
    ensure!(
        second.contains("Fresh from the review queue · page 2"),
        "page 2 has no number"
    );
    Ok(())
}

/// The first child element of `node` named `name` in the Atom namespace.
fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children()
        .find(|n| n.has_tag_name(("http://www.w3.org/2005/Atom", name)))
}

/// The pager's "Page 2 →" link of a grid page.
fn home_page_link(html: &str) -> Result<String> {
    let at = html.find(r#"rel="next""#).context("no next-page link")?;
    let start = html[..at].rfind("href=\"").context("no href")? + 6;
    let end = start + html[start..].find('"').context("unterminated href")?;
    Ok(html[start..end].to_owned())
}

fn serves_assets_immutable_with_strong_etags_and_304(store: &TestStore) -> Result<()> {
    let host = site_on(store)?;
    let home = host.get("/")?.text();
    for (name, content_type) in [("app.css", "text/css"), ("app.js", "text/javascript")] {
        let start = home
            .find(&format!("/assets/{name}?v="))
            .with_context(|| format!("home does not link {name}"))?;
        let link = &home[start..];
        let link = &link[..link.find('"').unwrap_or(link.len())];
        let asset = host.get(link)?;
        ensure!(asset.status == 200, "{link}: {}", asset.status);
        ensure!(
            asset
                .header("content-type")
                .is_some_and(|t| t.starts_with(content_type)),
            "{link}: type"
        );
        ensure!(
            asset.header("cache-control") == Some("public, max-age=31536000, immutable"),
            "{link}: cache"
        );
        let etag = asset.header("etag").context("no ETag")?.to_owned();
        ensure!(etag.starts_with('"'), "{link}: weak or bare ETag {etag}");
        let again = host.request("GET", link, &[("if-none-match", &etag)], b"")?;
        ensure!(
            again.status == 304,
            "{link}: If-None-Match gave {}",
            again.status
        );
    }
    ensure!(host.get("/assets/nope.css")?.status == 404, "unknown asset");
    Ok(())
}
