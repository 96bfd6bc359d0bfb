//! Zero heap allocations on the hot paths the core's own test
//! (`core/tests/no_alloc.rs`: lossy writes, batches, reads, `pending`) does not
//! reach: gating consumers and a producer waiting for them, and the Linux
//! adapter's producer (`Producer::write`, `claim`, `stage`, whose wait policy
//! is made per claim) and consumers (`Consumer::try_read`, `try_read_batch`,
//! `read_wait`) on a real /dev/shm ring. A counting global allocator proves it.

use shmcast::{Batch, Read, Ring, RingConfig, Start};
use shmcast_benches::{HeapRegion, Patient};
use shmcast_linux::{read_wait, Location, Options, Phases, ShmRing};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

struct Counting;

thread_local! {
    /// Allocations made by this thread (const-initialised, no destructor:
    /// safe to touch from inside the allocator).
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: forwards to the system allocator unchanged, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: the caller's contract for `realloc` is passed on unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc` is passed on unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by this thread while `f` runs (the test harness runs
/// other tests on other threads at the same time; they are not counted).
fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn gating_consumers_and_a_waiting_producer_do_not_allocate() {
    const CAP: usize = 4096;
    let cfg = RingConfig::new(CAP).slots(2);
    let region = HeapRegion::new(cfg.region_size());
    let ring = Ring::create(&region, &cfg).unwrap();
    let mut w = ring.writer().unwrap();
    let mut gate = ring.gating_reader().unwrap();
    let mut lossy = ring.reader(Start::Tail).unwrap();
    let mut buf = [0u8; 256];
    let msg = [3u8; 200];
    let mut fulls = 0;
    let n = allocations_in(|| {
        for i in 0..5_000usize {
            // Fill until the gating reader is in the way, then read a few.
            match w.try_claim(i % 200 + 1) {
                Ok(c) => {
                    c.commit_with(&msg[..i % 200 + 1]);
                }
                Err(shmcast::WriteError::Full { .. }) => {
                    fulls += 1;
                    for _ in 0..3 {
                        let _ = gate.try_read(&mut buf).unwrap();
                    }
                    let _ = lossy.try_read(&mut buf).unwrap();
                }
                Err(e) => panic!("{e}"),
            }
            // Staged and flushed (try_claim: the default wait of `stage`
            // would demote the reader this test keeps gating).
            if let Ok(c) = w.try_claim(24) {
                c.stage_with(&msg[..24]);
            }
            w.flush();
        }
    });
    assert!(gate.is_gating());
    assert!(fulls > 0, "the gating reader should have filled the ring");
    assert_eq!(n, 0, "the gating hot path allocated");
    // A producer that waits (backing off) while another thread drains: the
    // claim itself allocates nothing (the thread's spawn is not counted).
    for _ in 0..100 {
        while w.try_claim(100).map(|c| c.commit_with(&msg[..100])).is_ok() {}
        std::thread::scope(|s| {
            let gate = &mut gate;
            s.spawn(move || {
                let mut b = [0u8; 256];
                for _ in 0..8 {
                    while !matches!(gate.try_read(&mut b).unwrap(), Read::Empty) {}
                    std::thread::yield_now();
                }
            });
            let mut wait = Patient::default();
            let n = allocations_in(|| {
                w.claim_with(100, &mut wait)
                    .unwrap()
                    .commit_with(&msg[..100]);
            });
            assert_eq!(n, 0, "a waiting claim allocated");
        });
    }
}

/// A ring name unique to this process and test, removed on drop.
struct Named(Location);

impl Drop for Named {
    fn drop(&mut self) {
        let _ = shmcast_linux::remove(&self.0);
    }
}

#[test]
fn the_linux_producer_and_consumers_do_not_allocate() {
    let loc = Location::shm(&format!("shmcast-noalloc-{}", std::process::id())).unwrap();
    let _ = shmcast_linux::remove(&loc);
    let named = Named(loc);
    let cfg = RingConfig::new(1 << 16).slots(2);
    let ring = ShmRing::create(&named.0, &cfg, &Options::default()).unwrap();
    let mut producer = ring.producer().unwrap();
    let mut gating = ring.gating_consumer().unwrap();
    let mut lossy = ring.observed_consumer(Start::Tail).unwrap();
    let mut plain = ring.ring().reader(Start::Tail).unwrap();
    let phases = Phases::default();
    let mut buf = [0u8; 512];
    let msg = [9u8; 300];
    let n = allocations_in(|| {
        for i in 0..20_000usize {
            producer.write(&msg[..i % 300]).unwrap();
            let mut c = producer.claim(32).unwrap();
            c.put(&[1; 32]).unwrap();
            c.commit();
            producer.stage(7, &msg[..40]).unwrap();
            producer.write(b"flush").unwrap();
            if i % 2 == 0 {
                while !matches!(gating.try_read(&mut buf).unwrap(), Read::Empty) {}
            } else {
                while gating.try_read_batch(&mut buf).unwrap() != Batch::Empty {}
            }
            if i % 3 == 0 {
                let _ = lossy.try_read(&mut buf).unwrap();
                let _ = read_wait(&mut plain, &mut buf, &phases, Duration::from_millis(10));
            }
        }
    });
    assert_eq!(n, 0, "the Linux adapter's hot path allocated");
    assert!(gating.reader().is_gating(), "the gating consumer kept up");
}

#[test]
fn the_counter_sees_an_allocation() {
    let n = allocations_in(|| {
        std::hint::black_box(vec![1u8; 10]);
    });
    assert_eq!(n, 1);
}
