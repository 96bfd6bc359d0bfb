//! Each side's cost alone, on lines the other core wrote: the producer fills
//! part of the ring while the consumer waits, then the consumer drains it
//! while the producer waits, turn by turn; the runs of the alternating
//! `handoff` tool.
//!
//! In a coupled run (the `throughput` tool) both sides run at once and the
//! slower one sets the pace, so a rate there says little about which side's
//! work to cut. Here each side is timed on its own turn: a drain loads lines
//! that sit modified in the producer's cache (the transfer every message of
//! a real run pays), a fill stores to lines the consumer read a lap before.
//! A fill is [`fill_messages`] messages, half the ring or less for every
//! contender, so no producer waits for room and no reader is lapped; the
//! consumer reads exactly those messages, so it never polls an empty ring
//! inside a timed turn. With both sides pinned to one CPU (`--pin 1,1`) the
//! lines never leave that core's caches: the same work without the
//! transfers.

use crate::bare::WordRing;
use crate::spsc::{read_a_batch, stage_in_batches, BATCH};
use crate::tool::{pin_to, spread};
use crate::{Backoff, HeapRegion, Patient};
use shmcast::{Read, Ring, RingConfig, Start};
use std::hint::black_box;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// Data bytes of every ring (as in the `throughput` runs).
pub const CAPACITY: usize = 256 << 10;

/// Messages of `size` bytes in one fill: half the ring for the contender
/// with the largest records (a 16-byte header and the payload padded to 8).
pub fn fill_messages(size: usize) -> u64 {
    (CAPACITY / 2 / (16 + size.div_ceil(8) * 8)) as u64
}

/// One way of moving messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handoff {
    /// [`crate::bare::WordRing`]: shmcast's shape with none of its checks.
    Bare,
    /// shmcast, `Writer::write` and a lossy `Reader::try_read`.
    ShmcastLossy,
    /// shmcast, `Writer::write_with` and a gating `Reader::try_read`.
    ShmcastGating,
    /// shmcast, a gating reader, batches of [`crate::spsc::BATCH`] both
    /// ways: `Writer::stage_with` and one `flush` a batch,
    /// `Reader::try_read_batch` with each payload looked at.
    ShmcastGatingBatches,
    /// bcast 1.0.0-rc.7, `send` and `receive_next`.
    BcastRc,
}

impl Handoff {
    /// Every contender.
    pub const ALL: [Handoff; 5] = [
        Handoff::Bare,
        Handoff::ShmcastLossy,
        Handoff::ShmcastGating,
        Handoff::ShmcastGatingBatches,
        Handoff::BcastRc,
    ];

    /// Its name on the tool's command line.
    pub fn name(self) -> &'static str {
        match self {
            Handoff::Bare => "bare/words",
            Handoff::ShmcastLossy => "shmcast/lossy",
            Handoff::ShmcastGating => "shmcast/gating",
            Handoff::ShmcastGatingBatches => "shmcast/gating-batch-64-both",
            Handoff::BcastRc => "bcast-1.0.0-rc.7",
        }
    }

    /// `fills` turns of `msg`-sized messages; the median time per message of
    /// a fill and of a drain, in nanoseconds. The producer runs on CPU
    /// `pin[0]`, the consumer on `pin[1]`.
    pub fn run(self, fills: u64, msg: &[u8], pin: [usize; 2]) -> Turns {
        let n = fill_messages(msg.len());
        let mut buf = vec![0u8; msg.len()];
        match self {
            Handoff::Bare => {
                let ring = WordRing::new(CAPACITY);
                let (mut tx, mut rx) = (ring.producer(), ring.consumer());
                turns(
                    fills,
                    n,
                    pin,
                    || {
                        move || {
                            for _ in 0..n {
                                tx.send(black_box(msg));
                            }
                        }
                    },
                    || {
                        move || {
                            let mut got = 0;
                            while got < n {
                                if rx.recv(&mut buf).is_some() {
                                    got += 1;
                                }
                            }
                            black_box(&buf);
                        }
                    },
                )
            }
            Handoff::ShmcastLossy | Handoff::ShmcastGating => {
                let gating = self == Handoff::ShmcastGating;
                let cfg = RingConfig::new(CAPACITY).slots(1);
                let region = HeapRegion::new(cfg.region_size());
                let ring = Ring::create(&region, &cfg).expect("create");
                let mut w = ring.writer().expect("writer");
                let mut r = if gating {
                    ring.gating_reader().expect("gating reader")
                } else {
                    ring.reader(Start::Tail).expect("reader")
                };
                turns(
                    fills,
                    n,
                    pin,
                    || {
                        move || {
                            if gating {
                                let mut wait = Patient::default();
                                for _ in 0..n {
                                    w.write_with(0, black_box(msg), &mut wait).expect("write");
                                }
                            } else {
                                for _ in 0..n {
                                    w.write(black_box(msg)).expect("write");
                                }
                            }
                        }
                    },
                    || {
                        move || {
                            let mut got = 0;
                            while got < n {
                                // Matched in place (see the `throughput` runs).
                                match r.try_read(&mut buf) {
                                    Ok(Read::Message(_)) => got += 1,
                                    Ok(Read::Empty) => {}
                                    other => panic!("a reader of a full turn got {other:?}"),
                                }
                            }
                            black_box(&buf);
                        }
                    },
                )
            }
            Handoff::ShmcastGatingBatches => {
                let cfg = RingConfig::new(CAPACITY).slots(1);
                let region = HeapRegion::new(cfg.region_size());
                let ring = Ring::create(&region, &cfg).expect("create");
                let mut w = ring.writer().expect("writer");
                let mut r = ring.gating_reader().expect("gating reader");
                let mut buf = vec![0u8; BATCH as usize * shmcast::batch_space(msg.len())];
                turns(
                    fills,
                    n,
                    pin,
                    || move || stage_in_batches(&mut w, n, msg, &mut Patient::default()),
                    || {
                        move || {
                            let mut got = 0;
                            while got < n {
                                got += read_a_batch(&mut r, &mut buf);
                            }
                        }
                    },
                )
            }
            Handoff::BcastRc => {
                use bcast_rc::StorageExt;
                let storage = bcast_rc::LocalStorage::with_capacity(CAPACITY).into_shared();
                // bcast handles are not Send: set the ring up here, join it
                // on each side's thread.
                drop(storage.clone().into_writer());
                let (ps, cs) = (storage.clone(), storage);
                turns(
                    fills,
                    n,
                    pin,
                    move || {
                        let mut w = ps.join_writer();
                        move || {
                            for _ in 0..n {
                                w.send(black_box(msg), true);
                            }
                        }
                    },
                    move || {
                        let mut r = cs.into_reader_at(0);
                        move || {
                            let mut got = 0;
                            while got < n {
                                match r.receive_next(&mut buf) {
                                    Some(Ok(_)) => got += 1,
                                    Some(Err(e)) => panic!("bcast: {e}"),
                                    None => {}
                                }
                            }
                            black_box(&buf);
                        }
                    },
                )
            }
        }
    }
}

/// The median cost per message of each side's turns.
#[derive(Debug, Clone, Copy)]
pub struct Turns {
    /// A fill: the producer's nanoseconds per message.
    pub fill: f64,
    /// A drain: the consumer's nanoseconds per message.
    pub drain: f64,
}

/// Run `fills` turns of `n` messages: the producer made by `producer`
/// (on its thread) fills, then the consumer made by `consumer` drains.
fn turns<P, C, MP, MC>(fills: u64, n: u64, pin: [usize; 2], producer: MP, consumer: MC) -> Turns
where
    P: FnMut(),
    C: FnMut(),
    MP: FnOnce() -> P + Send,
    MC: FnOnce() -> C + Send,
{
    // Even: the producer's turn; odd: the consumer's.
    let turn = crate::Padded::default();
    // One side's turns, each timed; the median turn's time per message.
    let side = |cpu: usize, first: u64, work: &mut dyn FnMut()| {
        pin_to(cpu);
        let mut times = Vec::with_capacity(fills as usize);
        for i in 0..fills {
            let mut backoff = Backoff::new();
            while turn.0.load(Ordering::Acquire) != 2 * i + first {
                backoff.snooze();
            }
            let start = Instant::now();
            work();
            times.push(start.elapsed().as_nanos() as f64);
            turn.0.store(2 * i + first + 1, Ordering::Release);
        }
        spread(times).0 / n as f64
    };
    std::thread::scope(|s| {
        let p = s.spawn(|| side(pin[0], 0, &mut producer()));
        let c = s.spawn(|| side(pin[1], 1, &mut consumer()));
        Turns {
            fill: p.join().expect("producer"),
            drain: c.join().expect("consumer"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_contender_hands_over_whole_turns() {
        for h in Handoff::ALL {
            let t = h.run(3, &[5u8; 32], [0, 0]);
            assert!(t.fill > 0.0 && t.drain > 0.0, "{}: {t:?}", h.name());
        }
        assert!(fill_messages(32) * 48 <= CAPACITY as u64 / 2);
    }
}
