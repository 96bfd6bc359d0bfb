//! Batched reads: the messages waiting at a reader's position, as many as a
//! buffer holds, copied in one run and checked against the producer's intent
//! once for the whole run.
//!
//! A single read checks the intent after its copy; a run of records checks it
//! once after the last copy, against the run's first position. That one check
//! covers every record of the run: the producer raises the intent past a
//! position (and fences) before it overwrites the bytes a lap before it, and
//! the intent only grows, so an intent found at most a lap past the run's
//! first position (after every copy, behind an Acquire fence) was at most a
//! lap past each later position too while it was copied. Each record is
//! still framed and bounds-checked on its own before its bytes are copied
//! (and its checksum, on a ring with checksums, checked after), so damaged
//! memory ends a run where a single read would have failed; the general path
//! then reads (or reports) what is there, one record at a time.
//!
//! A run that fails the check is lost whole, where single reads would have
//! kept the records read before the overwrite began. So a run spans at most
//! the margin the intent showed when it began (what the producer may still
//! write before the run's first record is overwritten), and always its
//! first record: a reader just lapped, which stands at the edge of the
//! overwrite, reads a record a call as single reads do, and its runs grow
//! as it gains ground, instead of losing every long run to the producer's
//! next raise of the intent. (A gating reader, which the producer waits
//! for, is never overwritten: its runs are not bounded so.)

use super::{Read, Reader};
use crate::copy;
use crate::error::ReadError;
use crate::layout::{self, kind};
use crate::ring::word0;
use crate::sync::{fence, Ordering};
use crate::Message;

/// Bytes of each message's frame word in a batch buffer: its length (low
/// 32 bits) and tag (high 32), in native byte order.
///
/// The payloads fill the buffer from its start, each rounded up to whole
/// words; the frame words fill it from its end, the first message's last.
/// So the frames sit at places known before any is read, and walking a
/// batch loads each one independently: with each frame before its payload,
/// the walk would chase its own loads (each frame's place depends on the
/// length the one before it holds), which took 40% of a 64-message batch
/// read's time (`perf record`, the `handoff` tool).
const FRAME: usize = 8;

/// Bytes a `len`-byte message takes in a batch buffer: an 8-byte frame word
/// and the payload, rounded up to 8. A buffer of `n * batch_space(len)`
/// bytes holds `n` such messages. (A batch's first message needs only its
/// frame and payload, but is then read by itself: see
/// [`Reader::try_read_batch`].)
///
/// ```
/// assert_eq!(shmcast::batch_space(32), 40);
/// assert_eq!(shmcast::batch_space(1), 16);
/// ```
pub const fn batch_space(len: usize) -> usize {
    FRAME + ((len + 7) & !7)
}

/// The outcome of one [`Reader::try_read_batch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Batch<'b> {
    /// One or more messages, consecutive in sequence, in the caller's buffer.
    Messages(Messages<'b>),
    /// As [`Read::Empty`].
    Empty,
    /// As [`Read::Lapped`]: the reader has resynchronised; no message is read.
    Lapped {
        /// Messages skipped.
        lost_messages: u64,
        /// Ring bytes skipped (records with their headers and padding).
        lost_bytes: u64,
    },
    /// As [`Read::Restarted`].
    Restarted {
        /// The new producer's epoch.
        epoch: u64,
        /// Sequence number of the first message of the restarted stream.
        seq: u64,
    },
}

impl<'b> Batch<'b> {
    /// The messages, if this is a batch of them.
    pub fn messages(self) -> Option<Messages<'b>> {
        match self {
            Batch::Messages(m) => Some(m),
            _ => None,
        }
    }

    fn of(read: Read) -> Batch<'b> {
        match read {
            // Not produced by the callers (a message becomes a batch of one).
            Read::Empty | Read::Message(_) => Batch::Empty,
            Read::Lapped {
                lost_messages,
                lost_bytes,
            } => Batch::Lapped {
                lost_messages,
                lost_bytes,
            },
            Read::Restarted { epoch, seq } => Batch::Restarted { epoch, seq },
        }
    }
}

/// Messages read by one [`Reader::try_read_batch`]: at least one, with
/// consecutive sequence numbers, framed in the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Messages<'b> {
    /// The payloads, each but the last rounded up to whole words.
    payloads: &'b [u8],
    /// Their frame words, the first message's last.
    frames: &'b [[u8; FRAME]],
    seq: u64,
}

impl<'b> Messages<'b> {
    /// How many messages (at least one).
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Always false: a batch holds at least one message.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Sequence number of the first message (the others follow it by one).
    pub fn first_seq(&self) -> u64 {
        self.seq
    }

    /// The messages in order, each with its payload.
    pub fn iter(&self) -> BatchIter<'b> {
        BatchIter {
            payloads: self.payloads,
            frames: self.frames,
            seq: self.seq,
        }
    }
}

impl<'b> IntoIterator for Messages<'b> {
    type Item = (Message, &'b [u8]);
    type IntoIter = BatchIter<'b>;
    fn into_iter(self) -> BatchIter<'b> {
        self.iter()
    }
}

impl<'b> IntoIterator for &Messages<'b> {
    type Item = (Message, &'b [u8]);
    type IntoIter = BatchIter<'b>;
    fn into_iter(self) -> BatchIter<'b> {
        self.iter()
    }
}

/// Iterator over the messages of a batch (see [`Messages::iter`]).
#[derive(Debug, Clone)]
pub struct BatchIter<'b> {
    /// The payloads left, from the next one's.
    payloads: &'b [u8],
    /// The frames left, the next one's last.
    frames: &'b [[u8; FRAME]],
    seq: u64,
}

impl<'b> Iterator for BatchIter<'b> {
    type Item = (Message, &'b [u8]);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        // The frames were written by this crate's reader: every step below
        // succeeds while a frame is left (and ends the walk if not).
        let (frame, frames) = self.frames.split_last()?;
        self.frames = frames;
        let frame = u64::from_ne_bytes(*frame);
        let len = frame as u32 as usize;
        let payload = self.payloads.get(..len)?;
        self.payloads = self.payloads.get(batch_space(len) - FRAME..).unwrap_or(&[]);
        let m = Message {
            len,
            seq: self.seq,
            tag: (frame >> 32) as u32,
        };
        self.seq = self.seq.wrapping_add(1);
        Some((m, payload))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.frames.len(), Some(self.frames.len()))
    }
}

impl ExactSizeIterator for BatchIter<'_> {}

/// What [`Reader::copy_run`] copied (nothing is committed yet).
struct Run {
    /// Messages copied; their frames end the buffer.
    count: usize,
    /// Position after the last of them.
    end: u64,
    /// Bytes their payloads fill at the start of the buffer.
    used: usize,
}

impl Reader<'_> {
    /// Read every message waiting at the reader's position, as many as `buf`
    /// holds, with one check of the producer's intent for them all (a
    /// single read makes one per message).
    ///
    /// Each message takes [`batch_space`] bytes of `buf`: its payload,
    /// rounded up to whole words, and a frame word (the payloads fill `buf`
    /// from its start, the frames from its end); [`Messages::iter`] yields
    /// each one's [`Message`] and payload. A batch ends at the first thing that is
    /// not a message waiting whole at the position (nothing yet, padding, a
    /// restart, a lap, damage) or that `buf` has no room for; what ends it
    /// is read or reported by the next call, which (like
    /// [`Reader::try_read`]) returns [`Batch::Empty`], [`Batch::Lapped`]
    /// (the reader has resynchronised) or [`Batch::Restarted`] for it. A
    /// batch's first message is read by itself, as [`Reader::try_read`]
    /// reads it, when it follows padding or a restart or has room for its
    /// frame and payload but not their whole words; the run after it is
    /// then checked on its own. A gating reader shows its position in
    /// steps, as [`Reader::release`] describes, looked at once a batch.
    ///
    /// ```
    /// # use shmcast::{InlineRegion, Ring, RingConfig, Start, Batch};
    /// # static REGION: InlineRegion<{ shmcast::layout::ring_size(1024, 0) }> = InlineRegion::new();
    /// let ring = Ring::create(&REGION, &RingConfig::new(1024)).unwrap();
    /// let mut w = ring.writer().unwrap();
    /// let mut r = ring.reader(Start::Tail).unwrap();
    /// for word in ["one", "two", "three"] {
    ///     w.write(word.as_bytes()).unwrap();
    /// }
    /// let mut buf = [0u8; 3 * shmcast::batch_space(5)];
    /// let Batch::Messages(batch) = r.try_read_batch(&mut buf).unwrap() else { panic!() };
    /// let words: Vec<&[u8]> = batch.iter().map(|(_, payload)| payload).collect();
    /// assert_eq!(words, [&b"one"[..], b"two", b"three"]);
    /// assert_eq!(batch.iter().last().unwrap().0.seq, 2);
    /// assert_eq!(r.try_read_batch(&mut buf).unwrap(), Batch::Empty);
    /// ```
    ///
    /// # Errors
    /// As [`Reader::try_read`] for the batch's first message (with
    /// [`ReadError::BufferTooSmall`] counting its frame word);
    /// `BufferTooSmall { needed: 8 }` for any `buf` shorter than a frame
    /// word, whatever the ring holds. The position is unchanged, but for
    /// padding (and a restart marker with nothing to report) before the
    /// message, which is skipped, as `try_read` skips it. A later message
    /// that fails a check ends the batch before it, for the next call to
    /// report.
    pub fn try_read_batch<'b>(&mut self, buf: &'b mut [u8]) -> Result<Batch<'b>, ReadError> {
        if buf.len() < FRAME {
            return Err(ReadError::BufferTooSmall { needed: FRAME });
        }
        self.check_evicted()?;
        let origin = self.cursor;
        let first_seq = self.seq;
        let run = self.copy_run(buf);
        if run.count != 0 {
            if !self.run_intact(origin, run.end) {
                return self.lapped(origin).map(|next| Batch::of(Self::done(next)));
            }
            self.advance_to(
                run.end,
                first_seq.wrapping_add(run.count as u64),
                run.count as u64,
                run.end,
            );
            return Ok(Batch::Messages(filled(buf, run.used, run.count, first_seq)));
        }
        // Anything else: one read by the general path, then a run after it.
        let Some((rest, frame)) = buf.split_last_chunk_mut::<FRAME>() else {
            // Checked on entry.
            return Err(ReadError::BufferTooSmall { needed: FRAME });
        };
        let m = match self.try_read(rest) {
            Ok(Read::Message(m)) => m,
            Ok(other) => return Ok(Batch::of(other)),
            Err(ReadError::BufferTooSmall { needed }) => {
                return Err(ReadError::BufferTooSmall {
                    needed: needed + FRAME,
                })
            }
            Err(e) => return Err(e),
        };
        *frame = (m.len as u64 | (u64::from(m.tag) << 32)).to_ne_bytes();
        let mut count = 1;
        // The first message's payload may end short of a whole word.
        let mut used = m.len;
        let from = self.cursor;
        // The run's payloads after the first's whole words, its frames
        // before the first's frame.
        let whole = batch_space(m.len) - FRAME;
        if let Some(more) = rest.get_mut(whole..) {
            let run = self.copy_run(more);
            if run.count != 0 && self.run_intact(from, run.end) {
                count += run.count;
                used = whole + run.used;
                self.advance_to(
                    run.end,
                    m.seq.wrapping_add(count as u64),
                    run.count as u64,
                    run.end,
                );
            }
        }
        Ok(Batch::Messages(filled(buf, used, count, m.seq)))
    }

    /// Copy the messages at the cursor into `buf`, framed, each one framed
    /// and checked as [`Reader::read_fast`] does (and its checksum checked,
    /// on a ring with checksums), up to the first that is not a message
    /// expected there or does not fit; the reader is unchanged. The caller
    /// checks the intent ([`Reader::run_intact`]) before it keeps any.
    #[inline(always)]
    fn copy_run(&self, buf: &mut [u8]) -> Run {
        // A restart to report first, or a cursor too near the end of the
        // positions: the general path.
        if self.pending_restart.is_some() || self.ring.cursor_word(self.cursor).is_none() {
            return Run {
                count: 0,
                end: self.cursor,
                used: 0,
            };
        }
        // `cursor_word` left room below 2^64 for a ring or two.
        let capacity = self.ring.geo.capacity;
        let limit = if self.holds_gate() {
            // The producer waits for a gating reader: a run of any length
            // passes the check.
            self.cursor + capacity
        } else {
            // The margin (see the module): a bound only, so a Relaxed load;
            // the check after the copies is what decides.
            let intent = self.ring.hdr.tail_intent.load(Ordering::Relaxed);
            // No gate held, so the tolerance applies as set.
            // At least the first record, and at most a ring: an intent
            // behind the cursor (damage; the check after the copies fails
            // it) must not carry `limit` past a ring from the cursor.
            let margin = (self.cursor + capacity - self.tolerance).saturating_sub(intent);
            self.cursor + margin.clamp(1, capacity)
        };
        // The record's shape as constants, so that the loop keeps fewer
        // values in registers.
        const LINE: u64 = layout::CACHE_LINE as u64;
        match (self.ring.geo.checksum, self.ring.geo.align) {
            (false, LINE) => self.copy_run_of::<false, LINE>(buf, limit),
            (true, LINE) => self.copy_run_of::<true, LINE>(buf, limit),
            (false, _) => self.copy_run_of::<false, 8>(buf, limit),
            (true, _) => self.copy_run_of::<true, 8>(buf, limit),
        }
    }

    /// [`Reader::copy_run`] on a ring with checksums or without.
    ///
    /// The loop walks a slice of the ring's words, from the cursor to the
    /// end of the data area (records never wrap; the next lap's first
    /// record follows one that ends the lap), and what is left of
    /// `buf`, each shortened by what it takes (a payload from the start of
    /// `buf`, a frame from its end): a record past the end of the ring, or
    /// a message past what is left of `buf`, fails a slice's split or a
    /// length check and ends the run, with no index to check against a
    /// length kept elsewhere. Out of line, so that its registers are its
    /// own: inlined into `try_read_batch`, it kept half its values on the
    /// stack (`per_message read-batch`: 107.8 instructions a message at 32
    /// bytes then, 84.3 now with the frames at the end).
    #[inline(never)]
    fn copy_run_of<const CHECKSUM: bool, const ALIGN: u64>(
        &self,
        buf: &mut [u8],
        limit: u64,
    ) -> Run {
        let ring = &self.ring;
        // Few values live across the loop, so that they stay in registers:
        // the header's words and the records' alignment are constants; the
        // run's count follows from its sequence numbers, its position from
        // the bytes left before `limit`, the bytes it used from what is left
        // of `buf`.
        let header = if CHECKSUM {
            layout::RECORD_HEADER_CHECKSUM
        } else {
            layout::RECORD_HEADER
        } as u64;
        debug_assert_eq!((header, ALIGN), (ring.geo.header, ring.geo.align));
        let max_message = ring.geo.max_message;
        // Records start while some of this is left: `limit` is at most a
        // ring past the cursor. (Signed: the last record may end past it.)
        let mut budget = (limit - self.cursor) as i64;
        let mut seq = self.seq;
        // The data area is `capacity / 8` words: the rest of the lap.
        let Some(mut words) = ring.data.get(ring.word_of(self.cursor)..) else {
            // Not so: a cursor's word is inside the data area.
            return Run {
                count: 0,
                end: self.cursor,
                used: 0,
            };
        };
        // The run up to the message with sequence `seq` (not counted), with
        // `left` bytes of `buf` not taken (what is gone from `buf` but the
        // frames holds the payloads).
        let room = buf.len();
        let run = |seq: u64, budget: i64, left: usize| {
            let count = seq.wrapping_sub(self.seq) as usize;
            Run {
                count,
                end: limit.wrapping_sub(budget as u64),
                used: room - left - count * FRAME,
            }
        };
        let mut out: &mut [u8] = buf;
        while budget > 0 {
            // Every header is at least two words.
            let [first, second, ..] = words else {
                // A record that ended the lap is followed by the next lap's
                // first one (checked here, off the path of every record).
                if words.is_empty() && ring.data.len() >= 2 {
                    words = ring.data;
                    continue;
                }
                break;
            };
            let w0 = first.load(Ordering::Relaxed);
            // As `Geometry::message_at`, with the lap's end checked by the
            // split below.
            let len = (w0 as u32).wrapping_sub(kind::MESSAGE << layout::LEN_BITS) as u64;
            if len > max_message {
                break;
            }
            let size = layout::record_size(len, header, ALIGN);
            let Some((record, rest)) = words.split_at_checked((size / 8) as usize) else {
                break;
            };
            // Acquire: see [`Ring::peek`].
            fence(Ordering::Acquire);
            if second.load(Ordering::Relaxed) != seq {
                break;
            }
            // The payload's whole words, which the record holds (its size
            // is the header and the payload rounded up to 8, at least). On
            // a packed ring they are exactly the words after the header (the
            // header is whole words), with no count to check.
            let after_header = record.get(header as usize / 8..);
            let payload = if ALIGN == layout::RECORD_ALIGN as u64 {
                after_header
            } else {
                after_header.and_then(|p| p.get(..len.div_ceil(8) as usize))
            };
            let Some(payload) = payload else {
                break;
            };
            let n = payload.len();
            debug_assert_eq!(n as u64, len.div_ceil(8));
            // A frame word and those words; `len` is below 2^29, so no
            // overflow.
            let space = FRAME + n * 8;
            if out.len() < space {
                break;
            }
            let (dst, after) = core::mem::take(&mut out).split_at_mut(n * 8);
            let (after, frame) = after.split_at_mut(after.len() - FRAME);
            out = after;
            // Stored now: a message that fails its checksum is not counted.
            frame.copy_from_slice(&((w0 & !0xffff_ffff) | len).to_ne_bytes());
            copy::copy_out_whole(payload, dst);
            if CHECKSUM {
                // The checksum is the header's third word (the payload
                // follows it: there is one).
                let sum = record.get(2).map_or(0, |w| w.load(Ordering::Relaxed));
                let w0 = word0(kind::MESSAGE, len as u32, (w0 >> 32) as u32);
                if crate::checksum::record(w0, seq, &dst[..len as usize]) != sum {
                    // Not counted: nor is its room.
                    return run(seq, budget, out.len() + space);
                }
            }
            words = rest;
            budget -= size as i64;
            seq = seq.wrapping_add(1);
        }
        run(seq, budget, out.len())
    }

    /// Whether the run of records copied from `from` to `end` is intact:
    /// the intent, loaded after every copy, is past the run (as it was
    /// raised before the records were written) and not a lap past its
    /// first position, less the fall-behind tolerance (see the module).
    #[inline]
    fn run_intact(&self, from: u64, end: u64) -> bool {
        let intent = self.ring.intent_after_read();
        // `from` passed `cursor_word`: see `Ring::overwritten_at_cursor`.
        intent >= end
            && intent.wrapping_sub(from).wrapping_sub(1) < self.ring.geo.capacity - self.tolerance()
    }
}

/// The batch of `count` messages, from sequence number `seq`, whose
/// payloads fill the first `used` bytes of `buf` and whose frames its last
/// `count` words. (Fewer, if `buf` held less, which the callers never pass.)
fn filled(buf: &mut [u8], used: usize, count: usize, seq: u64) -> Messages<'_> {
    let buf: &[u8] = buf;
    let (payloads, frames) = buf.split_at(buf.len().saturating_sub(count * FRAME));
    Messages {
        payloads: payloads.get(..used).unwrap_or(payloads),
        frames: frames.as_chunks().0,
        seq,
    }
}
