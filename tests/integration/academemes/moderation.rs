//! Abuse and moderation: rate limits (429 with `Retry-After`), the moderators' token (401 and
//! 403, and no start without it), and a report that a moderator hides, then deletes.

use crate::harness::site::{
    ADMIN_TOKEN, admin, first_id, ids, meme_count, ok_json, site, some_png, upload,
};
use crate::harness::{Host, Manifest, guests};
use anyhow::{Context, Result, ensure};

#[test]
fn answers_429_with_retry_after_past_the_upload_rate_limit() -> Result<()> {
    let host = site()?;
    // The manifest allows 10 uploads a minute per address; empty posts are cheap to refuse.
    for i in 0..10 {
        let r = host.request("POST", "/api/memes", &[], b"")?;
        ensure!(
            r.status == 400,
            "request {i} within the limit: {}",
            r.status
        );
    }
    let refused = host.request("POST", "/api/memes", &[], b"")?;
    ensure!(refused.status == 429, "the 11th upload: {}", refused.status);
    let wait: u64 = refused
        .header("retry-after")
        .context("a 429 without Retry-After")?
        .parse()
        .context("Retry-After is not whole seconds")?;
    ensure!((1..=60).contains(&wait), "Retry-After {wait}");
    ensure!(
        refused.text().contains("too many requests"),
        "{}",
        refused.text()
    );
    // Other routes, and reading, are not affected.
    ensure!(host.get("/api/memes?limit=1")?.status == 200);
    Ok(())
}

#[test]
fn admin_routes_answer_401_without_a_token_and_403_with_a_wrong_one() -> Result<()> {
    let host = site()?;
    let id = first_id(&host)?;
    let routes = [
        ("GET", "/api/admin/reports".to_owned()),
        ("POST", format!("/api/admin/memes/{id}/hide")),
        ("POST", format!("/api/admin/memes/{id}/unhide")),
        ("DELETE", format!("/api/admin/memes/{id}")),
    ];
    for (method, path) in &routes {
        let none = host.request(method, path, &[], b"")?;
        ensure!(
            none.status == 401,
            "{method} {path} without a token: {}",
            none.status
        );
        ensure!(
            none.header("www-authenticate")
                .is_some_and(|c| c.starts_with("Bearer")),
            "{method} {path}: no Bearer challenge"
        );
        let malformed = host.request(
            method,
            path,
            &[("authorization", "Basic YWRtaW46YWRtaW4=")],
            b"",
        )?;
        ensure!(
            malformed.status == 401,
            "{method} {path} with Basic: {}",
            malformed.status
        );
        let wrong = host.request(
            method,
            path,
            &[("authorization", "Bearer not-the-moderator-token-000000")],
            b"",
        )?;
        ensure!(
            wrong.status == 403,
            "{method} {path} with a wrong token: {}",
            wrong.status
        );
    }
    ensure!(
        meme_count(&host)? >= 12,
        "a refused moderator changed something"
    );
    ensure!(!host.log().contains(ADMIN_TOKEN), "the token is in the log");
    Ok(())
}

#[test]
fn refuses_to_start_without_the_token_an_auth_route_names() -> Result<()> {
    let g = guests();
    let dir = tempfile::tempdir()?;
    let manifest = Manifest::new()
        .component("hello", &g.hello)
        .raw("\n[[routes]]\nroute = \"GET /admin\"\ncomponent = \"hello\"\nauth = { bearer_env = \"NEBULA_TEST_TOKEN_THAT_IS_NEVER_SET\" }\n")
        .write(dir.path())?;
    let failure = Host::up_expecting_failure(&manifest, &[])?;
    ensure!(failure.code == Some(1), "exit code {:?}", failure.code);
    ensure!(
        failure.stderr.contains("route `GET /admin` needs a bearer token in environment variable `NEBULA_TEST_TOKEN_THAT_IS_NEVER_SET`, which is not set"),
        "{}",
        failure.stderr
    );
    Ok(())
}

#[test]
fn a_report_reaches_the_moderators_who_hide_and_then_delete_the_meme() -> Result<()> {
    let host = site()?;
    let png = some_png(&host)?;
    let id = upload(&host, &png, "Reported meme about reviewers", "moderated")?;
    let (name, value) = admin();
    let auth = [(name, value.as_str())];

    let report = host.request(
        "POST",
        &format!("/api/memes/{id}/report"),
        &[("content-type", "application/json")],
        br#"{"reason":"spam","note":"buy cheap citations"}"#,
    )?;
    ensure!(
        report.status == 201,
        "report: {} {}",
        report.status,
        report.text()
    );
    let bad = host.request(
        "POST",
        &format!("/api/memes/{id}/report"),
        &[("content-type", "application/json")],
        br#"{"reason":"boring"}"#,
    )?;
    ensure!(
        bad.status == 400,
        "a report with an unknown reason: {}",
        bad.status
    );

    let reports = ok_json(
        host.request("GET", "/api/admin/reports", &auth, b"")?,
        "reports",
    )?;
    ensure!(
        ids(&reports).first() == Some(&id),
        "the report is not listed first: {reports}"
    );
    ensure!(reports.contains("buy cheap citations"), "{reports}");

    // Hide: gone from listings, search, its page and its image; still in the reports.
    let hide = host.request("POST", &format!("/api/admin/memes/{id}/hide"), &auth, b"")?;
    ensure!(hide.status == 200, "hide: {} {}", hide.status, hide.text());
    let listed = ok_json(host.get("/api/memes?limit=100")?, "list")?;
    ensure!(!ids(&listed).contains(&id), "a hidden meme is listed");
    ensure!(host.get(&format!("/memes/{id}"))?.status == 404, "its page");
    ensure!(
        host.get(&format!("/memes/{id}/image"))?.status == 404,
        "its image"
    );
    ensure!(
        host.get(&format!("/api/memes/{id}"))?.status == 404,
        "its API object"
    );
    let found = host.get("/api/search?q=reported")?.text();
    ensure!(
        !ids(&found).contains(&id),
        "search finds a hidden meme: {found}"
    );
    let reports = ok_json(
        host.request("GET", "/api/admin/reports", &auth, b"")?,
        "reports",
    )?;
    ensure!(reports.contains("\"hidden\":true"), "{reports}");

    let unhide = host.request("POST", &format!("/api/admin/memes/{id}/unhide"), &auth, b"")?;
    ensure!(unhide.status == 200, "unhide: {}", unhide.status);
    ensure!(
        host.get(&format!("/memes/{id}"))?.status == 200,
        "unhidden, its page is back"
    );

    // Delete: everything goes, in one write.
    let vote = host.request("POST", &format!("/api/memes/{id}/vote"), &[], b"")?;
    ensure!(vote.status == 200, "vote: {}", vote.status);
    let before = meme_count(&host)?;
    let delete = host.request("DELETE", &format!("/api/admin/memes/{id}"), &auth, b"")?;
    ensure!(
        delete.status == 200,
        "delete: {} {}",
        delete.status,
        delete.text()
    );
    ensure!(
        meme_count(&host)? == before - 1,
        "the meme is still counted"
    );
    for path in [
        format!("/api/memes/{id}"),
        format!("/memes/{id}/image"),
        format!("/memes/{id}/thumb"),
    ] {
        ensure!(host.get(&path)?.status == 404, "{path} after delete");
    }
    ensure!(
        !host.get("/tags/moderated")?.text().contains(&id),
        "its tag entry is left"
    );
    ensure!(
        !ids(&host.get("/api/search?q=reviewers")?.text()).contains(&id),
        "its search entries are left"
    );
    let reports = ok_json(
        host.request("GET", "/api/admin/reports", &auth, b"")?,
        "reports",
    )?;
    ensure!(!reports.contains(&id), "its reports are left: {reports}");
    let again = host.request("DELETE", &format!("/api/admin/memes/{id}"), &auth, b"")?;
    ensure!(again.status == 404, "deleting twice: {}", again.status);
    Ok(())
}
