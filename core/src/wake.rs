//! Sleeping and waking across processes: the waiter-count handshake on the
//! ring's wake line. The core does no system call; an adapter supplies the
//! sleep (a futex wait on the word) and the wake (a futex wake).
//!
//! # No lost wake-up
//!
//! Each side has one 32-bit futex word: a wake sequence in the high 31 bits
//! and a "someone sleeps" flag in bit 0. Every change goes through
//! read-modify-writes of that one word, so they are totally ordered and the
//! argument needs nothing stronger than acquire and release.
//!
//! A consumer about to sleep on an empty ring sets the flag with a
//! compare-exchange (getting the word's value `v`), re-checks the ring, and
//! sleeps only while the word still equals `v`. The producer, after its
//! Release store of the tail, adds 2 to the word (AcqRel); only if the flag
//! was set does it clear it and wake the sleepers (a system call), so a
//! publish with nobody asleep costs one uncontended read-modify-write.
//!
//! - If the consumer's compare-exchange came first in the word's order, the
//!   producer's add sees the flag and wakes it; if the consumer had not yet
//!   gone to sleep, the word no longer equals `v` and its sleep returns at once.
//! - If the producer's add came first, the consumer's compare-exchange read
//!   the value it wrote (Release), so the consumer's re-check sees the tail.
//!
//! Spurious wake-ups only cost a re-check; sleeps are bounded by the adapter's
//! timeouts (which also covers the word wrapping around in 2^31 publishes).
//! The same handshake on the space word lets a gating consumer wake a producer
//! waiting for room. The `*_waiters` header words are spare.

use crate::ring::Ring;
use crate::sync::{AtomicU32, Ordering};

/// Called with a futex word after it was bumped, to wake its sleepers.
pub type WakeFn = fn(&AtomicU32);

/// Which side sleeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Consumers waiting for data.
    Data,
    /// A producer waiting for a gating consumer to make room.
    Space,
}

impl<'a> Ring<'a> {
    fn word(&self, side: Side) -> &'a AtomicU32 {
        match side {
            Side::Data => &self.hdr.data_futex,
            Side::Space => &self.hdr.space_futex,
        }
    }

    /// Announce a sleeper: set the flag and return the value to sleep on.
    /// Re-check the condition after this; sleep (futex wait on
    /// [`Ring::futex_word`] while it equals the value) only if it still holds.
    ///
    /// `None` when the flag could not be set in a bounded number of tries
    /// (the word keeps moving: the other side is busy); then do not sleep,
    /// since nobody would know to wake you: yield and look again.
    pub fn prepare_sleep(&self, side: Side) -> Option<u32> {
        let word = self.word(side);
        let mut v = word.load(Ordering::Acquire);
        // Bounded: each failure means the producer (or another sleeper) moved
        // the word. A strong compare-exchange, so that no failure is spurious.
        for _ in 0..16 {
            if v & 1 != 0 {
                return Some(v);
            }
            match word.compare_exchange(v, v | 1, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Some(v | 1),
                Err(now) => v = now,
            }
        }
        None
    }

    /// The futex word of a side (to sleep on, or to wake).
    pub fn futex_word(&self, side: Side) -> &'a AtomicU32 {
        self.word(side)
    }

    /// The producer's half for data: after a publish, wake sleepers if any.
    pub(crate) fn wake_data(&self, wake: WakeFn) {
        self.wake_side(Side::Data, wake);
    }

    /// Bump the side's word and, if someone announced a sleep, clear the flag
    /// and call `wake` (one uncontended read-modify-write when nobody sleeps).
    pub fn wake_side(&self, side: Side, wake: WakeFn) {
        let word = self.word(side);
        if word.fetch_add(2, Ordering::AcqRel) & 1 != 0 {
            word.fetch_and(!1, Ordering::AcqRel);
            wake(word);
        }
    }

    /// Whether anything is published past `position` (the tail, Acquire).
    pub fn has_data_after(&self, position: u64) -> bool {
        crate::sync::load_acquire(&self.hdr.tail) > position
    }
}
