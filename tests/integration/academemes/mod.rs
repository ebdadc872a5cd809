//! `manifests/academemes.toml`, the showcase site, one module per part of it: listings, uploads,
//! votes, moderation (rate limits, tokens, reports, hide, delete), search and sharing. The site
//! helpers are in `harness::site`.
//!
//! Every test starts its own host on a fresh data folder (so counts are its own); the compile
//! cache is shared through `target/`, so only the first host compiles the components.

mod listing;
mod moderation;
mod search;
mod sharing;
mod uploads;
mod votes;

use crate::harness::run_cli;
use crate::harness::site::manifest;
use anyhow::{Result, ensure};

#[test]
fn academemes_manifest_passes_check() -> Result<()> {
    let output = run_cli(&[&"check", &manifest()])?;
    ensure!(output.code == Some(0), "{output}");
    Ok(())
}
