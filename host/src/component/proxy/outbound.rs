//! Outbound HTTP: sent only to the origins a component was granted (`allowed_outbound_hosts`);
//! any other request fails with `error-code::HTTP-request-denied`, before a connection is made.

use std::sync::Arc;

use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use super::grants::Grants;

/// The `wasi:http` hooks of one request's store: the default forbidden headers and schemes,
/// and outbound requests checked against the grant.
pub struct Hooks {
    /// The component id, for the log.
    pub id: Arc<str>,
    pub grants: Arc<Grants>,
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
            tracing::warn!(
                component = %self.id,
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
