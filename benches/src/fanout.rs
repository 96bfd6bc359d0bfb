//! Fan-out: one producer, 1 to 8 consumers, 32-byte messages; the runs that
//! the criterion bench `fanout` and the `fanout` tool (which alternates the
//! consumer counts and contenders round by round) both time.
//!
//! - Lossy runs ([`Lossy`]): the figure is the producer thread's own CPU
//!   time (`CLOCK_THREAD_CPUTIME_ID`), so that on a machine with fewer cores
//!   than threads the time the scheduler gives the consumers is not charged
//!   to the producer; what the consumers do to the producer's cache lines
//!   still is. Consumers drain what is there, then back off (spin, then
//!   yield).
//! - Gating runs ([`shmcast_gating`], [`disruptor_gating`]): lossless
//!   consumers; wall time from the start until every consumer has every
//!   message. On 2 cores, 8 consumers share one core.
//!
//! With `pin` (`[producer CPU, consumers' CPU]`), the producer runs alone on
//! its CPU and every consumer on the other: the consumers then share one
//! core whatever their number, so a producer that does no work per consumer
//! pays the same whether one or eight read behind it.
//!
//! Peer semantics: bcast readers are lossy and invisible to the producer like
//! shmcast's lossy readers (bcast has no gating). disruptor's consumers always
//! gate, each with its own sequence that the producer reads, so it is
//! measured in the gating group.

use crate::tool::pin_to;
use crate::{bcast_old_size, leak_aligned, thread_cpu_ns, Backoff, HeapRegion, Patient};
use disruptor::{BusySpin, Polling, Producer as _};
use shmcast::{Read, Ring, RingConfig, Start};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

/// A contender of the lossy fan-out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lossy {
    /// shmcast, anonymous lossy readers.
    Shmcast,
    /// bcast 1.0.0-rc.7 readers.
    BcastRc,
    /// bcast 0.0.31 readers.
    BcastOld,
}

impl Lossy {
    /// Every contender.
    pub const ALL: [Lossy; 3] = [Lossy::Shmcast, Lossy::BcastRc, Lossy::BcastOld];

    /// Its name in criterion ids and on the tool's command line.
    pub fn name(self) -> &'static str {
        match self {
            Lossy::Shmcast => "shmcast",
            Lossy::BcastRc => "bcast-1.0.0-rc.7",
            Lossy::BcastOld => "bcast-0.0.31",
        }
    }

    /// The producer's CPU time for `iters` messages with `k` lossy
    /// consumers behind it.
    pub fn run(self, iters: u64, k: usize, pin: Option<[usize; 2]>) -> Duration {
        match self {
            Lossy::Shmcast => shmcast_lossy(iters, k, pin),
            Lossy::BcastRc => bcast_rc_lossy(iters, k, pin),
            Lossy::BcastOld => bcast_old_lossy(iters, k, pin),
        }
    }
}

/// Data bytes of every ring.
pub const CAPACITY: usize = 256 << 10;
/// The message.
const MSG: [u8; 32] = [4; 32];
/// The consumer counts measured.
pub const CONSUMERS: [usize; 4] = [1, 2, 4, 8];

/// How a fan-out run is timed.
#[derive(Clone, Copy)]
enum Clock {
    /// The producer thread's CPU time.
    ProducerCpu,
    /// Wall time until the last consumer is done.
    AllDelivered,
}

/// Run one producer (on the calling thread) and one consumer per element
/// of `consumers`, all released by one barrier; with `pin`, the producer on
/// CPU `pin[0]` and every consumer on `pin[1]`.
fn fan<C: FnOnce() + Send>(
    clock: Clock,
    pin: Option<[usize; 2]>,
    producer: impl FnOnce(),
    consumers: Vec<C>,
) -> Duration {
    let barrier = Barrier::new(consumers.len() + 1);
    std::thread::scope(|s| {
        let b = &barrier;
        let handles: Vec<_> = consumers
            .into_iter()
            .map(|c| {
                s.spawn(move || {
                    if let Some([_, cpu]) = pin {
                        pin_to(cpu);
                    }
                    b.wait();
                    c();
                    Instant::now()
                })
            })
            .collect();
        if let Some([cpu, _]) = pin {
            pin_to(cpu);
        }
        b.wait();
        let start = Instant::now();
        let cpu = thread_cpu_ns();
        producer();
        let cpu = Duration::from_nanos(thread_cpu_ns() - cpu);
        let end = handles
            .into_iter()
            .map(|h| h.join().expect("consumer"))
            .max()
            .unwrap_or(start);
        match clock {
            Clock::ProducerCpu => cpu,
            Clock::AllDelivered => end - start,
        }
    })
}

fn shmcast_lossy(iters: u64, k: usize, pin: Option<[usize; 2]>) -> Duration {
    let cfg = RingConfig::new(CAPACITY);
    let region = HeapRegion::new(cfg.region_size());
    let ring = Ring::create(&region, &cfg).expect("create");
    let mut w = ring.writer().expect("writer");
    let done = AtomicBool::new(false);
    let consumers = (0..k)
        .map(|_| {
            let mut r = ring.reader(Start::Tail).expect("reader");
            let done = &done;
            move || {
                let mut buf = [0u8; 32];
                let mut backoff = Backoff::new();
                loop {
                    // Matched in place (see `spsc::shmcast_gating`).
                    match r.try_read(&mut buf) {
                        Ok(Read::Empty) if done.load(Ordering::Acquire) => break,
                        Ok(Read::Empty) => backoff.snooze(),
                        Ok(_) => backoff.reset(),
                        Err(e) => panic!("read: {e}"),
                    }
                }
            }
        })
        .collect();
    fan(
        Clock::ProducerCpu,
        pin,
        || {
            for _ in 0..iters {
                w.write(black_box(&MSG)).expect("write");
            }
            done.store(true, Ordering::Release);
        },
        consumers,
    )
}

fn bcast_rc_lossy(iters: u64, k: usize, pin: Option<[usize; 2]>) -> Duration {
    use bcast_rc::StorageExt;
    let storage = bcast_rc::LocalStorage::with_capacity(CAPACITY).into_shared();
    let mut w = storage.clone().into_writer();
    let done = AtomicBool::new(false);
    let consumers = (0..k)
        .map(|_| {
            let storage = storage.clone();
            let done = &done;
            move || {
                // bcast handles are not Send: each reader is made on its thread.
                let mut r = storage.into_reader_at(0);
                let mut buf = [0u8; 32];
                let mut backoff = Backoff::new();
                loop {
                    match r.receive_next(&mut buf) {
                        Some(Ok(_)) => backoff.reset(),
                        // Lapped: resume at the producer's position.
                        Some(Err(_)) => r.reset(),
                        None if done.load(Ordering::Acquire) => break,
                        None => backoff.snooze(),
                    }
                }
            }
        })
        .collect();
    fan(
        Clock::ProducerCpu,
        pin,
        || {
            for _ in 0..iters {
                w.send(black_box(&MSG), true);
            }
            done.store(true, Ordering::Release);
        },
        consumers,
    )
}

fn bcast_old_lossy(iters: u64, k: usize, pin: Option<[usize; 2]>) -> Duration {
    thread_local! {
        static BYTES: &'static [u8] = leak_aligned(bcast_old_size(CAPACITY));
    }
    let bytes = BYTES.with(|b| *b);
    // bcast 0.0.x handles are not Send: each thread makes its own.
    let w = bcast_old::RingBuffer::new(bytes).into_writer();
    let done = AtomicBool::new(false);
    let consumers = (0..k)
        .map(|_| {
            let done = &done;
            move || {
                let r = bcast_old::RingBuffer::new(bytes).into_reader();
                let mut buf = [0u8; 32];
                let mut backoff = Backoff::new();
                loop {
                    match r.receive_next() {
                        Some(Ok(m)) => {
                            if m.read(&mut buf).is_err() {
                                r.reset();
                            }
                            backoff.reset();
                        }
                        Some(Err(_)) => r.reset(),
                        None if done.load(Ordering::Acquire) => break,
                        None => backoff.snooze(),
                    }
                }
            }
        })
        .collect();
    fan(
        Clock::ProducerCpu,
        pin,
        || {
            for _ in 0..iters {
                let mut claim = w.claim(32, true);
                claim.get_buffer_mut().copy_from_slice(black_box(&MSG));
                claim.commit();
            }
            done.store(true, Ordering::Release);
        },
        consumers,
    )
}

/// `k` gating shmcast consumers: wall time until all have every message.
pub fn shmcast_gating(iters: u64, k: usize, pin: Option<[usize; 2]>) -> Duration {
    let cfg = RingConfig::new(CAPACITY).slots(k);
    let region = HeapRegion::new(cfg.region_size());
    let ring = Ring::create(&region, &cfg).expect("create");
    let mut w = ring.writer().expect("writer");
    let consumers = (0..k)
        .map(|_| {
            let mut r = ring.gating_reader().expect("gating reader");
            move || {
                let mut buf = [0u8; 32];
                let mut backoff = Backoff::new();
                let mut got = 0;
                while got < iters {
                    match r.try_read(&mut buf) {
                        Ok(Read::Message(_)) => {
                            got += 1;
                            backoff.reset();
                        }
                        Ok(Read::Empty) => backoff.snooze(),
                        other => panic!("a gating reader got {other:?}"),
                    }
                }
            }
        })
        .collect();
    fan(
        Clock::AllDelivered,
        pin,
        || {
            let mut wait = Patient::default();
            for _ in 0..iters {
                w.claim_with(32, &mut wait)
                    .expect("claim")
                    .commit_with(black_box(&MSG));
            }
        },
        consumers,
    )
}

/// `k` disruptor consumers (always gating): wall time until all have every
/// message.
pub fn disruptor_gating(iters: u64, k: usize, pin: Option<[usize; 2]>) -> Duration {
    let mut builder = disruptor::build_single_producer(CAPACITY / 32, || [0u8; 32], BusySpin)
        .with_multi_consumer();
    let mut pollers = Vec::new();
    for _ in 0..k {
        let (poller, next) = builder.new_event_poller();
        pollers.push(poller);
        builder = next;
    }
    let mut producer = builder.build();
    let consumers = pollers
        .into_iter()
        .map(|mut poller| {
            move || {
                let mut buf = [0u8; 32];
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
            }
        })
        .collect();
    fan(
        Clock::AllDelivered,
        pin,
        || {
            let mut backoff = Backoff::new();
            for _ in 0..iters {
                while producer.try_publish(|e| *e = *black_box(&MSG)).is_err() {
                    backoff.snooze();
                }
                backoff.reset();
            }
        },
        consumers,
    )
}
