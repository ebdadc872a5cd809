//! What every integration test needs: the guest components built once, a `nebula-host` child
//! process serving on 127.0.0.1:0, a small blocking HTTP/1.1 client, manifests written into
//! temp folders (`Manifest::up` goes from a manifest to a running host in one step), a runner for
//! the one-shot subcommands (`check`, `inspect`), a JSON reader, real etcd clusters, [`per_store!`]
//! to run a test on every store, and Academemes as a client sees it ([`site`]).

mod cli;
pub mod etcd;
mod guests;
pub mod haproxy;
mod host;
pub mod http;
pub mod json;
mod manifest;
pub mod polyglot;
pub mod site;
mod store;

pub use cli::run_cli;
pub use guests::{c_guest, guests, repo_root, scrub_outer_cargo_env};
pub use host::{HOST_BIN, Host};
pub use http::request;
pub use manifest::{Manifest, Written};
pub(crate) use store::per_store;
pub use store::{Store, TestStore};

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
