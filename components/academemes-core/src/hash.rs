//! Content hashes for ids and ETags: FNV-1a (64-bit) finished with the SplitMix64 mixer, so that
//! every output bit depends on every input bit. Not cryptographic; ids and ETags need only to
//! differ when their inputs differ.

use alloc::string::String;

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// An incremental hasher: feed it byte strings with [`Hasher::write`], then [`Hasher::finish`].
#[derive(Debug, Clone)]
pub struct Hasher(u64);

impl Default for Hasher {
    fn default() -> Self {
        Hasher(OFFSET)
    }
}

impl Hasher {
    pub fn write(&mut self, bytes: &[u8]) -> &mut Self {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(PRIME);
        }
        self
    }

    /// A field followed by a separator, so that ("ab", "c") and ("a", "bc") hash differently.
    pub fn field(&mut self, bytes: &[u8]) -> &mut Self {
        self.write(&(bytes.len() as u64).to_le_bytes()).write(bytes)
    }

    pub fn finish(&self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The hash of one byte string.
pub fn hash(bytes: &[u8]) -> u64 {
    Hasher::default().write(bytes).finish()
}

/// 16 lowercase hex digits.
pub fn hex(value: u64) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    (0..16)
        .rev()
        .map(|i| char::from(DIGITS[((value >> (i * 4)) & 15) as usize]))
        .collect()
}

/// 12 characters of RFC 4648 base32, lowercased (`a-z`, `2-7`): the top 60 bits of `value`.
/// Short enough for a URL, and no characters that need escaping anywhere.
pub fn base32_12(value: u64) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    (0..12)
        .map(|i| char::from(ALPHABET[((value >> (59 - i * 5)) & 31) as usize]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_fields() {
        let a = Hasher::default().field(b"ab").field(b"c").finish();
        let b = Hasher::default().field(b"a").field(b"bc").finish();
        assert_ne!(a, b);
    }

    #[test]
    fn renders_hex_and_base32() {
        assert_eq!(hex(0x0123_4567_89ab_cdef), "0123456789abcdef");
        assert_eq!(base32_12(0), "aaaaaaaaaaaa");
        assert_eq!(base32_12(u64::MAX), "777777777777");
        let id = base32_12(hash(b"reviewer 2"));
        assert_eq!(id.len(), 12);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
        );
    }
}
