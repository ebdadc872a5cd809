//! `nebula-host store gc` against a real etcd, while a host serves: the chunks of an overwritten
//! large value are deleted after the grace, those an entry lists are never, a grace shorter than
//! ten store timeouts is refused, and a redb store has nothing to collect.

use crate::harness::etcd::Etcd;
use crate::harness::{Manifest, guests, run_cli};
use anyhow::{Result, ensure};

/// effects-probe's `secret` routes (a put of the body as it is, and a get), with bodies up to
/// 4 MiB and a short store timeout, so that the smallest grace allowed (ten timeouts) keeps the
/// test short.
fn manifest() -> Manifest {
    Manifest::new()
        .raw("\n[store]\ntimeout = \"1s\"\n\n[collections.secret]\n")
        .component("probe", &guests().effects_probe)
        .raw(
            "\n[[routes]]\nroute = \"PUT /secret/{key}\"\ncomponent = \"probe\"\n\
             may_write = [\"secret\"]\nmax_body = \"4 MiB\"\n\
             \n[[routes]]\nroute = \"GET /secret/{key}\"\ncomponent = \"probe\"\nmemo = false\n\
             reads = [{ name = \"value\", op = \"get\", collection = \"secret\", key = \"{key}\" }]\n",
        )
}

/// 3 MiB of bytes that differ with `seed`: three chunks on etcd.
fn large(seed: u8) -> Vec<u8> {
    (0..3u32 << 20).map(|i| (i % 253) as u8 ^ seed).collect()
}

#[test]
fn deletes_the_chunks_nothing_lists_and_keeps_the_rest() -> Result<()> {
    let etcd = Etcd::start(1)?;
    let url = etcd.url("gc");
    let written = manifest().write_temp()?;
    let host = crate::harness::Host::up(&written.path, &["--store", &url])?;
    for (key, body) in [("kept", large(1)), ("gone", large(2))] {
        let put = host.request("PUT", &format!("/secret/{key}"), &[], &body)?;
        ensure!(
            put.status == 200,
            "PUT /secret/{key}: {} {}",
            put.status,
            put.text()
        );
    }
    // Overwritten: its three chunks are orphans now.
    ensure!(host.request("PUT", "/secret/gone", &[], b"small")?.status == 200);

    let gc = |extra: &[&str]| {
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> =
            vec![&"store", &"gc", &written.path, &"--store", &url];
        args.extend(extra.iter().map(|a| a as &dyn AsRef<std::ffi::OsStr>));
        run_cli(&args)
    };
    let short = gc(&["--grace", "5s"])?;
    ensure!(
        short.code == Some(1) && short.stderr.contains("shorter than ten store timeouts"),
        "{short}"
    );
    let dry = gc(&["--grace", "10s", "--dry-run"])?;
    ensure!(
        dry.code == Some(0) && dry.stdout.contains("would delete 3 orphaned chunks"),
        "{dry}"
    );
    let swept = gc(&["--grace", "10s"])?;
    ensure!(
        swept.code == Some(0)
            && swept
                .stdout
                .contains("deleted 3 orphaned chunks; kept 3 referenced"),
        "{swept}"
    );
    let again = gc(&["--grace", "10s"])?;
    ensure!(
        again.stdout.contains("deleted 0 orphaned chunks"),
        "{again}"
    );

    let kept = host.get("/secret/kept")?;
    ensure!(
        kept.status == 200 && kept.body == large(1),
        "the kept value came back as {} ({} bytes)",
        kept.status,
        kept.body.len()
    );
    ensure!(host.get("/secret/gone")?.body == b"small");

    let redb = run_cli(&[&"store", &"gc", &written.path])?;
    ensure!(
        redb.code == Some(0) && redb.stdout.contains("nothing to collect"),
        "{redb}"
    );
    Ok(())
}
