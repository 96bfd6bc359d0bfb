//! Single-thread cost of claim+commit and read, per message size.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use shmcast::{Ring, RingConfig, Start};
use shmcast_benches::HeapRegion;

fn write_read(c: &mut Criterion) {
    let mut group = c.benchmark_group("write_read");
    for size in [8usize, 64, 512, 4096] {
        let cfg = RingConfig::new(1 << 20);
        let region = HeapRegion::new(cfg.region_size());
        let ring = Ring::create(&region, &cfg).unwrap();
        let mut w = ring.writer().unwrap();
        let mut r = ring.reader(Start::Tail).unwrap();
        let msg = vec![7u8; size];
        let mut buf = vec![0u8; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, _| {
            b.iter(|| {
                w.write(&msg).unwrap();
                r.try_read(&mut buf).unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, write_read);
criterion_main!(benches);
