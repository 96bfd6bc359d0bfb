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
use crate::layout::kind;
use crate::ring::word0;
use crate::sync::{fence, Ordering};
use crate::Message;

/// Bytes of the frame word before each message in a batch buffer: its
/// length (low 32 bits) and tag (high 32), in native byte order.
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
    bytes: &'b [u8],
    seq: u64,
    count: usize,
}

impl<'b> Messages<'b> {
    /// How many messages (at least one).
    pub fn len(&self) -> usize {
        self.count
    }

    /// Always false: a batch holds at least one message.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Sequence number of the first message (the others follow it by one).
    pub fn first_seq(&self) -> u64 {
        self.seq
    }

    /// The messages in order, each with its payload.
    pub fn iter(&self) -> BatchIter<'b> {
        BatchIter {
            rest: self.bytes,
            seq: self.seq,
            left: self.count,
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
    rest: &'b [u8],
    seq: u64,
    left: usize,
}

impl<'b> Iterator for BatchIter<'b> {
    type Item = (Message, &'b [u8]);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        // The frames were written by this crate's reader: every step below
        // succeeds while `left` is non-zero (and ends the walk if not).
        self.left = self.left.checked_sub(1)?;
        let (frame, rest) = self.rest.split_first_chunk::<FRAME>()?;
        let frame = u64::from_ne_bytes(*frame);
        let len = frame as u32 as usize;
        let payload = rest.get(..len)?;
        self.rest = rest.get(batch_space(len) - FRAME..).unwrap_or(&[]);
        let m = Message {
            len,
            seq: self.seq,
            tag: (frame >> 32) as u32,
        };
        self.seq = self.seq.wrapping_add(1);
        Some((m, payload))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for BatchIter<'_> {}

/// What [`Reader::copy_run`] copied (nothing is committed yet).
struct Run {
    /// Messages copied.
    count: usize,
    /// Position after the last of them.
    end: u64,
    /// Bytes of the buffer they fill.
    used: usize,
}

impl Reader<'_> {
    /// Read every message waiting at the reader's position, as many as `buf`
    /// holds, with one check of the producer's intent for them all (a
    /// single read makes one per message).
    ///
    /// Each message takes [`batch_space`] bytes of `buf`: a frame word, then
    /// its payload, rounded up to whole words; [`Messages::iter`] yields each
    /// one's [`Message`] and payload. A batch ends at the first thing that is
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
    /// message, which is skipped, as `try_read` skips it. A later message that fails a check ends the batch
    /// before it, for the next call to report.
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
            return Ok(Batch::Messages(Messages {
                bytes: filled(buf, run.used),
                seq: first_seq,
                count: run.count,
            }));
        }
        // Anything else: one read by the general path, then a run after it.
        let Some((frame, rest)) = buf.split_first_chunk_mut::<FRAME>() else {
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
        let mut used = FRAME + m.len;
        let from = self.cursor;
        if let Some(more) = buf.get_mut(batch_space(m.len)..) {
            let run = self.copy_run(more);
            if run.count != 0 && self.run_intact(from, run.end) {
                count += run.count;
                used = batch_space(m.len) + run.used;
                self.advance_to(
                    run.end,
                    m.seq.wrapping_add(count as u64),
                    run.count as u64,
                    run.end,
                );
            }
        }
        Ok(Batch::Messages(Messages {
            bytes: filled(buf, used),
            seq: m.seq,
            count,
        }))
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
            let margin = (self.cursor + capacity - self.tolerance).saturating_sub(intent);
            // At least the first record.
            self.cursor + margin.max(1)
        };
        if self.ring.geo.checksum {
            self.copy_run_of::<true>(buf, limit)
        } else {
            self.copy_run_of::<false>(buf, limit)
        }
    }

    /// [`Reader::copy_run`] on a ring with checksums or without.
    #[inline(always)]
    fn copy_run_of<const CHECKSUM: bool>(&self, buf: &mut [u8], limit: u64) -> Run {
        let data = self.ring.data;
        // The sizes in locals, held in registers across the loop.
        let geo = self.ring.geo;
        let header = (geo.header / 8) as usize;
        let (mut pos, mut seq, mut used, mut count) = (self.cursor, self.seq, 0, 0);
        // Records start below `limit`, which is at most a ring past the
        // cursor: positions stay far below 2^64.
        while pos < limit {
            let off = pos & geo.mask;
            let word = (off / 8) as usize;
            let w0 = copy::load(data, word);
            // As in `read_fast`.
            let Some((len, size)) = geo.message_at(off, w0) else {
                break;
            };
            // Acquire: see [`Ring::peek`].
            fence(Ordering::Acquire);
            if copy::load(data, word + 1) != seq {
                break;
            }
            let len = len as usize;
            let space = batch_space(len);
            // Each message takes at least a frame word, so the run ends
            // before `buf` does. (`used + space` is at most `buf.len()`
            // plus a message limit below 2^29: no overflow.)
            let Some((frame, dst)) = buf
                .get_mut(used..used + space)
                .and_then(|b| b.split_first_chunk_mut::<FRAME>())
            else {
                break;
            };
            // The payload's whole words: the record holds them (its size is
            // the header and the payload rounded up to 8, at least).
            copy::copy_out_whole(data, word + header, dst);
            let tag = w0 & !0xffff_ffff;
            if CHECKSUM {
                let sum = copy::load(data, word + 2);
                let w0 = word0(kind::MESSAGE, len as u32, (tag >> 32) as u32);
                if crate::checksum::record(w0, seq, &dst[..len]) != sum {
                    break;
                }
            }
            *frame = (tag | len as u64).to_ne_bytes();
            used += space;
            pos += size;
            count += 1;
            seq = seq.wrapping_add(1);
        }
        Run {
            count,
            end: pos,
            used,
        }
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

/// The first `used` bytes of `buf`, which the batch filled (all of it if
/// `used` were past its end, which the callers never pass).
fn filled(buf: &mut [u8], used: usize) -> &[u8] {
    let buf: &[u8] = buf;
    buf.get(..used).unwrap_or(buf)
}
