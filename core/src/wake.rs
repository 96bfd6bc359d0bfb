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
//!   visible), or the sleep times out and the sleeper re-checks. The race
//!   needs the flag to be set while the waker stores, so it can only follow
//!   an announcement that set the flag ([`Announced::fresh`]); adapters make
//!   that sleep short (`shmcast-linux`'s `FIRST_NAP`), which bounds the delay.
//!   A sleeper that times out of it to find its condition met (the word
//!   unchanged: no waker came) wakes the others ([`Ring::wake_if_late`]),
//!   who may have found the flag already set and be sleeping long.
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

/// A sleeper's announcement (see [`Ring::prepare_sleep`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Announced {
    /// The word's value to sleep on: sleep while the word equals it.
    pub value: u32,
    /// Whether this announcement set the flag (nobody had announced a sleep
    /// since the last wake-up). Only then can a waker racing the
    /// announcement miss it, so the sleep that follows should be short.
    pub fresh: bool,
}

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
    /// [`Ring::futex_word`] while it equals [`Announced::value`]) only if it
    /// still holds, and briefly if [`Announced::fresh`].
    ///
    /// `None` when the flag could not be set in a bounded number of tries
    /// (the word keeps moving: the other side is busy); then do not sleep,
    /// since nobody would know to wake you: yield and look again.
    pub fn prepare_sleep(&self, side: Side) -> Option<Announced> {
        let word = self.word(side);
        let mut v = word.load(Ordering::Acquire);
        // Bounded: each failure means the producer (or another sleeper) moved
        // the word. A strong compare-exchange, so that no failure is spurious.
        for _ in 0..16 {
            if v & 1 != 0 {
                return Some(Announced {
                    value: v,
                    fresh: false,
                });
            }
            match word.compare_exchange(v, v | 1, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    return Some(Announced {
                        value: v | 1,
                        fresh: true,
                    })
                }
                Err(now) => v = now,
            }
        }
        None
    }

    /// After a sleep on `side` that ended with the word still `value` (no
    /// waker came) and the condition met (the awaited store happened): the
    /// race of the module docs. Wake the other sleepers, who may be sleeping
    /// long on the same late wake-up.
    pub fn wake_if_late(&self, side: Side, value: u32, wake: WakeFn) {
        let word = self.word(side);
        // `value` has the flag set: equal, the sleepers are still there.
        if word.load(Ordering::Relaxed) == value {
            self.wake_sleepers(word, wake);
        }
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
