//! Real etcd for the tests: Debian's `etcd` (scripts/setup.sh installs it) on free loopback
//! ports, in a temp folder; one member or a cluster of several; members can be killed with
//! SIGKILL and started again on their data. Everything is killed when the value is dropped.

use super::http;
use super::poll;
use anyhow::{Context, Result, bail};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tempfile::TempDir;

/// How long a member or a cluster may take to answer `/health` with a leader.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running etcd cluster on 127.0.0.1.
#[derive(Debug)]
pub struct Etcd {
    members: Vec<Member>,
    dir: TempDir,
}

#[derive(Debug)]
struct Member {
    name: String,
    client: SocketAddr,
    peer: SocketAddr,
    child: Option<Child>,
}

/// A port nobody listens on now (the OS picks it; it stays free until etcd binds it, barring a
/// race with another process).
fn free_addr() -> Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}

impl Etcd {
    /// Starts a cluster of `size` members and waits until it has a leader.
    pub fn start(size: usize) -> Result<Etcd> {
        let dir = tempfile::tempdir()?;
        let mut members = Vec::new();
        for i in 0..size {
            members.push(Member {
                name: format!("m{i}"),
                client: free_addr()?,
                peer: free_addr()?,
                child: None,
            });
        }
        let mut etcd = Etcd { members, dir };
        for i in 0..size {
            etcd.launch(i, "new")?;
        }
        etcd.wait_healthy(&(0..size).collect::<Vec<_>>())?;
        Ok(etcd)
    }

    fn data_dir(&self, i: usize) -> PathBuf {
        self.dir.path().join(&self.members[i].name)
    }

    fn launch(&mut self, i: usize, state: &str) -> Result<()> {
        let initial_cluster = self
            .members
            .iter()
            .map(|m| format!("{}=http://{}", m.name, m.peer))
            .collect::<Vec<_>>()
            .join(",");
        let log = std::fs::File::create(self.dir.path().join(format!("m{i}.log")))?;
        let m = &self.members[i];
        let child = Command::new("etcd")
            .args(["--name", &m.name])
            .arg("--data-dir")
            .arg(self.data_dir(i))
            .args(["--listen-client-urls", &format!("http://{}", m.client)])
            .args(["--advertise-client-urls", &format!("http://{}", m.client)])
            .args(["--listen-peer-urls", &format!("http://{}", m.peer)])
            .args([
                "--initial-advertise-peer-urls",
                &format!("http://{}", m.peer),
            ])
            .args(["--initial-cluster", &initial_cluster])
            .args(["--initial-cluster-state", state])
            .args(["--initial-cluster-token", "nebula-tests"])
            // One request's writes are one transaction: Academemes' seed holds a few hundred
            // operations (docs/stores.md, "Settings for an etcd cluster").
            .args(["--max-txn-ops", "4096"])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("cannot start `etcd`; scripts/setup.sh installs Debian's etcd-server")?;
        self.members[i].child = Some(child);
        Ok(())
    }

    /// Waits until each of `members` answers `/health` with `true` (it has a leader).
    fn wait_healthy(&mut self, members: &[usize]) -> Result<()> {
        for &i in members {
            let addr = self.members[i].client;
            let healthy = poll(START_TIMEOUT, || {
                http::get(addr, "/health")
                    .ok()
                    .filter(|r| r.status == 200 && r.text().contains("true"))
            });
            if healthy.is_none() {
                bail!(
                    "etcd member {} on {addr} is not healthy after {START_TIMEOUT:?}; its log:\n{}",
                    self.members[i].name,
                    self.log(i)
                );
            }
        }
        Ok(())
    }

    /// The member's log so far.
    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("m{i}.log"))).unwrap_or_default()
    }

    /// `HOST:PORT,…` of every member's client address.
    pub fn endpoints(&self) -> String {
        self.members
            .iter()
            .map(|m| m.client.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The `--store` value for a host on this cluster, keys under `namespace`.
    pub fn url(&self, namespace: &str) -> String {
        format!("etcd://{}/{namespace}", self.endpoints())
    }

    /// Kills member `i` with SIGKILL (no shutdown) and waits for it to be gone.
    pub fn kill(&mut self, i: usize) -> Result<()> {
        if let Some(mut child) = self.members[i].child.take() {
            child.kill().context("killing an etcd member")?;
            child.wait()?;
        }
        Ok(())
    }

    /// Starts member `i` again on its data, and waits until it is healthy.
    pub fn restart(&mut self, i: usize) -> Result<()> {
        self.launch(i, "existing")?;
        self.wait_healthy(&[i])
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        for m in &mut self.members {
            if let Some(mut child) = m.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}
