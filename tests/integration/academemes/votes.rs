//! One vote per visitor: the cookie, voting twice, taking a vote back, the plain forms, and
//! exact counts under concurrency.

use crate::harness::http::Response;
use crate::harness::site::{first_id, numbers, ok_json, site, site_with, visitor_cookie};
use crate::harness::{Host, TestStore, per_store};
use anyhow::{Context, Result, ensure};

per_store!(
    counts_concurrent_votes_of_different_visitors_exactly,
    counts_a_visitors_concurrent_votes_once_and_unvotes_once,
);

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

/// A site on `store` without rate limits: dozens of votes from one address in a second is a
/// load test here, not abuse.
fn unlimited_site(store: &TestStore) -> Result<Host> {
    let mut args = store.args();
    args.extend(["--rate-limits".to_owned(), "off".to_owned()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    site_with(&args)
}

/// Sends `n` copies of one request at once (one thread each) and gives back every response.
fn at_once(
    host: &Host,
    n: usize,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<Vec<Response>> {
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|_| s.spawn(|| host.request(method, path, headers, b"")))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("request thread"))
            .collect()
    })
}

/// Every response is 200, or 503 with `Retry-After` (a request that kept conflicting: it wrote
/// nothing); returns how many were 503.
fn all_ok_or_retry_later(responses: &[Response]) -> Result<usize> {
    let mut later = 0;
    for r in responses {
        match r.status {
            200 => {}
            503 if r.header("retry-after").is_some() => later += 1,
            status => anyhow::bail!("{status} {}", r.text()),
        }
    }
    Ok(later)
}

/// Different visitors never conflict: new ones read no record, known ones each read their own,
/// and the shared counter is added to, not read-modify-written by the handler.
fn counts_concurrent_votes_of_different_visitors_exactly(store: &TestStore) -> Result<()> {
    let host = unlimited_site(store)?;
    let id = first_id(&host)?;
    let before = votes(&host, &id)?;
    let path = format!("/api/memes/{id}/vote");
    let voters = 40;
    // Without a cookie, each request is a new visitor, who gets one.
    let first = at_once(&host, voters, "POST", &path, &[])?;
    let mut cookies = Vec::with_capacity(voters);
    for r in &first {
        ensure!(r.status == 200, "{} {}", r.status, r.text());
        cookies.push(visitor_cookie(r).context("no visitor cookie")?);
    }
    let count = votes(&host, &id)?;
    ensure!(
        count == before + voters as i64,
        "{voters} new voters took {before} to {count}"
    );
    // Known visitors, all at once: each unvote, then each vote again, reads its own record.
    for (method, expected) in [("DELETE", before), ("POST", before + voters as i64)] {
        let responses = std::thread::scope(|s| {
            let handles: Vec<_> = cookies
                .iter()
                .map(|c| s.spawn(|| host.request(method, &path, &[("cookie", c)], b"")))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("request thread"))
                .collect::<Result<Vec<_>>>()
        })?;
        for r in &responses {
            ensure!(r.status == 200, "{method}: {} {}", r.status, r.text());
        }
        let count = votes(&host, &id)?;
        ensure!(
            count == expected,
            "{voters} {method}s gave {count}, not {expected}"
        );
    }
    let log = host.log();
    ensure!(
        !log.contains("running the request again"),
        "votes of different visitors conflicted:\n{log}"
    );
    Ok(())
}

/// The double vote: requests of one visitor that all find no vote record at once. The first to
/// commit counts; the others conflict, run again, find the record and write nothing.
fn counts_a_visitors_concurrent_votes_once_and_unvotes_once(store: &TestStore) -> Result<()> {
    let host = unlimited_site(store)?;
    let id = first_id(&host)?;
    let before = votes(&host, &id)?;
    let path = format!("/api/memes/{id}/vote");
    // A visitor with a cookie and no vote on this meme.
    let first = host.request("POST", &path, &[], b"")?;
    let cookie = visitor_cookie(&first).context("no visitor cookie")?;
    let undo = host.request("DELETE", &path, &[("cookie", &cookie)], b"")?;
    ensure!(undo.status == 200, "{} {}", undo.status, undo.text());
    ensure!(
        votes(&host, &id)? == before,
        "vote and unvote did not cancel"
    );

    let n = 16;
    let mut later = 0;
    for round in 0..3 {
        let voted = at_once(&host, n, "POST", &path, &[("cookie", &cookie)])?;
        later += all_ok_or_retry_later(&voted)?;
        let count = votes(&host, &id)?;
        ensure!(
            count == before + 1,
            "round {round}: {n} votes of one visitor took {before} to {count}"
        );
        let unvoted = at_once(&host, n, "DELETE", &path, &[("cookie", &cookie)])?;
        later += all_ok_or_retry_later(&unvoted)?;
        let count = votes(&host, &id)?;
        ensure!(
            count == before,
            "round {round}: {n} unvotes of one visitor took {} to {count}",
            before + 1
        );
    }
    let reruns = host.log().matches("running the request again").count();
    eprintln!("{later} answers were 503; {reruns} conflicting runs were run again");
    ensure!(later < 3 * 2 * n, "every request answered 503");
    Ok(())
}
