//! Shared helpers for the shmcast benchmarks.

pub use shmcast::conformance::HeapRegion;
