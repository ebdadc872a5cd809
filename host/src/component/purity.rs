//! The import policy: what a component may import and still be served as pure.
//!
//! A `nebula:pure` handler imports nothing. Language runtimes drag in WASI imports anyway (Rust's
//! std on wasm32-wasip2 asks for `wasi:cli/environment`, `exit` and stderr for its panic
//! machinery; Python and JavaScript runtimes ask for clocks, random and the filesystem). Those
//! imports are *inert* when the host answers them deterministically, so the policy is:
//!
//! * no imports at all: pure, the fast path, no WASI context;
//! * only imports that the table in wasi.rs marks [`Pure::Stub`]: pure, linked to a
//!   deterministic stub set — no environment, no arguments, no preopened directories, stdin
//!   empty, stdout/stderr discarded, virtual clocks that move only when the guest sleeps, random
//!   bytes keyed by the input (see `virtual_wasi`) — so the output still depends on the input
//!   alone;
//! * anything else (`wasi:sockets/*`, `wasi:http/outgoing-handler`, custom host imports, ...):
//!   refused at load, every offending import named with a hint.

use std::fmt;

use super::wasi::{self, Pure, unversioned};

/// Interfaces of the pure world itself. `nebula:pure/types` holds types only (no functions), so
/// importing it gives the guest nothing to call.
pub const PURE_WORLD: &[&str] = &["nebula:pure/types"];

/// The export that makes a component a `nebula:pure` handler.
pub const PURE_EXPORT: &str = "handle";
/// The export that makes a component a `wasi:http/proxy` handler (any 0.2.x version).
pub const PROXY_EXPORT: &str = "wasi:http/incoming-handler";

/// What a component is, judged by its exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Exports `handle` of the `nebula:pure` world.
    Pure,
    /// Exports `wasi:http/incoming-handler`.
    HttpProxy,
    /// Neither.
    Unknown,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Pure => "nebula:pure handler",
            Kind::HttpProxy => "wasi:http/proxy handler",
            Kind::Unknown => "unknown (exports neither `handle` nor `wasi:http/incoming-handler`)",
        })
    }
}

/// An import the policy does not allow, with what usually removes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub import: String,
    pub hint: &'static str,
}

/// The policy's judgement of one component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub kind: Kind,
    /// WASI imports answered by deterministic stubs.
    pub stubbed: Vec<String>,
    /// Imports that make the component impure; empty for a pure one.
    pub refused: Vec<Refused>,
}

impl Verdict {
    /// Judges a component by the names of its imports and exports.
    pub fn judge<'a>(
        imports: impl IntoIterator<Item = &'a str>,
        exports: impl IntoIterator<Item = &'a str>,
    ) -> Verdict {
        let exports: Vec<&str> = exports.into_iter().collect();
        let kind = if exports.contains(&PURE_EXPORT) {
            Kind::Pure
        } else if exports.iter().any(|e| unversioned(e) == PROXY_EXPORT) {
            Kind::HttpProxy
        } else {
            Kind::Unknown
        };
        let mut stubbed = Vec::new();
        let mut refused = Vec::new();
        for import in imports {
            let name = unversioned(import);
            if PURE_WORLD.contains(&name) {
                continue;
            }
            if wasi::linkable(import).is_some_and(|i| matches!(i.pure, Pure::Stub(_))) {
                stubbed.push(import.to_owned());
            } else {
                refused.push(Refused {
                    import: import.to_owned(),
                    hint: hint_for(import),
                });
            }
        }
        Verdict {
            kind,
            stubbed,
            refused,
        }
    }

    /// Pure: a `nebula:pure` handler with no refused import.
    pub fn is_pure(&self) -> bool {
        self.kind == Kind::Pure && self.refused.is_empty()
    }
}

/// How each toolchain builds a component without WASI imports (docs/authoring.md).
macro_rules! without_wasi {
    () => {
        "Rust: `no_std` with the nebula-guest crate (or target wasm32-unknown-unknown); \
         Python: componentize-py `--stub-wasi`; JavaScript: ComponentizeJS \
         `disableFeatures: ['stdio', 'random', 'clocks', 'http', 'fetch-event']`"
    };
}

/// What usually removes a refused import (`import` as the component names it, with version).
fn hint_for(import: &str) -> &'static str {
    let name = unversioned(import);
    match wasi::named(name).map(|i| i.pure) {
        Some(Pure::Refused(hint)) => hint,
        // Stubbed, but not at this version.
        Some(Pure::Stub(_)) => concat!(
            "only the WASI 0.2.x versions of this interface are stubbed; build against WASI ",
            "0.2, or without WASI imports: ",
            without_wasi!()
        ),
        None if name.starts_with("wasi:http/") => wasi::HTTP_PURE,
        None if name.starts_with("wasi:") => concat!(
            "only the inert WASI interfaces that language runtimes drag in are stubbed; remove ",
            "this use, or build without WASI imports: ",
            without_wasi!()
        ),
        None => {
            "a pure handler imports nothing; build it against the `nebula:pure/handler` world (wit/pure.wit)"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_imports_is_pure() {
        let v = Verdict::judge([], ["handle"]);
        assert!(v.is_pure());
        assert!(v.stubbed.is_empty());
    }

    #[test]
    fn the_pure_worlds_types_interface_is_no_import_to_judge() {
        let v = Verdict::judge(["nebula:pure/types@0.1.0"], ["handle"]);
        assert!(v.is_pure());
        assert!(v.stubbed.is_empty());
    }

    #[test]
    fn rust_std_imports_are_stubbed() {
        let v = Verdict::judge(
            [
                "wasi:cli/environment@0.2.4",
                "wasi:cli/exit@0.2.4",
                "wasi:io/streams@0.2.4",
            ],
            ["handle"],
        );
        assert!(v.is_pure());
        assert_eq!(v.stubbed.len(), 3);
    }

    #[test]
    fn sockets_and_outgoing_http_are_refused_each_by_name() {
        let v = Verdict::judge(
            [
                "wasi:sockets/tcp@0.2.0",
                "wasi:http/outgoing-handler@0.2.0",
                "wasi:cli/exit@0.2.0",
            ],
            ["handle"],
        );
        assert!(!v.is_pure());
        let names: Vec<_> = v.refused.iter().map(|r| r.import.as_str()).collect();
        assert_eq!(
            names,
            ["wasi:sockets/tcp@0.2.0", "wasi:http/outgoing-handler@0.2.0"]
        );
        assert!(v.refused[0].hint.contains("networking"));
    }

    #[test]
    fn custom_imports_are_refused() {
        let v = Verdict::judge(["acme:db/query"], ["handle"]);
        assert_eq!(v.refused[0].import, "acme:db/query");
    }

    #[test]
    fn kind_comes_from_exports() {
        assert_eq!(
            Verdict::judge([], ["wasi:http/incoming-handler@0.2.6"]).kind,
            Kind::HttpProxy
        );
        assert_eq!(Verdict::judge([], ["run"]).kind, Kind::Unknown);
    }

    #[test]
    fn wasi_preview3_is_not_stubbed() {
        let v = Verdict::judge(["wasi:cli/exit@0.3.0"], ["handle"]);
        assert!(!v.is_pure());
        assert!(v.refused[0].hint.contains("0.2.x"));
        assert!(v.refused[0].hint.contains("no_std"));
    }

    #[test]
    fn hints_name_the_flag_of_each_toolchain() {
        let v = Verdict::judge(
            [
                "wasi:http/types@0.2.10",
                "wasi:http/outgoing-handler@0.2.3",
                "wasi:sockets/tcp@0.2.0",
                "wasi:keyvalue/store@0.2.0-draft",
            ],
            ["handle"],
        );
        let hint = |i: usize| v.refused[i].hint;
        assert!(hint(0).contains("disableFeatures") && hint(0).contains("fetch-event"));
        assert!(hint(1).contains("'http'") && hint(1).contains("--stub-wasi"));
        assert!(hint(2).contains("networking") && hint(2).contains("--stub-wasi"));
        assert!(hint(2).contains("no_std") && hint(2).contains("wasm32-unknown-unknown"));
        for flag in [
            "--stub-wasi",
            "disableFeatures",
            "no_std",
            "wasm32-unknown-unknown",
        ] {
            assert!(hint(3).contains(flag), "{flag}: {}", hint(3));
        }
    }

    /// What componentize-py (`--stub-wasi`) makes: the world's types, plus an `exports`
    /// interface of its own (the pre-initialisation hook); the kind comes from `handle`.
    #[test]
    fn componentize_py_extra_export_is_ignored() {
        let v = Verdict::judge(["nebula:pure/types@0.1.0"], ["exports", "handle"]);
        assert!(v.is_pure());
        assert_eq!(v.kind, Kind::Pure);
    }
}
