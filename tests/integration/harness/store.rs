//! One test, every store: [`per_store!`] turns a test function `fn name(store: &TestStore) ->
//! Result<()>` into `on_redb::name` and `on_etcd::name`, each given a [`TestStore`] of its kind
//! (for etcd, a single-member etcd started for the test and stopped after it). Hosts started
//! with [`TestStore::host`] keep their collections there; several hosts of one test share them.

use super::Host;
use super::etcd::Etcd;
use anyhow::Result;
use std::path::Path;

/// Which store a host runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    /// The embedded default: one file in each host's data folder.
    Redb,
    /// An etcd cluster the hosts share.
    Etcd,
}

/// The store of one test.
#[derive(Debug)]
pub struct TestStore {
    kind: Store,
    etcd: Option<Etcd>,
}

impl TestStore {
    /// Starts what `kind` needs: nothing for redb, a single-member etcd for etcd.
    pub fn start(kind: Store) -> Result<TestStore> {
        let etcd = match kind {
            Store::Redb => None,
            Store::Etcd => Some(Etcd::start(1)?),
        };
        Ok(TestStore { kind, etcd })
    }

    pub fn kind(&self) -> Store {
        self.kind
    }

    /// The arguments that put a host on this store.
    pub fn args(&self) -> Vec<String> {
        match &self.etcd {
            None => Vec::new(),
            Some(etcd) => vec!["--store".into(), etcd.url("tests")],
        }
    }

    /// `nebula-host up MANIFEST EXTRA_ARGS` on this store (see [`Host::up`]).
    pub fn host(&self, manifest: &Path, extra_args: &[&str]) -> Result<Host> {
        let store = self.args();
        let mut args: Vec<&str> = store.iter().map(String::as_str).collect();
        args.extend_from_slice(extra_args);
        Host::up(manifest, &args)
    }

    /// Like [`TestStore::host`] with the compile cache in `cache_dir` ([`Host::up_with_cache`]).
    pub fn host_with_cache(
        &self,
        manifest: &Path,
        extra_args: &[&str],
        cache_dir: &Path,
    ) -> Result<Host> {
        let store = self.args();
        let mut args: Vec<&str> = store.iter().map(String::as_str).collect();
        args.extend_from_slice(extra_args);
        Host::up_with_cache(manifest, &args, cache_dir)
    }
}

/// Runs each named test function (`fn(&TestStore) -> Result<()>`, defined in the same module)
/// once per store: `on_redb::NAME` and `on_etcd::NAME`.
macro_rules! per_store {
    ($($name:ident),* $(,)?) => {
        mod on_redb {
            $(
                #[test]
                fn $name() -> anyhow::Result<()> {
                    let store = $crate::harness::TestStore::start($crate::harness::Store::Redb)?;
                    super::$name(&store)
                }
            )*
        }
        mod on_etcd {
            $(
                #[test]
                fn $name() -> anyhow::Result<()> {
                    let store = $crate::harness::TestStore::start($crate::harness::Store::Etcd)?;
                    super::$name(&store)
                }
            )*
        }
    };
}
pub(crate) use per_store;
