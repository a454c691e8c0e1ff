//! Live heap by share, counted by the allocator in a bench build (`--features heap-shares`), so
//! that BENCHMARKS.md says where the memory per resource goes by measurement, not estimate.
//!
//! Every allocation is charged to the share of the code that made it: a thread-local share set
//! while a task of that share is polled ([`accounted`], [`AccountedStream`]) or while a
//! synchronous section runs ([`enter`]), the innermost one winning. The share is written into a
//! header in front of the allocation, so a free is taken off the share that allocated it, on
//! whatever thread and in whatever share it happens. Without the feature every call here is a
//! no-op and the operator runs on plain mimalloc.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// What a byte of live heap belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Share {
    /// Everything not inside a named share: runtime, client, controller queue, tracing.
    Other = 0,
    /// The ManagedConnector watch and its cache (objects as decoded and stored).
    WatchCache = 1,
    /// Reconciles and the per-resource state they keep in the context.
    Reconcile = 2,
    /// Metric series.
    Metrics = 3,
    /// The Event recorder's memory of what it said.
    Events = 4,
    /// Batch groups: pollers, listings, membership.
    Batch = 5,
}

/// Every share, in the order `/metrics` lists them.
pub const SHARES: [Share; 6] = [
    Share::Other,
    Share::WatchCache,
    Share::Reconcile,
    Share::Metrics,
    Share::Events,
    Share::Batch,
];

impl Share {
    /// The `share` label value.
    pub fn label(self) -> &'static str {
        match self {
            Share::Other => "other",
            Share::WatchCache => "watch_cache",
            Share::Reconcile => "reconcile",
            Share::Metrics => "metrics",
            Share::Events => "events",
            Share::Batch => "batch",
        }
    }
}

#[cfg(feature = "heap-shares")]
mod counting {
    use super::Share;
    use std::alloc::{GlobalAlloc, Layout};
    use std::cell::Cell;
    use std::sync::atomic::{AtomicIsize, Ordering};

    thread_local! {
        static CURRENT: Cell<u8> = const { Cell::new(0) };
    }
    static LIVE: [AtomicIsize; super::SHARES.len()] =
        [const { AtomicIsize::new(0) }; super::SHARES.len()];

    pub fn swap(share: Share) -> u8 {
        CURRENT.try_with(|c| c.replace(share as u8)).unwrap_or(0)
    }

    pub fn restore(previous: u8) {
        let _ = CURRENT.try_with(|c| c.set(previous));
    }

    pub fn live(share: Share) -> i64 {
        LIVE[share as usize].load(Ordering::Relaxed) as i64
    }

    /// mimalloc with a share tag in front of every allocation. The header is as large as the
    /// alignment (at least 16 bytes), so the user pointer keeps its alignment, and the real
    /// pointer is found again from the layout alone.
    pub struct Counting;

    fn header(layout: Layout) -> usize {
        layout.align().max(16)
    }

    fn charge(share: u8, bytes: usize, add: bool) {
        let cell = &LIVE[usize::from(share).min(LIVE.len() - 1)];
        let bytes = isize::try_from(bytes).unwrap_or(isize::MAX);
        if add {
            cell.fetch_add(bytes, Ordering::Relaxed);
        } else {
            cell.fetch_sub(bytes, Ordering::Relaxed);
        }
    }

    // SAFETY: every pointer handed out is `header` bytes into a block of `size + header` bytes
    // aligned to `max(align, 16)` from mimalloc; the byte just before it holds the share; the
    // same arithmetic from the same layout finds the block again on dealloc and realloc.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let h = header(layout);
            let Some(size) = layout.size().checked_add(h) else {
                return std::ptr::null_mut();
            };
            let Ok(outer) = Layout::from_size_align(size, h) else {
                return std::ptr::null_mut();
            };
            // SAFETY: `outer` has a non-zero size.
            let base = unsafe { mimalloc::MiMalloc.alloc(outer) };
            if base.is_null() {
                return base;
            }
            let share = CURRENT.try_with(Cell::get).unwrap_or(0);
            // SAFETY: `base` points to `size >= h >= 16` bytes.
            unsafe {
                let user = base.add(h);
                user.sub(1).write(share);
                charge(share, layout.size(), true);
                user
            }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            let h = header(layout);
            // SAFETY: `ptr` came from `alloc` with this layout (GlobalAlloc's contract).
            unsafe {
                let share = ptr.sub(1).read();
                charge(share, layout.size(), false);
                let outer = Layout::from_size_align_unchecked(layout.size() + h, h);
                mimalloc::MiMalloc.dealloc(ptr.sub(h), outer);
            }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let h = header(layout);
            let Some(outer_new) = new_size.checked_add(h) else {
                return std::ptr::null_mut();
            };
            // SAFETY: as in `dealloc`; the header moves with the block, so the share stays.
            unsafe {
                let share = ptr.sub(1).read();
                let outer = Layout::from_size_align_unchecked(layout.size() + h, h);
                let base = mimalloc::MiMalloc.realloc(ptr.sub(h), outer, outer_new);
                if base.is_null() {
                    return base;
                }
                charge(share, layout.size(), false);
                charge(share, new_size, true);
                base.add(h)
            }
        }
    }
}

#[cfg(feature = "heap-shares")]
pub use counting::Counting;

/// Whether this build counts the heap by share.
pub const COUNTING: bool = cfg!(feature = "heap-shares");

/// Live bytes of a share (0 in a build without counting).
pub fn live(share: Share) -> i64 {
    #[cfg(feature = "heap-shares")]
    {
        counting::live(share)
    }
    #[cfg(not(feature = "heap-shares"))]
    {
        let _ = share;
        0
    }
}

/// Charges what the current thread allocates to `share` until the guard is dropped. For
/// synchronous sections only: the guard is not `Send`, so a spawned future that holds it across
/// an `.await` (where it would charge other tasks) does not compile.
#[must_use]
pub fn enter(share: Share) -> Entered {
    #[cfg(feature = "heap-shares")]
    let previous = counting::swap(share);
    #[cfg(not(feature = "heap-shares"))]
    let previous = share as u8;
    Entered {
        previous,
        _not_send: std::marker::PhantomData,
    }
}

/// Restores the share that was current before [`enter`].
pub struct Entered {
    #[cfg_attr(not(feature = "heap-shares"), allow(dead_code))]
    previous: u8,
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        #[cfg(feature = "heap-shares")]
        counting::restore(self.previous);
    }
}

pin_project_lite::pin_project! {
    /// A future whose every poll is charged to a share.
    pub struct Accounted<F> {
        share: Share,
        #[pin]
        inner: F,
    }
}

/// `future`, with what it allocates while polled charged to `share`.
pub fn accounted<F: Future>(share: Share, future: F) -> Accounted<F> {
    Accounted {
        share,
        inner: future,
    }
}

impl<F: Future> Future for Accounted<F> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _entered = enter(*this.share);
        this.inner.poll(cx)
    }
}

pin_project_lite::pin_project! {
    /// A stream whose every poll is charged to a share.
    pub struct AccountedStream<S> {
        share: Share,
        #[pin]
        inner: S,
    }
}

/// `stream`, with what it allocates while polled charged to `share`.
pub fn accounted_stream<S: futures::Stream>(share: Share, stream: S) -> AccountedStream<S> {
    AccountedStream {
        share,
        inner: stream,
    }
}

impl<S: futures::Stream> futures::Stream for AccountedStream<S> {
    type Item = S::Item;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        let _entered = enter(*this.share);
        this.inner.poll_next(cx)
    }
}

#[cfg(all(test, feature = "heap-shares"))]
mod tests {
    use super::*;

    #[global_allocator]
    static COUNTED: Counting = Counting;

    #[test]
    fn allocations_are_charged_to_the_share_that_made_them_and_freed_from_it() {
        let before = live(Share::Events);
        let kept = {
            let _e = enter(Share::Events);
            vec![0u8; 100_000]
        };
        let held = live(Share::Events);
        assert!(held - before >= 100_000, "{before} -> {held}");
        // Freed outside the share: still taken off it.
        drop(kept);
        assert!(held - live(Share::Events) >= 100_000);
        let grown = {
            let _e = enter(Share::Batch);
            let mut v = Vec::<u64>::with_capacity(10);
            v.resize(50_000, 7);
            v
        };
        assert!(
            live(Share::Batch) >= 400_000,
            "realloc charges the new size"
        );
        drop(grown);
    }
}
