//! Rate limits per client address: the generic cell rate algorithm (GCRA, as in ATM's traffic
//! policing and many HTTP limiters). Each client has one number, its theoretical arrival time;
//! `requests` per `per` are allowed with bursts of up to `requests`, and a refusal says exactly
//! how long to wait (RFC 6585 section 4: 429 Too Many Requests, with `Retry-After`).
//!
//! No timers and no periodic work (an idle host stays idle): stale entries are dropped when the
//! table is full and a new client arrives. IPv6 clients are counted per /64, the block one
//! subscriber usually gets, so that rotating addresses within it does not reset the count.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::manifest::RateLimit;
use crate::reply::Reply;

/// Clients remembered per route. A flood from more addresses than this is refused as a whole
/// until entries expire, rather than letting the table grow without bound.
const MAX_CLIENTS: usize = 65_536;

#[derive(Debug)]
pub(super) struct Limiter {
    limit: RateLimit,
    /// Time between requests at the sustained rate: `per / requests`.
    interval: Duration,
    /// How far ahead of now a client's arrival time may run: a burst of `requests`.
    tolerance: Duration,
    clients: Mutex<HashMap<IpAddr, Instant>>,
}

impl Limiter {
    pub(super) fn new(limit: RateLimit) -> Limiter {
        let interval = limit.per / limit.requests.max(1);
        Limiter {
            limit,
            interval,
            tolerance: limit.per.saturating_sub(interval),
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request from `peer` at `now`; `Err` is the 429 to send.
    pub(super) fn admit(&self, peer: IpAddr, now: Instant) -> Result<(), Reply> {
        let key = client_key(peer);
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if !clients.contains_key(&key) && clients.len() >= MAX_CLIENTS {
            // An entry whose arrival time has passed is the same as no entry: drop those.
            clients.retain(|_, tat| *tat > now);
            if clients.len() >= MAX_CLIENTS {
                return Err(self.refuse(self.interval));
            }
        }
        let tat = clients.get(&key).copied().unwrap_or(now).max(now);
        let ahead = tat - now;
        if ahead > self.tolerance {
            return Err(self.refuse(ahead - self.tolerance));
        }
        clients.insert(key, tat + self.interval);
        Ok(())
    }

    fn refuse(&self, wait: Duration) -> Reply {
        // Whole seconds, rounded up: a client that waits that long is let in.
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let seconds = seconds.max(1);
        let mut reply = Reply::text(
            429,
            &format!(
                "too many requests: at most {} per {} from one address; try again in {seconds} s",
                self.limit.requests,
                human(self.limit.per)
            ),
        );
        reply
            .headers
            .push(("retry-after".to_owned(), seconds.to_string()));
        reply
    }
}

/// IPv4 addresses count alone; IPv6 ones by their /64 (IPv4-mapped ones as IPv4).
fn client_key(peer: IpAddr) -> IpAddr {
    match peer {
        IpAddr::V4(_) => peer,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

fn human(per: Duration) -> String {
    let secs = per.as_secs();
    match secs {
        60 => "minute".to_owned(),
        3600 => "hour".to_owned(),
        s if s % 60 == 0 => format!("{} minutes", s / 60),
        1 => "second".to_owned(),
        s => format!("{s} seconds"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(requests: u32, per_secs: u64) -> Limiter {
        Limiter::new(RateLimit {
            requests,
            per: Duration::from_secs(per_secs),
        })
    }

    fn retry_after(reply: &Reply) -> u64 {
        let (_, v) = reply
            .headers
            .iter()
            .find(|(n, _)| n == "retry-after")
            .expect("a 429 has Retry-After");
        v.parse().expect("whole seconds")
    }

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn lets_a_burst_through_then_refuses_with_the_exact_wait() {
        let l = limiter(10, 60);
        let t0 = Instant::now();
        for i in 0..10 {
            assert!(l.admit(A, t0).is_ok(), "request {i} of the burst");
        }
        let refused = l.admit(A, t0).unwrap_err();
        assert_eq!(refused.status, 429);
        assert_eq!(
            retry_after(&refused),
            6,
            "one request per 6 s at 10 per minute"
        );
        assert!(
            String::from_utf8_lossy(&refused.body).contains("at most 10 per minute"),
            "{:?}",
            refused.body
        );
        // Another address has its own allowance.
        assert!(l.admit(B, t0).is_ok());
        // After the wait it says, the client gets exactly one more.
        let later = t0 + Duration::from_secs(6);
        assert!(l.admit(A, later).is_ok());
        assert!(l.admit(A, later).is_err());
    }

    #[test]
    fn refills_at_the_sustained_rate() {
        let l = limiter(2, 10);
        let t0 = Instant::now();
        assert!(l.admit(A, t0).is_ok() && l.admit(A, t0).is_ok());
        assert!(l.admit(A, t0 + Duration::from_secs(4)).is_err());
        assert!(l.admit(A, t0 + Duration::from_secs(5)).is_ok());
        assert!(l.admit(A, t0 + Duration::from_secs(20)).is_ok());
        assert!(l.admit(A, t0 + Duration::from_secs(20)).is_ok());
        assert!(l.admit(A, t0 + Duration::from_secs(20)).is_err());
    }

    #[test]
    fn counts_ipv6_clients_per_64_block() {
        let l = limiter(1, 60);
        let t0 = Instant::now();
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_block: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other_block: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(l.admit(one, t0).is_ok());
        assert!(l.admit(same_block, t0).is_err());
        assert!(l.admit(other_block, t0).is_ok());
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert!(l.admit(A, t0).is_ok());
        assert!(l.admit(mapped, t0).is_err(), "IPv4-mapped counts as IPv4");
    }

    #[test]
    fn a_full_table_forgets_expired_clients_first() {
        let l = limiter(1, 1);
        let t0 = Instant::now();
        {
            let mut clients = l.clients.lock().unwrap();
            for i in 0..MAX_CLIENTS {
                let ip = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i as u32));
                clients.insert(ip, t0 + Duration::from_secs(1));
            }
        }
        assert!(l.admit(A, t0).is_err(), "full of live clients: refused");
        assert!(
            l.admit(A, t0 + Duration::from_secs(2)).is_ok(),
            "expired ones make room"
        );
        assert_eq!(l.clients.lock().unwrap().len(), 1);
    }
}
