//! Typed errors that say what to do: a directory that is not hugetlbfs,
//! page sizes that are unknown or unsupported, more pages than are free.
//!
//! The tests of this binary that count free pages hold one lock.

mod common;

use std::io;

use shmcast::RingConfig;
use shmcast_hugepages::{find_mount, HugeError, HugeRegion, PageSize, Pool, PoolSource};
use shmcast_linux::{Error, Location, Options, ShmRing};

use common::{pages_lock, HugeName};

#[test]
fn a_directory_that_is_not_hugetlbfs_is_refused_with_the_mount_command() {
    let tmp = std::env::temp_dir();
    match Location::huge_at(&tmp, "ring") {
        Err(Error::Huge {
            ring,
            source: HugeError::NotHugetlbfs { path },
        }) => {
            assert_eq!(path, tmp);
            assert!(ring.contains("ring"), "{ring}");
        }
        other => panic!("expected NotHugetlbfs, got {other:?}"),
    }
    let e = Location::huge_at(&tmp, "ring").unwrap_err().to_string();
    assert!(e.contains("mount -t hugetlbfs -o pagesize=2M none"), "{e}");

    let missing = tmp.join(format!("no-such-dir-{}", std::process::id()));
    match Location::huge_at(&missing, "ring") {
        Err(Error::Huge {
            source: HugeError::Io { source, .. },
            ..
        }) => assert_eq!(source.kind(), io::ErrorKind::NotFound),
        other => panic!("expected NotFound, got {other:?}"),
    }
    // Names are checked as for /dev/shm rings.
    assert!(matches!(
        Location::huge_at(&tmp, "a/b"),
        Err(Error::BadName { .. })
    ));
    assert!(matches!(
        Location::huge("", PageSize::Huge2M),
        Err(Error::BadName { .. })
    ));
}

#[test]
fn unknown_and_unsupported_page_sizes_are_typed_errors() {
    for bad in ["4M", "16G", "64K", "huge"] {
        let e = bad.parse::<PageSize>().unwrap_err();
        assert!(matches!(e, HugeError::BadPageSize { .. }));
        assert!(e.to_string().contains("use 2M or 1G"), "{e}");
    }
    // A size the kernel has no pool for is refused before any mapping; a
    // supported one may map a page, so hold the pool lock like every test
    // that moves the pool's figures.
    let _pages = pages_lock();
    for size in PageSize::ALL {
        let supported = size.sysfs_dir().is_dir();
        let anon = HugeRegion::anonymous(1, size).err();
        let mount = find_mount(size).err();
        if supported {
            assert!(!matches!(anon, Some(HugeError::Unsupported { .. })));
            assert!(!matches!(mount, Some(HugeError::Unsupported { .. })));
            println!("{size} pages are supported here; the unsupported case is not reachable");
        } else {
            for e in [anon, mount] {
                match e {
                    Some(e @ HugeError::Unsupported { .. }) => {
                        assert!(e.to_string().contains("not supported"), "{e}")
                    }
                    other => panic!("{size}: expected Unsupported, got {other:?}"),
                }
            }
        }
    }
}

/// Asking for more pages than are free fails at `mmap`, with the pool's
/// figures (the same as /proc/meminfo's) and the setting to raise.
#[test]
fn more_pages_than_are_free_is_a_typed_error_with_the_meminfo_figures() {
    let _lock = pages_lock();
    let size = PageSize::Huge2M;
    let Some(dir) = common::mount(size, 0) else {
        return;
    };
    let before = Pool::read(size).unwrap();
    let want = before.available() + 1;
    let check = |e: &HugeError| {
        let HugeError::NotEnoughPages { needed, pool } = e else {
            panic!("expected NotEnoughPages, got {e:?}");
        };
        assert!(*needed >= want, "{needed} {want}");
        assert_eq!(pool, &before, "nothing else moved the pool");
        let text = e.to_string();
        if pool.source == PoolSource::Meminfo {
            let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
            for key in ["HugePages_Total:", "HugePages_Free:", "HugePages_Rsvd:"] {
                let line = meminfo.lines().find(|l| l.starts_with(key)).unwrap();
                let figure = line[key.len()..].trim();
                assert!(text.contains(&format!("{key} {figure}")), "{text}\n{line}");
            }
        }
        let setting = format!("echo {} > {}", pool.total_for(*needed), pool.setting());
        assert!(text.contains(&setting), "{text}");
    };

    // Anonymous.
    let e = HugeRegion::anonymous(want as usize * size.bytes(), size).unwrap_err();
    check(&e);

    // A named ring: the shortage shows at creation (the kernel reserves at
    // mmap; nothing is left to fault later), and no file is left behind.
    let name = HugeName::new(&dir, "short");
    let capacity = (want as usize * size.bytes()).next_power_of_two();
    match ShmRing::create(&name.0, &RingConfig::new(capacity), &Options::default()) {
        Err(Error::Huge { ring, source }) => {
            check(&source);
            assert!(ring.contains("shmcast-test-short"), "{ring}");
        }
        other => panic!("expected Error::Huge, got {other:?}"),
    }
    assert!(!name.0.file_path().exists());
    assert_eq!(Pool::read(size).unwrap(), before);
}
