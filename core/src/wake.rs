//! Sleeping and waking across processes: the waiter-count handshake on the
//! ring's wake line. The core does no system call; an adapter supplies the
//! sleep (a futex wait on the word) and the wake (a futex wake).
//!
//! # No lost wake-up
//!
//! A consumer about to sleep on an empty ring:
//! 1. reads the data word `w`;
//! 2. increments the waiter count (SeqCst);
//! 3. checks the ring again (a SeqCst fence, then the tail); if there is
//!    data, it decrements the count and reads;
//! 4. otherwise sleeps only while the data word still equals `w`, then
//!    decrements the count.
//!
//! The producer, after its Release store of the tail, issues a SeqCst fence
//! and reads the waiter count; if it is not zero, it bumps the data word and
//! wakes the sleepers. The two SeqCst fences are ordered one way or the other:
//! either the producer's comes first, and the consumer's re-check in step 3
//! sees the new tail, or the consumer's comes first, and the producer sees the
//! waiter and bumps the word, so the sleep in step 4 returns at once (the word
//! changed) or is woken. Spurious wake-ups only cost a re-check. The same
//! handshake, with the space word and count, lets a gating consumer wake a
//! producer waiting for room.

use crate::ring::Ring;
use crate::sync::{fence, AtomicU32, Ordering};

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
    fn words(&self, side: Side) -> (&'a AtomicU32, &'a AtomicU32) {
        match side {
            Side::Data => (&self.hdr.data_futex, &self.hdr.data_waiters),
            Side::Space => (&self.hdr.space_futex, &self.hdr.space_waiters),
        }
    }

    /// Steps 1 and 2: announce a sleeper and return the word's value to
    /// sleep on. Follow with a re-check of the condition, then either
    /// [`Ring::cancel_sleep`] or a sleep on [`Ring::futex_word`] and
    /// [`Ring::cancel_sleep`].
    pub fn prepare_sleep(&self, side: Side) -> u32 {
        let (word, waiters) = self.words(side);
        let w = word.load(Ordering::Acquire);
        waiters.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        w
    }

    /// Withdraw a sleeper announced by [`Ring::prepare_sleep`].
    pub fn cancel_sleep(&self, side: Side) {
        let (_, waiters) = self.words(side);
        // A damaged count may be zero already: never wrap it.
        let _ = waiters.fetch_update(Ordering::AcqRel, Ordering::Relaxed, |n| n.checked_sub(1));
    }

    /// The futex word of a side (to sleep on, or to wake).
    pub fn futex_word(&self, side: Side) -> &'a AtomicU32 {
        self.words(side).0
    }

    /// The producer's half for data: after a publish, wake sleepers if any.
    pub(crate) fn wake_data(&self, wake: WakeFn) {
        self.wake_side(Side::Data, wake);
    }

    /// Wake the sleepers of `side`, if the waiter count says there are any
    /// (a SeqCst fence, a load, and nothing more when nobody sleeps).
    pub fn wake_side(&self, side: Side, wake: WakeFn) {
        let (word, waiters) = self.words(side);
        fence(Ordering::SeqCst);
        if waiters.load(Ordering::Relaxed) != 0 {
            word.fetch_add(1, Ordering::Release);
            wake(word);
        }
    }

    /// Whether anything is published past `position` (the tail, Acquire).
    pub fn has_data_after(&self, position: u64) -> bool {
        self.hdr.tail.load(Ordering::Acquire) > position
    }
}
