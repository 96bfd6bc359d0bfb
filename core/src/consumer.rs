//! Consumer slots: gating consumers (the producer waits for them) and
//! observable lossy ones, side by side on one ring.
//!
//! # The gating handshake
//!
//! A consumer takes a free slot (compare-exchange, bumping the generation),
//! joins at the tail as a lossy reader, publishes its position and marks the
//! slot `JOINING`, then bumps the header's `gate_joins`. The producer checks
//! `gate_joins` (on its own intent line) whenever it raises its intent; when it
//! changed, it rescans the slots and acknowledges a joining consumer (`JOINING`
//! to `GATING`) only if that consumer's position is still intact, that is
//! `position + capacity >= tail_intent`. From then on the producer never raises
//! its intent past `position + capacity` of any gating consumer, so nothing the
//! consumer has not read is overwritten. Until acknowledged, the consumer reads
//! as a lossy reader with full lap detection, so the handshake needs no fence
//! beyond the Release/Acquire pairs on the slot words.
//!
//! A gating consumer publishes its position (Release) in steps: every
//! sixteenth of the ring it reads (by default), whenever it finds the ring
//! empty or a `pending` iteration ends, when it is dropped, and within a
//! kibibyte of reading once the producer has begun a round of waiting for
//! room (it bumps the slot's `producer_waits`; the reader looks at its slot
//! every kibibyte it reads); see [`Reader::release`]. The producer reads the
//! position (Acquire) before it overwrites anything below
//! `position + capacity`. A position shown late only holds back room: the
//! producer never overwrites what the consumer has not read.
//!
//! A producer that has waited too long demotes (`GATING` to `LOSSY`) or evicts
//! (`EVICTED`) the consumer holding it back. An evicted slot stays taken until
//! its owner notices and frees it (or an adapter that knows the owner is dead
//! calls [`Ring::reclaim_slot`]), so a stale owner can never write into a slot
//! that someone else has since taken.

use crate::error::JoinError;
use crate::layout::slot_state::{EVICTED, FREE, GATING, JOINING, LOSSY};
use crate::reader::{Reader, Start};
use crate::ring::Ring;
use crate::sync::Ordering;

/// A slot held by a reader: its index and the generation it was taken with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SlotLease {
    pub index: usize,
    pub gen: u64,
}

/// What a consumer slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotState {
    /// Unused.
    Free,
    /// Waiting for the producer to acknowledge it as gating.
    Joining,
    /// The producer waits for it.
    Gating,
    /// Lossy: never waited for.
    Lossy,
    /// Evicted by the producer; not yet freed by its owner.
    Evicted,
    /// A state this build does not know (damaged memory).
    Unknown(u8),
}

impl SlotState {
    pub(crate) fn from_word(word: u64) -> SlotState {
        match word & 0xff {
            FREE => SlotState::Free,
            JOINING => SlotState::Joining,
            GATING => SlotState::Gating,
            LOSSY => SlotState::Lossy,
            EVICTED => SlotState::Evicted,
            other => SlotState::Unknown(other as u8),
        }
    }
}

/// A snapshot of one consumer slot, for monitoring (see [`Ring::consumer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsumerInfo {
    /// Slot index.
    pub slot: usize,
    /// State.
    pub state: SlotState,
    /// Generation: bumped each time the slot is taken.
    pub generation: u64,
    /// Read position as the consumer last showed it (end of a message
    /// consumed; it shows it in steps, see [`Reader::release`]).
    pub position: u64,
    /// Lease value published by the owner (for liveness checks).
    pub lease: u64,
    /// Times lapped.
    pub laps: u64,
    /// Messages lost to laps.
    pub lost_messages: u64,
    /// Rounds of waiting the producer spent on this consumer: one for each
    /// claim it held up, and one more for every 64 waits of a long one.
    pub producer_waits: u64,
    /// Messages read, as of the last step that showed the position.
    pub read_messages: u64,
}

impl<'a> Ring<'a> {
    /// A gating reader: the producer never overwrites what it has not read
    /// (once acknowledged, see the module docs). Joins at the tail and takes a
    /// consumer slot; dropping the reader frees it.
    ///
    /// # Errors
    /// [`JoinError::NoFreeSlot`] when every slot is taken; as [`Ring::reader`].
    pub fn gating_reader(self) -> Result<Reader<'a>, JoinError> {
        self.slotted_reader(Start::Tail, JOINING)
    }

    /// A lossy reader that takes a consumer slot, so its position and counters
    /// can be observed from outside (`shmcast stat`).
    ///
    /// # Errors
    /// [`JoinError::NoFreeSlot`] when every slot is taken; as [`Ring::reader`].
    pub fn observed_reader(self, start: Start) -> Result<Reader<'a>, JoinError> {
        self.slotted_reader(start, LOSSY)
    }

    fn slotted_reader(self, start: Start, state: u64) -> Result<Reader<'a>, JoinError> {
        let lease = self.take_slot().ok_or(JoinError::NoFreeSlot)?;
        let mut reader = match self.reader(start) {
            Ok(r) => r,
            Err(e) => {
                self.release_slot(lease);
                return Err(e);
            }
        };
        let s = &self.slots[lease.index];
        s.position.store(reader.position(), Ordering::Release);
        s.state.store(lease.gen << 8 | state, Ordering::Release);
        if state == JOINING {
            self.hdr.gate_joins.fetch_add(1, Ordering::Release);
        }
        reader.attach_slot(lease);
        Ok(reader)
    }

    /// Take a free slot, bumping its generation. The slot is left `LOSSY`
    /// (never waited for) until its position is set.
    fn take_slot(&self) -> Option<SlotLease> {
        for (index, s) in self.slots.iter().enumerate() {
            let word = s.state.load(Ordering::Acquire);
            if word & 0xff != FREE {
                continue;
            }
            let gen = (word >> 8).wrapping_add(1) & (u64::MAX >> 8);
            if s.state
                .compare_exchange(word, gen << 8 | LOSSY, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                s.clear_counters();
                return Some(SlotLease { index, gen });
            }
        }
        None
    }

    /// Free a slot if it is still ours.
    pub(crate) fn release_slot(&self, lease: SlotLease) {
        let s = &self.slots[lease.index];
        let word = s.state.load(Ordering::Acquire);
        if word >> 8 == lease.gen {
            let _ = s.state.compare_exchange(
                word,
                lease.gen << 8 | FREE,
                Ordering::AcqRel,
                Ordering::Relaxed,
            );
        }
    }

    /// Free an evicted or abandoned slot whose owner is known to be dead (the
    /// adapters decide that with a liveness check on its lease), if it still
    /// holds `generation` (from [`Blocked`](crate::Blocked) or
    /// [`ConsumerInfo`]): a slot taken again since by a live consumer is left
    /// alone. Returns whether the slot was freed.
    pub fn reclaim_slot(&self, slot: usize, generation: u64) -> bool {
        let Some(s) = self.slots.get(slot) else {
            return false;
        };
        let word = s.state.load(Ordering::Acquire);
        word & 0xff != FREE
            && word >> 8 == generation
            && s.state
                .compare_exchange(word, word & !0xff, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
    }

    /// A snapshot of consumer slot `slot`, or `None` past the slot count.
    pub fn consumer(&self, slot: usize) -> Option<ConsumerInfo> {
        let s = self.slots.get(slot)?;
        let r = Ordering::Relaxed;
        let word = crate::sync::load_acquire(&s.state);
        Some(ConsumerInfo {
            slot,
            state: SlotState::from_word(word),
            generation: word >> 8,
            position: s.position.load(r),
            lease: s.lease.load(r),
            laps: s.laps.load(r),
            lost_messages: s.lost_messages.load(r),
            producer_waits: s.producer_waits.load(r),
            read_messages: s.read_messages.load(r),
        })
    }
}
