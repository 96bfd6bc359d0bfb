//! The single producer: claims, commits, batches, and the intent protocol.
//!
//! # Protocol
//!
//! Before the producer writes any byte of the ring up to position `e`, it raises
//! `tail_intent` to at least `e` (Relaxed store) and issues a Release fence; only
//! then does it write the bytes (Relaxed atomic word stores). A reader that
//! copied any such byte and then issues an Acquire fence is synchronised with
//! that Release fence, so its next load of `tail_intent` sees a value at least
//! `e`: a reader of a record at `p` that then finds `tail_intent <= p + capacity`
//! knows that none of the bytes it copied were from a later lap.
//!
//! The intent is raised in strides (a sixteenth of the capacity by default):
//! each raise leaves between half a stride and a stride past the record it is
//! for (see below), so the line holding it changes rarely and readers keep it
//! cached; a reader is therefore declared lapped up to one stride early.
//!
//! When the intent rises, the producer moves `head` (the oldest record a reader
//! may still join at) past every record the new intent dooms. It keeps the
//! start of the first record of each 64th of the ring it wrote (`Checkpoints`).
//! Where the last of them at or below the mark (the full raise less a
//! capacity) lies no more than half the raise below it, the raise counted from
//! the end of the record being claimed, the intent rises only to that start
//! plus a capacity and the head moves onto it without a load from the ring.
//! Otherwise the producer walks the record headers it wrote one lap before,
//! from that start, or from the head if none lies at or past the head. A walk
//! is a chain of dependent loads of lines a lap old: while it ran, a consumer
//! that kept up caught up with the producer and the two sides fought over the
//! lines being written (one producer and one gating consumer moved about two
//! thirds as many messages a second with a walk at every raise).
//!
//! # Publication
//!
//! A record is published by its own first header word: the producer writes the
//! payload and the other header words, makes sure the first word after the
//! record (the next record's first word) is 0, then stores the first word
//! with Release. A packed ring's producer stores that 0 as it seals a
//! record it publishes at once. Every other record is published by a flush,
//! as a batch (see below), so there the rule holds for the batch: a record
//! stores no 0 after itself, the next record's first word going there, and
//! the flush zeroes the word after the batch's last record before it
//! publishes the batch (no reader reaches those words before the flush, and
//! a lapped reader that loads one is told by the intent). A line-aligned
//! ring's producer, where
//! records end only on line boundaries, zeroes the first words of the few
//! lines ahead of the record after publishing it (and before, where it has
//! not reached them yet): the publication then stores to no line but the
//! record's own, and the line after it, which the reader polls next, is left
//! alone.
//!
//! A reader waiting at position `p` loads the word at `p` and fences
//! (Acquire): zero means nothing yet, anything else is the record (or a
//! later lap's bytes, which the intent check catches). Stale bytes from an
//! earlier lap are never mistaken for a record, because the word at every
//! position a reader can wait at was zeroed, or holds the next record's first
//! word, before the record (or batch) that ends there was published (and the
//! ring's first word was zeroed at creation), and a reader stands
//! there only after synchronising with that publication: it read the record
//! before (Acquire), or loaded `tail`, `latest` or `head`, which the producer
//! stores with Release after the records they name. Padding at the end of a
//! lap is stored (Release) only after the record that follows it, so a reader
//! that passes the padding finds that record. The reader's hot path therefore
//! loads only the record's own cache line and the rarely written intent line,
//! never a shared counter that the producer writes for every message.
//!
//! Each record thus reserves its bytes and the 8 bytes after it: the intent
//! covers both before either is written.
//!
//! A batch stays unpublished until [`Writer::flush`]: the first word of the
//! first record (or padding) staged since the last flush is held back, so
//! readers stop there; the flush zeroes the word after the batch (on a packed
//! ring), stores the held word (Release), then `latest` and `tail`
//! (Release), once for any number of staged records. That order matters
//! after a producer died with a batch unflushed: its successor goes on from
//! the tail with the same sequence numbers, and where its own batch ends
//! on a dead record's start, that record's header carries the sequence a
//! reader expects next; the zero stops the reader there. Status and
//! sleeping consumers go by `tail`; joins start at `latest` or `head` and
//! walk record headers from there.

use crate::copy;
use crate::error::{OutOfBounds, WriteError};
use crate::hint;
use crate::layout::slot_state::{EVICTED, GATING, JOINING, LOSSY};
use crate::layout::{self, kind};
use crate::ring::{word0, Peek, Ring};
use crate::sync::{fence, Ordering};
use crate::wait::{Blocked, BoundedSpin, Wait, WaitAction};

/// How far past a sealed record a line-aligned ring's producer zeroes the
/// words where records will end (see [`Writer::clear_to`]). One line under
/// loom, whose rings are a few lines long, so that its models reach both
/// the zeroes before a publication and those after it.
const CLEAR_AHEAD: u64 = if cfg!(loom) { 1 } else { 4 } * layout::CACHE_LINE as u64;

/// How a new producer continues an existing stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Continuation {
    /// Go on where the stream stands: sequence numbers continue, and attached
    /// readers see nothing but new messages.
    #[default]
    Continue,
    /// Restart the stream: readers get an explicit
    /// [`Read::Restarted`](crate::Read::Restarted) before the first new message.
    /// Sequence numbers still never repeat (except after damage to the
    /// producer's positions, when the stream starts again at 0 on a fresh
    /// lap and readers are told so the same way).
    Restart,
}

/// The one producer of a ring.
///
/// ```
/// # use shmcast::{InlineRegion, Ring, RingConfig, Start};
/// # static REGION: InlineRegion<{ shmcast::layout::ring_size(1024, 0) }> = InlineRegion::new();
/// let ring = Ring::create(&REGION, &RingConfig::new(1024)).unwrap();
/// let mut w = ring.writer().unwrap();
/// let mut claim = w.claim(11).unwrap();
/// claim.put(b"hello ").unwrap();
/// claim.put(b"world").unwrap();
/// claim.set_tag(7);
/// claim.commit();
///
/// // A burst published at once, by the flush:
/// for i in 0u32..4 {
///     w.claim(4).unwrap().stage_with(&i.to_le_bytes());
/// }
/// w.flush();
/// ```
pub struct Writer<'a> {
    ring: Ring<'a>,
    epoch: u64,
    /// End of the last committed record (published or staged).
    pos: u64,
    /// `tail` as last stored.
    published: u64,
    /// `tail_intent` as last stored.
    intent: u64,
    /// Where a record at the writer's position may end for
    /// [`Writer::put_fast`] to write it: at most the end of the position's
    /// lap, and 8 bytes short of the intent (the word after a record is
    /// written too); 0 on rings with checksums, which the fast path does not
    /// write. Both bounds only grow with the position and the intent, so a
    /// value computed before either moved is still a bound; the paths that
    /// move them past it compute it again ([`Writer::refresh_fast_end`]).
    fast_end: u64,
    /// `head` as last stored.
    head: u64,
    /// Line-aligned rings: the first word of every line in `[pos, cleared)`
    /// is zero (see [`Writer::clear_to`]).
    cleared: u64,
    /// Where the intent stops and the head walk starts (see [`Checkpoints`]).
    checkpoints: Checkpoints,
    /// Start of the newest committed message record.
    latest: u64,
    /// Sequence of the next message.
    seq: u64,
    /// The first word of the first record (or padding) staged since the
    /// last flush, stored at `published` by the next flush; 0 when none.
    held: u64,
    stride: u64,
    /// Smallest gating position at the last scan (`u64::MAX`: none).
    gate_min: u64,
    /// Slot holding `gate_min`.
    gate_slot: usize,
    /// `gate_joins` at the last scan.
    joins_seen: u64,
    /// A joining consumer could not be acknowledged yet.
    joins_pending: bool,
    /// How `claim` waits for gating consumers.
    wait: BoundedSpin,
    /// Called to wake sleeping consumers after a publish.
    wake: Option<crate::wake::WakeFn>,
    /// The CPU takes write prefetches (see [`Writer::prefetch_ahead`]).
    prefetch: bool,
    /// Records that start below this get the line [`hint::AHEAD`] bytes on
    /// asked for (see [`Writer::prefetch_ahead`]): [`hint::ahead_below`]
    /// the intent, or 0 where the CPU takes no prefetch. Kept with
    /// `fast_end`, from the intent.
    prefetch_below: u64,
}

impl core::fmt::Debug for Writer<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Writer")
            .field("epoch", &self.epoch)
            .field("pos", &self.pos)
            .field("seq", &self.seq)
            .finish()
    }
}

impl<'a> Writer<'a> {
    /// Take up the stream from the header (the caller owns the producer word).
    pub(crate) fn start(ring: Ring<'a>, epoch: u64, how: Continuation) -> Writer<'a> {
        let h = ring.hdr;
        let geo = ring.geo;
        // The last values: a producer before us released the producer word
        // (our claim of it acquired), or `Ring::take_over` has read each of
        // these words by a read-modify-write.
        let tail = h.tail.load(Ordering::Acquire);
        let intent = h.tail_intent.load(Ordering::Relaxed);
        let head = h.head.load(Ordering::Relaxed);
        let latest = h.latest.load(Ordering::Relaxed);
        let mut w = Writer {
            ring,
            epoch,
            pos: tail,
            published: tail,
            intent: intent.max(tail),
            fast_end: 0,
            head,
            cleared: tail,
            checkpoints: Checkpoints::new(geo.capacity),
            latest,
            seq: 0,
            held: 0,
            stride: (geo.capacity / 16).min(geo.max_stride()) & !7,
            gate_min: u64::MAX,
            gate_slot: 0,
            joins_seen: 0,
            joins_pending: true,
            wait: BoundedSpin::default(),
            wake: None,
            prefetch: hint::write_prefetch(),
            prefetch_below: 0,
        };
        // Where the stream stands: the sequence after the newest record.
        // The intent covers the word after the tail once anything was
        // written, and is at most a ring past it (`raise_intent` publishes
        // the tail before an intent a ring past it). An intent of 0, as on a
        // ring never written to, bounds nothing: the tail is held to the
        // limit on its own. (An intent far past the tail, kept, would have
        // every reader find itself overwritten until the producer caught up
        // with it.)
        let mut sound = tail.is_multiple_of(geo.align)
            && (intent == 0
                || (tail.saturating_add(8) <= intent
                    && intent <= tail.saturating_add(geo.capacity)))
            && intent < layout::POSITION_LIMIT
            && tail < layout::POSITION_LIMIT
            && head <= tail;
        if sound && tail > 0 {
            // `latest` names the newest record, unless the last producer died
            // between its stores of `latest` and `tail` (`latest` then lies
            // past the tail): find it by walking from the head instead.
            let newest = match ring.peek(latest) {
                Peek::Record(r) if latest < tail && latest.saturating_add(r.size) <= tail => {
                    Some((latest, r))
                }
                _ => ring.newest_before(head, tail),
            };
            match newest {
                Some((at, r)) => {
                    w.latest = at;
                    w.seq = r.seq_after();
                }
                None => sound = false,
            }
        }
        if sound {
            // A producer that died inside `flush`, after the first word of
            // its batch and before `tail`, published records readers may
            // have read already: go on after them, so that no sequence
            // number is used twice. (An unflushed batch stops the walk at
            // once: its first word was never stored.)
            let (end, newest) = ring.completed_after(tail, intent, w.seq);
            if let Some((at, r)) = newest {
                w.latest = at;
                w.seq = r.seq_after();
            }
            w.pos = end;
        }
        if !sound {
            // Damaged positions: start afresh on the next lap boundary past
            // everything that may have been written, and say so to readers.
            let from = tail.max(intent).max(head).max(latest);
            let fresh = if from < layout::POSITION_LIMIT {
                from.saturating_add(geo.mask) & !geo.mask
            } else {
                0
            };
            w.pos = fresh;
            w.published = fresh;
            w.head = fresh;
            w.latest = fresh;
            // The intent covers the first word of the fresh lap, zeroed
            // before the head and the tail name it (Release), so a reader
            // that joins there never sees a record of an earlier lap.
            w.intent = fresh.saturating_add(8);
            h.tail_intent.store(w.intent, Ordering::Relaxed);
            fence(Ordering::Release);
            copy::store(ring.data, ring.word_of(fresh), 0);
            h.head.store(fresh, Ordering::Release);
            h.latest.store(fresh, Ordering::Release);
            h.tail.store(fresh, Ordering::Release);
        }
        // The records in [pos, intent) that a dead producer may have left
        // half-written get overwritten now: republish the intent and fence,
        // so that a reader that copies our bytes there synchronises with us
        // (as after any raise of the intent) and sees the overwrite.
        h.tail_intent.store(w.intent, Ordering::Relaxed);
        fence(Ordering::Release);
        w.cleared = w.pos;
        if w.pos.saturating_add(8) <= w.intent {
            // Where readers wait for the next record: zero already, unless
            // the memory was damaged; make sure.
            copy::store(ring.data, ring.word_of(w.pos), 0);
            w.cleared = w.pos + 8;
        }
        // The records the walk found are published already (their first
        // words are in the ring): move `latest` and `tail` over them. Not
        // `flush`, which would store the held word, and nothing is held.
        h.latest.store(w.latest, Ordering::Release);
        if w.pos != w.published {
            w.published = w.pos;
            h.tail.store(w.pos, Ordering::Release);
        }
        h.epoch.store(epoch, Ordering::Release);
        w.refresh_fast_end();
        if how == Continuation::Restart || !sound {
            w.write_restart();
        }
        w
    }

    /// Compute [`Writer::fast_end`] (and `prefetch_below`) for the
    /// position and intent as they are.
    fn refresh_fast_end(&mut self) {
        let geo = self.ring.geo;
        self.fast_end = if geo.checksum {
            0
        } else {
            let lap_end = (self.pos | geo.mask) + 1;
            self.intent.saturating_sub(8).min(lap_end)
        };
        self.prefetch_below = if self.prefetch {
            hint::ahead_below(self.intent)
        } else {
            0
        };
    }

    /// Publish a restart marker carrying the epoch.
    fn write_restart(&mut self) {
        let (rec, end) = loop {
            match self.reserve(8) {
                Ok(at) => break at,
                // A gating consumer from before the restart holds the ring:
                // it was reading the old stream, so demote it.
                Err(slot) => self.act_on(slot, WaitAction::Demote),
            }
        };
        self.ring.hdr.restart_pos.store(rec, Ordering::Relaxed);
        copy::store(self.ring.data, self.ring.payload_word(rec), self.epoch);
        self.finish_record(rec, end, kind::RESTART, 8, 0);
        // Release: a reader that sees this epoch sees the marker's position.
        self.ring
            .hdr
            .restart_epoch
            .store(self.epoch, Ordering::Release);
        self.flush();
    }

    /// The largest payload a message may carry.
    pub fn max_message(&self) -> usize {
        self.ring.geo.max_message as usize
    }

    /// This producer's epoch.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Sequence number the next message will carry.
    pub fn next_seq(&self) -> u64 {
        self.seq
    }

    /// The ring this producer writes.
    pub fn ring(&self) -> Ring<'a> {
        self.ring
    }

    /// Raise the intent in steps of `bytes` (rounded down to 8, at most the
    /// capacity less two of the largest records; by default a sixteenth of the
    /// capacity): each raise leaves between half of `bytes` and `bytes` past
    /// the record it is for (see the module docs). Larger steps touch the
    /// shared intent line less often; readers are then declared lapped up to
    /// `bytes` early. 0 raises it on every claim.
    pub fn set_intent_stride(&mut self, bytes: usize) {
        self.stride = (bytes as u64).min(self.ring.geo.max_stride()) & !7;
    }

    /// Claim room for a `len`-byte message. Fill it through the [`Claim`], then
    /// [`Claim::commit`] (publish now) or [`Claim::stage`] (publish at the next
    /// [`Writer::flush`]). Dropping the claim aborts it: nothing is published.
    ///
    /// Lossy readers never hold the producer back. If a gating consumer has not
    /// read far enough, this waits with the writer's [`BoundedSpin`] policy
    /// (see [`Writer::set_wait`]), which demotes the consumer when its budget
    /// is spent, so the producer is never blocked for ever.
    ///
    /// # Errors
    /// [`WriteError::TooLong`] if `len` exceeds [`Writer::max_message`];
    /// [`WriteError::Full`] if the policy gives up.
    #[inline]
    pub fn claim(&mut self, len: usize) -> Result<Claim<'_, 'a>, WriteError> {
        let mut wait = self.wait;
        self.claim_with(len, &mut wait)
    }

    /// Claim without waiting.
    ///
    /// # Errors
    /// [`WriteError::Full`] when a gating consumer has not read far enough
    /// (what was staged is published first, so that it can);
    /// [`WriteError::TooLong`] as for [`Writer::claim`].
    #[inline]
    pub fn try_claim(&mut self, len: usize) -> Result<Claim<'_, 'a>, WriteError> {
        self.check_len(len)?;
        let start = self.pos;
        let (rec, end) = self
            .reserve(len as u64)
            .map_err(|slot| WriteError::Full { slot })?;
        self.prefetch_ahead(rec);
        Ok(Claim::new(self, start, rec, end, len))
    }

    /// Claim, waiting for gating consumers through `wait`, which also decides
    /// what to do about a consumer that does not move (demote, evict, give up).
    ///
    /// # Errors
    /// [`WriteError::TooLong`]; [`WriteError::Full`] if `wait` gives up.
    #[inline]
    pub fn claim_with<W: Wait + ?Sized>(
        &mut self,
        len: usize,
        wait: &mut W,
    ) -> Result<Claim<'_, 'a>, WriteError> {
        self.check_len(len)?;
        let start = self.pos;
        let (rec, end) = self.place(len as u64);
        if let Err(slot) = self.make_room_at(rec, end) {
            // The writer's position stays put while it waits: same place.
            self.wait_for_room(len, slot, wait)?;
        }
        self.prefetch_ahead(rec);
        Ok(Claim::new(self, start, rec, end, len))
    }

    /// [`WriteError::TooLong`] if a `len`-byte message exceeds the limit.
    #[inline(always)]
    fn check_len(&self, len: usize) -> Result<(), WriteError> {
        let max = self.ring.geo.max_message;
        if len as u64 > max {
            return Err(WriteError::TooLong {
                len,
                max: max as usize,
            });
        }
        Ok(())
    }

    /// The slow half of [`Writer::claim_with`]: wait until a `len`-byte
    /// record fits, the gating consumer in `slot` being in the way now.
    #[cold]
    fn wait_for_room<W: Wait + ?Sized>(
        &mut self,
        len: usize,
        mut slot: usize,
        wait: &mut W,
    ) -> Result<(), WriteError> {
        let mut waits = 0u64;
        loop {
            waits += 1;
            let blocked = self.blocked(slot, waits);
            match wait.wait(&blocked) {
                WaitAction::Retry => {}
                // The policy's budget is spent, but the record may fit
                // already (the producer held out for a margin): then there
                // is nothing to give up on, no one to demote.
                _ if self.make_room(len).is_ok() => return Ok(()),
                WaitAction::GiveUp => return Err(WriteError::Full { slot }),
                action => self.act_on(slot, action),
            }
            if waits <= RESUME_WAITS && !self.room_to_resume(len) {
                // The consumer in the way now, for the next wait's `Blocked`
                // and its round's count.
                if self.gate_min != u64::MAX {
                    slot = self.gate_slot;
                }
                continue;
            }
            match self.make_room(len) {
                Ok(()) => return Ok(()),
                Err(s) => slot = s,
            }
        }
    }

    /// Whether a producer waiting for room may go on with a `len`-byte
    /// record: the gating consumers (scanned again) leave room for it and a
    /// margin after it, a stride but at most a sixteenth of the ring (less
    /// where the ring cannot hold that much more). Resuming as soon as one
    /// record fits made a producer facing a slower consumer wait again after
    /// every few records, each wait a rescan of the slots and a raise of the
    /// intent, and each rescan a load of the line the consumer shows its
    /// position in: one round of waiting per record, at half the consumer's
    /// pace (see the `gating-busy` runs of the benches' `throughput` tool).
    fn room_to_resume(&mut self, len: usize) -> bool {
        let cap = self.ring.geo.capacity;
        let (_, end) = self.place(len as u64);
        let margin = self.stride.min(cap / 16);
        let want = (end + 8 + margin).min(self.pos + cap).max(end + 8);
        self.scan_gates();
        self.gate_min.saturating_add(cap) >= want
    }

    /// Raise the intent far enough for a `len`-byte record (if the gating
    /// consumers allow), without writing anything.
    #[inline]
    fn make_room(&mut self, len: usize) -> Result<(), usize> {
        if len as u64 > self.ring.geo.max_message {
            return Ok(());
        }
        let (rec, end) = self.place(len as u64);
        self.make_room_at(rec, end)
    }

    /// Ask for the line [`hint::AHEAD`] bytes past the record at `rec` to be
    /// ready for writing, where the CPU takes the hint (see [`crate::hint`]).
    /// Called once a message from the fast path and from claims: the line
    /// asked for is where the records of a few messages on will go, which
    /// the consumers read a lap ago. Only a line wholly under the intent:
    /// past it may be lines that a gating consumer has yet to read (a
    /// producer held back by one writes just behind it), which the hint
    /// would take from it: `rec < prefetch_below` (see
    /// [`hint::ahead_below`]), one comparison.
    #[inline(always)]
    fn prefetch_ahead(&self, rec: u64) {
        if rec < self.prefetch_below {
            let at = (rec + hint::AHEAD) & self.ring.geo.mask;
            hint::prefetch_write(self.ring.data, at as usize);
        }
    }

    /// Where a `len`-byte record goes: at the writer's position, or at the
    /// start of the next lap if it does not fit before the end of this one
    /// (the padding is written when the record is finished). Its start and end.
    #[inline(always)]
    fn place(&self, len: u64) -> (u64, u64) {
        let geo = self.ring.geo;
        let size = geo.record_size(len);
        let room = geo.capacity - (self.pos & geo.mask);
        let rec = if size > room {
            self.pos + room
        } else {
            self.pos
        };
        (rec, rec + size)
    }

    /// Raise the intent over the record `[rec, end)` and the word after it
    /// (see "Publication"), if the gating consumers allow; else the slot of
    /// the one in the way.
    #[inline(always)]
    fn make_room_at(&mut self, rec: u64, end: u64) -> Result<(), usize> {
        if end + 8 > self.intent {
            self.raise_intent(rec, end + 8)
        } else {
            Ok(())
        }
    }

    /// Set the policy `claim` and the `write` family wait with.
    pub fn set_wait(&mut self, wait: BoundedSpin) {
        self.wait = wait;
    }

    /// Describe the consumer in `slot` for a wait strategy, counting the wait.
    fn blocked(&self, slot: usize, waits: u64) -> Blocked {
        let s = &self.ring.slots[slot];
        let position = s.position.load(Ordering::Relaxed);
        // A round of waiting: the consumer, seeing the count move, shows its
        // position within a kibibyte of reading (see `Reader::release`).
        if (waits - 1).is_multiple_of(RESUME_WAITS) {
            let n = s.producer_waits.load(Ordering::Relaxed);
            s.producer_waits.store(n.wrapping_add(1), Ordering::Relaxed);
        }
        Blocked {
            slot,
            generation: s.state.load(Ordering::Relaxed) >> 8,
            lease: s.lease.load(Ordering::Acquire),
            position,
            lag: self.pos.saturating_sub(position),
            waits,
        }
    }

    /// Demote or evict the gating consumer in `slot`, then rescan.
    fn act_on(&mut self, slot: usize, action: WaitAction) {
        let s = &self.ring.slots[slot];
        let word = s.state.load(Ordering::Acquire);
        if matches!(word & 0xff, GATING | JOINING) {
            let to = match action {
                WaitAction::Evict => EVICTED,
                _ => LOSSY,
            };
            let _ = s.state.compare_exchange(
                word,
                (word & !0xff) | to,
                Ordering::AcqRel,
                Ordering::Relaxed,
            );
        }
        self.scan_gates();
    }

    /// Recompute the smallest gating position, acknowledging joining consumers
    /// whose position is still intact (see [`crate::consumer`]).
    fn scan_gates(&mut self) {
        let cap = self.ring.geo.capacity;
        self.joins_seen = self.ring.hdr.gate_joins.load(Ordering::Acquire);
        let mut min = u64::MAX;
        let mut slot_of_min = 0;
        let mut pending = false;
        for (i, s) in self.ring.slots.iter().enumerate() {
            let word = s.state.load(Ordering::Acquire);
            let st = word & 0xff;
            if st != GATING && st != JOINING {
                continue;
            }
            let p = s.position.load(Ordering::Acquire);
            if st == JOINING {
                let intact = p <= self.pos && p.saturating_add(cap) >= self.intent;
                let acked = intact
                    && s.state
                        .compare_exchange(
                            word,
                            (word & !0xff) | GATING,
                            Ordering::AcqRel,
                            Ordering::Relaxed,
                        )
                        .is_ok();
                if !acked {
                    pending = true;
                    continue;
                }
            }
            if p < min {
                min = p;
                slot_of_min = i;
            }
        }
        self.gate_min = min;
        self.gate_slot = slot_of_min;
        self.joins_pending = pending;
    }

    /// Write and publish one message.
    ///
    /// # Errors
    /// [`WriteError::TooLong`] if the message exceeds [`Writer::max_message`].
    #[inline]
    pub fn write(&mut self, msg: &[u8]) -> Result<u64, WriteError> {
        self.write_tagged(0, msg)
    }

    /// Write and publish one message with a user tag; returns its sequence number.
    ///
    /// # Errors
    /// [`WriteError::TooLong`] if the message exceeds [`Writer::max_message`].
    #[inline]
    pub fn write_tagged(&mut self, tag: u32, msg: &[u8]) -> Result<u64, WriteError> {
        if let Some(seq) = self.put_fast::<true>(tag, msg) {
            return Ok(seq);
        }
        let mut wait = self.wait;
        self.write_slow(tag, msg, &mut wait)
    }

    /// Write one message to be published by the next [`Writer::flush`].
    ///
    /// # Errors
    /// [`WriteError::TooLong`] if the message exceeds [`Writer::max_message`].
    #[inline]
    pub fn stage(&mut self, tag: u32, msg: &[u8]) -> Result<u64, WriteError> {
        if let Some(seq) = self.put_fast::<false>(tag, msg) {
            return Ok(seq);
        }
        let mut wait = self.wait;
        self.put_slow(tag, msg, &mut wait)
    }

    /// Write and publish one message with a user tag, waiting for gating
    /// consumers through `wait` (as [`Writer::claim_with`] does); returns its
    /// sequence number. The same as `claim_with` + [`Claim::commit_with`],
    /// without building a [`Claim`].
    ///
    /// # Errors
    /// [`WriteError::TooLong`]; [`WriteError::Full`] if `wait` gives up.
    #[inline]
    pub fn write_with<W: Wait + ?Sized>(
        &mut self,
        tag: u32,
        msg: &[u8],
        wait: &mut W,
    ) -> Result<u64, WriteError> {
        if let Some(seq) = self.put_fast::<true>(tag, msg) {
            return Ok(seq);
        }
        self.write_slow(tag, msg, wait)
    }

    /// Write one message with a user tag to be published by the next
    /// [`Writer::flush`], waiting for gating consumers through `wait`.
    ///
    /// # Errors
    /// [`WriteError::TooLong`]; [`WriteError::Full`] if `wait` gives up.
    #[inline]
    pub fn stage_with<W: Wait + ?Sized>(
        &mut self,
        tag: u32,
        msg: &[u8],
        wait: &mut W,
    ) -> Result<u64, WriteError> {
        if let Some(seq) = self.put_fast::<false>(tag, msg) {
            return Ok(seq);
        }
        self.put_slow(tag, msg, wait)
    }

    /// The common case of the `write` and `stage` families, small enough to
    /// inline into the caller's loop: a message whose record ends by
    /// [`Writer::fast_end`] (before the end of the lap and under the intent,
    /// on a ring without checksums) and, to publish, with nothing staged.
    /// It writes what [`Writer::finish_record`] and then (if `PUBLISH`)
    /// [`Writer::flush`] write, but for the order of some stores and, when
    /// staging on a packed ring, the zero after the record, which the flush
    /// stores after the batch (see [`Writer::seal`]).
    /// `None`, having written nothing, leaves the message to the general path.
    #[inline(always)]
    fn put_fast<const PUBLISH: bool>(&mut self, tag: u32, msg: &[u8]) -> Option<u64> {
        let geo = self.ring.geo;
        let len = msg.len() as u64;
        let rec = self.pos;
        if len > geo.max_message {
            return None;
        }
        // No overflow past the length check. The header is 16 bytes: a ring
        // with checksums has a `fast_end` of 0.
        let end = rec + layout::record_size(len, layout::RECORD_HEADER as u64, geo.align);
        if end > self.fast_end || (PUBLISH && rec != self.published) {
            return None;
        }
        debug_assert!(self.can_seal::<PUBLISH>(rec));
        self.prefetch_ahead(rec);
        let word = self.ring.word_of(rec);
        let payload = word + layout::RECORD_HEADER / 8;
        copy::copy_in_message(self.ring.data, payload, msg);
        Some(self.seal::<PUBLISH>(word, rec, end, len as u32, tag))
    }

    /// Whether [`Writer::seal`] can finish the record `[rec, ..)`: it starts
    /// at the writer's position (no padding before it), the ring has no
    /// checksums, and, to publish, nothing is staged.
    #[inline(always)]
    fn can_seal<const PUBLISH: bool>(&self, rec: u64) -> bool {
        rec == self.pos && !self.ring.geo.checksum && (!PUBLISH || rec == self.published)
    }

    /// Finish a filled message record where [`Writer::can_seal`] holds:
    /// what [`Writer::finish_message`] (and then, to `PUBLISH`,
    /// [`Writer::flush`]) stores, without padding or a checksum to write.
    /// Published at once, the first word goes straight to the ring (nothing
    /// is staged, so nothing is held back); staged, it is held back for the
    /// flush if the record is the batch's first, and stored (Release)
    /// behind the held one if not. A packed ring's staged record leaves the
    /// zero after it to the flush (see "Publication"). Where the first word
    /// is stored, a line-aligned ring zeroes the lines ahead after it rather
    /// than before (see [`Writer::release_clearing`]); behind a held word no
    /// reader sees either order.
    #[inline(always)]
    fn seal<const PUBLISH: bool>(
        &mut self,
        word: usize,
        rec: u64,
        end: u64,
        len: u32,
        tag: u32,
    ) -> u64 {
        debug_assert!(self.can_seal::<PUBLISH>(rec) && word == self.ring.word_of(rec));
        let data = self.ring.data;
        let seq = self.seq;
        copy::store(data, word + 1, seq.to_le());
        let first = word0(kind::MESSAGE, len, tag).to_le();
        // The batch's first record when nothing is staged before it: always
        // so when publishing (`can_seal`).
        let leads = rec == self.published;
        self.pos = end;
        self.latest = rec;
        self.seq = seq.wrapping_add(1);
        self.checkpoints.note(rec);
        if !PUBLISH && leads {
            // Held for the flush, which stores it (Release) first of all.
            debug_assert!(self.held == 0);
            self.held = first;
            self.clear_ahead_of(end);
            return seq;
        }
        // Nothing staged before a record published at once, so no first
        // word held back for a flush to store.
        debug_assert!(!PUBLISH || self.held == 0);
        if self.ring.geo.clears_ahead() {
            self.release_clearing(word, end, first);
        } else {
            // A staged record's end is where the next staged record's first
            // word goes, or the flush's zero (see `Writer::flush`): no store
            // here that a later one overwrites before anyone can read it.
            if PUBLISH {
                copy::store(data, self.ring.word_of(end), 0);
            }
            copy::store_release(data, word, first);
        }
        if PUBLISH {
            self.publish();
        }
        seq
    }

    /// [`Claim::commit`] where [`Writer::can_seal`] does not hold: the
    /// general `finish_message`, then a flush.
    #[inline(never)]
    fn commit_slow(&mut self, rec: u64, end: u64, len: u32, tag: u32) -> u64 {
        let seq = self.finish_message(rec, end, len, tag);
        self.flush();
        seq
    }

    /// [`Writer::write_with`] past [`Writer::put_fast`].
    #[inline(never)]
    fn write_slow<W: Wait + ?Sized>(
        &mut self,
        tag: u32,
        msg: &[u8],
        wait: &mut W,
    ) -> Result<u64, WriteError> {
        let seq = self.put_slow(tag, msg, wait)?;
        self.flush();
        Ok(seq)
    }

    /// [`Writer::stage_with`] past [`Writer::put_fast`]: a message too long,
    /// padding at the end of the lap, raising the intent (and waiting for
    /// gating consumers), checksums.
    #[inline(never)]
    fn put_slow<W: Wait + ?Sized>(
        &mut self,
        tag: u32,
        msg: &[u8],
        wait: &mut W,
    ) -> Result<u64, WriteError> {
        let len = msg.len();
        self.check_len(len)?;
        let (rec, end) = self.place(len as u64);
        if let Err(slot) = self.make_room_at(rec, end) {
            // The writer's position stays put while it waits: same place.
            self.wait_for_room(len, slot, wait)?;
        }
        copy::copy_in_message(self.ring.data, self.ring.payload_word(rec), msg);
        Ok(self.finish_message(rec, end, len as u32, tag))
    }

    /// Publish every staged record: on a packed ring a zero after the
    /// batch's last record (see "Publication"), then the batch's first word
    /// (held back until now), then `latest` and `tail`.
    #[inline]
    pub fn flush(&mut self) {
        // A first word is held back exactly while something is staged.
        debug_assert_eq!(self.held != 0, self.pos != self.published);
        if self.pos != self.published {
            if !self.ring.geo.clears_ahead() {
                // The word after the batch's last record, which a packed
                // ring's records leave to the flush: zero before the batch
                // is published (see "Publication").
                copy::store(self.ring.data, self.ring.word_of(self.pos), 0);
            }
            let at = self.ring.word_of(self.published);
            copy::store_release(self.ring.data, at, self.held);
            self.held = 0;
            self.publish();
        }
    }

    /// Store `latest` and `tail` for what is written up to the position (its
    /// first word stored), and wake sleepers.
    #[inline(always)]
    fn publish(&mut self) {
        let h = self.ring.hdr;
        // Release: a reader that joins at `latest` (Acquire) sees the record
        // there, published before.
        h.latest.store(self.latest, Ordering::Release);
        h.tail.store(self.pos, Ordering::Release);
        self.published = self.pos;
        if let Some(wake) = self.wake {
            self.ring.wake_data(wake);
        }
    }

    /// Wake consumers sleeping on the ring's data word (see [`crate::wake`])
    /// after every publish: `wake` is called (typically a futex wake) only
    /// when some consumer has announced that it sleeps, so a publish with
    /// nobody asleep costs one load of a cached line and no system call.
    pub fn set_wake(&mut self, wake: Option<crate::wake::WakeFn>) {
        self.wake = wake;
    }

    /// Store a line-aligned ring's record's first word `first` (Release) at
    /// `word`, zeroing the word at the record's `end` before, if it is not
    /// zeroed yet, and those of the lines ahead after (see
    /// [`Writer::clear_to`]). Out of line: the packed rings' path, which
    /// stores the zero itself, stays short.
    #[inline(never)]
    fn release_clearing(&mut self, word: usize, end: u64, first: u64) {
        if end >= self.cleared {
            // Lines before `end` hold the record (or were zeroed).
            self.cleared = end;
            self.clear_to(end + 8);
        }
        copy::store_release(self.ring.data, word, first);
        // After the publication, off its path: where the next records will
        // end.
        self.clear_to(end + CLEAR_AHEAD);
    }

    /// On a line-aligned ring, zero the first word of every line from
    /// `cleared` up to `to` (but not past the intent, which must cover the
    /// words written): the words where records of this lap will end. A
    /// record is then sealed without a store to the line after it, the line
    /// a reader polls for the next record; the zeroes go a few lines ahead,
    /// after the publication. (Packed rings zero the word after a record as
    /// they seal it to publish at once, or after a batch as they flush it.)
    /// The word after a record is zeroed before the record is published
    /// either way, which is what "Publication" asks.
    #[inline]
    fn clear_to(&mut self, to: u64) {
        let align = self.ring.geo.align;
        let to = to.min(self.intent);
        let mut at = (self.cleared + align - 1) & !(align - 1);
        while at < to {
            copy::store(self.ring.data, self.ring.word_of(at), 0);
            at += align;
        }
        self.cleared = self.cleared.max(at);
    }

    /// Place a `len`-byte record and make room for it (see [`Writer::place`]).
    /// Its start and end, or the slot of the gating consumer in the way.
    #[inline]
    fn reserve(&mut self, len: u64) -> Result<(u64, u64), usize> {
        let (rec, end) = self.place(len);
        self.make_room_at(rec, end)?;
        Ok((rec, end))
    }

    /// Raise the intent past `end` (by half a stride to a stride, less where
    /// gating consumers hold it lower), first moving `head` past the
    /// records that the new intent may overwrite. `end` is where the bytes
    /// about to be written end: the record and the word after it.
    ///
    /// The intent never passes `capacity` beyond the smallest gating position;
    /// the slots are rescanned only when that bound is in the way or a
    /// consumer asked to gate.
    #[cold]
    fn raise_intent(&mut self, rec: u64, end: u64) -> Result<(), usize> {
        let geo = self.ring.geo;
        let mut limit = self.gate_min.saturating_add(geo.capacity);
        if end > limit
            || self.joins_pending
            || self.ring.hdr.gate_joins.load(Ordering::Relaxed) != self.joins_seen
        {
            self.scan_gates();
            limit = self.gate_min.saturating_add(geo.capacity);
            if end > limit {
                // Full: publish what is staged, or a gating consumer waiting
                // for it could never make the room this claim waits for.
                self.flush();
                return Err(self.gate_slot);
            }
        }
        let mut intent = end.saturating_add(self.stride).min(limit);
        let mut doomed = intent.saturating_sub(geo.capacity);
        // Honest runs move the head less than a ring: it is at least the old
        // intent less a capacity. Anything farther (damage, another writer)
        // jumps to the one record known good, the one claimed now.
        let near = self.head < doomed && doomed - self.head <= geo.capacity;
        let noted = if near {
            self.checkpoints.before(doomed, self.head)
        } else {
            None
        };
        if let Some(at) = noted {
            // `end <= intent` here (`limit` was checked above).
            if at.saturating_add(geo.capacity) >= end + (intent - end) / 2 {
                // Stop short at a record start noted on the way: the head
                // moves there without loading a header (see `Checkpoints`),
                // and the intent still clears `end` by half of what the
                // full raise would (half a stride, unless gating consumers
                // hold it lower).
                doomed = at;
                intent = at + geo.capacity;
            }
        }
        if doomed > self.published {
            // A batch larger than the ring: publish it before the head (the
            // oldest record a reader may join at) passes the published tail.
            self.flush();
        }
        if self.head < doomed {
            let h = if near {
                self.walk_head(noted.unwrap_or(self.head), doomed, rec)
            } else {
                rec
            };
            self.head = h;
            // Release: a reader that joins at the head (Acquire) sees the
            // record there as published, not a word from a lap before.
            self.ring.hdr.head.store(h, Ordering::Release);
        }
        self.intent = intent;
        self.ring.hdr.tail_intent.store(intent, Ordering::Relaxed);
        fence(Ordering::Release);
        self.refresh_fast_end();
        Ok(())
    }

    /// Walk record headers from `h` to the first record at or past `doomed`,
    /// never past `rec` (the record being claimed), which a bad header also
    /// jumps to. Not cold, unlike its caller: it runs once per record over a
    /// lap, and reads one header word per record.
    #[inline(never)]
    fn walk_head(&self, mut h: u64, doomed: u64, rec: u64) -> u64 {
        while h < doomed {
            h = self.ring.skip(h).unwrap_or(rec);
            if h > rec {
                return rec;
            }
        }
        h
    }

    /// For a record that ends at `end` and that a flush will publish: on a
    /// line-aligned ring, zero the words where records will end up to a
    /// few lines ahead (see [`Writer::clear_to`]). A packed ring's word
    /// after the record is the next staged record's first word, or the
    /// flush's zero (see "Publication"), so nothing is stored here.
    #[inline(always)]
    fn clear_ahead_of(&mut self, end: u64) {
        if self.ring.geo.clears_ahead() {
            self.cleared = self.cleared.max(end);
            self.clear_to(end + CLEAR_AHEAD);
        }
    }

    /// Commit a filled message record (unpublished) and take its sequence
    /// number; returns it.
    #[inline]
    fn finish_message(&mut self, rec: u64, end: u64, len: u32, tag: u32) -> u64 {
        let seq = self.seq;
        self.finish_record(rec, end, kind::MESSAGE, len, tag);
        self.seq = seq.wrapping_add(1);
        seq
    }

    /// Write the header of a filled record (see "Publication"): the other
    /// header words, the lines ahead cleared on a line-aligned ring (a
    /// packed ring's zero after the record is the next record's first word
    /// or the flush's), then the first word (Release),
    /// then the padding before the record, if any (Release). The first of
    /// these two words at the writer's position is held back for the next
    /// flush when nothing has been staged since the last one.
    #[inline]
    fn finish_record(&mut self, rec: u64, end: u64, k: u32, len: u32, tag: u32) {
        let geo = self.ring.geo;
        let data = self.ring.data;
        let word = self.ring.word_of(rec);
        let w0 = word0(k, len, tag);
        copy::store(data, word + 1, self.seq.to_le());
        if geo.checksum {
            let payload = word + geo.header as usize / 8;
            let sum = crate::checksum::in_ring(data, payload, w0, self.seq, len as usize);
            copy::store(data, word + 2, sum.to_le());
        }
        self.clear_ahead_of(end);
        // The word at the writer's position: the record's, or the padding's.
        let (first_at, first) = if rec == self.pos {
            (word, w0)
        } else {
            copy::store_release(data, word, w0.to_le());
            let pad = word0(kind::PADDING, ((rec - self.pos) / 8) as u32, 0);
            (self.ring.word_of(self.pos), pad)
        };
        if self.pos == self.published {
            self.held = first.to_le();
        } else {
            copy::store_release(data, first_at, first.to_le());
        }
        self.pos = end;
        self.latest = rec;
        self.checkpoints.note(rec);
        // Possibly into a new lap.
        self.refresh_fast_end();
    }
}

/// Waits of one claim during which a producer blocked by a gating consumer
/// holds out for [`Writer::room_to_resume`]'s margin; later waits take any
/// room that fits the record. Few enough to be a short spin under the
/// default wait policies (`BoundedSpin`; the Linux adapter spins 128 times
/// before it yields or sleeps), so a consumer that moves slowly is waited
/// for hardly longer than before; a policy that acts or gives up sooner
/// is not held to it (a record that fits is taken instead), and one that
/// sleeps at once sleeps through these waits too. Also the length of a
/// round of waiting: the slot's `producer_waits` counts one at the first
/// wait and one more every this many waits after, and each count makes the
/// consumer show its position within a kibibyte of reading (at its next
/// read on a ring of 1 KiB or less). One under loom, where every
/// wait is an interleaving to explore.
const RESUME_WAITS: u64 = if cfg!(loom) { 1 } else { 64 };

/// Record starts the producer wrote, the first in each of 64 slices of the
/// ring, over the last lap (or more, for rings under 4 KiB): when the intent
/// rises, the mark is where a full raise would doom records (that intent
/// less a capacity). The intent stops at the last noted start at or below
/// the mark, and at or past the head, if that keeps half the raise; the head
/// moves onto it without a walk. Else the head walk (one dependent load of a
/// header a lap old per record) starts there, or at the head if none is
/// noted, so it covers at most a slice of records instead of a stride. Kept
/// in the producer's own memory, from positions it chose: nothing here is
/// read from the ring.
#[derive(Debug, Clone, Copy)]
struct Checkpoints {
    /// Slice `i % 64` holds the first record start noted in slice `i`
    /// (absolute positions, so an entry from another lap is told apart).
    first: [u64; CHECKPOINTS],
    /// Start of the slice after the last noted record's: a record at or
    /// past it is the first of its slice (positions only grow).
    next_slice: u64,
    /// log2 of the slice size.
    shift: u32,
}

const CHECKPOINTS: usize = 64;

impl Checkpoints {
    fn new(capacity: u64) -> Checkpoints {
        Checkpoints {
            first: [u64::MAX; CHECKPOINTS],
            next_slice: 0,
            shift: (capacity / CHECKPOINTS as u64).max(8).trailing_zeros(),
        }
    }

    /// A record starts at `rec` (called for every record, in order).
    #[inline(always)]
    fn note(&mut self, rec: u64) {
        if rec >= self.next_slice {
            let slice = rec >> self.shift;
            self.next_slice = (slice + 1) << self.shift;
            self.first[slice as usize % CHECKPOINTS] = rec;
        }
    }

    /// A noted record start in `[head, doomed]`, if any: the first record
    /// of the highest slice, down to the head's, whose first record starts
    /// at or before `doomed`. Any noted start at or past the head is
    /// a record the producer wrote and has not overwritten.
    fn before(&self, doomed: u64, head: u64) -> Option<u64> {
        let mut slice = doomed >> self.shift;
        for _ in 0..CHECKPOINTS {
            let at = self.first[slice as usize % CHECKPOINTS];
            if at >> self.shift == slice && (head..=doomed).contains(&at) {
                return Some(at);
            }
            if slice <= head >> self.shift || slice == 0 {
                break;
            }
            slice -= 1;
        }
        None
    }
}

impl Drop for Writer<'_> {
    /// Publish what was staged and release the ring for another producer.
    fn drop(&mut self) {
        self.flush();
        let _ = self.ring.hdr.producer.compare_exchange(
            self.epoch,
            0,
            Ordering::AcqRel,
            Ordering::Relaxed,
        );
    }
}

/// Room for one message, claimed from a [`Writer`].
///
/// The payload lives in shared memory that readers may be copying, so it is
/// filled through methods that write with atomic word stores (never through a
/// `&mut [u8]`). Bytes never written hold unspecified earlier ring content.
///
/// Dropping a claim (including during a panic) aborts it: the record is not
/// published and its room is reused.
pub struct Claim<'w, 'a> {
    writer: &'w mut Writer<'a>,
    /// Writer position before this claim (and before any padding).
    start: u64,
    rec: u64,
    end: u64,
    len: usize,
    filled: usize,
    tag: u32,
    done: bool,
}

impl core::fmt::Debug for Claim<'_, '_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Claim")
            .field("len", &self.len)
            .field("filled", &self.filled)
            .field("tag", &self.tag)
            .finish()
    }
}

impl<'w, 'a> Claim<'w, 'a> {
    /// A claim of the `len`-byte record `[rec, end)`, placed with the writer
    /// at `start` (before any padding).
    #[inline(always)]
    fn new(writer: &'w mut Writer<'a>, start: u64, rec: u64, end: u64, len: usize) -> Self {
        Claim {
            writer,
            start,
            rec,
            end,
            len,
            filled: 0,
            tag: 0,
            done: false,
        }
    }
}

impl Claim<'_, '_> {
    /// The claimed payload length.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether the claim is for an empty message.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The sequence number this message will carry.
    pub fn seq(&self) -> u64 {
        self.writer.seq
    }
    /// Set the user tag carried in the record header.
    pub fn set_tag(&mut self, tag: u32) {
        self.tag = tag;
    }

    /// Write `bytes` at `offset` in the payload.
    ///
    /// # Errors
    /// [`OutOfBounds`] if the bytes do not fit the claim; nothing is written.
    #[inline]
    pub fn write_at(&mut self, offset: usize, bytes: &[u8]) -> Result<(), OutOfBounds> {
        match offset.checked_add(bytes.len()) {
            Some(end) if end <= self.len => {
                copy::copy_in(self.writer.ring.data, self.payload_word(), offset, bytes);
                Ok(())
            }
            _ => Err(OutOfBounds {
                offset,
                len: bytes.len(),
                claimed: self.len,
            }),
        }
    }

    /// Append `bytes` after what `put` wrote before.
    ///
    /// # Errors
    /// [`OutOfBounds`] if the bytes do not fit the claim; nothing is written.
    #[inline]
    pub fn put(&mut self, bytes: &[u8]) -> Result<(), OutOfBounds> {
        self.write_at(self.filled, bytes)?;
        self.filled += bytes.len();
        Ok(())
    }

    /// Set every payload byte from `offset` to the end to `byte`.
    pub fn fill_from(&mut self, offset: usize, byte: u8) {
        if offset < self.len {
            copy::fill(
                self.writer.ring.data,
                self.payload_word(),
                offset,
                self.len - offset,
                byte,
            );
        }
    }

    /// Read back payload bytes written so far (the producer's own bytes).
    ///
    /// # Errors
    /// [`OutOfBounds`] if the range is outside the claim.
    pub fn read_at(&self, offset: usize, dst: &mut [u8]) -> Result<(), OutOfBounds> {
        let err = OutOfBounds {
            offset,
            len: dst.len(),
            claimed: self.len,
        };
        match offset.checked_add(dst.len()) {
            Some(end) if end <= self.len => {}
            _ => return Err(err),
        }
        let mut tmp = [0u8; 8];
        for (i, b) in dst.iter_mut().enumerate() {
            let at = offset + i;
            if i == 0 || at.is_multiple_of(8) {
                copy::copy_out(
                    self.writer.ring.data,
                    self.payload_word() + at / 8,
                    &mut tmp,
                );
            }
            *b = tmp[at % 8];
        }
        Ok(())
    }

    /// Fill the whole payload with `msg` (of exactly the claimed length) and publish.
    ///
    /// # Panics
    /// If `msg.len()` differs from the claimed length.
    #[inline]
    pub fn commit_with(mut self, msg: &[u8]) -> u64 {
        assert_eq!(
            msg.len(),
            self.len,
            "commit_with: length differs from claim"
        );
        copy::copy_in_message(self.writer.ring.data, self.payload_word(), msg);
        self.finish::<true>()
    }

    /// Fill the whole payload with `msg` (of exactly the claimed length) and stage it.
    ///
    /// # Panics
    /// If `msg.len()` differs from the claimed length.
    #[inline]
    pub fn stage_with(mut self, msg: &[u8]) -> u64 {
        assert_eq!(msg.len(), self.len, "stage_with: length differs from claim");
        copy::copy_in_message(self.writer.ring.data, self.payload_word(), msg);
        self.finish::<false>()
    }

    /// Complete the message and publish it (with everything staged before it).
    /// Returns its sequence number.
    #[inline]
    pub fn commit(mut self) -> u64 {
        self.finish::<true>()
    }

    /// Complete the message without publishing it; [`Writer::flush`] (or the
    /// next commit) publishes it. Returns its sequence number.
    #[inline]
    pub fn stage(mut self) -> u64 {
        self.finish::<false>()
    }

    /// Write the record header, move the writer past the record and, to
    /// `PUBLISH`, publish. The claim's fields go to the writer as values:
    /// nothing takes the claim's address, so it lives in registers (a claim
    /// kept in memory and moved by `commit` was reloaded, in wider loads than
    /// its stores, which made each commit wait for the ring stores before it
    /// to drain).
    #[inline(always)]
    fn finish<const PUBLISH: bool>(&mut self) -> u64 {
        self.done = true;
        let (rec, end, len, tag) = (self.rec, self.end, self.len as u32, self.tag);
        let w = &mut *self.writer;
        if w.can_seal::<PUBLISH>(rec) {
            return w.seal::<PUBLISH>(w.ring.word_of(rec), rec, end, len, tag);
        }
        if PUBLISH {
            w.commit_slow(rec, end, len, tag)
        } else {
            w.finish_message(rec, end, len, tag)
        }
    }

    #[inline]
    fn payload_word(&self) -> usize {
        self.writer.ring.payload_word(self.rec)
    }
}

impl Drop for Claim<'_, '_> {
    /// Abort: forget the claim; its room is reused (nothing of it was
    /// published: neither its header word nor the padding before it).
    fn drop(&mut self) {
        if !self.done {
            let w = &mut *self.writer;
            w.pos = self.start;
            // The payload may have covered the first words of lines after
            // the record's first: those are to be zeroed again.
            w.cleared = w.cleared.min(self.rec + 8).max(w.pos);
        }
    }
}

const _: () = assert!(layout::RECORD_HEADER.is_multiple_of(8));
