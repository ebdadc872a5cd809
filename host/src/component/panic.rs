//! Why a guest panicked: after a trap, the record that `nebula-guest`'s panic handler left in
//! linear memory (format in `components/sdk/src/panic.rs`), so the 500's log line names the
//! panic instead of only "`unreachable` executed".
//!
//! The handler stays pure and the world unchanged: the guest only writes bytes into its own
//! memory before it traps. wasmtime hands the trapped store's memories to us in the core dump it
//! attaches to the error (`Config::coredump_on_trap`). This module only reads them: it never
//! calls into the guest, and it keeps the core dump itself out of log lines.

use wasmtime::{AsContext, WasmCoreDump};

/// Starts a record; `nebula:panic:v1` and a NUL.
const MAGIC: &[u8; 16] = b"nebula:panic:v1\0";
/// The longest message a guest writes.
const CAPACITY: usize = 1000;

/// The guest's panic message, if the call trapped after a `nebula-guest` panic handler ran.
pub(crate) fn message(error: &wasmtime::Error, store: impl AsContext) -> Option<String> {
    let dump = error.downcast_ref::<WasmCoreDump>()?;
    let store = store.as_context();
    dump.memories()
        .iter()
        .find_map(|memory| find_record(memory.data(&store)))
}

/// The error chain on one line, as `{error:#}` prints it, without the core dump wasmtime
/// attached (a multi-line list of the store's instances and memories, of no use in a log line).
pub(crate) fn render(error: &wasmtime::Error) -> String {
    // anyhow cannot downcast a link of the chain to its context type, so the core dump's layer
    // is told by the first words of its Display.
    error
        .chain()
        .map(ToString::to_string)
        .filter(|link| !link.starts_with("wasm coredump generated"))
        .collect::<Vec<_>>()
        .join(": ")
}

/// Scans `memory` for a record: the magic, then `len` and `!len` (little-endian `u32`s) and
/// `len` bytes of message. The check word keeps a stray copy of the magic from counting.
fn find_record(memory: &[u8]) -> Option<String> {
    let mut from = 0;
    // memchr's search, not a naive one: after a memory bomb the memory is the cap's size, and
    // this runs before the 500 is answered.
    while let Some(found) = memchr::memmem::find(&memory[from..], MAGIC) {
        let at = from + found + MAGIC.len();
        from += found + 1;
        let word = |i: usize| {
            let bytes = memory.get(at + i..at + i + 4)?;
            Some(u32::from_le_bytes(bytes.try_into().ok()?))
        };
        let (Some(len), Some(check)) = (word(0), word(4)) else {
            continue;
        };
        if check != !len || len as usize > CAPACITY {
            continue;
        }
        let message = memory.get(at + 8..at + 8 + len as usize)?;
        return Some(String::from_utf8_lossy(message).into_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(message: &str) -> Vec<u8> {
        let len = message.len() as u32;
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&len.to_le_bytes());
        bytes.extend_from_slice(&(!len).to_le_bytes());
        bytes.extend_from_slice(message.as_bytes());
        bytes
    }

    #[test]
    fn finds_a_record_anywhere_in_memory() {
        let mut memory = vec![0u8; 4096];
        let record = record("panicked at src/lib.rs:3:5: boom");
        memory[1000..1000 + record.len()].copy_from_slice(&record);
        assert_eq!(
            find_record(&memory).as_deref(),
            Some("panicked at src/lib.rs:3:5: boom")
        );
    }

    #[test]
    fn skips_a_stray_magic_without_its_check_word() {
        // The magic as a constant in the guest's data, followed by unrelated bytes.
        let mut memory = MAGIC.to_vec();
        memory.extend_from_slice(&[5, 0, 0, 0, 9, 9, 9, 9, b'h', b'e', b'l', b'l', b'o']);
        assert_eq!(find_record(&memory), None);
        memory.extend_from_slice(&record("the real one"));
        assert_eq!(find_record(&memory).as_deref(), Some("the real one"));
    }

    #[test]
    fn refuses_a_length_past_the_capacity_or_the_memory() {
        let mut long = MAGIC.to_vec();
        let len = CAPACITY as u32 + 1;
        long.extend_from_slice(&len.to_le_bytes());
        long.extend_from_slice(&(!len).to_le_bytes());
        long.extend_from_slice(&vec![b'x'; CAPACITY + 1]);
        assert_eq!(find_record(&long), None);
        let mut cut = record("cut short");
        cut.truncate(cut.len() - 3);
        assert_eq!(find_record(&cut), None);
        assert_eq!(find_record(b"nebula:pan"), None);
    }
}
