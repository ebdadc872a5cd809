//! Memoization, idling and scale-to-zero: functional checks (nothing here is timed).

use crate::harness::{HOST_BIN, Manifest, guests};
use anyhow::{Context, Result, bail, ensure};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn hello_manifest(extra: &str) -> Manifest {
    Manifest::new()
        .component("hello", &guests().hello)
        .raw(&format!(
            "[[routes]]\nroute = \"GET /hello/{{name}}\"\ncomponent = \"hello\"\n{extra}\n"
        ))
}

#[test]
fn memoized_route_replays_with_an_etag_and_answers_304() -> Result<()> {
    let host = hello_manifest("").up(&[])?;
    let first = host.get("/hello/memo")?;
    ensure!(
        first.header("x-nebula-memo") == Some("miss"),
        "first: {:?}",
        first.headers
    );
    let second = host.get("/hello/memo")?;
    ensure!(
        second.header("x-nebula-memo") == Some("hit"),
        "second: {:?}",
        second.headers
    );
    ensure!(second.body == first.body && second.text() == "Hello, memo!\n");
    let etag = first
        .header("etag")
        .context("memoized replies carry an etag")?
        .to_owned();
    ensure!(second.header("etag") == Some(etag.as_str()));

    let revalidated = host.request("GET", "/hello/memo", &[("if-none-match", &etag)], b"")?;
    ensure!(revalidated.status == 304, "status {}", revalidated.status);
    ensure!(revalidated.body.is_empty());
    let other = host.request("GET", "/hello/memo", &[("if-none-match", "\"nope\"")], b"")?;
    ensure!(other.status == 200 && other.text() == "Hello, memo!\n");
    Ok(())
}

#[test]
fn route_with_memo_off_runs_every_time() -> Result<()> {
    let host = hello_manifest("memo = false").up(&[])?;
    for _ in 0..2 {
        let reply = host.get("/hello/fresh")?;
        ensure!(
            reply.status == 200 && reply.header("x-nebula-memo").is_none(),
            "{:?}",
            reply.headers
        );
    }
    Ok(())
}

#[test]
fn identical_concurrent_requests_run_once_and_failures_are_not_stored() -> Result<()> {
    let host = Manifest::new()
        .component_with_limits("spin", &guests().spin, "timeout = \"1500ms\"")
        .route("GET /spin", "spin")
        .up(&[])?;
    let addr = host.addr;
    let replies: Vec<_> = (0..6)
        .map(|_| std::thread::spawn(move || crate::harness::http::get(addr, "/spin")))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().expect("client thread"))
        .collect::<Result<_>>()?;
    let how: Vec<_> = replies
        .iter()
        .map(|r| r.header("x-nebula-memo").unwrap_or("-"))
        .collect();
    ensure!(
        replies.iter().all(|r| r.status == 504),
        "statuses: {:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    ensure!(
        how.iter().filter(|h| **h == "miss").count() == 1,
        "one execution expected: {how:?}"
    );
    ensure!(
        how.iter().all(|h| *h == "miss" || *h == "shared"),
        "{how:?}"
    );
    // A timeout is not a result worth replaying: the next request runs again.
    let again = host.get("/spin")?;
    ensure!(
        again.header("x-nebula-memo") == Some("miss"),
        "{:?}",
        again.headers
    );
    Ok(())
}

#[test]
fn idle_components_unload_and_load_again_on_the_next_request() -> Result<()> {
    let host = hello_manifest("").up(&["--idle-unload", "1"])?;
    ensure!(host.get("/hello/before")?.status == 200);
    host.wait_for_log_line(&["hello", "unloaded after idling"])?;
    let after = host.get("/hello/after")?;
    ensure!(
        after.status == 200 && after.text() == "Hello, after!\n",
        "{}",
        after.text()
    );
    host.wait_for_log_line(&["hello", "loaded again"])?;
    Ok(())
}

/// Context switches of every thread of `pid`: a thread that wakes up switches.
fn wakeups(pid: u32) -> Result<u64> {
    let mut total = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let status = std::fs::read_to_string(task?.path().join("status"))?;
        for line in status.lines() {
            if let Some(n) = line
                .strip_prefix("voluntary_ctxt_switches:")
                .or(line.strip_prefix("nonvoluntary_ctxt_switches:"))
            {
                total += n.trim().parse::<u64>()?;
            }
        }
    }
    Ok(total)
}

#[test]
fn an_idle_host_does_no_periodic_work() -> Result<()> {
    let host = hello_manifest("").up(&["--idle-unload", "1"])?;
    ensure!(host.get("/hello/once")?.status == 200);
    host.wait_for_log_line(&["unloaded after idling"])?;
    std::thread::sleep(Duration::from_millis(300));
    let before = wakeups(host.pid())?;
    std::thread::sleep(Duration::from_secs(3));
    let after = wakeups(host.pid())?;
    // No ticker, no polling timer, no busy thread: nothing wakes up while nobody asks.
    ensure!(
        after - before <= 2,
        "{} thread wake-ups in 3 s of idling",
        after - before
    );
    Ok(())
}

#[test]
fn idle_exit_ends_the_process_with_code_0() -> Result<()> {
    let mut host = hello_manifest("").up(&["--idle-exit", "1"])?;
    let status = host.wait_for_exit(Duration::from_secs(30))?;
    ensure!(status.success(), "exit status {status}");
    host.wait_for_log_line(&["idle", "exiting"])?;
    Ok(())
}

/// Starts the host the way systemd's socket activation does: the listening socket as fd 3,
/// `LISTEN_FDS=1` and `LISTEN_PID` set to the host's own pid.
fn activate(listener: &TcpListener, manifest: &Path, cache: &Path) -> Result<Child> {
    let socket: OwnedFd = listener.try_clone()?.into();
    let child = Command::new("sh")
        .args([
            "-c",
            "exec 3<&0 0</dev/null; LISTEN_FDS=1 LISTEN_PID=$$ exec \"$0\" up \"$1\" --idle-exit 1",
        ])
        .arg(HOST_BIN)
        .arg(manifest)
        .env("NEBULA_CACHE_DIR", cache)
        .stdin(Stdio::from(socket))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    Ok(child)
}

fn wait_ready(child: &mut Child) -> Result<()> {
    let stdout = child.stdout.take().context("stdout is piped")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    ensure!(
        line.contains("serving on"),
        "unexpected first line {line:?}"
    );
    Ok(())
}

fn wait_exit(child: &mut Child) -> Result<std::process::ExitStatus> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if Instant::now() > deadline {
            child.kill()?;
            bail!("the host did not exit after idling");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn send(addr: SocketAddr, path: &str) -> Result<TcpStream> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    )?;
    Ok(stream)
}

fn read_reply(mut stream: TcpStream) -> Result<String> {
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    Ok(reply)
}

#[test]
fn socket_activated_host_exits_when_idle_and_the_next_connection_waits_for_it() -> Result<()> {
    let manifest = hello_manifest("").write_temp()?;
    let cache = tempfile::tempdir()?;
    // The "service manager" keeps the listening socket while the host comes and goes.
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;

    let mut first = activate(&listener, &manifest.path, cache.path())?;
    wait_ready(&mut first)?;
    let reply = read_reply(send(addr, "/hello/one")?)?;
    ensure!(
        reply.starts_with("HTTP/1.1 200") && reply.ends_with("Hello, one!\n"),
        "{reply}"
    );
    ensure!(wait_exit(&mut first)?.success());

    // No host runs now; the connection is accepted by the kernel into the socket's backlog...
    let pending = send(addr, "/hello/two")?;
    // ...and answered once the manager starts the host again: no refused request.
    let mut second = activate(&listener, &manifest.path, cache.path())?;
    let reply = read_reply(pending)?;
    ensure!(
        reply.starts_with("HTTP/1.1 200") && reply.ends_with("Hello, two!\n"),
        "{reply}"
    );
    ensure!(wait_exit(&mut second)?.success());
    Ok(())
}
