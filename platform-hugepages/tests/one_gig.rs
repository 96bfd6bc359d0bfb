//! 1 GiB pages, where the machine has one to spare: an anonymous region and
//! a named ring on a 1G hugetlbfs, each proved to be on 1 GiB pages.
//! Otherwise `SKIPPED`, or a failure under `SHMCAST_REQUIRE_HUGEPAGES_1G=1`.

mod common;

use shmcast::{Ring, RingConfig, Start};
use shmcast_hugepages::{check_backing, find_mount, HugeError, HugeRegion, PageSize, Pool};
use shmcast_linux::{Options, ShmRing};

use common::HugeName;

const SIZE: PageSize = PageSize::Huge1G;

fn round_trip(ring: Ring<'_>) {
    let mut w = ring.writer().unwrap();
    let mut r = ring.reader(Start::Oldest).unwrap();
    w.write(b"one gig").unwrap();
    let mut buf = [0u8; 16];
    let m = r.try_read(&mut buf).unwrap().message().unwrap();
    assert_eq!(&buf[..m.len], b"one gig");
}

/// One test, so the two mappings never need two pages at once.
#[test]
fn rings_on_one_gib_pages() {
    if let Some(why) = common::skip_reason(SIZE, 1, false) {
        println!("SKIPPED: {why}");
        return;
    }
    let before = Pool::read(SIZE).unwrap();
    {
        let (region, cfg) = HugeRegion::for_ring(&RingConfig::new(1 << 20), SIZE).unwrap();
        assert_eq!(shmcast::Region::size(&region), SIZE.bytes());
        assert_eq!(cfg.capacity(), SIZE.bytes() / 2);
        round_trip(Ring::create(&region, &cfg).unwrap());
        check_backing(&region, SIZE).unwrap();
        assert_eq!(Pool::read(SIZE).unwrap().free, before.free - 1);
    }
    assert_eq!(Pool::read(SIZE).unwrap(), before);

    let dir = match find_mount(SIZE) {
        Ok(dir) => dir,
        Err(e @ HugeError::NoMount { .. }) => {
            common::skip::<()>(SIZE, e);
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let name = HugeName::new(&dir, "1g");
    let ring = ShmRing::create(&name.0, &RingConfig::new(1 << 20), &Options::default()).unwrap();
    assert_eq!(ring.ring().capacity(), SIZE.bytes() / 2);
    check_backing(&ring, SIZE).unwrap();
    round_trip(ring.ring());
    drop(ring);
    drop(name);
    assert_eq!(Pool::read(SIZE).unwrap(), before);
}
