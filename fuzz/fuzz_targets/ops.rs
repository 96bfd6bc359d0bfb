//! One writer and up to three readers (lossy and gating, joining and leaving,
//! reading at any lag) on a small ring, every step checked against a plain
//! model: exact content and order, exact lost counts after a lap, nothing lost
//! by an acknowledged gating reader, `Full` exactly when the model says so.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use shmcast::conformance::HeapRegion;
use shmcast::{
    batch_space, Batch, JoinError, Message, Read, ReadError, Reader, Ring, RingConfig, WriteError,
};

#[derive(Debug, Arbitrary)]
enum Op {
    Write {
        len: u16,
        tag: u8,
    },
    Stage {
        len: u16,
    },
    Flush,
    Abort {
        len: u16,
    },
    Read {
        reader: u8,
    },
    /// A batch read into a buffer of `room` bytes (modulo a little more
    /// than the ring).
    ReadBatch {
        reader: u8,
        room: u16,
    },
    JoinLossy {
        reader: u8,
    },
    JoinGating {
        reader: u8,
    },
    Leave {
        reader: u8,
    },
}

#[derive(Debug, Arbitrary)]
struct Input {
    cap_log2: u8,
    /// 0: messages up to half the ring and no intent stride; else messages
    /// up to a quarter of it and a stride chosen by this value.
    stride: u8,
    /// A line-aligned ring (records rounded to 64 bytes, capacity at least 256).
    line_aligned: bool,
    ops: Vec<Op>,
}

#[derive(Debug, Clone, Copy)]
struct Msg {
    pos: u64,
    size: u64,
    len: usize,
    tag: u32,
}

/// The plain model of the ring.
struct Model {
    cap: u64,
    /// Where records start: 8, or 64 in a line-aligned ring.
    align: u64,
    max: usize,
    msgs: Vec<Msg>,
    published: usize,
    pos: u64,
    tail: u64,
    intent: u64,
    stride: u64,
    /// The producer's view of the gating consumers since its last scan.
    gate_min: u64,
    joins_pending: bool,
    /// Gating joins since the last scan.
    joined: bool,
    /// The producer's record starts, the first of each of 64 slices of the
    /// ring (as the writer keeps them, to stop the intent at one).
    first: [u64; 64],
    /// log2 of a slice's size.
    shift: u32,
}

/// The model of one reader.
#[derive(Debug, Clone, Copy)]
struct MReader {
    expect: usize,
    cursor: u64,
    gating: bool,
    acked: bool,
    /// The position its slot shows (the producer gates on it): see
    /// `Reader::release`.
    slot_pos: u64,
}

fn payload(seq: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (seq as u8).wrapping_mul(29) ^ (i as u8))
        .collect()
}

impl Model {
    /// A claim of `len` bytes: `Ok(record start, end)` or `Err(())` for Full.
    fn claim(
        &mut self,
        len: usize,
        readers: &mut [Option<(Reader<'_>, MReader)>],
    ) -> Result<(u64, u64), ()> {
        let size = (16 + len as u64 + self.align - 1) & !(self.align - 1);
        let off = self.pos % self.cap;
        let rec = if off + size > self.cap {
            self.pos + self.cap - off
        } else {
            self.pos
        };
        let end = rec + size;
        // A record reserves the word after it too (its successor's first
        // word, zeroed before the record is published).
        let reach = end + 8;
        if reach > self.intent {
            // The producer rescans the slots only when its cached bound is in
            // the way or a consumer asked to gate since.
            if reach > self.gate_min.saturating_add(self.cap) || self.joins_pending || self.joined {
                // The scan: acknowledge intact joiners, then gate.
                let mut min = u64::MAX;
                let mut pending = false;
                for (_, m) in readers.iter_mut().flatten() {
                    if m.gating
                        && !m.acked
                        && m.slot_pos <= self.pos
                        && m.slot_pos + self.cap >= self.intent
                    {
                        m.acked = true;
                    }
                    if m.gating && !m.acked {
                        pending = true;
                    }
                    if m.gating && m.acked {
                        min = min.min(m.slot_pos);
                    }
                }
                self.gate_min = min;
                self.joins_pending = pending;
                self.joined = false;
                if reach > min.saturating_add(self.cap) {
                    // Full publishes what is staged.
                    self.flush();
                    return Err(());
                }
            }
            let mut intent = (reach + self.stride).min(self.gate_min.saturating_add(self.cap));
            // The intent stops at the last noted record start at or before
            // its mark (a capacity below it) if that keeps half the raise
            // past the record. In the first lap (no mark yet) it never does.
            // The writer looks only at starts at or past its head; the model
            // need not know the head: no record starts in
            // [intent - cap, head), so a start below the head lies below the
            // old intent less a capacity and never clears the record.
            if intent > self.cap {
                if let Some(at) = self.noted_before(intent - self.cap) {
                    if at + self.cap >= reach + (intent - reach) / 2 {
                        intent = at + self.cap;
                    }
                }
            }
            self.intent = intent;
            // A batch that would let the head pass the published tail is
            // published first.
            if self.intent.saturating_sub(self.cap) > self.tail {
                self.flush();
            }
        }
        Ok((rec, end))
    }

    /// The record start noted in the highest slice, from the one holding
    /// `mark` down, whose first record starts at or before `mark`.
    fn noted_before(&self, mark: u64) -> Option<u64> {
        let top = mark >> self.shift;
        (top.saturating_sub(63)..=top).rev().find_map(|slice| {
            let at = self.first[slice as usize % 64];
            (at >> self.shift == slice && at <= mark).then_some(at)
        })
    }

    fn commit(&mut self, rec: u64, end: u64, len: usize, tag: u32, publish: bool) {
        // The first record of its slice, unless one is noted there already
        // (an empty entry, u64::MAX, is of no slice).
        let slice = rec >> self.shift;
        let noted = &mut self.first[slice as usize % 64];
        if *noted >> self.shift != slice {
            *noted = rec;
        }
        self.msgs.push(Msg {
            pos: rec,
            size: end - rec,
            len,
            tag,
        });
        self.pos = end;
        if publish {
            self.flush();
        }
    }

    fn flush(&mut self) {
        self.tail = self.pos;
        self.published = self.msgs.len();
    }

    /// What joining at the tail gives: (expect, cursor), or None if unstable.
    fn join_tail(&self) -> Option<(usize, u64)> {
        if self.tail == 0 {
            return Some((0, 0));
        }
        let last = self.msgs[self.published - 1];
        if self.intent > last.pos + self.cap {
            return None;
        }
        Some((self.published, last.pos + last.size))
    }
}

fuzz_target!(|input: Input| {
    let mut cap = 64u64 << (input.cap_log2 % 5);
    let align = if input.line_aligned {
        cap = cap.max(256);
        64
    } else {
        8
    };
    // The stride may be at most the ring less two of the largest records.
    let (max, stride) = match input.stride % 4 {
        0 => (cap / 2 - 16, 0),
        1 => (cap / 4 - 16, 8),
        2 => (cap / 4 - 16, cap / 16),
        _ => (cap / 4 - 16, cap / 2),
    };
    // As the writer clamps it: the ring less two of the largest records (a
    // message of `max` bytes or a restart marker's 8, whichever is larger).
    let largest = (16 + max.max(8) + align - 1) & !(align - 1);
    let stride = stride.min(cap.saturating_sub(2 * largest)) & !7;
    let max = max as usize;
    let cfg = RingConfig::new(cap as usize)
        .slots(3)
        .max_message(max)
        .line_aligned(input.line_aligned);
    let region = HeapRegion::new(cfg.region_size());
    let ring = Ring::create(&region, &cfg).unwrap();
    let mut w = ring.writer().unwrap();
    w.set_intent_stride(stride as usize);
    let mut model = Model {
        cap,
        align,
        max,
        msgs: Vec::new(),
        published: 0,
        pos: 0,
        tail: 0,
        intent: 0,
        stride,
        gate_min: u64::MAX,
        joins_pending: true,
        joined: false,
        first: [u64::MAX; 64],
        shift: (cap / 64).max(8).trailing_zeros(),
    };
    let mut readers: Vec<Option<(Reader<'_>, MReader)>> = vec![None, None, None];
    let mut buf = vec![0u8; max];
    let mut bbuf = vec![0u8; cap as usize + 64];
    for op in input.ops.iter().take(512) {
        match *op {
            Op::Write { len, .. } | Op::Stage { len } | Op::Abort { len } => {
                let len = len as usize % (max + 2);
                let tag = match *op {
                    Op::Write { tag, .. } => tag as u32,
                    _ => 0,
                };
                let real = w.try_claim(len);
                if len > model.max {
                    assert!(matches!(real, Err(WriteError::TooLong { .. })));
                    continue;
                }
                let expected = model.claim(len, &mut readers);
                let (rec, end) = match (real, expected) {
                    (Err(WriteError::Full { .. }), Err(())) => continue,
                    (Ok(c), Ok(at)) => {
                        let seq = model.msgs.len();
                        assert_eq!(c.seq(), seq as u64);
                        match *op {
                            Op::Write { .. } => {
                                let mut c = c;
                                c.set_tag(tag);
                                c.commit_with(&payload(seq, len));
                            }
                            Op::Stage { .. } => {
                                c.stage_with(&payload(seq, len));
                            }
                            _ => drop(c),
                        }
                        at
                    }
                    (real, expected) => panic!(
                        "claim of {len}: real {:?}, model {expected:?}",
                        real.map(|_| ())
                    ),
                };
                match *op {
                    Op::Write { .. } => model.commit(rec, end, len, tag, true),
                    Op::Stage { .. } => model.commit(rec, end, len, 0, false),
                    _ => {}
                }
                // The intent as the model predicts it, and the head at the
                // first record at or past the doomed edge (none between).
                let st = ring.status();
                assert_eq!(st.tail_intent, model.intent, "intent after a claim of {len}");
                let doomed = model.intent.saturating_sub(model.cap);
                assert!(st.head >= doomed, "head {} below {doomed}", st.head);
                assert!(
                    !model.msgs.iter().any(|m| (doomed..st.head).contains(&m.pos)),
                    "a record between the doomed edge {doomed} and the head {}",
                    st.head
                );
            }
            Op::Flush => {
                w.flush();
                model.flush();
            }
            Op::Leave { reader } => {
                readers[reader as usize % 3] = None;
            }
            Op::JoinLossy { reader } | Op::JoinGating { reader } => {
                let i = reader as usize % 3;
                readers[i] = None;
                let gating = matches!(op, Op::JoinGating { .. });
                let real = if gating {
                    ring.gating_reader()
                } else {
                    ring.reader(shmcast::Start::Tail)
                };
                let slots_used = readers.iter().flatten().filter(|(_, m)| m.gating).count();
                match (real, model.join_tail()) {
                    (Err(JoinError::NoFreeSlot), _) => assert!(gating && slots_used == 3),
                    (Err(JoinError::Unstable), None) => {}
                    (Ok(r), Some((expect, cursor))) => {
                        assert_eq!((r.next_seq(), r.position()), (expect as u64, cursor));
                        model.joined |= gating;
                        let m = MReader {
                            expect,
                            cursor,
                            gating,
                            acked: false,
                            slot_pos: cursor,
                        };
                        readers[i] = Some((r, m));
                    }
                    (real, model) => panic!("join: real {:?}, model {model:?}", real.map(|_| ())),
                }
            }
            Op::Read { reader } | Op::ReadBatch { reader, .. } => {
                let Some((r, m)) = readers[reader as usize % 3].as_mut() else {
                    continue;
                };
                let room = match *op {
                    Op::ReadBatch { room, .. } => Some(room as usize % (bbuf.len() + 1)),
                    _ => None,
                };
                // What was read: the messages with their payloads, or the
                // outcome that is not a message.
                let real: Result<(Vec<(Message, Vec<u8>)>, Option<Read>), ReadError> = match room {
                    None => r.try_read(&mut buf).map(|read| match read {
                        Read::Message(got) => (vec![(got, buf[..got.len].to_vec())], None),
                        other => (vec![], Some(other)),
                    }),
                    Some(room) => r
                        .try_read_batch(&mut bbuf[..room])
                        .map(|batch| match batch {
                            Batch::Messages(ms) => {
                                (ms.iter().map(|(g, p)| (g, p.to_vec())).collect(), None)
                            }
                            Batch::Empty => (vec![], Some(Read::Empty)),
                            Batch::Lapped {
                                lost_messages,
                                lost_bytes,
                            } => (
                                vec![],
                                Some(Read::Lapped {
                                    lost_messages,
                                    lost_bytes,
                                }),
                            ),
                            Batch::Restarted { epoch, seq } => {
                                (vec![], Some(Read::Restarted { epoch, seq }))
                            }
                        }),
                };
                if room.is_some_and(|room| room < 8) {
                    // A buffer shorter than a frame, whatever the ring holds.
                    assert_eq!(real, Err(ReadError::BufferTooSmall { needed: 8 }));
                    continue;
                }
                // Lapped is checked first: a reader that waits at the tail
                // is told of a lap as well (the zero it sees may be from a
                // later lap).
                if model.intent > m.cursor + model.cap {
                    assert!(
                        !(m.gating && m.acked),
                        "an acknowledged gating reader was lapped"
                    );
                    let doomed = model.intent - model.cap;
                    let target = model.msgs.iter().position(|x| x.pos >= doomed);
                    match target {
                        Some(t) if t < model.published => {
                            let lost_bytes = model.msgs[t].pos - m.cursor;
                            let lapped = Read::Lapped {
                                lost_messages: (t - m.expect) as u64,
                                lost_bytes,
                            };
                            assert_eq!(real, Ok((vec![], Some(lapped))));
                            m.expect = t;
                            m.cursor = model.msgs[t].pos;
                            m.slot_pos = m.cursor;
                        }
                        _ => assert_eq!(real, Err(ReadError::Overrun)),
                    }
                    continue;
                }
                if m.expect >= model.published {
                    assert_eq!(real, Ok((vec![], Some(Read::Empty))));
                    // An empty read shows the position.
                    m.slot_pos = m.cursor;
                    continue;
                }
                // The messages expected: one, or for a batch every published
                // one that fits, the run ending at padding after its first
                // message (which, read by itself, takes a step of its own).
                let step = model.cap / 16;
                let mut expect = vec![m.expect];
                // A batch's first message is read by itself after padding,
                // or when it has room for its payload but not whole words.
                let mut general = room.is_none_or(|room| {
                    model.msgs[m.expect].pos != m.cursor
                        || room < batch_space(model.msgs[m.expect].len)
                });
                if let Some(room) = room {
                    let first = model.msgs[m.expect].len;
                    if room < 8 + first {
                        assert_eq!(real, Err(ReadError::BufferTooSmall { needed: 8 + first }));
                        // The reader stands at the message: padding before
                        // it is skipped (and not counted in a later lap).
                        m.cursor = model.msgs[m.expect].pos;
                        continue;
                    }
                    let mut used = batch_space(first);
                    let mut i = m.expect + 1;
                    // A lossy reader's run spans at most the margin before its
                    // first record is overwritten (and always that record):
                    // from the cursor, or after a first message read by itself.
                    let from = if general {
                        model.msgs[m.expect].pos + model.msgs[m.expect].size
                    } else {
                        m.cursor
                    };
                    let limit = if m.gating {
                        from + model.cap
                    } else {
                        from + (from + model.cap).saturating_sub(model.intent).max(1)
                    };
                    while i < model.published
                        && model.msgs[i].pos == model.msgs[i - 1].pos + model.msgs[i - 1].size
                        && model.msgs[i].pos < limit
                        && used + batch_space(model.msgs[i].len) <= room
                    {
                        used += batch_space(model.msgs[i].len);
                        expect.push(i);
                        i += 1;
                    }
                }
                let Ok((got, None)) = real else {
                    panic!("expected messages {expect:?}, got {real:?}");
                };
                assert_eq!(got.len(), expect.len(), "messages in a batch");
                for ((got, bytes), &e) in got.iter().zip(&expect) {
                    let x = model.msgs[e];
                    assert_eq!((got.seq, got.len, got.tag), (e as u64, x.len, x.tag));
                    assert_eq!(bytes, &payload(e, x.len));
                    m.expect += 1;
                    m.cursor = x.pos + x.size;
                    // Shown in steps of a sixteenth of the ring (the producer
                    // here never waits, so nothing else calls for it): after
                    // each message read by itself, after the run of a batch.
                    if (general || e == *expect.last().unwrap()) && m.cursor - m.slot_pos >= step {
                        m.slot_pos = m.cursor;
                    }
                    general = false;
                }
            }
        }
    }
});
