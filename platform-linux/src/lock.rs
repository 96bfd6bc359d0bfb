//! Liveness by file locks: a role (the producer, a consumer slot) holds an
//! exclusive `flock` on its own lock file next to the ring. The kernel drops
//! the lock when the holder dies, however it dies, so liveness survives PID
//! reuse and PID namespaces (no PIDs are involved).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rustix::fs::{flock, FlockOperation};

/// Attempts at an exclusive lock before a holder is taken to be alive; they
/// back off from 100 us, doubling to 6.4 ms, about 25 ms in all.
const PROBE_RETRIES: u32 = 9;

/// A held role lock; dropping it (or dying) releases it.
#[derive(Debug)]
pub struct RoleLock {
    _file: File,
    path: PathBuf,
}

impl RoleLock {
    /// Take the lock at `path` without waiting (`open(O_CREAT)` +
    /// `flock(LOCK_EX | LOCK_NB)`). `Ok(None)` if a live holder has it.
    pub fn try_acquire(path: &Path) -> io::Result<Option<RoleLock>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(path)?;
        // A liveness probe (`is_held`) holds a shared lock for an instant
        // (longer if the prober is preempted); retries with back-off keep it
        // from passing for a live holder.
        let mut pause = std::time::Duration::from_micros(100);
        for attempt in 0..PROBE_RETRIES {
            match flock(&file, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => {
                    return Ok(Some(RoleLock {
                        _file: file,
                        path: path.to_owned(),
                    }))
                }
                Err(rustix::io::Errno::WOULDBLOCK) if attempt + 1 < PROBE_RETRIES => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(std::time::Duration::from_micros(6400));
                }
                Err(rustix::io::Errno::WOULDBLOCK) => return Ok(None),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(None)
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Whether a live process holds the lock at `path` (`flock(LOCK_SH | LOCK_NB)`
/// probe, released at once). A missing lock file means nobody holds it.
pub fn is_held(path: &Path) -> io::Result<bool> {
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    match flock(&file, FlockOperation::NonBlockingLockShared) {
        Ok(()) => Ok(false),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(true),
        Err(e) => Err(e.into()),
    }
}
