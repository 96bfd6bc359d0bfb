//! One writer, three lossy readers (one of them reading by batches),
//! threads, random lengths: every accepted message is byte-exact and in
//! order, and every gap is announced by a lap whose counts match it exactly.
//!
//! 10 million messages natively; a few hundred under Miri, which checks the
//! same run for data races and undefined behaviour.

mod common;

use common::{boxed, check, fill, len_of, Layout, Rng};
use shmcast::layout::ring_size;
use shmcast::{batch_space, Batch, LapPolicy, Message, Read, Reader, Ring, RingConfig, Start};
use std::sync::Barrier;

const MESSAGES: u64 = if cfg!(miri) { 300 } else { 10_000_000 };
const CAP: usize = if cfg!(miri) { 1024 } else { 1 << 16 };
const MAX: usize = if cfg!(miri) { 64 } else { 512 };
const SLOTS: usize = 0;

fn tag_of(seq: u64) -> u32 {
    (seq as u32) ^ 0x5eed
}

fn produce(ring: Ring<'_>, start: &Barrier) {
    let mut w = ring.writer().unwrap();
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut payload = vec![0u8; MAX];
    start.wait();
    let mut seq = 0;
    while seq < MESSAGES {
        let len = len_of(seq, MAX);
        let msg = &mut payload[..len];
        fill(seq, msg);
        match rng.below(20) {
            // An aborted claim: takes no room and no sequence number.
            0 => {
                let mut c = w.claim(rng.below(MAX as u64 + 1) as usize).unwrap();
                let n = c.len().min(3);
                c.put(&[0xEE; 3][..n]).unwrap();
                drop(c);
                continue;
            }
            // A batch: several records, one publish.
            1..=3 => {
                let n = 1 + rng.below(8);
                let mut k = 0;
                while k < n && seq < MESSAGES {
                    let len = len_of(seq, MAX);
                    fill(seq, &mut payload[..len]);
                    assert_eq!(w.stage(tag_of(seq), &payload[..len]).unwrap(), seq);
                    seq += 1;
                    k += 1;
                }
                w.flush();
                continue;
            }
            // A claim filled in two parts.
            4..=7 => {
                let mut c = w.claim(len).unwrap();
                let half = len / 2;
                c.put(&msg[..half]).unwrap();
                c.put(&msg[half..]).unwrap();
                c.set_tag(tag_of(seq));
                assert_eq!(c.commit(), seq);
            }
            _ => assert_eq!(w.write_tagged(tag_of(seq), msg).unwrap(), seq),
        }
        seq += 1;
    }
}

struct Tally {
    messages: u64,
    laps: u64,
    lost: u64,
}

/// What a reader has seen so far, and the checks on what it sees next.
struct Follow<'l> {
    layout: &'l Layout,
    expect: u64,
    /// End of the record before `expect`: where the reader stands.
    end_prev: u64,
    tally: Tally,
}

impl Follow<'_> {
    fn message(&mut self, m: Message, payload: &[u8]) {
        assert_eq!(m.seq, self.expect, "in order; gaps only after a lap");
        assert_eq!(m.len, len_of(m.seq, MAX));
        assert_eq!(m.len, payload.len());
        assert_eq!(m.tag, tag_of(m.seq));
        assert!(check(m.seq, payload), "message {} not byte-exact", m.seq);
        let at = self.layout.place(self.end_prev, m.seq);
        self.end_prev = at + self.layout.size(m.seq);
        self.expect += 1;
        self.tally.messages += 1;
    }

    /// A lap from `before` to where `r` now stands.
    fn lapped(&mut self, r: &Reader<'_>, before: u64, lost_messages: u64, lost_bytes: u64) {
        // Walk the lost records: the byte count must match them exactly.
        let mut end = self.end_prev;
        for s in self.expect..self.expect + lost_messages {
            end = self.layout.place(end, s) + self.layout.size(s);
        }
        let resumed_at = r.position();
        assert_eq!(before + lost_bytes, resumed_at);
        let next = self.expect + lost_messages;
        assert!(
            resumed_at == end || resumed_at == self.layout.place(end, next),
            "lost bytes {lost_bytes} do not match {lost_messages} lost messages"
        );
        assert_eq!(r.next_seq(), next);
        self.expect = next;
        self.end_prev = end;
        self.tally.laps += 1;
        self.tally.lost += lost_messages;
    }
}

/// What one read did.
enum Got {
    Messages,
    Lapped(u64, u64),
    Nothing,
}

/// Read everything, one message at a time or (`batched`) by batches of up
/// to eight of the longest messages.
fn consume(mut r: Reader<'_>, layout: &Layout, start: &Barrier, batched: bool) -> Tally {
    let mut buf = vec![0u8; 8 * batch_space(MAX)];
    let mut f = Follow {
        layout,
        expect: 0,
        end_prev: 0,
        tally: Tally {
            messages: 0,
            laps: 0,
            lost: 0,
        },
    };
    let mut idle = 0u32;
    start.wait();
    while f.expect < MESSAGES {
        let before = r.position();
        // What the read did: messages (already checked), a lap, or nothing.
        let got = if batched {
            match r.try_read_batch(&mut buf) {
                Ok(Batch::Messages(batch)) => {
                    for (m, payload) in batch {
                        f.message(m, payload);
                    }
                    Got::Messages
                }
                Ok(Batch::Lapped {
                    lost_messages,
                    lost_bytes,
                }) => Got::Lapped(lost_messages, lost_bytes),
                Ok(Batch::Empty) | Err(shmcast::ReadError::Overrun) => Got::Nothing,
                other => panic!("unexpected {other:?}"),
            }
        } else {
            match r.try_read(&mut buf) {
                Ok(Read::Message(m)) => {
                    f.message(m, &buf[..m.len]);
                    Got::Messages
                }
                Ok(Read::Lapped {
                    lost_messages,
                    lost_bytes,
                }) => Got::Lapped(lost_messages, lost_bytes),
                Ok(Read::Empty) | Err(shmcast::ReadError::Overrun) => Got::Nothing,
                other => panic!("unexpected {other:?}"),
            }
        };
        match got {
            Got::Messages => assert_eq!(r.position(), f.end_prev),
            Got::Lapped(lost_messages, lost_bytes) => {
                f.lapped(&r, before, lost_messages, lost_bytes)
            }
            Got::Nothing => {
                idle += 1;
                if idle < 64 {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
                continue;
            }
        }
        idle = 0;
    }
    let tally = f.tally;
    let stats = r.stats();
    assert_eq!(stats.messages, tally.messages);
    assert_eq!(stats.lost_messages, tally.lost);
    assert_eq!(tally.messages + tally.lost, MESSAGES);
    tally
}

#[test]
fn one_writer_three_lossy_readers() {
    let region = boxed::<{ ring_size(CAP, SLOTS) }>();
    let cfg = RingConfig::new(CAP).max_message(MAX);
    let ring = Ring::create(&*region, &cfg).unwrap();
    let layout = Layout {
        capacity: CAP as u64,
        header: 16,
        max: MAX,
    };
    let start = Barrier::new(4);
    let tallies = std::thread::scope(|s| {
        let readers: Vec<_> = (0..3)
            .map(|i| {
                let mut r = ring.reader(Start::Oldest).unwrap();
                match i {
                    1 => r.set_lap_policy(LapPolicy::Latest),
                    2 => r.set_fall_behind_tolerance(1, 8),
                    _ => {}
                }
                let (layout, start) = (&layout, &start);
                // The third reads by batches.
                s.spawn(move || consume(r, layout, start, i == 2))
            })
            .collect();
        produce(ring, &start);
        readers
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect::<Vec<_>>()
    });
    for (i, t) in tallies.iter().enumerate() {
        println!(
            "reader {i}: {} messages read, {} laps, {} lost",
            t.messages, t.laps, t.lost
        );
        assert!(t.messages > 0);
    }
}
