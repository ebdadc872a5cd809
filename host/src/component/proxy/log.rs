//! A guest's stdout and stderr: both become lines of the host's log (`info`, target
//! `nebula_host::guest`, field `component`), a line at a time, each prefixed with the component
//! id (`[hello-http] listening`), so guests' lines never interleave mid-line with each other or
//! with the host's own.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// A line longer than this is logged in pieces, so a guest that never writes a newline cannot
/// make the host buffer without bound.
const MAX_LINE: usize = 16 << 10;

/// One output stream of one request (stdout or stderr); every handle the guest gets shares it.
#[derive(Clone)]
pub struct GuestLog {
    line: Arc<Line>,
}

struct Line {
    id: Arc<str>,
    pending: Mutex<Vec<u8>>,
}

impl GuestLog {
    pub fn new(id: &Arc<str>) -> GuestLog {
        GuestLog {
            line: Arc::new(Line {
                id: id.clone(),
                pending: Mutex::new(Vec::new()),
            }),
        }
    }

    fn write(&self, mut bytes: &[u8]) {
        let mut pending = self.line.pending.lock().unwrap_or_else(|e| e.into_inner());
        while !bytes.is_empty() {
            let room = MAX_LINE - pending.len();
            match bytes.iter().take(room).position(|&b| b == b'\n') {
                Some(end) => {
                    pending.extend_from_slice(&bytes[..end]);
                    bytes = &bytes[end + 1..];
                    self.line.emit(&mut pending);
                }
                None if bytes.len() >= room => {
                    pending.extend_from_slice(&bytes[..room]);
                    bytes = &bytes[room..];
                    self.line.emit(&mut pending);
                }
                None => {
                    pending.extend_from_slice(bytes);
                    bytes = &[];
                }
            }
        }
    }
}

impl Line {
    /// Writes `[id] text` as one line and empties `pending`.
    fn emit(&self, pending: &mut Vec<u8>) {
        let text = String::from_utf8_lossy(pending);
        let text = text.strip_suffix('\r').unwrap_or(&text);
        let id = &*self.id;
        tracing::info!(target: "nebula_host::guest", component = %id, "[{id}] {text}");
        pending.clear();
    }
}

impl Drop for Line {
    /// The last unterminated line, once the request's store is gone.
    fn drop(&mut self) {
        let mut pending = std::mem::take(self.pending.get_mut().unwrap_or_else(|e| e.into_inner()));
        if !pending.is_empty() {
            self.emit(&mut pending);
        }
    }
}

impl IsTerminal for GuestLog {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestLog {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

impl OutputStream for GuestLog {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        GuestLog::write(self, &bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(1 << 20)
    }
}

impl Pollable for GuestLog {
    /// Always ready: writes never block.
    fn ready<'a, 'b>(&'a mut self) -> Pin<Box<dyn Future<Output = ()> + Send + 'b>>
    where
        'a: 'b,
        Self: 'b,
    {
        Box::pin(std::future::ready(()))
    }
}

impl AsyncWrite for GuestLog {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.write(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
