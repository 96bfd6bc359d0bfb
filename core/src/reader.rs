//! Lossy readers: join, read, detect laps with exact counts, resynchronise.
//!
//! Every read validates inside itself: read the record header, bounds-check it,
//! copy the payload, then re-check the producer's intent (see the protocol in
//! [`crate::writer`]). Nothing read is trusted, and the reader's position moves
//! only past a record that passed every check.

use crate::consumer::SlotLease;
use crate::copy;
use crate::error::{JoinError, ReadError};
use crate::layout::{self, kind, slot_state};
use crate::ring::{Peek, Record, Ring};
use crate::sync::{fence, load_acquire, Ordering};

mod batch;
pub use batch::{batch_space, Batch, BatchIter, Messages};

/// Where a new reader starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// After the newest published message: only messages published from now on.
    Tail,
    /// At the newest published message.
    Latest,
    /// At the oldest message still in the ring.
    Oldest,
    /// At the message with this sequence number, if it is still in the ring
    /// (or is the next one to be published).
    Seq(u64),
}

/// Where a lapped reader resumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LapPolicy {
    /// At the oldest record still valid: lose as little as possible.
    #[default]
    Oldest,
    /// At the newest message: skip to the present.
    Latest,
}

/// What a message read carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message {
    /// Payload length (the bytes written to the caller's buffer).
    pub len: usize,
    /// Sequence number: consecutive for consecutive messages of a ring.
    pub seq: u64,
    /// The producer's user tag.
    pub tag: u32,
}

/// The outcome of one read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Read {
    /// A message, copied to the start of the caller's buffer.
    Message(Message),
    /// Nothing new has been published.
    Empty,
    /// The producer overwrote messages before this reader got to them. The
    /// reader has resynchronised by its [`LapPolicy`]; the counts are exact.
    Lapped {
        /// Messages skipped.
        lost_messages: u64,
        /// Ring bytes skipped (records with their headers and padding).
        lost_bytes: u64,
    },
    /// A new producer restarted the stream: what follows comes from it.
    Restarted {
        /// The new producer's epoch.
        epoch: u64,
        /// Sequence number of the first message of the restarted stream.
        seq: u64,
    },
}

impl Read {
    /// The message, if this is one.
    pub fn message(self) -> Option<Message> {
        match self {
            Read::Message(m) => Some(m),
            _ => None,
        }
    }
}

/// Counters of one reader's life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReaderStats {
    /// Messages read.
    pub messages: u64,
    /// Times lapped.
    pub laps: u64,
    /// Messages lost to laps.
    pub lost_messages: u64,
    /// Ring bytes lost to laps.
    pub lost_bytes: u64,
}

/// A lossy reader: the producer never waits for it.
///
/// ```
/// # use shmcast::{InlineRegion, Ring, RingConfig, Start, Read};
/// # static REGION: InlineRegion<{ shmcast::layout::ring_size(256, 0) }> = InlineRegion::new();
/// let ring = Ring::create(&REGION, &RingConfig::new(256)).unwrap();
/// let mut w = ring.writer().unwrap();
/// let mut r = ring.reader(Start::Oldest).unwrap();
/// for i in 0u64..40 {
///     w.write(&i.to_le_bytes()).unwrap(); // 24-byte records: the ring holds ~10
/// }
/// let mut buf = [0u8; 8];
/// match r.try_read(&mut buf).unwrap() {
///     Read::Lapped { lost_messages, .. } => assert!(lost_messages > 0),
///     other => panic!("expected a lap, got {other:?}"),
/// }
/// let m = r.try_read(&mut buf).unwrap().message().unwrap();
/// assert_eq!(u64::from_le_bytes(buf), m.seq);
/// ```
///
/// Cloning a reader gives a second, anonymous lossy one at the same place.
#[derive(Debug)]
pub struct Reader<'a> {
    ring: Ring<'a>,
    cursor: u64,
    /// Sequence expected at `cursor`.
    seq: u64,
    /// Newest restart epoch this reader knows about.
    restart_epoch: u64,
    pending_restart: Option<u64>,
    policy: LapPolicy,
    tolerance: u64,
    stats: ReaderStats,
    /// The consumer slot this reader holds, if any.
    slot: Option<SlotLease>,
    /// What the slot may show as the position (see [`Reader::release`]).
    releasable: u64,
    /// The position the slot shows, as last stored.
    shown: u64,
    /// The slot's `producer_waits` as last seen moving (a step taken for
    /// another reason leaves it behind: the next look then takes one more).
    waits_seen: u64,
    /// Bytes read between two releases that nothing else calls for.
    release_every: u64,
    /// The position at which the next read looks at the slot (see
    /// [`Reader::look`]).
    next_look: u64,
    /// Reads take the general path: the ring has checksums, a restart waits
    /// to be reported, or a look found the slot lost.
    slow: bool,
}

/// Bytes a reader with a slot reads at most between two looks at it:
/// whether the producer evicted it, whether the producer began to wait for
/// it. Less on rings under 64 KiB (a 64th of the ring: every read on the
/// smallest), and less when a step of [`Reader::release`] falls due sooner.
const LOOK: u64 = 1024;

impl Clone for Reader<'_> {
    fn clone(&self) -> Self {
        Reader {
            slot: None,
            ..*self
        }
    }
}

impl Drop for Reader<'_> {
    /// Free the consumer slot, if this reader holds one, showing its final
    /// position and count there first (for whoever watches the slot; not in
    /// a slot the producer evicted).
    fn drop(&mut self) {
        // `store_position` stores only into a slot still the reader's own.
        self.release();
        if let Some(lease) = self.slot.take() {
            self.ring.release_slot(lease);
        }
    }
}

/// A place in the ring where a reader can stand.
#[derive(Debug, Clone, Copy)]
struct Spot {
    pos: u64,
    /// Sequence expected at `pos`.
    seq: u64,
    /// The record at `pos`, or `None` when `pos` is the tail.
    rec: Option<Record>,
}

/// Why a walk found no spot.
enum Unsettled {
    /// Overwritten or not yet published under us: look again.
    Retry,
    /// Damaged although not overwritten.
    Corrupt(u64),
}

/// What the next record is, before copying.
enum Next {
    Record(u64, Record),
    Done(Read),
}

// Under loom every retry multiplies the explored states; two show the retry path.
const ATTEMPTS: usize = if cfg!(all(loom, test)) { 2 } else { 8 };

impl<'a> Ring<'a> {
    /// A new lossy reader starting at `start`.
    ///
    /// # Errors
    /// [`JoinError::NotPresent`] for a sequence no longer (or not yet) in the
    /// ring; [`JoinError::Unstable`] if no intact record could be found in a
    /// bounded number of attempts (damaged memory, or a producer lapping the
    /// whole ring faster than one header read).
    pub fn reader(self, start: Start) -> Result<Reader<'a>, JoinError> {
        let mut r = Reader {
            ring: self,
            cursor: 0,
            seq: 0,
            restart_epoch: 0,
            pending_restart: None,
            policy: LapPolicy::Oldest,
            tolerance: 0,
            stats: ReaderStats::default(),
            slot: None,
            releasable: 0,
            shown: 0,
            waits_seen: 0,
            release_every: 0,
            next_look: 0,
            slow: self.geo.checksum,
        };
        let h = self.hdr;
        for _ in 0..ATTEMPTS {
            let tail = load_acquire(&h.tail);
            // The epoch first (Acquire, pairing with the writer's Release):
            // the position read after it is at least that restart's.
            let restart_epoch = load_acquire(&h.restart_epoch);
            let restart_pos = h.restart_pos.load(Ordering::Relaxed);
            if tail == 0 {
                r.restart_epoch = restart_epoch;
                return Ok(r);
            }
            // Acquire (a Relaxed load and a fence, for read-only mappings):
            // the producer stores both with Release after the record there.
            let hint = match start {
                Start::Tail | Start::Latest => load_acquire(&h.latest),
                Start::Oldest | Start::Seq(_) => load_acquire(&h.head),
            };
            let mut spot = match self.settle(hint, tail, 0, None) {
                Ok(spot) => spot,
                Err(_) => continue,
            };
            match start {
                Start::Tail => {
                    if let Some(rec) = spot.rec {
                        spot = Spot {
                            pos: spot.pos + rec.size,
                            seq: rec.seq_after(),
                            rec: None,
                        };
                    }
                }
                Start::Seq(want) => match self.seek(spot, tail, want) {
                    Ok(Some(s)) => spot = s,
                    Ok(None) => return Err(JoinError::NotPresent { seq: want }),
                    Err(()) => continue,
                },
                Start::Latest | Start::Oldest => {}
            }
            r.cursor = spot.pos;
            r.seq = spot.seq;
            // A restart marker still ahead of us is reported when read.
            r.restart_epoch = if spot.pos <= restart_pos {
                0
            } else {
                restart_epoch
            };
            return Ok(r);
        }
        Err(JoinError::Unstable)
    }

    /// Walk forward from `spot` to the message with sequence `want`.
    fn seek(&self, mut spot: Spot, tail: u64, want: u64) -> Result<Option<Spot>, ()> {
        for _ in 0..self.walk_limit() {
            if spot.seq == want && spot.rec.is_none_or(|r| r.kind == kind::MESSAGE) {
                return Ok(Some(spot));
            }
            if spot.seq > want {
                return Ok(None);
            }
            let Some(rec) = spot.rec else {
                return Ok(None);
            };
            spot = self
                .settle(spot.pos + rec.size, tail, 0, Some(rec.seq_after()))
                .map_err(|_| ())?;
        }
        Err(())
    }

    /// Most records a walk may visit: one per 8 bytes of a lap, and a
    /// padding record on each side.
    pub(crate) fn walk_limit(&self) -> u64 {
        self.geo.capacity / 8 + 2
    }

    /// From `pos`, find the first record that is intact and at least
    /// `tolerance` bytes from being overwritten, or the producer's frontier
    /// (the first empty header word) if every record up to it is too close;
    /// then its sequence must be known from the walk. Records past `tail`
    /// count: a record is published by its own header word. `tail` (as
    /// loaded before the walk) only tells damage apart: below it, every
    /// position the walk lands on starts a record.
    fn settle(
        &self,
        mut pos: u64,
        tail: u64,
        tolerance: u64,
        mut seq: Option<u64>,
    ) -> Result<Spot, Unsettled> {
        for _ in 0..self.walk_limit() {
            let peek = self.peek(pos);
            if self.overwritten(pos, 0) {
                return Err(Unsettled::Retry);
            }
            match peek {
                Peek::Empty if pos >= tail => {
                    return match seq {
                        Some(seq) => Ok(Spot {
                            pos,
                            seq,
                            rec: None,
                        }),
                        None => Err(Unsettled::Retry),
                    };
                }
                Peek::Padding { next } => pos = next,
                Peek::Record(rec) => {
                    if tolerance != 0 && self.overwritten(pos, tolerance) {
                        seq = Some(rec.seq_after());
                        pos += rec.size;
                        continue;
                    }
                    return Ok(Spot {
                        pos,
                        seq: rec.seq,
                        rec: Some(rec),
                    });
                }
                Peek::Empty | Peek::Bad => return Err(Unsettled::Corrupt(pos)),
            }
        }
        Err(Unsettled::Retry)
    }
}

impl<'a> Reader<'a> {
    /// Choose where to resume after a lap (default [`LapPolicy::Oldest`]).
    pub fn set_lap_policy(&mut self, policy: LapPolicy) {
        self.policy = policy;
    }

    /// Declare this reader lapped once it is within `numerator / denominator`
    /// of the capacity from being overwritten, instead of at the edge, so that
    /// a slow reader resynchronises before it races the producer. Clamped to a
    /// quarter of the capacity.
    pub fn set_fall_behind_tolerance(&mut self, numerator: u64, denominator: u64) {
        let cap = self.ring.geo.capacity;
        let t = cap
            .checked_mul(numerator)
            .and_then(|x| x.checked_div(denominator))
            .unwrap_or(0);
        self.tolerance = t.min(cap / 4) & !7;
    }

    /// The fall-behind tolerance in force: none while the producer holds
    /// records for this reader (a joining or gating consumer), since they
    /// cannot be overwritten and skipping them would lose what the producer
    /// waited to deliver.
    #[inline]
    fn tolerance(&self) -> u64 {
        if self.tolerance == 0 || !self.holds_gate() {
            self.tolerance
        } else {
            0
        }
    }

    /// Whether this reader's slot is joining or gating (the producer waits for it).
    fn holds_gate(&self) -> bool {
        self.slot.is_some_and(|l| {
            let word = self.ring.slots[l.index].state.load(Ordering::Relaxed);
            let state = word & 0xff;
            word >> 8 == l.gen && (state == slot_state::GATING || state == slot_state::JOINING)
        })
    }

    /// The reader's position in the ring (bytes since the stream began).
    pub fn position(&self) -> u64 {
        self.cursor
    }

    /// How far behind the producer this reader is: the bytes (records,
    /// headers and padding included) published past its position, 0 when it
    /// has read everything published. More than the capacity means it was
    /// lapped (its next read says by how much).
    ///
    /// This loads the ring's published tail, which the producer stores at
    /// every publish; [`Reader::try_read`] never does. For monitoring, and
    /// for a consumer that wants throughput more than latency: after a read
    /// finds the ring empty, one that waits until the backlog is a batch
    /// (some kilobytes) before reading on copies lines that the producer
    /// has finished with, instead of polling the line it is writing, which
    /// then moves between the two cores for every message (see the
    /// `gating-backlog` run of the benches' throughput tool). The tail comes
    /// from shared memory: a damaged one gives a meaningless count, never
    /// an error or a wrong read.
    ///
    /// ```
    /// # use shmcast::{InlineRegion, Ring, RingConfig, Start};
    /// # static REGION: InlineRegion<{ shmcast::layout::ring_size(1024, 0) }> = InlineRegion::new();
    /// let ring = Ring::create(&REGION, &RingConfig::new(1024)).unwrap();
    /// let mut w = ring.writer().unwrap();
    /// let mut r = ring.reader(Start::Tail).unwrap();
    /// assert_eq!(r.backlog(), 0);
    /// w.write(&[1; 20]).unwrap(); // a 16-byte header, 20 bytes padded to 24
    /// assert_eq!(r.backlog(), 40);
    /// let mut buf = [0; 64];
    /// r.try_read(&mut buf).unwrap();
    /// assert_eq!(r.backlog(), 0);
    /// ```
    pub fn backlog(&self) -> u64 {
        self.ring
            .hdr
            .tail
            .load(Ordering::Relaxed)
            .saturating_sub(self.cursor)
    }

    /// The sequence number the next message should carry.
    pub fn next_seq(&self) -> u64 {
        self.seq
    }

    /// Counters of this reader's life.
    pub fn stats(&self) -> ReaderStats {
        self.stats
    }

    /// The ring this reader reads.
    pub fn ring(&self) -> Ring<'a> {
        self.ring
    }

    /// Read the next message into `buf` without waiting.
    ///
    /// Returns [`Read::Message`] (payload in `buf[..len]`), [`Read::Empty`],
    /// [`Read::Lapped`] with exact loss counts (the reader has already
    /// resynchronised), or [`Read::Restarted`].
    ///
    /// A reader with a consumer slot that the producer evicted is told by
    /// [`ReadError::Evicted`] at once when a read finds the ring empty or
    /// anything but the next message (a lap, padding); while messages
    /// follow one another, it reads on (its reads checked against the
    /// producer's intent, as any lossy reader's are) until its next look
    /// at the slot, which it takes every kibibyte it reads (see
    /// [`Reader::release`]), and is told at the read after it.
    ///
    /// # Errors
    /// A [`ReadError`]; the position is unchanged, so the call can be repeated
    /// (for example with a larger buffer after [`ReadError::BufferTooSmall`]).
    #[inline(always)]
    pub fn try_read(&mut self, buf: &mut [u8]) -> Result<Read, ReadError> {
        match self.read_fast(buf) {
            Some(read) => Ok(read),
            None => self.read_slow(buf),
        }
    }

    /// The common cases of [`Reader::try_read`], small enough to inline into
    /// the caller's loop: nothing published yet at the cursor, or the message
    /// expected there, whole in `buf` and not overwritten; on a ring without
    /// checksums, for a reader with no restart to report and no lost slot
    /// (see `slow`). The same loads and checks of the ring in the same order
    /// as the general path (a poll of an empty ring loads no ring word
    /// twice, which keeps the loom models' interleavings down; a reader with
    /// a slot then loads its state as well, where the general path loads it
    /// first), which `None` leaves everything to (the reader unchanged; `buf`
    /// may have been written).
    #[inline(always)]
    fn read_fast(&mut self, buf: &mut [u8]) -> Option<Read> {
        if self.slow {
            return None;
        }
        // What `Ring::peek` and `Reader::next` do, in their order (keep them
        // in step): `frame_of` decides what a header is, then the fence,
        // then the rest.
        let pos = self.cursor;
        let (data, geo) = (self.ring.data, &self.ring.geo);
        let word = self.ring.cursor_word(pos)?;
        let w0 = copy::load(data, word);
        if w0 == 0 {
            // As `next_slow` finds `Peek::Empty`: nothing yet, unless the
            // zero is from a later lap or the ring was damaged (those go to
            // the general path, which loads the intent again). The cursor is
            // far enough below 2^64 that `intent - pos` (wrapping) is in
            // `0..=capacity` exactly when `pos <= intent <= pos + capacity`.
            let intent = self.ring.intent_after_read();
            if intent.wrapping_sub(pos) > geo.capacity {
                return None;
            }
            // A reader with a slot polling an empty ring is told of an
            // eviction at once (by the general path).
            if self.slot.is_some_and(|lease| !self.owns(lease)) {
                return None;
            }
            self.release();
            return Some(Read::Empty);
        }
        // No checksums here (see `slow`): the header is two words.
        let header = layout::RECORD_HEADER as u64;
        let (len, size) = geo.message_at(header, pos & geo.mask, w0)?;
        // Acquire: see [`Ring::peek`].
        fence(Ordering::Acquire);
        let seq = copy::load(data, word + 1);
        if seq != self.seq {
            return None;
        }
        let len = len as usize;
        let dst = buf.get_mut(..len)?;
        // The header is whole words: the payload starts that many words on.
        copy::copy_out(data, word + (header / 8) as usize, dst);
        if self.ring.overwritten_at_cursor(pos, self.tolerance()) {
            return None;
        }
        self.advance(pos, size, seq, pos + size);
        Some(Read::Message(Message {
            len,
            seq,
            tag: (w0 >> 32) as u32,
        }))
    }

    /// [`Reader::try_read`] for everything else.
    #[inline(never)]
    fn read_slow(&mut self, buf: &mut [u8]) -> Result<Read, ReadError> {
        self.check_evicted()?;
        self.refresh_slow();
        let origin = self.cursor;
        let (pos, rec) = match self.next()? {
            Next::Done(Read::Empty) => {
                self.release();
                return Ok(Read::Empty);
            }
            Next::Done(read) => return Ok(read),
            Next::Record(pos, rec) => (pos, rec),
        };
        let len = rec.len as usize;
        let Some(dst) = buf.get_mut(..len) else {
            if self.ring.overwritten(pos, self.tolerance()) {
                return self.lapped(origin).map(Self::done);
            }
            return Err(ReadError::BufferTooSmall { needed: len });
        };
        copy::copy_out(self.ring.data, self.ring.payload_word(pos), dst);
        if self.ring.overwritten(pos, self.tolerance()) {
            return self.lapped(origin).map(Self::done);
        }
        if self.ring.geo.checksum && Ring::checksum_of(&rec, dst) != rec.sum {
            return Err(ReadError::Checksum { seq: rec.seq });
        }
        self.advance(pos, rec.size, rec.seq, pos + rec.size);
        Ok(Read::Message(Message {
            len,
            seq: rec.seq,
            tag: rec.tag,
        }))
    }

    /// Iterate over what is pending now, as lazy [`MessageRef`] handles whose
    /// payload is copied (and validated) only when read. The iteration stops at
    /// the tail as it was when this was called, and after the first error.
    ///
    /// For a gating reader, the producer waits for the handle last yielded;
    /// earlier handles are released as the iteration moves on.
    pub fn pending(&mut self) -> Pending<'_, 'a> {
        let end = load_acquire(&self.ring.hdr.tail);
        Pending {
            reader: self,
            end,
            failed: false,
        }
    }

    fn done(next: Next) -> Read {
        match next {
            Next::Done(read) => read,
            Next::Record(..) => Read::Empty,
        }
    }

    /// Move past the record at `pos` (`size` bytes, sequence `seq`); a slot
    /// may show `publish` as its position (the new cursor, or `pos` to keep
    /// the record protected), which it does now if [`Reader::release`] says.
    #[inline]
    fn advance(&mut self, pos: u64, size: u64, seq: u64, publish: u64) {
        self.advance_to(pos + size, seq.wrapping_add(1), 1, publish);
    }

    /// Move the cursor to `cursor`, past `messages` messages, the next one
    /// expected with sequence `seq`; a slot may show `publish` (see
    /// [`Reader::advance`]).
    #[inline(always)]
    fn advance_to(&mut self, cursor: u64, seq: u64, messages: u64, publish: u64) {
        self.cursor = cursor;
        self.seq = seq;
        // Wrapping: 2^64 messages take centuries.
        self.stats.messages = self.stats.messages.wrapping_add(messages);
        if let Some(lease) = self.slot {
            self.releasable = publish;
            if publish >= self.next_look {
                self.look(lease);
            }
        }
    }

    /// Look at the slot, as a reader with one does every [`LOOK`] bytes:
    /// show the position if a step is due or the producer began to wait
    /// since the last look; if the producer evicted this reader (or the
    /// slot is no longer its own), send the next read down the general
    /// path, which reports [`ReadError::Evicted`].
    #[inline(never)]
    fn look(&mut self, lease: SlotLease) {
        let waits = self.ring.slots[lease.index]
            .producer_waits
            .load(Ordering::Relaxed);
        if waits != self.waits_seen
            || self.releasable.wrapping_sub(self.shown) >= self.release_every
        {
            self.waits_seen = waits;
            self.store_position(lease);
        } else if !self.owns(lease) {
            self.slow = true;
        }
        self.plan_look();
    }

    /// Where the next look is due: after [`LOOK`] bytes (a 64th of a smaller
    /// ring), or where a step of [`Reader::release`] falls due if sooner.
    fn plan_look(&mut self) {
        let every = LOOK.min(self.ring.geo.capacity / 64);
        self.next_look = self
            .shown
            .saturating_add(self.release_every)
            .min(self.releasable.saturating_add(every));
    }

    /// Whether the slot of `lease` is still this reader's: its generation,
    /// and neither evicted nor freed (by [`Ring::reclaim_slot`], which keeps
    /// the generation, for an owner thought dead).
    fn owns(&self, lease: SlotLease) -> bool {
        let word = self.ring.slots[lease.index].state.load(Ordering::Relaxed);
        word >> 8 == lease.gen && !matches!(word & 0xff, slot_state::EVICTED | slot_state::FREE)
    }

    /// Whether reads must take the general path (see `slow`), after the
    /// state it depends on changed.
    fn refresh_slow(&mut self) {
        self.slow = self.pending_restart.is_some() || self.ring.geo.checksum;
    }

    /// Show the position in the slot now, if it has moved since it was last
    /// shown.
    ///
    /// A reader with a consumer slot shows the producer how far it has read
    /// (its position, and the count of messages read) in steps, not after
    /// every message: when it has read [`Reader::set_release_every`] bytes
    /// since the last step (a sixteenth of the ring unless set), when a read
    /// finds the ring empty or a [`Reader::pending`] iteration ends (the
    /// record yielded last stays held, as ever), when it is dropped, within
    /// a kibibyte of reading (a 64th of a ring under 64 KiB: at once on the
    /// smallest) after the producer begins a round of waiting for it (the
    /// first wait of a claim it holds up, then every 64 waits), and when
    /// this is called. So a gating consumer holds back at most a step of
    /// room it has read, and shows it within a kibibyte (and a message) of
    /// reading after each round of the producer's waiting begins (a wait
    /// policy that acts after fewer waits than the consumer takes to read
    /// that far may demote or evict a consumer that reads on); the
    /// producer, which reads the slot only when the room
    /// it knows of runs out, finds more room each time it looks, and the
    /// consumer stores to the line the producer polls once a step. A monitor
    /// (`Ring::consumer`) sees the position and count as of the last step.
    #[inline(always)]
    pub fn release(&mut self) {
        if self.releasable != self.shown {
            if let Some(lease) = self.slot {
                self.store_position(lease);
            }
        }
    }

    /// Read this many bytes (records, headers included) between two steps
    /// of [`Reader::release`] that nothing else calls for; 0 shows the
    /// position after every message. Only a reader with a consumer slot
    /// shows its position.
    pub fn set_release_every(&mut self, bytes: u64) {
        self.release_every = bytes;
        self.release();
        self.plan_look();
    }

    /// The position the slot shows (see [`Reader::release`]): the reader's
    /// own position for a reader without a slot.
    pub fn shown_position(&self) -> u64 {
        if self.slot.is_some() {
            self.shown
        } else {
            self.cursor
        }
    }

    /// Store the releasable position (and the message count) in the slot.
    #[inline(never)]
    fn store_position(&mut self, lease: SlotLease) {
        if !self.owns(lease) {
            // Evicted: the next read reports it.
            self.slow = true;
            return;
        }
        let s = &self.ring.slots[lease.index];
        s.read_messages
            .store(self.stats.messages, Ordering::Relaxed);
        // Release: our reads of the records before it happen before the
        // producer, having read this position, overwrites them. Positions
        // shown never go back (the producer caches the smallest).
        s.position.store(self.releasable, Ordering::Release);
        self.shown = self.releasable;
        self.plan_look();
    }

    /// Take a consumer slot (set up by the ring), whose position shows the
    /// reader's.
    pub(crate) fn attach_slot(&mut self, lease: SlotLease) {
        let s = &self.ring.slots[lease.index];
        self.slot = Some(lease);
        self.releasable = self.cursor;
        self.shown = self.cursor;
        self.waits_seen = s.producer_waits.load(Ordering::Relaxed);
        self.release_every = self.ring.geo.capacity / 16;
        self.plan_look();
    }

    /// The consumer slot this reader holds, if any.
    pub fn slot(&self) -> Option<usize> {
        self.slot.map(|l| l.index)
    }

    /// Whether the producer currently waits for this reader.
    pub fn is_gating(&self) -> bool {
        self.slot.is_some_and(|l| {
            let word = self.ring.slots[l.index].state.load(Ordering::Relaxed);
            word >> 8 == l.gen && word & 0xff == slot_state::GATING
        })
    }

    /// Publish an opaque lease value in this reader's slot (adapters use it
    /// for liveness checks).
    pub fn set_lease(&self, lease: u64) {
        if let Some(l) = self.slot {
            self.ring.slots[l.index]
                .lease
                .store(lease, Ordering::Release);
        }
    }

    /// Check whether the producer evicted us; if so, free the slot.
    #[inline]
    fn check_evicted(&mut self) -> Result<(), ReadError> {
        let Some(lease) = self.slot else {
            return Ok(());
        };
        if self.owns(lease) {
            return Ok(());
        }
        self.slot = None;
        self.refresh_slow();
        // Ours to free if evicted; a freed or retaken slot is left alone.
        self.ring.release_slot(lease);
        Err(ReadError::Evicted)
    }

    /// Find the next message record at the cursor, handling padding, restarts
    /// and laps on the way.
    #[inline(always)]
    fn next(&mut self) -> Result<Next, ReadError> {
        // The common case first, without the loop below, so the record's
        // fields stay in registers: the message expected, at the cursor.
        if self.pending_restart.is_none() {
            if let Peek::Record(rec) = self.ring.peek(self.cursor) {
                if rec.kind == kind::MESSAGE && rec.seq == self.seq {
                    return Ok(Next::Record(self.cursor, rec));
                }
            }
        }
        self.next_slow()
    }

    /// [`Reader::next`] for everything else: padding, restarts, laps, an
    /// empty cursor, damage.
    #[inline(never)]
    fn next_slow(&mut self) -> Result<Next, ReadError> {
        // Losses count from where this call began, padding skipped included.
        let origin = self.cursor;
        // A lap lands on a record; padding and one restart marker take two more turns.
        for _ in 0..4 {
            if let Some(epoch) = self.pending_restart.take() {
                self.refresh_slow();
                return Ok(Next::Done(Read::Restarted {
                    epoch,
                    seq: self.seq,
                }));
            }
            let ring = self.ring;
            let pos = self.cursor;
            // The header word at the cursor says whether a record is there:
            // the producer zeroes the word after each record (each batch)
            // before it publishes the record (the batch), so the shared tail
            // is not read here.
            match ring.peek(pos) {
                Peek::Empty => {
                    let intent = ring.intent_after_read();
                    // The zero may be from a later lap. (No tolerance here:
                    // a reader at the producer's frontier is not behind.)
                    if intent > pos.saturating_add(ring.geo.capacity) {
                        return self.lapped(origin);
                    }
                    if pos > intent {
                        // Positions never pass the intent; this ring was
                        // re-created or damaged.
                        return Err(ReadError::Corrupt { position: pos });
                    }
                    return Ok(Next::Done(Read::Empty));
                }
                Peek::Padding { next } => {
                    if ring.overwritten(pos, self.tolerance()) {
                        return self.lapped(origin);
                    }
                    self.cursor = next;
                }
                Peek::Record(rec) => {
                    if !rec.follows(self.seq) {
                        if ring.overwritten(pos, self.tolerance()) {
                            return self.lapped(origin);
                        }
                        return Err(ReadError::Corrupt { position: pos });
                    }
                    if rec.kind == kind::MESSAGE {
                        return Ok(Next::Record(pos, rec));
                    }
                    let epoch = copy::load(ring.data, ring.payload_word(pos));
                    if ring.overwritten(pos, self.tolerance()) {
                        return self.lapped(origin);
                    }
                    self.cursor = pos + rec.size;
                    let jumped = rec.seq != self.seq;
                    self.seq = rec.seq;
                    if epoch != self.restart_epoch || jumped {
                        self.restart_epoch = epoch;
                        return Ok(Next::Done(Read::Restarted {
                            epoch,
                            seq: rec.seq,
                        }));
                    }
                }
                Peek::Bad => {
                    if ring.overwritten(pos, self.tolerance()) {
                        return self.lapped(origin);
                    }
                    return Err(ReadError::Corrupt { position: pos });
                }
            }
        }
        Ok(Next::Done(Read::Empty))
    }

    /// The producer lapped us: resynchronise by policy and count the loss.
    #[cold]
    fn lapped(&mut self, origin: u64) -> Result<Next, ReadError> {
        let ring = self.ring;
        let h = ring.hdr;
        for _ in 0..ATTEMPTS {
            let tail = load_acquire(&h.tail);
            // The epoch first (Acquire, pairing with the writer's Release):
            // the position read after it is at least that restart's.
            let restart_epoch = load_acquire(&h.restart_epoch);
            let restart_pos = h.restart_pos.load(Ordering::Relaxed);
            let hint = match self.policy {
                LapPolicy::Oldest => load_acquire(&h.head),
                LapPolicy::Latest => load_acquire(&h.latest),
            };
            // Under a fall-behind tolerance the head may not have passed us yet.
            let from = hint.max(self.cursor);
            let spot = match ring.settle(from, tail, self.tolerance(), None) {
                Ok(spot) => spot,
                Err(Unsettled::Retry) => continue,
                Err(Unsettled::Corrupt(position)) => {
                    return Err(ReadError::Corrupt { position });
                }
            };
            if spot.pos == self.cursor {
                continue;
            }
            let lost_messages = spot.seq.saturating_sub(self.seq);
            let lost_bytes = spot.pos - origin.min(self.cursor);
            self.cursor = spot.pos;
            self.seq = spot.seq;
            if restart_epoch != self.restart_epoch && spot.pos > restart_pos {
                // The restart marker was among the lost records.
                self.restart_epoch = restart_epoch;
                self.pending_restart = Some(restart_epoch);
                self.refresh_slow();
            }
            // Saturating: damaged sequence numbers can claim any loss.
            self.stats.laps = self.stats.laps.saturating_add(1);
            self.stats.lost_messages = self.stats.lost_messages.saturating_add(lost_messages);
            self.stats.lost_bytes = self.stats.lost_bytes.saturating_add(lost_bytes);
            if let Some(lease) = self.slot {
                let s = &ring.slots[lease.index];
                s.laps.store(self.stats.laps, Ordering::Relaxed);
                s.lost_messages
                    .store(self.stats.lost_messages, Ordering::Relaxed);
                s.position.store(self.cursor, Ordering::Release);
                (self.releasable, self.shown) = (self.cursor, self.cursor);
            }
            return Ok(Next::Done(Read::Lapped {
                lost_messages,
                lost_bytes,
            }));
        }
        Err(ReadError::Overrun)
    }
}

/// A message in the ring, read lazily: cheap to clone, validated when read.
#[derive(Debug, Clone, Copy)]
pub struct MessageRef<'a> {
    ring: Ring<'a>,
    pos: u64,
    rec: Record,
}

impl MessageRef<'_> {
    /// What the record header said (payload length, sequence, tag).
    pub fn meta(&self) -> Message {
        Message {
            len: self.rec.len as usize,
            seq: self.rec.seq,
            tag: self.rec.tag,
        }
    }

    /// Copy the payload into `buf`, then check that the producer has not
    /// overwritten it meanwhile.
    ///
    /// # Errors
    /// [`ReadError::Overwritten`] if it was (the message is gone),
    /// [`ReadError::BufferTooSmall`], or [`ReadError::Checksum`].
    pub fn read(&self, buf: &mut [u8]) -> Result<Message, ReadError> {
        let len = self.rec.len as usize;
        let dst = buf
            .get_mut(..len)
            .ok_or(ReadError::BufferTooSmall { needed: len })?;
        copy::copy_out(self.ring.data, self.ring.payload_word(self.pos), dst);
        if self.ring.overwritten(self.pos, 0) {
            return Err(ReadError::Overwritten { seq: self.rec.seq });
        }
        if self.ring.geo.checksum && Ring::checksum_of(&self.rec, dst) != self.rec.sum {
            return Err(ReadError::Checksum { seq: self.rec.seq });
        }
        Ok(self.meta())
    }

    /// Whether the message is still in the ring (it may be gone by the time it is read).
    pub fn is_current(&self) -> bool {
        !self.ring.overwritten(self.pos, 0)
    }
}

/// One step of [`Reader::pending`].
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A message, to be read through the handle.
    Message(MessageRef<'a>),
    /// As [`Read::Lapped`].
    Lapped {
        /// Messages skipped.
        lost_messages: u64,
        /// Ring bytes skipped.
        lost_bytes: u64,
    },
    /// As [`Read::Restarted`].
    Restarted {
        /// The new producer's epoch.
        epoch: u64,
        /// Sequence of the first message of the restarted stream.
        seq: u64,
    },
}

/// Iterator over the messages pending for a reader (see [`Reader::pending`]).
#[derive(Debug)]
pub struct Pending<'r, 'a> {
    reader: &'r mut Reader<'a>,
    end: u64,
    failed: bool,
}

impl<'a> Iterator for Pending<'_, 'a> {
    type Item = Result<Event<'a>, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.reader.cursor >= self.end {
            self.reader.release();
            return None;
        }
        let origin = self.reader.cursor;
        let mut next = self
            .reader
            .check_evicted()
            .and_then(|()| self.reader.next());
        if let Ok(Next::Record(pos, _)) = next {
            // The header words just read may be from a later lap: check the
            // intent before they move the cursor (the payload is checked
            // again when read).
            if self.reader.ring.overwritten(pos, self.reader.tolerance()) {
                next = self.reader.lapped(origin);
            }
        }
        let next = match next {
            Ok(next) => next,
            Err(e) => {
                self.failed = true;
                return Some(Err(e));
            }
        };
        Some(Ok(match next {
            Next::Record(pos, rec) => {
                // A gating reader keeps the record just yielded protected
                // until the next step: the producer may overwrite only
                // records before it.
                self.reader.advance(pos, rec.size, rec.seq, pos);
                Event::Message(MessageRef {
                    ring: self.reader.ring,
                    pos,
                    rec,
                })
            }
            Next::Done(Read::Empty) | Next::Done(Read::Message(_)) => {
                self.reader.release();
                return None;
            }
            Next::Done(Read::Lapped {
                lost_messages,
                lost_bytes,
            }) => Event::Lapped {
                lost_messages,
                lost_bytes,
            },
            Next::Done(Read::Restarted { epoch, seq }) => Event::Restarted { epoch, seq },
        }))
    }
}
