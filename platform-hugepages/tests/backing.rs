//! Proof that rings are really on huge pages, not silently on normal ones:
//! `KernelPageSize` in /proc/self/smaps, and the kernel's pool figures
//! (reserved at `mmap`, taken from `HugePages_Free` when touched, given
//! back on unmap).
//!
//! The tests of this binary hold one lock, so that none moves another's figures.

mod common;

use shmcast::{Read, Ring, RingConfig, Start};
use shmcast_hugepages::{
    backing_page_size, check_backing, fit_config, HugeError, HugeRegion, PageSize, Pool,
};
use shmcast_linux::{MapRegion, Options, ReadOnlyShm, ShmRing};

use common::{pages_lock, HugeName};

const SIZE: PageSize = PageSize::Huge2M;
const PAGE: usize = SIZE.bytes();

fn pool() -> Pool {
    Pool::read(SIZE).unwrap()
}

/// Write through the whole capacity so every data page is touched.
fn fill(ring: Ring<'_>) {
    let mut w = ring.writer().unwrap();
    let mut r = ring.reader(Start::Oldest).unwrap();
    let chunk = vec![7u8; 1000];
    let mut written = 0;
    while written < ring.capacity() + chunk.len() {
        w.write(&chunk).unwrap();
        written += chunk.len() + 16;
    }
    let mut buf = vec![0u8; 2000];
    assert!(matches!(r.try_read(&mut buf).unwrap(), Read::Lapped { .. }));
}

#[test]
fn anonymous_regions_are_reserved_at_mmap_and_backed_by_huge_pages() {
    let _lock = pages_lock();
    if let Some(why) = common::skip_reason(SIZE, 1, false) {
        println!("SKIPPED: {why}");
        return;
    }
    {
        let before = pool();
        let asked = RingConfig::new(4096).slots(1);
        let (region, cfg) = HugeRegion::for_ring(&asked, SIZE).unwrap();
        // One page was enough, and the ring uses all of it.
        assert_eq!(shmcast::Region::size(&region), PAGE);
        assert_eq!(cfg, fit_config(&asked, PAGE));
        assert_eq!(cfg.capacity(), PAGE / 2);
        // The page is reserved by mmap itself (a later shortage cannot SIGBUS).
        let mapped = pool();
        assert_eq!(
            mapped.available(),
            before.available() - 1,
            "{before:?} {mapped:?}"
        );
        assert_eq!(mapped.free, before.free, "nothing touched yet");
        let ring = Ring::create(&region, &cfg).unwrap();
        fill(ring);
        let touched = pool();
        assert_eq!(touched.free, before.free - 1, "{before:?} {touched:?}");
        assert_eq!(backing_page_size(&region).unwrap(), PAGE as u64);
        check_backing(&region, SIZE).unwrap();
        drop(region);
        let after = pool();
        assert_eq!(
            (after.free, after.available()),
            (before.free, before.available())
        );
    }
}

#[test]
fn hugetlbfs_rings_are_rounded_to_pages_and_backed_by_them() {
    let _lock = pages_lock();
    let Some(dir) = common::mount(SIZE, 3) else {
        return;
    };
    let before = pool();
    let name = HugeName::new(&dir, "backing");
    // 2 MiB and 4 slots need a little more than one page: two are given.
    // The ring keeps 2 MiB of data (4 MiB would not fit beside the header).
    let asked = RingConfig::new(2 << 20).slots(4).checksum(true);
    let opts = Options {
        prefault: true,
        ..Options::default()
    };
    let ring = ShmRing::create(&name.0, &asked, &opts).unwrap();
    let len = std::fs::metadata(name.0.file_path()).unwrap().len();
    assert_eq!(len, 2 * PAGE as u64, "the file is whole pages");
    assert_eq!(ring.ring().capacity(), 2 << 20);
    assert!(ring.ring().checksum());
    assert_eq!(ring.ring().slot_count(), 4);
    let prefaulted = pool();
    assert_eq!(
        prefaulted.free,
        before.free - 2,
        "{before:?} {prefaulted:?}"
    );
    check_backing(&ring, SIZE).unwrap();

    // Another mapping of the same file shares those pages: no new ones.
    let again = ShmRing::open(&name.0, &Options::default()).unwrap();
    check_backing(&again, SIZE).unwrap();
    assert_eq!(again.ring().capacity(), 2 << 20);
    let mut p = ring.producer().unwrap();
    let mut r = again.ring().reader(Start::Oldest).unwrap();
    p.write(b"on huge pages").unwrap();
    let mut buf = [0u8; 32];
    let m = r.try_read(&mut buf).unwrap().message().unwrap();
    assert_eq!(&buf[..m.len], b"on huge pages");
    // A read-only mapping (PROT_READ) of the file is on the same huge pages.
    let ro = ReadOnlyShm::open(&name.0, &Options::default()).unwrap();
    check_backing(&ro, SIZE).unwrap();
    let mut view = ro.view().reader(Start::Oldest).unwrap();
    let m = view.try_read(&mut buf).unwrap().message().unwrap();
    assert_eq!(&buf[..m.len], b"on huge pages");
    assert_eq!(pool().free, before.free - 2);
    drop(view);
    drop(ro);

    // The pages go back to the pool once the file is gone and unmapped.
    drop(p);
    drop(r);
    drop(ring);
    drop(again);
    drop(name);
    let after = pool();
    assert_eq!(
        (after.free, after.available()),
        (before.free, before.available())
    );
}

/// The check can fail: an ordinary shared mapping is on 4 KiB pages.
#[test]
fn normal_pages_are_told_apart() {
    let region = MapRegion::anonymous(PAGE).unwrap();
    Ring::create(&region, &RingConfig::new(4096)).unwrap();
    match check_backing(&region, SIZE) {
        Err(HugeError::NotHuge { expected, found }) => {
            assert_eq!(expected, PAGE as u64);
            assert!(found < PAGE as u64, "{found}");
        }
        other => panic!("expected NotHuge, got {other:?}"),
    }
}
