//! The anonymous visitor: an unguessable id in an `HttpOnly; SameSite=Lax` cookie, minted from
//! the host's entropy (a `random` read) the first time a visitor votes or reports. Votes and
//! reports are kept per visitor, so voting twice is voting once.
//!
//! A request without the cookie (a script, the JSON API) is a new visitor: it gets a new id
//! and the cookie, so it keeps working; stopping a cookie-less flood is the rate limiter's job.

use alloc::format;
use alloc::string::String;

use nebula_guest::{ReadResult, Request};

use crate::http::{header, value};

/// The cookie's name.
pub const COOKIE: &str = "visitor";
/// Characters of an id: 160 bits in base32.
const ID_CHARS: usize = 32;
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visitor {
    pub id: String,
    /// Minted for this request: no earlier votes, and the reply must set the cookie.
    pub new: bool,
}

impl Visitor {
    /// The visitor of the request's cookie, if it carries a well-formed one.
    pub fn known(request: &Request) -> Option<Visitor> {
        let cookies = request
            .headers
            .iter()
            .filter(|h| h.name == "cookie")
            .flat_map(|h| h.value.split(';'));
        cookies
            .filter_map(|c| c.trim().split_once('='))
            .find(|(name, _)| *name == COOKIE)
            .map(|(_, id)| id.trim())
            .filter(|id| is_id(id))
            .map(|id| Visitor {
                id: id.into(),
                new: false,
            })
    }

    /// The request's visitor, or a new one made from the route's `random` read (`name`).
    /// `None` only when the route declares no such read.
    pub fn from_request(request: &Request, reads: &[ReadResult], name: &str) -> Option<Visitor> {
        if let Some(known) = Visitor::known(request) {
            return Some(known);
        }
        let bytes = value(reads, name)?;
        (bytes.len() >= 20).then(|| Visitor {
            id: base32(&bytes[..20]),
            new: true,
        })
    }

    /// The `Set-Cookie` value that keeps this visitor for a year; `Secure` when the site is
    /// served over HTTPS.
    pub fn cookie(&self, request: &Request) -> String {
        let secure = header(request, crate::share::PUBLIC_URL_HEADER)
            .is_some_and(|url| url.starts_with("https://"));
        format!(
            "{COOKIE}={}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax{}",
            self.id,
            if secure { "; Secure" } else { "" }
        )
    }
}

fn is_id(id: &str) -> bool {
    id.len() == ID_CHARS && id.bytes().all(|b| ALPHABET.contains(&b))
}

/// RFC 4648 base32 in lower case, without padding (20 bytes -> 32 characters).
fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut acc, mut bits) = (0u32, 0);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((acc >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((acc << (5 - bits)) & 31) as usize]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use nebula_guest::{Header, ReadValue};

    fn request(cookie: Option<&str>) -> Request {
        Request {
            method: "POST".into(),
            path: "/".into(),
            route: "/".into(),
            query: "".into(),
            headers: cookie
                .map(|c| {
                    vec![Header {
                        name: "cookie".into(),
                        value: c.into(),
                    }]
                })
                .unwrap_or_default(),
            body: vec![],
            params: vec![],
        }
    }

    fn random() -> Vec<ReadResult> {
        vec![ReadResult {
            name: "visitor".into(),
            value: Ok(ReadValue::Value(Some((0u8..32).collect()))),
        }]
    }

    use alloc::vec::Vec;

    #[test]
    fn mints_a_visitor_from_the_random_read() {
        let v = Visitor::from_request(&request(None), &random(), "visitor").unwrap();
        assert!(v.new && is_id(&v.id), "{v:?}");
        assert_eq!(v.id, "aaaqeayeaudaocajbifqydiob4ibceqt");
        let cookie = v.cookie(&request(None));
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
        assert!(!cookie.contains("Secure"));
    }

    #[test]
    fn keeps_a_well_formed_cookie_and_ignores_a_forged_one() {
        let id = "abcdefghijklmnopqrstuvwxyz234567";
        let cookie = format!("theme=dark; visitor={id}");
        let v = Visitor::from_request(&request(Some(&cookie)), &random(), "visitor").unwrap();
        assert_eq!((v.id.as_str(), v.new), (id, false));
        let forged =
            Visitor::from_request(&request(Some("visitor=../admin")), &random(), "visitor");
        assert!(forged.unwrap().new);
        assert_eq!(Visitor::from_request(&request(None), &[], "visitor"), None);
    }
}
