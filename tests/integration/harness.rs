//! What every integration test needs: the guest components built once, a `nebula-host` child
//! process serving on 127.0.0.1:0, a small blocking HTTP/1.1 client, manifests written into
//! temp folders, a runner for the one-shot subcommands (`check`, `inspect`), and Academemes
//! ready to test ([`site`]).

mod cli;
mod guests;
mod host;
pub mod http;
mod manifest;
pub mod site;

pub use cli::run_cli;
pub use guests::{guests, repo_root};
pub use host::{HOST_BIN, Host};
pub use http::request;
pub use manifest::Manifest;

use std::time::{Duration, Instant};

/// Polls `ready` every 20 ms until it returns `Some` or `timeout` passes.
fn poll<T>(timeout: Duration, mut ready: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = ready() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
