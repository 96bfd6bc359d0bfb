//! Record checksums: xxh3-64 over the first header word, the sequence number and
//! the payload, seeded with the sequence number, so that a stale record from an
//! earlier lap (another sequence) cannot pass for the one expected.
//!
//! Records whose header and payload fit in [`ONE_SHOT`] bytes are hashed in one
//! call from a stack buffer; longer ones through the streaming hasher. Both
//! give the same value for the same bytes (xxh3's streaming form is defined to),
//! and a test holds them to it, so the choice is not part of the layout.

use crate::copy;
use crate::sync::AtomicU64;
use xxhash_rust::xxh3::{xxh3_64_with_seed, Xxh3};

/// The hashed header: the first header word and the sequence number.
const HEAD: usize = 16;

/// Records of at most this many hashed bytes go through the one-shot hash.
const ONE_SHOT: usize = 256;

/// Checksum of a record whose payload is in private memory.
pub(crate) fn record(word0: u64, seq: u64, payload: &[u8]) -> u64 {
    if let Some(buf) = small(word0, seq, payload.len()) {
        let (mut buf, n) = buf;
        buf[HEAD..n].copy_from_slice(payload);
        return xxh3_64_with_seed(&buf[..n], seq);
    }
    let mut h = start(word0, seq);
    h.update(payload);
    h.digest()
}

/// Checksum of a record whose `len`-byte payload is in the ring from `word`.
/// Only the producer calls this, on bytes only it writes.
pub(crate) fn in_ring(data: &[AtomicU64], word: usize, word0: u64, seq: u64, len: usize) -> u64 {
    if let Some((mut buf, n)) = small(word0, seq, len) {
        copy::copy_out(data, word, &mut buf[HEAD..n]);
        return xxh3_64_with_seed(&buf[..n], seq);
    }
    let mut h = start(word0, seq);
    let mut chunk = [0u8; 256];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(chunk.len());
        copy::copy_out(data, word + done / 8, &mut chunk[..n]);
        h.update(&chunk[..n]);
        done += n;
    }
    h.digest()
}

/// A buffer holding the hashed header, with room for a `len`-byte payload
/// after it, and the hashed length; `None` if that is over [`ONE_SHOT`].
#[inline]
fn small(word0: u64, seq: u64, len: usize) -> Option<([u8; ONE_SHOT], usize)> {
    let n = HEAD.checked_add(len).filter(|&n| n <= ONE_SHOT)?;
    let mut buf = [0u8; ONE_SHOT];
    buf[..8].copy_from_slice(&word0.to_le_bytes());
    buf[8..HEAD].copy_from_slice(&seq.to_le_bytes());
    Some((buf, n))
}

fn start(word0: u64, seq: u64) -> Xxh3 {
    let mut h = Xxh3::with_seed(seq);
    h.update(&word0.to_le_bytes());
    h.update(&seq.to_le_bytes());
    h
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    extern crate std;

    /// The one-shot path gives what the streaming hasher gives (which is what
    /// every earlier build stored), on both sides of the threshold.
    #[test]
    fn one_shot_equals_streaming() {
        let payload: std::vec::Vec<u8> = (0..600u32).map(|i| (i * 31 + 7) as u8).collect();
        let lens = if cfg!(miri) {
            std::vec![0, 1, 8, 239, 240, 241, 300]
        } else {
            (0..600).collect()
        };
        for len in lens {
            let (w0, seq) = (0x2000_0000_u64 | len as u64, 77 + len as u64);
            let mut h = start(w0, seq);
            h.update(&payload[..len]);
            assert_eq!(record(w0, seq, &payload[..len]), h.digest(), "len {len}");
            let data: std::vec::Vec<AtomicU64> = payload
                .chunks(8)
                .map(|c| {
                    let mut b = [0u8; 8];
                    b[..c.len()].copy_from_slice(c);
                    AtomicU64::new(u64::from_ne_bytes(b))
                })
                .collect();
            assert_eq!(in_ring(&data, 0, w0, seq, len), h.digest(), "len {len}");
        }
    }
}
