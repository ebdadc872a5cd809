//! Write `nebula:pure` handlers in `no_std` Rust: the WIT types and export macro, the helpers
//! every handler needs, and what std would supply (allocator, panic handler, `cabi_realloc`).
//!
//! ```
//! // src/lib.rs of a handler crate (`crate-type = ["cdylib"]`), which starts with #![no_std]
//! use nebula_guest::*;
//!
//! struct Hello;
//!
//! impl Guest for Hello {
//!     fn handle(input: Input) -> Outcome {
//!         let name = param(&input.request, "name").unwrap_or("world");
//!         Reply::new(200)
//!             .header("cache-control", "no-cache")
//!             .body("text/plain; charset=utf-8", format!("Hello, {name}!\n"))
//!             .done()
//!     }
//! }
//!
//! export_handler!(Hello);
//! # fn main() {
//! #     let mut input = testing::input(testing::request("GET", "/hello/ada"));
//! #     input.request.params.push(Param { name: "name".into(), value: "ada".into() });
//! #     let Outcome::Respond(RespondWith { response, .. }) = Hello::handle(input) else { panic!() };
//! #     assert_eq!(response.body, b"Hello, ada!\n");
//! # }
//! ```
//!
//! What is here, all re-exported at the root so that `use nebula_guest::*;` is enough:
//!
//! 1. the WIT types of `nebula:pure/types` ([`Input`], [`Outcome`], [`Request`], …), [`Guest`]
//!    and [`export_handler!`];
//! 2. [`request`]: [`param`], [`header`], [`query`], [`not_modified`], [`wants_html`];
//! 3. [`reads`]: results by name ([`read`], [`value`], [`number`], [`page`]) and the reads of an
//!    [`need`] (`reads::get`, `reads::list`, …);
//! 4. [`reply`]: [`Reply`], [`respond`], [`pass`], [`need`]; [`write`]: `write::put`,
//!    `write::delete`, `write::add`;
//! 5. [`json`]: JSON output without serde; [`query_param`] and [`percent_decode`];
//! 6. [`testing`]: inputs for native unit tests;
//! 7. on wasm32: a bump allocator (each instance serves one request), and a panic handler that
//!    leaves the message where the host finds it after the trap (see `panic.rs`).
//!
//! Handlers are `no_std` so that the component imports nothing: Rust's std on wasm32-wasip2
//! pulls in `wasi:cli/environment`, `exit` and stderr for its panic machinery even when a
//! handler does no I/O. Going through the helpers rather than the WIT records means a future
//! version of the world changes this crate, not the handlers.
//!
//! `core::fmt::Write` is re-exported anonymously, so `write!` into a `String` works with the
//! glob import alone, and `Write` still names the WIT write. A module that imports
//! `core::fmt::Write` by name as well still compiles (the explicit import wins); it then names
//! the WIT type `nebula_guest::Write`.
//!
//! ```
//! use nebula_guest::*;
//!
//! let mut body = String::new();
//! write!(body, "{} votes", 3).unwrap();
//! let vote: Write = write::add("votes", "abc", 1);
//! # assert_eq!(body, "3 votes");
//! # let _ = vote;
//! ```
//!
//! ```
//! use core::fmt::Write;
//! use nebula_guest::*;
//!
//! let mut body = String::new();
//! write!(body, "{} votes", 3).unwrap();
//! let vote: nebula_guest::Write = write::add("votes", "abc", 1);
//! # let _ = vote;
//! ```
#![no_std]

extern crate alloc;

pub mod json;
mod panic;
mod query;
pub mod reads;
pub mod reply;
pub mod request;
pub mod testing;
pub mod write;

pub use alloc::{borrow::ToOwned, format, string::String, string::ToString, vec, vec::Vec};
pub use core::fmt::Write as _;
pub use query::{decode as percent_decode, percent_encode, query_pairs, query_param};
pub use reads::{number, page, read, value};
pub use reply::{Reply, need, pass, respond};
pub use request::{header, not_modified, param, query, wants_html};

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

#[cfg(any(target_arch = "wasm32", test))]
mod heap;

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: heap::Heap<heap::Wasm> = heap::Heap::new(heap::Wasm);

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
