//! Race-free copies between the ring and private memory.
//!
//! Ring bytes may be overwritten by the producer while a lapped reader copies
//! them. A plain or volatile read of such bytes is a data race, and so undefined
//! behaviour, even if the result is then thrown away. Every ring byte is therefore
//! moved as part of an aligned 64-bit word with a relaxed atomic load or store;
//! the protocol's fences (in `writer` and `reader`) order those accesses, and the
//! reader's re-check of the producer's intent decides whether the copy is kept.
//!
//! Every function here takes the data area as `&[AtomicU64]` and a word index,
//! and only indexes that slice, so a bad index panics in debug tests rather than
//! reaching outside the ring; callers check bounds first and never pass one.

use crate::sync::{AtomicU64, Ordering};

const W: usize = 8;

/// Load one word.
#[inline(always)]
pub(crate) fn load(data: &[AtomicU64], word: usize) -> u64 {
    data[word].load(Ordering::Relaxed)
}

/// Store one word.
#[inline(always)]
pub(crate) fn store(data: &[AtomicU64], word: usize, value: u64) {
    data[word].store(value, Ordering::Relaxed)
}

/// Store one word with Release ordering: a record's first header word, which
/// publishes the record to a reader that loads it and then fences (Acquire).
#[inline(always)]
pub(crate) fn store_release(data: &[AtomicU64], word: usize, value: u64) {
    data[word].store(value, Ordering::Release)
}

/// Copy `dst.len()` bytes out of the ring, starting at word `word`.
///
/// The caller has checked that `word + dst.len().div_ceil(8) <= data.len()`.
#[inline]
pub(crate) fn copy_out(data: &[AtomicU64], word: usize, dst: &mut [u8]) {
    let words = &data[word..word + dst.len().div_ceil(W)];
    let (chunks, rest) = dst.as_chunks_mut::<W>();
    // Two slice iterators zipped: one index, one bound, one load and one
    // store per word.
    for (chunk, w) in chunks.iter_mut().zip(words) {
        *chunk = w.load(Ordering::Relaxed).to_ne_bytes();
    }
    if let Some(w) = words.get(chunks.len()).filter(|_| !rest.is_empty()) {
        let bytes = w.load(Ordering::Relaxed).to_ne_bytes();
        // At most 7 bytes: a loop, not a call to memcpy.
        for (d, b) in rest.iter_mut().zip(bytes) {
            *d = b;
        }
    }
}

/// Copy `src` into the ring at byte offset `offset` from word `word`.
///
/// Partial words at either end are merged with what the ring holds (only the
/// producer writes, so the read-modify-write cannot lose another writer's bytes).
/// The caller has checked that the bytes fit in `data`.
#[inline]
pub(crate) fn copy_in(data: &[AtomicU64], word: usize, offset: usize, src: &[u8]) {
    if src.is_empty() {
        return;
    }
    let mut w = word + offset / W;
    let mut src = src;
    let head = offset % W;
    if head != 0 {
        let n = (W - head).min(src.len());
        let mut bytes = load(data, w).to_ne_bytes();
        // At most 7 bytes here and below: loops, not calls to memcpy.
        for (d, b) in bytes[head..].iter_mut().zip(&src[..n]) {
            *d = *b;
        }
        store(data, w, u64::from_ne_bytes(bytes));
        src = &src[n..];
        w += 1;
    }
    let (chunks, rest) = src.as_chunks::<W>();
    // One bounds check for the whole run of full words, then a loop of one
    // load and one store per word (two slice iterators zipped).
    let full = &data[w..w + chunks.len()];
    for (chunk, word) in chunks.iter().zip(full) {
        word.store(u64::from_ne_bytes(*chunk), Ordering::Relaxed);
    }
    w += full.len();
    if !rest.is_empty() {
        let mut bytes = load(data, w).to_ne_bytes();
        for (d, b) in bytes.iter_mut().zip(rest) {
            *d = *b;
        }
        store(data, w, u64::from_ne_bytes(bytes));
    }
}

/// Set `len` bytes at byte offset `offset` from word `word` to `byte`.
pub(crate) fn fill(data: &[AtomicU64], word: usize, offset: usize, len: usize, byte: u8) {
    let chunk = [byte; 64];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(chunk.len());
        copy_in(data, word, offset + done, &chunk[..n]);
        done += n;
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn ring(words: usize) -> std::vec::Vec<AtomicU64> {
        (0..words).map(|_| AtomicU64::new(0)).collect()
    }

    extern crate std;

    #[test]
    fn round_trips_every_offset_and_length() {
        let data = ring(8);
        for offset in 0..24 {
            for len in 0..(64 - offset - 8) {
                let src: std::vec::Vec<u8> = (0..len).map(|i| (i * 7 + offset + 1) as u8).collect();
                fill(&data, 0, 0, 64, 0xAA);
                copy_in(&data, 1, offset, &src);
                let mut all = [0u8; 64];
                copy_out(&data, 0, &mut all);
                assert!(all[..8 + offset].iter().all(|&b| b == 0xAA));
                assert_eq!(&all[8 + offset..8 + offset + len], &src[..]);
                assert!(all[8 + offset + len..].iter().all(|&b| b == 0xAA));
                let mut back = std::vec![0u8; len];
                if offset % 8 == 0 {
                    copy_out(&data, 1 + offset / 8, &mut back);
                    assert_eq!(back, src);
                }
            }
        }
    }
}
