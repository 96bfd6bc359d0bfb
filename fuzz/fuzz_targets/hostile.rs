//! A producer and readers on a small ring while a hostile peer overwrites
//! arbitrary bytes of the region (header, consumer slots, records) between
//! steps. Readers and the producer return errors or carry on: no panic, no
//! out-of-bounds access, no hang.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use shmcast::conformance::HeapRegion;
use shmcast::{Batch, BoundedSpin, Read, Region, Ring, RingConfig, Start, WaitAction};

#[derive(Debug, Arbitrary)]
enum Step {
    Write { len: u16, tag: u32 },
    Stage { len: u16 },
    Flush,
    Abort { len: u16 },
    Read { reader: u8 },
    ReadBatch { reader: u8, room: u16 },
    Join { reader: u8, start: u8 },
    Poke { offset: u16, value: u64 },
    Restart,
}

#[derive(Debug, Arbitrary)]
struct Input {
    capacity_log2: u8,
    slots: u8,
    checksum: bool,
    steps: Vec<Step>,
}

fuzz_target!(|input: Input| {
    let capacity = 1usize << (6 + input.capacity_log2 % 6);
    let cfg = RingConfig::new(capacity)
        .slots((input.slots % 3) as usize)
        .checksum(input.checksum);
    let region = HeapRegion::new(cfg.region_size());
    let ring = Ring::create(&region, &cfg).unwrap();
    let mut w = ring.writer().unwrap();
    w.set_wait(BoundedSpin {
        budget: 4,
        then: WaitAction::Demote,
    });
    let mut readers = vec![ring.reader(Start::Oldest).unwrap()];
    if let Ok(g) = ring.gating_reader() {
        readers.push(g);
    }
    let payload = vec![0x5a; capacity];
    let mut buf = vec![0u8; capacity];
    for step in input.steps.iter().take(256) {
        match *step {
            Step::Write { len, tag } => {
                let len = len as usize % (w.max_message() + 2);
                let _ = w.write_tagged(tag, &payload[..len.min(payload.len())]);
            }
            Step::Stage { len } => {
                let len = (len as usize % (w.max_message() + 1)).min(payload.len());
                let _ = w.stage(0, &payload[..len]);
            }
            Step::Flush => w.flush(),
            Step::Abort { len } => {
                let _ = w.claim(len as usize % (w.max_message() + 1));
            }
            Step::Read { reader } => {
                let n = readers.len();
                let r = &mut readers[reader as usize % n];
                if let Ok(Read::Message(m)) = r.try_read(&mut buf) {
                    assert!(m.len <= ring.max_message());
                }
            }
            Step::ReadBatch { reader, room } => {
                let n = readers.len();
                let r = &mut readers[reader as usize % n];
                let room = room as usize % (buf.len() + 1);
                if let Ok(Batch::Messages(batch)) = r.try_read_batch(&mut buf[..room]) {
                    let mut seq = batch.first_seq();
                    for (m, payload) in batch {
                        assert!(m.len <= ring.max_message() && m.len == payload.len());
                        assert_eq!(m.seq, seq);
                        seq = seq.wrapping_add(1);
                    }
                }
            }
            Step::Join { reader, start } => {
                let start = [
                    Start::Tail,
                    Start::Latest,
                    Start::Oldest,
                    Start::Seq(start as u64),
                ][start as usize % 4];
                if let Ok(r) = ring.reader(start) {
                    let n = readers.len();
                    readers[reader as usize % n] = r;
                }
            }
            Step::Poke { offset, value } => {
                // The hostile peer: an aligned word anywhere in the region.
                let word = (offset as usize * 8) % region.size();
                let p = region.base().as_ptr().wrapping_add(word).cast::<u64>();
                // SAFETY: in bounds and 8-aligned; the ring only ever touches
                // the region with atomics, and this store is the same size, so
                // it is an atomic store in effect.
                let a = unsafe { std::sync::atomic::AtomicU64::from_ptr(p) };
                a.store(value, std::sync::atomic::Ordering::Relaxed);
            }
            Step::Restart => {
                let mut next = ring.take_over(shmcast::Continuation::Restart);
                next.set_wait(BoundedSpin {
                    budget: 4,
                    then: WaitAction::Demote,
                });
                std::mem::forget(std::mem::replace(&mut w, next));
            }
        }
    }
});
