//! One producer, one consumer on two threads: messages per second per size,
//! lossy and lossless (gating), one by one and batched, beside the peers.
//!
//! Each iteration is one message; the runs and the peers' semantics are in
//! `shmcast_benches::spsc`. Criterion runs one contender after another, so on
//! a noisy machine the ratios between them drift with the machine: the
//! `throughput` tool (`cargo run --release -p shmcast-benches --bin
//! throughput`) alternates them round by round and is the one to quote.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use shmcast_benches::spsc::Contender;
use std::time::Duration;

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(10)
}

fn spsc(c: &mut Criterion) {
    let mut group = c.benchmark_group("spsc");
    group.throughput(Throughput::Elements(1));
    for size in [32usize, 256, 4096] {
        let msg = vec![9u8; size];
        for contender in Contender::ALL {
            if !contender.supports(size) {
                continue;
            }
            group.bench_function(BenchmarkId::new(contender.name(), size), |b| {
                b.iter_custom(|n| contender.run(n, &msg, None).expect("a supported size"))
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = spsc
}
criterion_main!(benches);
