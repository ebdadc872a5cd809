//! Raw -> validated for what the host checks at the door, before a route's reads and call: a
//! route's `rate_limit` and `auth`, and `[server] public_url`. The mechanisms are
//! `crate::guard`; this module only judges what the manifest says, without I/O (an `auth`
//! route's environment variable is looked up when the host starts, not here).

use std::time::Duration;

use toml::Spanned;

use super::limits::Timeout;
use super::raw::{RawAuth, RawRateLimit};
use super::validator::Validator;

/// `rate_limit = { requests = N, per = "1m" }`: at most `requests` per `per` from one client
/// address, with bursts up to `requests`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub per: Duration,
}

/// `auth = { bearer_env = "NAME" }`: the request must carry `Authorization: Bearer TOKEN`,
/// where TOKEN is the value of environment variable NAME when the host started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth {
    pub bearer_env: String,
}

/// The most requests a rate limit may allow per window: beyond it a limit stops meaning much,
/// and the arithmetic stays far from overflowing.
const MAX_REQUESTS: i64 = 1_000_000;
/// The longest window; the duration notation's largest unit is minutes.
const MAX_PER: Duration = Duration::from_secs(24 * 60 * 60);

pub(super) fn rate_limit(v: &mut Validator<'_>, raw: &Spanned<RawRateLimit>) -> Option<RateLimit> {
    let before = v.problems();
    let inner = raw.get_ref();
    let example = "e.g. `rate_limit = { requests = 10, per = \"1m\" }`";
    let requests = match &inner.requests {
        None => {
            v.push(
                v.source
                    .at(raw.span(), "`rate_limit` needs `requests`")
                    .with_hint(format!(
                        "add how many requests one client may make: {example}"
                    )),
            );
            None
        }
        Some(n) if (1..=MAX_REQUESTS).contains(n.get_ref()) => u32::try_from(*n.get_ref()).ok(),
        Some(n) => {
            v.push(
                v.source
                    .at(
                        n.span(),
                        format!(
                            "`requests` must be from 1 to {MAX_REQUESTS}, not {}",
                            n.get_ref()
                        ),
                    )
                    .with_hint(example),
            );
            None
        }
    };
    let per = match &inner.per {
        None => {
            v.push(
                v.source
                    .at(raw.span(), "`rate_limit` needs `per`")
                    .with_hint(format!(
                        "add the window the requests are counted in: {example}"
                    )),
            );
            None
        }
        Some(value) => match v.convert::<Timeout>(value) {
            Some(Timeout(per)) if per >= Duration::from_secs(1) && per <= MAX_PER => Some(per),
            Some(_) => {
                v.push(
                    v.source
                        .at(value.span(), "`per` must be from 1s to 1440m (a day)")
                        .with_hint("e.g. `per = \"1m\"`"),
                );
                None
            }
            None => None,
        },
    };
    if v.problems() > before {
        return None;
    }
    Some(RateLimit {
        requests: requests?,
        per: per?,
    })
}

pub(super) fn auth(v: &mut Validator<'_>, raw: &Spanned<RawAuth>) -> Option<Auth> {
    let Some(name) = &raw.get_ref().bearer_env else {
        v.push(
            v.source
                .at(raw.span(), "`auth` needs `bearer_env`")
                .with_hint("name the environment variable holding the token, e.g. `auth = { bearer_env = \"ADMIN_TOKEN\" }`"),
        );
        return None;
    };
    let text = name.get_ref();
    let valid = !text.is_empty()
        && !text.starts_with(|c: char| c.is_ascii_digit())
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        v.push(
            v.source
                .at(
                    name.span(),
                    format!("invalid environment variable name `{text}`"),
                )
                .with_hint(
                    "use letters, digits and `_`, not starting with a digit, e.g. `ADMIN_TOKEN`",
                ),
        );
        return None;
    }
    Some(Auth {
        bearer_env: text.clone(),
    })
}

/// `[server] public_url`: an `http` or `https` origin, optionally with a path prefix; kept
/// without a trailing `/` so that handlers append paths to it.
pub(super) fn public_url(v: &mut Validator<'_>, raw: &Spanned<String>) -> Option<String> {
    let text = raw.get_ref().trim();
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    let problem = match rest {
        None => Some("must start with `https://` or `http://`"),
        Some(rest) if rest.is_empty() || rest.starts_with('/') => Some("has no host"),
        Some(rest) if rest.contains(['?', '#']) => Some("may not have a query or fragment"),
        Some(_) if text.chars().any(|c| c.is_whitespace() || c.is_control()) => {
            Some("may not contain spaces")
        }
        Some(_) => None,
    };
    if let Some(problem) = problem {
        v.push(
            v.source
                .at(raw.span(), format!("public URL `{text}` {problem}"))
                .with_hint("write the origin people use, e.g. `public_url = \"https://memes.example.org\"`"),
        );
        return None;
    }
    Some(text.trim_end_matches('/').to_owned())
}
