//! Nebula serves HTTP with pure WebAssembly components, and keeps every effect in the host.
//!
//! The request path, one module per step:
//! 1. [`server`] accepts HTTP (hyper) and hands plain data to the handler;
//! 2. [`router`] maps method and path to a route of the [`manifest`], and [`guard`] checks the
//!    route's rate limit and token;
//! 3. [`effects`] performs the reads the route declares (redb, behind a small `Store` seam);
//! 4. [`component`] calls the pure handler in a fresh wasmtime instance (or streams the request
//!    to a `wasi:http/proxy` component, which then does its own I/O within its grants);
//! 5. [`effects`] applies the writes the handler returned, in one transaction;
//! 6. [`handler`] walks these steps for each request and builds the response; [`memo`] replays
//!    pure results keyed by their inputs, so a hit skips steps 3–5.
//!
//! [`app`] builds everything once at start; [`cli`] is `nebula-host up|serve|check|inspect`.
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! let manifest = nebula_host::manifest::Manifest::load("manifests/demo.toml".as_ref())?;
//! let app = nebula_host::app::App::from_manifest(&manifest, &Default::default())?;
//! let listener = nebula_host::server::bind("127.0.0.1:8080".parse()?).await?;
//! nebula_host::server::serve(app.into(), listener, nebula_host::server::shutdown_signal()).await
//! # }
//! ```

pub mod app;
pub mod cli;
pub mod component;
pub mod effects;
pub mod guard;
pub mod handler;
pub mod manifest;
pub mod memo;
pub mod router;
pub mod server;
