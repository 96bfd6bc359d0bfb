//! The checksum path: messages on a checksummed ring, then arbitrary bit
//! flips anywhere in the data area. A reader must never accept a message whose
//! header or payload bytes changed: it gets an error, a lap, or the message
//! exactly as written.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use shmcast::conformance::HeapRegion;
use shmcast::{layout, Read, Region, Ring, RingConfig, Start};

#[derive(Debug, Arbitrary)]
struct Input {
    lens: Vec<u8>,
    flips: Vec<u16>,
}

fn payload(seq: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (seq as u8).wrapping_mul(31) ^ i as u8)
        .collect()
}

fuzz_target!(|input: Input| {
    const CAP: usize = 1024;
    let cfg = RingConfig::new(CAP).checksum(true);
    let region = HeapRegion::new(cfg.region_size());
    let ring = Ring::create(&region, &cfg).unwrap();
    let mut w = ring.writer().unwrap();
    let mut r = ring.reader(Start::Oldest).unwrap();
    for (seq, &len) in input.lens.iter().take(32).enumerate() {
        let len = len as usize % (ring.max_message() + 1);
        w.write_tagged(seq as u32, &payload(seq as u64, len))
            .unwrap();
    }
    let data = layout::data_offset(0);
    for &bit in input.flips.iter().take(8) {
        let bit = bit as usize % (CAP * 8);
        let p = region.base().as_ptr().wrapping_add(data + bit / 8);
        // SAFETY: in bounds (bit < CAP * 8); one thread, and the ring is not
        // being read or written while the byte is flipped.
        unsafe { *p ^= 1 << (bit % 8) };
    }
    let mut buf = [0u8; CAP];
    for _ in 0..64 {
        match r.try_read(&mut buf) {
            Ok(Read::Message(m)) => {
                assert_eq!(m.tag as u64, m.seq, "a damaged tag passed the checksum");
                assert_eq!(
                    &buf[..m.len],
                    &payload(m.seq, m.len)[..],
                    "a damaged payload passed"
                );
            }
            Ok(Read::Empty) | Err(_) => break,
            Ok(_) => {}
        }
    }
});
