//! Sleeping and waking across processes: the waiter-count handshake on the
//! ring's wake line. The core does no system call; an adapter supplies the
//! sleep (a futex wait on the word) and the wake (a futex wake).
//!
//! # The handshake
//!
//! Each side has one 32-bit futex word: a wake sequence in the high 31 bits
//! and a "someone sleeps" flag in bit 0. Only a sleeper sets the flag, and
//! only a waker that saw it changes the word, so while nobody sleeps the word
//! (and its line) is never written: the waker's side of the handshake is one
//! load of a line every party keeps cached.
//!
//! A sleeper (a consumer on an empty ring, or a producer waiting for room)
//! sets the flag with a compare-exchange (getting the word's value `v`),
//! re-checks its condition, and sleeps only while the word still equals `v`,
//! with a timeout. The waker, after its Release store (the tail, or a
//! consumer's position), loads the word; only if the flag is set does it add
//! 2 to the word (AcqRel), clear the flag and wake the sleepers (a system
//! call).
//!
//! - If the waker's load sees the flag, its add comes after the sleeper's
//!   compare-exchange in the word's order: the word no longer equals `v`, so
//!   the sleep returns at once or is woken.
//! - If the waker's load does not see the flag and the sleeper's re-check
//!   sees the waker's store, the sleeper does not sleep.
//! - Otherwise (the waker's store and its load of the flag passed each other
//!   and the sleeper's set and re-check, the store-buffering case that only
//!   a full fence on both sides rules out) the wake-up is late, not lost: the
//!   waker's next call sees the flag (a later load reads the flag once it is
//!   visible), or the sleep times out and the sleeper re-checks. Adapters
//!   make each wait's first sleep short (see `shmcast-linux`'s `Phases`),
//!   which bounds the delay of this race to it.
//!
//! Sleeps are bounded by the adapter's timeouts anyway, which also covers the
//! word wrapping around in 2^31 wake-ups. An earlier handshake made every
//! publish (and every read of a gating consumer) a read-modify-write of the
//! word: a full barrier per message on both sides, on one line both wrote,
//! which cut one producer and one gating consumer from 67 to 9 million
//! messages a second on the development machine. The `*_waiters` header
//! words are spare.

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
    #[inline]
    pub(crate) fn wake_data(&self, wake: WakeFn) {
        self.wake_side(Side::Data, wake);
    }

    /// After the store that a sleeper on `side` waits for: if someone
    /// announced a sleep, bump the side's word, clear the flag and call
    /// `wake`. When nobody sleeps this is one load, which writes nothing.
    #[inline]
    pub fn wake_side(&self, side: Side, wake: WakeFn) {
        let word = self.word(side);
        if word.load(Ordering::Relaxed) & 1 != 0 {
            self.wake_sleepers(word, wake);
        }
    }

    #[cold]
    fn wake_sleepers(&self, word: &AtomicU32, wake: WakeFn) {
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
