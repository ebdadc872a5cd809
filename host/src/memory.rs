//! The host's own heap: how the allocator is set up at start, and giving freed memory back to the
//! OS when load goes down (the memo's sweeper, a quiet spell, components unloading).
//!
//! glibc's malloc, left alone, keeps memory the host no longer uses: each thread that allocates
//! gets an arena of its own (up to 8 per core), freed blocks stay in their arena for reuse, and
//! after a large buffer is freed it raises its threshold for serving large blocks from fresh
//! mappings, so later request bodies and images land in the arenas and stay there. Measured on
//! Academemes (120 image uploads, 8 at a time, release build): resident anonymous memory 7 s after
//! the uploads was 60 MB as glibc comes and 51 MB with the two settings below; the peak fell
//! from 126 to 106 MB.

/// Sets the allocator up for a host whose memory should follow its load: two arenas, and blocks
/// of 128 KiB and more in mappings of their own, unmapped when freed.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[expect(unsafe_code, reason = "glibc's mallopt has no safe binding")]
    // SAFETY: `mallopt` only changes glibc's own tunables, under its own lock; called before the
    // runtime's threads start, with parameters glibc documents.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        // Setting it also stops glibc from raising it after each large free.
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 << 10);
    }
}

/// Gives freed heap memory back to the OS, so the host's resident memory falls back instead of
/// keeping the high-water mark of its busy period.
pub fn give_back() {
    // SAFETY: `malloc_trim` only walks glibc's own heap under its own lock; it has no
    // preconditions and returns whether memory was released.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[expect(unsafe_code, reason = "glibc's malloc_trim has no safe binding")]
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Everything is unloaded (`--idle-unload`): gives freed heap back, and asks the kernel to page
/// out the read-only file pages the host has mapped (its own code, libraries, the compile
/// cache's entries still mapped). They stay in the page cache, so the next request faults them
/// back in cheaply; until then an idle host does not hold them resident.
pub fn idle() {
    give_back();
    #[cfg(target_os = "linux")]
    page_out_file_mappings();
}

/// `madvise(MADV_PAGEOUT)` on every mapping of a file that the host cannot write.
#[cfg(target_os = "linux")]
fn page_out_file_mappings() {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return;
    };
    for line in maps.lines() {
        // "start-end perms offset dev inode path"
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        let path = fields.nth(3).unwrap_or("");
        if !path.starts_with('/') || perms.contains('w') {
            continue;
        }
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (
            usize::from_str_radix(start, 16),
            usize::from_str_radix(end, 16),
        ) else {
            continue;
        };
        // SAFETY: the range is a whole mapping of this process, read-only and backed by a
        // file; MADV_PAGEOUT only drops its resident pages, which fault back in from the file
        // unchanged. A kernel without MADV_PAGEOUT (before 5.4) returns EINVAL, ignored.
        #[expect(unsafe_code, reason = "libc's madvise has no safe binding")]
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_PAGEOUT);
        }
    }
}
