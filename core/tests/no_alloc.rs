//! The hot paths allocate nothing (the core cannot: it has no `alloc`), proven
//! here with a counting global allocator around writes, batches and reads.

mod common;

use shmcast::layout::ring_size;
use shmcast::{Read, Ring, RingConfig, Start};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc` is passed on unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn writes_batches_and_reads_do_not_allocate() {
    // Writes, staged batches, single, batched and lazy reads.
    const CAP: usize = 4096;
    let region = common::boxed::<{ ring_size(CAP, 0) }>();
    let ring = Ring::create(&*region, &RingConfig::new(CAP).checksum(true)).unwrap();
    let mut w = ring.writer().unwrap();
    let mut r = ring.reader(Start::Oldest).unwrap();
    let mut buf = [0u8; 1024];
    let msg = [7u8; 300];
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let mut laps = 0;
    let rounds = if cfg!(miri) { 200 } else { 2_000 };
    for i in 0..rounds {
        w.write(&msg[..i % 300]).unwrap();
        let mut c = w.claim(16).unwrap();
        c.put(&[1; 16]).unwrap();
        c.stage();
        w.flush();
        if i % 4 == 0 {
            for _ in 0..2 {
                match r.try_read(&mut buf).unwrap() {
                    Read::Lapped { .. } => laps += 1,
                    Read::Message(_) | Read::Empty | Read::Restarted { .. } => {}
                }
            }
        }
        if i % 4 == 2 {
            let mut batch = r.clone();
            match batch.try_read_batch(&mut buf).unwrap() {
                shmcast::Batch::Messages(ms) => {
                    for (_, payload) in ms {
                        std::hint::black_box(payload);
                    }
                }
                shmcast::Batch::Lapped { .. } => laps += 1,
                shmcast::Batch::Empty | shmcast::Batch::Restarted { .. } => {}
            }
        }
        for e in r.pending().take(i % 2) {
            if let Ok(shmcast::Event::Message(m)) = e {
                let _ = m.read(&mut buf);
            }
        }
    }
    assert_eq!(
        ALLOCATIONS.load(Ordering::Relaxed),
        before,
        "the hot path allocated"
    );
    assert!(laps > 0, "the run should lap the reader too");
}
