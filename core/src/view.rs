//! Read-only consumers: a ring in memory this process may only read (a
//! read-only mapping, a file it has no write permission for).
//!
//! The view offers only what the protocol can do without a single store:
//! anonymous lossy readers (no slot, no sleeping on the futex word, which
//! needs a write) and status. A writer, a gating or observed consumer cannot
//! be had from it, so a read-only mapping is never written.

use crate::error::{AttachError, JoinError, ReadError};
use crate::reader::{LapPolicy, Read, Reader, ReaderStats, Start};
use crate::ring::{Ring, Shape, Status};
use crate::ReadRegion;

/// A read-only view of a ring.
#[derive(Debug, Clone, Copy)]
pub struct RingView<'a> {
    ring: Ring<'a>,
}

impl<'a> RingView<'a> {
    /// Attach to a ring in a region that may be read-only, checking every
    /// header field as [`Ring::attach`] does.
    ///
    /// # Errors
    /// As [`Ring::attach`].
    pub fn attach<R: ReadRegion + ?Sized>(region: &'a R) -> Result<RingView<'a>, AttachError> {
        Ring::attach_any(region).map(|ring| RingView { ring })
    }

    /// A view over `region` from a [`Shape`] validated before, without
    /// reading the header again (see [`Ring::with_shape`]).
    ///
    /// # Errors
    /// As [`Ring::with_shape`].
    pub fn with_shape<R: ReadRegion + ?Sized>(
        region: &'a R,
        shape: Shape,
    ) -> Result<RingView<'a>, AttachError> {
        Ring::with_shape_any(region, shape).map(|ring| RingView { ring })
    }

    /// The validated sizes of the ring (see [`Ring::shape`]).
    pub fn shape(&self) -> Shape {
        self.ring.shape()
    }

    /// A lossy reader that never writes to the ring.
    ///
    /// # Errors
    /// As [`Ring::reader`].
    pub fn reader(&self, start: Start) -> Result<ViewReader<'a>, JoinError> {
        self.ring.reader(start).map(|inner| ViewReader { inner })
    }

    /// A snapshot of the producer's state.
    pub fn status(&self) -> Status {
        self.ring.status()
    }

    /// Data capacity in bytes.
    pub fn capacity(&self) -> usize {
        self.ring.capacity()
    }

    /// Largest payload a message may carry.
    pub fn max_message(&self) -> usize {
        self.ring.max_message()
    }

    /// Number of consumer slots.
    pub fn slot_count(&self) -> usize {
        self.ring.slot_count()
    }

    /// Whether records carry checksums.
    pub fn checksum(&self) -> bool {
        self.ring.checksum()
    }

    /// Whether every record starts on a 64-byte line.
    pub fn line_aligned(&self) -> bool {
        self.ring.line_aligned()
    }

    /// A snapshot of consumer slot `slot` (loads only), or `None` past the
    /// slot count. As [`Ring::consumer`].
    pub fn consumer(&self, slot: usize) -> Option<crate::ConsumerInfo> {
        self.ring.consumer(slot)
    }
}

/// A lossy reader of a [`RingView`]: [`Reader`] without anything that writes.
#[derive(Debug, Clone)]
pub struct ViewReader<'a> {
    inner: Reader<'a>,
}

impl ViewReader<'_> {
    /// As [`Reader::try_read`].
    ///
    /// # Errors
    /// As [`Reader::try_read`].
    pub fn try_read(&mut self, buf: &mut [u8]) -> Result<Read, ReadError> {
        self.inner.try_read(buf)
    }
    /// As [`Reader::set_lap_policy`].
    pub fn set_lap_policy(&mut self, policy: LapPolicy) {
        self.inner.set_lap_policy(policy);
    }
    /// As [`Reader::set_fall_behind_tolerance`].
    pub fn set_fall_behind_tolerance(&mut self, numerator: u64, denominator: u64) {
        self.inner.set_fall_behind_tolerance(numerator, denominator);
    }
    /// As [`Reader::position`].
    pub fn position(&self) -> u64 {
        self.inner.position()
    }
    /// As [`Reader::next_seq`].
    pub fn next_seq(&self) -> u64 {
        self.inner.next_seq()
    }
    /// As [`Reader::stats`].
    pub fn stats(&self) -> ReaderStats {
        self.inner.stats()
    }
}
