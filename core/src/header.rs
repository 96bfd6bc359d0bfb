//! The typed view of the shared header and consumer slots.
//!
//! These `#[repr(C)]` structs are laid over the region by [`crate::Ring::attach`]
//! (the one door from bytes to types); loom tests build them directly. Their
//! offsets are pinned against [`crate::layout`] at compile time.

use crate::sync::{AtomicU32, AtomicU64, Ordering};

/// The four header lines, as atomics.
#[repr(C, align(128))]
pub(crate) struct Header {
    // Config line, written once at creation (epoch/producer rarely).
    pub magic: AtomicU64,
    pub version: AtomicU64,
    pub flags: AtomicU64,
    pub capacity: AtomicU64,
    pub max_message: AtomicU64,
    pub slot_count: AtomicU64,
    pub data_offset: AtomicU64,
    pub total_size: AtomicU64,
    pub epoch: AtomicU64,
    pub restart_epoch: AtomicU64,
    pub producer: AtomicU64,
    pub producer_lease: AtomicU64,
    pub restart_pos: AtomicU64,
    _config_pad: [AtomicU64; 3],
    // Intent line: changes once per intent stride.
    pub tail_intent: AtomicU64,
    pub head: AtomicU64,
    pub gate_joins: AtomicU64,
    _intent_pad: [AtomicU64; 13],
    // Publish line: changes on every flush.
    pub tail: AtomicU64,
    pub latest: AtomicU64,
    _publish_pad: [AtomicU64; 14],
    // Wake line: futex words, 32-bit.
    pub data_futex: AtomicU32,
    pub data_waiters: AtomicU32,
    pub space_futex: AtomicU32,
    pub space_waiters: AtomicU32,
    _wake_pad: [AtomicU32; 28],
}

/// One consumer slot, one line.
#[repr(C, align(128))]
pub(crate) struct Slot {
    pub state: AtomicU64,
    pub position: AtomicU64,
    pub lease: AtomicU64,
    pub laps: AtomicU64,
    pub lost_messages: AtomicU64,
    pub producer_waits: AtomicU64,
    pub read_messages: AtomicU64,
    _pad: [AtomicU64; 9],
}

impl Header {
    /// Zero every word (atomically), magic first so nobody attaches mid-way.
    pub(crate) fn clear(&self) {
        self.magic.store(0, Ordering::Relaxed);
        for w in self.words() {
            w.store(0, Ordering::Relaxed);
        }
        for w in [
            &self.data_futex,
            &self.data_waiters,
            &self.space_futex,
            &self.space_waiters,
        ] {
            w.store(0, Ordering::Relaxed);
        }
    }

    fn words(&self) -> [&AtomicU64; 18] {
        [
            &self.version,
            &self.flags,
            &self.capacity,
            &self.max_message,
            &self.slot_count,
            &self.data_offset,
            &self.total_size,
            &self.epoch,
            &self.restart_epoch,
            &self.producer,
            &self.producer_lease,
            &self.restart_pos,
            &self.tail_intent,
            &self.head,
            &self.gate_joins,
            &self.tail,
            &self.latest,
            &self.magic,
        ]
    }

    /// A header with every word zero (loom tests and `new` in tests).
    #[cfg(all(loom, test))]
    pub(crate) fn zeroed() -> Self {
        fn z<const N: usize>() -> [AtomicU64; N] {
            core::array::from_fn(|_| AtomicU64::new(0))
        }
        Header {
            magic: AtomicU64::new(0),
            version: AtomicU64::new(0),
            flags: AtomicU64::new(0),
            capacity: AtomicU64::new(0),
            max_message: AtomicU64::new(0),
            slot_count: AtomicU64::new(0),
            data_offset: AtomicU64::new(0),
            total_size: AtomicU64::new(0),
            epoch: AtomicU64::new(0),
            restart_epoch: AtomicU64::new(0),
            producer: AtomicU64::new(0),
            producer_lease: AtomicU64::new(0),
            restart_pos: AtomicU64::new(0),
            _config_pad: z(),
            tail_intent: AtomicU64::new(0),
            head: AtomicU64::new(0),
            gate_joins: AtomicU64::new(0),
            _intent_pad: z(),
            tail: AtomicU64::new(0),
            latest: AtomicU64::new(0),
            _publish_pad: z(),
            data_futex: AtomicU32::new(0),
            data_waiters: AtomicU32::new(0),
            space_futex: AtomicU32::new(0),
            space_waiters: AtomicU32::new(0),
            _wake_pad: core::array::from_fn(|_| AtomicU32::new(0)),
        }
    }
}

impl Slot {
    /// Zero every word of the slot.
    pub(crate) fn clear(&self) {
        self.state.store(0, Ordering::Relaxed);
        self.clear_counters();
    }

    /// Zero every word but the state.
    pub(crate) fn clear_counters(&self) {
        for w in [
            &self.position,
            &self.lease,
            &self.laps,
            &self.lost_messages,
            &self.producer_waits,
            &self.read_messages,
        ] {
            w.store(0, Ordering::Relaxed);
        }
    }

    /// A slot with every word zero (loom tests).
    #[cfg(all(loom, test))]
    pub(crate) fn zeroed() -> Self {
        Slot {
            state: AtomicU64::new(0),
            position: AtomicU64::new(0),
            lease: AtomicU64::new(0),
            laps: AtomicU64::new(0),
            lost_messages: AtomicU64::new(0),
            producer_waits: AtomicU64::new(0),
            read_messages: AtomicU64::new(0),
            _pad: core::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

#[cfg(not(loom))]
mod pinned {
    use super::{Header, Slot};
    use crate::layout::{field, slot, HEADER_SIZE, REGION_ALIGN, SLOT_SIZE};
    use core::mem::{align_of, offset_of, size_of};
    use static_assertions::const_assert_eq;

    const_assert_eq!(size_of::<Header>(), HEADER_SIZE);
    const_assert_eq!(align_of::<Header>(), REGION_ALIGN);
    const_assert_eq!(size_of::<Slot>(), SLOT_SIZE);
    const_assert_eq!(align_of::<Slot>(), REGION_ALIGN);
    const_assert_eq!(offset_of!(Header, magic), field::MAGIC);
    const_assert_eq!(offset_of!(Header, version), field::VERSION);
    const_assert_eq!(offset_of!(Header, flags), field::FLAGS);
    const_assert_eq!(offset_of!(Header, capacity), field::CAPACITY);
    const_assert_eq!(offset_of!(Header, max_message), field::MAX_MESSAGE);
    const_assert_eq!(offset_of!(Header, slot_count), field::SLOT_COUNT);
    const_assert_eq!(offset_of!(Header, data_offset), field::DATA_OFFSET);
    const_assert_eq!(offset_of!(Header, total_size), field::TOTAL_SIZE);
    const_assert_eq!(offset_of!(Header, epoch), field::EPOCH);
    const_assert_eq!(offset_of!(Header, restart_epoch), field::RESTART_EPOCH);
    const_assert_eq!(offset_of!(Header, producer), field::PRODUCER);
    const_assert_eq!(offset_of!(Header, producer_lease), field::PRODUCER_LEASE);
    const_assert_eq!(offset_of!(Header, restart_pos), field::RESTART_POS);
    const_assert_eq!(offset_of!(Header, tail_intent), field::TAIL_INTENT);
    const_assert_eq!(offset_of!(Header, head), field::HEAD);
    const_assert_eq!(offset_of!(Header, gate_joins), field::GATE_JOINS);
    const_assert_eq!(offset_of!(Header, tail), field::TAIL);
    const_assert_eq!(offset_of!(Header, latest), field::LATEST);
    const_assert_eq!(offset_of!(Header, data_futex), field::DATA_FUTEX);
    const_assert_eq!(offset_of!(Header, data_waiters), field::DATA_WAITERS);
    const_assert_eq!(offset_of!(Header, space_futex), field::SPACE_FUTEX);
    const_assert_eq!(offset_of!(Header, space_waiters), field::SPACE_WAITERS);
    const_assert_eq!(offset_of!(Slot, state), slot::STATE);
    const_assert_eq!(offset_of!(Slot, position), slot::POSITION);
    const_assert_eq!(offset_of!(Slot, lease), slot::LEASE);
    const_assert_eq!(offset_of!(Slot, laps), slot::LAPS);
    const_assert_eq!(offset_of!(Slot, lost_messages), slot::LOST_MESSAGES);
    const_assert_eq!(offset_of!(Slot, producer_waits), slot::PRODUCER_WAITS);
    const_assert_eq!(offset_of!(Slot, read_messages), slot::READ_MESSAGES);
}
