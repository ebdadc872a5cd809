//! A real HAProxy (Debian's `haproxy`, installed by scripts/setup.sh) balancing HTTP over hosts
//! on 127.0.0.1, health-checking each on its admin listener's `/readyz`; killed when dropped.

use super::{http, poll};
use anyhow::{Context, Result, bail};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tempfile::TempDir;

/// A running HAProxy.
#[derive(Debug)]
pub struct Haproxy {
    child: Child,
    /// Where clients send requests.
    pub addr: SocketAddr,
    /// The statistics page (`/stats;csv`).
    stats: SocketAddr,
    dir: TempDir,
}

/// One backend server: the host's application and admin addresses.
#[derive(Debug, Clone, Copy)]
pub struct Backend {
    pub app: SocketAddr,
    pub admin: SocketAddr,
}

fn free_addr() -> Result<SocketAddr> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

impl Haproxy {
    /// Starts HAProxy in front of `backends` (servers `h0`, `h1`, … of backend `hosts`) and
    /// waits until it serves and sees every backend up.
    pub fn start(backends: &[Backend]) -> Result<Haproxy> {
        let dir = tempfile::tempdir()?;
        let (addr, stats) = (free_addr()?, free_addr()?);
        let mut config = format!(
            "global\n  maxconn 2048\n\ndefaults\n  mode http\n  timeout connect 1s\n  \
             timeout client 30s\n  timeout server 30s\n  \
             # A connection refused by a dead host is tried on another: nothing was sent yet.\n  \
             retries 3\n  option redispatch 1\n  retry-on conn-failure\n\n\
             frontend app\n  bind {addr}\n  default_backend hosts\n\n\
             backend hosts\n  balance roundrobin\n  option httpchk GET /readyz\n  \
             http-check expect status 200\n  default-server inter 200ms fall 2 rise 1\n"
        );
        for (i, b) in backends.iter().enumerate() {
            config.push_str(&format!(
                "  server h{i} {} check port {}\n",
                b.app,
                b.admin.port()
            ));
        }
        config.push_str(&format!(
            "\nlisten stats\n  bind {stats}\n  stats enable\n  stats uri /stats\n"
        ));
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, config)?;
        let log = std::fs::File::create(dir.path().join("haproxy.log"))?;
        let child = Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("cannot start `haproxy`; scripts/setup.sh installs Debian's haproxy")?;
        let haproxy = Haproxy {
            child,
            addr,
            stats,
            dir,
        };
        for i in 0..backends.len() {
            haproxy.wait_for(i, "UP", Duration::from_secs(20))?;
        }
        Ok(haproxy)
    }

    /// The status HAProxy gives server `h{i}`: `UP`, `DOWN`, …
    pub fn status(&self, i: usize) -> Result<String> {
        let csv = http::get(self.stats, "/stats;csv")?.text();
        let name = format!("h{i}");
        for line in csv.lines() {
            let fields: Vec<&str> = line.split(',').collect();
            if fields.len() > 17 && fields[0] == "hosts" && fields[1] == name {
                return Ok(fields[17].to_owned());
            }
        }
        bail!("no server {name} in HAProxy's statistics:\n{csv}")
    }

    /// Waits until server `h{i}`'s status starts with `want`.
    pub fn wait_for(&self, i: usize, want: &str, timeout: Duration) -> Result<()> {
        let seen = poll(timeout, || {
            self.status(i).ok().filter(|s| s.starts_with(want))
        });
        if seen.is_none() {
            bail!(
                "HAProxy server h{i} is not {want} after {timeout:?} (it is {:?}); log:\n{}",
                self.status(i).ok(),
                std::fs::read_to_string(self.dir.path().join("haproxy.log")).unwrap_or_default()
            );
        }
        Ok(())
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
