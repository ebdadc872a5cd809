//! Manifest validation, one test per rule: valid manifests give the expected `Manifest`, invalid
//! ones the diagnostic (message, file:line:col, hint) an author needs. No files, no runtime.
//! Routes are tested in routes.rs, their reads in reads.rs.

mod properties;
mod proxy;
mod reads;
mod routes;

use std::path::Path;
use std::time::Duration;

use super::*;

pub(super) const FILE: &str = "manifests/test.toml";

pub(super) fn parse(text: &str) -> Result<Manifest, ManifestError> {
    Manifest::parse(Path::new(FILE), text)
}

pub(super) fn error(text: &str) -> ManifestError {
    match parse(text) {
        Ok(manifest) => panic!("expected an error, got {manifest:#?}"),
        Err(err) => err,
    }
}

/// Asserts the manifest has exactly one problem, rendered with `message`, pointing at
/// `line:col`, with `hint`.
#[track_caller]
pub(super) fn assert_single(text: &str, message: &str, line_col: &str, hint: &str) {
    let err = error(text);
    let rendered = err.to_string();
    assert_eq!(err.diagnostics.len(), 1, "{rendered}");
    assert!(
        rendered.starts_with(&format!("error: {message}\n")),
        "{rendered}"
    );
    assert!(
        rendered.contains(&format!("--> {FILE}:{line_col}\n")),
        "{rendered}"
    );
    assert!(rendered.ends_with(&format!("= hint: {hint}")), "{rendered}");
}

/// A manifest with a `version`, a component `api`, and `extra` appended.
pub(super) fn with(extra: &str) -> String {
    format!("version = 1\n[components.api]\npath = \"api.wasm\"\n{extra}")
}

/// The example of docs/manifest.md, plus the `api` component its routes use.
fn docs_example() -> String {
    let docs = include_str!("../../../../docs/manifest.md");
    let start = docs
        .find("```toml\n")
        .expect("docs/manifest.md has a toml example")
        + 8;
    let end = start + docs[start..].find("```").expect("the example ends");
    format!(
        "{}\n[components.api]\npath = \"api.wasm\"\n",
        &docs[start..end]
    )
}

#[test]
fn accepts_the_example_from_the_docs() {
    let m = parse(&docs_example()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.path, Path::new(FILE));
    assert!(m.dir.is_absolute() && m.dir.ends_with("manifests"));
    assert_eq!(m.listen, Some("127.0.0.1:8080".parse().unwrap()));
    assert_eq!(m.data_dir, m.dir.join("data"));
    assert_eq!(m.limits, Limits::default());
    assert_eq!(
        m.collections["memes"],
        Collection {
            counter: false,
            indexes: vec!["new".into()]
        }
    );
    assert_eq!(
        m.collections["votes"],
        Collection {
            counter: true,
            indexes: vec!["value".into()]
        }
    );

    let hello = &m.components["hello"];
    assert_eq!(
        hello.path,
        m.dir
            .join("../target/guests/wasm32-wasip2/release/hello.wasm")
    );
    let build = hello.build.as_ref().unwrap();
    assert_eq!(
        (build.command.as_str(), &build.dir),
        (
            "cargo build --release -p hello",
            &m.dir.join("../components")
        )
    );
    assert_eq!(hello.limits.memory, 16 << 20);
    assert_eq!(hello.limits.timeout, Duration::from_secs(1));
    assert_eq!(hello.limits.max_body, 1 << 20);
    assert_eq!((hello.location.line, hello.location.col), (35, 13));
    assert_eq!(m.store, crate::manifest::StoreDecl::default());

    assert_eq!(m.routes.len(), 4);
    let first = &m.routes[0];
    assert_eq!(first.method, MethodMatch::One("GET".into()));
    assert_eq!(first.path.as_str(), "/hello/{name}");
    assert_eq!(first.steps, ["hello"]);
    assert_eq!(first.location.to_string(), format!("{FILE}:42:9"));

    let get = &m.routes[1];
    assert_eq!(get.reads.len(), 2);
    assert!(
        matches!(&get.reads[0].op, ReadDeclOp::Get { collection, key } if collection == "memes" && key.as_str() == "{id}")
    );
    assert!(
        matches!(&get.reads[1].op, ReadDeclOp::Counter { collection, .. } if collection == "votes")
    );
    assert_eq!(get.may_read.iter().collect::<Vec<_>>(), ["memes", "votes"]);

    let list = &m.routes[2];
    let ReadDeclOp::List {
        collection,
        index,
        descending,
        cursor,
        limit,
        default_limit,
        max_limit,
        ..
    } = &list.reads[0].op
    else {
        panic!("expected a list read, got {:?}", list.reads[0].op);
    };
    assert_eq!(
        (collection.as_str(), index.as_str(), *descending),
        ("memes", "new", true)
    );
    assert_eq!(
        cursor.as_ref().map(Template::as_str),
        Some("{query.cursor}")
    );
    assert_eq!(limit.as_ref().map(Template::as_str), Some("{query.limit}"));
    assert_eq!((*default_limit, *max_limit), (20, 100));
    assert_eq!(
        list.reads[1].op,
        ReadDeclOp::Count {
            collection: "memes".into()
        }
    );
    assert!(list.may_read.contains("votes") && list.may_write.is_empty());

    let vote = &m.routes[3];
    assert_eq!(vote.method, MethodMatch::One("POST".into()));
    assert_eq!(vote.may_write.iter().collect::<Vec<_>>(), ["votes"]);
    assert_eq!(vote.max_body, 5 << 20);
    assert_eq!(list.max_body, 1 << 20);
}

#[test]
fn accepts_a_manifest_with_only_a_version() {
    let m = parse("version = 1\n").unwrap();
    assert!(m.routes.is_empty() && m.components.is_empty() && m.collections.is_empty());
    assert_eq!((m.listen, m.limits), (None, Limits::default()));
}

#[test]
fn resolves_paths_against_the_manifest_folder_without_touching_files() {
    let text = "version = 1\n[data]\ndir = \"/var/lib/nebula\"\n[components.a]\npath = \"sub/a.wasm\"\nbuild = \"make\"\n";
    let m = Manifest::parse(Path::new("/srv/app/nebula.toml"), text).unwrap();
    assert_eq!(m.dir, Path::new("/srv/app"));
    assert_eq!(m.data_dir, Path::new("/var/lib/nebula"));
    assert_eq!(m.components["a"].path, Path::new("/srv/app/sub/a.wasm"));
    assert_eq!(
        m.components["a"].build.as_ref().unwrap().dir,
        Path::new("/srv/app")
    );
    let bare = Manifest::parse(Path::new("nebula.toml"), "version = 1").unwrap();
    assert_eq!(bare.dir, std::env::current_dir().unwrap());
}

#[test]
fn rejects_unknown_field_with_suggestion() {
    let text = with("[[routes]]\nrout = \"GET /memes\"\ncomponent = \"api\"\n");
    assert_single(
        &text,
        "unknown field `rout`",
        "5:1",
        "did you mean `route`?",
    );
    assert!(
        error(&text)
            .to_string()
            .contains(" 5 | rout = \"GET /memes\"\n   | ^^^^\n")
    );
}

#[test]
fn reports_unknown_fields_of_every_table_in_file_order() {
    let text = "version = 1\n[server]\nlisen = \"127.0.0.1:1\"\n[collections.a]\nindex = []\ncount = true\n";
    let err = error(text);
    let lines: Vec<_> = err
        .diagnostics
        .iter()
        .map(|d| d.location.as_ref().unwrap().line)
        .collect();
    assert_eq!(lines, [3, 5, 6]);
    let rendered = err.to_string();
    for suggestion in ["listen", "indexes", "counter"] {
        assert!(
            rendered.contains(&format!("did you mean `{suggestion}`?")),
            "{rendered}"
        );
    }
    assert!(
        rendered.ends_with("\n\n3 problems in manifests/test.toml"),
        "{rendered}"
    );
}

#[test]
fn lists_the_expected_fields_when_nothing_is_close() {
    assert_single(
        "version = 1\n[data]\nfolder = \"x\"\n",
        "unknown field `folder`",
        "3:1",
        "the only field here is `dir`",
    );
}

#[test]
fn says_where_a_misplaced_top_level_field_belongs() {
    assert_single(
        "version = 1\nlisten = \"127.0.0.1:80\"\n",
        "unknown field `listen`",
        "2:1",
        "`listen` belongs under `[server]`",
    );
    assert_single(
        "version = 1\nroute = \"GET /\"\n",
        "unknown field `route`",
        "2:1",
        "`route` belongs to a route: put `[[routes]]` on the line above it",
    );
}

#[test]
fn suggests_the_section_for_a_misspelled_header() {
    let text = "version = 1\n[[route]]\nroute = \"GET /\"\n";
    assert_single(
        text,
        "unknown field `route`",
        "2:3",
        "did you mean `routes`?",
    );
    let text = "version = 1\n[collection.memes]\n";
    assert_single(
        text,
        "unknown field `collection`",
        "2:2",
        "did you mean `collections`?",
    );
}

#[test]
fn checks_unknown_fields_in_nested_tables() {
    let text = with("[components.b]\npath = \"b.wasm\"\nlimits = { memroy = \"1 MiB\" }\n");
    assert_single(
        &text,
        "unknown field `memroy`",
        "6:12",
        "did you mean `memory`?",
    );
}

#[test]
fn requires_a_version() {
    assert_single(
        "[server]\n",
        "missing `version`",
        "1:1",
        "add `version = 1` at the top of the file",
    );
}

#[test]
fn rejects_an_unsupported_version_before_reading_the_rest() {
    let text = "version = 2\n[whatever]\nnew_field = 1\n";
    assert_single(
        text,
        "unsupported manifest version `2`",
        "1:11",
        "this nebula-host reads `version = 1` manifests",
    );
    assert_single(
        "version = \"1\"\n",
        "`version` must be an integer, not a string",
        "1:11",
        "write `version = 1`",
    );
}

#[test]
fn reports_toml_syntax_errors_with_their_location() {
    let err = error("version = 1\n[server\n");
    assert_eq!(err.diagnostics.len(), 1);
    assert_eq!(
        err.diagnostics[0].location.as_ref().unwrap().line,
        2,
        "{err}"
    );
}

/// Found by the property tests: an error at a line's trailing `\r` used to panic.
#[test]
fn reports_a_stray_carriage_return_instead_of_panicking() {
    for text in ["\r", "version = 1\r", "version = 1\n\r\n[server\r"] {
        let rendered = error(text).to_string();
        assert!(rendered.starts_with("error: "), "{rendered}");
    }
}

#[test]
fn reports_type_errors_in_plain_words() {
    let text = "version = 1\n[collections.a]\ncounter = \"yes\"\n";
    assert_single(
        text,
        "invalid type: string \"yes\", expected a boolean",
        "3:11",
        "write `true` or `false`, without quotes",
    );
}

#[test]
fn rejects_an_invalid_listen_address() {
    let text = "version = 1\n[server]\nlisten = \"localhost:8080\"\n";
    assert_single(
        text,
        "invalid listen address `localhost:8080`",
        "3:10",
        "write an IP address and a port, e.g. `127.0.0.1:8080`",
    );
    let text = "version = 1\n[server]\nlisten = \"127.0.0.1\"\n";
    assert_single(
        text,
        "invalid listen address `127.0.0.1`",
        "3:10",
        "add a port, e.g. `127.0.0.1:8080`",
    );
}

#[test]
fn merges_limits_over_defaults_and_components_over_the_manifest() {
    let text = "version = 1\n[limits]\nmemory = 1048576\ntimeout = \"250ms\"\n\
                [components.a]\npath = \"a.wasm\"\nlimits = { timeout = \"2m\", max_body = \"2KiB\" }\n";
    let m = parse(text).unwrap();
    assert_eq!(
        m.limits,
        Limits {
            memory: 1 << 20,
            timeout: Duration::from_millis(250),
            max_body: 1 << 20,
            ..Limits::default()
        }
    );
    assert_eq!(
        m.components["a"].limits,
        Limits {
            memory: 1 << 20,
            timeout: Duration::from_secs(120),
            max_body: 2048,
            ..Limits::default()
        }
    );
}

#[test]
fn reads_admission_and_response_limits_per_component() {
    let text = "version = 1
[limits]
concurrency = 8
queue_timeout = \"250ms\"
                [components.a]
path = \"a.wasm\"
                limits = { queue = 0, max_response = \"1 MiB\" }
";
    let m = parse(text).unwrap();
    let a = m.components["a"].limits;
    assert_eq!(
        (a.concurrency, a.queue, a.queue_timeout, a.max_response),
        (Some(8), Some(0), Duration::from_millis(250), 1 << 20)
    );
    assert_eq!(
        m.limits.queue, None,
        "the queue follows `concurrency` unless given"
    );
}

#[test]
fn reads_fuel_from_limits_and_lets_a_component_override_it() {
    let text = "version = 1
[limits]
fuel = 1_000_000
[components.a]
path = \"a.wasm\"
[components.b]
path = \"b.wasm\"
limits = { fuel = 5_000 }
";
    let m = parse(text).unwrap();
    assert_eq!(m.components["a"].limits.fuel, Some(1_000_000));
    assert_eq!(m.components["b"].limits.fuel, Some(5_000));
    assert_eq!(Limits::default().fuel, None, "not metered unless asked");
    for bad in ["fuel = 0", "fuel = -3", "fuel = \"1G\""] {
        let err = parse(&format!("version = 1\n[limits]\n{bad}\n")).unwrap_err();
        let err = err.to_string();
        assert!(
            err.contains("fuel") && err.contains("e.g. `fuel = 1_000_000_000`"),
            "{bad}: {err}"
        );
    }
}

#[test]
fn rejects_a_concurrency_of_zero_and_server_limits_on_a_component() {
    let err = parse("version = 1\n[limits]\nconcurrency = 0\n").unwrap_err();
    assert!(
        err.to_string().contains("count `0` is out of range"),
        "{err}"
    );
    let text = "version = 1\n[components.a]\npath = \"a.wasm\"\n\
                limits = { max_connections = 5 }\n";
    let err = parse(text).unwrap_err();
    assert!(
        err.to_string()
            .contains("`max_connections` cannot be set for one component"),
        "{err}"
    );
}

#[test]
fn reads_the_server_wide_connection_limits() {
    let text = "version = 1\n[limits]\nmax_connections = 16\nheader_timeout = \"2s\"\n";
    let m = parse(text).unwrap();
    assert_eq!(m.server_limits.max_connections, 16);
    assert_eq!(m.server_limits.header_timeout, Duration::from_secs(2));
    let defaults = parse("version = 1\n").unwrap().server_limits;
    assert_eq!(defaults, crate::manifest::ServerLimits::default());
}

#[test]
fn rejects_decimal_size_units_with_the_binary_unit_as_hint() {
    let text = "version = 1\n[limits]\nmax_body = \"5 MB\"\n";
    assert_single(
        text,
        "unit `MB` in size `5 MB` is ambiguous",
        "3:12",
        "use 1024-based `MiB`, e.g. `5 MiB`",
    );
}

#[test]
fn rejects_zero_memory_and_timeout() {
    let err = error("version = 1\n[limits]\nmemory = 0\ntimeout = \"0s\"\n").to_string();
    assert!(
        err.contains("error: `memory` must be more than 0\n  --> manifests/test.toml:3:10"),
        "{err}"
    );
    assert!(
        err.contains("error: `timeout` must be more than 0\n  --> manifests/test.toml:4:11"),
        "{err}"
    );
}

#[test]
fn rejects_a_duration_without_unit() {
    let text = "version = 1\n[limits]\ntimeout = 5\n";
    assert_single(
        text,
        "duration `5` has no unit",
        "3:11",
        "write it as a string with a unit, e.g. `\"5s\"` or `\"5ms\"`",
    );
}

#[test]
fn rejects_invalid_names() {
    let text = "version = 1\n[collections.\"my memes\"]\n";
    assert_single(
        text,
        "invalid collection name `my memes`",
        "2:14",
        "names use letters, digits, `_` and `-`, e.g. `my_memes`",
    );
    let text = "version = 1\n[collections.a]\nindexes = [\"by date\"]\n";
    assert_single(
        text,
        "invalid index name `by date`",
        "3:12",
        "names use letters, digits, `_` and `-`, e.g. `by_date`",
    );
}

#[test]
fn gives_counter_collections_only_the_value_index() {
    let m = parse("version = 1\n[collections.v]\ncounter = true\nindexes = [\"value\"]\n").unwrap();
    assert_eq!(m.collections["v"].indexes, ["value"]);
    let text = "version = 1\n[collections.v]\ncounter = true\nindexes = [\"new\"]\n";
    assert_single(
        text,
        "counter collection `v` cannot have index `new`",
        "4:12",
        "counters are ordered by value only, by their implicit index `value`; remove it",
    );
}

#[test]
fn requires_a_component_path() {
    let text = "version = 1\n[components.api]\nbuild = \"make\"\n";
    assert_single(
        text,
        "component `api` has no `path`",
        "2:13",
        "add `path = \"api.wasm\"` (the component's `.wasm` file) under `[components.api]`",
    );
}

#[test]
fn rejects_build_dir_without_build() {
    let text = "version = 1\n[components.api]\npath = \"a.wasm\"\nbuild_dir = \"..\"\n";
    assert_single(
        text,
        "`build_dir` without `build`",
        "4:13",
        "add the command to run, e.g. `build = \"cargo build --release\"`, or remove `build_dir`",
    );
}

#[test]
fn collects_problems_from_every_section() {
    let text = "[server]\nlisten = \"nope\"\n[limits]\nmemory = \"5 MB\"\n[[routes]]\nroute = \"get /\"\ncomponent = \"x\"\n";
    let err = error(text);
    let messages: Vec<_> = err.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "missing `version`",
            "invalid listen address `nope`",
            "unit `MB` in size `5 MB` is ambiguous",
            "method `get` must be upper case",
            "unknown component `x`",
        ]
    );
}

#[test]
fn does_not_repeat_errors_for_a_component_whose_table_is_wrong() {
    // `api` is misdeclared; the route that uses it should not add "unknown component".
    let text = "version = 1\n[components.api]\npaht = \"a.wasm\"\n[[routes]]\nroute = \"GET /\"\ncomponent = \"api\"\n";
    assert_single(text, "unknown field `paht`", "3:1", "did you mean `path`?");
}

#[test]
fn reports_a_missing_file_with_its_path_and_a_hint() {
    let err = Manifest::load(Path::new("/nonexistent/nebula.toml")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "error: manifest `/nonexistent/nebula.toml` not found\n   = hint: check the path; the smallest valid manifest is the line `version = 1`"
    );
}

#[test]
fn manifest_error_is_a_std_error() {
    let err: Box<dyn std::error::Error + Send + Sync> = Box::new(error("[x]\n"));
    assert!(err.source().is_none());
    let err = anyhow::Error::from(error("[x]\n"));
    assert!(format!("{err:#}").contains("missing `version`"));
}
