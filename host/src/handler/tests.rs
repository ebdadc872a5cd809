//! The request path's pieces that need no component: reading the body through the
//! [`BodySource`] seam, validating a handler's response, and how the memo is reported.

use super::*;
use crate::component::Header;

/// A body source that answers what it is told, and remembers the limit it was given.
struct Given(
    Result<&'static [u8], fn() -> BodyError>,
    std::sync::Arc<std::sync::Mutex<u64>>,
);

impl BodySource for Given {
    async fn read(self, limit: u64) -> Result<Bytes, BodyError> {
        *self.1.lock().unwrap() = limit;
        self.0.map(Bytes::from_static).map_err(|make| make())
    }
}

fn given(
    result: Result<&'static [u8], fn() -> BodyError>,
) -> (Given, std::sync::Arc<std::sync::Mutex<u64>>) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(0));
    (Given(result, seen.clone()), seen)
}

/// A deadline the tests never reach.
fn soon() -> Instant {
    Instant::now() + std::time::Duration::from_secs(60)
}

/// A body that never arrives.
struct Stalled;

impl BodySource for Stalled {
    async fn read(self, _: u64) -> Result<Bytes, BodyError> {
        std::future::pending().await
    }
}

#[tokio::test]
async fn a_body_that_does_not_arrive_before_the_deadline_is_408() {
    let deadline = Instant::now() + std::time::Duration::from_millis(10);
    let reply = read_body("POST /x", 10, Stalled, deadline)
        .await
        .unwrap_err();
    assert_eq!(reply, Reply::body_timeout());
    assert_eq!(reply.status, 408);
}

#[tokio::test]
async fn the_body_is_read_with_the_routes_limit() {
    let (body, seen) = given(Ok(b"payload"));
    assert_eq!(
        read_body("POST /x", 4096, body, soon()).await.unwrap(),
        "payload"
    );
    assert_eq!(*seen.lock().unwrap(), 4096);
}

#[tokio::test]
async fn a_body_past_the_limit_is_413_naming_the_limit() {
    let (body, _) = given(Err(|| BodyError::TooLarge));
    let reply = read_body("POST /x", 10, body, soon()).await.unwrap_err();
    assert_eq!(reply, Reply::body_too_large(10));
}

#[tokio::test]
async fn a_broken_body_is_400() {
    let (body, _) = given(Err(|| BodyError::Broken("reset".into())));
    let reply = read_body("POST /x", 10, body, soon()).await.unwrap_err();
    assert_eq!(reply.status, 400);
}

fn response(status: u16, headers: &[(&str, &str)]) -> Response {
    Response {
        status,
        headers: headers
            .iter()
            .map(|(name, value)| Header {
                name: (*name).into(),
                value: (*value).into(),
            })
            .collect(),
        body: b"hi".to_vec(),
    }
}

#[test]
fn a_valid_response_keeps_its_headers_but_not_the_servers() {
    let headers = [
        ("Content-Type", "text/plain"),
        ("Content-Length", "999"),
        ("Connection", "close"),
        ("ETag", "\"v1\""),
    ];
    let reply = respond("GET /", response(201, &headers)).unwrap();
    assert_eq!(reply.status, 201);
    assert_eq!(reply.body, "hi");
    let names: Vec<_> = reply.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Content-Type", "ETag"]);
}

#[test]
fn an_invalid_status_becomes_a_500_that_says_so() {
    for status in [0, 99, 600, 1000] {
        let reply = respond("GET /", response(status, &[])).unwrap_err();
        assert_eq!(reply, Reply::internal("invalid status"), "status {status}");
    }
    assert!(respond("GET /", response(100, &[])).is_ok());
    assert!(respond("GET /", response(599, &[])).is_ok());
}

#[test]
fn the_access_log_names_the_memo_outcome() {
    assert_eq!(MemoUse::Off.as_str(), "off");
    assert_eq!(MemoUse::Used(Memoized::Hit).as_str(), "hit");
    assert_eq!(MemoUse::Used(Memoized::Shared).as_str(), "shared");
    assert_eq!(MemoUse::Used(Memoized::Miss).as_str(), "miss");
}

#[test]
fn answers_report_their_status_whole_or_streamed() {
    assert_eq!(Answer::Whole(Reply::not_found()).status(), 404);
    let streamed = http::Response::builder()
        .status(206)
        .body(ProxyBody::default())
        .unwrap();
    assert_eq!(Answer::Streamed(streamed).status(), 206);
}

#[test]
fn a_response_over_max_response_or_the_header_caps_is_refused_naming_the_excess() {
    let ok = response(200, &[("content-type", "text/plain")]);
    assert_eq!(within_limits(&ok, 2), Ok(()));
    let why = within_limits(&ok, 1).unwrap_err();
    assert_eq!(why, "a body of 2 bytes, over its `max_response` of 1");
    let many: Vec<(String, String)> = (0..=MAX_RESPONSE_HEADERS)
        .map(|i| (format!("x-{i}"), "v".to_owned()))
        .collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let why = within_limits(&response(200, &many), 1 << 20).unwrap_err();
    assert!(why.contains("101 header fields"), "{why}");
    let huge = "v".repeat(MAX_RESPONSE_HEADER_BYTES);
    let why = within_limits(&response(200, &[("x-big", &huge)]), 1 << 20).unwrap_err();
    assert!(why.contains("bytes of header fields"), "{why}");
}
