//! The edges of the server: slow and oversized clients, oversized responses, and shutdown.
//! Each test checks the exact status, that the host stays up (or exits as it should), and that a
//! neighbour keeps serving.

use super::capacity::spins_for;
use super::{
    TIMEOUT, exchange, expect, hostile_host, hostile_host_with, nothing_written, still_serves,
};
use anyhow::{Context, Result, ensure};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

#[test]
fn two_hundred_slowloris_connections_are_closed_and_never_delay_others() -> Result<()> {
    let host = hostile_host()?;
    let mut slow = Vec::new();
    for _ in 0..200 {
        let mut stream = TcpStream::connect(host.addr)?;
        stream.write_all(b"GET /hello/slow HTTP/1.1\r\nhost: x\r\n")?;
        stream.set_nonblocking(true)?;
        slow.push(stream);
    }
    let started = Instant::now();
    let mut open = slow.len();
    let mut round = 0;
    // A header byte a second on every connection, until the host has closed them all; the
    // neighbour is asked once a round meanwhile.
    while open > 0 && started.elapsed() < Duration::from_secs(30) {
        ensure!(expect(&host, &format!("/hello/n{round}"), 200)? == format!("Hello, n{round}!\n"));
        open = 0;
        for stream in &mut slow {
            let mut buf = [0u8; 512];
            let closed = match stream.read(&mut buf) {
                Ok(_) => true,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => false,
                Err(_) => true,
            };
            if !closed && stream.write_all(b"x").is_ok() {
                open += 1;
            }
        }
        round += 1;
        std::thread::sleep(Duration::from_secs(1));
    }
    ensure!(
        open == 0,
        "{open} dribbling connections still open after 30 s"
    );
    still_serves(&host)
}

#[test]
fn a_request_head_over_the_limits_gets_431() -> Result<()> {
    let host = hostile_host()?;
    let big = "v".repeat(70 << 10);
    let raw = exchange(
        &host,
        &format!("GET /hello/big HTTP/1.1\r\nhost: x\r\nx-big: {big}\r\nconnection: close\r\n\r\n"),
    )?;
    let text = String::from_utf8_lossy(&raw);
    ensure!(
        text.starts_with("HTTP/1.1 431 "),
        "{}",
        &text[..text.len().min(200)]
    );
    let many: String = (0..120).map(|i| format!("x-{i}: v\r\n")).collect();
    let raw = exchange(
        &host,
        &format!("GET /hello/many HTTP/1.1\r\nhost: x\r\n{many}connection: close\r\n\r\n"),
    )?;
    let text = String::from_utf8_lossy(&raw);
    ensure!(
        text.starts_with("HTTP/1.1 431 "),
        "{}",
        &text[..text.len().min(200)]
    );
    still_serves(&host)
}

#[test]
fn a_response_over_max_response_is_500_with_a_log_line_naming_the_component() -> Result<()> {
    let host = hostile_host_with(TIMEOUT, r#", max_response = "1 MiB""#, &[])?;
    let body = expect(&host, "/nostd/huge?mib=2", 500)?;
    ensure!(body.contains("too large"), "{body:?}");
    host.wait_for_log_line(&[
        "component `nostd` answered a body of 2097152 bytes",
        "max_response",
    ])?;
    // Just under the limit is a response like any other.
    let response = host.get("/nostd/huge?mib=1")?;
    ensure!(response.status == 200 && response.body.len() == 1 << 20);
    nothing_written(&host)?;
    still_serves(&host)
}

#[test]
fn sigterm_lets_an_in_flight_request_finish_then_exits_0() -> Result<()> {
    let mut host = hostile_host()?;
    let n = spins_for(&host, Duration::from_millis(600))?;
    let addr = host.addr;
    let in_flight =
        std::thread::spawn(move || crate::harness::http::get(addr, &format!("/nostd/spin?n={n}")));
    std::thread::sleep(Duration::from_millis(150));
    let status = host.stop_gracefully()?;
    let response = in_flight.join().expect("the client thread panicked")?;
    ensure!(response.status == 200, "{response:?}");
    ensure!(response.text() == format!("spun {n} in 1 steps and 0 rounds\n"));
    ensure!(status.code() == Some(0), "exit status {status}");
    ensure!(
        TcpStream::connect(addr).is_err(),
        "still accepting after the drain"
    );
    Ok(())
}

#[test]
fn a_second_sigterm_exits_at_once_without_waiting_for_in_flight_requests() -> Result<()> {
    // A drain far longer than the test: only the second signal can end the process in time.
    let mut host = hostile_host_with("60s", "", &["--drain", "600"])?;
    let addr = host.addr;
    let in_flight = std::thread::spawn(move || crate::harness::http::get(addr, "/nostd/loop"));
    std::thread::sleep(Duration::from_millis(300));
    let pid = host.pid().to_string();
    for _ in 0..2 {
        let kill = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .context("cannot run `kill`")?;
        ensure!(kill.success());
        std::thread::sleep(Duration::from_millis(200));
    }
    let status = host.wait_for_exit(Duration::from_secs(20))?;
    ensure!(status.code() == Some(1), "exit status {status}");
    ensure!(
        in_flight
            .join()
            .expect("the client thread panicked")
            .is_err(),
        "the looping request got an answer"
    );
    Ok(())
}
