//! Anonymous huge-page memory is shared with a child made by `fork`: a
//! forked child produces into a `HugeRegion` while two consumer threads of
//! the parent read every message. (A `MAP_PRIVATE` mapping, which is what
//! `memmap2`'s `map_anon` makes, would give the child a copy and the parent
//! would see nothing.)
//!
//! The child is made by `Command::pre_exec`: after `fork` and before
//! `exec`, the closure runs in the child, where it writes through the ring
//! (no allocation, no lock: the core allocates nothing), then `exec`s `true`.

mod common;

use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::{Duration, Instant};

use shmcast::{Read, Ring, RingConfig};
use shmcast_hugepages::{check_backing, HugeRegion, PageSize};

const SIZE: PageSize = PageSize::Huge2M;
const MESSAGES: u64 = 20_000;

fn len_of(seq: u64) -> usize {
    (seq.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 59) as usize + 8
}

/// The payload of message `seq`, written into `buf` (no allocation).
fn content(seq: u64, buf: &mut [u8]) -> usize {
    let len = len_of(seq);
    buf[..8].copy_from_slice(&seq.to_le_bytes());
    for (i, b) in buf[8..len].iter_mut().enumerate() {
        *b = (seq as u8) ^ (i as u8).wrapping_mul(31);
    }
    len
}

#[test]
fn a_forked_child_produces_into_anonymous_huge_pages() {
    if let Some(why) = common::skip_reason(SIZE, 1, false) {
        println!("SKIPPED: {why}");
        return;
    }
    // 1 MiB of data holds all 20,000 records (at most 56 bytes each), so the
    // producer never waits and the consumers lose nothing.
    let (region, cfg) = HugeRegion::for_ring(&RingConfig::new(1 << 16).slots(2), SIZE).unwrap();
    // `pre_exec` wants a 'static closure: the mapping lives until the test
    // process exits.
    let region: &'static HugeRegion = Box::leak(Box::new(region));
    let ring = Ring::create(region, &cfg).unwrap();
    assert_eq!(ring.capacity(), 1 << 20);
    check_backing(region, SIZE).unwrap();
    let readers = [ring.gating_reader().unwrap(), ring.gating_reader().unwrap()];

    std::thread::scope(|s| {
        let consumers: Vec<_> = readers
            .into_iter()
            .map(|mut r| {
                s.spawn(move || {
                    let mut buf = [0u8; 64];
                    let mut want = [0u8; 64];
                    let mut next = 0u64;
                    let deadline = Instant::now() + Duration::from_secs(60);
                    while next < MESSAGES {
                        match r.try_read(&mut buf).unwrap() {
                            Read::Message(m) => {
                                assert_eq!(m.seq, next);
                                let len = content(next, &mut want);
                                assert_eq!(&buf[..m.len], &want[..len], "message {next}");
                                next += 1;
                            }
                            Read::Empty => {
                                assert!(Instant::now() < deadline, "stalled at {next}");
                                std::thread::yield_now();
                            }
                            other => panic!("unexpected {other:?} at {next}"),
                        }
                    }
                    next
                })
            })
            .collect();

        let child_region = region;
        let mut cmd = Command::new("true");
        // SAFETY: `pre_exec` runs the closure in the forked child, where only
        // async-signal-safe work is sound. The closure
        // - allocates nothing and takes no lock: `Ring::attach`, `writer` and
        //   `write` are the core's, which is `no_std` without an allocator,
        //   and the payload is built in a stack buffer;
        // - reports failure with `from_raw_os_error`, which does not allocate,
        //   and cannot panic on the values it handles (`content` indexes a
        //   64-byte buffer with lengths of at most 39 bytes);
        // - touches only the shared mapping, which the child inherits at the
        //   same address, and its own stack.
        unsafe {
            cmd.pre_exec(move || {
                let fail =
                    || std::io::Error::from_raw_os_error(rustix::io::Errno::INVAL.raw_os_error());
                let ring = Ring::attach(child_region).map_err(|_| fail())?;
                let mut w = ring.writer().map_err(|_| fail())?;
                let mut buf = [0u8; 64];
                for seq in 0..MESSAGES {
                    let len = content(seq, &mut buf);
                    w.write(&buf[..len]).map_err(|_| fail())?;
                }
                Ok(())
            });
        }
        let status = cmd.status().unwrap();
        assert!(status.success(), "the child produced and exec'd: {status}");
        for c in consumers {
            assert_eq!(c.join().unwrap(), MESSAGES);
        }
    });
}
