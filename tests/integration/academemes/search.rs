//! Search: titles, captions and tags through the inverted index, ranked and paged, as JSON and
//! as a page with the box in every header.

use crate::harness::site::{ids, numbers, ok_json, site, some_png, upload};
use anyhow::{Result, ensure};

#[test]
fn finds_uploads_by_title_caption_and_tag_ranked_and_paged() -> Result<()> {
    let host = site()?;
    let png = some_png(&host)?;
    // "Quokka" in the title of one, in a tag of another: the title counts more.
    let in_title = upload(&host, &png, "Quokka statistics for beginners", "animals")?;
    let in_tag = upload(&host, &png, "Something else entirely", "quokka")?;

    let found = ok_json(host.get("/api/search?q=quokka")?, "search")?;
    ensure!(
        ids(&found) == [in_title.clone(), in_tag.clone()],
        "ranked: {found}"
    );
    ensure!(numbers(&found, "total") == [2], "{found}");
    // A prefix finds longer words, in any case.
    let prefix = ok_json(host.get("/api/search?q=QUOK")?, "prefix search")?;
    ensure!(ids(&prefix).len() == 2, "prefix: {prefix}");
    // Both words: the meme with both ranks first.
    let both = ok_json(host.get("/api/search?q=quokka+beginners")?, "two words")?;
    ensure!(ids(&both).first() == Some(&in_title), "{both}");
    // The caption (every upload here has "a caption").
    let caption = ok_json(host.get("/api/search?q=caption")?, "caption")?;
    ensure!(ids(&caption).contains(&in_tag), "{caption}");
    // Pages of results.
    let page2 = ok_json(host.get("/api/search?q=quokka&page=2")?, "page 2")?;
    ensure!(
        ids(&page2).is_empty() && numbers(&page2, "pages") == [1],
        "{page2}"
    );
    ensure!(
        host.get("/api/search?q=%21")?.status == 400,
        "a query without words"
    );

    let html = host.get("/search?q=quokka")?;
    ensure!(html.status == 200, "search page: {}", html.status);
    let text = html.text();
    ensure!(text.contains("2 memes found"), "no count on the page");
    ensure!(
        text.contains(&format!("href=\"/memes/{in_title}\"")),
        "no result card"
    );
    ensure!(
        text.contains(r#"<input id="site-search" name="q" type="search" value="quokka""#),
        "the header's box does not keep the query"
    );
    let home = host.get("/")?.text();
    ensure!(
        home.contains(r#"<form class="search" role="search" action="/search""#),
        "no search box on Home"
    );
    Ok(())
}
