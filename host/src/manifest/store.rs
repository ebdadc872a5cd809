//! `[store]`: which database holds the collections, and the syntax of store addresses (shared
//! with `up --store` and `NEBULA_STORE`, which override the table). Syntax only: nothing here
//! connects to anything.
//!
//! ```toml
//! [store]
//! url = "etcd://10.0.0.1:2379,10.0.0.2:2379,10.0.0.3:2379/academemes"
//! timeout = "3s"    # the bound on one call to the store
//! ```
//!
//! `url = "redb"` (the default) is the embedded file in the data folder.

use std::time::Duration;

use toml::Spanned;
use toml::de::DeValue;

use super::limits::Timeout;
use super::validator::Validator;

/// The default bound on one call to a networked store: an election in a healthy etcd cluster
/// takes about a second.
pub const DEFAULT_STORE_TIMEOUT: Duration = Duration::from_secs(3);

/// Where the collections live.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StoreUrl {
    /// `redb`: one file in the data folder (`data.dir`, `--data`).
    #[default]
    Redb,
    /// `etcd://HOST:PORT[,HOST:PORT…][/NAMESPACE]`
    Etcd {
        /// `HOST:PORT` of each member the client may use.
        endpoints: Vec<String>,
        /// The prefix of every key (default `nebula`), so applications can share a cluster.
        namespace: String,
    },
}

/// `[store]`, or the same given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreDecl {
    pub url: StoreUrl,
    /// The bound on one call to a networked store.
    pub timeout: Duration,
}

impl Default for StoreDecl {
    fn default() -> Self {
        StoreDecl {
            url: StoreUrl::Redb,
            timeout: DEFAULT_STORE_TIMEOUT,
        }
    }
}

/// Why a text is not a store address; shown as is to whoever wrote it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}\n  = hint: {hint}")]
pub struct BadStoreUrl {
    pub message: String,
    pub hint: String,
}

impl BadStoreUrl {
    fn new(message: String, hint: &str) -> BadStoreUrl {
        BadStoreUrl {
            message,
            hint: hint.to_owned(),
        }
    }
}

const URL_HINT: &str = "write `redb`, or `etcd://HOST:PORT[,HOST:PORT…][/NAMESPACE]`, e.g. \
                        `etcd://127.0.0.1:2379/academemes`";

impl std::str::FromStr for StoreUrl {
    type Err = BadStoreUrl;

    fn from_str(text: &str) -> Result<StoreUrl, BadStoreUrl> {
        let text = text.trim();
        if text == "redb" {
            return Ok(StoreUrl::Redb);
        }
        let Some(rest) = text.strip_prefix("etcd://") else {
            return Err(BadStoreUrl::new(
                format!("unknown store `{text}`"),
                URL_HINT,
            ));
        };
        let (hosts, namespace) = match rest.split_once('/') {
            Some((hosts, ns)) => (hosts, ns.trim_end_matches('/')),
            None => (rest, "nebula"),
        };
        let mut endpoints = Vec::new();
        for host in hosts.split(',') {
            let valid = host
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0));
            if !valid {
                return Err(BadStoreUrl::new(
                    format!("etcd endpoint `{host}` is not `HOST:PORT` in `{text}`"),
                    URL_HINT,
                ));
            }
            endpoints.push(host.to_owned());
        }
        let valid_namespace = !namespace.is_empty()
            && namespace
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c));
        if !valid_namespace {
            return Err(BadStoreUrl::new(
                format!("etcd namespace `{namespace}` in `{text}` is not valid"),
                "a namespace is letters, digits, `_`, `-`, `.` and `/`",
            ));
        }
        Ok(StoreUrl::Etcd {
            endpoints,
            namespace: namespace.to_owned(),
        })
    }
}

impl std::fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreUrl::Redb => f.write_str("redb"),
            StoreUrl::Etcd {
                endpoints,
                namespace,
            } => write!(f, "etcd://{}/{namespace}", endpoints.join(",")),
        }
    }
}

/// `[store]`
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStore {
    pub url: Option<Spanned<String>>,
    pub timeout: Option<Spanned<toml::Value>>,
}

/// Validates `[store]`; `None` when it has problems (reported on `v`).
pub(super) fn store(v: &mut Validator<'_>, value: Spanned<DeValue<'_>>) -> Option<StoreDecl> {
    let raw = v.typed::<RawStore>(value, "`store`", "[store]", &[])?;
    let mut decl = StoreDecl::default();
    let problems = v.problems();
    match &raw.url {
        None => {}
        Some(url) => match url.get_ref().parse::<StoreUrl>() {
            Ok(parsed) => decl.url = parsed,
            Err(BadStoreUrl { message, hint }) => {
                v.push(v.source.at(url.span(), message).with_hint(hint));
            }
        },
    }
    if let Some(timeout) = &raw.timeout
        && let Some(Timeout(t)) = v.convert(timeout)
    {
        if t.is_zero() {
            v.push(
                v.source
                    .at(timeout.span(), "`timeout` must be more than 0")
                    .with_hint("e.g. `timeout = \"3s\"`"),
            );
        }
        decl.timeout = t;
    }
    (v.problems() == problems).then_some(decl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_etcd_urls_with_and_without_a_namespace() {
        assert_eq!(
            "etcd://a:1,b:2/app/x".parse::<StoreUrl>().unwrap(),
            StoreUrl::Etcd {
                endpoints: vec!["a:1".into(), "b:2".into()],
                namespace: "app/x".into()
            }
        );
        assert_eq!(
            "etcd://127.0.0.1:2379".parse::<StoreUrl>().unwrap(),
            StoreUrl::Etcd {
                endpoints: vec!["127.0.0.1:2379".into()],
                namespace: "nebula".into()
            }
        );
        assert_eq!("redb".parse::<StoreUrl>().unwrap(), StoreUrl::Redb);
    }

    #[test]
    fn rejects_bad_store_urls_with_a_hint() {
        for (url, needle) in [
            ("postgres://x", "unknown store"),
            ("etcd://host", "not `HOST:PORT`"),
            ("etcd://h:0", "not `HOST:PORT`"),
            ("etcd://h:1,/ns", "not `HOST:PORT`"),
            ("etcd://h:1/a b", "namespace"),
        ] {
            let e = url.parse::<StoreUrl>().unwrap_err();
            assert!(e.message.contains(needle), "{url}: {}", e.message);
            assert!(!e.hint.is_empty(), "{url}");
        }
    }
}
