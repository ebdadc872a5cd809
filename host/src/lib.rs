//! Nebula serves HTTP with pure WebAssembly components, and keeps every effect in the host.
//!
//! The request path, one module per step:
//! 1. `server` accepts HTTP (hyper) and hands each request, unread, to `handler::handle`;
//! 2. `handler` routes it once (`router`, through `app`), `guard` checks the route's rate limit
//!    and token, and `handler` decides: a route to a
//!    `wasi:http/proxy` component streams the request to it and its response back
//!    (`component::proxy`; the component does its own I/O within its grants, so 3–5 are its
//!    own); a pure route reads its body within the route's limit and asks `memo`, which replays
//!    a reply keyed by its inputs and so skips 3–5;
//! 3. `effects` performs the reads the route declares (redb or etcd, behind the `Storage`
//!    seam);
//! 4. `component` calls the pure handler in a fresh wasmtime instance, each step of a pipeline in
//!    turn, once `admission` lets the call run (or turns the request away with 503);
//! 5. `effects` applies the writes the handler returned, in one transaction;
//! 6. `handler` turns the response into a `reply` (or the `reply` for a failure), `log` writes the
//!    access-log line, and `server` sends it.
//!
//! `app` builds everything once at start; `cli` is `nebula-host up|serve|check|inspect`;
//! and for authors `new` (`scaffold`) and `componentize`; for operators `usage` (`billing`)
//! and `top`;
//! `admin` answers health probes and `/metrics` (`metrics`) on a listener of its own;
//! `metering` counts what each request and guest call used, and keeps the usage log; `memory`
//! sets up the host's allocator and gives freed memory back;
//! `manifest` validates the TOML the app is built from; `request` is the request as the pure
//! path sees it. Dependencies between modules go one way (`module_graph` tests it).
//!
//! The library offers what `main` and embedders need: load a [`Manifest`], build an [`App`],
//! [`bind`] and [`serve`] it.
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! let manifest = nebula_host::Manifest::load("manifests/demo.toml".as_ref())?;
//! let app = nebula_host::App::from_manifest(&manifest, &Default::default())?;
//! let listener = nebula_host::bind("127.0.0.1:8080".parse()?).await?;
//! nebula_host::serve(app.into(), listener, nebula_host::shutdown_signal()).await
//! # }
//! ```

#![warn(missing_docs)]

mod admin;
mod admission;
mod app;
mod billing;
mod build;
pub mod cli;
mod component;
mod componentize;
mod effects;
mod guard;
mod handler;
mod log;
mod manifest;
mod memo;
mod memory;
mod metering;
mod metrics;
mod reload;
mod reply;
mod request;
mod router;
mod scaffold;
mod server;
mod top;

#[cfg(test)]
mod module_graph;

pub use app::{App, Dirs};
pub use manifest::{Diagnostic, Location, Manifest, ManifestError};
pub use server::{DEFAULT_DRAIN, bind, serve, serve_draining, shutdown_signal};
