//! The only place that names the atomic types, so that loom can replace them.
//!
//! Under `--cfg loom` (in this crate's own tests) the protocol runs on loom's
//! model-checked atomics over a typed header built in the test; everywhere
//! else it runs on `core`'s atomics laid over the caller's region.

#[cfg(not(all(loom, test)))]
pub(crate) use core::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};
#[cfg(all(loom, test))]
pub(crate) use loom::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};
