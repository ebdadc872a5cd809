//! Raw -> validated for the top level: `version`, `[server]`, `[data]`, `[limits]`,
//! `[collections]` and `[components]`; routes are routes.rs.
//!
//! The document is parsed once into a spanned tree; each table is then deserialized on its own,
//! so every table's mistakes are reported, not just the first one serde meets. A table with
//! unknown keys is not deserialized (its other errors would mostly be noise), but its name still
//! counts as declared so that routes using it do not add "unknown collection" errors on top.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::declared::Declared;
use super::diagnostic::{Diagnostic, Source};
use super::limits::{
    ByteSize, Count, DEFAULT_MAX_HEADER_BYTES, Fuel, Invalid, ServerLimits, Timeout,
};
use super::outbound::OutboundHost;
use super::raw::{
    RawCollection, RawComponent, RawData, RawLimits, RawRoute, RawServer, RawStartup, TOP_LEVEL,
    fields_of,
};
use super::validator::{Validator, article};
use super::{
    BuildCommand, Collection, ComponentDecl, Limits, Manifest, ManifestError, RouteDecl, Startup,
};

/// The only manifest format version (docs/manifest.md).
const VERSION: i64 = 1;

/// Bounds of `[limits] max_header_bytes`: below 1 KiB ordinary browser requests fail; above
/// 1 MiB a client could make the server hold megabytes per connection before routing.
const MIN_HEADER_BYTES: u64 = 1 << 10;
const MAX_HEADER_BYTES: u64 = 1 << 20;

/// The entries of `[collections]` or `[components]`, each name with its span.
type NamedTables<'i> = Vec<(Spanned<String>, Spanned<DeValue<'i>>)>;

impl Manifest {
    /// The manifest file, as it was given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The manifest's folder, absolute: relative paths in the manifest resolve against it.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reads and validates a manifest file. On failure returns every problem found: a syntax
    /// error stops early, semantic errors are all collected.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|err| read_error(path, &err))?;
        Manifest::parse(path, &text)
    }

    /// Validates manifest text; `path` names the file in diagnostics and anchors relative paths.
    /// Does no I/O besides asking for the current folder when `path` is relative.
    pub fn parse(path: &Path, text: &str) -> Result<Manifest, ManifestError> {
        manifest(path, text)
    }
}

fn read_error(path: &Path, err: &std::io::Error) -> ManifestError {
    use std::io::ErrorKind;
    let shown = path.display();
    let diagnostic = match err.kind() {
        ErrorKind::NotFound => Diagnostic::new(format!("manifest `{shown}` not found"))
            .with_hint("check the path; the smallest valid manifest is the line `version = 1`"),
        ErrorKind::IsADirectory => Diagnostic::new(format!("manifest `{shown}` is a folder"))
            .with_hint("pass the `.toml` file inside it"),
        ErrorKind::PermissionDenied => {
            Diagnostic::new(format!("cannot read manifest `{shown}`: permission denied"))
                .with_hint("check the file's permissions")
        }
        ErrorKind::InvalidData => Diagnostic::new(format!("manifest `{shown}` is not valid UTF-8"))
            .with_hint("save it as UTF-8"),
        _ => Diagnostic::new(format!(
            "cannot read manifest `{shown}`: {}",
            err.to_string().to_lowercase()
        ))
        .with_hint("check that the file is readable"),
    };
    diagnostic.into()
}

fn manifest(path: &Path, text: &str) -> Result<Manifest, ManifestError> {
    let source = Source::new(path, text);
    let root = match DeTable::parse(text) {
        Ok(root) => root.into_inner(),
        Err(err) => return Err(source.toml_error(&err).into()),
    };
    let mut v = Validator::new(source);
    // Like Spin, look at the version before the schema: a manifest written for another version
    // gets one clear error instead of a pile of unknown fields.
    v.version(&root)?;

    let mut sections = BTreeMap::new();
    for (key, value) in root {
        match TOP_LEVEL.iter().find(|k| **k == key.get_ref()) {
            Some(name) => {
                sections.insert(*name, value);
            }
            None => v.unknown_top_level_key(&key, value.get_ref()),
        }
    }
    let dir = absolute_dir(path);
    let (listen, public_url) = sections
        .remove("server")
        .map(|s| v.server(s))
        .unwrap_or_default();
    let data_dir = dir.join(
        sections
            .remove("data")
            .and_then(|d| v.data(d))
            .unwrap_or_else(|| "data".into()),
    );
    let limits = match sections.remove("limits") {
        Some(value) => v
            .typed::<RawLimits>(value, "`limits`", "[limits]", &[])
            .unwrap_or_default(),
        None => RawLimits::default(),
    };
    let server_limits = v.server_limits(&limits);
    let limits = v.merge_limits(Limits::default(), &limits);
    let (collections, collection_names) = v.collections(sections.remove("collections"));
    let (components, component_names) = v.components(sections.remove("components"), &dir, &limits);
    let declared = Declared {
        collections: &collections,
        collection_names: &collection_names,
        components: &components,
        component_names: &component_names,
        limits: &limits,
    };
    let routes = match sections.remove("routes") {
        Some(value) => super::routes::routes(&mut v, value, &declared),
        None => Vec::new(),
    };
    let startup = sections
        .remove("startup")
        .and_then(|s| v.startup(s, &collection_names, &routes));
    let store = match sections.remove("store") {
        Some(value) => super::store::store(&mut v, value).unwrap_or_default(),
        None => Default::default(),
    };

    v.finish()?;
    Ok(Manifest {
        path: path.to_owned(),
        dir,
        listen,
        public_url,
        data_dir,
        store,
        limits,
        server_limits,
        collections,
        components,
        routes,
        startup,
    })
}

/// The manifest's folder, made absolute against the current folder (not canonicalized: the
/// manifest need not exist on disk, and symlinks stay as written).
fn absolute_dir(path: &Path) -> PathBuf {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    if dir.is_absolute() {
        return dir;
    }
    match std::env::current_dir() {
        Ok(cwd) if dir == Path::new(".") => cwd,
        Ok(cwd) => cwd.join(dir),
        Err(_) => dir,
    }
}

impl Validator<'_> {
    fn version(&mut self, root: &DeTable<'_>) -> Result<(), ManifestError> {
        let Some(value) = root.get("version") else {
            self.push(
                self.source
                    .file_level("missing `version`")
                    .with_hint("add `version = 1` at the top of the file"),
            );
            return Ok(());
        };
        let DeValue::Integer(n) = value.get_ref() else {
            let found = article(value.get_ref().type_str());
            self.push(
                self.source
                    .at(
                        value.span(),
                        format!("`version` must be an integer, not {found}"),
                    )
                    .with_hint("write `version = 1`"),
            );
            return Ok(());
        };
        if i64::from_str_radix(n.as_str(), n.radix()).ok() != Some(VERSION) {
            let diagnostic = self
                .source
                .at(value.span(), format!("unsupported manifest version `{n}`"))
                .with_hint(format!(
                    "this nebula-host reads `version = {VERSION}` manifests"
                ));
            return Err(diagnostic.into());
        }
        Ok(())
    }

    /// A top-level key that is no section: a misspelled section (`[[route]]`), or a field
    /// written above its table's header (`listen = ...` before `[server]`).
    fn unknown_top_level_key(&mut self, key: &Spanned<Cow<'_, str>>, value: &DeValue<'_>) {
        let name = key.get_ref().as_ref();
        let tables = [
            ("[server]", fields_of::<RawServer>()),
            ("[data]", fields_of::<RawData>()),
            ("[limits]", fields_of::<RawLimits>()),
            ("[store]", fields_of::<super::store::RawStore>()),
        ];
        let is_section = match value {
            DeValue::Table(_) => true,
            DeValue::Array(items) => {
                !items.is_empty() && items.iter().all(|i| i.get_ref().is_table())
            }
            _ => false,
        };
        let home = tables.iter().find(|(_, fields)| fields.contains(&name));
        let hint = match home {
            Some((table, _)) if !is_section => format!("`{name}` belongs under `{table}`"),
            None if !is_section && fields_of::<RawRoute>().contains(&name) => {
                format!("`{name}` belongs to a route: put `[[routes]]` on the line above it")
            }
            // A misspelled section, or a stray key: suggest the closest section.
            _ => return self.unknown_key(key, TOP_LEVEL),
        };
        self.push(
            self.source
                .at(key.span(), format!("unknown field `{name}`"))
                .with_hint(hint),
        );
    }

    /// `[server]`: the listen address and the public URL.
    fn server(&mut self, value: Spanned<DeValue<'_>>) -> (Option<SocketAddr>, Option<String>) {
        let Some(raw) = self.typed::<RawServer>(value, "`server`", "[server]", &[]) else {
            return (None, None);
        };
        let public_url = raw
            .public_url
            .as_ref()
            .and_then(|u| super::guards::public_url(self, u));
        (raw.listen.and_then(|l| self.listen(&l)), public_url)
    }

    fn listen(&mut self, listen: &Spanned<String>) -> Option<SocketAddr> {
        match listen.get_ref().parse() {
            Ok(addr) => Some(addr),
            Err(_) => {
                let text = listen.get_ref();
                let hint = if text.parse::<std::net::IpAddr>().is_ok() {
                    format!("add a port, e.g. `{text}:8080`")
                } else {
                    "write an IP address and a port, e.g. `127.0.0.1:8080`".to_owned()
                };
                self.push(
                    self.source
                        .at(listen.span(), format!("invalid listen address `{text}`"))
                        .with_hint(hint),
                );
                None
            }
        }
    }

    /// `[startup]`: a declared collection and an internal route, named as in `route`.
    fn startup(
        &mut self,
        value: Spanned<DeValue<'_>>,
        collections: &BTreeSet<String>,
        routes: &[RouteDecl],
    ) -> Option<Startup> {
        let span = value.span();
        let raw = self.typed::<RawStartup>(value, "`startup`", "[startup]", &[])?;
        let (Some(when_empty), Some(run)) = (raw.when_empty, raw.run) else {
            self.push(
                self.source
                    .at(span, "`[startup]` needs both `when_empty` and `run`")
                    .with_hint(
                        "e.g. `when_empty = \"memes\"` and `run = \"POST /_internal/seed\"`",
                    ),
            );
            return None;
        };
        if !collections.contains(when_empty.get_ref()) {
            self.push(
                self.source
                    .at(
                        when_empty.span(),
                        format!("unknown collection `{}`", when_empty.get_ref()),
                    )
                    .with_hint("declare it under `[collections.NAME]`"),
            );
        }
        let (method, path) = run.get_ref().split_once(' ').unwrap_or(("", run.get_ref()));
        let found = routes.iter().position(|r| {
            let m = match &r.method {
                crate::router::MethodMatch::Any => "*",
                crate::router::MethodMatch::One(m) => m.as_str(),
            };
            m == method && r.path.as_str() == path.trim()
        });
        match found {
            Some(i) if routes[i].internal => Some(Startup {
                when_empty: when_empty.into_inner(),
                route: i,
            }),
            Some(_) => {
                self.push(
                    self.source
                        .at(
                            run.span(),
                            format!("route `{}` is not internal", run.get_ref()),
                        )
                        .with_hint(
                            "add `internal = true` to that route, so HTTP clients cannot run it",
                        ),
                );
                None
            }
            None => {
                self.push(
                    self.source
                        .at(run.span(), format!("no route `{}`", run.get_ref()))
                        .with_hint("name a route exactly as its `route` field says, e.g. `POST /_internal/seed`"),
                );
                None
            }
        }
    }

    fn data(&mut self, value: Spanned<DeValue<'_>>) -> Option<PathBuf> {
        let dir = self.typed::<RawData>(value, "`data`", "[data]", &[])?.dir?;
        self.non_empty(&dir, "dir", "remove it to use the default `data`")
            .map(PathBuf::from)
    }

    /// `raw` merged over `base`; invalid values are reported and leave `base`'s.
    fn merge_limits(&mut self, base: Limits, raw: &RawLimits) -> Limits {
        let mut limits = base;
        if let Some(value) = &raw.memory
            && let Some(ByteSize(memory)) = self.convert(value)
        {
            if memory == 0 {
                self.push(
                    self.source
                        .at(value.span(), "`memory` must be more than 0")
                        .with_hint("e.g. `memory = \"64 MiB\"`"),
                );
            }
            limits.memory = memory;
        }
        if let Some(value) = &raw.timeout
            && let Some(Timeout(timeout)) = self.convert(value)
        {
            if timeout.is_zero() {
                self.push(
                    self.source
                        .at(value.span(), "`timeout` must be more than 0")
                        .with_hint("e.g. `timeout = \"5s\"`"),
                );
            }
            limits.timeout = timeout;
        }
        if let Some(value) = &raw.max_body
            && let Some(ByteSize(max_body)) = self.convert(value)
        {
            limits.max_body = max_body;
        }
        if let Some(value) = &raw.max_response
            && let Some(ByteSize(max_response)) = self.convert(value)
        {
            limits.max_response = max_response;
        }
        if let Some(value) = &raw.concurrency
            && let Some(Count(n)) = self.convert(value)
        {
            limits.concurrency = Some(n);
        }
        if let Some(value) = &raw.queue {
            // 0 is a queue that turns every request away once `concurrency` calls run.
            if let toml::Value::Integer(0) = value.get_ref() {
                limits.queue = Some(0);
            } else if let Some(Count(n)) = self.convert(value) {
                limits.queue = Some(n);
            }
        }
        if let Some(value) = &raw.queue_timeout
            && let Some(Timeout(timeout)) = self.convert(value)
        {
            limits.queue_timeout = timeout;
        }
        if let Some(value) = &raw.fuel
            && let Some(Fuel(fuel)) = self.convert(value)
        {
            limits.fuel = Some(fuel);
        }
        limits
    }

    /// The server-wide limits of `[limits]`, each at its default unless given.
    fn server_limits(&mut self, raw: &RawLimits) -> ServerLimits {
        let mut limits = ServerLimits {
            max_header_bytes: self.max_header_bytes(raw),
            ..ServerLimits::default()
        };
        if let Some(value) = &raw.max_connections
            && let Some(Count(n)) = self.convert(value)
        {
            limits.max_connections = n;
        }
        if let Some(value) = &raw.header_timeout
            && let Some(Timeout(timeout)) = self.convert(value)
        {
            if timeout.is_zero() {
                self.push(
                    self.source
                        .at(value.span(), "`header_timeout` must be more than 0")
                        .with_hint("e.g. `header_timeout = \"10s\"` (the default)"),
                );
            }
            limits.header_timeout = timeout;
        }
        limits
    }

    /// `[limits] max_header_bytes`, or the default. hyper enforces it while parsing, so it
    /// is one number for the whole server.
    fn max_header_bytes(&mut self, raw: &RawLimits) -> u64 {
        let Some(value) = &raw.max_header_bytes else {
            return DEFAULT_MAX_HEADER_BYTES;
        };
        let Some(ByteSize(bytes)) = self.convert(value) else {
            return DEFAULT_MAX_HEADER_BYTES;
        };
        if !(MIN_HEADER_BYTES..=MAX_HEADER_BYTES).contains(&bytes) {
            self.push(
                self.source
                    .at(
                        value.span(),
                        format!(
                            "`max_header_bytes` must be from 1 KiB to 1 MiB, not {bytes} bytes"
                        ),
                    )
                    .with_hint("e.g. `max_header_bytes = \"64 KiB\"` (the default)"),
            );
            return DEFAULT_MAX_HEADER_BYTES;
        }
        bytes
    }

    /// A component's `allowed_outbound_hosts`, each entry checked on its own.
    fn outbound_hosts(&mut self, raw: &[Spanned<String>]) -> Vec<OutboundHost> {
        let mut hosts: Vec<OutboundHost> = Vec::new();
        for entry in raw {
            match OutboundHost::parse(entry.get_ref().trim()) {
                Ok(host) if !hosts.contains(&host) => hosts.push(host),
                Ok(_) => {}
                Err(Invalid { message, hint }) => {
                    let mut diagnostic = self.source.at(entry.span(), message);
                    diagnostic.hint = hint;
                    self.push(diagnostic);
                }
            }
        }
        hosts
    }

    /// A component's `env`: names as POSIX allows them in practice (no `=`, not empty), values
    /// without NUL.
    fn env(&mut self, raw: &BTreeMap<Spanned<String>, Spanned<String>>) -> Vec<(String, String)> {
        let mut env = Vec::new();
        for (name, value) in raw {
            if name.get_ref().is_empty() || name.get_ref().contains(['=', '\0']) {
                self.push(
                    self.source
                        .at(
                            name.span(),
                            format!("invalid environment variable name `{}`", name.get_ref()),
                        )
                        .with_hint("names are not empty and contain no `=`, e.g. `API_URL`"),
                );
            } else if value.get_ref().contains('\0') {
                self.push(
                    self.source
                        .at(
                            value.span(),
                            format!("environment variable `{}` contains a NUL", name.get_ref()),
                        )
                        .with_hint("remove the `\\u0000`"),
                );
            } else {
                env.push((name.get_ref().clone(), value.get_ref().clone()));
            }
        }
        env
    }

    /// The entries of `[collections]` or `[components]`: a table of tables keyed by name.
    /// Returns the entries with valid names, and every declared name.
    fn named_tables<'i>(
        &mut self,
        value: Option<Spanned<DeValue<'i>>>,
        section: &str,
        what: &str,
    ) -> (NamedTables<'i>, BTreeSet<String>) {
        let mut entries = Vec::new();
        let mut names = BTreeSet::new();
        let Some(value) = value else {
            return (entries, names);
        };
        let span = value.span();
        let DeValue::Table(table) = value.into_inner() else {
            self.push(
                self.source
                    .at(span, format!("`{section}` must be a table"))
                    .with_hint(format!("declare each {what} under `[{section}.NAME]`")),
            );
            return (entries, names);
        };
        for (key, value) in table {
            let name = Spanned::new(key.span(), key.get_ref().to_string());
            names.insert(name.get_ref().clone());
            if self.name(name.span(), name.get_ref(), what) {
                entries.push((name, value));
            }
        }
        (entries, names)
    }

    fn collections(
        &mut self,
        value: Option<Spanned<DeValue<'_>>>,
    ) -> (BTreeMap<String, Collection>, BTreeSet<String>) {
        let (entries, names) = self.named_tables(value, "collections", "collection");
        let mut collections = BTreeMap::new();
        for (name, value) in entries {
            let header = format!("[collections.{}]", name.get_ref());
            let what = format!("collection `{}`", name.get_ref());
            let Some(raw) = self.typed::<RawCollection>(value, &what, &header, &[]) else {
                continue;
            };
            if let Some(collection) = self.collection(name.get_ref(), raw) {
                collections.insert(name.into_inner(), collection);
            }
        }
        (collections, names)
    }

    fn collection(&mut self, name: &str, raw: RawCollection) -> Option<Collection> {
        let before = self.problems();
        let counter = raw.counter.unwrap_or(false);
        let mut indexes: Vec<String> = Vec::new();
        for index in raw.indexes.iter().flatten() {
            let index_name = index.get_ref();
            if !self.name(index.span(), index_name, "index") {
                continue;
            }
            if counter && index_name != "value" {
                self.push(
                    self.source
                        .at(index.span(), format!("counter collection `{name}` cannot have index `{index_name}`"))
                        .with_hint("counters are ordered by value only, by their implicit index `value`; remove it"),
                );
            } else if indexes.contains(index_name) {
                self.push(
                    self.source
                        .at(
                            index.span(),
                            format!(
                                "index `{index_name}` is declared twice in collection `{name}`"
                            ),
                        )
                        .with_hint("remove one of them"),
                );
            } else {
                indexes.push(index_name.clone());
            }
        }
        if counter {
            // docs/manifest.md: "a counter collection always has the index `value`".
            indexes = vec!["value".to_owned()];
        }
        (self.problems() == before).then_some(Collection { counter, indexes })
    }

    fn components(
        &mut self,
        value: Option<Spanned<DeValue<'_>>>,
        dir: &Path,
        limits: &Limits,
    ) -> (BTreeMap<String, ComponentDecl>, BTreeSet<String>) {
        let (entries, names) = self.named_tables(value, "components", "component");
        let mut components = BTreeMap::new();
        let limits_fields: &[&str] = fields_of::<RawLimits>();
        for (id, value) in entries {
            let header = format!("[components.{}]", id.get_ref());
            let what = format!("component `{}`", id.get_ref());
            let Some(raw) =
                self.typed::<RawComponent>(value, &what, &header, &[("limits", limits_fields)])
            else {
                continue;
            };
            if let Some(component) = self.component(id, raw, dir, limits) {
                components.insert(component.id.clone(), component);
            }
        }
        (components, names)
    }

    fn component(
        &mut self,
        id: Spanned<String>,
        raw: RawComponent,
        dir: &Path,
        limits: &Limits,
    ) -> Option<ComponentDecl> {
        let before = self.problems();
        let name = id.get_ref();
        let path = match &raw.path {
            Some(path) => self
                .non_empty(path, "path", "give the component's `.wasm` file")
                .map(|p| dir.join(p)),
            None => {
                self.push(
                    self.source
                        .at(id.span(), format!("component `{name}` has no `path`"))
                        .with_hint(format!("add `path = \"{name}.wasm\"` (the component's `.wasm` file) under `[components.{name}]`")),
                );
                None
            }
        };
        let build = match (&raw.build, &raw.build_dir) {
            (Some(command), build_dir) => {
                let command = self.non_empty(
                    command,
                    "build",
                    "remove `build`, or give a shell command like `cargo build --release`",
                );
                let build_dir = match build_dir {
                    Some(d) => self
                        .non_empty(
                            d,
                            "build_dir",
                            "remove it to build in the manifest's folder",
                        )
                        .map(|d| dir.join(d)),
                    None => Some(dir.to_owned()),
                };
                command.zip(build_dir).map(|(command, dir)| BuildCommand {
                    command: command.to_owned(),
                    dir,
                })
            }
            (None, Some(build_dir)) => {
                self.push(
                    self.source
                        .at(build_dir.span(), "`build_dir` without `build`")
                        .with_hint("add the command to run, e.g. `build = \"cargo build --release\"`, or remove `build_dir`"),
                );
                None
            }
            (None, None) => None,
        };
        let limits = match &raw.limits {
            Some(own) => {
                for (name, value) in own.get_ref().server_only() {
                    self.push(
                        self.source
                            .at(value.span(), format!("`{name}` cannot be set for one component"))
                            .with_hint(
                                "the server applies it before it knows the route: set it under `[limits]`",
                            ),
                    );
                }
                self.merge_limits(*limits, own.get_ref())
            }
            None => *limits,
        };
        let allowed_outbound_hosts = raw
            .allowed_outbound_hosts
            .as_deref()
            .map(|hosts| self.outbound_hosts(hosts))
            .unwrap_or_default();
        let env = raw
            .env
            .as_ref()
            .map(|env| self.env(env.get_ref()))
            .unwrap_or_default();
        if self.problems() > before {
            return None;
        }
        Some(ComponentDecl {
            location: self.source.location(id.span().start),
            id: id.into_inner(),
            path: path?,
            build,
            limits,
            allowed_outbound_hosts,
            env,
        })
    }
}
