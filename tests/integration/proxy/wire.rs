//! A raw HTTP/1.1 client for what the harness client does not do: chunked request bodies sent
//! frame by frame, trailers both ways, reading part of a response, and hanging up early.

use anyhow::{Context, Result, bail, ensure};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(30);

/// A response as received, trailers apart.
#[derive(Debug, Default)]
pub struct Received {
    pub status: u16,
    /// Names lowercased, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub trailers: Vec<(String, String)>,
    /// The response ended properly: all `content-length` bytes, or the last chunk.
    pub complete: bool,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The reading half of a connection to the host.
#[derive(Debug)]
pub struct Conn {
    stream: TcpStream,
    /// Bytes received and not parsed yet.
    buf: Vec<u8>,
}

/// The writing half, which may go to another thread so that a large body is sent while the
/// response streams back.
#[derive(Debug)]
pub struct Writer {
    stream: TcpStream,
}

impl Conn {
    pub fn open(addr: SocketAddr) -> Result<(Conn, Writer)> {
        let stream = TcpStream::connect_timeout(&addr, TIMEOUT)
            .with_context(|| format!("cannot connect to {addr}"))?;
        stream.set_read_timeout(Some(TIMEOUT))?;
        stream.set_write_timeout(Some(TIMEOUT))?;
        stream.set_nodelay(true)?;
        let writer = Writer {
            stream: stream.try_clone()?,
        };
        let conn = Conn {
            stream,
            buf: Vec::new(),
        };
        Ok((conn, writer))
    }
}

impl Writer {
    /// Sends the request line and headers (`host` and `connection: close` added).
    pub fn head(&mut self, method: &str, path: &str, headers: &[(&str, &str)]) -> Result<()> {
        let addr = self.stream.peer_addr()?;
        let mut head = format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("connection: close\r\n\r\n");
        self.send(head.as_bytes())
    }

    pub fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.stream.write_all(bytes).context("sending to the host")
    }

    /// One chunk of a chunked body.
    pub fn chunk(&mut self, data: &[u8]) -> Result<()> {
        let mut frame = format!("{:x}\r\n", data.len()).into_bytes();
        frame.extend_from_slice(data);
        frame.extend_from_slice(b"\r\n");
        self.send(&frame)
    }

    /// The last chunk, with trailers.
    pub fn end(&mut self, trailers: &[(&str, &str)]) -> Result<()> {
        let mut last = String::from("0\r\n");
        for (name, value) in trailers {
            last.push_str(&format!("{name}: {value}\r\n"));
        }
        last.push_str("\r\n");
        self.send(last.as_bytes())
    }
}

impl Conn {
    /// Reads more; false at the end of the stream (or a reset after the host answered).
    fn fill(&mut self) -> Result<bool> {
        let mut chunk = [0; 64 << 10];
        match self.stream.read(&mut chunk) {
            Ok(0) => Ok(false),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(true)
            }
            // A host that refuses a request it has not read whole closes with unread data,
            // which resets the connection; what it sent before still counts.
            Err(e) if e.kind() == ErrorKind::ConnectionReset => Ok(false),
            Err(e) => Err(e).context("reading from the host"),
        }
    }

    /// Reads until the response head is in, and returns status and headers.
    pub fn read_head(&mut self) -> Result<Received> {
        let end = loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                break end;
            }
            ensure!(self.fill()?, "the connection closed before a response head");
        };
        let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
        self.buf.drain(..end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("bad status line {status_line:?}"))?;
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Ok(Received {
            status,
            headers,
            ..Received::default()
        })
    }

    /// Reads until at least `n` body bytes of a chunked response are in (undecoded), or the
    /// stream ends; returns how many bytes arrived.
    pub fn read_at_least(&mut self, n: usize) -> Result<usize> {
        while self.buf.len() < n {
            if !self.fill()? {
                break;
            }
        }
        Ok(self.buf.len())
    }

    /// Reads a whole response: head, then the body framed by `content-length`, chunks (with
    /// trailers) or the end of the stream. A body cut short is returned with `complete` false.
    pub fn read_response(&mut self) -> Result<Received> {
        let head = self.read_head()?;
        self.read_body(head)
    }

    /// Reads the body (and trailers) of a response whose head [`Conn::read_head`] read.
    pub fn read_body(&mut self, mut response: Received) -> Result<Received> {
        let chunked = response
            .header("transfer-encoding")
            .is_some_and(|t| t.contains("chunked"));
        if chunked {
            self.read_chunks(&mut response)?;
        } else if let Some(length) = response.header("content-length") {
            let length: usize = length.parse().context("bad content-length")?;
            while self.buf.len() < length && self.fill()? {}
            let n = length.min(self.buf.len());
            response.body = self.buf.drain(..n).collect();
            response.complete = n == length;
        } else {
            while self.fill()? {}
            response.body = std::mem::take(&mut self.buf);
            response.complete = true;
        }
        Ok(response)
    }

    fn read_chunks(&mut self, response: &mut Received) -> Result<()> {
        loop {
            let line_end = loop {
                if let Some(i) = find(&self.buf, b"\r\n") {
                    break i;
                }
                if !self.fill()? {
                    return Ok(());
                }
            };
            let line = String::from_utf8_lossy(&self.buf[..line_end]).into_owned();
            let size = usize::from_str_radix(line.split(';').next().unwrap_or_default().trim(), 16)
                .with_context(|| format!("bad chunk size {line:?}"))?;
            if size == 0 {
                // Trailers, then an empty line.
                let end = loop {
                    if let Some(i) = find(&self.buf[line_end..], b"\r\n\r\n") {
                        break line_end + i;
                    }
                    if !self.fill()? {
                        return Ok(());
                    }
                };
                // `end` is where the final empty line starts: right after the size line when
                // there are no trailers.
                let trailers = match end > line_end {
                    true => String::from_utf8_lossy(&self.buf[line_end + 2..end]).into_owned(),
                    false => String::new(),
                };
                response.trailers = trailers
                    .split("\r\n")
                    .filter_map(|l| l.split_once(':'))
                    .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
                    .collect();
                response.complete = true;
                return Ok(());
            }
            while self.buf.len() < line_end + 2 + size + 2 {
                if !self.fill()? {
                    return Ok(());
                }
            }
            response
                .body
                .extend_from_slice(&self.buf[line_end + 2..line_end + 2 + size]);
            self.buf.drain(..line_end + 2 + size + 2);
        }
    }
}

/// Sends a request with a `content-length` body and reads the whole response.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Received> {
    let (mut conn, mut writer) = Conn::open(addr)?;
    let length = body.len().to_string();
    let mut all = headers.to_vec();
    all.push(("content-length", &length));
    writer.head(method, path, &all)?;
    writer.send(body)?;
    let response = conn.read_response()?;
    if !response.complete {
        bail!("the response to {method} {path} was cut short: {response:?}");
    }
    Ok(response)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
