//! `wasi:random/*` for pure calls: a ChaCha20 stream keyed by everything the call's result may
//! depend on, so the same call gets the same bytes and different calls unrelated ones.
//!
//! The key is BLAKE3 (in key-derivation mode) over the component's digest and the whole input:
//! the request (method, path, route, query, headers, body, captures), every read result and the
//! data a pipeline carried — a superset of what the memo key covers. `get-random-*`,
//! `get-insecure-random-*` and `insecure-seed` each read their own ChaCha20 stream of that key.
//!
//! This module never draws entropy from the operating system: that would make a pure call's
//! output depend on something other than its input.

use chacha20::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use wasmtime::component::HasData;
use wasmtime_wasi::p2::bindings::random::{insecure, insecure_seed, random};

use crate::component::{Input, ReadValue, describe_read_error};

/// Stream numbers of the one key: secure bytes, insecure bytes, the insecure seed.
const SECURE: u64 = 0;
const INSECURE: u64 = 1;
const INSECURE_SEED: u64 = 2;

/// The random answers of one call.
#[derive(Debug)]
pub struct SeededRandom {
    secure: ChaCha20Rng,
    insecure: ChaCha20Rng,
    insecure_seed: (u64, u64),
    /// The most bytes one `get-*-random-bytes` may ask for (what could fit in the guest's memory).
    max_len: u64,
}

/// The [`HasData`] of the random interfaces.
pub struct Seeded;

impl HasData for Seeded {
    type Data<'a> = &'a mut SeededRandom;
}

impl SeededRandom {
    /// The streams for one call of the component with `digest` on `input`.
    pub fn new(digest: &[u8; 32], input: &Input, max_len: u64) -> SeededRandom {
        let key = key(digest, input);
        let stream = |n| {
            let mut rng = ChaCha20Rng::from_seed(key);
            rng.set_stream(n);
            rng
        };
        let mut seed = stream(INSECURE_SEED);
        SeededRandom {
            secure: stream(SECURE),
            insecure: stream(INSECURE),
            insecure_seed: (seed.next_u64(), seed.next_u64()),
            max_len,
        }
    }

    /// A zeroed buffer of `len` bytes to fill, if `len` is within bounds.
    fn buffer(&self, len: u64) -> wasmtime::Result<Vec<u8>> {
        if len > self.max_len {
            wasmtime::bail!(
                "the handler asked for {len} random bytes, more than its memory cap of {} bytes",
                self.max_len
            );
        }
        Ok(vec![0; usize::try_from(len)?])
    }
}

impl random::Host for SeededRandom {
    fn get_random_bytes(&mut self, len: u64) -> wasmtime::Result<Vec<u8>> {
        let mut bytes = self.buffer(len)?;
        self.secure.fill_bytes(&mut bytes);
        Ok(bytes)
    }

    fn get_random_u64(&mut self) -> wasmtime::Result<u64> {
        Ok(self.secure.next_u64())
    }
}

impl insecure::Host for SeededRandom {
    fn get_insecure_random_bytes(&mut self, len: u64) -> wasmtime::Result<Vec<u8>> {
        let mut bytes = self.buffer(len)?;
        self.insecure.fill_bytes(&mut bytes);
        Ok(bytes)
    }

    fn get_insecure_random_u64(&mut self) -> wasmtime::Result<u64> {
        Ok(self.insecure.next_u64())
    }
}

impl insecure_seed::Host for SeededRandom {
    fn insecure_seed(&mut self) -> wasmtime::Result<(u64, u64)> {
        Ok(self.insecure_seed)
    }
}

/// BLAKE3 over the digest and a canonical encoding of `input`: every variable-length field is
/// length-prefixed and every choice tagged, so two different inputs never encode the same.
fn key(digest: &[u8; 32], input: &Input) -> [u8; 32] {
    let mut e = Encoder(blake3::Hasher::new_derive_key(
        "nebula 2025 pure-call random key v1",
    ));
    e.bytes(digest);
    let request = &input.request;
    for text in [
        &request.method,
        &request.path,
        &request.route,
        &request.query,
    ] {
        e.bytes(text.as_bytes());
    }
    e.len(request.headers.len());
    for header in &request.headers {
        e.bytes(header.name.as_bytes());
        e.bytes(header.value.as_bytes());
    }
    e.bytes(&request.body);
    e.len(request.params.len());
    for param in &request.params {
        e.bytes(param.name.as_bytes());
        e.bytes(param.value.as_bytes());
    }
    e.len(input.reads.len());
    for read in &input.reads {
        e.bytes(read.name.as_bytes());
        match &read.value {
            Ok(value) => {
                e.tag(0);
                e.read_value(value);
            }
            Err(error) => {
                e.tag(1);
                // The error's text, as 0.1.0 carried it: keys did not change with 0.2.0.
                e.bytes(describe_read_error(error).as_bytes());
            }
        }
    }
    e.option(input.carried.as_deref());
    *e.0.finalize().as_bytes()
}

struct Encoder(blake3::Hasher);

impl Encoder {
    fn tag(&mut self, tag: u8) {
        self.0.update(&[tag]);
    }

    fn len(&mut self, len: usize) {
        self.0.update(&(len as u64).to_le_bytes());
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.len(bytes.len());
        self.0.update(bytes);
    }

    fn option(&mut self, bytes: Option<&[u8]>) {
        match bytes {
            None => self.tag(0),
            Some(bytes) => {
                self.tag(1);
                self.bytes(bytes);
            }
        }
    }

    fn read_value(&mut self, value: &ReadValue) {
        match value {
            ReadValue::Value(bytes) => {
                self.tag(0);
                self.option(bytes.as_deref());
            }
            ReadValue::Page(page) => {
                self.tag(1);
                self.len(page.entries.len());
                for entry in &page.entries {
                    self.bytes(entry.key.as_bytes());
                    self.bytes(&entry.value);
                }
                self.option(page.next_cursor.as_deref().map(str::as_bytes));
            }
            ReadValue::Number(n) => {
                self.tag(2);
                self.0.update(&n.to_le_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::{Header, Param, ReadError, ReadResult, Request};
    use insecure::Host as _;
    use insecure_seed::Host as _;
    use random::Host as _;

    const DIGEST: [u8; 32] = [7; 32];

    fn input() -> Input {
        Input {
            request: Request {
                method: "GET".into(),
                path: "/random".into(),
                route: "/random".into(),
                query: "n=1".into(),
                headers: vec![Header {
                    name: "accept".into(),
                    value: "*/*".into(),
                }],
                body: b"body".to_vec(),
                params: vec![Param {
                    name: "id".into(),
                    value: "1".into(),
                }],
            },
            reads: vec![ReadResult {
                name: "count".into(),
                value: Ok(ReadValue::Number(3)),
            }],
            carried: None,
        }
    }

    fn bytes_for(input: &Input) -> Vec<u8> {
        SeededRandom::new(&DIGEST, input, 1 << 20)
            .get_random_bytes(64)
            .unwrap()
    }

    #[test]
    fn the_same_call_gets_the_same_bytes() {
        let mut a = SeededRandom::new(&DIGEST, &input(), 1 << 20);
        let mut b = SeededRandom::new(&DIGEST, &input(), 1 << 20);
        assert_eq!(
            a.get_random_bytes(1000).unwrap(),
            b.get_random_bytes(1000).unwrap()
        );
        assert_eq!(a.get_random_u64().unwrap(), b.get_random_u64().unwrap());
        assert_eq!(a.insecure_seed().unwrap(), b.insecure_seed().unwrap());
    }

    #[test]
    fn every_part_of_the_input_changes_the_bytes() {
        let base = bytes_for(&input());
        let mut changes: Vec<Input> = Vec::new();
        let mut change = |f: fn(&mut Input)| {
            let mut i = input();
            f(&mut i);
            changes.push(i);
        };
        change(|i| i.request.method = "POST".into());
        change(|i| i.request.path = "/random/".into());
        change(|i| i.request.route = "/{*any}".into());
        change(|i| i.request.query = "n=2".into());
        change(|i| i.request.headers[0].value = "text/html".into());
        change(|i| i.request.headers.clear());
        change(|i| i.request.body.push(b'!'));
        change(|i| i.request.params[0].value = "2".into());
        change(|i| i.reads[0].value = Ok(ReadValue::Number(4)));
        change(|i| i.reads[0].value = Err(ReadError::NotGranted("kv".into())));
        change(|i| i.carried = Some(Vec::new()));
        // Moving bytes between fields is a different input too (fields are length-prefixed).
        change(|i| {
            i.request.method = "GE".into();
            i.request.path = "T/random".into();
        });
        for (n, changed) in changes.iter().enumerate() {
            assert_ne!(bytes_for(changed), base, "change {n} kept the same bytes");
        }
        let other_component = SeededRandom::new(&[8; 32], &input(), 1 << 20)
            .get_random_bytes(64)
            .unwrap();
        assert_ne!(other_component, base);
    }

    #[test]
    fn sixty_four_kib_hold_no_repeated_eight_byte_block() {
        let bytes = SeededRandom::new(&DIGEST, &input(), 1 << 20)
            .get_random_bytes(64 << 10)
            .unwrap();
        let mut blocks: Vec<&[u8]> = bytes.chunks(8).collect();
        let n = blocks.len();
        blocks.sort_unstable();
        blocks.dedup();
        assert_eq!(blocks.len(), n);
    }

    #[test]
    fn each_function_reads_its_own_stream() {
        let mut r = SeededRandom::new(&DIGEST, &input(), 1 << 20);
        let secure = r.get_random_bytes(16).unwrap();
        let insecure = r.get_insecure_random_bytes(16).unwrap();
        let (a, b) = r.insecure_seed().unwrap();
        assert_ne!(secure, insecure);
        assert_ne!(secure[..8], a.to_le_bytes());
        assert_ne!(insecure[..8], b.to_le_bytes());
        // Interleaving calls does not change what one stream gives.
        let mut fresh = SeededRandom::new(&DIGEST, &input(), 1 << 20);
        let _ = fresh.get_insecure_random_u64().unwrap();
        assert_eq!(fresh.get_random_bytes(16).unwrap(), secure);
    }

    #[test]
    fn asking_for_more_than_the_memory_cap_is_an_error() {
        let mut r = SeededRandom::new(&DIGEST, &input(), 1024);
        assert!(r.get_random_bytes(1024).is_ok());
        let err = r.get_insecure_random_bytes(1025).unwrap_err();
        assert!(format!("{err}").contains("memory cap"), "{err}");
    }
}
