//! The fields for `wasi:http` components: `allowed_outbound_hosts`, `env`, and
//! `[limits] max_header_bytes`.

use super::*;

#[test]
fn grants_nothing_by_default() {
    let m = parse(&with("")).unwrap();
    assert!(m.components["api"].allowed_outbound_hosts.is_empty());
    assert!(m.components["api"].env.is_empty());
    assert_eq!(m.server_limits.max_header_bytes, 64 << 10);
}

#[test]
fn reads_outbound_hosts_and_env() {
    let m = parse(&with(
        "allowed_outbound_hosts = [\"http://127.0.0.1:8081\", \"https://API.example.com\"]\n\
         env = { GREETING = \"hi\", API_URL = \"https://api.example.com\" }\n",
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let api = &m.components["api"];
    let hosts: Vec<String> = api
        .allowed_outbound_hosts
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        hosts,
        ["http://127.0.0.1:8081", "https://api.example.com:443"]
    );
    assert_eq!(
        api.env,
        [
            ("API_URL".to_owned(), "https://api.example.com".to_owned()),
            ("GREETING".to_owned(), "hi".to_owned())
        ]
    );
}

#[test]
fn points_at_the_bad_outbound_host() {
    assert_single(
        &with("allowed_outbound_hosts = [\"https://ok.example.com\", \"api.example.com\"]\n"),
        "allowed outbound host `api.example.com` has no scheme",
        "4:53",
        "write `https://api.example.com` or `http://api.example.com`",
    );
    assert_single(
        &with("allowed_outbound_hosts = [\"https://api.example.com/v1\"]\n"),
        "allowed outbound host `https://api.example.com/v1` has a path",
        "4:27",
        "list the origin only, `https://api.example.com`; every path on it is then allowed",
    );
}

#[test]
fn rejects_bad_environment_names() {
    assert_single(
        &with("env = { \"A=B\" = \"x\" }\n"),
        "invalid environment variable name `A=B`",
        "4:9",
        "names are not empty and contain no `=`, e.g. `API_URL`",
    );
}

#[test]
fn reads_max_header_bytes_from_limits_only() {
    let m = parse("version = 1\n[limits]\nmax_header_bytes = \"8 KiB\"\n").unwrap();
    assert_eq!(m.server_limits.max_header_bytes, 8 << 10);
    assert_single(
        &with("limits = { max_header_bytes = \"8 KiB\" }\n"),
        "`max_header_bytes` cannot be set for one component",
        "4:31",
        "the server applies it before it knows the route: set it under `[limits]`",
    );
    assert_single(
        "version = 1\n[limits]\nmax_header_bytes = 100\n",
        "`max_header_bytes` must be from 1 KiB to 1 MiB, not 100 bytes",
        "3:20",
        "e.g. `max_header_bytes = \"64 KiB\"` (the default)",
    );
}
