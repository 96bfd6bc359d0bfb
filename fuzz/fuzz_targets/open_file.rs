//! The Linux adapter's open path on a file of arbitrary bytes: open (read-write
//! and read-only), then joins, reads and status. Typed errors or valid rings.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shmcast::{Read, Start};
use shmcast_linux::{Location, Options, ReadOnlyShm, ShmRing};

fuzz_target!(|data: &[u8]| {
    // tmpfs keeps the file I/O of each run cheap.
    let path =
        std::path::Path::new("/dev/shm").join(format!("shmcast-fuzz-open-{}", std::process::id()));
    std::fs::write(&path, data).unwrap();
    let loc = Location::path(&path);
    let mut buf = vec![0u8; 1 << 16];
    if let Ok(ring) = ShmRing::open(&loc, &Options::default()) {
        let _ = ring.ring().status();
        if let Ok(mut r) = ring.ring().reader(Start::Oldest) {
            for _ in 0..32 {
                match r.try_read(&mut buf) {
                    Ok(Read::Message(m)) => assert!(m.len <= ring.ring().max_message()),
                    Ok(Read::Empty) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        }
    }
    if let Ok(ro) = ReadOnlyShm::open(&loc, &Options::default()) {
        let _ = ro.view().status();
        if let Ok(mut r) = ro.view().reader(Start::Latest) {
            let _ = r.try_read(&mut buf);
        }
    }
    let _ = std::fs::remove_file(&path);
});
