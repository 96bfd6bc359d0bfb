//! Record checksums: xxh3-64 over the first header word, the sequence number and
//! the payload, seeded with the sequence number, so that a stale record from an
//! earlier lap (another sequence) cannot pass for the one expected.

use crate::copy;
use crate::sync::AtomicU64;
use xxhash_rust::xxh3::Xxh3;

/// Checksum of a record whose payload is in private memory.
pub(crate) fn record(word0: u64, seq: u64, payload: &[u8]) -> u64 {
    let mut h = start(word0, seq);
    h.update(payload);
    h.digest()
}

/// Checksum of a record whose `len`-byte payload is in the ring from `word`.
/// Only the producer calls this, on bytes only it writes.
pub(crate) fn in_ring(data: &[AtomicU64], word: usize, word0: u64, seq: u64, len: usize) -> u64 {
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

fn start(word0: u64, seq: u64) -> Xxh3 {
    let mut h = Xxh3::with_seed(seq);
    h.update(&word0.to_le_bytes());
    h.update(&seq.to_le_bytes());
    h
}
