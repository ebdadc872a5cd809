//! The manifest: TOML text -> a validated [`Manifest`], or every problem found, each with
//! file:line:col, the source line and a hint. The format is docs/manifest.md.
//!
//! Stages, each depending only on those after it: `validate` (the file, the top-level tables)
//! -> `routes` -> `reads`, which check references against `declared`; all three report through
//! `validator` (the problems found so far, and the checks every table shares); `raw` holds the
//! serde types that keep spans, `diagnostic` turns spans into what users see, `limits`,
//! `outbound` and `template` are the value types. This file holds the validated types only. Parsing is sync and does no I/O: it does not look at the component files
//! (that is `check`'s job) and never touches the store; only [`Manifest::load`] reads the file.

mod declared;
mod diagnostic;
mod guards;
mod limits;
#[cfg(test)]
mod limits_table;
mod outbound;
mod raw;
mod reads;
mod routes;
mod store;
mod template;
mod validate;
mod validator;

#[cfg(test)]
mod golden;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::PathBuf;

pub use diagnostic::{Diagnostic, Location, ManifestError};
pub use guards::{Auth, RateLimit};
pub use limits::{
    DEFAULT_DRAIN, Limits, MAX_READ_ROUNDS, MAX_RESPONSE_HEADER_BYTES, MAX_RESPONSE_HEADERS,
    POOL_INSTANCES, ServerLimits,
};
pub use outbound::OutboundHost;
pub use store::{StoreDecl, StoreUrl};
pub use template::Template;

use crate::router::{MethodMatch, PathTemplate};

/// A validated manifest. Paths are absolute (joined onto the manifest's folder), not checked
/// for existence.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The manifest file as given.
    pub(crate) path: PathBuf,
    /// Its folder, absolute: relative paths in the manifest resolve against it.
    pub(crate) dir: PathBuf,
    /// `server.listen`; `None` means the default (`up --listen` may override either).
    pub(crate) listen: Option<SocketAddr>,
    /// `server.public_url`: the origin people reach the site at, without a trailing `/`.
    pub(crate) public_url: Option<String>,
    /// `data.dir`, absolute; `<dir>/data` by default.
    pub(crate) data_dir: PathBuf,
    /// `[store]`: where the collections live (redb in `data_dir` by default).
    pub(crate) store: StoreDecl,
    /// `[limits]` merged over [`Limits::default`].
    pub(crate) limits: Limits,
    /// The server-wide part of `[limits]`: request heads and connections, for every route.
    pub(crate) server_limits: ServerLimits,
    pub(crate) collections: BTreeMap<String, Collection>,
    pub(crate) components: BTreeMap<String, ComponentDecl>,
    /// In manifest order.
    pub(crate) routes: Vec<RouteDecl>,
    pub(crate) startup: Option<Startup>,
}

/// `[collections.NAME]`
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Collection {
    /// Values are signed 64-bit counters changed by `add` writes.
    pub counter: bool,
    /// Declared index names; a counter collection has exactly `["value"]`.
    pub indexes: Vec<String>,
}

/// `[components.ID]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentDecl {
    pub id: String,
    /// The `.wasm` file, absolute.
    pub path: PathBuf,
    pub build: Option<BuildCommand>,
    /// The component's `limits` merged over the manifest's.
    pub limits: Limits,
    /// `wasi:http` components: the origins outbound requests may go to (none by default).
    pub allowed_outbound_hosts: Vec<OutboundHost>,
    /// `wasi:http` components: the guest's environment variables (none by default), by name.
    pub env: Vec<(String, String)>,
    /// Where the component is declared (its id in the table header).
    pub location: Location,
}

/// A component's `build` command, run by `up --build`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildCommand {
    /// A shell command line.
    pub command: String,
    /// Absolute folder to run it in (`build_dir`, default the manifest's folder).
    pub dir: PathBuf,
}

/// One `[[routes]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteDecl {
    pub method: MethodMatch,
    pub path: PathTemplate,
    /// Component ids run in order; one for `component = "ID"`.
    pub steps: Vec<String>,
    /// Performed before the first call, in manifest order.
    pub reads: Vec<ReadDecl>,
    /// Collections dynamic reads may touch, including those of the declared reads.
    pub may_read: BTreeSet<String>,
    /// Collections writes may touch.
    pub may_write: BTreeSet<String>,
    /// Request body limit: the route's `max_body`, else the smallest of its components'.
    pub max_body: u64,
    /// Where the route is declared (its `route` value).
    pub location: Location,
    /// Not reachable over HTTP; run by the host itself (see [`Startup`]).
    pub internal: bool,
    /// Results may be memoized (default); `memo = false` turns it off for the route.
    pub memo: bool,
    /// Requests per client address the host lets through before answering 429.
    pub rate_limit: Option<RateLimit>,
    /// A bearer token the host checks before the call.
    pub auth: Option<Auth>,
}

/// `[startup]`: an internal route run once at start when a collection is empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Startup {
    pub when_empty: String,
    /// Index into [`Manifest::routes`].
    pub route: usize,
}

/// A read performed before the call; `name` is unique within the route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadDecl {
    pub name: String,
    pub op: ReadDeclOp,
}

/// What a declared read does; mirrors WIT `read-op` with templates in place of values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadDeclOp {
    Get {
        collection: String,
        key: Template,
    },
    Counter {
        collection: String,
        key: Template,
    },
    Count {
        collection: String,
    },
    List {
        collection: String,
        /// "" walks the primary keys.
        index: String,
        descending: bool,
        /// Only sort keys starting with this (rendered) text.
        prefix: Option<Template>,
        cursor: Option<Template>,
        limit: Option<Template>,
        default_limit: u32,
        max_limit: u32,
    },
    Now,
    /// Fresh bytes from the OS's CSPRNG; like `now`, a route that declares it is never
    /// memoized. Manifest-only: the WIT `read-op` has no such case (see `effects::RANDOM`).
    Random,
}
