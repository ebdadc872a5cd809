//! The panic handler: a panic traps the instance (the host answers 500), but first its message
//! is left in linear memory in a record the host finds after the trap and puts in its log.
//!
//! This keeps the handler pure and the world unchanged: no import to call, just bytes the host
//! reads from the dead instance's memory (wasmtime keeps it reachable from the trap's core dump).
//! The record, at any address, little-endian:
//!
//! | bytes | what |
//! |---|---|
//! | 16 | [`MAGIC`], `nebula:panic:v1` and a NUL |
//! | 4 | `len`, the message's length in bytes (at most [`CAPACITY`]) |
//! | 4 | `!len`, so that a stray copy of the magic is not taken for a record |
//! | `len` | the message, UTF-8: `panicked at FILE:LINE:COLUMN: MESSAGE`, cut at [`CAPACITY`] |
//!
//! The host's reader lives in `host/src/component/panic.rs`; the two must agree on this table.

#[cfg(any(target_arch = "wasm32", test))]
use core::fmt;

/// Starts a panic record.
#[cfg_attr(
    not(target_arch = "wasm32"),
    expect(dead_code, reason = "only the wasm32 panic handler writes records")
)]
pub const MAGIC: [u8; 16] = *b"nebula:panic:v1\0";
/// The longest message kept; longer ones are cut (on a character boundary).
#[cfg_attr(
    not(target_arch = "wasm32"),
    expect(dead_code, reason = "only the wasm32 panic handler writes records")
)]
pub const CAPACITY: usize = 1000;

/// Formats into a fixed buffer, dropping what does not fit: a panic handler must not allocate
/// (the panic may be an allocation failure).
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) struct Cursor<'a> {
    pub(crate) buf: &'a mut [u8],
    pub(crate) len: usize,
}

#[cfg(any(target_arch = "wasm32", test))]
impl fmt::Write for Cursor<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.buf.len() - self.len;
        let mut take = s.len().min(room);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        self.buf[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        Ok(())
    }
}

/// `panicked at FILE:LINE:COLUMN: MESSAGE`, on one line when the message has one.
#[cfg(target_arch = "wasm32")]
fn describe(info: &core::panic::PanicInfo<'_>, out: &mut impl fmt::Write) {
    let _ = match info.location() {
        Some(at) => write!(out, "panicked at {at}: {}", info.message()),
        None => write!(out, "panicked: {}", info.message()),
    };
}

#[cfg(target_arch = "wasm32")]
mod record {
    use super::{CAPACITY, Cursor, MAGIC};

    #[repr(C)]
    struct Record {
        magic: [u8; 16],
        len: u32,
        check: u32,
        message: [u8; CAPACITY],
    }

    /// Zeroed (in .bss, so the magic is only in memory once a panic wrote it).
    static mut RECORD: Record = Record {
        magic: [0; 16],
        len: 0,
        check: 0,
        message: [0; CAPACITY],
    };

    #[panic_handler]
    fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
        // SAFETY: a wasm32 guest has one thread, and the panic handler runs once: nothing else
        // holds a reference to RECORD.
        let record = unsafe { &mut *core::ptr::addr_of_mut!(RECORD) };
        let mut cursor = Cursor {
            buf: &mut record.message,
            len: 0,
        };
        super::describe(info, &mut cursor);
        let len = cursor.len as u32;
        // The trap ends the instance right after: keep the compiler from dropping these stores
        // as dead, and write the magic last.
        core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
        // SAFETY: plain stores into the exclusively held record.
        unsafe {
            core::ptr::write_volatile(&mut record.len, len);
            core::ptr::write_volatile(&mut record.check, !len);
            core::ptr::write_volatile(&mut record.magic, MAGIC);
        }
        core::arch::wasm32::unreachable()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write;

    #[test]
    fn cuts_long_messages_on_a_character_boundary() {
        let mut buf = [0u8; 8];
        let mut cursor = Cursor {
            buf: &mut buf,
            len: 0,
        };
        write!(cursor, "abcdefg{}", "é!").unwrap();
        // "é" is two bytes and only one is left: it is dropped whole.
        assert_eq!(&cursor.buf[..cursor.len], b"abcdefg");
        write!(cursor, "more").unwrap();
        assert_eq!(cursor.len, 8);
    }
}
