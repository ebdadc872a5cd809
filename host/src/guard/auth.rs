//! Bearer tokens (RFC 6750): a route with `auth = { bearer_env = "NAME" }` needs
//! `Authorization: Bearer TOKEN`, TOKEN being NAME's value when the host started.
//!
//! Only a digest of the token is kept, compared in constant time (`blake3::Hash`'s equality),
//! so neither the comparison's timing nor a memory dump or a `{:?}` gives the token away. The
//! token and the header never reach a log.

use crate::component::Header;
use crate::manifest::{Auth, RouteDecl};
use crate::reply::Reply;

/// Shortest token accepted at start: 128 bits as hex.
const MIN_TOKEN_CHARS: usize = 32;

/// A route's environment variable was not usable when the host started.
#[derive(Debug, thiserror::Error)]
#[error(
    "route `{route}` needs a bearer token in environment variable `{var}`, which {problem}\n  \
     declared at {location}\n  hint: set it to a long random secret before starting, e.g. \
     `export {var}=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n')`"
)]
pub struct MissingToken {
    route: String,
    var: String,
    problem: String,
    location: String,
}

/// The digest of one route's token.
pub(super) struct Bearer {
    digest: blake3::Hash,
}

impl std::fmt::Debug for Bearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Bearer(<redacted>)")
    }
}

impl Bearer {
    pub(super) fn from_env(auth: &Auth, route: &RouteDecl) -> Result<Bearer, MissingToken> {
        let missing = |problem: &str| MissingToken {
            route: format!(
                "{} {}",
                match &route.method {
                    crate::router::MethodMatch::Any => "*",
                    crate::router::MethodMatch::One(m) => m,
                },
                route.path
            ),
            var: auth.bearer_env.clone(),
            problem: problem.to_owned(),
            location: route.location.to_string(),
        };
        let token = match std::env::var(&auth.bearer_env) {
            Ok(token) => token,
            Err(std::env::VarError::NotPresent) => return Err(missing("is not set")),
            Err(std::env::VarError::NotUnicode(_)) => return Err(missing("is not UTF-8")),
        };
        if token.chars().count() < MIN_TOKEN_CHARS {
            return Err(missing(&format!(
                "is shorter than {MIN_TOKEN_CHARS} characters"
            )));
        }
        if !token.bytes().all(is_token68) {
            return Err(missing(
                "has characters a bearer token cannot carry (use letters, digits, `-._~+/=`)",
            ));
        }
        Ok(Bearer {
            digest: blake3::hash(token.as_bytes()),
        })
    }

    /// `Err` is the 401 (no or malformed credentials) or 403 (a wrong token) to send. The
    /// `Authorization` header is removed either way: the handler never sees the token.
    pub(super) fn admit(&self, headers: &mut Vec<Header>) -> Result<(), Reply> {
        let mut given = None;
        let mut count = 0;
        headers.retain(|h| {
            if h.name.eq_ignore_ascii_case("authorization") {
                count += 1;
                given = Some(h.value.clone());
                false
            } else {
                true
            }
        });
        let Some(value) = given else {
            return Err(challenge(None));
        };
        // RFC 6750 section 2.1: `Bearer` (any case), one space, a token68.
        let token = match value.split_once(' ') {
            Some((scheme, token))
                if count == 1
                    && scheme.eq_ignore_ascii_case("bearer")
                    && !token.is_empty()
                    && token.bytes().all(is_token68) =>
            {
                token
            }
            _ => return Err(challenge(Some("invalid_request"))),
        };
        if blake3::hash(token.as_bytes()) == self.digest {
            Ok(())
        } else {
            Err(Reply::text(
                403,
                "forbidden: this token does not open this route",
            ))
        }
    }
}

/// RFC 7235 section 2.1 token68 characters.
fn is_token68(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b)
}

/// 401 with the challenge (RFC 6750 section 3), and an error code for malformed credentials.
fn challenge(error: Option<&str>) -> Reply {
    let (message, header) = match error {
        None => (
            "unauthorized: this route needs `Authorization: Bearer TOKEN`",
            "Bearer realm=\"nebula\"".to_owned(),
        ),
        Some(code) => (
            "unauthorized: malformed credentials; send one `Authorization: Bearer TOKEN` header",
            format!("Bearer realm=\"nebula\", error=\"{code}\""),
        ),
    };
    let mut reply = Reply::text(401, message);
    reply.headers.push(("www-authenticate".to_owned(), header));
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    fn bearer() -> Bearer {
        Bearer {
            digest: blake3::hash(TOKEN.as_bytes()),
        }
    }

    fn headers(auth: &[&str]) -> Vec<Header> {
        let mut h = vec![Header {
            name: "accept".into(),
            value: "*/*".into(),
        }];
        h.extend(auth.iter().map(|v| Header {
            name: "authorization".into(),
            value: (*v).into(),
        }));
        h
    }

    #[test]
    fn admits_the_right_token_and_hides_it_from_the_handler() {
        let mut h = headers(&[&format!("Bearer {TOKEN}")]);
        assert!(bearer().admit(&mut h).is_ok());
        assert_eq!(h.len(), 1, "the authorization header is removed: {h:?}");
        let mut h = headers(&[&format!("bearer {TOKEN}")]);
        assert!(
            bearer().admit(&mut h).is_ok(),
            "the scheme is case-insensitive"
        );
    }

    #[test]
    fn answers_401_without_or_with_malformed_credentials() {
        for given in [
            &[][..],
            &["Basic dXNlcjpwYXNz"][..],
            &["Bearer"][..],
            &["Bearer two words"][..],
            &[
                &format!("Bearer {TOKEN}")[..],
                &format!("Bearer {TOKEN}")[..],
            ][..],
        ] {
            let reply = bearer().admit(&mut headers(given)).unwrap_err();
            assert_eq!(reply.status, 401, "{given:?}");
            let challenge = reply.headers.iter().find(|(n, _)| n == "www-authenticate");
            assert!(
                challenge.is_some_and(|(_, v)| v.starts_with("Bearer realm=")),
                "{given:?}"
            );
            assert!(!String::from_utf8_lossy(&reply.body).contains(TOKEN));
        }
    }

    #[test]
    fn answers_403_to_a_wrong_token() {
        let reply = bearer()
            .admit(&mut headers(&["Bearer 0123456789abcdef0123456789abcdeF"]))
            .unwrap_err();
        assert_eq!(reply.status, 403);
    }

    #[test]
    fn never_shows_the_token_in_debug_output() {
        assert_eq!(format!("{:?}", bearer()), "Bearer(<redacted>)");
    }
}
