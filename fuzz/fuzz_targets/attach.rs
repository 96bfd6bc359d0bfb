//! Arbitrary bytes as a region: attach, then joins, reads, lazy reads and
//! status. Only typed errors or well-formed messages; no panic, no
//! out-of-bounds access, no hang (every call is bounded).
#![no_main]

use libfuzzer_sys::fuzz_target;
use shmcast::conformance::HeapRegion;
use shmcast::{layout, Batch, Event, LapPolicy, Read, Region, Ring, RingView, Start};

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let (ops, bytes) = data.split_at(2);
    // A region holding the bytes, padded to at least a header.
    let region = HeapRegion::new(bytes.len().max(layout::HEADER_SIZE) + 8);
    let base = region.base().as_ptr();
    // SAFETY: the region holds at least `bytes.len()` bytes and nothing else
    // touches it yet.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), base, bytes.len()) };
    let Ok(ring) = Ring::attach(&region) else {
        return;
    };
    let _ = ring.status();
    for slot in 0..ring.slot_count().min(8) {
        let _ = ring.consumer(slot);
    }
    let starts = [
        Start::Tail,
        Start::Latest,
        Start::Oldest,
        Start::Seq(u64::from(ops[1])),
    ];
    let mut buf = vec![0u8; ring.max_message().min(1 << 16)];
    let start = starts[(ops[0] & 3) as usize];
    if let Ok(mut r) = ring.reader(start) {
        if ops[0] & 4 != 0 {
            r.set_lap_policy(LapPolicy::Latest);
        }
        if ops[0] & 8 != 0 {
            r.set_fall_behind_tolerance(1, 8);
        }
        for _ in 0..64 {
            match r.try_read(&mut buf) {
                Ok(Read::Message(m)) => assert!(m.len <= ring.max_message()),
                Ok(Read::Empty) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let mut batches = r.clone();
        for _ in 0..16 {
            match batches.try_read_batch(&mut buf) {
                Ok(Batch::Messages(batch)) => {
                    for (m, payload) in batch {
                        assert!(m.len <= ring.max_message() && m.len == payload.len());
                    }
                }
                Ok(Batch::Empty) | Err(_) => break,
                Ok(_) => {}
            }
        }
        for e in r.pending().take(64) {
            if let Ok(Event::Message(m)) = e {
                let _ = m.read(&mut buf);
            }
        }
    }
    if let Ok(view) = RingView::attach(&region) {
        if let Ok(mut r) = view.reader(Start::Oldest) {
            for _ in 0..16 {
                if r.try_read(&mut buf).is_err() {
                    break;
                }
            }
        }
    }
});
