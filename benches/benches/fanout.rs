//! Fan-out: the producer's cost with 1, 2, 4 and 8 consumers, 32-byte
//! messages, each iteration one message.
//!
//! - `fanout_lossy`: lossy consumers. The figure is the producer thread's own
//!   CPU time (`CLOCK_THREAD_CPUTIME_ID`), so that on a machine with fewer
//!   cores than threads the time the scheduler gives the consumers is not
//!   charged to the producer; what the consumers do to the producer's cache
//!   lines still is. Consumers drain what is there, then back off (spin,
//!   then yield).
//! - `fanout_gating`: lossless consumers; wall time from the start until every
//!   consumer has every message. On 2 cores, 8 consumers share one core.
//!
//! Peer semantics: bcast readers are lossy and invisible to the producer like
//! shmcast's lossy readers (bcast has no gating). disruptor's consumers always
//! gate, each with its own sequence that the producer reads, so it is
//! measured in the gating group.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use disruptor::{BusySpin, Polling, Producer as _};
use shmcast::{Read, Ring, RingConfig, Start};
use shmcast_benches::{bcast_old_size, leak_aligned, thread_cpu_ns, Backoff, HeapRegion, Patient};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

const CAPACITY: usize = 256 << 10;
const MSG: [u8; 32] = [4; 32];
const CONSUMERS: [usize; 4] = [1, 2, 4, 8];

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(10)
}

/// How a fan-out run is timed.
#[derive(Clone, Copy)]
enum Clock {
    /// The producer thread's CPU time.
    ProducerCpu,
    /// Wall time until the last consumer is done.
    AllDelivered,
}

/// Run one producer and one consumer per element of `consumers`, all
/// released by one barrier.
fn fan<C: FnOnce() + Send>(clock: Clock, producer: impl FnOnce(), consumers: Vec<C>) -> Duration {
    let barrier = Barrier::new(consumers.len() + 1);
    std::thread::scope(|s| {
        let b = &barrier;
        let handles: Vec<_> = consumers
            .into_iter()
            .map(|c| {
                s.spawn(move || {
                    b.wait();
                    c();
                    Instant::now()
                })
            })
            .collect();
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

fn shmcast_lossy(iters: u64, k: usize) -> Duration {
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
                    match r.try_read(&mut buf).expect("read") {
                        Read::Empty if done.load(Ordering::Acquire) => break,
                        Read::Empty => backoff.snooze(),
                        _ => backoff.reset(),
                    }
                }
            }
        })
        .collect();
    fan(
        Clock::ProducerCpu,
        || {
            for _ in 0..iters {
                w.write(black_box(&MSG)).expect("write");
            }
            done.store(true, Ordering::Release);
        },
        consumers,
    )
}

fn bcast_rc_lossy(iters: u64, k: usize) -> Duration {
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
        || {
            for _ in 0..iters {
                w.send(black_box(&MSG), true);
            }
            done.store(true, Ordering::Release);
        },
        consumers,
    )
}

fn bcast_old_lossy(iters: u64, k: usize) -> Duration {
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

fn shmcast_gating(iters: u64, k: usize) -> Duration {
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
                    match r.try_read(&mut buf).expect("read") {
                        Read::Message(_) => {
                            got += 1;
                            backoff.reset();
                        }
                        Read::Empty => backoff.snooze(),
                        other => panic!("a gating reader got {other:?}"),
                    }
                }
            }
        })
        .collect();
    fan(
        Clock::AllDelivered,
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

fn disruptor_gating(iters: u64, k: usize) -> Duration {
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

fn fanout_lossy(c: &mut Criterion) {
    let mut group = c.benchmark_group("fanout_lossy");
    group.throughput(Throughput::Elements(1));
    for k in CONSUMERS {
        group.bench_function(BenchmarkId::new("shmcast", k), |b| {
            b.iter_custom(|n| shmcast_lossy(n, k))
        });
        group.bench_function(BenchmarkId::new("bcast-1.0.0-rc.7", k), |b| {
            b.iter_custom(|n| bcast_rc_lossy(n, k))
        });
        group.bench_function(BenchmarkId::new("bcast-0.0.31", k), |b| {
            b.iter_custom(|n| bcast_old_lossy(n, k))
        });
    }
    group.finish();
}

fn fanout_gating(c: &mut Criterion) {
    let mut group = c.benchmark_group("fanout_gating");
    group.throughput(Throughput::Elements(1));
    for k in CONSUMERS {
        group.bench_function(BenchmarkId::new("shmcast", k), |b| {
            b.iter_custom(|n| shmcast_gating(n, k))
        });
        group.bench_function(BenchmarkId::new("disruptor", k), |b| {
            b.iter_custom(|n| disruptor_gating(n, k))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = fanout_lossy, fanout_gating
}
criterion_main!(benches);
