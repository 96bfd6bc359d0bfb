//! The core's protocol conformance suite on huge pages: anonymous shared
//! `MAP_HUGETLB` regions, and named rings on hugetlbfs (2 MiB pages).

mod common;

use shmcast::{Region, RingConfig};
use shmcast_hugepages::{check_backing, HugeRegion, PageSize};
use shmcast_linux::{remove, Options, ShmRing};

use common::{skip_reason, HugeName};

const SIZE: PageSize = PageSize::Huge2M;

/// Each case maps a few regions at once, and two cases run at a time.
const PAGES: u64 = 8;

mod anonymous {
    use super::*;

    fn region(cfg: &RingConfig) -> Box<dyn Region> {
        let region = HugeRegion::anonymous(cfg.region_size(), SIZE).unwrap();
        Box::new(region)
    }

    shmcast::conformance_tests!(region, skip_if: || skip_reason(SIZE, PAGES, false));
}

mod hugetlbfs {
    use super::*;

    use super::hugetlbfs_region as region;

    shmcast::conformance_tests!(region, skip_if: || skip_reason(SIZE, PAGES, true));
}

/// The regions the suite runs on really are huge pages, once touched.
#[test]
fn the_suite_runs_on_huge_pages() {
    if let Some(why) = skip_reason(SIZE, 2, true) {
        println!("SKIPPED: {why}");
        return;
    }
    let cfg = RingConfig::new(1024).slots(2);
    let anon = HugeRegion::anonymous(cfg.region_size(), SIZE).unwrap();
    let file = hugetlbfs_region(&cfg);
    for region in [&anon as &dyn Region, &*file] {
        shmcast::Ring::create(region, &cfg).unwrap();
        check_backing(region, SIZE).unwrap();
    }
}

/// A fresh ring file on hugetlbfs for each region, unlinked at once: the
/// mapping lives on until the case drops it, and nothing is left behind.
fn hugetlbfs_region(cfg: &RingConfig) -> Box<dyn Region> {
    let dir = shmcast_hugepages::find_mount(SIZE).unwrap();
    let name = HugeName::new(&dir, "conf");
    let ring = ShmRing::create(&name.0, cfg, &Options::default()).unwrap();
    remove(&name.0).unwrap();
    Box::new(ring)
}
