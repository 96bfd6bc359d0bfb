//! `shmcast create`: make a ring exclusively, with the mode asked for.

use shmcast::RingConfig;
use shmcast_linux::{Options, ShmRing};

use crate::args::CreateArgs;
use crate::output::{bytes, records};
use crate::{Failure, Outcome};

/// Create the ring and say what was made.
pub fn run(a: &CreateArgs) -> Outcome {
    let loc = a.ring.location()?;
    let mut cfg = RingConfig::new(a.capacity)
        .slots(a.consumers)
        .checksum(a.checksum)
        .line_aligned(a.line_aligned);
    if let Some(m) = a.max_message {
        cfg = cfg.max_message(m);
    }
    // A bad configuration is the caller's mistake: say so before touching
    // anything, with exit status 2.
    cfg.validate()
        .map_err(|e| Failure::Usage(format!("cannot create ring {}: {e}", loc.display())))?;
    let opts = Options {
        mode: a.mode,
        ..Options::default()
    };
    let ring = ShmRing::create(&loc, &cfg, &opts)?;
    let r = ring.ring();
    println!(
        "created ring {}: capacity {}, messages up to {}, {} consumer slots, checksums {}, records {}, mode {:04o}",
        loc.display(),
        bytes(r.capacity() as u64),
        bytes(r.max_message() as u64),
        r.slot_count(),
        if r.checksum() { "on" } else { "off" },
        records(r.line_aligned()),
        a.mode
    );
    Ok(())
}
