//! The import policy for `wasi:http/proxy` components: the proxy world, plus the inert
//! interfaces language runtimes drag in, and nothing else (which ones: the table in wasi.rs).
//!
//! A proxy component is not pure, but every capability it has is granted per component in the
//! manifest (outbound origins, environment variables) or harmless (clocks, random, stdio to the
//! log, a filesystem with no preopened directory). Anything else — `wasi:sockets/*`, custom host
//! imports, WASI 0.3 — is refused at load, every such import named with a hint.

use crate::component::purity::Refused;
use crate::component::wasi::{self, Proxy};

/// The imports of a proxy component that this host does not link.
pub fn judge<'a>(imports: impl IntoIterator<Item = &'a str>) -> Vec<Refused> {
    imports
        .into_iter()
        .filter(|import| !is_linked(import))
        .map(|import| Refused {
            import: import.to_owned(),
            hint: hint_for(import),
        })
        .collect()
}

/// Whether `import` (a versioned interface name) is linked for proxies: the table in wasi.rs
/// marks it [`Proxy::Linked`], and its version is 0.2.x.
pub fn is_linked(import: &str) -> bool {
    wasi::linkable(import).is_some_and(|i| matches!(i.proxy, Proxy::Linked(..)))
}

/// What a linked import gives a proxy component, in a few words (for `inspect`).
pub fn capability(import: &str) -> &'static str {
    match wasi::linkable(import).map(|i| i.proxy) {
        Some(Proxy::Linked(_, gives)) => gives,
        _ => "not linked",
    }
}

fn hint_for(import: &str) -> &'static str {
    match wasi::named(wasi::unversioned(import)).map(|i| i.proxy) {
        Some(Proxy::Refused(hint)) => hint,
        _ if import.starts_with("wasi:") && import.contains("@0.3") => {
            "WASI 0.3 components are not served yet; build against WASI 0.2 (`wasi:http/proxy@0.2.x`)"
        }
        _ if import.starts_with("wasi:") => {
            "only the `wasi:http/proxy` world (and the inert interfaces language runtimes import) \
             is linked; remove this use"
        }
        _ => {
            "custom host imports are not provided; a wasi:http component may import only the \
             `wasi:http/proxy` world"
        }
    }
}

/// The refusal text: the component, every offending import, and a hint for each.
pub fn refusal_message(id: &str, refused: &[Refused]) -> String {
    let n = refused.len();
    let mut msg = format!(
        "component `{id}` is refused: it is a wasi:http/proxy component that imports {n} \
         interface{} outside the proxy world:",
        if n == 1 { "" } else { "s" }
    );
    for r in refused {
        msg.push_str(&format!("\n  - `{}`\n    hint: {}", r.import, r.hint));
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proxy_world_and_runtime_imports_are_linked_at_any_02_version() {
        let refused = judge([
            "wasi:http/types@0.2.0",
            "wasi:http/outgoing-handler@0.2.12",
            "wasi:io/streams@0.2.4",
            "wasi:cli/environment@0.2.6",
            "wasi:filesystem/preopens@0.2.3",
        ]);
        assert!(refused.is_empty(), "{refused:?}");
    }

    #[test]
    fn sockets_custom_imports_and_wasi_03_are_refused_each_by_name() {
        let refused = judge([
            "wasi:sockets/tcp@0.2.0",
            "wasi:cli/stdout@0.2.0",
            "acme:db/query",
            "wasi:http/types@0.3.0",
            "wasi:keyvalue/store@0.2.0-draft",
        ]);
        let names: Vec<_> = refused.iter().map(|r| r.import.as_str()).collect();
        assert_eq!(
            names,
            [
                "wasi:sockets/tcp@0.2.0",
                "acme:db/query",
                "wasi:http/types@0.3.0",
                "wasi:keyvalue/store@0.2.0-draft"
            ]
        );
        assert!(refused[0].hint.contains("allowed_outbound_hosts"));
        assert!(refused[2].hint.contains("WASI 0.3"));
    }

    #[test]
    fn names_every_refused_import_in_the_message() {
        let msg = refusal_message("net", &judge(["wasi:sockets/tcp@0.2.0"]));
        assert!(msg.starts_with("component `net` is refused: it is a wasi:http/proxy component"));
        assert!(msg.contains(
            "imports 1 interface outside the proxy world:\n  - `wasi:sockets/tcp@0.2.0`"
        ));
    }
}
