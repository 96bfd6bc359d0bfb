//! Errors, one small enum per operation. All are `Copy`, `no_std` and implement
//! `Display` and `core::error::Error`.

use core::fmt;

/// Why a ring could not be created in a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CreateError {
    /// The region's base is not aligned to [`crate::layout::REGION_ALIGN`].
    Misaligned {
        /// The base address.
        address: usize,
    },
    /// Capacity is not a power of two within
    /// [`MIN_CAPACITY`](crate::layout::MIN_CAPACITY)..=[`MAX_CAPACITY`](crate::layout::MAX_CAPACITY).
    BadCapacity {
        /// The capacity asked for.
        capacity: u64,
    },
    /// The maximum message length exceeds what the capacity allows.
    BadMaxMessage {
        /// The length asked for.
        requested: u64,
        /// The largest allowed for this capacity.
        limit: u64,
    },
    /// More consumer slots than [`MAX_SLOTS`](crate::layout::MAX_SLOTS).
    TooManySlots {
        /// The count asked for.
        requested: u64,
    },
    /// The region is smaller than the ring needs.
    TooSmall {
        /// Bytes needed.
        needed: u64,
        /// Bytes the region has.
        actual: u64,
    },
}

impl fmt::Display for CreateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            CreateError::Misaligned { address } => write!(
                f,
                "region base {address:#x} is not aligned to {} bytes",
                crate::layout::REGION_ALIGN
            ),
            CreateError::BadCapacity { capacity } => write!(
                f,
                "capacity {capacity} is not a power of two between {} ({} for a line-aligned ring) and {}",
                crate::layout::MIN_CAPACITY,
                crate::layout::MIN_LINE_ALIGNED_CAPACITY,
                crate::layout::MAX_CAPACITY
            ),
            CreateError::BadMaxMessage { requested, limit } => write!(
                f,
                "maximum message length {requested} exceeds the limit {limit} for this capacity (half of it, less the record header)"
            ),
            CreateError::TooManySlots { requested } => write!(
                f,
                "{requested} consumer slots requested, at most {} allowed",
                crate::layout::MAX_SLOTS
            ),
            CreateError::TooSmall { needed, actual } => {
                write!(f, "region of {actual} bytes is too small: the ring needs {needed}")
            }
        }
    }
}

impl core::error::Error for CreateError {}

/// Why an existing region was refused as a ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttachError {
    /// The region's base is not aligned to [`crate::layout::REGION_ALIGN`].
    Misaligned {
        /// The base address.
        address: usize,
    },
    /// The region cannot even hold the header.
    TooSmall {
        /// Bytes needed.
        needed: u64,
        /// Bytes the region has.
        actual: u64,
    },
    /// No magic: not a ring, or its creator has not finished initialising it.
    NotInitialised,
    /// Made by a build with another layout version.
    Version {
        /// The version found.
        found: u64,
        /// The version this build speaks.
        supported: u64,
    },
    /// Flags this build does not understand.
    UnknownFlags {
        /// The unknown bits.
        flags: u64,
    },
    /// A header field is inconsistent (bad capacity, sizes, or positions).
    Corrupt {
        /// Which field.
        field: &'static str,
        /// Its value.
        value: u64,
    },
}

impl fmt::Display for AttachError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            AttachError::Misaligned { address } => write!(
                f,
                "region base {address:#x} is not aligned to {} bytes",
                crate::layout::REGION_ALIGN
            ),
            AttachError::TooSmall { needed, actual } => {
                write!(f, "region of {actual} bytes is too small: the ring needs {needed}")
            }
            AttachError::NotInitialised => {
                f.write_str("no ring here: magic missing (not a ring, or not initialised yet)")
            }
            AttachError::Version { found, supported } => write!(
                f,
                "ring has layout version {found}, this build supports {supported}: use a matching build or recreate the ring"
            ),
            AttachError::UnknownFlags { flags } => {
                write!(f, "ring uses flags {flags:#x} that this build does not know")
            }
            AttachError::Corrupt { field, value } => {
                write!(f, "ring header is corrupt: {field} = {value:#x}")
            }
        }
    }
}

impl core::error::Error for AttachError {}

/// Why a producer could not start on a ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProducerError {
    /// Another producer holds the ring (its epoch is given). Use
    /// [`crate::Ring::take_over`] once you know it is dead.
    Active {
        /// The live producer's epoch.
        epoch: u64,
    },
}

impl fmt::Display for ProducerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ProducerError::Active { epoch } => write!(
                f,
                "another producer (epoch {epoch}) holds the ring; take over only once it is known dead"
            ),
        }
    }
}

impl core::error::Error for ProducerError {}

/// Why a message could not be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriteError {
    /// A gating consumer has not read far enough to make room (only from
    /// [`crate::Writer::try_claim`], or when a wait strategy gives up).
    Full {
        /// Slot of the consumer holding the producer back.
        slot: usize,
    },
    /// The message is longer than the ring's maximum.
    TooLong {
        /// The length asked for.
        len: usize,
        /// The ring's maximum message length.
        max: usize,
    },
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            WriteError::Full { slot } => write!(
                f,
                "ring full: gating consumer in slot {slot} has not read far enough"
            ),
            WriteError::TooLong { len, max } => {
                write!(
                    f,
                    "message of {len} bytes exceeds the ring's maximum of {max}"
                )
            }
        }
    }
}

impl core::error::Error for WriteError {}

/// A write into a claim outside the claimed length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfBounds {
    /// Offset of the write.
    pub offset: usize,
    /// Bytes written.
    pub len: usize,
    /// The claim's length.
    pub claimed: usize,
}

impl fmt::Display for OutOfBounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "write of {} bytes at offset {} exceeds the claim of {} bytes",
            self.len, self.offset, self.claimed
        )
    }
}

impl core::error::Error for OutOfBounds {}

/// Why a read failed. The reader's position is unchanged, so the same record is
/// tried again on the next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReadError {
    /// The caller's buffer is shorter than the message.
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
    },
    /// The record at the reader's position is malformed although the producer
    /// has not lapped it: the memory was damaged.
    Corrupt {
        /// Reader position of the bad record.
        position: u64,
    },
    /// The checksum of a record does not match its contents.
    Checksum {
        /// Sequence number of the bad record.
        seq: u64,
    },
    /// A lazily read message was overwritten before it was copied.
    Overwritten {
        /// Its sequence number.
        seq: u64,
    },
    /// The producer evicted this consumer (it held the producer back too
    /// long); it has lost its slot and reads on as an anonymous lossy reader.
    Evicted,
    /// The producer kept overwriting the resynchronisation point faster than
    /// the reader could read it; call again.
    Overrun,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ReadError::BufferTooSmall { needed } => {
                write!(f, "buffer too small: the message needs {needed} bytes")
            }
            ReadError::Corrupt { position } => {
                write!(f, "corrupt record at position {position}")
            }
            ReadError::Checksum { seq } => write!(f, "checksum mismatch in message {seq}"),
            ReadError::Overwritten { seq } => {
                write!(f, "message {seq} was overwritten before it was read")
            }
            ReadError::Evicted => f.write_str(
                "evicted by the producer for holding it back; reading on as a lossy reader",
            ),
            ReadError::Overrun => {
                f.write_str("producer overran the resynchronisation point; try again")
            }
        }
    }
}

impl core::error::Error for ReadError {}

/// Why a reader could not join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JoinError {
    /// The requested sequence number is no longer (or not yet) in the ring.
    NotPresent {
        /// The sequence asked for.
        seq: u64,
    },
    /// Every consumer slot is taken.
    NoFreeSlot,
    /// The ring's records could not be walked (damaged, or overwritten
    /// faster than they could be read); try again.
    Unstable,
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            JoinError::NotPresent { seq } => write!(f, "message {seq} is not in the ring"),
            JoinError::NoFreeSlot => f.write_str(
                "every consumer slot is taken: create the ring with more slots or free one",
            ),
            JoinError::Unstable => {
                f.write_str("could not find a stable record to join at; try again")
            }
        }
    }
}

impl core::error::Error for JoinError {}
