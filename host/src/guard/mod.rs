//! Guards: what the host checks at the door of a route, after routing and before the body, the
//! reads and the call: the client's request rate ([`rate`]) and its bearer token ([`auth`]),
//! both declared per route in the manifest. A refused request costs no handler call and no
//! read. Also stamps the manifest's public URL on the request for the handler.
//!
//! Owns the limiter state and the token digests. Never reads a body, never touches storage,
//! and never writes a token (or the `Authorization` header) to a log.

mod auth;
mod rate;

use std::net::IpAddr;
use std::time::Instant;

use crate::component::Header;
use crate::manifest::Manifest;
use crate::reply::Reply;

pub use auth::MissingToken;

/// The request header that tells handlers the site's public URL (`[server] public_url`). The
/// host removes any copy a client sent, so a handler can trust it.
pub const PUBLIC_URL_HEADER: &str = "nebula-public-url";

/// The guards of every route, indexed like [`crate::app::App::routes`].
#[derive(Debug)]
pub struct Guards {
    routes: Vec<RouteGuards>,
    public_url: Option<String>,
    /// `up --rate-limits off`: for load tests and benchmarks only.
    rate_limits: bool,
}

#[derive(Debug, Default)]
struct RouteGuards {
    rate: Option<rate::Limiter>,
    auth: Option<auth::Bearer>,
}

impl Guards {
    /// The manifest's guards. Reads each `auth` route's environment variable now, so that a
    /// missing token stops the host at start rather than locking the route at run time.
    pub fn new(manifest: &Manifest) -> Result<Guards, MissingToken> {
        let routes = manifest
            .routes
            .iter()
            .map(|decl| {
                Ok(RouteGuards {
                    rate: decl.rate_limit.map(rate::Limiter::new),
                    auth: decl
                        .auth
                        .as_ref()
                        .map(|a| auth::Bearer::from_env(a, decl))
                        .transpose()?,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Guards {
            routes,
            public_url: manifest.public_url.clone(),
            rate_limits: true,
        })
    }

    /// `up --rate-limits off`: every route's rate limit stops counting.
    pub fn disable_rate_limits(&mut self) {
        self.rate_limits = false;
    }

    /// Lets the request to route `route` from `peer` in, or answers for the handler: 429 with
    /// `Retry-After` past the rate limit, 401/403 without the route's token. On the way in the
    /// token is taken out of the headers (the handler has no use for it) and the public URL is
    /// put in.
    pub fn admit(
        &self,
        route: usize,
        peer: Option<IpAddr>,
        headers: &mut Vec<Header>,
    ) -> Result<(), Reply> {
        headers.retain(|h| !h.name.eq_ignore_ascii_case(PUBLIC_URL_HEADER));
        if let Some(url) = &self.public_url {
            headers.push(Header {
                name: PUBLIC_URL_HEADER.to_owned(),
                value: url.clone(),
            });
        }
        let Some(guards) = self.routes.get(route) else {
            return Ok(());
        };
        if self.rate_limits
            && let (Some(limiter), Some(peer)) = (&guards.rate, peer)
        {
            limiter.admit(peer, Instant::now())?;
        }
        if let Some(bearer) = &guards.auth {
            bearer.admit(headers)?;
        }
        Ok(())
    }
}
