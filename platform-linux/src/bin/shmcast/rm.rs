//! `shmcast rm`: remove a ring and its lock files.

use shmcast_linux::{remove, Error, Options, ReadOnlyShm};

use crate::args::RmArgs;
use crate::{Failure, Outcome};

/// Remove the ring; warn when live processes still use it (they keep their
/// mapping, but nobody new can find it).
pub fn run(a: &RmArgs) -> Outcome {
    let loc = a.ring.location()?;
    let live = ReadOnlyShm::open(&loc, &Options::default())
        .ok()
        .and_then(|ro| ro.producer_alive().ok())
        .unwrap_or(false);
    match remove(&loc) {
        Err(Error::NotFound { ring }) => {
            return Err(Failure::Runtime(format!(
                "ring {ring} does not exist: nothing to remove (`ls /dev/shm` lists named rings; use --path for a ring in a file)"
            )))
        }
        other => other?,
    }
    if live {
        eprintln!(
            "shmcast: note: ring {} still had a live producer; it keeps writing to its own mapping, which nobody new can open",
            loc.display()
        );
    }
    println!("removed ring {}", loc.display());
    Ok(())
}
