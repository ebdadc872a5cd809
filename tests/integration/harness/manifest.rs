//! Manifests written into a test's temp folder, with absolute component paths so each test
//! stands alone.

use super::host::{Host, StartFailure};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// A manifest under construction; [`Manifest::write`] saves it.
#[derive(Debug, Clone)]
pub struct Manifest {
    text: String,
}

impl Default for Manifest {
    fn default() -> Self {
        Manifest {
            text: "version = 1\n".to_owned(),
        }
    }
}

impl Manifest {
    pub fn new() -> Manifest {
        Manifest::default()
    }

    /// `[components.ID]` with `path` = `wasm`.
    pub fn component(self, id: &str, wasm: &Path) -> Manifest {
        self.raw(&format!(
            "\n[components.{id}]\npath = {}\n",
            toml_string(&wasm.display().to_string())
        ))
    }

    /// `[components.ID]` with `path` = `wasm` and `limits = { LIMITS }`, e.g.
    /// `memory = "16 MiB"`.
    pub fn component_with_limits(self, id: &str, wasm: &Path, limits: &str) -> Manifest {
        self.component(id, wasm)
            .raw(&format!("limits = {{ {limits} }}\n"))
    }

    /// A `[[routes]]` entry: `route` ("METHOD /path") handled by `component`.
    pub fn route(self, route: &str, component: &str) -> Manifest {
        self.raw(&format!(
            "\n[[routes]]\nroute = {}\ncomponent = {}\n",
            toml_string(route),
            toml_string(component)
        ))
    }

    /// Any TOML text, appended as is.
    pub fn raw(mut self, toml: &str) -> Manifest {
        self.text.push_str(toml);
        self
    }

    /// Writes the manifest into a fresh temp folder and starts `nebula-host up` on it with
    /// `extra_args` (see [`Host::up`]); the folder lives as long as the host.
    pub fn up(&self, extra_args: &[&str]) -> Result<Host> {
        let written = self.write_temp()?;
        let mut host = Host::up(&written.path, extra_args)?;
        host.keep(written.dir);
        Ok(host)
    }

    /// Like [`Manifest::up`], expecting the host to refuse to start (see
    /// [`Host::up_expecting_failure`]).
    pub fn up_expecting_failure(&self, extra_args: &[&str]) -> Result<StartFailure> {
        let written = self.write_temp()?;
        Host::up_expecting_failure(&written.path, extra_args)
    }

    /// Writes the manifest into a fresh temp folder, e.g. for `check`; dropping the result
    /// removes the folder.
    pub fn write_temp(&self) -> Result<Written> {
        let dir = tempfile::tempdir()?;
        let path = self.write(dir.path())?;
        Ok(Written { dir, path })
    }

    /// Writes `dir/nebula.toml` and returns its path.
    pub fn write(&self, dir: &Path) -> Result<PathBuf> {
        let path = dir.join("nebula.toml");
        std::fs::write(&path, &self.text)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(path)
    }
}

/// A TOML basic string holding `value`.
fn toml_string(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A manifest written into a temp folder of its own.
#[derive(Debug)]
pub struct Written {
    pub dir: TempDir,
    /// `dir/nebula.toml`.
    pub path: PathBuf,
}
