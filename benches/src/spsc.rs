//! One producer, one consumer on two threads: the runs that the criterion
//! bench `throughput` and the `throughput` tool (which alternates the
//! contenders round by round) both time.
//!
//! A run is timed from the moment both threads pass a barrier until the
//! consumer has the last message (lossless) or both threads are done (lossy).
//! Waiting threads back off (spin, then yield) so that on a 2-core machine
//! neither starves the other.
//!
//! Peer semantics:
//! - `bare/words` ([`crate::bare`]) is no peer: a ring of shmcast's shape
//!   (records polled by their first word, atomic-word copies, a consumer
//!   position shown in steps) with none of shmcast's checks, run in the same
//!   rounds, so that every rate is also a ratio to what the shape itself
//!   costs on the machine.
//! - bcast (both versions) has no gating consumer, so it is made lossless with
//!   a credit counter: the consumer publishes how many it read (after each
//!   drained batch and every 64 messages), the producer sends only while the
//!   messages in flight fit the ring. shmcast's gating reader shows its
//!   position in steps instead (every sixteenth of the ring, whenever it finds
//!   the ring empty, and within a kibibyte of reading once the producer
//!   waits; see
//!   `Reader::release`).
//! - The `-batch-64` runs stage [`BATCH`] messages and publish them with one
//!   flush; in `-batch-64-both` the consumer reads in batches as well
//!   (`Reader::try_read_batch`, one check of the producer's intent for up to
//!   [`BATCH`] messages), looking at each payload. bcast has no batch read;
//!   their ratio is to its plain run.
//! - The `-backlog` run's consumer, once it finds the ring empty, waits
//!   until the producer is [`BACKLOG`] bytes ahead (`Reader::backlog`, or
//!   [`BACKLOG_POLLS`] polls at most) before it reads on: it gives up
//!   latency to read lines the producer has finished with (its ratio is to
//!   bcast's plain run, whose consumer reads as soon as anything is there).
//! - The `-busy` runs give the consumer work per message (an FNV-1a hash of
//!   the payload, [`consumer_work`], about 30 ns for 32 bytes), so that it is
//!   the slower side and the ring stays full: what a lossless producer does
//!   while it waits for room. Their ratio is to bcast's `-busy` run.
//! - disruptor moves fixed-size events (`[u8; N]`), not variable-size byte
//!   messages; its consumers always gate. It is driven through `EventPoller`
//!   and `try_publish`, so both sides back off like ours. Only the sizes in
//!   [`DISRUPTOR_SIZES`] are built.

use crate::bare::WordRing;
use crate::tool::pin_to;
use crate::{bcast_old_size, leak_aligned, Backoff, Credit, HeapRegion, Patient};
use disruptor::{BusySpin, Polling, Producer as _};
use shmcast::{Batch, Read, Ring, RingConfig, Start};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

/// Data bytes of every ring.
pub const CAPACITY: usize = 256 << 10;
/// Messages per batch in the batched runs.
pub const BATCH: u64 = 64;

/// One `Reader::try_read_batch` of a gating reader into `buf`, every
/// payload looked at: how many messages it read (0: none waiting).
///
/// # Panics
/// On anything else (a lap, a restart, an error), which a gating reader
/// of one producer never gets.
pub fn read_a_batch(r: &mut shmcast::Reader<'_>, buf: &mut [u8]) -> u64 {
    match r.try_read_batch(buf) {
        Ok(Batch::Messages(batch)) => {
            for (_, payload) in batch {
                black_box(payload);
            }
            batch.len() as u64
        }
        Ok(Batch::Empty) => 0,
        other => panic!("a gating reader got {other:?}"),
    }
}

/// Write `n` copies of `msg` in batches of [`BATCH`]: each staged
/// (`Writer::stage_with`, waiting through `wait`), one `flush` a batch.
pub fn stage_in_batches(w: &mut shmcast::Writer<'_>, n: u64, msg: &[u8], wait: &mut Patient) {
    let mut left = n;
    while left > 0 {
        let batch = left.min(BATCH);
        for _ in 0..batch {
            w.stage_with(0, black_box(msg), wait).expect("stage");
        }
        w.flush();
        left -= batch;
    }
}
/// The event sizes the disruptor runs are built for.
pub const DISRUPTOR_SIZES: [usize; 3] = [32, 256, 4096];

/// One way of moving messages from one thread to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contender {
    /// A reference, not a peer: [`crate::bare::WordRing`], no checks.
    Bare,
    /// shmcast, a lossy reader.
    ShmcastLossy,
    /// shmcast, a gating reader, one message written at a time
    /// (`Writer::write_with`, waiting for room by [`Patient`]).
    ShmcastGating,
    /// [`Contender::ShmcastGating`] through a claim (`Writer::claim_with`,
    /// then `Claim::commit_with`).
    ShmcastGatingClaim,
    /// shmcast, a gating reader, messages staged in batches of [`BATCH`]
    /// (`Writer::stage_with`) and published by one `flush`.
    ShmcastGatingBatch,
    /// [`Contender::ShmcastGatingBatch`] with a consumer that reads in
    /// batches too (`Reader::try_read_batch`, up to [`BATCH`] messages).
    ShmcastGatingBatches,
    /// [`Contender::ShmcastGating`] (every message published as it is
    /// written) with a consumer that reads whatever is published, up to
    /// [`BATCH`] messages at a time (`Reader::try_read_batch`).
    ShmcastGatingReadBatch,
    /// [`Contender::ShmcastGating`] with the wake-ups of `shmcast-linux`'s
    /// producer and gating consumer: the producer wakes data sleepers after
    /// every publish, the consumer wakes a space sleeper after every read
    /// (nobody sleeps here: this is the cost of checking).
    ShmcastGatingWakes,
    /// [`Contender::ShmcastGating`] with a consumer that works on every
    /// message ([`consumer_work`]).
    ShmcastGatingBusy,
    /// [`Contender::ShmcastGating`] with a consumer that, once it finds the
    /// ring empty, waits for a backlog of [`BACKLOG`] bytes (or
    /// [`BACKLOG_POLLS`] polls) before it reads on.
    ShmcastGatingBacklog,
    /// bcast 1.0.0-rc.7 under a credit counter.
    BcastRc,
    /// [`Contender::BcastRc`] with a consumer that works on every message.
    BcastRcBusy,
    /// bcast 0.0.31 under a credit counter.
    BcastOld,
    /// disruptor 4.4 (fixed-size events, gating).
    Disruptor,
}

impl Contender {
    /// Every contender, in the criterion bench's order.
    pub const ALL: [Contender; 14] = [
        Contender::Bare,
        Contender::ShmcastLossy,
        Contender::ShmcastGating,
        Contender::ShmcastGatingClaim,
        Contender::ShmcastGatingBatch,
        Contender::ShmcastGatingBatches,
        Contender::ShmcastGatingReadBatch,
        Contender::ShmcastGatingWakes,
        Contender::ShmcastGatingBusy,
        Contender::ShmcastGatingBacklog,
        Contender::BcastRc,
        Contender::BcastRcBusy,
        Contender::BcastOld,
        Contender::Disruptor,
    ];

    /// Its name in criterion ids and on the tool's command line.
    pub fn name(self) -> &'static str {
        match self {
            Contender::Bare => "bare/words",
            Contender::ShmcastLossy => "shmcast/lossy",
            Contender::ShmcastGating => "shmcast/gating",
            Contender::ShmcastGatingClaim => "shmcast/gating-claim",
            Contender::ShmcastGatingBatch => "shmcast/gating-batch-64",
            Contender::ShmcastGatingBatches => "shmcast/gating-batch-64-both",
            Contender::ShmcastGatingReadBatch => "shmcast/gating-read-batch-64",
            Contender::ShmcastGatingWakes => "shmcast/gating-wakes",
            Contender::ShmcastGatingBusy => "shmcast/gating-busy",
            Contender::ShmcastGatingBacklog => "shmcast/gating-backlog",
            Contender::BcastRc => "bcast-1.0.0-rc.7/credit",
            Contender::BcastRcBusy => "bcast-1.0.0-rc.7/credit-busy",
            Contender::BcastOld => "bcast-0.0.31/credit",
            Contender::Disruptor => "disruptor",
        }
    }

    /// The contender its ratios are taken to: bcast 1.0.0-rc.7's run with
    /// the same consumer.
    pub fn base(self) -> Contender {
        match self {
            Contender::ShmcastGatingBusy | Contender::BcastRcBusy => Contender::BcastRcBusy,
            _ => Contender::BcastRc,
        }
    }

    /// Whether it can move `size`-byte messages.
    pub fn supports(self, size: usize) -> bool {
        self != Contender::Disruptor || DISRUPTOR_SIZES.contains(&size)
    }

    /// Move `iters` messages of `msg.len()` bytes; the time it took, or
    /// `None` for a size the contender does not support. With `pin`, the
    /// producer thread runs on CPU `pin[0]` and the consumer on `pin[1]`.
    pub fn run(self, iters: u64, msg: &[u8], pin: Option<[usize; 2]>) -> Option<Duration> {
        self.run_counted(iters, msg, pin).map(|run| run.took)
    }

    /// [`Contender::run`], also telling how many messages the consumer got.
    pub fn run_counted(self, iters: u64, msg: &[u8], pin: Option<[usize; 2]>) -> Option<Run> {
        let lossless = |took| Run {
            took,
            delivered: iters,
        };
        Some(match self {
            Contender::Bare => lossless(bare(iters, msg, pin)),
            Contender::ShmcastLossy => shmcast_lossy(iters, msg, pin),
            Contender::ShmcastGating => lossless(shmcast_gating(iters, msg, Gating::One, pin)),
            Contender::ShmcastGatingClaim => {
                lossless(shmcast_gating(iters, msg, Gating::Claim, pin))
            }
            Contender::ShmcastGatingBatch => {
                lossless(shmcast_gating(iters, msg, Gating::Batch, pin))
            }
            Contender::ShmcastGatingBatches => {
                lossless(shmcast_gating(iters, msg, Gating::Batches, pin))
            }
            Contender::ShmcastGatingReadBatch => {
                lossless(shmcast_gating(iters, msg, Gating::ReadBatch, pin))
            }
            Contender::ShmcastGatingWakes => {
                lossless(shmcast_gating(iters, msg, Gating::Wakes, pin))
            }
            Contender::ShmcastGatingBusy => lossless(shmcast_gating(iters, msg, Gating::Busy, pin)),
            Contender::ShmcastGatingBacklog => {
                lossless(shmcast_gating(iters, msg, Gating::Backlog, pin))
            }
            Contender::BcastRc => lossless(bcast_rc_credit(iters, msg, false, pin)),
            Contender::BcastRcBusy => lossless(bcast_rc_credit(iters, msg, true, pin)),
            Contender::BcastOld => lossless(bcast_old_credit(iters, msg, pin)),
            Contender::Disruptor => lossless(match msg.len() {
                32 => disruptor_pair::<32>(iters, pin),
                256 => disruptor_pair::<256>(iters, pin),
                4096 => disruptor_pair::<4096>(iters, pin),
                _ => return None,
            }),
        })
    }
}

/// One timed run.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// From the start to the later of the two threads' ends.
    pub took: Duration,
    /// Messages the consumer received: all of them, except for a lossy
    /// consumer that the producer lapped (it skips what was overwritten).
    pub delivered: u64,
}

/// Run `producer` and `consumer` on two threads started together (on the
/// CPUs `pin` names, if any); the time from the start to the later of their
/// ends.
fn pair(
    pin: Option<[usize; 2]>,
    producer: impl FnOnce() -> Instant + Send,
    consumer: impl FnOnce() -> Instant + Send,
) -> Duration {
    let barrier = Barrier::new(2);
    std::thread::scope(|s| {
        let b = &barrier;
        let p = s.spawn(move || {
            if let Some([cpu, _]) = pin {
                pin_to(cpu);
            }
            b.wait();
            let start = Instant::now();
            (start, producer())
        });
        let c = s.spawn(move || {
            if let Some([_, cpu]) = pin {
                pin_to(cpu);
            }
            b.wait();
            consumer()
        });
        let (start, p_end) = p.join().expect("producer");
        let c_end = c.join().expect("consumer");
        p_end.max(c_end) - start
    })
}

fn shmcast_lossy(iters: u64, msg: &[u8], pin: Option<[usize; 2]>) -> Run {
    let cfg = RingConfig::new(CAPACITY);
    let region = HeapRegion::new(cfg.region_size());
    let ring = Ring::create(&region, &cfg).expect("create");
    let w = ring.writer().expect("writer");
    let r = ring.reader(Start::Tail).expect("reader");
    let done = AtomicBool::new(false);
    let mut delivered = 0;
    let took = pair(
        pin,
        || {
            // Each side's state on its own thread's stack (see `bare`).
            let mut w = w;
            for _ in 0..iters {
                w.write(black_box(msg)).expect("write");
            }
            done.store(true, Ordering::Release);
            Instant::now()
        },
        || {
            let mut r = r;
            let mut buf = vec![0u8; msg.len()];
            let mut backoff = Backoff::new();
            loop {
                // Matched in place (see `shmcast_gating`).
                match r.try_read(&mut buf) {
                    Ok(Read::Message(m)) if m.seq + 1 == iters => break,
                    Ok(Read::Empty) if done.load(Ordering::Acquire) => {
                        if matches!(r.try_read(&mut buf), Ok(Read::Empty)) {
                            break;
                        }
                    }
                    Ok(Read::Empty) => backoff.snooze(),
                    Ok(_) => backoff.reset(),
                    Err(e) => panic!("read: {e}"),
                }
            }
            delivered = r.stats().messages;
            Instant::now()
        },
    );
    Run { took, delivered }
}

fn bare(iters: u64, msg: &[u8], pin: Option<[usize; 2]>) -> Duration {
    let ring = WordRing::new(CAPACITY);
    pair(
        pin,
        || {
            // Each side's state on its own thread's stack: side by side in
            // this frame, the two would share a cache line.
            let mut tx = ring.producer();
            for _ in 0..iters {
                tx.send(black_box(msg));
            }
            Instant::now()
        },
        || {
            let mut rx = ring.consumer();
            let mut buf = vec![0u8; msg.len()];
            let mut backoff = Backoff::new();
            let mut got = 0;
            while got < iters {
                if let Some((seq, _)) = rx.recv(&mut buf) {
                    assert_eq!(seq, got, "the bare ring's consumer skipped a message");
                    got += 1;
                    backoff.reset();
                } else {
                    backoff.snooze();
                }
            }
            black_box(&buf);
            Instant::now()
        },
    )
}

/// How the gating runs publish and wake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gating {
    /// Write one message at a time.
    One,
    /// Claim and commit one message at a time.
    Claim,
    /// Stage [`BATCH`] messages, then flush.
    Batch,
    /// As `Batch`, the consumer reading up to [`BATCH`] messages at a time.
    Batches,
    /// As `One`, the consumer reading up to [`BATCH`] messages at a time.
    ReadBatch,
    /// One at a time, with the Linux adapter's wake-up checks on both sides.
    Wakes,
    /// One at a time, the consumer working on every message.
    Busy,
    /// One at a time, the consumer waiting for a backlog once it caught up.
    Backlog,
}

/// The backlog (bytes published past its position) that the `-backlog`
/// consumer waits for after it found the ring empty: a sixteenth of the
/// ring, far enough behind the producer that it reads lines the producer
/// has finished with.
pub const BACKLOG: u64 = (CAPACITY / 16) as u64;
/// Polls (spin hints) after which the `-backlog` consumer reads on with
/// whatever backlog there is, so that a producer that stopped is not waited
/// for.
pub const BACKLOG_POLLS: u32 = 4096;

/// The `-busy` consumers' work on each message: FNV-1a over its bytes, one
/// dependent multiply per byte.
#[inline]
pub fn consumer_work(msg: &[u8]) -> u64 {
    msg.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// A wake function for runs where nobody sleeps (never called then).
fn no_sleeper(_: &std::sync::atomic::AtomicU32) {}

fn shmcast_gating(iters: u64, msg: &[u8], how: Gating, pin: Option<[usize; 2]>) -> Duration {
    let cfg = RingConfig::new(CAPACITY).slots(1);
    let region = HeapRegion::new(cfg.region_size());
    let ring = Ring::create(&region, &cfg).expect("create");
    let mut w = ring.writer().expect("writer");
    let wakes = how == Gating::Wakes;
    let busy = how == Gating::Busy;
    if wakes {
        w.set_wake(Some(no_sleeper));
    }
    let r = ring.gating_reader().expect("gating reader");
    pair(
        pin,
        || {
            // Each side's state on its own thread's stack (see `bare`).
            let mut w = w;
            let mut wait = Patient::default();
            if matches!(how, Gating::Batch | Gating::Batches) {
                stage_in_batches(&mut w, iters, msg, &mut wait);
            } else if how == Gating::Claim {
                for _ in 0..iters {
                    w.claim_with(msg.len(), &mut wait)
                        .expect("claim")
                        .commit_with(black_box(msg));
                }
            } else {
                for _ in 0..iters {
                    w.write_with(0, black_box(msg), &mut wait).expect("write");
                }
            }
            Instant::now()
        },
        || {
            let mut r = r;
            let mut backoff = Backoff::new();
            let mut got = 0;
            if matches!(how, Gating::Batches | Gating::ReadBatch) {
                let mut buf = vec![0u8; BATCH as usize * shmcast::batch_space(msg.len())];
                while got < iters {
                    match read_a_batch(&mut r, &mut buf) {
                        0 => backoff.snooze(),
                        n => {
                            got += n;
                            backoff.reset();
                        }
                    }
                }
                return Instant::now();
            }
            let mut buf = vec![0u8; msg.len()];
            while got < iters {
                // Matched in place: moving the result out first (`.expect()`
                // and then a match) copied it through the stack with a
                // 16-byte load over two 8-byte stores, a store-forwarding
                // stall that took a third of the consumer's time (perf
                // record -e cpu-clock) once it was the slower side.
                match r.try_read(&mut buf) {
                    Ok(Read::Message(_)) => {
                        got += 1;
                        if busy {
                            black_box(consumer_work(&buf));
                        }
                        if wakes {
                            ring.wake_side(shmcast::wake::Side::Space, no_sleeper);
                        }
                        backoff.reset();
                    }
                    Ok(Read::Empty) if how == Gating::Backlog => {
                        // Caught up: let the producer get a batch ahead.
                        let mut polls = 0;
                        while r.backlog() < BACKLOG && polls < BACKLOG_POLLS {
                            std::hint::spin_loop();
                            polls += 1;
                        }
                        if polls == BACKLOG_POLLS {
                            backoff.snooze();
                        }
                    }
                    Ok(Read::Empty) => backoff.snooze(),
                    other => panic!("a gating reader got {other:?}"),
                }
            }
            Instant::now()
        },
    )
}

/// Messages in flight under the credit counter: three quarters of the ring
/// (bcast 1.0 reserves up to 2% ahead of the write position, and a frame is
/// an 8-byte header and the payload padded to 8).
fn bcast_window(len: usize) -> u64 {
    (CAPACITY * 3 / 4 / (((len + 7) & !7) + 8)) as u64
}

fn bcast_rc_credit(iters: u64, msg: &[u8], busy: bool, pin: Option<[usize; 2]>) -> Duration {
    use bcast_rc::StorageExt;
    let storage = bcast_rc::LocalStorage::with_capacity(CAPACITY).into_shared();
    // bcast handles are not Send: set the ring up here, then join it as the
    // producer on its thread and read from 0 on the consumer's.
    drop(storage.clone().into_writer());
    let credit = Credit::new();
    let window = bcast_window(msg.len());
    let mut buf = vec![0u8; msg.len()];
    pair(
        pin,
        || {
            let mut w = storage.clone().join_writer();
            let mut cached = 0;
            for sent in 0..iters {
                credit.wait_for_room(sent, window, &mut cached);
                w.send(black_box(msg), true);
            }
            Instant::now()
        },
        || {
            let mut r = storage.clone().into_reader_at(0);
            let mut backoff = Backoff::new();
            let mut got = 0;
            while got < iters {
                match r.receive_next(&mut buf) {
                    Some(Ok(_)) => {
                        got += 1;
                        if busy {
                            black_box(consumer_work(&buf));
                        }
                        if got % BATCH == 0 {
                            credit.set_read(got);
                        }
                        backoff.reset();
                    }
                    Some(Err(e)) => panic!("bcast under credit: {e}"),
                    None => {
                        credit.set_read(got);
                        backoff.snooze();
                    }
                }
            }
            Instant::now()
        },
    )
}

fn bcast_old_credit(iters: u64, msg: &[u8], pin: Option<[usize; 2]>) -> Duration {
    let bytes = leak_bcast_old();
    // bcast 0.0.x handles are not Send: reset the ring here (position 0),
    // then join it on the producer thread and read from 0 on the consumer.
    let _reset = bcast_old::RingBuffer::new(bytes).into_writer();
    let credit = Credit::new();
    let window = bcast_window(msg.len());
    let mut buf = vec![0u8; msg.len()];
    let len = msg.len();
    pair(
        pin,
        || {
            let w = bcast_old::RingBuffer::new(bytes).join_writer();
            let mut cached = 0;
            for sent in 0..iters {
                credit.wait_for_room(sent, window, &mut cached);
                let mut claim = w.claim(len, true);
                claim.get_buffer_mut().copy_from_slice(black_box(msg));
                claim.commit();
            }
            Instant::now()
        },
        || {
            let r = bcast_old::RingBuffer::new(bytes)
                .into_reader()
                .with_initial_position(0);
            let mut backoff = Backoff::new();
            let mut got = 0;
            while got < iters {
                match r.receive_next() {
                    Some(Ok(m)) => {
                        if m.is_padding {
                            continue;
                        }
                        m.read(&mut buf).expect("bcast 0.0.31 read");
                        got += 1;
                        if got % BATCH == 0 {
                            credit.set_read(got);
                        }
                        backoff.reset();
                    }
                    Some(Err(e)) => panic!("bcast under credit: {e}"),
                    None => {
                        credit.set_read(got);
                        backoff.snooze();
                    }
                }
            }
            Instant::now()
        },
    )
}

fn leak_bcast_old() -> &'static [u8] {
    thread_local! {
        static BYTES: &'static [u8] = leak_aligned(bcast_old_size(CAPACITY));
    }
    BYTES.with(|b| *b)
}

fn disruptor_pair<const N: usize>(iters: u64, pin: Option<[usize; 2]>) -> Duration {
    let builder = disruptor::build_single_producer(CAPACITY / N, || [0u8; N], BusySpin);
    let (mut poller, builder) = builder.new_event_poller();
    let mut producer = builder.build();
    let msg = [3u8; N];
    let mut buf = [0u8; N];
    pair(
        pin,
        || {
            let mut backoff = Backoff::new();
            for _ in 0..iters {
                while producer.try_publish(|e| *e = *black_box(&msg)).is_err() {
                    backoff.snooze();
                }
                backoff.reset();
            }
            Instant::now()
        },
        || {
            let mut backoff = Backoff::new();
            let mut got = 0;
            while got < iters {
                match poller.poll() {
                    Ok(mut events) => {
                        for e in &mut events {
                            buf.copy_from_slice(e);
                            got += 1;
                        }
                        backoff.reset();
                    }
                    Err(Polling::NoEvents) => backoff.snooze(),
                    Err(Polling::Shutdown) => break,
                }
            }
            black_box(&buf);
            Instant::now()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every contender runs to its end at every size it supports, without
    /// a panic (a gating shmcast consumer panics on anything but a message
    /// or an empty ring). The lossless consumers stop only once they have
    /// counted the last message, so one that lost a message would hang
    /// here; the lossy one counts what it got.
    #[test]
    fn every_contender_runs_to_its_end() {
        for size in [1, 32, 256] {
            let msg = vec![5u8; size];
            for c in Contender::ALL {
                let Some(run) = c.run_counted(20_000, &msg, None) else {
                    assert!(!c.supports(size), "{} skipped {size} B", c.name());
                    continue;
                };
                assert!(
                    (1..=20_000).contains(&run.delivered),
                    "{} at {size} B: {} delivered",
                    c.name(),
                    run.delivered
                );
            }
        }
    }
}
