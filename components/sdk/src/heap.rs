//! The guest's allocator: a bump allocator over linear memory.
//!
//! Nebula starts a fresh instance for every request and drops it afterwards, so memory is never
//! reused across requests and a general-purpose allocator's bookkeeping is wasted work. Worse,
//! dlmalloc asks for new pages with `memory.grow` even when the initial memory has room, and every
//! growth costs the host an `mprotect` (and another one to undo it when the slot is reused).
//! This allocator hands out the initial memory after the heap base first and grows only when a
//! request really needs more. Freeing or growing the most recent allocation is done in place, which
//! keeps the common `Vec`/`String` growth patterns from wasting memory.

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32;
use core::cell::Cell;

const PAGE: usize = 65536;

pub struct Bump {
    next: Cell<usize>,
}

// SAFETY: a wasm32 guest without threads has exactly one thread.
unsafe impl Sync for Bump {}

unsafe extern "C" {
    /// Set by the linker: the first address after static data and the shadow stack.
    static __heap_base: u8;
}

impl Bump {
    pub const fn new() -> Bump {
        Bump { next: Cell::new(0) }
    }

    fn top(&self) -> usize {
        match self.next.get() {
            // Only the address of the linker-provided symbol is taken, never its value.
            0 => core::ptr::addr_of!(__heap_base) as usize,
            next => next,
        }
    }

    /// Makes `end` addressable, growing linear memory if needed; false when the host says no.
    fn ensure(end: usize) -> bool {
        let size = wasm32::memory_size(0) * PAGE;
        if end <= size {
            return true;
        }
        let pages = (end - size).div_ceil(PAGE);
        wasm32::memory_grow(0, pages) != usize::MAX
    }
}

impl Default for Bump {
    fn default() -> Self {
        Bump::new()
    }
}

unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let start = self.top().next_multiple_of(layout.align());
        let Some(end) = start.checked_add(layout.size()) else {
            return core::ptr::null_mut();
        };
        if !Bump::ensure(end) {
            return core::ptr::null_mut();
        }
        self.next.set(end);
        start as *mut u8
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // Only the most recent allocation can be given back.
        if ptr as usize + layout.size() == self.top() {
            self.next.set(ptr as usize);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let start = ptr as usize;
        if start + layout.size() == self.top() {
            // The most recent allocation grows or shrinks in place.
            let Some(end) = start.checked_add(new_size) else {
                return core::ptr::null_mut();
            };
            if !Bump::ensure(end) {
                return core::ptr::null_mut();
            }
            self.next.set(end);
            return ptr;
        }
        if new_size <= layout.size() {
            return ptr;
        }
        // SAFETY: same alignment as the block being moved, as GlobalAlloc::realloc requires.
        let new =
            unsafe { self.alloc(Layout::from_size_align_unchecked(new_size, layout.align())) };
        if !new.is_null() {
            // SAFETY: both blocks are valid for `layout.size()` bytes and do not overlap.
            unsafe { core::ptr::copy_nonoverlapping(ptr, new, layout.size()) };
        }
        new
    }
}
