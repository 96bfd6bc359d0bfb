//! Single-thread cost, per message size: claim+commit (`write`), read
//! (`read`), batch publish against one-by-one (`publish_32b`), checksums on
//! and off, with bcast (1.0.0-rc.7 and 0.0.31) and plain `memcpy` through a
//! ring-sized buffer as the floor, in the same groups.
//!
//! Peer semantics: bcast's reader checks for overrun but carries no sequence
//! number or loss count, and bcast has no batch publish (every commit is a
//! Release store); shmcast's reader checks sequence, bounds and intent on
//! every message. `memcpy` copies the same bytes with no protocol at all;
//! `atomic-words` copies them as relaxed 64-bit atomic words (the floor for
//! bytes that another process may overwrite mid-copy), with no protocol.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use shmcast::{Read, Ring, RingConfig, Start};
use shmcast_benches::copy::{read_in_chunks, Arena, CAPACITY};
use shmcast_benches::{bcast_old_size, leak_aligned, HeapRegion};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const SIZES: [usize; 5] = [8, 64, 512, 4096, 65536];

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1))
        .sample_size(20)
}

fn shmcast_ring(checksum: bool) -> HeapRegion {
    HeapRegion::new(RingConfig::new(CAPACITY).checksum(checksum).region_size())
}

fn write(c: &mut Criterion) {
    let mut group = c.benchmark_group("write");
    for size in SIZES {
        let msg = vec![7u8; size];
        group.throughput(Throughput::Bytes(size as u64));
        for checksum in [false, true] {
            let name = if checksum { "shmcast+xxh3" } else { "shmcast" };
            let region = shmcast_ring(checksum);
            let ring = Ring::create(&region, &RingConfig::new(CAPACITY).checksum(checksum))
                .expect("create");
            let mut w = ring.writer().expect("writer");
            group.bench_with_input(BenchmarkId::new(name, size), &size, |b, _| {
                b.iter(|| w.write(black_box(&msg)).expect("write"))
            });
        }
        {
            let mut w =
                bcast_rc::StorageExt::into_writer(bcast_rc::LocalStorage::with_capacity(CAPACITY));
            group.bench_with_input(BenchmarkId::new("bcast-1.0.0-rc.7", size), &size, |b, _| {
                b.iter(|| w.send(black_box(&msg), true))
            });
        }
        {
            let bytes = leak_aligned(bcast_old_size(CAPACITY));
            let w = bcast_old::RingBuffer::new(bytes).into_writer();
            group.bench_with_input(BenchmarkId::new("bcast-0.0.31", size), &size, |b, _| {
                b.iter(|| {
                    let mut claim = w.claim(size, true);
                    claim.get_buffer_mut().copy_from_slice(black_box(&msg));
                    claim.commit();
                })
            });
        }
        {
            let mut m = Arena::new();
            group.bench_with_input(BenchmarkId::new("memcpy", size), &size, |b, _| {
                b.iter(|| {
                    let at = m.next(size);
                    m.at(at, size).copy_from_slice(black_box(&msg));
                })
            });
        }
        {
            let mut m = Arena::new();
            let words = atomic_arena();
            group.bench_with_input(BenchmarkId::new("atomic-words", size), &size, |b, _| {
                b.iter(|| {
                    let at = m.next(size) / 8;
                    let (chunks, _) = black_box(&msg[..]).as_chunks::<8>();
                    for (w, c) in words[at..].iter().zip(chunks) {
                        w.store(u64::from_ne_bytes(*c), Ordering::Relaxed);
                    }
                })
            });
        }
    }
    group.finish();
}

/// A ring-sized arena of 64-bit atomics: the floor of a copy that moves
/// every byte as a relaxed 64-bit atomic word (what shmcast must do with
/// bytes another process may overwrite), with no protocol around it.
fn atomic_arena() -> Vec<AtomicU64> {
    (0..CAPACITY / 8).map(|_| AtomicU64::new(7)).collect()
}

fn read(c: &mut Criterion) {
    let mut group = c.benchmark_group("read");
    for size in SIZES {
        let msg = vec![7u8; size];
        let mut buf = vec![0u8; size];
        group.throughput(Throughput::Bytes(size as u64));
        for checksum in [false, true] {
            let name = if checksum { "shmcast+xxh3" } else { "shmcast" };
            let region = shmcast_ring(checksum);
            let ring = Ring::create(&region, &RingConfig::new(CAPACITY).checksum(checksum))
                .expect("create");
            let mut w = ring.writer().expect("writer");
            let mut r = ring.reader(Start::Tail).expect("reader");
            group.bench_with_input(BenchmarkId::new(name, size), &size, |b, _| {
                b.iter_custom(|iters| {
                    read_in_chunks(
                        iters,
                        size,
                        |n| {
                            for _ in 0..n {
                                w.write(&msg).expect("write");
                            }
                        },
                        |n| {
                            for _ in 0..n {
                                let got = r.try_read(black_box(&mut buf)).expect("read");
                                assert!(matches!(got, Read::Message(_)));
                            }
                        },
                    )
                })
            });
        }
        {
            let storage =
                bcast_rc::StorageExt::into_shared(bcast_rc::LocalStorage::with_capacity(CAPACITY));
            let mut w = bcast_rc::StorageExt::into_writer(storage.clone());
            let mut r = bcast_rc::StorageExt::into_reader(storage);
            group.bench_with_input(BenchmarkId::new("bcast-1.0.0-rc.7", size), &size, |b, _| {
                b.iter_custom(|iters| {
                    read_in_chunks(
                        iters,
                        size,
                        |n| {
                            for _ in 0..n {
                                w.send(&msg, true);
                            }
                        },
                        |n| {
                            for _ in 0..n {
                                let got = r.receive_next(black_box(&mut buf));
                                assert!(matches!(got, Some(Ok(_))));
                            }
                        },
                    )
                })
            });
        }
        {
            let bytes = leak_aligned(bcast_old_size(CAPACITY));
            let w = bcast_old::RingBuffer::new(bytes).into_writer();
            let r = bcast_old::RingBuffer::new(bytes).into_reader();
            group.bench_with_input(BenchmarkId::new("bcast-0.0.31", size), &size, |b, _| {
                b.iter_custom(|iters| {
                    read_in_chunks(
                        iters,
                        size,
                        |n| {
                            for _ in 0..n {
                                let mut claim = w.claim(size, true);
                                claim.get_buffer_mut().copy_from_slice(&msg);
                                claim.commit();
                            }
                        },
                        |n| {
                            for _ in 0..n {
                                let m = r.receive_next().expect("a message").expect("no overrun");
                                m.read(black_box(&mut buf)).expect("read");
                            }
                        },
                    )
                })
            });
        }
        {
            let mut m = Arena::new();
            m.at(0, CAPACITY).fill(7);
            group.bench_with_input(BenchmarkId::new("memcpy", size), &size, |b, _| {
                b.iter(|| {
                    let at = m.next(size);
                    black_box(&mut buf).copy_from_slice(m.at(at, size));
                })
            });
        }
        {
            let mut m = Arena::new();
            let words = atomic_arena();
            group.bench_with_input(BenchmarkId::new("atomic-words", size), &size, |b, _| {
                b.iter(|| {
                    let at = m.next(size) / 8;
                    let (chunks, _) = black_box(&mut buf[..]).as_chunks_mut::<8>();
                    for (c, w) in chunks.iter_mut().zip(&words[at..]) {
                        *c = w.load(Ordering::Relaxed).to_ne_bytes();
                    }
                })
            });
        }
    }
    group.finish();
}

/// Publishing 32-byte messages one by one (a Release store each) against
/// staging 64 and publishing them with one store. No reader: the ring laps.
fn publish_batch(c: &mut Criterion) {
    const BATCH: u64 = 64;
    let mut group = c.benchmark_group("publish_32b");
    group.throughput(Throughput::Elements(1));
    let msg = [5u8; 32];
    let cfg = RingConfig::new(CAPACITY);
    let region = HeapRegion::new(cfg.region_size());
    let ring = Ring::create(&region, &cfg).expect("create");
    let mut w = ring.writer().expect("writer");
    group.bench_function("shmcast/one-by-one", |b| {
        b.iter(|| w.write(black_box(&msg)).expect("write"))
    });
    group.bench_function("shmcast/batch-64", |b| {
        b.iter_custom(|iters| {
            let t = Instant::now();
            let mut left = iters;
            while left > 0 {
                let n = left.min(BATCH);
                for _ in 0..n {
                    w.stage(0, black_box(&msg)).expect("stage");
                }
                w.flush();
                left -= n;
            }
            t.elapsed()
        })
    });
    group.bench_function("shmcast/claim-put-commit", |b| {
        b.iter(|| {
            let mut claim = w.claim(32).expect("claim");
            claim.put(&black_box(&msg)[..16]).expect("put");
            claim.put(&msg[16..]).expect("put");
            claim.commit()
        })
    });
    let mut rc = bcast_rc::StorageExt::into_writer(bcast_rc::LocalStorage::with_capacity(CAPACITY));
    group.bench_function("bcast-1.0.0-rc.7/one-by-one", |b| {
        b.iter(|| rc.send(black_box(&msg), true))
    });
    let old = bcast_old::RingBuffer::new(leak_aligned(bcast_old_size(CAPACITY))).into_writer();
    group.bench_function("bcast-0.0.31/one-by-one", |b| {
        b.iter(|| {
            let mut claim = old.claim(32, true);
            claim.get_buffer_mut().copy_from_slice(black_box(&msg));
            claim.commit();
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = write, read, publish_batch
}
criterion_main!(benches);
