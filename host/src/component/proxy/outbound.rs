//! Outbound HTTP: sent only to the origins a component was granted (`allowed_outbound_hosts`);
//! any other request fails with `error-code::HTTP-request-denied`, before a connection is made.

use std::sync::Arc;

use http::uri::Scheme;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// An origin a component may send requests to. The host is lowercase and the port explicit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub https: bool,
    pub host: String,
    pub port: u16,
}

impl Origin {
    /// Whether `uri` (absolute, as the guest's request is sent) is on this origin.
    fn admits(&self, uri: &http::Uri) -> bool {
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

/// The `wasi:http` hooks of one request's store: the default forbidden headers and schemes,
/// and outbound requests checked against the grant.
pub struct Hooks {
    /// The component id, for the log.
    pub id: Arc<str>,
    pub grants: Arc<super::Grants>,
}

impl WasiHttpHooks for Hooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<WasiBody>,
                        Box<dyn Future<Output = Result<(), Error>> + Send>,
                    ),
                    Error,
                >,
            > + Send,
    > {
        if !self.grants.outbound.iter().any(|o| o.admits(request.uri())) {
            eprintln!(
                "[{}] outbound request to `{}` denied: not in the component's `allowed_outbound_hosts`",
                self.id,
                origin_of(request.uri())
            );
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        Box::new(async move {
            use http_body_util::BodyExt;
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            let io: Box<dyn Future<Output = Result<(), Error>> + Send> = Box::new(io);
            Ok((response.map(BodyExt::boxed_unsync), io))
        })
    }
}

/// `scheme://authority` of a URI, for messages.
fn origin_of(uri: &http::Uri) -> String {
    match (uri.scheme_str(), uri.authority()) {
        (Some(scheme), Some(authority)) => format!("{scheme}://{authority}"),
        _ => uri.to_string(),
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
