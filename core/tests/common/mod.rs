//! Helpers shared by the core's integration tests.
#![allow(dead_code)]

use shmcast::InlineRegion;

/// A zeroed inline region on the heap (too large for a test thread's stack).
pub fn boxed<const N: usize>() -> Box<InlineRegion<N>> {
    let b = Box::<InlineRegion<N>>::new_zeroed();
    // SAFETY: `InlineRegion<N>` is an `UnsafeCell<[u8; N]>`; all-zero bytes are a
    // valid value of it.
    unsafe { b.assume_init() }
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
#[derive(Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}

/// Payload length of message `seq` for a ring whose largest message is `max`.
pub fn len_of(seq: u64, max: usize) -> usize {
    let mut r = Rng(seq.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    r.next();
    (r.next() % (max as u64 + 1)) as usize
}

/// Byte `i` of message `seq`.
pub fn byte_of(seq: u64, i: usize) -> u8 {
    (seq.wrapping_mul(131) as u8) ^ (i as u8).wrapping_mul(7) ^ ((i >> 8) as u8)
}

/// Fill `buf` with the content of message `seq`.
pub fn fill(seq: u64, buf: &mut [u8]) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b = byte_of(seq, i);
    }
}

/// Check `buf` holds the content of message `seq`.
pub fn check(seq: u64, buf: &[u8]) -> bool {
    buf.iter().enumerate().all(|(i, &b)| b == byte_of(seq, i))
}

/// Where the writer puts records, simulated: for a stream starting at position
/// 0 with no aborted claims, message `seq` starts at `Layout::pos(seq)`.
pub struct Layout {
    pub capacity: u64,
    pub header: u64,
    pub max: usize,
}

impl Layout {
    pub fn size(&self, seq: u64) -> u64 {
        (self.header + len_of(seq, self.max) as u64 + 7) & !7
    }
    /// Start of record `seq` given the end of the previous record.
    pub fn place(&self, end_prev: u64, seq: u64) -> u64 {
        let off = end_prev % self.capacity;
        if off + self.size(seq) > self.capacity {
            end_prev + (self.capacity - off)
        } else {
            end_prev
        }
    }
}
