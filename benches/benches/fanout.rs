//! Fan-out: the producer's cost with 1, 2, 4 and 8 consumers, 32-byte
//! messages, each iteration one message: the runs of
//! `shmcast_benches::fanout`, where what is timed and the peers' semantics
//! are described. The `fanout` tool runs the lossy group with the consumer
//! counts alternated round by round.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use shmcast_benches::fanout::{disruptor_gating, shmcast_gating, Lossy, CONSUMERS};
use std::time::Duration;

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(10)
}

fn fanout_lossy(c: &mut Criterion) {
    let mut group = c.benchmark_group("fanout_lossy");
    group.throughput(Throughput::Elements(1));
    for k in CONSUMERS {
        for who in Lossy::ALL {
            group.bench_function(BenchmarkId::new(who.name(), k), |b| {
                b.iter_custom(|n| who.run(n, k, None))
            });
        }
    }
    group.finish();
}

fn fanout_gating(c: &mut Criterion) {
    let mut group = c.benchmark_group("fanout_gating");
    group.throughput(Throughput::Elements(1));
    for k in CONSUMERS {
        group.bench_function(BenchmarkId::new("shmcast", k), |b| {
            b.iter_custom(|n| shmcast_gating(n, k, None))
        });
        group.bench_function(BenchmarkId::new("disruptor", k), |b| {
            b.iter_custom(|n| disruptor_gating(n, k, None))
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
