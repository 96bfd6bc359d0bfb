//! The only place that names the atomic types, so that loom can replace them.
//!
//! Under `--cfg loom` (in this crate's own tests) the protocol runs on loom's
//! model-checked atomics over a typed header built in the test; everywhere
//! else it runs on `core`'s atomics laid over the caller's region.

#[cfg(not(all(loom, test)))]
pub(crate) use core::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};
#[cfg(all(loom, test))]
pub(crate) use loom::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};

/// An Acquire load that is also sound on read-only memory: a Relaxed load
/// followed by an Acquire fence. The standard library guarantees only Relaxed
/// loads (of up to 8 bytes) on pages mapped `PROT_READ`, and readers run on
/// such mappings (`RingView`); the fence gives the same synchronisation as an
/// Acquire load.
#[inline]
pub(crate) fn load_acquire(word: &AtomicU64) -> u64 {
    let v = word.load(Ordering::Relaxed);
    fence(Ordering::Acquire);
    v
}
