//! Giving freed heap memory back to the system. glibc's allocator keeps the pages of freed
//! blocks mapped (it returns only the top of each heap, and only when nothing sits above the
//! freed space), so a process that once needed memory keeps it: the OpenAPI document built at
//! start-up (~5 MB of builder objects, freed once serialized) and the buffers of every
//! connection a burst of traffic opened stayed resident for the life of the process (measured
//! on the release build: 8.6 MiB of heap right after start, 16.2 MiB after a few seconds of
//! load with 32 connections; 4.2 and 6.2 MiB after a trim). Other allocators do this on their
//! own (jemalloc's decay, mimalloc's purge); mimalloc was tried and kept 22 MiB at start with
//! its defaults, which can only be changed through environment variables.

use std::time::Duration;

/// How often a running server gives freed memory back: soon after a burst ends, rarely
/// enough that pages a busy server keeps reusing are seldom given back only to be faulted in
/// again.
pub const RELEASE_EVERY: Duration = Duration::from_secs(10);

/// Returns the whole free pages of every heap to the system. A few hundred microseconds; the
/// allocator's arenas are locked one at a time meanwhile.
pub fn release_free_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers and only walks glibc's own free lists, under the
    // same arena locks malloc and free take; it is safe to call from any thread at any time.
    #[allow(unsafe_code)]
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Calls [`release_free_heap`] every [`RELEASE_EVERY`] on the blocking pool.
pub fn spawn_heap_release() -> tokio::task::JoinHandle<()> {
    tokio::spawn(async {
        let mut ticks = tokio::time::interval(RELEASE_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let _ = tokio::task::spawn_blocking(release_free_heap).await;
        }
    })
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    /// This process's resident anonymous memory, in bytes.
    fn resident_anonymous() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix("RssAnon:"))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map_or(0, |kb| kb * 1024)
    }

    #[test]
    fn freed_blocks_below_a_live_one_go_back_to_the_system() {
        const BLOCKS: usize = 16 * 1024; // 4 KiB each: 64 MiB, all from the heap (no mmap)
        // On a thread of its own, so the blocks share one arena with nothing else.
        let before_free = std::thread::spawn(|| {
            let mut blocks: Vec<Box<[u8; 4096]>> =
                (0..BLOCKS).map(|_| Box::new([1; 4096])).collect();
            let top = blocks.pop();
            drop(blocks); // freed, but `top` pins the heap: glibc cannot shrink it by itself
            let resident = resident_anonymous();
            release_free_heap();
            let after = resident_anonymous();
            drop(top);
            (resident, after)
        })
        .join();
        let Ok((resident, after)) = before_free else {
            unreachable!("the allocating thread does not panic")
        };
        assert!(
            resident.saturating_sub(after) >= 32 << 20,
            "resident anonymous memory went from {resident} to {after} bytes"
        );
    }
}
