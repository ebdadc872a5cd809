//! Guest-side support for `nebula:pure` handlers written in Rust.
//!
//! Handlers are `no_std` so that the component imports nothing: Rust's std on wasm32-wasip2
//! pulls in `wasi:cli/environment`, `exit` and stderr for its panic machinery even when a
//! handler does no I/O. This crate supplies what std would: an allocator (a bump allocator with free lists: each instance serves one request) and a
//! panic handler.
#![no_std]

extern crate alloc;

pub mod json;
mod query;

pub use alloc::{borrow::ToOwned, format, string::String, string::ToString, vec, vec::Vec};
pub use query::{decode as percent_decode, query_param};

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "nebula:pure/handler",
        pub_export_macro: true,
        default_bindings_module: "nebula_guest::bindings",
    });
}

pub use bindings::Guest;
pub use bindings::export as export_handler;
pub use bindings::nebula::pure::types::*;

/// The outcome "answer `status` with this body and no writes", the common case.
pub fn respond(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Outcome {
    let headers = vec![Header {
        name: "content-type".to_string(),
        value: content_type.to_string(),
    }];
    let response = Response {
        status,
        headers,
        body: body.into(),
    };
    Outcome::Respond((response, Vec::new()))
}

#[cfg(any(target_arch = "wasm32", test))]
mod heap;

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: heap::Heap<heap::Wasm> = heap::Heap::new(heap::Wasm);

/// A panic traps the instance; the host answers 500 and logs the trap.
#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

/// The canonical ABI's allocation hook. On wasm32-wasip2 wit-bindgen expects wasi-libc to
/// provide it; a `no_std` handler links no libc, so it is defined here on Rust's allocator.
///
/// # Safety
/// Called by the host only, with the canonical ABI's contract: `old_ptr`/`old_len`/`align`
/// describe a block this function returned before (or `old_len == 0`).
#[cfg(all(target_arch = "wasm32", target_env = "p2"))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cabi_realloc(
    old_ptr: *mut u8,
    old_len: usize,
    align: usize,
    new_len: usize,
) -> *mut u8 {
    use alloc::alloc::{Layout, alloc, realloc};
    if new_len == 0 {
        return align as *mut u8;
    }
    // SAFETY: the canonical ABI passes a power-of-two alignment and sizes it allocated itself.
    let ptr = unsafe {
        if old_len == 0 {
            alloc(Layout::from_size_align_unchecked(new_len, align))
        } else {
            realloc(
                old_ptr,
                Layout::from_size_align_unchecked(old_len, align),
                new_len,
            )
        }
    };
    if ptr.is_null() {
        core::arch::wasm32::unreachable();
    }
    ptr
}

/// `memcmp`, which LLVM calls for slice and string comparisons. On wasm32-wasip2 it normally
/// comes from wasi-libc; a `no_std` handler links no libc (memcpy and memset lower to bulk
/// memory instructions, but comparisons do not).
///
/// # Safety
/// `a` and `b` must be valid for reads of `n` bytes (the C contract).
#[cfg(all(target_arch = "wasm32", target_env = "p2"))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: the caller promises `n` readable bytes behind each pointer.
    let (a, b) = unsafe {
        (
            core::slice::from_raw_parts(a, n),
            core::slice::from_raw_parts(b, n),
        )
    };
    // An explicit loop over bytes: `a.cmp(b)` would call memcmp again.
    let mut i = 0;
    while i < n {
        if a[i] != b[i] {
            return i32::from(a[i]) - i32::from(b[i]);
        }
        i += 1;
    }
    0
}

/// `bcmp`: like `memcmp`, but only whether the bytes differ (LLVM uses it for `==` on slices).
///
/// # Safety
/// As for [`memcmp`].
#[cfg(all(target_arch = "wasm32", target_env = "p2"))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: forwarded with the caller's promise.
    unsafe { memcmp(a, b, n) }
}
