//! One vote per visitor: the cookie, voting twice, taking a vote back, the plain forms, and
//! exact counts under concurrency.

use crate::harness::Host;
use crate::harness::site::{first_id, numbers, ok_json, site, site_with, visitor_cookie};
use anyhow::{Context, Result, ensure};

fn votes(host: &Host, id: &str) -> Result<i64> {
    let one = ok_json(host.get(&format!("/api/memes/{id}"))?, "one meme")?;
    numbers(&one, "votes").first().copied().context("no votes")
}

#[test]
fn counts_one_vote_per_visitor_and_takes_it_back() -> Result<()> {
    let host = site()?;
    let id = first_id(&host)?;
    let before = votes(&host, &id)?;
    let path = format!("/api/memes/{id}/vote");

    // Without a cookie: a new visitor, who gets one.
    let first = host.request("POST", &path, &[], b"")?;
    ensure!(
        first.status == 200,
        "vote: {} {}",
        first.status,
        first.text()
    );
    let set = first
        .header("set-cookie")
        .context("no Set-Cookie")?
        .to_owned();
    ensure!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"),
        "{set}"
    );
    let cookie = visitor_cookie(&first).context("no visitor cookie")?;
    ensure!(
        first.text()
            == format!(
                "{{\"id\":\"{id}\",\"votes\":{},\"voted\":true}}",
                before + 1
            ),
        "{}",
        first.text()
    );

    // The same visitor again: nothing changes, and no new cookie.
    let again = host.request("POST", &path, &[("cookie", &cookie)], b"")?;
    ensure!(
        again.status == 200 && again.header("set-cookie").is_none(),
        "{}",
        again.text()
    );
    ensure!(votes(&host, &id)? == before + 1, "a second vote counted");

    // The page knows.
    let page = host.request("GET", &format!("/memes/{id}"), &[("cookie", &cookie)], b"")?;
    ensure!(
        page.text().contains("You voted for this meme."),
        "no voted state on the page"
    );
    let home = host
        .request("GET", "/", &[("cookie", &cookie)], b"")?
        .text();
    ensure!(
        home.contains(&format!(
            "data-vote=\"/api/memes/{id}/vote\" data-voted=\"true\""
        )),
        "the card does not show the vote"
    );

    // Taking it back, twice: once counts.
    for _ in 0..2 {
        let undo = host.request("DELETE", &path, &[("cookie", &cookie)], b"")?;
        ensure!(
            undo.status == 200,
            "unvote: {} {}",
            undo.status,
            undo.text()
        );
        ensure!(undo.text().ends_with("\"voted\":false}"), "{}", undo.text());
    }
    ensure!(
        votes(&host, &id)? == before,
        "unvoting did not restore the count"
    );

    // The plain forms: vote, then undo=1, each 303 back where the form says.
    let form = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("cookie", cookie.as_str()),
    ];
    let voted = host.request(
        "POST",
        &format!("/memes/{id}/vote"),
        &form,
        b"back=%2F%3Fsort%3Dtop",
    )?;
    ensure!(voted.status == 303, "form vote: {}", voted.status);
    ensure!(
        voted.header("location") == Some("/?sort=top"),
        "{:?}",
        voted.header("location")
    );
    ensure!(
        votes(&host, &id)? == before + 1,
        "the form vote did not count"
    );
    let undone = host.request(
        "POST",
        &format!("/memes/{id}/vote"),
        &form,
        b"undo=1&back=%2F%2Fevil.example",
    )?;
    ensure!(undone.status == 303, "form undo: {}", undone.status);
    ensure!(
        undone.header("location") == Some(&format!("/memes/{id}#votes")[..]),
        "a foreign `back` must not be followed: {:?}",
        undone.header("location")
    );
    ensure!(votes(&host, &id)? == before, "the form undo did not count");

    let unknown = host.request("POST", "/api/memes/aaaaaaaaaaaa/vote", &[], b"")?;
    ensure!(unknown.status == 404, "vote on unknown: {}", unknown.status);
    Ok(())
}

#[test]
fn counts_concurrent_votes_of_different_visitors_exactly() -> Result<()> {
    // Without rate limits: 40 votes from one address in a second is a load test, not abuse.
    let host = site_with(&["--rate-limits", "off"])?;
    let id = first_id(&host)?;
    let before = votes(&host, &id)?;
    let path = format!("/api/memes/{id}/vote");
    let voters = 40;
    std::thread::scope(|s| -> Result<()> {
        let handles: Vec<_> = (0..voters)
            .map(|_| s.spawn(|| host.request("POST", &path, &[], b"")))
            .collect();
        for handle in handles {
            let response = handle.join().expect("voter thread")?;
            ensure!(
                response.status == 200,
                "{} {}",
                response.status,
                response.text()
            );
        }
        Ok(())
    })?;
    let after = votes(&host, &id)?;
    ensure!(
        after == before + voters,
        "{voters} voters took {before} to {after}"
    );
    Ok(())
}
