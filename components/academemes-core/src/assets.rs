//! The site's static files, compiled in: the `assets` component serves them, and pages link to
//! them with `?v=` + [`version`], so a change of content is a change of URL. That lets them be
//! cached as `immutable` for a year: a page never revalidates them, and a new deploy is seen at
//! once because its pages name new URLs.

use alloc::format;
use alloc::string::String;

use crate::hash::{hash, hex};

/// One static file.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

/// Every asset, by the name it is served under (`/assets/{name}`).
pub const ASSETS: &[Asset] = &[
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../assets/app.css"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../assets/app.js"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../assets/favicon.svg"),
    },
];

/// The asset served as `name`.
pub fn find(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// A strong ETag: the hash of the content, quoted (RFC 9110 section 8.8.3).
pub fn etag(asset: &Asset) -> String {
    format!("\"{}\"", hex(hash(asset.body)))
}

/// The `?v=` of `name`'s URL: the first 12 hex digits of its content hash.
pub fn version(name: &str) -> String {
    find(name)
        .map(|a| hex(hash(a.body))[..12].into())
        .unwrap_or_default()
}
