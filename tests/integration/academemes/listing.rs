//! Listings: the seed, newest and top across cursor pages, one meme, 404s.

use crate::harness::site::{ids, next_cursor, numbers, ok_json, site_on, strings};
use crate::harness::{TestStore, per_store};
use anyhow::{Result, ensure};

per_store!(
    seeds_a_dozen_memes_with_the_api_shape_on_first_start,
    lists_newest_and_top_in_order_across_cursor_pages,
    gets_one_meme_and_answers_unknown_ids_with_404_in_json_and_html,
);

fn seeds_a_dozen_memes_with_the_api_shape_on_first_start(store: &TestStore) -> Result<()> {
    let host = site_on(store)?;
    let body = ok_json(host.get("/api/memes?limit=100")?, "list")?;
    let ids = ids(&body);
    ensure!(ids.len() >= 12, "only {} memes seeded: {body}", ids.len());
    ensure!(
        body.ends_with(r#""next_cursor":null}"#),
        "one page holds every seed: {body}"
    );
    for field in [
        "\"title\":",
        "\"caption\":",
        "\"tags\":[",
        "\"votes\":",
        "\"created\":\"",
        "\"image_url\":\"/memes/",
        "\"thumb_url\":\"/memes/",
    ] {
        ensure!(
            body.matches(field).count() == ids.len(),
            "{field} not on every meme: {body}"
        );
    }
    for created in strings(&body, "created") {
        let b = created.as_bytes();
        let shape = b.len() == 20 && b[4] == b'-' && b[10] == b'T' && b[19] == b'Z';
        ensure!(
            shape,
            "created {created:?} is not RFC 3339 UTC like 2026-11-26T01:48:31Z"
        );
    }
    let first = &ids[0];
    ensure!(
        body.contains(&format!("\"image_url\":\"/memes/{first}/image\"")),
        "{body}"
    );
    Ok(())
}

fn lists_newest_and_top_in_order_across_cursor_pages(store: &TestStore) -> Result<()> {
    let host = site_on(store)?;
    let total = ids(&ok_json(host.get("/api/memes?limit=100")?, "all")?).len();
    for sort in ["new", "top"] {
        let mut seen = Vec::new();
        let mut votes = Vec::new();
        let mut created = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/memes?sort={sort}&limit=5&cursor={c}"),
                None => format!("/api/memes?sort={sort}&limit=5"),
            };
            let page = ok_json(host.get(&path)?, &path)?;
            let page_ids = ids(&page);
            ensure!(page_ids.len() <= 5, "{path}: {} memes", page_ids.len());
            seen.extend(page_ids);
            votes.extend(numbers(&page, "votes"));
            created.extend(strings(&page, "created"));
            pages += 1;
            cursor = next_cursor(&page);
            if cursor.is_none() {
                break;
            }
            ensure!(pages < 100, "{sort}: the cursors never end");
        }
        ensure!(
            seen.len() == total,
            "{sort}: {} memes over pages, {total} in one page",
            seen.len()
        );
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        ensure!(
            unique.len() == seen.len(),
            "{sort}: a meme appears on two pages: {seen:?}"
        );
        if sort == "top" {
            ensure!(
                votes.windows(2).all(|w| w[0] >= w[1]),
                "top is not by votes: {votes:?}"
            );
        } else {
            // RFC 3339 in UTC with a fixed width sorts like time.
            ensure!(
                created.windows(2).all(|w| w[0] >= w[1]),
                "new is not newest first: {created:?}"
            );
        }
    }
    let bad = host.get("/api/memes?sort=sideways")?;
    ensure!(bad.status == 400, "unknown sort: status {}", bad.status);
    let bad = host.get("/api/memes?cursor=not-a-cursor")?;
    ensure!(
        bad.status == 400,
        "foreign cursor: status {} ({})",
        bad.status,
        bad.text()
    );
    Ok(())
}

fn gets_one_meme_and_answers_unknown_ids_with_404_in_json_and_html(
    store: &TestStore,
) -> Result<()> {
    let host = site_on(store)?;
    let id = ids(&ok_json(host.get("/api/memes?limit=1")?, "list")?).remove(0);
    let one = ok_json(host.get(&format!("/api/memes/{id}"))?, "one")?;
    ensure!(
        one.starts_with(&format!("{{\"id\":\"{id}\",\"title\":")),
        "{one}"
    );

    let missing = host.get("/api/memes/aaaaaaaaaaaa")?;
    ensure!(missing.status == 404, "API: status {}", missing.status);
    ensure!(
        missing.header("content-type") == Some("application/json"),
        "API 404 is JSON"
    );
    ensure!(missing.text().contains("\"error\""), "{}", missing.text());

    for path in ["/memes/aaaaaaaaaaaa", "/no/such/page"] {
        let page = host.get(path)?;
        ensure!(page.status == 404, "{path}: status {}", page.status);
        ensure!(
            page.header("content-type")
                .is_some_and(|t| t.starts_with("text/html")),
            "{path}: not HTML"
        );
        ensure!(
            page.text().contains("still under review"),
            "{path}: not the friendly page"
        );
    }
    let meme_page = host.get(&format!("/memes/{id}"))?;
    ensure!(meme_page.status == 200, "meme page: {}", meme_page.status);
    ensure!(
        meme_page
            .text()
            .contains(&format!("action=\"/memes/{id}/vote\"")),
        "no vote form"
    );
    Ok(())
}
