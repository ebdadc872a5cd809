//! Building outcomes: a response (with the writes to apply first), data passed to the next
//! pipeline step, or more reads.
//!
//! Handlers should build outcomes through these rather than the WIT variants: when the
//! `nebula:pure` world changes their shape, only this module changes.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::{Header, Outcome, PassOn, Read, RespondWith, Response, Write};

/// A response under construction, with the writes to apply before it is sent.
///
/// ```
/// # use nebula_guest::*;
/// let outcome = Reply::new(200)
///     .header("cache-control", "no-cache")
///     .body("text/plain; charset=utf-8", "hello\n")
///     .write(write::add("hits", "home", 1))
///     .done();
/// let Outcome::Respond(RespondWith { response, writes }) = outcome else { unreachable!() };
/// assert_eq!(response.status, 200);
/// assert_eq!(response.headers.len(), 2);
/// assert_eq!(writes.len(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct Reply {
    response: Response,
    writes: Vec<Write>,
}

impl Reply {
    /// An empty response with `status` (100..=599) and no writes.
    pub fn new(status: u16) -> Reply {
        Reply {
            response: Response {
                status,
                headers: Vec::new(),
                body: Vec::new(),
            },
            writes: Vec::new(),
        }
    }

    /// Adds a header (a name may appear more than once). The host adds `content-length`.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.response.headers.push(Header {
            name: name.to_string(),
            value: value.into(),
        });
        self
    }

    /// Sets the body and adds its `content-type` header.
    pub fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        self.response.body = body.into();
        self.header("content-type", content_type)
    }

    /// Adds one write, applied (atomically with the others) before the response is sent.
    pub fn write(mut self, write: Write) -> Reply {
        self.writes.push(write);
        self
    }

    /// Replaces the writes.
    pub fn writes(mut self, writes: Vec<Write>) -> Reply {
        self.writes = writes;
        self
    }

    /// The outcome: send this response once the writes are applied.
    pub fn done(self) -> Outcome {
        Outcome::Respond(RespondWith {
            response: self.response,
            writes: self.writes,
        })
    }
}

impl From<Reply> for Outcome {
    fn from(reply: Reply) -> Outcome {
        reply.done()
    }
}

/// The outcome "answer `status` with this body and no writes", the common case.
///
/// ```
/// # use nebula_guest::*;
/// let outcome = respond(404, "text/plain; charset=utf-8", "no such meme\n");
/// assert!(matches!(outcome, Outcome::Respond(RespondWith { response: Response { status: 404, .. }, .. })));
/// ```
pub fn respond(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Outcome {
    Reply::new(status).body(content_type, body).done()
}

/// Pipelines only: hand `data` to the next step (it arrives as `input.carried`), and queue
/// `writes` (applied with the last step's, all or none).
///
/// ```
/// # use nebula_guest::*;
/// let outcome = pass(b"rendered".to_vec(), vec![]);
/// assert!(matches!(outcome, Outcome::Pass(_)));
/// ```
pub fn pass(data: impl Into<Vec<u8>>, writes: Vec<Write>) -> Outcome {
    Outcome::Pass(PassOn {
        data: data.into(),
        writes,
    })
}

/// Ask the host to perform `reads` (within the route's grants) and call again with their results
/// appended to `input.reads`; see [`reads`](crate::reads) for the constructors. At most four
/// rounds per request.
pub fn need(reads: Vec<Read>) -> Outcome {
    Outcome::Need(reads)
}
