//! The etcd key layout: how collections, indexes, counters, versions and large values become
//! byte keys under one namespace, in an order that etcd's key-ordered ranges can walk.
//!
//! Under the namespace `NS/` (collection and index names are `[A-Za-z0-9_-]`, so `/` separates):
//!
//! | key | value | what |
//! |---|---|---|
//! | `NS/v/C/KEY` | tag + bytes | the entry `KEY` of collection `C`: tag 0 then the value inline, or tag 1 then a [`Chunks`] list; for a counter, the `i64` little-endian (no tag) |
//! | `NS/i/C/I/` esc(SORT) `00 01` KEY | empty | position of `KEY` in index `I`; esc writes byte `00` as `00 FF`, so the order of these keys is the order of (SORT, KEY) |
//! | `NS/i/C/value/` be(N) KEY | empty | counter `KEY` = N, in the index `value`; be is the sign-flipped big-endian `i64`, which sorts like the number |
//! | `NS/r/C/I/KEY` | SORT | where `KEY` sits in index `I`, so a put or delete finds the old position |
//! | `NS/ver/C` | empty | rewritten by every transaction that writes `C`: its mod revision is `C`'s version |
//! | `NS/b/HASH` | ≤ 1 MiB | a chunk of a large value, keyed by the BLAKE3 hex of its bytes |

/// Tag byte of an inline value.
pub const INLINE: u8 = 0;
/// Tag byte of a value stored as chunks.
pub const CHUNKED: u8 = 1;

/// Builds the keys of one namespace.
#[derive(Debug, Clone)]
pub struct Keys {
    /// `NS/`
    ns: Vec<u8>,
}

impl Keys {
    pub fn new(namespace: &str) -> Keys {
        let mut ns = namespace.as_bytes().to_vec();
        ns.push(b'/');
        Keys { ns }
    }

    fn join(&self, parts: &[&[u8]]) -> Vec<u8> {
        let mut k = self.ns.clone();
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                k.push(b'/');
            }
            k.extend_from_slice(part);
        }
        k
    }

    /// The namespace itself, `NS/` (a prefix of every key).
    pub fn namespace(&self) -> &[u8] {
        &self.ns
    }

    /// `NS/v/`: the prefix of every collection's entries.
    pub fn entries(&self) -> Vec<u8> {
        self.join(&[b"v", b""])
    }

    /// `NS/v/C/`: the prefix of a collection's entries.
    pub fn values(&self, collection: &str) -> Vec<u8> {
        self.join(&[b"v", collection.as_bytes(), b""])
    }

    pub fn value(&self, collection: &str, key: &str) -> Vec<u8> {
        let mut k = self.values(collection);
        k.extend_from_slice(key.as_bytes());
        k
    }

    /// `NS/i/C/I/`: the prefix of an index's positions.
    pub fn index(&self, collection: &str, index: &str) -> Vec<u8> {
        self.join(&[b"i", collection.as_bytes(), index.as_bytes(), b""])
    }

    /// The position of `key` at `sort` in a declared index.
    pub fn position(&self, collection: &str, index: &str, sort: &[u8], key: &str) -> Vec<u8> {
        let mut k = self.index(collection, index);
        escape_into(sort, &mut k);
        k.extend_from_slice(&[0, 1]);
        k.extend_from_slice(key.as_bytes());
        k
    }

    /// The position of counter `key` = `count` in the index `value`.
    pub fn counted(&self, collection: &str, count: i64, key: &str) -> Vec<u8> {
        let mut k = self.index(collection, "value");
        k.extend_from_slice(&sortable(count));
        k.extend_from_slice(key.as_bytes());
        k
    }

    pub fn reverse(&self, collection: &str, index: &str, key: &str) -> Vec<u8> {
        self.join(&[
            b"r",
            collection.as_bytes(),
            index.as_bytes(),
            key.as_bytes(),
        ])
    }

    pub fn version(&self, collection: &str) -> Vec<u8> {
        self.join(&[b"ver", collection.as_bytes()])
    }

    /// `NS/b/`: the prefix of every chunk.
    pub fn chunks(&self) -> Vec<u8> {
        self.join(&[b"b", b""])
    }

    pub fn chunk(&self, hash: &blake3::Hash) -> Vec<u8> {
        let mut k = self.chunks();
        k.extend_from_slice(hash.to_hex().as_bytes());
        k
    }
}

/// Appends `bytes` with every `00` written as `00 FF`; a position ends with `00 01`, so the
/// escaped sort key never runs into the key and byte order stays (sort, key) order.
pub fn escape_into(bytes: &[u8], out: &mut Vec<u8>) {
    for &b in bytes {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
}

/// Splits the part of a position key after its index prefix into (sort, key).
pub fn split_position(rest: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    let mut sort = Vec::new();
    let mut i = 0;
    while i < rest.len() {
        match (rest[i], rest.get(i + 1)) {
            (0, Some(0xFF)) => {
                sort.push(0);
                i += 2;
            }
            (0, Some(1)) => return Some((sort, &rest[i + 2..])),
            (0, _) => return None,
            (b, _) => {
                sort.push(b);
                i += 1;
            }
        }
    }
    None
}

/// An `i64` as 8 bytes that sort like the number.
pub fn sortable(n: i64) -> [u8; 8] {
    ((n as u64) ^ (1 << 63)).to_be_bytes()
}

/// Splits the part of a counted key after its index prefix into (count, key).
pub fn split_counted(rest: &[u8]) -> Option<(i64, &[u8])> {
    let (n, key) = rest.split_first_chunk::<8>()?;
    Some(((u64::from_be_bytes(*n) ^ (1 << 63)) as i64, key))
}

/// The smallest key greater than every key starting with `prefix`; `None` when there is none
/// (all bytes `FF`), which etcd writes as the range end `\0` ("to the end").
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

/// A large value's chunks: its length and the hash of each chunk, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunks {
    pub len: u64,
    pub hashes: Vec<blake3::Hash>,
}

impl Chunks {
    /// Tag, length (u64 little-endian), then 32 bytes per chunk.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(9 + 32 * self.hashes.len());
        out.push(CHUNKED);
        out.extend_from_slice(&self.len.to_le_bytes());
        for h in &self.hashes {
            out.extend_from_slice(h.as_bytes());
        }
        out
    }

    /// The list after the tag byte.
    pub fn decode(body: &[u8]) -> Option<Chunks> {
        let (len, rest) = body.split_first_chunk::<8>()?;
        if !rest.len().is_multiple_of(32) {
            return None;
        }
        let hashes = rest
            .chunks_exact(32)
            .map(|h| blake3::Hash::from_bytes(h.try_into().expect("32 bytes")))
            .collect();
        Some(Chunks {
            len: u64::from_le_bytes(*len),
            hashes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_sort_like_sort_key_then_key() {
        let k = Keys::new("t");
        let cases: &[(&[u8], &str)] = &[
            (b"", "z"),
            (b"a", "a"),
            (b"a", "b"),
            (b"a\0", "a"),
            (b"a\0\0", "a"),
            (b"a\x01", "a"),
            (b"ab", ""),
            (b"b", "a"),
        ];
        let keys: Vec<Vec<u8>> = cases
            .iter()
            .map(|(s, key)| k.position("c", "i", s, key))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        for ((sort, key), full) in cases.iter().zip(&keys) {
            let rest = &full[k.index("c", "i").len()..];
            let (s, kk) = split_position(rest).expect("splits");
            assert_eq!((s.as_slice(), kk), (*sort, key.as_bytes()));
        }
    }

    #[test]
    fn counts_sort_like_numbers() {
        let ns = [i64::MIN, -5, -1, 0, 1, 7, i64::MAX];
        let bytes: Vec<[u8; 8]> = ns.iter().map(|n| sortable(*n)).collect();
        let mut sorted = bytes.clone();
        sorted.sort();
        assert_eq!(bytes, sorted);
        for n in ns {
            let mut rest = sortable(n).to_vec();
            rest.extend_from_slice(b"key");
            assert_eq!(split_counted(&rest), Some((n, &b"key"[..])));
        }
    }

    #[test]
    fn prefix_end_bounds_every_key_with_the_prefix() {
        assert_eq!(prefix_end(b"ab"), b"ac");
        assert_eq!(prefix_end(b"a\xff"), b"b");
        assert_eq!(prefix_end(b"\xff\xff"), [0]);
    }

    #[test]
    fn chunk_lists_round_trip() {
        let c = Chunks {
            len: 5 << 20,
            hashes: vec![blake3::hash(b"a"), blake3::hash(b"b")],
        };
        let encoded = c.encode();
        assert_eq!(encoded[0], CHUNKED);
        assert_eq!(Chunks::decode(&encoded[1..]), Some(c));
        assert_eq!(Chunks::decode(&encoded[1..encoded.len() - 1]), None);
    }
}
