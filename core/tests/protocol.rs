//! The protocol conformance suite (`shmcast::conformance`) on heap regions.

shmcast::conformance_tests!(shmcast::conformance::HeapRegion::boxed);
