//! A bare ring: shmcast's shape of ring with none of its work, run beside
//! the contenders in the same rounds, so that a throughput figure can be
//! told apart into what the shape costs on the machine and what a
//! contender's own work per message adds.
//!
//! [`WordRing`] has records of a first word (a kind bit and the length), a
//! sequence word and the payload padded to 8 bytes, moved as relaxed atomic
//! 64-bit words; a record is published by its first word (Release) after
//! the word after it was zeroed, and a padding record closes each lap. The
//! consumer polls that first word (Acquire), copies, and shows its position
//! in steps (a sixteenth of the ring, and whenever it finds the ring
//! empty); the producer waits for room only when that position is in the
//! way. Nothing else: no validation of the length (it is in-process memory
//! that only the producer writes), no lap detection, no header counters, no
//! slots, no wake-ups.
//!
//! It is not a floor in the latency tool's sense (the least any channel
//! costs): a consumer that keeps up polls the very line the producer is
//! writing, so two cheap sides can run slower than two costlier ones that
//! never meet (see the README's throughput section).
//!
//! ```
//! use shmcast_benches::bare::WordRing;
//!
//! let ring = WordRing::new(4096);
//! let (mut tx, mut rx) = (ring.producer(), ring.consumer());
//! tx.send(b"tick");
//! let mut buf = [0u8; 4];
//! assert_eq!(rx.recv(&mut buf), Some((0, 4)));
//! assert_eq!(&buf, b"tick");
//! assert_eq!(rx.recv(&mut buf), None);
//! ```

use crate::Backoff;
use std::sync::atomic::{AtomicU64, Ordering};

/// Kind bits of a record's first word (above the 32-bit length).
const MESSAGE: u64 = 1 << 32;
const PADDING: u64 = 2 << 32;
/// Record header: the first word and the sequence.
const HEADER_WORDS: usize = 2;

/// A position on its own cache lines.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Padded(AtomicU64);

/// A single-producer, single-consumer ring of variable-size records over
/// atomic words (see the module docs).
#[derive(Debug)]
pub struct WordRing {
    /// The ring's words start at `first`, on a 128-byte boundary as
    /// shmcast's data area does.
    words: Box<[AtomicU64]>,
    first: usize,
    len: usize,
    /// The consumer's position as last shown, in words since the start.
    shown: Padded,
}

impl WordRing {
    /// A ring of `capacity` bytes (rounded up to a power of two, at least
    /// 128), zeroed.
    pub fn new(capacity: usize) -> WordRing {
        let len = capacity.next_power_of_two().max(128) / 8;
        let words: Box<[AtomicU64]> = (0..len + 16).map(|_| AtomicU64::new(0)).collect();
        let addr = words.as_ptr() as usize;
        let first = (128 - addr % 128) % 128 / 8;
        WordRing {
            words,
            first,
            len,
            shown: Padded::default(),
        }
    }

    fn words(&self) -> &[AtomicU64] {
        &self.words[self.first..self.first + self.len]
    }

    /// The one producer (take one).
    pub fn producer(&self) -> Producer<'_> {
        Producer {
            words: self.words(),
            shown: &self.shown.0,
            pos: 0,
            gate: 0,
            seq: 0,
        }
    }

    /// The one consumer (take one).
    pub fn consumer(&self) -> Consumer<'_> {
        let words = self.words();
        Consumer {
            words,
            shown_at: &self.shown.0,
            pos: 0,
            shown: 0,
            step: (words.len() / 16).max(1) as u64,
        }
    }
}

/// Words a record of `len` payload bytes takes.
fn record_words(len: usize) -> usize {
    HEADER_WORDS + len.div_ceil(8)
}

/// Store `msg` into `words` (`msg.len().div_ceil(8)` of them) as relaxed
/// atomic words: its whole words, then the rest padded with zeros, with no
/// call to memcpy for a part word. Also the latency tool's bare rings'.
#[inline]
pub fn store_payload(words: &[AtomicU64], msg: &[u8]) {
    let (whole, rest) = msg.as_chunks::<8>();
    for (w, c) in words.iter().zip(whole) {
        w.store(u64::from_le_bytes(*c), Ordering::Relaxed);
    }
    if let (false, Some(w)) = (rest.is_empty(), words.get(whole.len())) {
        let mut last = [0u8; 8];
        for (d, b) in last.iter_mut().zip(rest) {
            *d = *b;
        }
        w.store(u64::from_le_bytes(last), Ordering::Relaxed);
    }
}

/// Load `buf.len()` bytes from `words` as [`store_payload`] stored them.
#[inline]
pub fn load_payload(words: &[AtomicU64], buf: &mut [u8]) {
    let (whole, rest) = buf.as_chunks_mut::<8>();
    let n = whole.len();
    for (c, w) in whole.iter_mut().zip(words) {
        *c = w.load(Ordering::Relaxed).to_le_bytes();
    }
    if let (false, Some(w)) = (rest.is_empty(), words.get(n)) {
        for (d, b) in rest.iter_mut().zip(w.load(Ordering::Relaxed).to_le_bytes()) {
            *d = b;
        }
    }
}

/// The producer of a [`WordRing`].
#[derive(Debug)]
pub struct Producer<'r> {
    words: &'r [AtomicU64],
    shown: &'r AtomicU64,
    /// Words written since the start.
    pos: u64,
    /// The consumer's position as last loaded.
    gate: u64,
    seq: u64,
}

impl Producer<'_> {
    /// Publish `msg`, waiting (spin, then yield) while the consumer is a
    /// ring behind. A message must fit a quarter of the ring.
    #[inline]
    pub fn send(&mut self, msg: &[u8]) {
        let mut backoff = Backoff::new();
        while !self.try_send(msg) {
            backoff.snooze();
        }
    }

    /// Publish `msg` if the consumer leaves room for it; `false` (nothing
    /// written) if not. A message must fit a quarter of the ring.
    #[inline]
    pub fn try_send(&mut self, msg: &[u8]) -> bool {
        let n = self.words.len();
        let size = record_words(msg.len());
        assert!(size * 4 <= n, "message too long for the bare ring");
        let at = (self.pos as usize) & (n - 1);
        // The record, the zero after it, and the padding before it if it
        // does not fit before the lap's end.
        let pad = if at + size + 1 > n { n - at } else { 0 };
        let end = self.pos + (pad + size + 1) as u64;
        if end > self.gate + n as u64 {
            self.gate = self.shown.load(Ordering::Acquire);
            if end > self.gate + n as u64 {
                return false;
            }
        }
        let rec = if pad == 0 { at } else { 0 };
        let words = &self.words[rec..rec + size + 1];
        store_payload(&words[HEADER_WORDS..size], msg);
        words[1].store(self.seq, Ordering::Relaxed);
        words[size].store(0, Ordering::Relaxed);
        words[0].store(MESSAGE | msg.len() as u64, Ordering::Release);
        if pad != 0 {
            // After the record it leads to, so a consumer past it finds one.
            self.words[at].store(PADDING | pad as u64, Ordering::Release);
        }
        self.pos += (pad + size) as u64;
        self.seq += 1;
        true
    }
}

/// The consumer of a [`WordRing`].
#[derive(Debug)]
pub struct Consumer<'r> {
    words: &'r [AtomicU64],
    shown_at: &'r AtomicU64,
    /// Words read since the start.
    pos: u64,
    /// `pos` as last shown to the producer.
    shown: u64,
    /// Words between two positions shown while reading.
    step: u64,
}

impl Consumer<'_> {
    /// The next message into `buf` (its sequence number, counted from 0,
    /// and its length), or `None` if nothing is published at the position
    /// (which is then shown).
    ///
    /// # Panics
    /// If `buf` is too small.
    #[inline]
    pub fn recv(&mut self, buf: &mut [u8]) -> Option<(u64, usize)> {
        let n = self.words.len();
        let mut at = (self.pos as usize) & (n - 1);
        let mut w0 = self.words[at].load(Ordering::Acquire);
        if w0 & PADDING != 0 {
            self.pos += w0 & 0xffff_ffff;
            at = 0;
            w0 = self.words[0].load(Ordering::Acquire);
        }
        if w0 == 0 {
            if self.shown != self.pos {
                self.show();
            }
            return None;
        }
        let len = (w0 & 0xffff_ffff) as usize;
        let size = record_words(len);
        let words = &self.words[at..at + size];
        load_payload(&words[HEADER_WORDS..], &mut buf[..len]);
        let seq = words[1].load(Ordering::Relaxed);
        self.pos += size as u64;
        if self.pos - self.shown >= self.step {
            self.show();
        }
        Some((seq, len))
    }

    /// Show the position to the producer (Release: it may then overwrite
    /// what was read before it).
    fn show(&mut self) {
        self.shown = self.pos;
        self.shown_at.store(self.pos, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    /// Message `i`: 1 to 40 bytes, each byte telling its index and `i`.
    fn message(i: u64, buf: &mut [u8; 40]) -> &[u8] {
        let len = (i * 7 % 40 + 1) as usize;
        for (k, b) in buf[..len].iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(31).wrapping_add(k as u8);
        }
        &buf[..len]
    }

    #[test]
    fn every_message_arrives_whole_and_in_order_over_many_laps() {
        const N: u64 = 200_000;
        let ring = WordRing::new(1024);
        // Set by a consumer that found a fault, so that the producer stops
        // instead of waiting for room for ever.
        let failed = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut tx = ring.producer();
                let mut buf = [0u8; 40];
                let mut backoff = Backoff::new();
                for i in 0..N {
                    while !tx.try_send(message(i, &mut buf)) {
                        if failed.load(Ordering::Relaxed) {
                            return;
                        }
                        backoff.snooze();
                    }
                }
            });
            let mut rx = ring.consumer();
            let (mut got, mut want) = ([0u8; 40], [0u8; 40]);
            let mut backoff = Backoff::new();
            let mut i = 0;
            while i < N {
                if let Some((seq, len)) = rx.recv(&mut got) {
                    let whole = seq == i && got[..len] == *message(i, &mut want);
                    if !whole {
                        failed.store(true, Ordering::Relaxed);
                    }
                    assert!(whole, "message {i}: got #{seq}, {:?}", &got[..len]);
                    i += 1;
                    backoff.reset();
                } else {
                    backoff.snooze();
                }
            }
            assert_eq!(rx.recv(&mut got), None);
        });
    }
}
