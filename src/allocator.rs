//! The global allocator's settings (mimalloc, set in `main.rs`).
//!
//! mimalloc 3 returns memory freed in a burst to the OS one second later; the operator frees in
//! bursts (a listing of 1000 connectors, the first sync's 10,000 status writes and the watch
//! events they cause), and a resident set that stays high after them is what a memory limit
//! meets. Purging at once kept 30 MiB less resident at 10,000 resources (12 MiB at 3000) for
//! 0.2 s/min more CPU (BENCHMARKS.md).

/// `mi_option_purge_delay` in mimalloc's `mi_option_t` (the same index in mimalloc 2 and 3; the
/// crate's bindings leave it out). The test below checks it against the linked library.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Environment variable through which mimalloc takes the purge delay; when it is set, it wins.
pub const PURGE_DELAY_ENV: &str = "MIMALLOC_PURGE_DELAY";

/// Has mimalloc purge freed memory at once, unless `MIMALLOC_PURGE_DELAY` says otherwise.
pub fn purge_freed_memory_at_once() {
    if std::env::var_os(PURGE_DELAY_ENV).is_none() {
        // SAFETY: mi_option_set only stores an integer option; mimalloc reads it at its next
        // purge, from any thread.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index names the purge delay in the linked mimalloc: with the environment variable
    /// unset, it reads mimalloc 3's default (1000 ms), and setting it reads back.
    #[test]
    fn the_purge_delay_index_is_the_purge_delay() {
        if std::env::var_os(PURGE_DELAY_ENV).is_some() {
            return;
        }
        // SAFETY: reading and storing integer options.
        let default = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(default, 1000, "mimalloc 3's purge delay default");
        purge_freed_memory_at_once();
        let now = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(now, 0);
    }
}
