//! [`Ring`]: a validated view of a ring in a region, and the record walk that
//! the writer and readers share.

use crate::copy;
#[cfg(not(all(loom, test)))]
use crate::error::AttachError;
use crate::error::{CreateError, ProducerError};
use crate::header::{Header, Slot};
use crate::layout::{self, flags, kind};
use crate::sync::{fence, load_acquire, AtomicU64, Ordering};
use crate::writer::{Continuation, Writer};

/// How a ring is made: capacity, message limit, consumer slots, checksums.
///
/// ```
/// let cfg = shmcast::RingConfig::new(1 << 16).max_message(1024).slots(4).checksum(true);
/// assert_eq!(cfg.region_size(), shmcast::layout::ring_size(1 << 16, 4));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingConfig {
    capacity: u64,
    max_message: Option<u64>,
    slots: u64,
    checksum: bool,
    line_aligned: bool,
}

impl RingConfig {
    /// A ring with `capacity` data bytes (a power of two), the largest message
    /// the capacity allows, no consumer slots and no checksums.
    pub const fn new(capacity: usize) -> Self {
        RingConfig {
            capacity: capacity as u64,
            max_message: None,
            slots: 0,
            checksum: false,
            line_aligned: false,
        }
    }
    /// Largest payload a message may carry (default: a quarter of the capacity
    /// less the record header; at most half of it less the header).
    pub const fn max_message(mut self, len: usize) -> Self {
        self.max_message = Some(len as u64);
        self
    }
    /// Number of consumer slots in the header (for gating and observable consumers).
    pub const fn slots(mut self, slots: usize) -> Self {
        self.slots = slots as u64;
        self
    }
    /// Whether every record carries an xxh3-64 checksum seeded with its sequence.
    pub const fn checksum(mut self, on: bool) -> Self {
        self.checksum = on;
        self
    }
    /// Whether every record starts on a 64-byte cache line
    /// ([`layout::flags::LINE_ALIGN`]). A message of up to 48 bytes (40 with
    /// checksums) then travels in one line with its header, which a waiting
    /// reader is already watching: one cache-line transfer from producer to
    /// consumer instead of two for records that would straddle a line. Costs
    /// the rest of each record's last line (a 1-byte message takes 64 bytes).
    /// Needs a capacity of at least [`layout::MIN_LINE_ALIGNED_CAPACITY`].
    ///
    /// ```
    /// let cfg = shmcast::RingConfig::new(1 << 16).line_aligned(true);
    /// assert!(cfg.validate().is_ok());
    /// assert!(shmcast::RingConfig::new(128).line_aligned(true).validate().is_err());
    /// ```
    pub const fn line_aligned(mut self, on: bool) -> Self {
        self.line_aligned = on;
        self
    }
    /// Check the configuration without a region.
    ///
    /// # Errors
    /// As [`Ring::create`], less the region's own checks.
    pub fn validate(&self) -> Result<(), CreateError> {
        Geometry::from_config(self).map(|_| ())
    }

    /// Bytes a region needs to hold this ring.
    pub const fn region_size(&self) -> usize {
        layout::ring_size(self.capacity as usize, self.slots as usize)
    }
    /// Data bytes in the ring.
    pub const fn capacity(&self) -> usize {
        self.capacity as usize
    }
    /// The same configuration with another capacity; the message limit (if
    /// set), slots and checksums are kept. For adapters that round a region
    /// up (to whole huge pages) and let the ring use it all.
    ///
    /// ```
    /// let cfg = shmcast::RingConfig::new(4096).slots(2).with_capacity(1 << 20);
    /// assert_eq!(cfg.capacity(), 1 << 20);
    /// assert_eq!(cfg.region_size(), shmcast::layout::ring_size(1 << 20, 2));
    /// ```
    pub const fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity as u64;
        self
    }
    fn flags(&self) -> u64 {
        flag_bits(self.checksum, self.line_aligned)
    }
}

/// The header `flags` for a ring's options.
const fn flag_bits(checksum: bool, line_aligned: bool) -> u64 {
    (if checksum { flags::CHECKSUM } else { 0 })
        | (if line_aligned { flags::LINE_ALIGN } else { 0 })
}

/// The sizes of a ring, validated once and then never re-read from shared memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub capacity: u64,
    pub mask: u64,
    pub max_message: u64,
    /// Record header size: 16, or 24 with checksums.
    pub header: u64,
    /// Where records start: 8, or 64 for line-aligned rings.
    pub align: u64,
    pub checksum: bool,
    pub slots: usize,
}

impl Geometry {
    /// Check a configuration; used by `create` and by loom tests.
    pub(crate) fn from_config(cfg: &RingConfig) -> Result<Geometry, CreateError> {
        let capacity = cfg.capacity;
        let min = if cfg.line_aligned {
            layout::MIN_LINE_ALIGNED_CAPACITY
        } else {
            layout::MIN_CAPACITY
        };
        if !capacity.is_power_of_two() || !(min..=layout::MAX_CAPACITY).contains(&capacity) {
            return Err(CreateError::BadCapacity { capacity });
        }
        if cfg.slots > layout::MAX_SLOTS {
            return Err(CreateError::TooManySlots {
                requested: cfg.slots,
            });
        }
        let flags = cfg.flags();
        let limit = layout::max_message_limit(capacity, flags);
        let max_message = cfg
            .max_message
            .unwrap_or(layout::default_max_message(capacity, flags));
        if max_message > limit {
            return Err(CreateError::BadMaxMessage {
                requested: max_message,
                limit,
            });
        }
        Ok(Geometry {
            capacity,
            mask: capacity - 1,
            max_message,
            header: layout::record_header(flags) as u64,
            align: layout::record_align(flags),
            checksum: cfg.checksum,
            slots: cfg.slots as usize,
        })
    }

    fn flags(&self) -> u64 {
        flag_bits(self.checksum, self.align != layout::RECORD_ALIGN as u64)
    }

    /// Largest intent stride: two of the largest records and a stride must fit
    /// in the ring, so that the producer's head walk only crosses written records.
    pub(crate) fn max_stride(&self) -> u64 {
        self.capacity.saturating_sub(2 * self.largest_record()) & !7
    }

    /// The largest record the ring may hold: a message of the largest
    /// payload, or a restart marker (8 bytes of payload), whichever is larger.
    pub(crate) fn largest_record(&self) -> u64 {
        self.record_size(self.max_message.max(8))
    }

    /// Whether the producer zeroes the words where records will end a few
    /// lines ahead of itself (line-aligned rings), not as it seals each
    /// record (see `Writer::clear_to`).
    #[inline(always)]
    pub(crate) fn clears_ahead(&self) -> bool {
        self.align != layout::RECORD_ALIGN as u64
    }

    /// Bytes of a record with a `len`-byte payload.
    #[inline]
    pub(crate) fn record_size(&self, len: u64) -> u64 {
        layout::record_size(len, self.header, self.align)
    }

    /// [`Ring::frame_of`] for a message, the only kind the readers' fast
    /// paths take: for a first header word `w0` at ring offset `off`, the
    /// payload length and record size of a message within the message
    /// limit that ends inside the lap, or `None` for anything else. The
    /// kind is in the top bits and the length under them, so one
    /// subtraction leaves the length of a message and a number past any
    /// message limit for every other kind, an empty word included (the
    /// limit is below 2^LEN_BITS). `header` is the ring's record header in
    /// bytes, which the caller knows as a constant (the fast paths run only
    /// on rings without checksums): so the size is computed without loading
    /// it.
    #[inline(always)]
    pub(crate) fn message_at(&self, header: u64, off: u64, w0: u64) -> Option<(u64, u64)> {
        debug_assert_eq!(header, self.header);
        let len = (w0 as u32).wrapping_sub(kind::MESSAGE << layout::LEN_BITS) as u64;
        let size = layout::record_size(len, header, self.align);
        (len <= self.max_message && size <= self.capacity - off).then_some((len, size))
    }
}

/// A ring: typed references into a region, with its validated sizes.
///
/// `Ring` is a cheap `Copy` handle. Make one with [`Ring::create`] or
/// [`Ring::attach`], then take one [`Writer`] and any number of
/// [`Reader`](crate::Reader)s from it, in this process or another one that maps
/// the same memory.
#[derive(Clone, Copy)]
pub struct Ring<'a> {
    pub(crate) hdr: &'a Header,
    pub(crate) slots: &'a [Slot],
    pub(crate) data: &'a [AtomicU64],
    pub(crate) geo: Geometry,
}

impl core::fmt::Debug for Ring<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ring")
            .field("capacity", &self.geo.capacity)
            .field("max_message", &self.geo.max_message)
            .field("slots", &self.geo.slots)
            .field("checksum", &self.geo.checksum)
            .field("line_aligned", &self.line_aligned())
            .finish()
    }
}

#[cfg(not(all(loom, test)))]
impl<'a> Ring<'a> {
    /// Initialise a new ring in `region`, overwriting whatever it held.
    ///
    /// The header is written with the magic stored last (Release), so a process
    /// that attaches concurrently sees either no ring or a complete header.
    /// Only the first data word is cleared (zero: no record there yet, see
    /// [`crate::writer`]); nothing else is read before it is written.
    ///
    /// # Errors
    /// [`CreateError`] if the configuration is invalid or the region is
    /// misaligned or too small.
    pub fn create<R: crate::Region + ?Sized>(
        region: &'a R,
        cfg: &RingConfig,
    ) -> Result<Ring<'a>, CreateError> {
        let geo = Geometry::from_config(cfg)?;
        let base = region.base();
        let address = base.as_ptr() as usize;
        if !address.is_multiple_of(layout::REGION_ALIGN) {
            return Err(CreateError::Misaligned { address });
        }
        let needed = cfg.region_size() as u64;
        if (region.size() as u64) < needed {
            return Err(CreateError::TooSmall {
                needed,
                actual: region.size() as u64,
            });
        }
        // SAFETY: alignment and size were checked just above.
        let ring = unsafe { Self::from_region(region, geo) };
        ring.init();
        Ok(ring)
    }

    /// Attach to a ring that another party created in `region`, checking every
    /// header field. Never waits: a ring whose creator has not finished is
    /// [`AttachError::NotInitialised`].
    ///
    /// # Errors
    /// [`AttachError`] naming the first check that failed.
    pub fn attach<R: crate::Region + ?Sized>(region: &'a R) -> Result<Ring<'a>, AttachError> {
        Self::attach_any(region)
    }

    /// A handle over `region` for a ring whose header was validated before
    /// (by [`Ring::create`] or [`Ring::attach`] on the same region), from the
    /// [`Shape`] kept then. The header is not read again: sizes are never
    /// re-read from shared memory, so a peer that scribbles over the header
    /// later cannot turn this into a panic or an out-of-bounds access (reads
    /// then see damage as typed errors).
    ///
    /// # Errors
    /// [`AttachError::Misaligned`] or [`AttachError::TooSmall`] if `region`
    /// cannot hold a ring of that shape.
    pub fn with_shape<R: crate::Region + ?Sized>(
        region: &'a R,
        shape: Shape,
    ) -> Result<Ring<'a>, AttachError> {
        Self::with_shape_any(region, shape)
    }

    pub(crate) fn with_shape_any<R: crate::ReadRegion + ?Sized>(
        region: &'a R,
        shape: Shape,
    ) -> Result<Ring<'a>, AttachError> {
        let geo = shape.0;
        let address = region.read_base().as_ptr() as usize;
        if !address.is_multiple_of(layout::REGION_ALIGN) {
            return Err(AttachError::Misaligned { address });
        }
        let needed = layout::data_offset(geo.slots) as u64 + geo.capacity;
        let actual = region.read_size() as u64;
        if actual < needed {
            return Err(AttachError::TooSmall { needed, actual });
        }
        // SAFETY: alignment and size for `geo` were checked just above.
        Ok(unsafe { Self::from_region(region, geo) })
    }

    /// `attach` for any readable region; only [`crate::RingView`] (which
    /// never writes) gets a ring this way from a read-only one.
    pub(crate) fn attach_any<R: crate::ReadRegion + ?Sized>(
        region: &'a R,
    ) -> Result<Ring<'a>, AttachError> {
        let base = region.read_base();
        let address = base.as_ptr() as usize;
        if !address.is_multiple_of(layout::REGION_ALIGN) {
            return Err(AttachError::Misaligned { address });
        }
        let size = region.read_size() as u64;
        if size < layout::HEADER_SIZE as u64 {
            return Err(AttachError::TooSmall {
                needed: layout::HEADER_SIZE as u64,
                actual: size,
            });
        }
        let hdr_ptr = base.as_ptr().cast::<Header>();
        // SAFETY: `Header` is `repr(C)` atomics only, so every byte pattern is a
        // valid value and shared mutation by others is permitted;
        // - alignment: base is REGION_ALIGN-aligned (checked) = align_of::<Header>();
        // - validity: the region holds at least HEADER_SIZE = size_of::<Header>()
        //   bytes (checked), live for 'a by the `Region` contract;
        // - aliasing: the region's bytes are only accessed atomically.
        let hdr = unsafe { &*hdr_ptr };
        let geo = validate(hdr, size)?;
        // SAFETY: `validate` checked alignment (above) and that the slots and data
        // area fit in the region.
        Ok(unsafe { Self::from_region(region, geo) })
    }

    /// # Safety
    /// The region is REGION_ALIGN-aligned and holds `layout::ring_size(geo)` bytes.
    unsafe fn from_region<R: crate::ReadRegion + ?Sized>(region: &'a R, geo: Geometry) -> Ring<'a> {
        let base = region.read_base().as_ptr();
        let slots_ptr = base.wrapping_add(layout::HEADER_SIZE).cast::<Slot>();
        let data_ptr = base
            .wrapping_add(layout::data_offset(geo.slots))
            .cast::<AtomicU64>();
        // SAFETY: as in `attach`: Header is plain atomics, aligned and in bounds by
        // the caller's promise, live for 'a by the Region contract.
        let hdr = unsafe { &*base.cast::<Header>() };
        // SAFETY: Slot is plain atomics, 128-aligned (HEADER_SIZE is a multiple of
        // 128); `geo.slots` slots fit before the data area by the caller's promise.
        let slots = unsafe { core::slice::from_raw_parts(slots_ptr, geo.slots) };
        // SAFETY: AtomicU64 has the size and alignment of u64; the data area starts
        // on a 128-byte boundary and holds `capacity` bytes = capacity / 8 words,
        // in bounds by the caller's promise.
        let data = unsafe { core::slice::from_raw_parts(data_ptr, (geo.capacity / 8) as usize) };
        Ring {
            hdr,
            slots,
            data,
            geo,
        }
    }
}

/// Check a header against a region of `size` bytes.
#[cfg(not(all(loom, test)))]
fn validate(hdr: &Header, size: u64) -> Result<Geometry, AttachError> {
    let corrupt = |field, value| Err(AttachError::Corrupt { field, value });
    if load_acquire(&hdr.magic) != layout::MAGIC {
        return Err(AttachError::NotInitialised);
    }
    let version = hdr.version.load(Ordering::Relaxed);
    if version != layout::LAYOUT_VERSION {
        return Err(AttachError::Version {
            found: version,
            supported: layout::LAYOUT_VERSION,
        });
    }
    let fl = hdr.flags.load(Ordering::Relaxed);
    if fl & !flags::KNOWN != 0 {
        return Err(AttachError::UnknownFlags {
            flags: fl & !flags::KNOWN,
        });
    }
    let capacity = hdr.capacity.load(Ordering::Relaxed);
    let slots = hdr.slot_count.load(Ordering::Relaxed);
    let max_message = hdr.max_message.load(Ordering::Relaxed);
    let cfg = RingConfig {
        capacity,
        max_message: Some(max_message),
        slots,
        checksum: fl & flags::CHECKSUM != 0,
        line_aligned: fl & flags::LINE_ALIGN != 0,
    };
    let geo = match Geometry::from_config(&cfg) {
        Ok(geo) => geo,
        Err(CreateError::BadCapacity { capacity }) => return corrupt("capacity", capacity),
        Err(CreateError::TooManySlots { requested }) => return corrupt("slot_count", requested),
        Err(_) => return corrupt("max_message", max_message),
    };
    let data_offset = hdr.data_offset.load(Ordering::Relaxed);
    if data_offset != layout::data_offset(geo.slots) as u64 {
        return corrupt("data_offset", data_offset);
    }
    let total = hdr.total_size.load(Ordering::Relaxed);
    if total != data_offset + capacity {
        return corrupt("total_size", total);
    }
    if size < total {
        return Err(AttachError::TooSmall {
            needed: total,
            actual: size,
        });
    }
    let tail = load_acquire(&hdr.tail);
    let intent = hdr.tail_intent.load(Ordering::Relaxed);
    if !tail.is_multiple_of(8) {
        return corrupt("tail", tail);
    }
    if intent < tail {
        return corrupt("tail_intent", intent);
    }
    Ok(geo)
}

/// What the header word(s) at a position say, before any overwrite check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Peek {
    /// A zero word: nothing has been written here yet (the producer zeroes
    /// the word after every record before it publishes the record).
    Empty,
    /// Padding up to the end of the lap; the next record is at `next`.
    Padding { next: u64 },
    /// A message or restart record that fits its bounds.
    Record(Record),
    /// Not a well-formed record.
    Bad,
}

/// A checked first header word (see [`Ring::frame`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame {
    w0: u64,
    pub(crate) kind: u32,
    pub(crate) len: u64,
    /// Bytes the record (or padding) covers.
    pub(crate) size: u64,
}

/// A record's header fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Record {
    pub kind: u32,
    pub len: u64,
    pub tag: u32,
    pub seq: u64,
    pub size: u64,
    pub sum: u64,
}

impl Record {
    /// Whether this record may stand where the message `seq` is expected: it
    /// is that message, or a restart marker (which may start a new numbering).
    #[inline]
    pub(crate) fn follows(&self, seq: u64) -> bool {
        self.kind == kind::RESTART || self.seq == seq
    }

    /// The sequence number of the message after this record: a message
    /// takes one, a restart marker carries the next one.
    #[inline]
    pub(crate) fn seq_after(&self) -> u64 {
        if self.kind == kind::MESSAGE {
            self.seq.wrapping_add(1)
        } else {
            self.seq
        }
    }
}

/// First header word of a record.
#[inline]
pub(crate) fn word0(kind: u32, len: u32, tag: u32) -> u64 {
    (((kind << layout::LEN_BITS) | len) as u64) | ((tag as u64) << 32)
}

impl<'a> Ring<'a> {
    /// Build a ring from typed parts (loom tests).
    #[cfg(all(loom, test))]
    pub(crate) fn from_parts(
        hdr: &'a Header,
        slots: &'a [Slot],
        data: &'a [AtomicU64],
        cfg: &RingConfig,
    ) -> Ring<'a> {
        let geo = Geometry::from_config(cfg).expect("valid loom config");
        assert_eq!(data.len() as u64, geo.capacity / 8);
        Ring {
            hdr,
            slots,
            data,
            geo,
        }
    }

    /// Write a fresh header for `self.geo`; magic last, with Release.
    pub(crate) fn init(&self) {
        let h = self.hdr;
        h.clear();
        for s in self.slots {
            s.clear();
        }
        let r = Ordering::Relaxed;
        h.version.store(layout::LAYOUT_VERSION, r);
        h.flags.store(self.geo.flags(), r);
        h.capacity.store(self.geo.capacity, r);
        h.max_message.store(self.geo.max_message, r);
        h.slot_count.store(self.geo.slots as u64, r);
        let data_offset = layout::data_offset(self.geo.slots) as u64;
        h.data_offset.store(data_offset, r);
        h.total_size.store(data_offset + self.geo.capacity, r);
        // The first record's header word: zero until the first record is
        // published there (the invariant readers rely on, see `crate::writer`).
        copy::store(self.data, 0, 0);
        h.magic.store(layout::MAGIC, Ordering::Release);
    }

    /// Start the one producer of this ring, continuing the stream where it stands.
    ///
    /// The producer epoch changes; readers see a clean continuation (sequence
    /// numbers go on). Use [`Ring::writer_with`] to restart the stream instead.
    ///
    /// # Errors
    /// [`ProducerError::Active`] if another producer holds the ring.
    pub fn writer(self) -> Result<Writer<'a>, ProducerError> {
        self.writer_with(Continuation::Continue)
    }

    /// Start the one producer, choosing how the stream continues.
    ///
    /// # Errors
    /// [`ProducerError::Active`] if another producer holds the ring.
    pub fn writer_with(self, how: Continuation) -> Result<Writer<'a>, ProducerError> {
        let epoch = self.next_epoch();
        match self
            .hdr
            .producer
            .compare_exchange(0, epoch, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => Ok(Writer::start(self, epoch, how)),
            Err(epoch) => Err(ProducerError::Active { epoch }),
        }
    }

    /// Take the ring over from a producer that is known to be dead (the
    /// adapters decide that with a liveness check), choosing how the stream
    /// continues. Records the dead producer published stay readable; anything
    /// it had claimed but not published is dropped.
    ///
    /// Taking over from a live producer does not break memory safety, but both
    /// would then write and readers would see errors and laps.
    pub fn take_over(self, how: Continuation) -> Writer<'a> {
        let epoch = self.next_epoch();
        self.hdr.producer.store(epoch, Ordering::Release);
        // A producer that died released nothing, so nothing orders its last
        // stores of the stream's words before our loads of them, which could
        // then return older values (and a sequence number be used twice). A
        // read-modify-write (adding 0) reads the last value in a word's
        // modification order, and no later load of that word here can read an
        // older one. (Only here: in `writer`, the claim of the producer word
        // acquires what the previous producer released.)
        let h = self.hdr;
        for word in [&h.tail, &h.tail_intent, &h.head, &h.latest] {
            word.fetch_add(0, Ordering::AcqRel);
        }
        Writer::start(self, epoch, how)
    }

    /// The epoch a new producer takes: never 0, which marks "no producer".
    /// Read by a read-modify-write (adding 0): it returns the newest epoch
    /// even when the producer before died without a release that orders its
    /// store of it before this read (see `Writer::start`).
    fn next_epoch(&self) -> u64 {
        self.hdr
            .epoch
            .fetch_add(0, Ordering::AcqRel)
            .wrapping_add(1)
            .max(1)
    }

    /// The validated sizes of this ring, to rebuild a handle later with
    /// [`Ring::with_shape`] without trusting the header again.
    pub fn shape(&self) -> Shape {
        Shape(self.geo)
    }

    /// Data capacity in bytes.
    pub fn capacity(&self) -> usize {
        self.geo.capacity as usize
    }
    /// Largest payload a message may carry.
    pub fn max_message(&self) -> usize {
        self.geo.max_message as usize
    }
    /// Number of consumer slots.
    pub fn slot_count(&self) -> usize {
        self.geo.slots
    }
    /// Whether records carry checksums.
    pub fn checksum(&self) -> bool {
        self.geo.checksum
    }
    /// Whether every record starts on a 64-byte line
    /// (see [`RingConfig::line_aligned`]).
    pub fn line_aligned(&self) -> bool {
        self.geo.align != layout::RECORD_ALIGN as u64
    }

    /// A snapshot of the producer's state, for monitoring. Fields are read
    /// one by one and may be mutually inconsistent while the producer runs.
    pub fn status(&self) -> Status {
        let h = self.hdr;
        let r = Ordering::Relaxed;
        Status {
            epoch: h.epoch.load(r),
            producer: h.producer.load(r),
            restart_epoch: h.restart_epoch.load(r),
            tail: load_acquire(&h.tail),
            tail_intent: h.tail_intent.load(r),
            head: h.head.load(r),
            latest: h.latest.load(r),
        }
    }

    /// The first header word of the record (or padding) at `pos`, checked:
    /// aligned, a known kind, a length within the ring's limit, and a size
    /// that fits before the end of the lap (padding covers exactly the rest
    /// of the lap). `None` for anything else. The one place that decides
    /// whether header bytes from shared memory describe a record.
    #[inline(always)]
    fn frame(&self, pos: u64) -> Option<Frame> {
        self.frame_of(pos, self.first_word(pos)?)
    }

    /// The first word of the record that would start at `pos`, or `None`
    /// for a position no record can start at: off the ring's record
    /// alignment, or so close to the end of the 64-bit range (centuries of
    /// traffic: damaged memory) that a position past a record could overflow.
    #[inline(always)]
    pub(crate) fn first_word(&self, pos: u64) -> Option<u64> {
        // `align` is 8 or 64: a mask, not a division.
        if pos & (self.geo.align - 1) != 0 || pos > u64::MAX - 2 * layout::MAX_CAPACITY {
            return None;
        }
        Some(copy::load(self.data, self.word_of(pos)))
    }

    /// The word index of a reader's cursor, or `None` past the range
    /// [`Ring::first_word`] accepts. Only the range is checked: the cursor is
    /// aligned by construction (every position it takes is one that
    /// `first_word` accepted, a lap's end, or one of those plus a record's
    /// size). An unaligned one would still only load a word of the ring
    /// (`word_of` rounds down), never out of bounds.
    #[inline(always)]
    pub(crate) fn cursor_word(&self, pos: u64) -> Option<usize> {
        debug_assert!(pos & (self.geo.align - 1) == 0, "unaligned cursor {pos}");
        if pos > u64::MAX - 2 * layout::MAX_CAPACITY {
            return None;
        }
        Some(self.word_of(pos))
    }

    /// Word index in the data area of position `pos`.
    #[inline(always)]
    pub(crate) fn word_of(&self, pos: u64) -> usize {
        ((pos & self.geo.mask) / 8) as usize
    }

    /// [`Ring::frame`] for a first header word `w0` already loaded from `pos`
    /// (a multiple of 8).
    #[inline(always)]
    pub(crate) fn frame_of(&self, pos: u64, w0: u64) -> Option<Frame> {
        let off = pos & self.geo.mask;
        let head = w0 as u32;
        let k = head >> layout::LEN_BITS;
        let len = (head & layout::LEN_MASK) as u64;
        let room = self.geo.capacity - off;
        if k == kind::PADDING {
            return (len.wrapping_mul(8) == room).then_some(Frame {
                w0,
                kind: k,
                len,
                size: room,
            });
        }
        // A restart marker carries 8 bytes whatever the message limit.
        let len_ok = match k {
            kind::MESSAGE => len <= self.geo.max_message,
            kind::RESTART => len == 8,
            _ => false,
        };
        if !len_ok {
            return None;
        }
        let size = self.geo.record_size(len);
        if size > room {
            return None;
        }
        Some(Frame {
            w0,
            kind: k,
            len,
            size,
        })
    }

    /// Where the record (or padding) at `pos` ends, or `None` where
    /// [`Ring::peek`] says `Bad`. The producer's head walk uses it: one load
    /// per record.
    #[inline(always)]
    pub(crate) fn skip(&self, pos: u64) -> Option<u64> {
        self.frame(pos).map(|f| pos.saturating_add(f.size))
    }

    /// Read the header of the record at `pos`, checking it fits the ring.
    /// Nothing read here is trusted until [`Ring::overwritten`] says no.
    ///
    /// The first header word is the record's publication: the producer
    /// stores it last, with Release, and the Acquire fence after loading it
    /// makes the rest of the record (header and payload) visible here.
    #[inline]
    pub(crate) fn peek(&self, pos: u64) -> Peek {
        let Some(w0) = self.first_word(pos) else {
            return Peek::Bad;
        };
        if w0 == 0 {
            return Peek::Empty;
        }
        let Some(f) = self.frame_of(pos, w0) else {
            return Peek::Bad;
        };
        fence(Ordering::Acquire);
        if f.kind == kind::PADDING {
            return Peek::Padding {
                next: pos.saturating_add(f.size),
            };
        }
        let word = self.word_of(pos);
        let seq = copy::load(self.data, word + 1);
        let sum = if self.geo.checksum {
            copy::load(self.data, word + 2)
        } else {
            0
        };
        Peek::Record(Record {
            kind: f.kind,
            len: f.len,
            tag: (f.w0 >> 32) as u32,
            seq,
            size: f.size,
            sum,
        })
    }

    /// The newest record between `from` (a record boundary) and `tail`,
    /// walking the record headers; `None` if the walk does not land exactly
    /// on `tail` or meets a malformed record. Bounded by a lap's worth of
    /// records. Only the producer calls this, on records no one overwrites.
    pub(crate) fn newest_before(&self, from: u64, tail: u64) -> Option<(u64, Record)> {
        let mut at = from;
        let mut newest = None;
        for _ in 0..self.walk_limit() {
            if at >= tail {
                break;
            }
            match self.peek(at) {
                Peek::Padding { next } => at = next,
                Peek::Record(r) => {
                    newest = Some((at, r));
                    at = at.saturating_add(r.size);
                }
                Peek::Empty | Peek::Bad => return None,
            }
        }
        if at == tail {
            newest
        } else {
            None
        }
    }

    /// Walk forward from `from` over the records a producer completed after
    /// it (a reader sees a record as soon as its header word is stored, so a
    /// dead producer's staged records may have been read already): consecutive
    /// sequence numbers from `seq`, each record and the word after it below
    /// `intent`. Returns where the walk stopped and the newest record passed.
    /// Bounded by a lap's worth of records.
    pub(crate) fn completed_after(
        &self,
        from: u64,
        intent: u64,
        mut seq: u64,
    ) -> (u64, Option<(u64, Record)>) {
        let mut at = from;
        let mut newest = None;
        for _ in 0..self.walk_limit() {
            let (next, rec) = match self.peek(at) {
                Peek::Padding { next } => (next, None),
                Peek::Record(r) if r.follows(seq) => (at + r.size, Some(r)),
                _ => break,
            };
            if next.saturating_add(8) > intent {
                break;
            }
            if let Some(r) = rec {
                newest = Some((at, r));
                seq = r.seq_after();
            }
            at = next;
        }
        (at, newest)
    }

    /// Whether the bytes of a record starting at `pos` may have been overwritten,
    /// counting `tolerance` bytes of early warning. Call after reading them: the
    /// Acquire fence pairs with the producer's Release fence after it raised the
    /// intent, so if any byte read came from a later lap, the intent seen here
    /// covers it.
    ///
    /// An intent at or below `pos` went backwards (a producer restarted the
    /// positions at 0, or damage): the bytes may be a new stream's, so they
    /// count as overwritten too. An honest intent is always past any record
    /// a reader can see.
    #[inline]
    pub(crate) fn overwritten(&self, pos: u64, tolerance: u64) -> bool {
        let intent = self.intent_after_read();
        intent > pos.saturating_add(self.geo.capacity - tolerance) || intent <= pos
    }

    /// [`Ring::overwritten`] for a position that [`Ring::cursor_word`]
    /// accepted, in one comparison: below that bound, `intent - pos - 1`
    /// (wrapping) is under `capacity - tolerance` exactly when
    /// `pos < intent <= pos + capacity - tolerance`.
    #[inline(always)]
    pub(crate) fn overwritten_at_cursor(&self, pos: u64, tolerance: u64) -> bool {
        debug_assert!(pos <= u64::MAX - 2 * layout::MAX_CAPACITY);
        let intent = self.intent_after_read();
        intent.wrapping_sub(pos).wrapping_sub(1) >= self.geo.capacity - tolerance
    }

    /// The producer's intent, loaded after an Acquire fence that orders every
    /// ring read before it (see [`Ring::overwritten`]).
    #[inline]
    pub(crate) fn intent_after_read(&self) -> u64 {
        fence(Ordering::Acquire);
        self.hdr.tail_intent.load(Ordering::Relaxed)
    }

    /// Word index of the payload of the record at `pos`.
    #[inline]
    pub(crate) fn payload_word(&self, pos: u64) -> usize {
        (((pos & self.geo.mask) + self.geo.header) / 8) as usize
    }

    /// Checksum of a record: xxh3-64 over its header words and payload, seeded
    /// with the sequence number.
    pub(crate) fn checksum_of(rec: &Record, payload: &[u8]) -> u64 {
        crate::checksum::record(word0(rec.kind, rec.len as u32, rec.tag), rec.seq, payload)
    }
}

/// The sizes and flags of a ring as validated when it was created or
/// attached (see [`Ring::shape`]); only this crate can make one, so a `Shape`
/// always describes a consistent ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape(Geometry);

impl Shape {
    /// Bytes a region needs to hold a ring of this shape.
    pub fn region_size(&self) -> usize {
        layout::data_offset(self.0.slots) + self.0.capacity as usize
    }
}

/// A snapshot of a ring's producer state (see [`Ring::status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// The current producer epoch.
    pub epoch: u64,
    /// The producer holding the ring (its epoch), or 0 when none does.
    pub producer: u64,
    /// The epoch of the last producer that restarted the stream.
    pub restart_epoch: u64,
    /// End of the published records.
    pub tail: u64,
    /// Highest position the producer may be writing.
    pub tail_intent: u64,
    /// Oldest record that is not about to be overwritten.
    pub head: u64,
    /// Newest published message record.
    pub latest: u64,
}
