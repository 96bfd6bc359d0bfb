//! The shared-memory layout: every offset and size as a named constant.
//!
//! A ring occupies one contiguous region, aligned to [`REGION_ALIGN`]:
//!
//! | offset                      | size               | what                                   |
//! |-----------------------------|--------------------|----------------------------------------|
//! | 0                           | 128                | config line: magic, version, sizes, epoch |
//! | 128                         | 128                | intent line: tail-intent, head          |
//! | 256                         | 128                | publish line: tail, latest              |
//! | 384                         | 128                | wake line: futex words for waiters      |
//! | 512                         | 128 × slot count   | consumer slots, one line each           |
//! | 512 + 128 × slots           | capacity           | records                                 |
//!
//! Every field is a little-endian 64-bit word accessed only atomically (the wake
//! line holds 32-bit futex words, likewise only atomic), so the layout is the
//! same on every 64-bit target and no padding depends on the architecture.
//!
//! A record starts on an 8-byte boundary (a 64-byte one in a ring made with
//! [`flags::LINE_ALIGN`]) and never wraps: a padding record fills the end of
//! the ring instead.
//!
//! | record offset | size | what                                                   |
//! |---------------|------|--------------------------------------------------------|
//! | 0             | 4    | kind (high 3 bits) and payload length (low 29 bits)    |
//! | 4             | 4    | user tag                                               |
//! | 8             | 8    | message sequence number                                |
//! | 16            | 8    | xxh3-64 checksum (only when the ring has checksums on) |
//! | 16 or 24      | len  | payload, then unspecified bytes to the record boundary |
//!
//! A record's first word is stored last (Release) and publishes it; the
//! word after a published record is zero until the next record is published
//! there, so each record reserves its bytes and the 8 after it.

use static_assertions::const_assert_eq;

/// Alignment the region's base must have: one (adjacent-line-prefetch) cache line pair.
pub const REGION_ALIGN: usize = 128;
/// Size of one padded line in the header and the slot table.
pub const LINE: usize = 128;

/// `b"SHMCAST\x01"` read as a little-endian `u64`: marks an initialised ring.
pub const MAGIC: u64 = u64::from_le_bytes(*b"SHMCAST\x01");
/// Version of this layout. Rings of another version are refused on attach.
pub const LAYOUT_VERSION: u64 = 2;

/// Byte offsets of the header fields (each an 8-byte word unless noted).
pub mod field {
    /// `MAGIC`, stored last at creation with Release.
    pub const MAGIC: usize = 0;
    /// `LAYOUT_VERSION` of the build that created the ring.
    pub const VERSION: usize = 8;
    /// Feature flags, see [`super::flags`].
    pub const FLAGS: usize = 16;
    /// Data capacity in bytes, a power of two.
    pub const CAPACITY: usize = 24;
    /// Largest payload a message may carry.
    pub const MAX_MESSAGE: usize = 32;
    /// Number of consumer slots.
    pub const SLOT_COUNT: usize = 40;
    /// Offset of the data area from the region base.
    pub const DATA_OFFSET: usize = 48;
    /// Bytes the ring occupies (data offset + capacity).
    pub const TOTAL_SIZE: usize = 56;
    /// Producer epoch: changes whenever a producer initialises or takes over the ring.
    pub const EPOCH: usize = 64;
    /// Epoch of the last producer that restarted the stream (wrote a restart marker).
    pub const RESTART_EPOCH: usize = 72;
    /// Producer ownership: 0 when free, else the owner's epoch.
    pub const PRODUCER: usize = 80;
    /// Opaque producer lease value for liveness checks by an adapter.
    pub const PRODUCER_LEASE: usize = 88;
    /// Position of the restart marker written by the last restarting producer.
    pub const RESTART_POS: usize = 96;

    /// Highest position the producer may be writing (bumped before bytes are written).
    pub const TAIL_INTENT: usize = 128;
    /// Position of the oldest record that is not about to be overwritten.
    pub const HEAD: usize = 136;
    /// Bumped by each consumer that asks to gate, so the producer rescans the slots.
    pub const GATE_JOINS: usize = 144;

    /// End of the published records (Release-stored after the bytes).
    pub const TAIL: usize = 256;
    /// Position of the newest published message record.
    pub const LATEST: usize = 264;

    /// Futex word bumped when data is published while consumers sleep (u32).
    pub const DATA_FUTEX: usize = 384;
    /// Number of consumers sleeping on `DATA_FUTEX` (u32).
    pub const DATA_WAITERS: usize = 388;
    /// Futex word bumped when consumers free space while the producer sleeps (u32).
    pub const SPACE_FUTEX: usize = 392;
    /// Number of producers sleeping on `SPACE_FUTEX` (u32, 0 or 1).
    pub const SPACE_WAITERS: usize = 396;
}

/// Header size: four lines.
pub const HEADER_SIZE: usize = 4 * LINE;

/// Byte offsets inside one consumer slot.
pub mod slot {
    /// State (low 8 bits, see [`super::slot_state`]) and generation (the rest),
    /// changed by compare-exchange.
    pub const STATE: usize = 0;
    /// The consumer's read position (gating consumers publish it for the producer).
    pub const POSITION: usize = 8;
    /// Opaque lease value for liveness checks by an adapter.
    pub const LEASE: usize = 16;
    /// Times the consumer was lapped.
    pub const LAPS: usize = 24;
    /// Messages the consumer lost to laps.
    pub const LOST_MESSAGES: usize = 32;
    /// Rounds of waiting the producer spent on this consumer (one per claim
    /// it held up, one more per 64 waits of a long one).
    pub const PRODUCER_WAITS: usize = 40;
    /// Messages the consumer has read.
    pub const READ_MESSAGES: usize = 48;
}
/// Consumer slot states (low 8 bits of the slot's state word).
pub mod slot_state {
    /// Unused; a consumer may take it.
    pub const FREE: u64 = 0;
    /// A consumer asked to gate; the producer has not yet acknowledged it.
    pub const JOINING: u64 = 1;
    /// The producer never overwrites what this consumer has not read.
    pub const GATING: u64 = 2;
    /// An observable lossy consumer (or a demoted gating one).
    pub const LOSSY: u64 = 3;
    /// Evicted by the producer; freed when its owner notices or is found dead.
    pub const EVICTED: u64 = 4;
}
/// Size of one consumer slot.
pub const SLOT_SIZE: usize = LINE;

/// Header `flags` bits.
pub mod flags {
    /// Records carry an xxh3-64 checksum seeded with their sequence number.
    pub const CHECKSUM: u64 = 1;
    /// Every record starts on a [`super::CACHE_LINE`] boundary (its size is
    /// rounded up to whole lines), so a record of up to a line, and the
    /// header word a waiting reader watches, share one line.
    pub const LINE_ALIGN: u64 = 2;
    /// Every flag this build understands; others are refused on attach.
    pub const KNOWN: u64 = CHECKSUM | LINE_ALIGN;
}

/// Record header size without a checksum.
pub const RECORD_HEADER: usize = 16;
/// Record header size with a checksum.
pub const RECORD_HEADER_CHECKSUM: usize = 24;
/// Records start on this boundary.
pub const RECORD_ALIGN: usize = 8;
/// Records of a ring made with [`flags::LINE_ALIGN`] start on this boundary.
pub const CACHE_LINE: usize = 64;
/// Smallest capacity of a ring with [`flags::LINE_ALIGN`]: two lines a record.
pub const MIN_LINE_ALIGNED_CAPACITY: u64 = 4 * CACHE_LINE as u64;

/// Record kinds (high 3 bits of the first header word). Zeroed memory is no record.
pub mod kind {
    /// A message.
    pub const MESSAGE: u32 = 1;
    /// Filler up to the end of the ring; its length field counts the 8-byte
    /// words it covers, header included.
    pub const PADDING: u32 = 2;
    /// A producer restarted the stream; payload is the new epoch (8 bytes).
    pub const RESTART: u32 = 3;
}
/// Bits of the first header word that hold the payload length.
pub const LEN_BITS: u32 = 29;
/// Mask of the payload length in the first header word.
pub const LEN_MASK: u32 = (1 << LEN_BITS) - 1;

/// Smallest capacity a ring may have.
pub const MIN_CAPACITY: u64 = 64;
/// Largest capacity a ring may have (1 TiB).
pub const MAX_CAPACITY: u64 = 1 << 40;
/// Positions at or past this (4 EiB, decades of traffic) are treated as damage:
/// a producer finding them restarts the stream at 0.
pub const POSITION_LIMIT: u64 = 1 << 62;
/// Most consumer slots a ring may have.
pub const MAX_SLOTS: u64 = 4096;

/// Offset of the data area for `slots` consumer slots.
pub const fn data_offset(slots: usize) -> usize {
    HEADER_SIZE + slots * SLOT_SIZE
}

/// Bytes a region must hold for a ring of `capacity` bytes and `slots` slots.
///
/// ```
/// assert_eq!(shmcast::layout::ring_size(4096, 2), 512 + 2 * 128 + 4096);
/// ```
pub const fn ring_size(capacity: usize, slots: usize) -> usize {
    data_offset(slots) + capacity
}

/// Record header size for the given header `flags`.
pub const fn record_header(flags: u64) -> usize {
    if flags & flags::CHECKSUM != 0 {
        RECORD_HEADER_CHECKSUM
    } else {
        RECORD_HEADER
    }
}

/// Where records start for the given header `flags`: [`RECORD_ALIGN`], or
/// [`CACHE_LINE`] with [`flags::LINE_ALIGN`].
pub const fn record_align(flags: u64) -> u64 {
    if flags & flags::LINE_ALIGN != 0 {
        CACHE_LINE as u64
    } else {
        RECORD_ALIGN as u64
    }
}

/// Largest payload a ring of `capacity` bytes may carry: a record may use at
/// most half the ring. (The producer's intent stride is limited to what the
/// largest record leaves: `capacity - 2 * largest record`.)
pub const fn max_message_limit(capacity: u64, flags: u64) -> u64 {
    let half = (capacity / 2) & !(record_align(flags) - 1);
    clamp_len(half.saturating_sub(record_header(flags) as u64))
}

/// The default largest payload: a quarter of the ring less the record header,
/// which leaves the producer room for intent strides up to half the ring.
pub const fn default_max_message(capacity: u64, flags: u64) -> u64 {
    clamp_len((capacity / 4).saturating_sub(record_header(flags) as u64))
}

const fn clamp_len(len: u64) -> u64 {
    if len > LEN_MASK as u64 {
        LEN_MASK as u64
    } else {
        len
    }
}

/// Bytes a record with a `len`-byte payload occupies, for records aligned to
/// `align` (see [`record_align`]).
///
/// ```
/// use shmcast::layout::{record_size, RECORD_HEADER};
/// assert_eq!(record_size(32, RECORD_HEADER as u64, 8), 48);
/// assert_eq!(record_size(32, RECORD_HEADER as u64, 64), 64);
/// ```
#[inline]
pub const fn record_size(len: u64, header: u64, align: u64) -> u64 {
    (header + len + (align - 1)) & !(align - 1)
}

const_assert_eq!(HEADER_SIZE % REGION_ALIGN, 0);
const_assert_eq!(SLOT_SIZE % REGION_ALIGN, 0);
const_assert_eq!(field::TAIL_INTENT, LINE);
const_assert_eq!(field::TAIL, 2 * LINE);
const_assert_eq!(field::DATA_FUTEX, 3 * LINE);
static_assertions::const_assert!(field::RESTART_POS + 8 <= LINE);
static_assertions::const_assert!(slot::READ_MESSAGES + 8 <= SLOT_SIZE);
const_assert_eq!(MAGIC, 0x0154_5341_434d_4853);
