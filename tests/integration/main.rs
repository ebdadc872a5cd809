//! Integration tests: the real `nebula-host` binary as a child process, serving real guest
//! components (built from `components/` on first use) on 127.0.0.1:0.
//!
//! One module per feature; [`harness`] has the shared machinery.

mod harness;

mod academemes;
mod authoring;
mod browser;
mod cache;
mod cluster;
mod conflicts;
mod demo;
mod effects;
mod failures;
mod fuel;
mod hostile;
mod lifecycle;
mod logging;
mod manifest_errors;
mod operations;
mod polyglot;
mod proxy;
mod purity;
mod reload;
mod routing;
mod scaling;
mod store_gc;
mod worlds;
