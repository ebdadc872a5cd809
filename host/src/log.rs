//! The host's log: the `tracing` subscriber (pretty or JSON lines on stderr, filtered like
//! `RUST_LOG`, `info` by default), the one access-log line per request, and errors written with
//! their whole chain. It decides how log lines look; it never decides what happens to a request.
//! (The ready line `nebula-host: serving on http://ADDR` is not a log line: it goes to stdout.)

use std::fmt;
use std::io::IsTerminal;
use std::str::FromStr;
use std::time::Instant;

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    /// One readable line per event: time, level, message, fields.
    #[default]
    Pretty,
    /// One JSON object per line, fields at the top level.
    Json,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "pretty" => Ok(Format::Pretty),
            "json" => Ok(Format::Json),
            _ => Err(format!("unknown log format `{s}`; use `pretty` or `json`")),
        }
    }
}

/// Installs the subscriber for this process: `RUST_LOG` filters (default `info`), lines go to
/// stderr. A second call changes nothing.
pub fn init(format: Format) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::try_new(&spec).unwrap_or_else(|e| {
            eprintln!("warning: ignoring RUST_LOG=`{spec}` ({e}); logging at `info`");
            EnvFilter::new("info")
        }),
        _ => EnvFilter::new("info"),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // Errors only when a subscriber is already installed (a second `init` in tests): keep it.
    let _ = match format {
        Format::Pretty => builder
            .with_target(false)
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        Format::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
}

/// The access-log line of one request, at `info` under the target `nebula_host::access` (so
/// `RUST_LOG=info,nebula_host::access=off` mutes it): method, route template (`-` when no route
/// matched), status, microseconds until the response (its head, when streamed), the
/// component(s), how the memo took part (`hit`, `shared`, `miss`, or `off`), and the CPU time
/// of the request's guest calls in µs (0 when none ran).
pub fn access(
    method: &str,
    route: &str,
    status: u16,
    start: Instant,
    component: &str,
    memo: &str,
    cpu_us: u64,
) {
    // Field values are computed only when the line is enabled: muted, it costs a callsite check.
    tracing::info!(
        target: "nebula_host::access",
        method = %method,
        route = %route,
        status,
        us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX),
        cpu_us,
        component = %component,
        memo = %memo,
    );
}

/// Writes an error and its sources on one line, `outer: inner: root`, like anyhow's `{:#}`.
#[derive(Debug, Clone, Copy)]
pub struct Chain<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(e) = source {
            write!(f, ": {e}")?;
            source = e.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn a_chain_is_written_on_one_line_outermost_first() {
        let e = Outer(std::io::Error::other("root cause"));
        assert_eq!(Chain(&e).to_string(), "outer: root cause");
    }

    #[test]
    fn the_format_is_pretty_or_json_and_anything_else_says_which() {
        assert_eq!("pretty".parse(), Ok(Format::Pretty));
        assert_eq!("json".parse(), Ok(Format::Json));
        let err = "yaml".parse::<Format>().unwrap_err();
        assert!(err.contains("`yaml`") && err.contains("`json`"), "{err}");
    }
}
