//! The table of every limit — what it bounds, its default and what a client sees past it — built
//! from the defaults in `limits`, so that it cannot drift from the code. README.md and
//! docs/manifest.md carry it between `<!-- limits:begin -->` and `<!-- limits:end -->`; a test
//! fails when they differ (`NEBULA_BLESS=1 cargo test -p nebula-host --lib limits_table`
//! rewrites them). Never read by the server: it is documentation.

use std::time::Duration;

use super::limits::{
    DEFAULT_DRAIN, Limits, MAX_READ_ROUNDS, MAX_RESPONSE_HEADER_BYTES, MAX_RESPONSE_HEADERS,
    POOL_INSTANCES, ServerLimits,
};

/// One row of the table.
struct Row {
    name: &'static str,
    /// Where it is set.
    set: &'static str,
    default: String,
    what: &'static str,
    past_it: &'static str,
}

fn rows() -> Vec<Row> {
    let l = Limits::default();
    let s = ServerLimits::default();
    vec![
        Row {
            name: "`timeout`",
            set: "`[limits]`, component",
            default: duration(l.timeout),
            what: "the request's deadline, from when it is routed: body read, component load, queueing, every pipeline step and `need` round, a `wasi:http` guest's outbound calls and body streaming (the route's is its components' longest; each call is also held to its own component's)",
            past_it: "504 (nothing written; a commit that has begun finishes and is answered); 408 while the body is still arriving; a streaming `wasi:http` response is cut off",
        },
        Row {
            name: "`memory`",
            set: "`[limits]`, component",
            default: size(l.memory),
            what: "linear memory of one instance",
            past_it: "500",
        },
        Row {
            name: "`fuel`",
            set: "`[limits]`, component",
            default: "none (not metered)".to_owned(),
            what: "wasmtime fuel one call may burn, about one unit per wasm instruction: deterministic metering, the same for the same input on any machine (counted in `usage` and `/metrics`); a component with `fuel` gets code with fuel checks, compiled apart from the others",
            past_it: "500, logged as out of fuel",
        },
        Row {
            name: "`max_body`",
            set: "`[limits]`, component, route",
            default: size(l.max_body),
            what: "request body",
            past_it: "413; a `wasi:http` response that has begun is cut off instead",
        },
        Row {
            name: "`max_response`",
            set: "`[limits]`, component",
            default: size(l.max_response),
            what: "response body",
            past_it: "500, logged with the component; a streaming `wasi:http` response is cut off",
        },
        Row {
            name: "response headers",
            set: "fixed",
            default: format!(
                "{MAX_RESPONSE_HEADERS} fields, {} in all",
                size(MAX_RESPONSE_HEADER_BYTES as u64)
            ),
            what: "header fields of a handler's response (names and values)",
            past_it: "500, logged with the component",
        },
        Row {
            name: "`need` rounds",
            set: "fixed",
            default: MAX_READ_ROUNDS.to_string(),
            what: "rounds of dynamic reads one pipeline step may ask for",
            past_it: "500",
        },
        Row {
            name: "`concurrency`",
            set: "`[limits]`, component",
            default: format!("{POOL_INSTANCES} / number of components"),
            what: "calls of one component running at once; by default each component gets an equal share of the instance pool, so all of them busy still fit",
            past_it: "the request waits in the queue",
        },
        Row {
            name: "`queue`",
            set: "`[limits]`, component",
            default: "`concurrency`".to_owned(),
            what: "requests waiting for a call of one component (0: none wait)",
            past_it: "503 with `Retry-After: 1`",
        },
        Row {
            name: "`queue_timeout`",
            set: "`[limits]`, component",
            default: duration(l.queue_timeout),
            what: "the longest a request waits in that queue",
            past_it: "503 with `Retry-After: 1` (504 if the request's deadline comes first)",
        },
        Row {
            name: "instance pool",
            set: "fixed",
            default: POOL_INSTANCES.to_string(),
            what: "instances of every component at once",
            past_it: "503 with `Retry-After: 1`",
        },
        Row {
            name: "`max_header_bytes`",
            set: "`[limits]` only",
            default: size(s.max_header_bytes),
            what: "request line and headers (at most 100 header fields; 1 KiB to 1 MiB)",
            past_it: "431",
        },
        Row {
            name: "`header_timeout`",
            set: "`[limits]` only",
            default: duration(s.header_timeout),
            what: "time to send a whole request head, from when the connection opened or its last response ended (so also the idle keep-alive timeout)",
            past_it: "the connection is closed",
        },
        Row {
            name: "`max_connections`",
            set: "`[limits]` only",
            default: s.max_connections.to_string(),
            what: "connections open at once",
            past_it: "new connections wait in the listen backlog",
        },
        Row {
            name: "`--drain`",
            set: "`nebula-host up`/`serve`",
            default: duration(DEFAULT_DRAIN),
            what: "how long in-flight requests may finish after SIGTERM or SIGINT (a second signal exits at once, code 1)",
            past_it: "their connections are closed; the host exits 0",
        },
    ]
}

/// The table in Markdown, as the docs carry it.
pub fn markdown() -> String {
    let mut out = String::from(
        "| limit | set in | default | what it bounds | past it, the client sees |\n|---|---|---|---|---|\n",
    );
    for r in rows() {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            r.name, r.set, r.default, r.what, r.past_it
        ));
    }
    out
}

/// `64 MiB`, `1 KiB`, `100 B`: the largest binary unit that divides the size.
fn size(bytes: u64) -> String {
    for (unit, scale) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if bytes >= scale && bytes.is_multiple_of(scale) {
            return format!("{} {unit}", bytes / scale);
        }
    }
    format!("{bytes} B")
}

/// `5s`, `250ms`: as the manifest writes it.
fn duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const BEGIN: &str = "<!-- limits:begin -->\n";
    const END: &str = "<!-- limits:end -->";

    #[test]
    fn readme_and_the_manifest_docs_carry_the_limits_table_of_the_code() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let bless = std::env::var_os("NEBULA_BLESS").is_some_and(|v| v == "1");
        let table = markdown();
        for doc in ["README.md", "docs/manifest.md"] {
            let path = root.join(doc);
            let text = std::fs::read_to_string(&path).expect("the doc is readable");
            let start = text
                .find(BEGIN)
                .unwrap_or_else(|| panic!("{doc} has no `{BEGIN}`"));
            let end = text
                .find(END)
                .unwrap_or_else(|| panic!("{doc} has no `{END}`"));
            let carried = &text[start + BEGIN.len()..end];
            if carried == table {
                continue;
            }
            if bless {
                let new = format!("{}{table}{}", &text[..start + BEGIN.len()], &text[end..]);
                std::fs::write(&path, new).expect("the doc is writable");
            } else {
                panic!(
                    "{doc}'s limits table differs from the code's:\n{table}\nrerun with NEBULA_BLESS=1 to rewrite it"
                );
            }
        }
    }

    #[test]
    fn sizes_and_durations_read_as_the_manifest_writes_them() {
        assert_eq!(size(64 << 20), "64 MiB");
        assert_eq!(size(1536), "1536 B");
        assert_eq!(size(1 << 10), "1 KiB");
        assert_eq!(duration(Duration::from_secs(5)), "5s");
        assert_eq!(duration(Duration::from_millis(250)), "250ms");
    }
}
