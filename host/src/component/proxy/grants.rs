//! What the manifest grants one `wasi:http` component: the origins it may send requests to and
//! its environment. Plain data with one check ([`Origin::admits`]); nothing by default.

use http::uri::Scheme;

/// What the manifest grants one proxy component; nothing by default.
#[derive(Debug, Clone, Default)]
pub struct Grants {
    /// Origins outbound requests may go to.
    pub outbound: Vec<Origin>,
    /// Environment variables, in order.
    pub env: Vec<(String, String)>,
}

/// An origin a component may send requests to. The host is lowercase and the port explicit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub https: bool,
    pub host: String,
    pub port: u16,
}

impl Origin {
    /// Whether `uri` (absolute, as the guest's request is sent) is on this origin.
    pub(super) fn admits(&self, uri: &http::Uri) -> bool {
        let https = match uri.scheme() {
            Some(s) if *s == Scheme::HTTPS => true,
            Some(s) if *s == Scheme::HTTP => false,
            _ => return false,
        };
        let Some(host) = uri.host() else { return false };
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        https == self.https && port == self.port && host.eq_ignore_ascii_case(&self.host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(https: bool, host: &str, port: u16) -> Origin {
        Origin {
            https,
            host: host.into(),
            port,
        }
    }

    fn admits(o: &Origin, uri: &str) -> bool {
        o.admits(&uri.parse().unwrap())
    }

    #[test]
    fn admits_the_same_scheme_host_and_port_only() {
        let local = origin(false, "127.0.0.1", 8081);
        assert!(admits(&local, "http://127.0.0.1:8081/any/path?q=1"));
        assert!(!admits(&local, "http://127.0.0.1:8082/"));
        assert!(!admits(&local, "https://127.0.0.1:8081/"));
        assert!(!admits(&local, "http://localhost:8081/"));

        let api = origin(true, "api.example.com", 443);
        assert!(admits(&api, "https://API.example.com/v1"));
        assert!(admits(&api, "https://api.example.com:443/"));
        assert!(!admits(&api, "http://api.example.com/"));
        assert!(!admits(&api, "https://api.example.com.evil.net/"));
        assert!(!admits(&api, "https://evil.net/?api.example.com"));
    }
}
