//! The guest's allocator: a bump allocator with size-class free lists.
//!
//! Nebula starts a fresh instance for every request and drops it afterwards, so a request that
//! allocates a little should cost next to nothing: blocks come from a bump pointer over the
//! initial memory after the heap base, and linear memory grows only when a request really needs
//! more (every growth costs the host an `mprotect`, and another one to undo it when the slot is
//! reused). A pure bump allocator frees nothing, though, and a request that allocates and drops a
//! lot (binary-trees builds and drops millions of nodes) ran out of memory. So freed blocks are
//! kept for reuse:
//!
//! - small blocks (up to 64 KiB) are rounded up to a power of two and kept on one free list per
//!   size, popped and pushed in O(1);
//! - large blocks are rounded up to whole 64 KiB pages and kept on one list in address order,
//!   first fit, split when a smaller request takes one; a freed block merges with the free blocks
//!   on either side, so growing buffers (a `Vec` doubling, an image per iteration) leave one
//!   big hole to reuse rather than many too small for the next request;
//! - a block that ends at the bump pointer is given back to it instead (a free large block that
//!   comes to end there too), and the most recent block grows and shrinks in place, which keeps
//!   the usual `Vec`/`String` doubling cheap.
//!
//! The bookkeeping lives in the free blocks themselves; nothing is allocated for it. This module
//! must never call the host (the component imports nothing) and assumes one thread.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::Cell;

const PAGE: usize = 65536;
/// The smallest block: room for the free list's link.
const MIN_SHIFT: u32 = 3;
/// The largest small block, 64 KiB.
const MAX_SMALL_SHIFT: u32 = 16;
const CLASSES: usize = (MAX_SMALL_SHIFT - MIN_SHIFT + 1) as usize;
/// Blocks from the bump pointer are aligned to `min(block size, MAX_ALIGN)`, so any block on a
/// free list suits any request that maps to its list. Requests aligned more strictly than this
/// (rare: SIMD types, page-aligned buffers) are bumped and only given back when on top.
const MAX_ALIGN: usize = 16;

/// Where a request's block comes from; a pure function of the layout, so `dealloc` finds the
/// same answer as `alloc` did.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// Free list `index`, blocks of `MIN << index` bytes.
    Small(usize),
    /// The large list, a block of this many bytes (a multiple of `PAGE`).
    Large(usize),
    /// Over-aligned: bumped at its exact size and alignment, never reused unless on top.
    Odd,
}

impl Kind {
    fn of(layout: Layout) -> Kind {
        if layout.align() > MAX_ALIGN {
            return Kind::Odd;
        }
        let size = layout.size().max(layout.align()).max(1 << MIN_SHIFT);
        if size <= 1 << MAX_SMALL_SHIFT {
            let shift = usize::BITS - (size - 1).leading_zeros();
            Kind::Small((shift - MIN_SHIFT) as usize)
        } else {
            Kind::Large(size.next_multiple_of(PAGE))
        }
    }

    /// The bytes the block occupies.
    fn footprint(self, layout: Layout) -> usize {
        match self {
            Kind::Small(index) => 1 << (index as u32 + MIN_SHIFT),
            Kind::Large(bytes) => bytes,
            Kind::Odd => layout.size(),
        }
    }

    /// The alignment every block of this kind has.
    fn block_align(self, layout: Layout) -> usize {
        match self {
            Kind::Small(index) => (1 << (index as u32 + MIN_SHIFT)).min(MAX_ALIGN),
            Kind::Large(_) => MAX_ALIGN,
            Kind::Odd => layout.align(),
        }
    }
}

/// Linear memory as the allocator sees it: addresses up to `end()` are usable, and `grow` adds
/// pages at the end. The guest's is wasm memory 0; the tests use a native buffer.
pub trait Memory {
    /// The first address the heap may use.
    fn base(&self) -> usize;
    /// One past the last usable address.
    fn end(&self) -> usize;
    /// Adds `pages` pages of 64 KiB; false when the host (its memory cap) says no.
    fn grow(&self, pages: usize) -> bool;
}

/// The allocator over a [`Memory`].
pub struct Heap<M> {
    memory: M,
    /// The bump pointer; 0 until the first allocation (the base is only known at run time).
    top: Cell<usize>,
    /// Heads of the small free lists; a free block's first word links to the next one.
    small: [Cell<usize>; CLASSES],
    /// Head of the large list, in address order; a free large block holds `[next, size]`.
    large: Cell<usize>,
}

// SAFETY: a wasm32 guest without threads has exactly one thread.
unsafe impl<M> Sync for Heap<M> {}

impl<M: Memory> Heap<M> {
    pub const fn new(memory: M) -> Heap<M> {
        Heap {
            memory,
            top: Cell::new(0),
            small: [const { Cell::new(0) }; CLASSES],
            large: Cell::new(0),
        }
    }

    fn top(&self) -> usize {
        match self.top.get() {
            0 => self.memory.base(),
            top => top,
        }
    }

    /// Makes `end` addressable, growing memory if needed; false when it cannot.
    fn ensure(&self, end: usize) -> bool {
        let have = self.memory.end();
        end <= have || self.memory.grow((end - have).div_ceil(PAGE))
    }

    /// A fresh block of `size` bytes aligned to `align` from the bump pointer.
    fn bump(&self, align: usize, size: usize) -> *mut u8 {
        let start = self.top().next_multiple_of(align);
        let Some(end) = start.checked_add(size) else {
            return core::ptr::null_mut();
        };
        if !self.ensure(end) {
            return core::ptr::null_mut();
        }
        self.top.set(end);
        start as *mut u8
    }

    /// Takes a block of `size` bytes from the large list, first fit, putting the rest back.
    ///
    /// # Safety
    /// The large list holds only free blocks of this heap.
    unsafe fn take_large(&self, size: usize) -> Option<*mut u8> {
        let mut link = self.large.as_ptr();
        // SAFETY: `link` is the list head or the first word of a free block on the list.
        let mut block = unsafe { *link };
        while block != 0 {
            let words = block as *mut usize;
            // SAFETY: a free large block starts with `[next, size]`.
            let (next, have) = unsafe { (*words, *words.add(1)) };
            if have >= size {
                // SAFETY: as above; unlink it, and put back what it has beyond `size`.
                unsafe {
                    *link = next;
                    if have > size {
                        self.push_large(block + size, have - size);
                    }
                }
                return Some(block as *mut u8);
            }
            link = words;
            block = next;
        }
        None
    }

    /// Puts a free block on the large list in address order, merged with the free blocks right
    /// below and above it; then gives the highest block back to the bump pointer if it ends there.
    ///
    /// # Safety
    /// `block` is free, owned by this heap, `size` bytes long (at least 16) and 16-aligned.
    unsafe fn push_large(&self, block: usize, size: usize) {
        // SAFETY: every address followed is the list head or a free block on the list, which
        // starts with `[next, size]`; the caller gives a free block big enough for both words.
        unsafe {
            // `link` is the word that points at the first block above `block`.
            let mut link = self.large.as_ptr();
            let mut below = 0;
            while *link != 0 && *link < block {
                below = *link;
                link = below as *mut usize;
            }
            let (mut next, mut size) = (*link, size);
            if next != 0 && block + size == next {
                let above = next as *const usize;
                size += *above.add(1);
                next = *above;
            }
            let words = below as *mut usize;
            if below != 0 && below + *words.add(1) == block {
                *words = next;
                *words.add(1) += size;
            } else {
                let words = block as *mut usize;
                *words = next;
                *words.add(1) = size;
                *link = block;
            }
        }
        self.shrink_top();
    }

    /// Gives the highest free large block back to the bump pointer when it ends there.
    fn shrink_top(&self) {
        let mut link = self.large.as_ptr();
        // SAFETY: as in `push_large`: the head, then free blocks starting with `[next, size]`.
        unsafe {
            while *link != 0 {
                let block = *link;
                let words = block as *const usize;
                if *words == 0 {
                    if block + *words.add(1) == self.top() {
                        *link = 0;
                        self.top.set(block);
                    }
                    return;
                }
                link = block as *mut usize;
            }
        }
    }

    /// # Safety
    /// `GlobalAlloc::alloc`'s contract.
    pub unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let kind = Kind::of(layout);
        match kind {
            Kind::Small(index) => {
                let head = self.small[index].get();
                if head != 0 {
                    // SAFETY: a block on a free list starts with the link to the next one.
                    self.small[index].set(unsafe { *(head as *const usize) });
                    return head as *mut u8;
                }
            }
            Kind::Large(size) => {
                // SAFETY: only `dealloc` and `take_large` put blocks on the list.
                if let Some(block) = unsafe { self.take_large(size) } {
                    return block;
                }
                // A free block that ends at the bump pointer becomes the start of the new one.
                self.shrink_top();
            }
            Kind::Odd => {}
        }
        self.bump(kind.block_align(layout), kind.footprint(layout))
    }

    /// # Safety
    /// `GlobalAlloc::dealloc`'s contract.
    pub unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let kind = Kind::of(layout);
        let start = ptr as usize;
        if start + kind.footprint(layout) == self.top() {
            // The most recent block goes back to the bump pointer, and a free large block
            // that now ends there with it.
            self.top.set(start);
            if matches!(kind, Kind::Large(_)) {
                self.shrink_top();
            }
            return;
        }
        match kind {
            Kind::Small(index) => {
                // SAFETY: the block is ours, free now, and at least one word long.
                unsafe { *(ptr as *mut usize) = self.small[index].get() };
                self.small[index].set(start);
            }
            // SAFETY: the block is ours, free now, a multiple of 64 KiB and 16-aligned.
            Kind::Large(size) => unsafe { self.push_large(start, size) },
            // Lost until the instance ends: over-aligned blocks are rare.
            Kind::Odd => {}
        }
    }

    /// # Safety
    /// `GlobalAlloc::realloc`'s contract.
    pub unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller promises a valid size for the old alignment.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let (old, new) = (Kind::of(layout), Kind::of(new_layout));
        if old == new && old != Kind::Odd {
            // Same block size: nothing to do.
            return ptr;
        }
        let start = ptr as usize;
        if start + old.footprint(layout) == self.top()
            && start.is_multiple_of(new.block_align(new_layout))
        {
            // The most recent block grows or shrinks in place.
            let Some(end) = start.checked_add(new.footprint(new_layout)) else {
                return core::ptr::null_mut();
            };
            if !self.ensure(end) {
                return core::ptr::null_mut();
            }
            self.top.set(end);
            return ptr;
        }
        // SAFETY: a valid layout, as above.
        let moved = unsafe { self.alloc(new_layout) };
        if !moved.is_null() {
            // SAFETY: both blocks are valid for the smaller size and do not overlap; the old
            // block is ours to free.
            unsafe {
                core::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        moved
    }
}

/// Wasm memory 0, after the linker's heap base.
#[cfg(target_arch = "wasm32")]
pub struct Wasm;

#[cfg(target_arch = "wasm32")]
unsafe extern "C" {
    /// Set by the linker: the first address after static data and the shadow stack.
    static __heap_base: u8;
}

#[cfg(target_arch = "wasm32")]
impl Memory for Wasm {
    fn base(&self) -> usize {
        // Only the address of the linker-provided symbol is taken, never its value.
        core::ptr::addr_of!(__heap_base) as usize
    }
    fn end(&self) -> usize {
        core::arch::wasm32::memory_size(0) * PAGE
    }
    fn grow(&self, pages: usize) -> bool {
        core::arch::wasm32::memory_grow(0, pages) != usize::MAX
    }
}

unsafe impl<M: Memory> GlobalAlloc for Heap<M> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's promises.
        unsafe { Heap::alloc(self, layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's promises.
        unsafe { Heap::dealloc(self, ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's promises.
        unsafe { Heap::realloc(self, ptr, layout, new_size) }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use std::vec::Vec;

    /// A native buffer standing in for linear memory, `limit` pages at most.
    struct Arena {
        buf: Vec<u8>,
        pages: Cell<usize>,
        limit: usize,
        grows: Cell<usize>,
    }

    impl Arena {
        fn new(initial: usize, limit: usize) -> Arena {
            Arena {
                buf: std::vec![0; (limit + 1) * PAGE],
                pages: Cell::new(initial),
                limit,
                grows: Cell::new(0),
            }
        }
    }

    impl Memory for Arena {
        fn base(&self) -> usize {
            // Page-aligned, as a linear memory's addresses are from 0; plus a bit of "static data".
            (self.buf.as_ptr() as usize).next_multiple_of(PAGE) + 40
        }
        fn end(&self) -> usize {
            (self.buf.as_ptr() as usize).next_multiple_of(PAGE) + self.pages.get() * PAGE
        }
        fn grow(&self, pages: usize) -> bool {
            if self.pages.get() + pages > self.limit {
                return false;
            }
            self.pages.set(self.pages.get() + pages);
            self.grows.set(self.grows.get() + 1);
            true
        }
    }

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn size_classes_round_up_to_powers_of_two_then_pages() {
        assert_eq!(Kind::of(layout(1, 1)), Kind::Small(0));
        assert_eq!(Kind::of(layout(8, 4)), Kind::Small(0));
        assert_eq!(Kind::of(layout(9, 1)), Kind::Small(1));
        assert_eq!(Kind::of(layout(4, 16)), Kind::Small(1));
        assert_eq!(Kind::of(layout(65536, 8)), Kind::Small(CLASSES - 1));
        assert_eq!(Kind::of(layout(65537, 8)), Kind::Large(2 * PAGE));
        assert_eq!(Kind::of(layout(64, 32)), Kind::Odd);
    }

    #[test]
    fn freed_blocks_are_reused_so_a_churning_request_stays_within_its_cap() {
        // 16 pages: a bump allocator that never frees would need 100,000 × 16 B = 1.5 MiB.
        let heap = Heap::new(Arena::new(1, 16));
        let mut live = Vec::new();
        for round in 0..1000 {
            for _ in 0..100 {
                let p = unsafe { heap.alloc(layout(8, 4)) };
                assert!(!p.is_null(), "ran out of memory in round {round}");
                unsafe { p.cast::<u64>().write(round) };
                live.push(p);
            }
            // Free in allocation order, so the blocks are not on top: they must go to the list.
            for p in live.drain(..) {
                unsafe { heap.dealloc(p, layout(8, 4)) };
            }
        }
        assert!(heap.memory.pages.get() <= 2);
    }

    #[test]
    fn blocks_never_overlap_and_keep_their_contents() {
        let heap = Heap::new(Arena::new(1, 1024));
        let mut blocks: Vec<(*mut u8, Layout, u8)> = Vec::new();
        let mut seed = 12345u32;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        for i in 0..20_000u32 {
            let r = next();
            if r % 3 == 0 && !blocks.is_empty() {
                let (p, l, tag) = blocks.swap_remove(r as usize % blocks.len());
                let bytes = unsafe { core::slice::from_raw_parts(p, l.size()) };
                assert!(
                    bytes.iter().all(|&b| b == tag),
                    "block {p:?} was overwritten"
                );
                unsafe { heap.dealloc(p, l) };
                continue;
            }
            let size = match r % 50 {
                0 => 70_000 + (r as usize % 200_000),
                1..=14 => 1 + r as usize % 4096,
                _ => 1 + r as usize % 64,
            };
            let align = 1 << (r % 6);
            let l = layout(size, align);
            let p = unsafe { heap.alloc(l) };
            assert!(!p.is_null());
            assert!((p as usize).is_multiple_of(align));
            let tag = (i % 251) as u8;
            unsafe { core::ptr::write_bytes(p, tag, size) };
            blocks.push((p, l, tag));
        }
        let mut spans: Vec<(usize, usize)> = blocks
            .iter()
            .map(|(p, l, _)| (*p as usize, *p as usize + l.size()))
            .collect();
        spans.sort();
        for w in spans.windows(2) {
            assert!(w[0].1 <= w[1].0, "blocks overlap: {w:?}");
        }
        for (p, l, tag) in blocks {
            let bytes = unsafe { core::slice::from_raw_parts(p, l.size()) };
            assert!(bytes.iter().all(|&b| b == tag));
        }
    }

    #[test]
    fn the_newest_block_grows_in_place_without_growing_memory() {
        let heap = Heap::new(Arena::new(16, 16));
        let l = layout(16, 1);
        let p = unsafe { heap.alloc(l) };
        let mut size = 16;
        let mut q = p;
        while size < 512 * 1024 {
            q = unsafe { heap.realloc(q, layout(size, 1), size * 2) };
            assert_eq!(q, p, "moved at {size} bytes");
            size *= 2;
        }
        assert_eq!(heap.memory.grows.get(), 0);
        unsafe { heap.dealloc(q, layout(size, 1)) };
        assert_eq!(
            heap.top(),
            p as usize,
            "the top block goes back to the bump pointer"
        );
    }

    #[test]
    fn a_moved_block_keeps_its_bytes_and_frees_the_old_one() {
        let heap = Heap::new(Arena::new(4, 64));
        let a = unsafe { heap.alloc(layout(100, 8)) };
        unsafe { core::ptr::write_bytes(a, 7, 100) };
        let _pin = unsafe { heap.alloc(layout(8, 8)) }; // `a` is no longer on top
        let b = unsafe { heap.realloc(a, layout(100, 8), 1000) };
        assert_ne!(a, b);
        assert!(
            unsafe { core::slice::from_raw_parts(b, 100) }
                .iter()
                .all(|&x| x == 7)
        );
        // The old 128-byte block is on its free list now.
        assert_eq!(unsafe { heap.alloc(layout(120, 8)) }, a);
    }

    #[test]
    fn large_blocks_are_split_and_reused() {
        let heap = Heap::new(Arena::new(1, 64));
        let big = unsafe { heap.alloc(layout(5 * PAGE, 16)) };
        let _pin = unsafe { heap.alloc(layout(8, 8)) };
        unsafe { heap.dealloc(big, layout(5 * PAGE, 16)) };
        let grows = heap.memory.grows.get();
        let a = unsafe { heap.alloc(layout(2 * PAGE, 16)) };
        let b = unsafe { heap.alloc(layout(3 * PAGE - 100, 16)) };
        assert_eq!(
            heap.memory.grows.get(),
            grows,
            "served from the freed block"
        );
        let mut got = [a as usize, b as usize];
        got.sort();
        assert_eq!(got, [big as usize, big as usize + 2 * PAGE]);
    }

    #[test]
    fn freed_neighbours_merge_whatever_order_they_are_freed_in() {
        // Eight large buffers of 2–9 pages side by side, freed in a scrambled order below a
        // block that stays: together they are one hole that a request for all of them fits.
        let heap = Heap::new(Arena::new(1, 4096));
        let sizes: Vec<usize> = (2..=9).map(|n| n * PAGE).collect();
        let blocks: Vec<*mut u8> = sizes
            .iter()
            .map(|&n| unsafe { heap.alloc(layout(n, 16)) })
            .collect();
        let _pin = unsafe { heap.alloc(layout(8, 8)) };
        for i in [3, 0, 6, 1, 7, 4, 2, 5] {
            unsafe { heap.dealloc(blocks[i], layout(sizes[i], 16)) };
        }
        let grows = heap.memory.grows.get();
        let all = unsafe { heap.alloc(layout(44 * PAGE, 16)) };
        assert_eq!(all, blocks[0]);
        assert_eq!(
            heap.memory.grows.get(),
            grows,
            "served from the merged hole"
        );
    }

    #[test]
    fn a_block_freed_between_two_free_ones_joins_them_and_the_top() {
        let heap = Heap::new(Arena::new(1, 64));
        let l = layout(2 * PAGE, 16);
        let [a, b, c] = [(); 3].map(|_| unsafe { heap.alloc(l) });
        let pin = unsafe { heap.alloc(layout(8, 8)) };
        unsafe {
            heap.dealloc(a, l);
            heap.dealloc(c, l);
            heap.dealloc(b, l);
        }
        // One block of 6 pages, at `a`.
        assert_eq!(unsafe { heap.alloc(layout(6 * PAGE, 16)) }, a);
        unsafe { heap.dealloc(a, layout(6 * PAGE, 16)) };
        // With the pin gone, everything above the pin's start... and the free block below it
        // go back to the bump pointer.
        unsafe { heap.dealloc(pin, layout(8, 8)) };
        let big = unsafe { heap.alloc(layout(7 * PAGE, 16)) };
        assert_eq!(
            big, a,
            "the free block that ends at the top starts the new one"
        );
    }

    #[test]
    fn a_refused_growth_is_a_null_pointer() {
        let heap = Heap::new(Arena::new(1, 2));
        assert!(unsafe { heap.alloc(layout(4 * PAGE, 16)) }.is_null());
        assert!(!unsafe { heap.alloc(layout(64, 8)) }.is_null());
    }
}
