//! The core's protocol conformance suite on real /dev/shm mappings.

use std::sync::atomic::{AtomicUsize, Ordering};

use shmcast::{Region, RingConfig};
use shmcast_linux::{remove, Location, Options, ShmRing};

/// A fresh /dev/shm ring for each case, unlinked at once: the mapping lives on
/// until the case drops it, and nothing is left behind.
fn shm_region(cfg: &RingConfig) -> Box<dyn Region> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let loc = Location::shm(&format!("shmcast-conf-{}-{n}", std::process::id())).unwrap();
    let ring = ShmRing::create(&loc, cfg, &Options::default()).unwrap();
    remove(&loc).unwrap();
    Box::new(ring)
}

shmcast::conformance_tests!(shm_region);
