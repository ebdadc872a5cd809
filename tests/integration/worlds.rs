//! Both versions of the `nebula:pure` world served by one host: `components/kv-v01`, written
//! against the frozen 0.1.0 and left untouched, and `components/effects-probe`, built with the SDK
//! on 0.2.0, pass `check`, inspect as their own world, and read and write one redb store over
//! real HTTP, each seeing the other's writes.

use crate::effects::send;
use crate::harness::{Manifest, Store, TestStore, guests, run_cli};
use anyhow::{Result, ensure};

/// `old` is the 0.1.0 component, `new` the 0.2.0 one (its routes as in effects.rs; its puts to `kv`
/// take a `by-body` index key).
const ROUTES: &str = r#"
[collections.kv]
indexes = ["new", "by-body"]

[collections.hits]
counter = true

[collections.secret]

[[routes]]
route = "GET /v01/{key}"
component = "old"
reads = [{ name = "value", op = "get", collection = "kv", key = "{key}" }]
may_read = ["kv"]
memo = false

[[routes]]
route = "POST /v01/{key}"
component = "old"
may_write = ["kv", "hits"]

[[routes]]
route = "GET /kv/{key}"
component = "new"
reads = [{ name = "value", op = "get", collection = "kv", key = "{key}" }]

[[routes]]
route = "PUT /kv/{key}"
component = "new"
may_write = ["kv"]

[[routes]]
route = "GET /count/{key}"
component = "new"
reads = [{ name = "count", op = "counter", collection = "hits", key = "{key}" }]
"#;

fn manifest() -> Result<crate::harness::Written> {
    Manifest::new()
        .component("old", &guests().kv_v01)
        .component("new", &guests().effects_probe)
        .raw(ROUTES)
        .write_temp()
}

#[test]
fn a_0_1_0_and_a_0_2_0_component_pass_check_and_inspect_as_their_own_world() -> Result<()> {
    let written = manifest()?;
    let check = run_cli(&[&"check", &written.path])?;
    ensure!(
        check.code == Some(0) && check.stdout.contains("ok"),
        "{check}"
    );
    for (wasm, world) in [
        (&guests().kv_v01, "nebula:pure/types@0.1.0"),
        (&guests().effects_probe, "nebula:pure/types@0.2.0"),
    ] {
        let inspect = run_cli(&[&"inspect", wasm])?;
        ensure!(
            inspect.code == Some(0)
                && inspect.stdout.contains("kind:      nebula:pure handler")
                && inspect.stdout.contains(world),
            "{}: {inspect}",
            wasm.display()
        );
    }
    Ok(())
}

#[test]
fn an_untouched_0_1_0_component_reads_and_writes_beside_a_0_2_0_one() -> Result<()> {
    let written = manifest()?;
    let store = TestStore::start(Store::Redb)?;
    let host = store.host(&written.path, &[])?;

    // 0.1.0 writes (a put with an index key, a counter add); 0.2.0 reads them.
    ensure!(send(&host, "POST", "/v01/alpha", "one", 200)? == "stored\n");
    ensure!(send(&host, "GET", "/kv/alpha", "", 200)? == "one");
    ensure!(send(&host, "GET", "/count/alpha", "", 200)?.trim() == "1");
    // 0.2.0 writes; 0.1.0 reads it, declared and through `need`.
    send(&host, "PUT", "/kv/beta", "two", 200)?;
    ensure!(send(&host, "GET", "/v01/beta", "", 200)? == "value two\n");
    ensure!(send(&host, "GET", "/v01/beta?peek=kv", "", 200)? == "peek two\n");
    ensure!(send(&host, "GET", "/v01/gamma", "", 200)? == "absent\n");
    // A typed read error reaches a 0.1.0 handler as the text it always got.
    let refused = send(&host, "GET", "/v01/beta?peek=secret", "", 200)?;
    ensure!(
        refused == "error read of collection `secret` is not granted to this route\n",
        "{refused:?}"
    );
    Ok(())
}
