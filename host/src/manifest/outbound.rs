//! `allowed_outbound_hosts` entries: `scheme://host[:port]`, the only origins a `wasi:http`
//! component may send requests to (Spin's field name and notation, without its wildcards).
//! See docs/wasi-http.md, "Outbound HTTP".

use std::fmt;

use super::limits::Invalid;

/// One origin a component may send requests to. Hosts are lowercase; the port is explicit
/// (80 for `http`, 443 for `https` when the entry gives none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundHost {
    pub https: bool,
    pub host: String,
    pub port: u16,
}

impl fmt::Display for OutboundHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        write!(f, "{scheme}://{}:{}", self.host, self.port)
    }
}

const EXAMPLE: &str = "e.g. `https://api.example.com` or `http://127.0.0.1:8081`";

impl OutboundHost {
    /// Reads one entry, or says what is wrong with it and how to write it.
    pub(super) fn parse(text: &str) -> Result<Self, Invalid> {
        let invalid = |message: String, hint: String| Invalid {
            message,
            hint: Some(hint),
        };
        let Some((scheme, rest)) = text.split_once("://") else {
            return Err(invalid(
                format!("allowed outbound host `{text}` has no scheme"),
                format!("write `https://{text}` or `http://{text}`"),
            ));
        };
        let https = match scheme.to_ascii_lowercase().as_str() {
            "http" => false,
            "https" => true,
            _ => {
                return Err(invalid(
                    format!("unsupported scheme `{scheme}` in allowed outbound host `{text}`"),
                    "outbound requests are HTTP: use `http://` or `https://`".to_owned(),
                ));
            }
        };
        if text.contains('*') {
            return Err(invalid(
                format!("allowed outbound host `{text}` has a wildcard"),
                format!("list each host and port on its own, {EXAMPLE}"),
            ));
        }
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#']) {
            let host = authority.split(['/', '?', '#']).next().unwrap_or_default();
            return Err(invalid(
                format!("allowed outbound host `{text}` has a path"),
                format!(
                    "list the origin only, `{scheme}://{host}`; every path on it is then allowed"
                ),
            ));
        }
        if authority.contains('@') {
            return Err(invalid(
                format!("allowed outbound host `{text}` has user information"),
                format!("list the origin only, {EXAMPLE}"),
            ));
        }
        let (host, port) = split_port(authority).map_err(|port| {
            invalid(
                format!("invalid port `{port}` in allowed outbound host `{text}`"),
                "a port is a number from 1 to 65535".to_owned(),
            )
        })?;
        let host_ok = !host.is_empty()
            && (host.starts_with('[') && host.ends_with(']')
                || host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'));
        if !host_ok {
            return Err(invalid(
                format!("invalid host in allowed outbound host `{text}`"),
                format!("write a host name or IP address, {EXAMPLE}"),
            ));
        }
        Ok(OutboundHost {
            https,
            host: host.to_ascii_lowercase(),
            port: port.unwrap_or(if https { 443 } else { 80 }),
        })
    }
}

/// `host:port` -> (`host`, `Some(port)`); `[::1]:80` keeps the brackets. `Err` is the bad port.
fn split_port(authority: &str) -> Result<(&str, Option<u16>), &str> {
    let colon = match authority.rfind(':') {
        // An IPv6 literal without a port has colons only inside its brackets.
        Some(i) if !authority[i..].contains(']') => i,
        _ => return Ok((authority, None)),
    };
    let (host, port) = (&authority[..colon], &authority[colon + 1..]);
    match port.parse::<u16>() {
        Ok(p) if p > 0 && port.bytes().all(|b| b.is_ascii_digit()) => Ok((host, Some(p))),
        _ => Err(port),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<String, String> {
        OutboundHost::parse(text)
            .map(|h| h.to_string())
            .map_err(|e| format!("{} ({})", e.message, e.hint.unwrap_or_default()))
    }

    #[test]
    fn reads_origins_with_default_ports() {
        assert_eq!(
            parse("https://api.example.com").unwrap(),
            "https://api.example.com:443"
        );
        assert_eq!(
            parse("http://127.0.0.1:8081").unwrap(),
            "http://127.0.0.1:8081"
        );
        assert_eq!(
            parse("HTTP://Example.COM/").unwrap(),
            "http://example.com:80"
        );
        assert_eq!(parse("http://[::1]:9000").unwrap(), "http://[::1]:9000");
        assert_eq!(parse("http://[::1]").unwrap(), "http://[::1]:80");
    }

    #[test]
    fn rejects_what_it_cannot_enforce_with_a_hint() {
        assert!(
            parse("api.example.com")
                .unwrap_err()
                .contains("has no scheme")
        );
        assert!(
            parse("ftp://x.org")
                .unwrap_err()
                .contains("unsupported scheme `ftp`")
        );
        assert!(
            parse("https://*.example.com")
                .unwrap_err()
                .contains("wildcard")
        );
        assert!(
            parse("https://api.example.com/v1")
                .unwrap_err()
                .contains("`https://api.example.com`; every path")
        );
        assert!(
            parse("http://localhost:http")
                .unwrap_err()
                .contains("invalid port")
        );
        assert!(
            parse("http://localhost:0")
                .unwrap_err()
                .contains("invalid port")
        );
        assert!(
            parse("http://u:p@host")
                .unwrap_err()
                .contains("user information")
        );
        assert!(parse("http://").unwrap_err().contains("invalid host"));
    }
}
