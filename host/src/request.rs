//! A request as the pure path sees it: its head as plain data ([`Head`]), and a body that is read
//! only once the route, and so its size limit, is known ([`BodySource`]). Also the one list of
//! headers that belong to the connection rather than to handlers.

use std::fmt;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};

use crate::component::Header;

/// Hop-by-hop headers concern one connection only (RFC 9110 §7.6.1): handlers neither see them
/// in requests nor set them in responses.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "transfer-encoding",
    "upgrade",
    "trailer",
];

/// Whether a header (lower-case name) is hop-by-hop.
pub fn is_hop_by_hop(name: &str) -> bool {
    HOP_BY_HOP.contains(&name)
}

/// The parts of an HTTP request the path needs before the body.
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    pub method: String,
    pub path: String,
    pub query: String,
    /// Without hop-by-hop headers; values that are not UTF-8 are decoded lossily.
    pub headers: Vec<Header>,
    /// The client's address, for per-client rate limits; `None` for the host's own requests.
    pub peer: Option<std::net::IpAddr>,
}

impl Head {
    /// The head of an HTTP request from `peer`.
    pub fn of(parts: &http::request::Parts, peer: Option<std::net::IpAddr>) -> Head {
        let headers = parts
            .headers
            .iter()
            .filter(|(name, _)| !is_hop_by_hop(name.as_str()))
            .map(|(name, value)| Header {
                name: name.as_str().to_owned(),
                value: String::from_utf8_lossy(value.as_bytes()).into_owned(),
            })
            .collect();
        Head {
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().unwrap_or("").to_owned(),
            headers,
            peer,
        }
    }

    /// Removes the first header called `name` (lower case) and returns its value.
    pub fn take_header(&mut self, name: &str) -> Option<String> {
        let i = self.headers.iter().position(|h| h.name == name)?;
        Some(self.headers.remove(i).value)
    }
}

/// The body, read only once the route (and so its size limit) is known.
pub trait BodySource {
    /// Reads the whole body; `Err(TooLarge)` past `limit` bytes.
    fn read(self, limit: u64) -> impl Future<Output = Result<Bytes, BodyError>> + Send;
}

/// Why a request body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the body is larger than the route's limit")]
    TooLarge,
    #[error("the body could not be read")]
    Broken(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// An HTTP body (hyper's, or any other), read whole.
#[derive(Debug)]
pub struct Whole<B>(pub B);

impl<B> BodySource for Whole<B>
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    async fn read(self, limit: u64) -> Result<Bytes, BodyError> {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        match Limited::new(self.0, limit).collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(BodyError::TooLarge),
            Err(e) => Err(BodyError::Broken(e)),
        }
    }
}

impl fmt::Display for Head {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Full;

    #[test]
    fn the_head_leaves_out_hop_by_hop_headers_and_keeps_the_query() {
        let request = http::Request::get("/memes/1?page=2&q=a+b")
            .header("Connection", "keep-alive")
            .header("TE", "trailers")
            .header("Accept", "text/html")
            .header("X-Bytes", &b"caf\xe9"[..])
            .body(())
            .unwrap();
        let head = Head::of(&request.into_parts().0, None);
        assert_eq!(head.method, "GET");
        assert_eq!(head.path, "/memes/1");
        assert_eq!(head.query, "page=2&q=a+b");
        let names: Vec<_> = head.headers.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["accept", "x-bytes"]);
        assert_eq!(head.headers[1].value, "caf\u{fffd}");
    }

    #[test]
    fn take_header_removes_only_the_first_of_that_name() {
        let mut head = Head {
            method: "GET".into(),
            path: "/".into(),
            query: String::new(),
            headers: vec![
                Header {
                    name: "if-none-match".into(),
                    value: "\"a\"".into(),
                },
                Header {
                    name: "accept".into(),
                    value: "*/*".into(),
                },
            ],
            peer: None,
        };
        assert_eq!(head.take_header("if-none-match").as_deref(), Some("\"a\""));
        assert_eq!(head.take_header("if-none-match"), None);
        assert_eq!(head.headers.len(), 1);
    }

    #[tokio::test]
    async fn a_body_within_the_limit_is_read_whole_and_one_past_it_is_too_large() {
        let body = || Whole(Full::new(Bytes::from_static(b"0123456789")));
        assert_eq!(body().read(10).await.unwrap(), "0123456789");
        assert!(matches!(body().read(9).await, Err(BodyError::TooLarge)));
    }

    /// A body whose connection breaks after the first frame.
    struct Breaks(u8);

    impl hyper::body::Body for Breaks {
        type Data = Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, std::io::Error>>> {
            self.0 += 1;
            std::task::Poll::Ready(Some(match self.0 {
                1 => Ok(hyper::body::Frame::data(Bytes::from_static(b"half"))),
                _ => Err(std::io::Error::other("connection reset")),
            }))
        }
    }

    #[tokio::test]
    async fn a_body_that_fails_midway_is_broken_with_its_cause() {
        match Whole(Breaks(0)).read(1 << 20).await {
            Err(BodyError::Broken(e)) => assert!(e.to_string().contains("reset"), "{e}"),
            other => panic!("expected a broken body, got {other:?}"),
        }
    }
}
