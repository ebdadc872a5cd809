//! Sharing: absolute URLs for link previews (`og:`, canonical links), the Atom feed, the
//! sitemap and `robots.txt`.
//!
//! The site's public URL comes from the host (`[server] public_url` in the manifest, as
//! request header [`PUBLIC_URL_HEADER`]; the host drops any copy a client sent), else from the
//! request's `Host` header, checked to be a plain host name so that it cannot inject markup.

use alloc::format;
use alloc::string::String;

use nebula_guest::Request;

use crate::html::escape;
use crate::http::header;
use crate::meme::Meme;
use crate::time::rfc3339;

/// What the host calls the manifest's `[server] public_url` header.
pub const PUBLIC_URL_HEADER: &str = "nebula-public-url";

/// The site's origin (and path prefix), without a trailing `/`.
pub fn base_url(request: &Request) -> String {
    if let Some(url) = header(request, PUBLIC_URL_HEADER) {
        return url.trim_end_matches('/').into();
    }
    let host = header(request, "host").filter(|h| {
        !h.is_empty()
            && h.len() <= 255
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
    });
    format!("http://{}", host.unwrap_or("localhost"))
}

/// `robots.txt`: crawl the pages, not the API, forms or moderation; here is the sitemap.
pub fn robots(base: &str) -> String {
    format!(
        "User-agent: *\nDisallow: /api/\nDisallow: /admin\nDisallow: /generate/preview\nDisallow: /search\nAllow: /\n\nSitemap: {base}/sitemap.xml\n"
    )
}

/// A sitemap (sitemaps.org protocol 0.9) of the home pages and every listed meme.
pub fn sitemap(base: &str, memes: &[Meme]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    let newest = memes.first().map(|m| rfc3339(m.created));
    for path in ["/", "/?sort=top"] {
        out.push_str(&format!(
            "<url><loc>{}</loc>",
            escape(&format!("{base}{path}"))
        ));
        if let Some(newest) = &newest {
            out.push_str(&format!("<lastmod>{newest}</lastmod>"));
        }
        out.push_str("</url>\n");
    }
    for meme in memes {
        out.push_str(&format!(
            "<url><loc>{}</loc><lastmod>{}</lastmod></url>\n",
            escape(&format!("{base}/memes/{}", meme.id)),
            rfc3339(meme.created)
        ));
    }
    out.push_str("</urlset>\n");
    out
}

/// An Atom feed (RFC 4287) of the newest memes, each entry with its image.
pub fn atom(base: &str, memes: &[Meme]) -> String {
    let updated = memes
        .first()
        .map_or_else(|| rfc3339(0), |m| rfc3339(m.created));
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n\
         <title>Academemes</title>\n<subtitle>Memes about academia, peer-reviewed by nobody.</subtitle>\n\
         <id>{home}</id>\n<link rel=\"alternate\" type=\"text/html\" href=\"{home}\"/>\n\
         <link rel=\"self\" type=\"application/atom+xml\" href=\"{feed}\"/>\n<updated>{updated}</updated>\n\
         <author><name>Academemes</name></author>\n",
        home = escape(&format!("{base}/")),
        feed = escape(&format!("{base}/feed.xml")),
    );
    for meme in memes {
        let url = format!("{base}/memes/{}", meme.id);
        let image = format!("{base}{}", meme.image_url());
        let mut content = format!(
            "<p><img src=\"{}\" alt=\"{}\"></p>",
            escape(&image),
            escape(&meme.title)
        );
        if !meme.caption.is_empty() {
            content.push_str(&format!("<p>{}</p>", escape(&meme.caption)));
        }
        out.push_str(&format!(
            "<entry>\n<title>{title}</title>\n<id>{url}</id>\n<link rel=\"alternate\" type=\"text/html\" href=\"{url}\"/>\n\
             <link rel=\"enclosure\" type=\"{kind}\" href=\"{image}\"/>\n<published>{created}</published>\n<updated>{created}</updated>\n",
            title = escape(&meme.title),
            url = escape(&url),
            image = escape(&image),
            kind = escape(&meme.image_type),
            created = rfc3339(meme.created),
        ));
        for tag in &meme.tags {
            out.push_str(&format!("<category term=\"{}\"/>\n", escape(tag)));
        }
        out.push_str(&format!(
            "<content type=\"html\">{}</content>\n</entry>\n",
            escape(&content)
        ));
    }
    out.push_str("</feed>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use nebula_guest::Header;

    fn request(headers: &[(&str, &str)]) -> Request {
        Request {
            method: "GET".into(),
            path: "/".into(),
            route: "/".into(),
            query: String::new(),
            headers: headers
                .iter()
                .map(|(n, v)| Header {
                    name: (*n).into(),
                    value: (*v).into(),
                })
                .collect(),
            body: vec![],
            params: vec![],
        }
    }

    #[test]
    fn prefers_the_public_url_then_a_clean_host() {
        assert_eq!(
            base_url(&request(&[("host", "127.0.0.1:8080")])),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            base_url(&request(&[
                ("host", "x"),
                (PUBLIC_URL_HEADER, "https://memes.example/")
            ])),
            "https://memes.example"
        );
        assert_eq!(
            base_url(&request(&[("host", "\"><script>")])),
            "http://localhost"
        );
    }

    #[test]
    fn escapes_titles_in_the_feed() {
        let meme = Meme {
            id: "abcdefghijkl".into(),
            title: "<b>&</b>".into(),
            caption: "c".into(),
            tags: vec!["phd".into()],
            created: 0,
            image_type: "image/png".into(),
            width: 0,
            height: 0,
            hidden: false,
        };
        let feed = atom("http://h", &[meme]);
        assert!(feed.contains("<title>&lt;b&gt;&amp;&lt;/b&gt;</title>"));
        assert!(feed.contains("<id>http://h/memes/abcdefghijkl</id>"));
        assert!(!feed.contains("<b>"));
    }
}
